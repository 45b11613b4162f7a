"""core/safe_output.py: names that stay in their folder, outputs that appear together or not at all, and I/O
failures told apart (a write that fails, an input that cannot be read)."""

from __future__ import annotations

import errno
import os

import pytest

from csagf_plugin.core.errors import InputError, OutputError
from csagf_plugin.core.io_errors import io_error
from csagf_plugin.core.output_checks import check_file_name, check_outputs
from csagf_plugin.core.safe_output import TEMP_MARK, atomic_outputs


@pytest.mark.parametrize("name", ["../escape", "a/b", "..", ".", "", "C:evil", "a\\b"])
def test_names_that_leave_the_folder_are_refused(name):
    with pytest.raises(InputError, match="cannot be used in file names"):
        check_file_name(name, "run name")


@pytest.mark.parametrize("name", ["csagfnet", "run-2 (full)", "zones.v2"])
def test_plain_names_pass(name):
    assert check_file_name(name, "run name") == name


def test_outputs_appear_together_or_not_at_all(tmp_path):
    finals = [tmp_path / "a.csv", tmp_path / "sub" / "b.png"]
    (tmp_path / "a.csv").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_outputs(finals) as temps:
            for temp in temps:
                with open(temp, "w") as f:
                    f.write("new")
            raise RuntimeError("failed after writing")
    assert (tmp_path / "a.csv").read_text() == "old" and not (tmp_path / "sub" / "b.png").exists()
    assert not [p for p in tmp_path.rglob("*") if TEMP_MARK in p.name]
    with atomic_outputs(finals) as temps:
        for temp in temps:
            with open(temp, "w") as f:
                f.write("new")
    assert [p.read_text() for p in finals] == ["new", "new"]
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["a.csv", "b.png"]


def test_an_output_folder_that_is_a_file_and_an_output_that_is_a_folder(tmp_path):
    (tmp_path / "file").write_text("x")
    (tmp_path / "folder").mkdir()
    with pytest.raises(InputError, match="is an existing file"):
        check_outputs({"map": str(tmp_path / "file" / "zones.tif")}, {})
    with pytest.raises(InputError, match="is an existing folder"):
        check_outputs({"map": str(tmp_path / "folder")}, {})


def test_io_failures_are_told_apart(tmp_path):
    full = io_error(OSError(errno.ENOSPC, "No space left on device"), {}, {"map": str(tmp_path / "zones.tif")})
    assert isinstance(full, OutputError) and "No space left on device while writing the map" in str(full)
    read_only = io_error(OSError(errno.EROFS, "Read-only file system"), {}, {"map": str(tmp_path / "zones.tif")})
    assert isinstance(read_only, OutputError) and "the folder is read-only" in str(read_only)
    cause = RuntimeError("vhr.tif, band 1: IReadBlock failed at X offset 1, Y offset 2")
    try:
        raise OSError("Read failed. See previous exception for details.") from cause
    except OSError as exc:
        unreadable = io_error(exc, {"VHR raster": os.fspath(tmp_path / "vhr.tif")}, {"map": "zones.tif"})
    assert isinstance(unreadable, InputError)
    assert "vhr.tif cannot be read: the file is truncated or corrupt (vhr.tif, band 1: IReadBlock" in str(unreadable)
    other = ValueError("something else")
    assert io_error(other, {}, {}) is other
