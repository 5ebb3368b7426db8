"""Statistics of paired, interleaved timings.

A round holds samples of the baseline and the candidate taken alternately in one
worker. Its ratio is ``median(baseline) / median(candidate)``; drift slower than a round
cancels out. The speedup is the median of the round ratios, and its 95% CI is a
percentile bootstrap over rounds with a fixed seed (so a result is reproducible from
its raw samples).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

BOOTSTRAP_RESAMPLES = 2000


def round_ratios(
    baseline: Sequence[Sequence[float]], candidate: Sequence[Sequence[float]]
) -> list[float]:
    if len(baseline) != len(candidate) or not baseline:
        raise ValueError("need the same, non-zero number of baseline and candidate rounds")
    return [float(np.median(b) / np.median(c)) for b, c in zip(baseline, candidate, strict=True)]


def speedup_with_ci(ratios: Sequence[float], seed: int = 0) -> tuple[float, tuple[float, float]]:
    """Median of ``ratios`` and its 95% bootstrap confidence interval."""
    values = np.asarray(ratios, dtype=float)
    estimate = float(np.median(values))
    if len(values) == 1:
        return estimate, (estimate, estimate)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(values), size=(BOOTSTRAP_RESAMPLES, len(values)))
    medians = np.median(values[picks], axis=1)
    lo, hi = np.percentile(medians, [2.5, 97.5])
    return estimate, (float(lo), float(hi))


def iqr(values: Sequence[float]) -> float:
    q1, q3 = np.percentile(np.asarray(values, dtype=float), [25, 75])
    return float(q3 - q1)


def flat_median(rounds: Sequence[Sequence[float]]) -> float:
    return float(np.median([x for r in rounds for x in r]))
