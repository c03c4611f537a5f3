"""roboflow's supervision and siamtrack: results out as ``supervision.Detections``, detections in.

``pip install 'siamtrack[supervision]'``. With it, supervision's annotators, ``PolygonZone``,
``LineZone`` and video tools work on siamtrack's output unchanged::

    import supervision as sv
    from siamtrack.detection.interop import to_supervision

    results = tracker.update(frame)                       # {target id: TrackResult}
    detections = to_supervision(results, tracker)         # xyxy, confidence, tracker_id, class_id
    crossed_in, crossed_out = line_zone.trigger(detections)

and a detector whose output is already ``sv.Detections`` (an Ultralytics or Roboflow model, say)
starts targets through [from_supervision][siamtrack.detection.interop.from_supervision] and
[add_detections][siamtrack.MultiTracker.add_detections].
Lost targets are left out by default: their box is where they were last seen, not where they are,
so a zone or line counter should not count it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Optional

import numpy as np

from siamtrack.detection.detectors import Detections
from siamtrack.errors import ConfigError
from siamtrack.results import TrackResult

if TYPE_CHECKING:
    from siamtrack.tracking.tracker import MultiTracker


def _supervision() -> Any:
    try:
        import supervision
    except ImportError:
        raise ConfigError("this needs roboflow's supervision: pip install 'siamtrack[supervision]'") from None
    return supervision


def to_supervision(results: Mapping[int, TrackResult], tracker: Optional["MultiTracker"] = None,
                   include_lost: bool = False) -> Any:
    """One frame's results as ``supervision.Detections``.

    Args:
        results: ``{target id: TrackResult}`` as [update][siamtrack.MultiTracker.update] returns.
        tracker: the tracker, to fill ``class_id`` from the detections the targets started on
            (-1 for a target started from a box, or without a tracker).
        include_lost: keep lost targets too (their boxes are where they were last seen).

    Returns:
        ``sv.Detections`` with ``xyxy`` (corners, pixels), ``confidence``, ``tracker_id`` (the
        target ids) and ``class_id``.
    """
    sv = _supervision()
    chosen = [result for result in results.values() if include_lost or not result.lost]
    boxes = np.array([result.box for result in chosen], dtype=np.float64).reshape(-1, 4)
    xyxy = np.concatenate([boxes[:, :2], boxes[:, :2] + boxes[:, 2:]], axis=1)
    classes = [tracker.target_class(result.target_id) if tracker is not None else None for result in chosen]
    return sv.Detections(xyxy=xyxy, confidence=np.array([result.score for result in chosen], dtype=np.float64),
                         class_id=np.array([-1 if c is None else c for c in classes], dtype=np.int64),
                         tracker_id=np.array([result.target_id for result in chosen], dtype=np.int64))


def from_supervision(detections: Any, names: tuple[str, ...] = ()) -> Detections:
    """``supervision.Detections`` -> siamtrack's [Detections][siamtrack.Detections] (for
    [add_detections][siamtrack.MultiTracker.add_detections] and [reacquire][siamtrack.MultiTracker.reacquire]).
    Missing confidences count as 1, missing class ids as 0."""
    xyxy = np.asarray(detections.xyxy, dtype=np.float64).reshape(-1, 4)
    count = len(xyxy)
    confidence = detections.confidence if detections.confidence is not None else np.ones(count)
    class_id = detections.class_id if detections.class_id is not None else np.zeros(count, np.int64)
    boxes = np.concatenate([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]], axis=1)
    return Detections(boxes, np.asarray(confidence, dtype=np.float64), np.asarray(class_id, dtype=np.int64), names)
