"""The tracker follows a textured object moving and scaling over clutter (generated here)."""

import numpy as np
import pytest

from siamtrack.app.synthetic import ClipSpec, make_clip
from siamtrack.evaluation.metrics import iou


def test_clip_is_deterministic():
    a_frames, a_boxes = make_clip(ClipSpec(frames=5, seed=3))
    b_frames, b_boxes = make_clip(ClipSpec(frames=5, seed=3))
    assert all(np.array_equal(a, b) for a, b in zip(a_frames, b_frames))
    assert np.array_equal(a_boxes, b_boxes)
    assert not np.array_equal(make_clip(ClipSpec(frames=5, seed=4))[1], a_boxes)


def test_clip_boxes_follow_the_object():
    spec = ClipSpec(frames=30, noise_sigma=0.0, seed=1)
    frames, boxes = make_clip(spec)
    assert boxes[:, 2].max() / boxes[:, 2].min() > 1.2  # it changes scale
    assert np.ptp(boxes[:, 0]) > 100 and np.ptp(boxes[:, 1]) > 60  # and moves
    assert ((boxes[:, 0] >= -1) & (boxes[:, 0] + boxes[:, 2] <= spec.width + 1)).all()


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tracker_keeps_iou_above_half_on_every_frame(reference_tracker_factory, seed):
    frames, boxes = make_clip(ClipSpec(frames=60, seed=seed))
    tracker = reference_tracker_factory()
    tracker.init(frames[0], tuple(boxes[0]))
    overlaps = [iou(tracker.update(frame).box, truth)[0] for frame, truth in zip(frames[1:], boxes[1:])]
    assert min(overlaps) > 0.5, f"worst IoU {min(overlaps):.3f} at frame {int(np.argmin(overlaps)) + 1}"
