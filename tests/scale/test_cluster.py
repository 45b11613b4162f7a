"""The LocalCluster layout: workers x threads = cores, one worker per GPU seeing only its GPU."""

from __future__ import annotations

import pytest

from csagf_plugin.core.errors import InputError
from csagf_plugin.scale.cluster import ClusterConfig, dask_client, gpu_ids, worker_specs

pytest.importorskip("distributed")


@pytest.mark.parametrize("workers, threads, cores, expected", [(0, 0, 16, (4, 4)), (0, 0, 2, (1, 2)), (2, 0, 2, (2, 1)),
                                                                (3, 0, 16, (3, 5)), (0, 8, 16, (2, 8))])
def test_layout_fills_the_cores(workers: int, threads: int, cores: int, expected: tuple[int, int]) -> None:
    assert ClusterConfig(workers=workers, threads=threads).layout(cores) == expected


def test_one_worker_per_gpu_each_seeing_only_its_own() -> None:
    specs = worker_specs(4, ["0", "1"])
    assert list(specs) == ["gpu-0", "gpu-1"]
    assert [s["options"]["env"] for s in specs.values()] == [{"CUDA_VISIBLE_DEVICES": "0"},
                                                             {"CUDA_VISIBLE_DEVICES": "1"}]
    assert all(s["options"]["nthreads"] == 1 for s in specs.values())
    assert list(worker_specs(3, [])) == ["cpu-0", "cpu-1", "cpu-2"]


def test_visible_devices_are_the_gpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,3")
    assert gpu_ids() == ["2", "3"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "-1")
    assert gpu_ids() == []


def test_a_scheduler_that_is_not_an_address_is_refused() -> None:
    with pytest.raises(InputError, match="neither 'auto' nor an address"), \
            dask_client(ClusterConfig(scheduler="my-cluster")):
        pass
