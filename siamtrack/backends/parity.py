"""Do two backends compute the same responses? The gate a backend passes before ``auto`` uses it.

TensorRT builds its own kernels (and may run in FP16), and this project has never been able to run
it (see `siamtrack.backends.tensorrt_backend`). So ``auto`` does not trust it blindly: a
freshly loaded TensorRT backend must reproduce ONNX Runtime's responses to the same crops of the
same export, else ``auto`` logs why and takes the next backend. A named backend is never checked
or replaced: asking for ``tensorrt`` by name gets TensorRT.
"""

from __future__ import annotations

import numpy as np

from siamtrack.backends.base import Backend
from siamtrack.errors import ParityError

# Largest response difference accepted, as a fraction of the reference's response range. FP16
# engines differ by ~1e-3 of the range; a wrong graph (layout, color order, scale) by 0.1 or more.
PARITY_TOLERANCE = 0.02


def response_difference(candidate: Backend, reference: Backend, targets: int = 2, seed: int = 0) -> float:
    """Largest difference between the two backends' responses to the same random crops.

    Both get the same exemplar crops and search crops (uniform noise, a fixed seed: what matters is
    that the same numbers go through both networks). Returns the difference as a fraction of the
    reference's response range (for box-head models, the largest over their output channels, each
    against its own range).

    Raises:
        ParityError: the backends disagree on crop sizes or response shape.
    """
    meta, other = candidate.metadata, reference.metadata
    sizes = (meta.exemplar_size, meta.instance_size)
    if sizes != (other.exemplar_size, other.instance_size):
        raise ParityError(f"{candidate.name} takes {sizes} px crops, {reference.name} "
                          f"{(other.exemplar_size, other.instance_size)}")
    rng = np.random.default_rng(seed)
    exemplars = rng.integers(0, 256, (targets, meta.exemplar_size, meta.exemplar_size, 3), dtype=np.uint8)
    searches = rng.integers(0, 256, (targets, meta.instance_size, meta.instance_size, 3), dtype=np.uint8)
    got = np.asarray(candidate.track(searches, candidate.template(exemplars)), dtype=np.float64)
    expected = np.asarray(reference.track(searches, reference.template(exemplars)), dtype=np.float64)
    if got.shape != expected.shape:
        raise ParityError(f"{candidate.name} gives responses of shape {got.shape}, {reference.name} {expected.shape}")
    # Box-head outputs (M, 6, r, r) mix logits and pixel distances: each channel against its own
    # range, so that a wrong class map is not hidden by the distances' larger numbers. A response
    # model's (M, r, r) maps are one channel.
    if expected.ndim == 3:
        expected, got = expected[:, None], got[:, None]
    axes = (0, 2, 3)
    spread = expected.max(axis=axes) - expected.min(axis=axes)
    spread[spread == 0] = 1.0
    return float((np.abs(got - expected).max(axis=axes) / spread).max())


def check_parity(candidate: Backend, reference: Backend, tolerance: float = PARITY_TOLERANCE) -> float:
    """`response_difference`, raising `ParityError` above ``tolerance``; returns it."""
    difference = response_difference(candidate, reference)
    if not difference <= tolerance:  # NaN fails too
        raise ParityError(f"{candidate.name} on {candidate.device} differs from {reference.name} on "
                          f"{reference.device} by {difference:.3g} of the response range (limit {tolerance})")
    return difference
