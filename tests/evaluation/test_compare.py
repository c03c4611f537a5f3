"""The bootstrap over sequences that decides whether a new model replaces the default."""

import pytest

from siamtrack.evaluation.compare import bootstrap_difference


def test_a_consistent_gain_is_significant_and_a_mixed_one_is_not():
    baseline = {f"s{i}": 0.5 for i in range(30)}
    steady = {name: value + 0.05 for name, value in baseline.items()}
    gain = bootstrap_difference(steady, baseline)
    assert gain.mean == pytest.approx(0.05) and gain.low == pytest.approx(0.05) and gain.significant
    assert gain.sequences == 30 and gain.better == 30
    mixed = {name: value + (0.4 if i % 2 else -0.38) for i, (name, value) in enumerate(baseline.items())}
    swing = bootstrap_difference(mixed, baseline)
    assert swing.mean > 0 and swing.low < 0 < swing.high and not swing.significant


def test_only_shared_sequences_count_and_none_is_an_error():
    assert bootstrap_difference({"a": 0.6, "b": 0.2}, {"a": 0.5}).sequences == 1
    with pytest.raises(ValueError, match="no sequence in common"):
        bootstrap_difference({"a": 0.6}, {"b": 0.5})
