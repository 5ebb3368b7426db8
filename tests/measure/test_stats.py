"""Timing statistics: round ratios, the median speedup and its bootstrap CI."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autotune.measure._stats import flat_median, iqr, round_ratios, speedup_with_ci
from autotune.records import TimingSettings

positive = st.floats(1e-6, 1e3, allow_nan=False, allow_infinity=False)
ratio_lists = st.lists(st.floats(0.05, 20.0, allow_nan=False), min_size=1, max_size=30)


def test_round_ratio_is_baseline_median_over_candidate_median() -> None:
    baseline = [[2.0, 4.0, 3.0], [10.0, 10.0, 1.0]]
    candidate = [[1.0, 1.5, 100.0], [5.0, 4.0, 6.0]]
    assert round_ratios(baseline, candidate) == [3.0 / 1.5, 10.0 / 5.0]


@pytest.mark.parametrize(
    ("baseline", "candidate"), [([], []), ([[1.0]], []), ([[1.0]], [[1.0], [2.0]])]
)
def test_round_ratios_need_matching_non_empty_rounds(
    baseline: list[list[float]], candidate: list[list[float]]
) -> None:
    with pytest.raises(ValueError, match="same, non-zero number"):
        round_ratios(baseline, candidate)


@given(
    rounds=st.lists(st.lists(positive, min_size=1, max_size=5), min_size=1, max_size=8),
    factor=st.floats(0.1, 10.0),
)
def test_scaling_the_candidate_scales_every_ratio(rounds: list[list[float]], factor: float) -> None:
    ratios = round_ratios(rounds, [[t * factor for t in r] for r in rounds])
    assert ratios == pytest.approx([1 / factor] * len(rounds), rel=1e-9)


@given(ratios=ratio_lists, seed=st.integers(0, 2**32 - 1))
def test_speedup_is_the_median_and_the_ci_contains_it(ratios: list[float], seed: int) -> None:
    estimate, (lo, hi) = speedup_with_ci(ratios, seed)
    assert estimate == pytest.approx(float(np.median(ratios)))
    assert min(ratios) <= lo <= estimate <= hi <= max(ratios)


@given(ratios=ratio_lists, seed=st.integers(0, 2**32 - 1))
def test_speedup_is_reproducible_from_its_ratios(ratios: list[float], seed: int) -> None:
    assert speedup_with_ci(ratios, seed) == speedup_with_ci(list(ratios), seed)


def test_default_seed_is_fixed() -> None:
    ratios = [1.0, 1.2, 0.9, 1.1, 1.05]
    assert speedup_with_ci(ratios) == speedup_with_ci(ratios, seed=0)


def test_single_round_gives_a_degenerate_interval() -> None:
    assert speedup_with_ci([1.25]) == (1.25, (1.25, 1.25))


def test_identical_rounds_give_a_point_interval() -> None:
    estimate, (lo, hi) = speedup_with_ci([1.1] * 6)
    assert estimate == lo == hi == pytest.approx(1.1)


def test_ci_narrows_with_more_rounds(global_random_seed: int) -> None:
    rng = np.random.default_rng(global_random_seed)
    widths = []
    for rounds in (5, 20, 80):
        # The same spread of +-2% around 1.2 at every round count, in a random order.
        ratios = rng.permutation(1.2 * (1 + 0.02 * np.linspace(-1, 1, rounds)))
        estimate, (lo, hi) = speedup_with_ci(ratios.tolist(), seed=global_random_seed)
        assert estimate == pytest.approx(1.2)
        assert lo <= 1.2 <= hi
        widths.append(hi - lo)
    assert widths[0] > widths[1] > widths[2]
    assert widths[2] < widths[0] / 2


def test_ci_widens_with_noisier_rounds(global_random_seed: int) -> None:
    rng = np.random.default_rng(global_random_seed)
    noise = rng.standard_normal(12)
    quiet = speedup_with_ci((1.0 + 0.01 * noise).tolist(), seed=1)[1]
    noisy = speedup_with_ci((1.0 + 0.1 * noise).tolist(), seed=1)[1]
    assert noisy[1] - noisy[0] > 5 * (quiet[1] - quiet[0])


def _aa_coverage(rounds: int, repetitions: int, seed: int) -> float:
    """How often the CI of a baseline timed against itself contains 1.0."""
    rng = np.random.default_rng(seed)
    samples = TimingSettings().samples_per_round
    hits = 0
    for _ in range(repetitions):
        # Same distribution on both sides: multiplicative noise of a few percent.
        baseline = rng.lognormal(np.log(1e-3), 0.05, size=(rounds, samples))
        candidate = rng.lognormal(np.log(1e-3), 0.05, size=(rounds, samples))
        _, (lo, hi) = speedup_with_ci(round_ratios(baseline.tolist(), candidate.tolist()))
        hits += lo <= 1.0 <= hi
    return hits / repetitions


def test_aa_ci_contains_one_about_95_percent_of_the_time(global_random_seed: int) -> None:
    # Ten rounds: within the confirm phase's 8..15, where winners are decided.
    settings = TimingSettings().confirm()
    assert settings.min_rounds <= 10 <= settings.max_rounds
    assert _aa_coverage(rounds=10, repetitions=200, seed=global_random_seed) >= 0.88


def test_iqr_and_flat_median() -> None:
    assert iqr([1.0, 2.0, 3.0, 4.0, 5.0]) == 2.0
    assert iqr([7.0]) == 0.0
    assert flat_median([[1.0, 9.0], [2.0], [3.0, 4.0]]) == 3.0


@given(ratio_lists, ratio_lists)
def test_grouped_ci_spans_each_process_and_the_pool(
    first: list[float], second: list[float]
) -> None:
    pooled = first + second
    estimate, (lo, hi) = speedup_with_ci(pooled, groups=(len(first), len(second)))
    assert estimate == speedup_with_ci(pooled)[0]
    for part in (first, second, pooled):
        _, (p_lo, p_hi) = speedup_with_ci(part)
        assert lo <= p_lo and p_hi <= hi


def test_grouped_ci_covers_two_layout_modes() -> None:
    """Two processes, each tight around its own mode: the CI reaches both."""
    fast, slow = [1.10, 1.11, 1.10, 1.12, 1.11], [1.02, 1.03, 1.02, 1.03, 1.02]
    _, (lo, hi) = speedup_with_ci(fast + slow, groups=(5, 5))
    assert lo <= 1.02 and hi >= 1.11


def test_groups_must_split_the_rounds() -> None:
    with pytest.raises(ValueError, match="do not split"):
        speedup_with_ci([1.0, 1.1, 1.2], groups=(1, 1))
