"""supervision interop (siamtrack.detection.interop) and the line-counter demo."""

import numpy as np
import pytest

from siamtrack import MultiTracker, TrackResult
from siamtrack.detection.detectors import Detections
from siamtrack.detection.interop import from_supervision, to_supervision

sv = pytest.importorskip("supervision", reason="the interop needs supervision (pip install 'siamtrack[supervision]')")


def test_results_become_supervision_detections_without_the_lost_ones():
    results = {3: TrackResult((10, 20, 30, 40), 0.8, False, 5, 3), 4: TrackResult((50, 60, 10, 10), 0.1, True, 5, 4)}
    detections = to_supervision(results)
    assert isinstance(detections, sv.Detections) and len(detections) == 1
    assert detections.xyxy.tolist() == [[10, 20, 40, 60]] and detections.tracker_id.tolist() == [3]
    assert detections.confidence.tolist() == [0.8] and detections.class_id.tolist() == [-1]
    assert to_supervision(results, include_lost=True).tracker_id.tolist() == [3, 4]
    assert len(to_supervision({})) == 0


def test_round_trip_keeps_boxes_scores_and_classes():
    ours = Detections(np.array([[10, 20, 30, 40], [1, 2, 3, 4]], float), np.array([0.9, 0.4]), np.array([2, 0]))
    theirs = sv.Detections(xyxy=np.concatenate([ours.boxes[:, :2], ours.boxes[:, :2] + ours.boxes[:, 2:]], axis=1),
                           confidence=ours.scores, class_id=ours.class_ids)
    back = from_supervision(theirs, names=("a", "b", "c"))
    assert np.allclose(back.boxes, ours.boxes) and back.scores.tolist() == [0.9, 0.4]
    assert back.class_name(0) == "c"
    bare = from_supervision(sv.Detections(xyxy=np.array([[0, 0, 5, 5]], float)))
    assert bare.scores.tolist() == [1.0] and bare.class_ids.tolist() == [0]


def test_targets_started_from_supervision_detections_report_their_class():
    frame = np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    tracker = MultiTracker(device="cpu")
    tracker.add_detections(frame, from_supervision(sv.Detections(xyxy=np.array([[40, 30, 80, 70]], float),
                                                                 class_id=np.array([7]))))
    detections = to_supervision(tracker.update(frame), tracker)
    assert detections.class_id.tolist() == [7] and detections.tracker_id.tolist() == [1]


def test_line_counter_demo_counts_every_crossing(tmp_path):
    from tests.test_demos import load

    counts = load("line_counter").main(["--output", str(tmp_path / "counted.mp4")])
    assert counts == {"in": 3, "out": 0} and (tmp_path / "counted.mp4").stat().st_size > 0
