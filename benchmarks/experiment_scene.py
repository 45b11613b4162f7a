"""The held-out test city as whole-scene arrays, each model's map over it, and the scores of those maps.

Part of benchmarks/experiments.py (the paper's experiments on the synthetic benchmark city).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from experiment_report import CLASS_NAMES

from csagf_plugin.core.model_card import FUNCTIONAL_CLASSES, ModelCard


@dataclass
class SceneMaps:
    """The test city assembled from its tiles: inputs, labels and each model's prediction (and the gate)."""

    vhr: np.ndarray  # [3, H, W] uint8
    ntl: np.ndarray  # [H, W] float32 radiance on the VHR grid
    labels: np.ndarray  # [H, W] uint8 class ids
    predictions: dict[str, np.ndarray] = field(default_factory=dict)  # model -> [H, W] uint8 class ids
    gate: np.ndarray | None = None  # [H, W] float32 GFM gate G (VHR weight) of the full model


def assemble_scene(store) -> SceneMaps:
    """Paste the test store's tiles back into whole-scene arrays (tiles cover the scene, the last ones snapped)."""
    T = store.tile_size
    h = int(store.origin[:, 0].max()) + T
    w = int(store.origin[:, 1].max()) + T
    scene = SceneMaps(np.zeros((3, h, w), np.uint8), np.zeros((h, w), np.float32), np.zeros((h, w), np.uint8))
    for t, (r, c) in enumerate(store.origin):
        scene.vhr[:, r:r + T, c:c + T] = store.vhr[t, :3]
        scene.ntl[r:r + T, c:c + T] = store.ntl[t, 0]
        scene.labels[r:r + T, c:c + T] = store.labels[t]
    return scene


def predict_scene(checkpoint: str, store, scene: SceneMaps, device: str, batch_size: int) -> tuple[np.ndarray,
                                                                                                  np.ndarray | None]:
    """Class ids (and the gate of a full model) over the test scene, tile by tile, normalised by the model's card."""
    import torch

    from csagf_plugin.training.checkpoint import model_from_checkpoint
    from csagf_plugin.training.data import make_dataset

    model, meta = model_from_checkpoint(checkpoint)
    model.to(device)
    card = ModelCard.from_json(meta["card"], checkpoint)
    dataset = make_dataset(store, np.arange(store.num_tiles), card, train=False)
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=False)
    T = store.tile_size
    prediction = np.zeros_like(scene.labels)
    gate = np.zeros(scene.labels.shape, np.float32) if getattr(model, "has_gate", False) else None
    ids = card.class_ids()
    t = 0
    with torch.no_grad():
        for vhr, ntl, _ in loader:
            vhr, ntl = vhr.to(device), ntl.to(device)
            if gate is not None:
                logits, g = model.forward_with_gate(vhr, ntl)
                g = g[:, 0].float().cpu().numpy()
            else:
                logits, g = model(vhr, ntl), None
            classes = ids[logits.argmax(1).cpu().numpy()]
            for k in range(len(classes)):
                r, c = store.origin[t]
                prediction[r:r + T, c:c + T] = classes[k]
                if g is not None:
                    gate[r:r + T, c:c + T] = g[k]
                t += 1
    return prediction, gate


def scene_metrics(labels: np.ndarray, prediction: np.ndarray) -> dict:
    """mIoU, macro F1, OA and per-class scores of a prediction against the test labels (0 ignored)."""
    from csagf_plugin.training.metrics import segmentation_metrics

    return segmentation_metrics(labels, prediction, len(FUNCTIONAL_CLASSES)).to_dict(CLASS_NAMES)


def comparison(scene: SceneMaps, a: str = "full", b: str = "vhr") -> dict[str, float]:
    """Shares of labelled test pixels where both models are right, only a, only b, or neither."""
    labelled = scene.labels > 0
    right_a = (scene.predictions[a] == scene.labels) & labelled
    right_b = (scene.predictions[b] == scene.labels) & labelled
    n = max(int(labelled.sum()), 1)
    return {"both_right": float((right_a & right_b).sum() / n),
            f"only_{a}_right": float((right_a & ~right_b).sum() / n),
            f"only_{b}_right": float((~right_a & right_b).sum() / n),
            "both_wrong": float((labelled & ~right_a & ~right_b).sum() / n)}


def gate_by_class(scene: SceneMaps) -> dict[str, float]:
    """Mean NTL weight (1 - G) of the full model per reference class: where night light drove the decision."""
    assert scene.gate is not None
    return {c.name: round(float(1.0 - scene.gate[scene.labels == c.id].mean()), 4)
            for c in FUNCTIONAL_CLASSES if (scene.labels == c.id).any()}
