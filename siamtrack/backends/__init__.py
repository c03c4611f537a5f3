"""Inference backends behind one small interface (:class:`Backend`).

:func:`create_backend` is the only place that knows which backends exist; the tracker asks it
for one by name and never branches on the answer.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Union

from ..errors import BackendUnavailableError
from .base import Backend

if TYPE_CHECKING:
    from ..weights import ModelWeights

LOG = logging.getLogger(__name__)

# Backend name -> (module, class), imported only when asked for, so a backend's framework is
# loaded only by those who use it.
_IMPLEMENTATIONS = {"torch": ("siamtrack.backends.torch_backend", "TorchBackend")}
BACKEND_NAMES = ("auto", *_IMPLEMENTATIONS)

ModelSource = Union[str, Path, "ModelWeights"]


def resolve_backend_name(backend: str) -> str:
    """Map ``auto`` to a concrete backend name; reject unknown names."""
    if backend not in BACKEND_NAMES:
        raise BackendUnavailableError(
            f"unknown backend {backend!r}; available: {', '.join(BACKEND_NAMES)}")
    if backend == "auto":
        return "torch"
    return backend


def create_backend(backend: str, model: ModelSource, device: str = "auto",
                   threads: int | None = None) -> Backend:
    """Load ``model`` into the named backend.

    Args:
        backend: ``auto`` or a name from ``BACKEND_NAMES``.
        model: a weights file path (any layout :func:`siamtrack.weights.load_weights` reads) or
            already loaded :class:`~siamtrack.weights.ModelWeights`.
        device: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
        threads: CPU threads for inference; None keeps the framework's default.

    Raises:
        BackendUnavailableError: the backend or device cannot be used here.
        WeightsError: the model cannot be read or does not fit.
    """
    module_name, class_name = _IMPLEMENTATIONS[resolve_backend_name(backend)]
    implementation = getattr(importlib.import_module(module_name), class_name)
    from ..weights import ModelWeights, load_weights

    weights = model if isinstance(model, ModelWeights) else load_weights(model)
    instance = implementation(weights, device=device, threads=threads)
    LOG.info("backend %s on %s (requested %s/%s)", instance.name, instance.device, backend, device)
    return instance


__all__ = ["Backend", "BACKEND_NAMES", "create_backend", "resolve_backend_name"]
