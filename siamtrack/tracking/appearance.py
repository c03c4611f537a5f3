"""Whether a detection shows a lost target: its exemplar features against the target's.

Re-acquisition must choose among detections. A SiamFC response does that through the search maps:
a different object correlates less. A NanoTrack-layout head does not: it scores "a compact object
is at the center" more than "this object", so on the detector test clip
(`tests/test_detectors_in_the_loop.py`) another object scored 1.0 against the lost target, as the
target itself did. The backbone's features still tell them apart: compared by cosine over the
central half of the exemplar cells (the object, without the context around it), the target coming
back scored 0.97 - 0.99, the other object 0.74 - 0.79 and background 0.2 - 0.35, with the default
model and with NanoTrack's own files. Features of unrelated content already share a direction, so
the score rescales the cosine from [0.5, 1] to [0, 1]: on that clip the re-acquisition threshold
(0.75) then lies between another object (0.48 - 0.57) and the target (0.94 - 0.98). A person in a
real video changes more than the clip's object: later in the sequence the default model scored the
same person 0.0 - 0.37 (seven training videos), so this check lets almost nothing through there:
it trades re-acquisition for never resuming on another object (`benchmarks/reacquire.py`).
"""

from __future__ import annotations

import numpy as np

# Cosine of exemplar features that share nothing but the statistics of natural images (the clip's
# background: 0.2 - 0.35) sits below this; it maps to a score of 0.
UNRELATED_COSINE = 0.5


def core_vectors(kernels: np.ndarray) -> np.ndarray:
    """Exemplar features (N, C, k, k) -> unit vectors (N, C * (k - 2 * (k // 4))^2) of their central
    cells, where the object is (the exemplar crop holds it with half its size of context)."""
    side = kernels.shape[-1]
    margin = side // 4
    core = kernels[..., margin:side - margin, margin:side - margin].reshape(len(kernels), -1).astype(np.float64)
    norms = np.linalg.norm(core, axis=1, keepdims=True)
    return core / np.maximum(norms, 1e-12)


def appearance_scores(targets: np.ndarray, detections: np.ndarray) -> np.ndarray:
    """(T, C, k, k) targets' and (D, C, k, k) detections' exemplar features -> (T, D) scores in
    [0, 1]: 1 for the same features, 0 at or below `UNRELATED_COSINE`."""
    cosine = core_vectors(targets) @ core_vectors(detections).T
    return np.clip((cosine - UNRELATED_COSINE) / (1.0 - UNRELATED_COSINE), 0.0, 1.0)
