"""One-pass evaluation (OPE): initialise on the first annotated frame, then track to the end."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Protocol

import cv2
import numpy as np

from siamtrack.datasets.base import LabeledSequence
from siamtrack.errors import InputError
from siamtrack.evaluation.metrics import precision_at, success_auc


class SingleTargetTracker(Protocol):
    """What OPE needs: ``init(frame, box)`` and ``update(frame)`` returning a box or a result."""

    def init(self, frame: np.ndarray, box: tuple[float, float, float, float]) -> object: ...

    def update(self, frame: np.ndarray) -> object: ...


@dataclass(frozen=True)
class SequenceRun:
    """A tracker's output on one sequence.

    Attributes:
        name: sequence name.
        boxes: (N, 4) predicted 0-based boxes; the init frame holds the given box, frames
            before it NaN.
        truth: (N, 4) ground truth.
        seconds: per-update wall time (tracker only; decoding excluded).
    """

    name: str
    boxes: np.ndarray
    truth: np.ndarray
    seconds: np.ndarray

    @property
    def auc(self) -> float:
        return success_auc(self._scored_boxes(), self.truth)

    @property
    def precision(self) -> float:
        return precision_at(self._scored_boxes(), self.truth)

    @property
    def fps(self) -> float:
        return float(len(self.seconds) / self.seconds.sum()) if self.seconds.sum() > 0 else 0.0

    def _scored_boxes(self) -> np.ndarray:
        # A frame without a prediction (before init) counts as a miss, not as a crash.
        return np.nan_to_num(self.boxes, nan=0.0)


def _box_of(result: object) -> np.ndarray:
    box = getattr(result, "box", result)
    return np.asarray(box, dtype=np.float64).reshape(4)


def read_frames(sequence: LabeledSequence) -> list[np.ndarray]:
    """Decode every frame of ``sequence`` (BGR uint8)."""
    frames = []
    for path in sequence.frames:
        frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if frame is None:
            raise InputError(f"cannot read image {path}")
        frames.append(frame)
    return frames


def run_sequence(tracker: SingleTargetTracker, sequence: LabeledSequence,
                 frames: list[np.ndarray] | None = None,
                 max_frames: int | None = None) -> SequenceRun:
    """Run ``tracker`` one pass over ``sequence``.

    Args:
        tracker: anything with ``init`` / ``update`` (see `SingleTargetTracker`).
        sequence: the annotated sequence.
        frames: already decoded frames (so several trackers can share one decode); None decodes.
        max_frames: stop after this many frames (None: all).
    """
    frames = read_frames(sequence) if frames is None else frames
    count = len(frames) if max_frames is None else min(len(frames), max_frames)
    truth = sequence.boxes[:count]
    present = np.flatnonzero(np.isfinite(truth).all(axis=1))
    if len(present) == 0:
        raise InputError(f"sequence {sequence.name} has no annotated frame to start from")
    start = int(present[0])
    boxes = np.full((count, 4), np.nan)
    boxes[start] = truth[start]
    tracker.init(frames[start], tuple(truth[start]))
    seconds = []
    for index in range(start + 1, count):
        began = time.perf_counter()
        result = tracker.update(frames[index])
        seconds.append(time.perf_counter() - began)
        boxes[index] = _box_of(result)
    return SequenceRun(sequence.name, boxes, truth, np.asarray(seconds))


def mean_auc(runs: list[SequenceRun]) -> float:
    """Mean over sequences of the per-sequence success AUC (the usual OTB summary)."""
    return float(np.mean([run.auc for run in runs])) if runs else float("nan")


TrackerFactory = Callable[[], SingleTargetTracker]
