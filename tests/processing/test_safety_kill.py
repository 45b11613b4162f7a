"""Kill and cancel: SIGTERM to a running qgis_process classify removes its temporary files and exits non-zero; a
cancel fails the run and writes nothing; a later run removes the temporary files a killed run left (only those)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import rasterio
from qgis.core import QgsProcessingException, QgsProcessingFeedback
from rasterio.transform import from_origin
from safety_scene import city, snapshot, temp_files

from csagf_plugin.core.safe_output import remove_stale_temps, temp_path

REPO = Path(__file__).resolve().parents[2]


def big_scene(folder: Path, size: int = 3072) -> tuple[Path, Path]:
    """A VHR of size x size pixels at the model's 0.5 m (noise, so every tile is classified) and a flat NTL."""
    folder.mkdir()
    vhr, ntl = folder / "vhr.tif", folder / "ntl.tif"
    rng = np.random.default_rng(0)
    with rasterio.open(vhr, "w", driver="GTiff", width=size, height=size, count=3, dtype="uint8", crs="EPSG:32651",
                       transform=from_origin(350000, 3460000, 0.5, 0.5), tiled=True, compress="deflate") as dst:
        for y in range(0, size, 512):
            h = min(512, size - y)
            dst.write(rng.integers(0, 256, (3, h, size), dtype=np.uint8), window=((y, y + h), (0, size)))
    with rasterio.open(ntl, "w", driver="GTiff", width=64, height=64, count=1, dtype="float32", crs="EPSG:32651",
                       transform=from_origin(350000, 3460000, 40.0, 40.0)) as dst:
        dst.write(np.full((1, 64, 64), 5.0, np.float32))
    return vhr, ntl


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_qgis_process_classify_leaves_nothing(tmp_path, signum):
    vhr, ntl = big_scene(tmp_path / "in")
    out = tmp_path / "out"
    out.mkdir()
    inputs = snapshot(tmp_path / "in")
    env = {k: v for k, v in os.environ.items() if k not in ("QGIS_CUSTOM_CONFIG_PATH", "QGIS_OPTIONS_PATH")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["GDAL_PAM_ENABLED"] = "NO"  # QGIS would write .aux.xml statistics beside the inputs it opens
    process = subprocess.Popen([str(REPO / "scripts" / "qgis_process.sh"), "run", "csagf:classify", "--",
                                f"VHR={vhr}", f"NTL={ntl}", f"OUTPUT={out / 'zones.tif'}",
                                f"CONFIDENCE={out / 'confidence.tif'}", "DEVICE=1", "THREADS=1"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 120
        while not temp_files(out) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert temp_files(out), "classify never started writing"
        time.sleep(0.5)  # well inside the run: a few of its batches are written
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode != 0, stdout[-2000:]
    assert f"Stopped by {signal.Signals(signum).name}: no output was written" in stderr, stderr[-2000:]
    assert list(out.iterdir()) == []  # no map, no partial map, no temporary file
    assert snapshot(tmp_path / "in") == inputs


def test_cancel_fails_the_run_and_writes_nothing(csagf_provider, tmp_path):
    import processing

    paths = city(tmp_path / "city")
    before = snapshot(tmp_path)
    feedback = QgsProcessingFeedback()
    feedback.cancel()
    with pytest.raises(QgsProcessingException, match="canceled: no output was written"):
        processing.run("csagf:classify", {"VHR": str(paths.vhr), "NTL": str(paths.ntl),
                                          "OUTPUT": str(tmp_path / "zones.tif")}, feedback=feedback)
    assert snapshot(tmp_path) == before


def test_a_later_run_removes_only_the_stale_temporary_files_of_the_plugin(csagf_provider, tmp_path):
    import processing

    paths = city(tmp_path / "city")
    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.Popen(["true"])
    dead.wait()
    alive = subprocess.Popen(["sleep", "60"])
    try:
        stale = Path(temp_path(str(out / "zones.tif")).replace(f"-{os.getpid()}-", f"-{dead.pid}-"))
        stale.write_bytes(b"half a map")
        stale_sidecar = Path(str(stale) + ".aux.xml")
        stale_sidecar.write_text("<PAMDataset/>")
        stale_folder = Path(temp_path(str(out / "points.gpkg")).replace(f"-{os.getpid()}-", f"-{dead.pid}-"))
        stale_folder.with_suffix("").mkdir()
        (stale_folder.with_suffix("") / "points.gpkg").write_bytes(b"half a layer")
        running = Path(temp_path(str(out / "other.tif")).replace(f"-{os.getpid()}-", f"-{alive.pid}-"))
        running.write_bytes(b"another run is writing this")
        mine = [out / ".zones.tif.partial-1234abcd.tif", out / "notes.csagf-partial.txt", out / "zones.tif.bak"]
        for path in mine:
            path.write_text("not the plugin's")
        results = processing.run("csagf:classify", {"VHR": str(paths.vhr), "NTL": str(paths.ntl),
                                                    "OUTPUT": str(out / "zones.tif")})
        assert Path(results["OUTPUT"]).is_file()
        assert not stale.exists() and not stale_sidecar.exists() and not stale_folder.with_suffix("").exists()
        assert running.exists() and all(path.exists() for path in mine)
        assert remove_stale_temps(out) == []  # nothing stale is left, the live run's file is kept
    finally:
        alive.kill()
        alive.wait()


def test_sigterm_to_the_training_cli_keeps_the_best_checkpoint_and_no_temporary_file(tmp_path):
    import sys

    from csagf_plugin.training.checkpoint import load_checkpoint
    from csagf_plugin.training.tiles import PrepareConfig, SceneSource, prepare_tiles

    paths = city(tmp_path / "city")
    store = tmp_path / "tiles.npz"
    prepare_tiles(PrepareConfig([SceneSource(str(paths.vhr), str(paths.labels))], str(paths.ntl), tile_size=64,
                                output=str(store)))
    run = tmp_path / "run"
    process = subprocess.Popen([sys.executable, "-m", "csagf_plugin.training", "train", "--tiles", str(store),
                                "--epochs", "500", "--patience", "500", "--batch-size", "4", "--block-size", "64",
                                "--device", "cpu", "--name", "tiny", "--no-export", "--output-dir", str(run)],
                               cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 240
        while not (run / "tiny_last.pt").exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert (run / "tiny_last.pt").exists(), "the first epoch never finished"
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 128 + signal.SIGTERM, stderr[-2000:]
    assert stderr.count("error: Stopped by SIGTERM: the files being written were removed; the checkpoints of "
                        "finished epochs are kept.") == 1, stderr[-2000:]
    assert not temp_files(run)
    assert load_checkpoint(run / "tiny_best.pt")["epoch"] >= 1  # the checkpoints written before stay whole


def test_sigterm_to_the_server_cli_classify_leaves_nothing(tmp_path):
    import sys

    vhr, ntl = big_scene(tmp_path / "in")
    out = tmp_path / "out"
    out.mkdir()
    process = subprocess.Popen([sys.executable, "-m", "csagf_plugin", "classify", "--vhr", str(vhr), "--ntl", str(ntl),
                                "--out", str(out / "zones.tif"), "--device", "cpu", "--threads", "1"],
                               cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not temp_files(out) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert temp_files(out), "classify never started writing"
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 128 + signal.SIGTERM, stderr[-2000:]
    assert stderr.count("error: Stopped by SIGTERM: no output was written") == 1, stderr[-2000:]
    assert list(out.iterdir()) == []
