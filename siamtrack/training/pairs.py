"""Choosing exemplar / search frame pairs from annotated sequences, as SiamFC trains.

A pair is two frames of the same sequence where the target is visible, at most
``max_frame_gap`` frames apart, whose boxes pass the size and aspect filters (tiny or extremely
elongated boxes teach the network little and crop badly).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from siamtrack.datasets.base import LabeledSequence
from siamtrack.errors import ConfigError


@dataclass(frozen=True)
class PairRules:
    """Which frames may form training pairs.

    Attributes:
        max_frame_gap: largest distance in frames between exemplar and search frame. Larger gaps
            teach appearance change; SiamFC uses 100.
        min_box_side: smallest box width and height in pixels.
        max_aspect: largest ratio of the long to the short box side.
    """

    max_frame_gap: int = 100
    min_box_side: float = 8.0
    max_aspect: float = 4.0

    def __post_init__(self) -> None:
        if self.max_frame_gap < 0 or self.min_box_side <= 0 or self.max_aspect < 1:
            raise ConfigError("need max_frame_gap >= 0, min_box_side > 0 and max_aspect >= 1")


def usable_frames(sequence: LabeledSequence, rules: PairRules) -> np.ndarray:
    """Indices of frames whose target is present and passes the box filters."""
    boxes = sequence.boxes
    widths, heights = boxes[:, 2], boxes[:, 3]
    with np.errstate(invalid="ignore", divide="ignore"):
        aspect = np.maximum(widths, heights) / np.minimum(widths, heights)
        ok = (~sequence.absent & np.isfinite(boxes).all(axis=1) & (widths >= rules.min_box_side)
              & (heights >= rules.min_box_side) & (aspect <= rules.max_aspect))
    return np.flatnonzero(ok)


def sample_pair(usable: np.ndarray, rules: PairRules, rng: np.random.Generator) -> tuple[int, int]:
    """Draw (exemplar frame, search frame) among ``usable`` frames, at most max_frame_gap apart.

    The exemplar is drawn uniformly; the search frame uniformly among the usable frames within
    the gap (which includes the exemplar frame itself, as SiamFC does).

    Raises:
        ValueError: there is no usable frame.
    """
    if len(usable) == 0:
        raise ValueError("no usable frame to sample from")
    exemplar = int(usable[rng.integers(len(usable))])
    near = usable[np.abs(usable - exemplar) <= rules.max_frame_gap]
    return exemplar, int(near[rng.integers(len(near))])
