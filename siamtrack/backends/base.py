"""The one small interface every inference backend implements.

The tracker hands a backend uint8 BGR crops (NHWC, as cut by `siamtrack.tracking.crops`) and gets
back float32 response maps; it never knows which framework runs the network.
"""

from __future__ import annotations

from typing import Any, Protocol, Sequence, runtime_checkable

import numpy as np

from siamtrack.model.metadata import ModelMetadata


@runtime_checkable
class Backend(Protocol):
    """Runs the two branches of a Siamese network.

    Attributes:
        name: backend name (``torch``, ...).
        device: where it runs (``cpu``, ``cuda:0``, ...).
        metadata: what the loaded model says about its inputs and outputs.
    """

    name: str
    device: str
    metadata: ModelMetadata

    def template(self, exemplar_crops: np.ndarray) -> Any:
        """Exemplar crops (T, E, E, 3) uint8 -> T opaque kernels, kept by the caller."""
        ...

    def track(self, search_crops: np.ndarray, kernels: Any) -> np.ndarray:
        """Search crops (N, I, I, 3) uint8 + N * K kernels -> (N * K, R, R) float32 responses.

        Crop n is correlated with kernels n*K .. n*K+K-1 (K >= 1, the same for every crop of
        the call): K = 1 for an image pyramid (a kernel per crop), K = scales for the
        single-pass step (one crop, a kernel per scale). Responses come in the kernels' order.
        """
        ...

    def stack(self, kernels: Sequence[Any]) -> Any:
        """Join kernels returned by ``template`` (or ``stack``) into one batch, in order."""
        ...


@runtime_checkable
class DeviceBackend(Backend, Protocol):
    """A backend that also runs on tensors already on its device (torch, TensorRT).

    The tensor pipeline (`siamtrack.tracking.device`) cuts crops on the device and calls
    ``track_tensors``, so nothing but the peaks crosses to the host.
    """

    def track_tensors(self, search_crops: Any, kernels: Any) -> Any:
        """Like [Backend.track][siamtrack.backends.Backend.track] for crops already on the device; responses
        stay there (no sync)."""
        ...


@runtime_checkable
class KernelBackend(Backend, Protocol):
    """A backend whose kernels can be read back as numbers (every built-in backend).

    Re-acquisition compares a lost target's exemplar features with those of each detection
    (`siamtrack.tracking.appearance`) for heads whose scores say "an object is here" more than
    "this object is here"; a backend without it re-acquires through its search maps.
    """

    def kernel_values(self, kernels: Any) -> np.ndarray:
        """Kernels from ``template`` or ``stack`` -> float32 array (T, C, h, w) on the host."""
        ...
