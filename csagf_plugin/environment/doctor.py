"""What this QGIS's Python has and whether the GPU can be used: the facts behind csagf:check_environment.

Every probe catches its own failure and says it in words, so the report comes out even when a package is broken.
onnxruntime and numpy are imported inside the functions that report them; torch is only looked up (its import
takes seconds and loads CUDA), and its CUDA state is reported only when QGIS already imported it.
"""

from __future__ import annotations

import ctypes
import glob
import os
import platform
import sys
from dataclasses import dataclass, field

from .check import distribution_version, installed_onnxruntime
from .location import DependencyFolder

CUDA_PROVIDER = "CUDAExecutionProvider"


@dataclass
class Section:
    """One heading of the report with its lines."""

    title: str
    lines: list[str] = field(default_factory=list)

    def text(self) -> str:
        return "\n".join([self.title] + [f"  {line}" for line in self.lines])


def _module_version(module_name: str, attribute: str = "__version__") -> str:
    """`module.__version__` (imported), or why it cannot be imported."""
    try:
        module = __import__(module_name, fromlist=["_"])
    except Exception as exc:  # a broken package raises anything; the report says what
        return f"cannot be imported ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
    return str(getattr(module, attribute, "?"))


def versions(folder: DependencyFolder | None = None) -> Section:
    """QGIS, Python, numpy, GDAL, rasterio, onnxruntime and torch, with where the plugin's packages live."""
    section = Section("Versions")
    try:
        from qgis.core import Qgis

        section.lines.append(f"QGIS {Qgis.QGIS_VERSION}")
    except ImportError:
        section.lines.append("QGIS: not running inside QGIS")
    section.lines.append(f"Python {platform.python_version()} ({sys.platform}, {platform.machine()}) "
                         f"from {sys.base_exec_prefix}")
    section.lines.append(f"numpy {_module_version('numpy')}")
    section.lines.append(f"GDAL (QGIS's osgeo) {_module_version('osgeo.gdal')}")
    rasterio = _module_version("rasterio")
    if rasterio[:1].isdigit():
        rasterio += f" (its own GDAL {_module_version('rasterio', '__gdal_version__')})"
    section.lines.append(f"rasterio {rasterio}")
    ort_name = installed_onnxruntime()
    section.lines.append(f"{ort_name or 'onnxruntime'} {_module_version('onnxruntime') if ort_name else 'missing'}")
    torch = distribution_version("torch")
    if torch and "torch" in sys.modules:
        cuda = sys.modules["torch"].cuda
        torch += f", CUDA {'available' if cuda.is_available() else 'not available'}"
    section.lines.append(f"torch {torch or 'missing (only training needs it)'}")
    if folder is not None:
        layout = folder.layout()
        section.lines.append(f"plugin packages: {folder.root} ({layout + ' layout' if layout else 'not installed'})")
    return section


def onnxruntime_providers() -> Section:
    """The execution providers onnxruntime lists, and the CUDA version its build expects."""
    section = Section("onnxruntime providers")
    try:
        import onnxruntime as ort
    except Exception as exc:
        section.lines.append(f"onnxruntime cannot be imported: {exc}. Run CSAGF > Install dependencies.")
        return section
    section.lines.append("listed: " + ", ".join(ort.get_available_providers()))
    cuda_version = _build_cuda_version(ort)
    if cuda_version:
        section.lines.append(f"built for CUDA {cuda_version}")
    return section


def _build_cuda_version(ort) -> str | None:
    """The CUDA major.minor this onnxruntime build was made for (onnxruntime-gpu only)."""
    try:
        from onnxruntime.capi import build_and_package_info as info
    except ImportError:
        return None
    return getattr(info, "cuda_version", None) or None


def nvidia_driver() -> str | None:
    """The NVIDIA kernel driver's version line, None when there is no driver."""
    try:
        with open("/proc/driver/nvidia/version", encoding="utf-8") as handle:
            return handle.readline().strip()
    except OSError:
        pass
    from shutil import which

    return "nvidia-smi found (driver present)" if which("nvidia-smi") else None


def _loads(names: list[str]) -> str | None:
    """The first of the shared libraries `names` that loads, None when none does."""
    for name in names:
        try:
            ctypes.CDLL(name)
            return name
        except OSError:
            continue
    return None


def _pip_nvidia_libraries() -> list[str]:
    """CUDA libraries installed as pip packages (nvidia-*-cu12 and friends), which onnxruntime can preload."""
    found = []
    for entry in sys.path:
        found += glob.glob(os.path.join(entry, "nvidia", "*", "lib", "lib*.so*"))
        found += glob.glob(os.path.join(entry, "nvidia", "*", "bin", "*.dll"))
    return found


