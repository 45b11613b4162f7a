"""Importing torch inside a QGIS process.

torch's CUDA build imports triton when torchvision loads torch._dynamo; triton's bundled LLVM crashes the QGIS
process (segmentation fault seen in QGIS 3.22 with Processing initialised). Training inside QGIS never compiles
kernels, so triton is hidden from torch there; the command-line training keeps it.
"""

from __future__ import annotations

import sys


def hide_triton_from_torch() -> None:
    """Make `import triton` fail (and find_spec return None) unless torch already loaded it."""
    if "triton" not in sys.modules and "torch" not in sys.modules:
        sys.modules["triton"] = None  # type: ignore[assignment]
