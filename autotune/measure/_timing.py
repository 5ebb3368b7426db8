"""Paired, interleaved timing of a candidate against the baseline in one process.

Runs inside a worker. Output arguments are restored from pristine copies before every
call, outside the timed region, so in-place kernels always start from the same data.
Python's GC is off while sampling.
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from autotune.measure._stats import flat_median, iqr, round_ratios, speedup_with_ci
from autotune.records import MeasureResult, Status, Timing, TimingSettings

MAX_CALLS_PER_SAMPLE = 100_000


class _SharedArguments:
    """One set of argument arrays that every timed function runs on.

    Baseline and candidate must read and write the very same arrays: separate copies
    sit at different addresses, and placement alone (cache-set conflicts, 4K aliasing
    between an input and an output) can move a kernel's time by tens of percent. Output
    arguments are restored from pristine copies before every call, outside the timed
    region.
    """

    def __init__(self, args: tuple[Any, ...], restore: Sequence[int]) -> None:
        self.args = tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)
        self._pristine = [
            (self.args[i], args[i]) for i in restore if isinstance(args[i], np.ndarray)
        ]

    def sample(self, func: Callable[..., Any], calls: int) -> float:
        """Seconds per call of ``func``, averaged over ``calls`` calls."""
        args = self.args
        if not self._pristine:
            start = time.perf_counter()
            for _ in range(calls):
                func(*args)
            return (time.perf_counter() - start) / calls
        total = 0.0
        for _ in range(calls):
            for live, pristine in self._pristine:
                np.copyto(live, pristine)
            start = time.perf_counter()
            func(*args)
            total += time.perf_counter() - start
        return total / calls


def calls_per_sample(
    shared: _SharedArguments, func: Callable[..., Any], settings: TimingSettings
) -> int:
    """How many calls make one sample last at least ``settings.min_sample_s``."""
    for _ in range(max(1, settings.warmup_calls)):
        one = shared.sample(func, 1)
    one = min(one, shared.sample(func, 1))
    if one <= 0:
        return MAX_CALLS_PER_SAMPLE
    return int(min(MAX_CALLS_PER_SAMPLE, max(1, math.ceil(settings.min_sample_s / one))))


def time_paired(
    baseline: Callable[..., Any],
    candidate: Callable[..., Any],
    args: tuple[Any, ...],
    restore: Sequence[int],
    settings: TimingSettings,
) -> Timing:
    """Interleaved rounds of baseline and candidate samples; see :class:`TimingSettings`.

    Both sides use the same number of calls per sample, calibrated on the baseline.
    """
    shared = _SharedArguments(args, restore)
    calls = calls_per_sample(shared, baseline, settings)
    calls_per_sample(shared, candidate, settings)  # warm the candidate too
    base_rounds: list[list[float]] = []
    cand_rounds: list[list[float]] = []
    started = time.perf_counter()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for r in range(settings.max_rounds):
            b_samples, c_samples = [], []
            for s in range(settings.samples_per_round):
                # Alternate which side goes first so neither always follows the other.
                if (r + s) % 2 == 0:
                    b_samples.append(shared.sample(baseline, calls))
                    c_samples.append(shared.sample(candidate, calls))
                else:
                    c_samples.append(shared.sample(candidate, calls))
                    b_samples.append(shared.sample(baseline, calls))
            base_rounds.append(b_samples)
            cand_rounds.append(c_samples)
            done = r + 1
            if done >= settings.min_rounds and time.perf_counter() - started > settings.max_time_s:
                break
            if done >= 2 and _clearly_slower(base_rounds, cand_rounds, settings):
                break
    finally:
        if was_enabled:
            gc.enable()
    return summarize(base_rounds, cand_rounds, calls)


def _clearly_slower(
    base_rounds: list[list[float]], cand_rounds: list[list[float]], settings: TimingSettings
) -> bool:
    ratios = round_ratios(base_rounds, cand_rounds)
    return max(ratios) < settings.early_stop_ratio


def summarize(
    base_rounds: list[list[float]],
    cand_rounds: list[list[float]],
    calls: int,
    process_rounds: Sequence[int] = (),
) -> Timing:
    """Derive a :class:`Timing` from raw rounds (also used to rebuild stored results).

    ``process_rounds`` says how many rounds, in order, each process measured when
    there were several (see :func:`autotune.measure._stats.speedup_with_ci`).
    """
    groups = tuple(process_rounds) if len(process_rounds) > 1 else ()
    speedup, ci = speedup_with_ci(round_ratios(base_rounds, cand_rounds), groups=groups)
    return Timing(
        baseline_rounds=base_rounds,
        candidate_rounds=cand_rounds,
        calls_per_sample=calls,
        baseline_s=flat_median(base_rounds),
        candidate_s=flat_median(cand_rounds),
        candidate_iqr_s=iqr([x for r in cand_rounds for x in r]),
        speedup=speedup,
        speedup_ci95=ci,
        process_rounds=groups,
    )


def result_from_mapping(
    data: Mapping[str, Any], rounds: Mapping[str, Any] | None, provenance: dict[str, Any]
) -> MeasureResult:
    """Rebuild a :class:`MeasureResult` from stored fields (``status``, ``error``,
    ``compile_s``, ``verify_s``) and raw rounds; statistics are recomputed from the rounds.
    """
    timing = None
    if rounds and rounds.get("baseline_rounds"):
        timing = summarize(
            rounds["baseline_rounds"],
            rounds["candidate_rounds"],
            rounds["calls_per_sample"],
            rounds.get("process_rounds", ()),
        )
    return MeasureResult(
        status=Status(data["status"]),
        error=data.get("error") or "",
        compile_s=data.get("compile_s"),
        verify_s=data.get("verify_s"),
        timing=timing,
        provenance=provenance,
        code_hash=data.get("code_hash"),
    )
