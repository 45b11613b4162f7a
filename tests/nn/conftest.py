"""Shared set-up of the network tests: one thread (the CI machine has two shared cores) and seeded random inputs."""

from __future__ import annotations

from typing import Iterator

import pytest

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True, scope="package")
def _one_thread() -> Iterator[None]:
    """Run the network tests on one thread, then restore the previous setting.

    Measured on the shared two-core machine under load: a width-8 forward/backward took 0.1 s on one thread and
    7 s on two, whose threads wait on each other.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _make_inputs(batch: int, height: int, width: int, vhr_bands: int = 3, ntl_bands: int = 1,
                seed: int = 0) -> tuple["torch.Tensor", "torch.Tensor"]:
    """Seeded standard-normal (vhr, ntl) tensors, as the model card's normalisation would give."""
    generator = torch.Generator().manual_seed(seed)
    vhr = torch.randn(batch, vhr_bands, height, width, generator=generator)
    ntl = torch.randn(batch, ntl_bands, height, width, generator=generator)
    return vhr, ntl


@pytest.fixture
def make_inputs():
    """The seeded (vhr, ntl) maker: make_inputs(batch, height, width, vhr_bands=3, ntl_bands=1, seed=0)."""
    return _make_inputs
