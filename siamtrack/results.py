"""What the tracker returns for each frame, and what a detector gives it (`Detections`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from siamtrack.errors import InputError

# A box is (x, y, w, h) in pixels: x, y are the 0-based column and row of the top-left pixel,
# w, h the size; the box covers columns x .. x + w - 1. Its center in pixel-center coordinates
# (pixel i has its center at i) is (x + (w - 1) / 2, y + (h - 1) / 2). Floats are allowed.
Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class TrackResult:
    """The tracker's answer for one frame.

    Attributes:
        box: Estimated target box (x, y, w, h), 0-based top-left, floats, in frame pixels.
        score: Confidence in [0, 1]; higher is surer. How far the response peak stands out
            from the rest of its map (peak minus mean), relative to the same measure for the
            exemplar matched in its own first frame; clipped to [0, 1]. Insensitive to a
            constant offset in the network's output. Roughly: > 0.5 a clear match, < 0.3 the
            tracker is probably on background.
        lost: True once the score has stayed below ``TrackerConfig.lost_threshold`` for
            ``lost_patience`` consecutive frames. With ``redetect`` on, the box is then held
            where the target was last seen until a match scoring at least
            ``redetect_threshold`` re-acquires it; with it off, the box is a guess.
        frame_index: 0 for the frame the target was added on (``init``/``add``), then 1, 2, ...
            for each ``update``.
        target_id: the target's id (1, 2, ... in the order targets were added to a
            [MultiTracker][siamtrack.MultiTracker]; 1 for the single target of a ``Tracker``).
    """

    box: Box
    score: float
    lost: bool
    frame_index: int
    target_id: int = 1

    def __post_init__(self) -> None:
        # Plain Python numbers, whatever the arithmetic produced (NumPy scalars print as
        # np.float64(...) under NumPy 2 and do not serialise as JSON).
        object.__setattr__(self, "box", tuple(float(v) for v in self.box))
        object.__setattr__(self, "score", float(self.score))
        object.__setattr__(self, "lost", bool(self.lost))

    @property
    def center(self) -> tuple[float, float]:
        """Center (cx, cy) of ``box`` in pixel-center coordinates."""
        x, y, w, h = self.box
        return x + (w - 1) / 2, y + (h - 1) / 2


@dataclass(frozen=True)
class Detections:
    """What a detector found in one frame.

    Attributes:
        boxes: (N, 4) float (x, y, w, h) in frame pixels, 0-based top-left, like every siamtrack box.
        scores: (N,) confidence in [0, 1].
        class_ids: (N,) int class index (0 for one-class detectors).
        names: class names by index, where the detector knows them.
    """

    boxes: np.ndarray
    scores: np.ndarray
    class_ids: np.ndarray
    names: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        boxes = np.asarray(self.boxes, dtype=np.float64).reshape(-1, 4)
        count = len(boxes)
        scores = np.asarray(self.scores, dtype=np.float64).reshape(-1)
        class_ids = np.asarray(self.class_ids, dtype=np.int64).reshape(-1)
        if len(scores) != count or len(class_ids) != count:
            raise InputError(f"detections need one score and class id per box: {count} boxes, {len(scores)} scores, "
                             f"{len(class_ids)} class ids")
        object.__setattr__(self, "boxes", boxes)
        object.__setattr__(self, "scores", scores)
        object.__setattr__(self, "class_ids", class_ids)

    @classmethod
    def empty(cls, names: Sequence[str] = ()) -> "Detections":
        return cls(np.zeros((0, 4)), np.zeros(0), np.zeros(0, np.int64), tuple(names))

    def __len__(self) -> int:
        return len(self.boxes)

    def select(self, keep: Any) -> "Detections":
        """The detections at ``keep`` (indices or a boolean mask), in that order."""
        return Detections(self.boxes[keep], self.scores[keep], self.class_ids[keep], self.names)

    def class_name(self, index: int) -> str:
        """The name of detection ``index``'s class (its id as text when the names are unknown)."""
        class_id = int(self.class_ids[index])
        return self.names[class_id] if 0 <= class_id < len(self.names) else str(class_id)
