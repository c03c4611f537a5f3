from pathlib import Path

import numpy as np
import pytest

from siamtrack.datasets import LabeledSequence
from siamtrack.errors import ConfigError
from siamtrack.training.pairs import PairRules, sample_pair, usable_frames


def sequence(boxes, absent=None):
    boxes = np.asarray(boxes, float)
    return LabeledSequence("s", tuple(Path(f"{i}.jpg") for i in range(len(boxes))), boxes, absent)


def test_filters():
    seq = sequence([[0, 0, 20, 20], [0, 0, 5, 20], [0, 0, 100, 20], [np.nan] * 4, [0, 0, 20, 30], [0, 0, 30, 30]],
                   absent=[False, False, False, False, False, True])
    # too narrow, too elongated (5:1), no box, absent
    assert usable_frames(seq, PairRules(min_box_side=8, max_aspect=4)).tolist() == [0, 4]


@pytest.mark.parametrize("gap", [0, 1, 5, 40])
def test_pairs_respect_the_gap_and_use_only_usable_frames(gap):
    rules = PairRules(max_frame_gap=gap)
    usable = np.array([0, 2, 3, 7, 8, 20, 50, 51])
    rng = np.random.default_rng(0)
    pairs = [sample_pair(usable, rules, rng) for _ in range(2000)]
    assert all(abs(z - x) <= gap and z in usable and x in usable for z, x in pairs)
    if gap >= 1:
        assert any(z != x for z, x in pairs)
    exemplars = {z for z, _ in pairs}
    assert exemplars == set(usable.tolist())  # every usable frame gets drawn


def test_sampling_is_deterministic_per_seed():
    usable = np.arange(100)
    first = [sample_pair(usable, PairRules(), np.random.default_rng(3)) for _ in range(5)]
    second = [sample_pair(usable, PairRules(), np.random.default_rng(3)) for _ in range(5)]
    assert first == second


def test_no_usable_frame_and_bad_rules():
    with pytest.raises(ValueError, match="no usable frame"):
        sample_pair(np.array([], int), PairRules(), np.random.default_rng(0))
    with pytest.raises(ConfigError):
        PairRules(max_aspect=0.5)
