import numpy as np
import pytest

from siamtrack.errors import InputError
from siamtrack.tracking.inputs import as_bgr, validate_box


@pytest.mark.parametrize("shape", [(20, 30), (20, 30, 1), (20, 30, 3), (20, 30, 4)])
def test_accepted_frames_become_bgr(shape):
    frame = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    out = as_bgr(frame)
    assert out.shape == (20, 30, 3) and out.dtype == np.uint8 and out.flags["C_CONTIGUOUS"]
    if len(shape) == 2 or shape[2] == 1:
        assert (out == frame.reshape(20, 30, 1)).all()
    else:
        assert (out == frame[:, :, :3]).all()


def test_non_contiguous_frame_is_accepted():
    frame = np.zeros((20, 30, 3), np.uint8)[:, ::2]
    assert as_bgr(frame).flags["C_CONTIGUOUS"]


@pytest.mark.parametrize("frame, message", [
    ("not an image", "numpy array"),
    (np.zeros((10, 10, 3), np.float32), "uint8"),
    (np.zeros((10, 10, 2), np.uint8), "shape"),
    (np.zeros((10,), np.uint8), "shape"),
    (np.zeros((0, 10, 3), np.uint8), "empty"),
])
def test_rejected_frames(frame, message):
    with pytest.raises(InputError, match=message):
        as_bgr(frame)


@pytest.mark.parametrize("box", [(10, 10, 5, 5), (-3, -3, 6, 6), (95, 45, 20, 20), (0.5, 1.25, 2.5, 3.75),
                                 (-50, -20, 200, 100)])
def test_boxes_overlapping_the_frame_are_accepted(box):
    assert validate_box(box, (50, 100, 3)) == tuple(float(v) for v in box)


@pytest.mark.parametrize("box, message", [
    ((10, 10, 0, 5), "positive"),
    ((10, 10, 5, -1), "positive"),
    ((100, 10, 5, 5), "outside"),
    ((-6, 10, 5, 5), "outside"),
    ((10, 50, 5, 5), "outside"),
    ((10, 10, 5), "four numbers"),
    (("a", 1, 2, 3), "four numbers"),
    (None, "four numbers"),
    ((np.nan, 1, 2, 3), "finite"),
    ((1, 1, np.inf, 3), "finite"),
    ((0, 0, 1e200, 1e200), "more than 2 times"),
    ((0, 0, 201, 10), "more than 2 times"),
    ((10, 10, 0.001, 5), "at least 1 pixel"),
])
def test_rejected_boxes(box, message):
    with pytest.raises(InputError, match=message):
        validate_box(box, (50, 100, 3))