def cuda_diagnosis() -> Section:
    """Why onnxruntime can or cannot use CUDA here: package, driver, CUDA driver library, runtime and cuDNN."""
    section = Section("CUDA for onnxruntime")
    lines = section.lines
    name = installed_onnxruntime()
    if sys.platform == "darwin":
        lines.append("macOS has no CUDA: models run on the CPU.")
        return section
    driver = nvidia_driver()
    lines.append(f"NVIDIA driver: {driver or 'none found (no NVIDIA GPU, or its driver is not installed)'}")
    if name != "onnxruntime-gpu":
        lines.append(f"{name or 'onnxruntime'} is the CPU build"
                     + (": install onnxruntime-gpu (CSAGF > Install dependencies, GPU build) to use the GPU."
                        if driver else "."))
        return section
    try:
        import onnxruntime as ort
    except Exception as exc:
        lines.append(f"onnxruntime-gpu cannot be imported: {exc}")
        return section
    if hasattr(ort, "preload_dlls"):  # onnxruntime >= 1.21 finds CUDA and cuDNN of nvidia-* pip packages
        try:
            ort.preload_dlls()
        except Exception as exc:
            lines.append(f"onnxruntime.preload_dlls() failed: {exc}")
    windows = sys.platform == "win32"
    libcuda = _loads(["nvcuda.dll"] if windows else ["libcuda.so.1", "libcuda.so"])
    lines.append(f"CUDA driver library: {libcuda or 'does not load (the NVIDIA driver is missing or broken)'}")
    major = (_build_cuda_version(ort) or "12").split(".")[0]
    wanted = {
        "CUDA runtime": [f"cudart64_{major}.dll"] if windows else [f"libcudart.so.{major}"],
        "cuBLAS": [f"cublas64_{major}.dll"] if windows else [f"libcublas.so.{major}"],
        "cuDNN 9": ["cudnn64_9.dll"] if windows else ["libcudnn.so.9"],
    }
    for label, names in wanted.items():
        found = _loads(names)
        lines.append(f"{label} ({names[0]}): {'loads' if found else 'not found'}")
    if not all(_loads(names) for names in wanted.values()):
        extra = _pip_nvidia_libraries()
        lines.append(f"onnxruntime-gpu built for CUDA {major} needs these libraries: install CUDA {major} and "
                     f"cuDNN 9, or the pip packages nvidia-cuda-runtime-cu{major}, nvidia-cublas-cu{major} and "
                     f"nvidia-cudnn-cu{major}" + (f" ({len(extra)} nvidia pip libraries found)" if extra else ""))
    listed = CUDA_PROVIDER in ort.get_available_providers()
    lines.append(f"{CUDA_PROVIDER}: {'listed' if listed else 'not listed'} by onnxruntime (listed only means the "
                 "build has it; whether it loads shows when the model is opened below)")
    if not driver or not libcuda:
        lines.append("So the GPU cannot be used here: without a working NVIDIA driver models run on the CPU.")
    return section


def cuda_load_error(model_path: str) -> str | None:
    """onnxruntime's own words when its CUDA provider does not load for `model_path`; None when it loads.

    onnxruntime only logs why (to stderr, from C++), so its log is caught at the file-descriptor level.
    """
    import tempfile

    import onnxruntime as ort

    with tempfile.TemporaryFile() as capture:
        saved = os.dup(2)
        os.dup2(capture.fileno(), 2)
        error = None
        try:
            ort.set_default_logger_severity(2)
            in_use = ort.InferenceSession(model_path, providers=[CUDA_PROVIDER, "CPUExecutionProvider"]).get_providers()
        except Exception as exc:  # noqa: BLE001 (onnxruntime's errors are untyped; the report quotes them)
            in_use, error = [], str(exc)
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        capture.seek(0)
        log = capture.read().decode("utf-8", errors="replace")
    if CUDA_PROVIDER in in_use:
        return None
    reasons = [line.split("FAIL : ", 1)[-1].split("] ", 1)[-1].strip() for line in log.splitlines()
               if any(word in line for word in ("Error", "error", "Failed", "failed", "CUDA"))]
    return "; ".join(dict.fromkeys(reasons)) or error or "onnxruntime gave no reason"


def model_opsets(path: str) -> dict[str, int]:
    """The operator sets an ONNX file imports, domain ("" = ai.onnx) -> version, read without onnx installed.

    The ModelProto's field 8 (opset_import) holds OperatorSetIdProto messages (1: domain, 2: version); the graph
    (field 7) is skipped without being decoded, so this reads a large model in milliseconds.
    """
    with open(path, "rb") as handle:
        data = handle.read()
    return {domain: version for domain, version in _opset_imports(data)}


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def _fields(data: bytes):
    """(field number, wire type, value) of a protobuf message; length-delimited values as bytes."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 2:
            size, pos = _varint(data, pos)
            value, pos = data[pos:pos + size], pos + size
        elif wire == 1:
            value, pos = data[pos:pos + 8], pos + 8
        elif wire == 5:
            value, pos = data[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"not an ONNX file (protobuf wire type {wire})")
        yield number, wire, value


def _opset_imports(data: bytes):
    for number, wire, value in _fields(data):
        if number == 8 and wire == 2:
            domain, version = "", 0
            for inner, inner_wire, inner_value in _fields(value):
                if inner == 1 and inner_wire == 2:
                    domain = inner_value.decode("utf-8")
                elif inner == 2 and inner_wire == 0:
                    version = inner_value
            yield domain, version
