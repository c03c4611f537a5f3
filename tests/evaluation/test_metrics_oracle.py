"""Our metrics against the got10k toolkit's own functions, on random boxes."""

from types import SimpleNamespace

import numpy as np
import pytest

from siamtrack.evaluation.metrics import (
    average_overlap,
    center_error,
    iou,
    lost_flag_scores,
    normalized_center_error,
    normalized_precision,
    precision_curve,
    success_curve,
    success_rate,
)

got10k_metrics = pytest.importorskip("got10k.utils.metrics", reason="the got10k package is the oracle")
from got10k.experiments.got10k import ExperimentGOT10k  # noqa: E402
from got10k.experiments.otb import ExperimentOTB  # noqa: E402


def random_boxes(seed, count=400):
    rng = np.random.default_rng(seed)
    truth = np.column_stack([rng.uniform(0, 300, (count, 2)), rng.uniform(5, 120, (count, 2))])
    jitter = np.column_stack([rng.normal(0, 25, (count, 2)), rng.normal(0, 15, (count, 2))])
    predicted = truth + jitter
    predicted[:, 2:] = np.abs(predicted[:, 2:]) + 1
    predicted[::7] = np.column_stack([rng.uniform(0, 300, (len(predicted[::7]), 2)),
                                      rng.uniform(5, 120, (len(predicted[::7]), 2))])  # some misses
    return predicted, truth


@pytest.mark.parametrize("seed", range(5))
def test_iou_and_center_error_match_got10k(seed):
    predicted, truth = random_boxes(seed)
    np.testing.assert_allclose(iou(predicted, truth), got10k_metrics.rect_iou(predicted.copy(), truth.copy()),
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(center_error(predicted, truth), got10k_metrics.center_error(predicted, truth),
                               rtol=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_success_and_precision_curves_match_got10k_otb(seed):
    predicted, truth = random_boxes(seed)
    oracle = SimpleNamespace(nbins_iou=21, nbins_ce=51)
    ious = got10k_metrics.rect_iou(predicted.copy(), truth.copy())
    errors = got10k_metrics.center_error(predicted, truth)
    expected_success, expected_precision = ExperimentOTB._calc_curves(oracle, ious, errors)
    np.testing.assert_allclose(success_curve(predicted, truth), expected_success)
    np.testing.assert_allclose(precision_curve(predicted, truth), expected_precision)


@pytest.mark.parametrize("seed", range(5))
def test_ao_and_success_rate_match_got10k(seed):
    predicted, truth = random_boxes(seed)
    ious = got10k_metrics.rect_iou(predicted.copy(), truth.copy())
    ao, sr50, _, _ = ExperimentGOT10k._evaluate(None, ious, np.array([]))
    assert average_overlap(predicted, truth) == pytest.approx(ao, rel=1e-9)
    assert success_rate(predicted, truth, 0.5) == pytest.approx(sr50, rel=1e-12)
    assert success_rate(predicted, truth, 0.75) == pytest.approx(float(np.mean(ious > 0.75)), rel=1e-12)


def test_normalized_precision_definition():
    truth = np.array([[0, 0, 100, 50], [0, 0, 100, 50]], float)
    predicted = np.array([[10, 5, 100, 50], [30, 0, 100, 50]], float)  # offsets (0.1, 0.1) and (0.3, 0)
    np.testing.assert_allclose(normalized_center_error(predicted, truth), [np.hypot(0.1, 0.1), 0.3])
    assert normalized_precision(predicted, truth) == 0.5


def test_lost_flag_scores():
    absent = np.array([0, 0, 1, 1, 1, 0], bool)
    lost = np.array([0, 1, 1, 1, 0, 0], bool)
    scores = lost_flag_scores(lost, absent)
    assert scores == {"precision": 2 / 3, "recall": 2 / 3, "false_lost_rate": 1 / 3}
    assert np.isnan(lost_flag_scores(np.zeros(3, bool), np.zeros(3, bool))["precision"])
