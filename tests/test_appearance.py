import numpy as np
import pytest

from siamtrack.tracking.appearance import UNRELATED_COSINE, appearance_scores, core_vectors


def test_only_the_central_cells_count():
    rng = np.random.default_rng(0)
    target = rng.random((1, 4, 8, 8))
    other_context = target.copy()
    other_context[..., :2, :] = rng.random((1, 4, 2, 8))  # the context around the object changed
    other_object = target.copy()
    other_object[..., 2:6, 2:6] = rng.random((1, 4, 4, 4))
    scores = appearance_scores(target, np.concatenate([target, other_context, other_object]))
    assert scores.shape == (1, 3)
    assert np.allclose(scores[0, :2], 1.0)
    assert scores[0, 2] < 1.0
    assert core_vectors(target).shape == (1, 4 * 4 * 4)


def test_cosine_is_rescaled_from_unrelated_to_identical():
    first = np.zeros((1, 1, 4, 4))
    first[0, 0, 1, 1] = 1.0
    second = np.zeros((1, 1, 4, 4))
    second[0, 0, 1, 1], second[0, 0, 2, 2] = 1.0, 1.0  # cosine 1 / sqrt(2) ~ 0.707
    assert appearance_scores(first, second)[0, 0] == pytest.approx((2 ** -0.5 - UNRELATED_COSINE) / 0.5)
    assert appearance_scores(first, -first)[0, 0] == 0.0  # opposite: clipped at 0
    assert appearance_scores(first, np.zeros_like(first))[0, 0] == 0.0  # no features: no match, no NaN
