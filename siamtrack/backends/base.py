"""The one small interface every inference backend implements.

The tracker hands a backend uint8 BGR crops (NHWC, as cut by :mod:`siamtrack.crops`) and gets
back float32 response maps; it never knows which framework runs the network.
"""

from __future__ import annotations

from typing import Any, Protocol, Sequence, runtime_checkable

import numpy as np

from ..metadata import ModelMetadata


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
        """Exemplar crops (T, E, E, 3) uint8 -> opaque kernels for T targets, kept by the caller."""
        ...

    def track(self, search_crops: np.ndarray, kernels: Any) -> np.ndarray:
        """Search crops (T * S, I, I, 3) uint8, grouped by target -> (T * S, R, R) float32 responses.

        ``kernels`` holds T targets; each target's S crops are consecutive. T may equal the
        number of crops (one kernel per crop), which is how trackers mix targets that need
        different numbers of crops in one call.
        """
        ...

    def stack(self, kernels: Sequence[Any]) -> Any:
        """Join kernels returned by ``template`` (or ``stack``) into one batch, in order."""
        ...
