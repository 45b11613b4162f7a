"""Training data from several label sources (first wins) and at one pixel size from inputs of several."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio

from csagf_plugin.training.tiles import LabelSource, PrepareConfig, SceneSource, prepare_tiles


def test_first_label_source_wins_and_later_ones_fill_its_gaps(synthetic, tmp_path) -> None:
    """Polygons (mystery cells unmapped, so 0) first, the label raster after: the raster fills only those gaps."""
    scene = synthetic.scenes[0]
    truth = scene.label_map
    # A second source that says "water" everywhere: it may only show where the polygons have no class.
    water = tmp_path / "water.tif"
    with rasterio.open(scene.labels) as src:
        profile = src.profile
    with rasterio.open(water, "w", **profile) as dst:
        dst.write(np.full(truth.shape, 6, np.uint8), 1)
    only_polygons = prepare_tiles(PrepareConfig([SceneSource(str(scene.vhr), str(synthetic.polygons),
                                                             class_field="landuse")],
                                                str(synthetic.ntl), mapping=str(synthetic.mapping_csv),
                                                tile_size=64, min_labelled=0.0))
    both = prepare_tiles(PrepareConfig([SceneSource(str(scene.vhr), str(synthetic.polygons), class_field="landuse",
                                                    more_labels=[LabelSource(str(water))])],
                                       str(synthetic.ntl), mapping=str(synthetic.mapping_csv), tile_size=64,
                                       min_labelled=0.0))
    first, combined = only_polygons.labels, both.labels
    assert (first == 0).any()  # the unmapped 'mystery' cells and the unlabelled strip
    np.testing.assert_array_equal(combined[first > 0], first[first > 0])  # the polygons win where they label
    assert (combined[first == 0] == 6).all()  # the water raster fills every gap


def test_scenes_of_two_pixel_sizes_train_at_one(synthetic, tmp_path) -> None:
    """Scene b written again at 0.5 m: with pixel_size_m=1 both are cut at 1 m and the card records 1 m."""
    scene = synthetic.scenes[1]
    with rasterio.open(scene.vhr) as src:
        data, profile = src.read(), src.profile
    fine = tmp_path / "b_fine.tif"
    t = profile["transform"]
    profile.update(width=data.shape[2] * 2, height=data.shape[1] * 2,
                   transform=rasterio.Affine(t.a / 2, t.b, t.c, t.d, t.e / 2, t.f))
    with rasterio.open(fine, "w", **profile) as dst:
        dst.write(np.repeat(np.repeat(data, 2, axis=1), 2, axis=2))
    scenes = [SceneSource(str(synthetic.scenes[0].vhr), str(synthetic.scenes[0].labels)),
              SceneSource(str(fine), str(scene.labels))]
    warnings: list[str] = []
    mixed = prepare_tiles(PrepareConfig(scenes, str(synthetic.ntl), tile_size=64), warn=warnings.append)
    assert any("different pixel sizes" in w for w in warnings)
    warnings.clear()
    one = prepare_tiles(PrepareConfig(scenes, str(synthetic.ntl), tile_size=64, pixel_size_m=1.0),
                        warn=warnings.append)
    assert one.vhr_pixel_size_m == pytest.approx(1.0, rel=0.01)
    assert any("resampled from 0.50 m to 1.00 m" in w for w in warnings), warnings
    assert not any("different pixel sizes" in w for w in warnings)
    # At 1 m the fine scene gives as many tiles as the original 1 m scene b would, and the same labels.
    original = prepare_tiles(PrepareConfig([SceneSource(str(scene.vhr), str(scene.labels))], str(synthetic.ntl),
                                           tile_size=64))
    resampled_b = one.labels[one.scene == 1]
    assert len(resampled_b) == original.num_tiles
    assert (resampled_b == original.labels).mean() > 0.97  # nearest labels on an aligned 2:1 grid
    assert len(mixed.labels[mixed.scene == 1]) == 4 * original.num_tiles
