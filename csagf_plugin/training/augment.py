"""Augmentation that keeps VHR, NTL and labels aligned: the same flips and 90-degree turns for all three."""

from __future__ import annotations

import numpy as np


def augment(vhr: np.ndarray, ntl: np.ndarray, labels: np.ndarray, rng: np.random.Generator,
            brightness: float = 0.1, contrast: float = 0.1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random dihedral transform of VHR [B,H,W], NTL [Bn,H,W] and labels [H,W]; mild brightness/contrast on VHR.

    VHR is expected normalised (zero mean, unit std), so brightness shifts by up to `brightness` std and contrast
    scales by 1 +- `contrast`. NTL values are left as they are: night light is a measurement, not an appearance.
    """
    k = int(rng.integers(4))
    flip = bool(rng.integers(2))
    out = []
    for a in (vhr, ntl, labels):
        a = np.rot90(a, k, axes=(-2, -1))
        if flip:
            a = a[..., ::-1]
        out.append(np.ascontiguousarray(a))
    if brightness or contrast:
        c = np.float32(1.0 + rng.uniform(-contrast, contrast))
        b = np.float32(rng.uniform(-brightness, brightness))
        out[0] = (out[0] * c + b).astype(np.float32, copy=False)
    return out[0], out[1], out[2]
