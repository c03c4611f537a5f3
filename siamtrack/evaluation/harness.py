"""Running several trackers over annotated sequences, side by side and fairly.

Each sequence is decoded once and every tracker runs on the same in-memory frames, so speed
measures tracking alone. A tracker that raises, or returns something that is not a box, on one
sequence gets that sequence recorded as a failure (frames without a box count as misses) and
the run goes on.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional, Sequence

import numpy as np

from siamtrack.datasets.base import LabeledSequence
from siamtrack.evaluation.metrics import (
    average_overlap,
    lost_flag_scores,
    normalized_precision,
    normalized_precision_curve,
    precision_at,
    precision_curve,
    success_auc,
    success_curve,
    success_rate,
)
from siamtrack.evaluation.ope import SingleTargetTracker, read_frames

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrackerEntry:
    """A tracker to evaluate: a display name and a function that builds a fresh instance."""

    name: str
    build: Callable[[], SingleTargetTracker]
    description: str = ""  # what runs it (backend, device, model), for the log


@dataclass
class SequenceOutcome:
    """One tracker's run over one sequence.

    Attributes:
        tracker, sequence: names.
        boxes: (N, 4) predicted boxes; NaN where the tracker gave none (before init, after a
            failure).
        lost: (N,) the tracker's lost flag (False where it has none).
        seconds: per-update wall times.
        truth: (N, 4) ground truth with absent frames as NaN.
        absent: (N,) target-absent mask.
        error: why the run stopped early, or None.
    """

    tracker: str
    sequence: str
    boxes: np.ndarray
    lost: np.ndarray
    seconds: np.ndarray
    truth: np.ndarray
    absent: np.ndarray
    error: Optional[str] = None
    metrics: dict = field(default_factory=dict)

    def score(self) -> None:
        """Fill ``metrics``; frames without a prediction count as complete misses."""
        predicted = np.nan_to_num(self.boxes, nan=-1e6)  # far away, zero overlap
        latencies = self.seconds * 1000.0
        self.metrics = {
            "auc": success_auc(predicted, self.truth),
            "precision20": precision_at(predicted, self.truth),
            "normalized_precision": normalized_precision(predicted, self.truth),
            "ao": average_overlap(predicted, self.truth),
            "sr50": success_rate(predicted, self.truth, 0.5),
            "sr75": success_rate(predicted, self.truth, 0.75),
            "fps": float(len(latencies) / (latencies.sum() / 1000.0)) if latencies.sum() > 0 else float("nan"),
            "latency_ms_p50": _percentile(latencies, 50),
            "latency_ms_p90": _percentile(latencies, 90),
            "latency_ms_p99": _percentile(latencies, 99),
            "frames": int(len(self.truth)),
            "absent_frames": int(self.absent.sum()),
        }
        if self.absent.any():
            self.metrics.update({f"lost_{k}": v for k, v in lost_flag_scores(self.lost, self.absent).items()})

    def curves(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        predicted = np.nan_to_num(self.boxes, nan=-1e6)
        return (success_curve(predicted, self.truth), precision_curve(predicted, self.truth),
                normalized_precision_curve(predicted, self.truth))


def _percentile(values: np.ndarray, q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else float("nan")


def _as_box(result: object) -> np.ndarray:
    """The box of a TrackResult or a plain 4-sequence; ValueError for anything else."""
    box = np.asarray(getattr(result, "box", result), dtype=np.float64)
    if box.shape != (4,) or not np.isfinite(box).all() or box[2] <= 0 or box[3] <= 0:
        raise ValueError(f"returned {result!r}, which is not a box (x, y, w > 0, h > 0)")
    return box


def run_one(entry: TrackerEntry, sequence: LabeledSequence, frames: Sequence[np.ndarray]) -> SequenceOutcome:
    """One-pass evaluation of one tracker on one sequence; never raises for tracker faults."""
    count = len(frames)
    truth = sequence.present_boxes[:count]
    absent = sequence.absent[:count]
    boxes = np.full((count, 4), np.nan)
    lost = np.zeros(count, bool)
    seconds: list[float] = []
    error = None
    present = np.flatnonzero(~absent)
    if len(present) == 0:
        error = "no annotated frame to start from"
    else:
        start = int(present[0])
        index = start
        try:
            tracker = entry.build()
            tracker.init(frames[start], tuple(truth[start]))
            boxes[start] = truth[start]
            for index in range(start + 1, count):
                began = time.perf_counter()
                result = tracker.update(frames[index])
                seconds.append(time.perf_counter() - began)
                boxes[index] = _as_box(result)
                lost[index] = bool(getattr(result, "lost", False))
        except Exception as exc:  # recorded as this sequence's failure; the run goes on
            error = f"frame {index}: {type(exc).__name__}: {exc}"
            LOG.warning("%s failed on %s at %s", entry.name, sequence.name, error)
    outcome = SequenceOutcome(entry.name, sequence.name, boxes, lost, np.asarray(seconds), truth, absent, error)
    outcome.score()
    return outcome


def evaluate(entries: Sequence[TrackerEntry], sequences: Iterable[LabeledSequence], max_frames: Optional[int] = None,
             on_outcome: Optional[Callable[[SequenceOutcome], None]] = None) -> list[SequenceOutcome]:
    """Run every tracker over every sequence, decoding each sequence once."""
    outcomes = []
    for sequence in sequences:
        frames = read_frames(sequence)
        if max_frames is not None:
            frames = frames[:max_frames]
        for entry in entries:
            outcome = run_one(entry, sequence, frames)
            outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome)
    return outcomes


def summarise(outcomes: Sequence[SequenceOutcome]) -> dict[str, dict]:
    """Per tracker: means over sequences (curves too) and pooled latency percentiles."""
    summary: dict[str, dict] = {}
    for name in dict.fromkeys(o.tracker for o in outcomes):
        mine = [o for o in outcomes if o.tracker == name]
        curves = [o.curves() for o in mine]
        latencies = np.concatenate([o.seconds for o in mine]) * 1000.0
        row: dict[str, Any] = {key: float(np.mean([o.metrics[key] for o in mine]))
               for key in ("auc", "precision20", "normalized_precision", "ao", "sr50", "sr75")}
        row.update({
            "fps": float(len(latencies) / (latencies.sum() / 1000.0)) if latencies.sum() > 0 else float("nan"),
            "latency_ms_p50": _percentile(latencies, 50),
            "latency_ms_p90": _percentile(latencies, 90),
            "latency_ms_p99": _percentile(latencies, 99),
            "sequences": len(mine),
            "failures": [f"{o.sequence}: {o.error}" for o in mine if o.error],
            "success_curve": np.mean([c[0] for c in curves], axis=0).tolist(),
            "precision_curve": np.mean([c[1] for c in curves], axis=0).tolist(),
            "normalized_precision_curve": np.mean([c[2] for c in curves], axis=0).tolist(),
        })
        flagged = [o for o in mine if o.absent.any()]
        if flagged:
            pooled = lost_flag_scores(np.concatenate([o.lost for o in flagged]),
                                      np.concatenate([o.absent for o in flagged]))
            row.update({f"lost_{k}": v for k, v in pooled.items()})
        summary[name] = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
    return summary
