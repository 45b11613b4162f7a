"""Fine-tuning the pretrained VHR encoder: card normalisation, slower encoder, freeze, held-out scenes, NTL unknown."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip(__import__("csagf_plugin.nn.pretrained", fromlist=["x"]).WEIGHTS_MODULE)

from csagf_plugin.core.errors import InputError  # noqa: E402
from csagf_plugin.core.model_card import ModelCard  # noqa: E402
from csagf_plugin.training.checkpoint import load_checkpoint  # noqa: E402
from csagf_plugin.training.data import make_dataset  # noqa: E402
from csagf_plugin.training.fit import TrainConfig, train  # noqa: E402
from csagf_plugin.training.tile_store import TileStore, concat_stores  # noqa: E402
from csagf_plugin.training.tiles import PrepareConfig, SceneSource, prepare_tiles  # noqa: E402


@pytest.fixture(scope="module")
def store(synthetic) -> TileStore:
    scenes = [SceneSource(str(s.vhr), str(s.labels)) for s in synthetic.scenes]
    return prepare_tiles(PrepareConfig(scenes, str(synthetic.ntl), tile_size=64))


def test_fine_tuning_records_normalisation_and_freezes(store, tmp_path) -> None:
    """Encoder frozen in epoch 1 (its weights unchanged), trained slower after; the card says [-1, 1] inputs."""
    tiles = store.save(tmp_path / "tiles.npz")
    val_scene = Path(store.scenes[1]).name
    config = TrainConfig(str(tmp_path / "run"), tiles=tiles, model="full", width=8, epochs=2, batch_size=4,
                         vhr_encoder="efficientnet_lite0", freeze_encoder_epochs=1, encoder_lr_scale=0.1,
                         val_scenes=[val_scene], export=True, name="pre")
    result = train(config)
    meta = {p.key: p.value for p in onnx.load(result.onnx).metadata_props}
    card = ModelCard.from_metadata(meta)
    assert card.vhr_encoder == "efficientnet_lite0"
    assert card.vhr_mean == [0.5, 0.5, 0.5] and card.vhr_std == [0.5, 0.5, 0.5]
    assert "frozen for the first 1 epochs" in card.fine_tuning and "0.0001" in card.fine_tuning
    assert f"held-out scenes ['{val_scene}']" in card.training_data
    ckpt = load_checkpoint(result.last_checkpoint)
    groups = ckpt["optimizer_state"]["param_groups"]
    assert len(groups) == 2 and groups[1]["initial_lr"] == pytest.approx(groups[0]["initial_lr"] * 0.1)


def test_frozen_encoder_does_not_move(store, tmp_path) -> None:
    from csagf_plugin.nn import create_model

    tiles = store.save(tmp_path / "tiles.npz")
    config = TrainConfig(str(tmp_path / "run"), tiles=tiles, model="vhr", width=8, epochs=1, batch_size=4,
                         vhr_encoder="efficientnet_lite0", freeze_encoder_epochs=1,
                         val_scenes=[Path(store.scenes[1]).name], export=False)
    result = train(config)
    start = create_model("vhr", width=8, vhr_encoder="efficientnet_lite0", pretrained=True)
    state = load_checkpoint(result.last_checkpoint)["model_state"]
    for key, value in start.state_dict().items():
        if key.startswith("vhr_specific.backbone.") and "running" not in key and "num_batches" not in key:
            assert torch.equal(state[key], value), key


def test_unknown_validation_scene_is_named(store, tmp_path) -> None:
    tiles = store.save(tmp_path / "tiles.npz")
    with pytest.raises(InputError, match="not_there.tif"):
        train(TrainConfig(str(tmp_path / "run"), tiles=tiles, width=8, epochs=1, val_scenes=["not_there.tif"]))


def test_tiles_without_night_light_feed_the_ntl_mean(store, tmp_path) -> None:
    """A store joined with NTL-less tiles: those give zeros (the standardised mean), the others their radiance."""
    blind = TileStore(vhr=store.vhr[:2].copy(), ntl=np.full_like(store.ntl[:2], np.nan), labels=store.labels[:2],
                      scene=np.zeros(2, dtype=np.int32), origin=store.origin[:2], scenes=["siri.tif"],
                      vhr_dtype=store.vhr_dtype, ntl_missing=np.ones(2, dtype=bool))
    both = concat_stores([store, blind])
    assert both.num_tiles == store.num_tiles + 2 and both.scene[-1] == len(store.scenes)
    saved = TileStore.load(both.save(tmp_path / "both.npz"))
    assert saved.ntl_missing.sum() == 2
    card = ModelCard(name="t", variant="full", ntl_mean=[1.0], ntl_std=[2.0])
    data = make_dataset(saved, np.arange(saved.num_tiles), card, train=False)
    assert float(data[saved.num_tiles - 1][1].abs().max()) == 0.0
    assert float(data[0][1].abs().max()) > 0.0
