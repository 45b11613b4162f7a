"""Spatial-block split without leakage, and augmentation that keeps VHR, NTL and labels aligned."""

from __future__ import annotations

import numpy as np
import pytest

from csagf_plugin.core.errors import InputError
from csagf_plugin.training.augment import augment
from csagf_plugin.training.splits import split_by_blocks


def _sliding_tiles(size: int, tile: int, stride: int, scenes: int = 2):
    starts = list(range(0, size - tile + 1, stride))
    origin = np.array([(r, c) for _ in range(scenes) for r in starts for c in starts])
    scene = np.repeat(np.arange(scenes), len(starts) ** 2)
    return scene, origin


@pytest.mark.parametrize("stride", [64, 32, 48])
def test_split_shares_no_pixel_between_splits(stride: int) -> None:
    size, tile = 512, 64
    scene, origin = _sliding_tiles(size, tile, stride)
    split = split_by_blocks(scene, origin, tile, block_size=128, val_share=0.2, test_share=0.2, seed=3)
    owner = np.full((2, size, size), -1)
    for k, idx in enumerate((split.train, split.val, split.test)):
        assert len(idx) > 0
        for i in idx:
            r, c = origin[i]
            patch = owner[scene[i], r:r + tile, c:c + tile]
            assert np.all((patch == -1) | (patch == k)), "a pixel belongs to tiles of two splits"
            patch[...] = k
    used = np.concatenate([split.train, split.val, split.test, split.dropped])
    assert sorted(used.tolist()) == list(range(len(scene)))
    if stride == tile:
        assert len(split.dropped) == 0  # tiles aligned with blocks never straddle two


def test_split_is_seeded() -> None:
    scene, origin = _sliding_tiles(512, 64, 64)
    a = split_by_blocks(scene, origin, 64, 128, 0.2, 0.2, seed=1)
    b = split_by_blocks(scene, origin, 64, 128, 0.2, 0.2, seed=1)
    c = split_by_blocks(scene, origin, 64, 128, 0.2, 0.2, seed=2)
    assert np.array_equal(a.val, b.val) and np.array_equal(a.test, b.test)
    assert not (np.array_equal(a.val, c.val) and np.array_equal(a.test, c.test))


def test_split_refuses_blocks_smaller_than_tiles() -> None:
    scene, origin = _sliding_tiles(256, 64, 64, 1)
    with pytest.raises(InputError, match="Block size"):
        split_by_blocks(scene, origin, 64, 32)


def test_augment_keeps_vhr_ntl_labels_aligned() -> None:
    rng0 = np.random.default_rng(0)
    labels = rng0.integers(0, 8, size=(16, 16)).astype(np.uint8)
    coords = np.arange(16 * 16, dtype=np.float32).reshape(16, 16)  # a unique value per pixel
    vhr = np.stack([labels.astype(np.float32), coords, -coords])
    ntl = (labels.astype(np.float32) * 2)[None]
    seen = set()
    for seed in range(40):
        v, n, lab = augment(vhr, ntl, labels, np.random.default_rng(seed), brightness=0.0, contrast=0.0)
        assert v.shape == vhr.shape and n.shape == ntl.shape and lab.shape == labels.shape
        np.testing.assert_array_equal(v[0], lab)
        np.testing.assert_array_equal(n[0], lab * 2.0)
        np.testing.assert_array_equal(v[2], -v[1])
        seen.add(v[1].tobytes())
    assert len(seen) == 8  # all four turns, with and without a flip


def test_brightness_contrast_touch_vhr_only_and_mildly() -> None:
    vhr = np.ones((3, 8, 8), dtype=np.float32)
    ntl = np.full((1, 8, 8), 5.0, dtype=np.float32)
    labels = np.ones((8, 8), dtype=np.uint8)
    v, n, _ = augment(vhr, ntl, labels, np.random.default_rng(7), brightness=0.1, contrast=0.1)
    assert np.all(n == 5.0)
    assert np.all(np.abs(v - 1.0) <= 0.2 + 1e-6) and v.dtype == np.float32


def test_tiles_with_a_rare_class_are_drawn_more_often() -> None:
    from csagf_plugin.training.data import EpochSampler, tile_sample_weights

    labels = np.ones((8, 8, 8), dtype=np.uint8)  # class 1 in every tile
    labels[0, :4] = 7  # class 7 in one tile of eight (share 1/8)
    labels[1:3, :4] = 2  # class 2 in two tiles of eight (share 1/4)
    labels[3] = 0  # an unlabelled tile keeps factor 1
    weights = tile_sample_weights(labels, num_classes=7, threshold=0.5)
    # repeat factors max(1, sqrt(0.5 / share)): class 7 -> 2, class 2 -> sqrt(2), class 1 -> 1
    np.testing.assert_allclose(weights, [2.0, 2 ** 0.5, 2 ** 0.5, 1, 1, 1, 1, 1])
    draws = np.concatenate([list(EpochSampler(8, weights, seed=k)) for k in range(300)])
    share = np.bincount(draws, minlength=8) / len(draws)
    assert share[0] == pytest.approx(2.0 / weights.sum(), abs=0.02)


def test_epoch_sampler_gives_each_process_its_own_equal_share() -> None:
    from csagf_plugin.training.data import EpochSampler

    ranks = [EpochSampler(7, None, seed=1, rank=r, world_size=2) for r in range(2)]
    for s in ranks:
        s.set_epoch(3)
    a, b = (list(s) for s in ranks)
    assert len(a) == len(b) == 4
    assert set(a) | set(b) == set(range(7))
