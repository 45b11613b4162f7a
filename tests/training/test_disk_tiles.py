"""The disk tile store: tiles appended one by one, read back as memory maps, same samples as the in-memory store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from csagf_plugin.core.errors import InputError
from csagf_plugin.core.model_card import ModelCard
from csagf_plugin.training.disk_tiles import LAZY, DiskTileWriter, TileFile, open_disk_store
from csagf_plugin.training.tile_store import TileStore

REPO = Path(__file__).resolve().parents[2]


def random_store(n: int, tile: int = 64, seed: int = 0) -> TileStore:
    rng = np.random.default_rng(seed)
    ntl = rng.gamma(2, 5, (n, 1, tile, tile)).astype(np.float32)
    ntl[0, 0, :4] = np.nan  # no data somewhere, as in real tiles
    return TileStore(vhr=rng.integers(0, 255, (n, 3, tile, tile), dtype=np.uint8), ntl=ntl,
                     labels=rng.integers(0, 8, (n, tile, tile), dtype=np.uint8),
                     scene=rng.integers(0, 2, n).astype(np.int32), origin=rng.integers(0, 999, (n, 2)),
                     scenes=["a.tif", "b.tif"], vhr_pixel_size_m=0.5, description="random tiles",
                     ntl_missing=rng.random(n) < 0.3)


def write(store: TileStore, path: Path) -> Path:
    with DiskTileWriter(path, store.tile_size, store.vhr.shape[1], store.ntl.shape[1], store.vhr_dtype) as w:
        for i in range(store.num_tiles):
            w.append(store.vhr[i], store.ntl[i], store.labels[i], int(store.scene[i]), tuple(store.origin[i]),
                     bool(store.ntl_missing[i]))
        return w.close(store.meta())


def test_round_trip_keeps_every_array_and_the_metadata(tmp_path: Path) -> None:
    store = random_store(7)
    disk = open_disk_store(write(store, tmp_path / "city.tiles"))
    for name in ("vhr", "ntl", "labels", "scene", "origin", "ntl_missing"):
        mine, theirs = getattr(disk, name), getattr(store, name)
        assert isinstance(mine, TileFile if name in LAZY else np.ndarray) and mine.dtype == theirs.dtype, name
        np.testing.assert_array_equal(mine, theirs, err_msg=name)
    assert disk.meta() == json.loads(json.dumps(store.meta()))
    np.testing.assert_array_equal(disk.class_pixel_counts(), store.class_pixel_counts())
    assert [p.name for p in tmp_path.iterdir()] == ["city.tiles"]  # no partial folder left


def test_training_samples_are_those_of_the_in_memory_store(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from csagf_plugin.training.data import make_dataset

    store = random_store(5)
    disk = open_disk_store(write(store, tmp_path / "city.tiles"))
    card = ModelCard(name="t", variant="full", tile_size=64)
    indices = np.arange(5)
    for a, b in zip(make_dataset(store, indices, card, train=False)[3], make_dataset(disk, indices, card, False)[3]):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_an_error_while_writing_leaves_nothing(tmp_path: Path) -> None:
    store = random_store(2)
    with pytest.raises(InputError, match="labels has shape"), DiskTileWriter(tmp_path / "bad.tiles", 64, 3, 1) as w:
        w.append(store.vhr[0], store.ntl[0], store.labels[0], 0, (0, 0))
        w.append(store.vhr[1], store.ntl[1], store.labels[1][:10], 0, (0, 0))
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(InputError, match="not a disk tile store"):
        open_disk_store(tmp_path)


MEASURE = """
import sys, numpy as np
sys.path.insert(0, sys.argv[1])
from csagf_plugin.training.disk_tiles import LAZY, DiskTileWriter, TileFile, open_disk_store
n, tile, path = int(sys.argv[2]), 128, sys.argv[3]
rng = np.random.default_rng(0)
def anon_mb():
    for line in open("/proc/self/status"):
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024
with DiskTileWriter(path, tile, 3, 1) as w:
    for i in range(n):
        w.append(rng.integers(0, 255, (3, tile, tile), dtype=np.uint8), rng.random((1, tile, tile), dtype=np.float32),
                 rng.integers(0, 8, (tile, tile), dtype=np.uint8), 0, (i, 0))
    w.close({})
written = anon_mb()
store = open_disk_store(path)
total = 0.0
for i in range(store.num_tiles):
    total += float(store.vhr[i].mean()) + float(np.nanmean(store.ntl[i])) + float(store.labels[i].mean())
print(written, anon_mb())
"""


def test_memory_does_not_grow_with_the_number_of_tiles(tmp_path: Path) -> None:
    figures = []
    for n in (100, 800):  # 800 tiles of 128 px: 75 MB of arrays
        done = subprocess.run([sys.executable, "-c", MEASURE, str(REPO), str(n), str(tmp_path / f"s{n}.tiles")],
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        figures.append([float(v) for v in done.stdout.split()])
    (write_small, read_small), (write_big, read_big) = figures
    assert write_big < write_small + 10 and read_big < read_small + 10  # MB of the process's own memory


def test_prepare_writes_a_disk_store_that_trains_like_the_npz(synthetic, tmp_path: Path) -> None:
    """prepare with a *.tiles output appends tile by tile; the store it returns and TileStore.load are memory maps
    holding the same tiles as the in-memory store, and a training run reads it."""
    pytest.importorskip("torch")
    from csagf_plugin.training.fit import TrainConfig, train
    from csagf_plugin.training.tiles import PrepareConfig, SceneSource, prepare_tiles

    scenes = [SceneSource(str(s.vhr), str(s.labels)) for s in synthetic.scenes]
    memory = prepare_tiles(PrepareConfig(scenes, str(synthetic.ntl), tile_size=64))
    disk = prepare_tiles(PrepareConfig(scenes, str(synthetic.ntl), tile_size=64, output=str(tmp_path / "a.tiles")))
    loaded = TileStore.load(tmp_path / "a.tiles")
    for store in (disk, loaded):
        assert isinstance(store.labels, TileFile) and store.num_tiles == memory.num_tiles
        np.testing.assert_array_equal(store.vhr, memory.vhr)
        np.testing.assert_array_equal(store.labels, memory.labels)
        np.testing.assert_array_equal(store.class_pixel_counts(), memory.class_pixel_counts())
        assert store.description == memory.description and store.vhr_pixel_size_m == memory.vhr_pixel_size_m
    assert not list(tmp_path.glob(".*partial*"))
    result = train(TrainConfig(str(tmp_path / "run"), tiles=str(tmp_path / "a.tiles"), width=8, epochs=1,
                               batch_size=4, block_size=64, val_share=0.2, test_share=0.2, export=False))
    assert Path(result.best_checkpoint).is_file()


def test_canceled_prepare_leaves_no_disk_store(synthetic, tmp_path: Path) -> None:
    """Canceled after the first row of tiles was appended: the unfinished store is removed."""
    from csagf_plugin.core.errors import Canceled
    from csagf_plugin.training.tiles import PrepareConfig, SceneSource, prepare_tiles

    class CancelAtOnce:
        def set_progress(self, percent: float) -> None:
            pass

        def is_canceled(self) -> bool:
            return True

    scenes = [SceneSource(str(s.vhr), str(s.labels)) for s in synthetic.scenes]
    with pytest.raises(Canceled):
        prepare_tiles(PrepareConfig(scenes, str(synthetic.ntl), tile_size=64, output=str(tmp_path / "b.tiles")),
                      CancelAtOnce())
    assert list(tmp_path.iterdir()) == []
