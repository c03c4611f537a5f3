import numpy as np
import pytest

from siamtrack.evaluation.metrics import SUCCESS_THRESHOLDS, center_error, iou, precision_at, success_auc, success_curve


@pytest.mark.parametrize("a, b, expected", [
    ((0, 0, 10, 10), (0, 0, 10, 10), 1.0),
    ((0, 0, 10, 10), (5, 0, 10, 10), 50 / 150),
    ((0, 0, 10, 10), (20, 20, 5, 5), 0.0),
    ((0, 0, 10, 10), (2, 2, 5, 5), 25 / 100),
    ((0, 0, 0, 10), (0, 0, 10, 10), 0.0),
])
def test_iou_table(a, b, expected):
    assert iou(np.array(a), np.array(b))[0] == pytest.approx(expected)


def test_iou_is_symmetric_and_bounded():
    rng = np.random.default_rng(0)
    a = np.column_stack([rng.uniform(0, 100, (500, 2)), rng.uniform(1, 50, (500, 2))])
    b = np.column_stack([rng.uniform(0, 100, (500, 2)), rng.uniform(1, 50, (500, 2))])
    np.testing.assert_allclose(iou(a, b), iou(b, a))
    assert (iou(a, b) >= 0).all() and (iou(a, b) <= 1).all()


def test_success_curve_definition():
    truth = np.array([[0, 0, 10, 10]] * 4, float)
    predicted = np.array([[0, 0, 10, 10], [5, 0, 10, 10], [20, 20, 5, 5], [0, 0, 10, 10]], float)
    curve = success_curve(predicted, truth)
    assert len(curve) == 21 and SUCCESS_THRESHOLDS[0] == 0 and SUCCESS_THRESHOLDS[-1] == 1
    assert curve[0] == 0.75  # IoU > 0: three frames
    assert curve[-1] == 0.0  # IoU > 1: none, even perfect ones
    assert success_auc(predicted, truth) == pytest.approx(curve.mean())


def test_absent_frames_are_skipped():
    truth = np.array([[0, 0, 10, 10], [np.nan] * 4, [0, 0, 10, 10]])
    predicted = np.array([[0, 0, 10, 10], [50, 50, 5, 5], [0, 0, 10, 10]], float)
    assert success_curve(predicted, truth)[10] == 1.0
    assert precision_at(predicted, truth) == 1.0


def test_center_error_and_precision():
    truth = np.array([[0, 0, 10, 10], [0, 0, 10, 10]], float)
    predicted = np.array([[3, 4, 10, 10], [30, 0, 10, 10]], float)
    np.testing.assert_allclose(center_error(predicted, truth), [5.0, 30.0])
    assert precision_at(predicted, truth, 20) == 0.5


def test_length_mismatch():
    with pytest.raises(ValueError, match="2 predicted boxes for 3"):
        success_auc(np.zeros((2, 4)), np.zeros((3, 4)))
