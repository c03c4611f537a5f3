"""Inference backends behind one small interface ([Backend][siamtrack.backends.Backend]).

[create_backend][siamtrack.backends.create_backend] is the only place that knows which backends
exist; the tracker asks it for one by name and never branches on the answer. `choose_backend` maps ``auto`` to the
fastest backend this machine can run, in the order TensorRT -> torch CUDA -> ONNX Runtime CPU
-> torch CPU, and logs its choice. TensorRT is taken only when its responses match ONNX
Runtime's on the same export (`siamtrack.backends.parity`); else the next one, with a warning.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Collection, Mapping, Union

from siamtrack.backends.base import Backend, DeviceBackend, KernelBackend
from siamtrack.backends.nanotrack import is_nanotrack_folder
from siamtrack.errors import BackendUnavailableError, WeightsError
from siamtrack.model.builtin import available_formats, builtin_model_name, builtin_model_path
from siamtrack.model.contract import is_exported_model

if TYPE_CHECKING:
    from siamtrack.model.weights import ModelWeights

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Implementation:
    loaders: Mapping[str, str]  # model format ("weights", "onnx", "nanotrack") -> "module:Class" that loads it

    @property
    def model_formats(self) -> tuple[str, ...]:
        return tuple(self.loaders)


# Imported only when asked for, so a backend's framework is loaded only by those who use it.
# "nanotrack" is a folder of NanoTrack v2's published graphs (siamtrack.backends.nanotrack).
_IMPLEMENTATIONS = {
    "torch": _Implementation({"weights": "siamtrack.backends.torch_backend:TorchBackend",
                              "nanotrack": "siamtrack.backends.torch_backend:TorchBackend"}),
    "onnx": _Implementation({"onnx": "siamtrack.backends.onnx_backend:OnnxBackend",
                             "nanotrack": "siamtrack.backends.nanotrack:NanoTrackOnnxBackend"}),
    "tensorrt": _Implementation({"onnx": "siamtrack.backends.tensorrt_backend:TensorRTBackend"}),
}
BACKEND_NAMES = ("auto", *_IMPLEMENTATIONS)

ModelSource = Union[str, Path, "ModelWeights", None]


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # an import hook or a broken install refuses it
        return False


def _torch_cuda() -> bool:
    if not _installed("torch"):
        return False
    try:
        import torch
    except ImportError:  # installed but unusable (e.g. a CUDA build without its libraries)
        return False
    return torch.cuda.is_available()


# ``auto``'s preference order: (backend, runs on, is it usable here?). TensorRT engines run
# through torch CUDA tensors, so they need both.
AUTO_ORDER: tuple[tuple[str, str, Callable[[], bool]], ...] = (
    ("tensorrt", "cuda", lambda: _installed("tensorrt") and _torch_cuda()),
    ("torch", "cuda", _torch_cuda),
    ("onnx", "cpu", lambda: _installed("onnxruntime")),
    ("torch", "cpu", lambda: _installed("torch")),
)


def model_format(model: ModelSource) -> tuple[str, ...]:
    """Formats ``model`` is in: ``("onnx",)``, ``("nanotrack",)``, ``("weights",)``, or every format a
    built-in model (None: the default model) is installed in."""
    name = builtin_model_name(model)
    if name:
        formats = available_formats(name)
        if not formats:
            builtin_model_path(name)  # raises WeightsError saying where it looked and what to do
        return formats
    if is_nanotrack_folder(model):
        return ("nanotrack",)
    return ("onnx",) if is_exported_model(model) else ("weights",)


def choose_backend(device: str = "auto", model: ModelSource = None,
                   usable: Mapping[str, Callable[[], bool]] | None = None, exclude: Collection[str] = ()) -> str:
    """The backend ``auto`` means here, for this device request and model.

    Args:
        device: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``: limits the choice to that kind.
        model: the model to load (its format limits the choice); None means the default model.
        usable: override of the availability probes, keyed ``"backend/kind"`` (tests).
        exclude: backend names not to choose (ones that failed their check here).

    Raises:
        BackendUnavailableError: no backend can run this model on this device here.
    """
    wanted_kind = "cpu" if device == "cpu" else "cuda" if device.startswith("cuda") else None
    formats = set(model_format(model))
    for name, kind, probe in AUTO_ORDER:
        if (name in exclude or wanted_kind not in (None, kind)
                or not formats & set(_IMPLEMENTATIONS[name].model_formats)):
            continue
        check = (usable or {}).get(f"{name}/{kind}", probe)
        if check():
            LOG.info("backend auto -> %s on %s (device %s)", name, kind, device)
            return name
    if wanted_kind == "cuda" and not (usable or {}).get("torch/cuda", _torch_cuda)():
        raise BackendUnavailableError(f"device {device!r}: {_why_no_cuda()}; use --device cpu")
    raise BackendUnavailableError(
        f"no installed backend can run a {'/'.join(sorted(formats)) or 'missing'} model on device "
        f"{device!r}: install onnxruntime (exported models) or torch (weights files)")


def _why_no_cuda() -> str:
    """Why torch cannot use CUDA here, in words."""
    if not _installed("torch"):
        return "CUDA runs through PyTorch, which is not installed"
    try:
        import torch
    except ImportError as exc:
        return f"PyTorch is installed but cannot be imported ({exc})"
    if torch.version.cuda is None:
        return f"the installed PyTorch {torch.__version__} is a CPU-only build"
    return f"PyTorch {torch.__version__} (CUDA {torch.version.cuda}) sees no CUDA GPU"


def resolve_backend_name(backend: str, device: str = "auto", model: ModelSource = None) -> str:
    """Map ``auto`` to a concrete backend name (see `choose_backend`); reject unknown names."""
    if backend not in BACKEND_NAMES:
        raise BackendUnavailableError(
            f"unknown backend {backend!r}; available: {', '.join(BACKEND_NAMES)}")
    if backend == "auto":
        return choose_backend(device, model)
    return backend


def create_backend(backend: str, model: ModelSource = None, device: str = "auto",
                   threads: int | None = None, **options: Any) -> Backend:
    """Load ``model`` into the named backend.

    Args:
        backend: ``auto`` or a name from ``BACKEND_NAMES``. A named backend that cannot run
            here is an error, never a silent fallback.
        model: a weights file (any layout [siamtrack.model.weights.load_weights][siamtrack.load_weights] reads), loaded
            [ModelWeights][siamtrack.ModelWeights], an exported ONNX folder, or the name of a
            built-in model (``default``, ``v4``: `siamtrack.model.builtin`); None loads the
            default model. A built-in model is read in the format the backend reads.
        device: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
        threads: CPU threads for inference; None keeps the framework's default.
        options: backend-specific keyword arguments (e.g. ``graph_optimization`` for onnx).

    Raises:
        BackendUnavailableError: the backend or device cannot be used here.
        WeightsError: the model cannot be read or does not fit.
    """
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        from siamtrack.errors import ConfigError

        raise ConfigError(f"threads must be a whole number >= 1 (or None for the framework's default), "
                          f"got {threads!r}")
    if backend != "auto":
        return _load(resolve_backend_name(backend, device, model), model, device, threads, options)
    failed: set[str] = set()
    while True:
        name = choose_backend(device, model, exclude=failed)
        if name != "tensorrt":
            return _load(name, model, device, threads, options)
        try:  # never run by this project: auto takes it only if it reproduces ONNX Runtime
            return _verified_tensorrt(model, device, threads, options)
        except (BackendUnavailableError, WeightsError) as exc:  # no TensorRT, an engine that fails, a mismatch
            failed.add(name)
            LOG.warning("backend auto: not using tensorrt (%s); taking the next backend", exc)


def _verified_tensorrt(model: ModelSource, device: str, threads: int | None, options: dict[str, Any]) -> Backend:
    """The TensorRT backend, after `check_parity` against ONNX Runtime."""
    from siamtrack.backends.parity import check_parity

    candidate = _load("tensorrt", model, device, threads, options)
    reference = _load("onnx", model, "cpu", threads, {})
    difference = check_parity(candidate, reference)
    LOG.info("tensorrt matches onnxruntime within %.2g of the response range", difference)
    return candidate


def _load(name: str, model: ModelSource, device: str, threads: int | None, options: dict[str, Any]) -> Backend:
    implementation = _IMPLEMENTATIONS[name]
    builtin = builtin_model_name(model)
    if builtin:
        model_format_name = implementation.model_formats[0]
        model = builtin_model_path(builtin, model_format_name)
    else:
        formats = [f for f in model_format(model) if f in implementation.loaders]
        if not formats:
            raise WeightsError(
                f"the {name} backend reads {' or '.join(implementation.model_formats)} models; {model} is "
                f"not one" + (f" (export it first: siamtrack export {model} --format onnx)"
                              if "onnx" in implementation.model_formats else ""))
        model_format_name = formats[0]
    module, _, cls_name = implementation.loaders[model_format_name].partition(":")
    cls = getattr(importlib.import_module(module), cls_name)
    instance = cls(model, device=device, threads=threads, **options)
    LOG.info("backend %s on %s (requested device %s)", instance.name, instance.device, device)
    return instance


__all__ = ["Backend", "DeviceBackend", "KernelBackend", "BACKEND_NAMES", "AUTO_ORDER", "choose_backend",
           "create_backend", "resolve_backend_name"]
