"""Is one tracker better than another, beyond the luck of which sequences were tested?

Per-sequence AUCs swing by 0.4 either way between two models on the same sequences, so a mean
difference over 17 or 30 sequences says little on its own. `bootstrap_difference` resamples
the sequences (with replacement) many times and reports the mean difference with a percentile
interval: a new default model is taken only when the interval's lower end is above 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np


@dataclass(frozen=True)
class Difference:
    """Mean per-sequence difference (candidate - baseline) and its bootstrap interval.

    Attributes:
        mean: mean over the sequences both were run on.
        low, high: the interval's ends (``level``, e.g. 0.95, of the resampled means lie between).
        sequences: how many sequences were compared.
        better: sequences where the candidate scored higher.
    """

    mean: float
    low: float
    high: float
    sequences: int
    better: int

    @property
    def significant(self) -> bool:
        """Whether the whole interval is above 0."""
        return self.low > 0


def bootstrap_difference(candidate: Mapping[str, float], baseline: Mapping[str, float], resamples: int = 10000,
                         level: float = 0.95, seed: int = 0) -> Difference:
    """Bootstrap the mean of ``candidate[s] - baseline[s]`` over the sequences ``s`` both have.

    Raises:
        ValueError: no sequence in common, or ``level`` outside (0, 1).
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    shared = sorted(set(candidate) & set(baseline))
    if not shared:
        raise ValueError("the two trackers have no sequence in common")
    differences = np.array([candidate[name] - baseline[name] for name in shared])
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(differences), size=(resamples, len(differences)))
    means = differences[picks].mean(axis=1)
    tail = (1 - level) / 2
    return Difference(float(differences.mean()), float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail)),
                      len(shared), int((differences > 0).sum()))
