"""Statistics of paired, interleaved timings.

A round holds samples of the baseline and the candidate taken alternately in one
worker. Its ratio is ``median(baseline) / median(candidate)``; drift slower than a round
cancels out. The speedup is the median of the round ratios, and its 95% CI is a
percentile bootstrap over rounds with a fixed seed (so a result is reproducible from
its raw samples).

Rounds measured in several processes form groups. The same compiled code can land in
different layout modes in different processes, a spread the rounds of one process do
not show, so a grouped CI spans every group's own CI as well as the pooled one.
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


def speedup_with_ci(
    ratios: Sequence[float], seed: int = 0, groups: Sequence[int] = ()
) -> tuple[float, tuple[float, float]]:
    """Median of ``ratios`` and its 95% bootstrap confidence interval.

    ``groups`` splits ``ratios``, in order, into runs of that many rounds (one per
    process; empty or a single group means one process). With two or more groups the
    interval is the hull of each group's interval and the pooled one.
    """
    if len(groups) > 1:
        if sum(groups) != len(ratios) or min(groups) < 1:
            raise ValueError(f"groups {list(groups)} do not split {len(ratios)} rounds")
        estimate, (lo, hi) = speedup_with_ci(ratios, seed)
        start = 0
        for size in groups:
            _, (g_lo, g_hi) = speedup_with_ci(ratios[start : start + size], seed)
            lo, hi = min(lo, g_lo), max(hi, g_hi)
            start += size
        return estimate, (lo, hi)
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
