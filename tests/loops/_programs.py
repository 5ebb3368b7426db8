"""Helpers for loop tests: analyse a kernel given as source text, run sources in plain
Python (prange visits its iterations in a shuffled order, so an iteration order that
matters shows up as a different result)."""

from __future__ import annotations

import random
import textwrap
from collections.abc import Mapping
from typing import Any

import numpy as np

from autotune.loops import (
    Band,
    BandChoice,
    Illegal,
    LoopAnalysis,
    analyze_kernel,
    lift_source,
    transformed_source,
)


def analysis_of(source: str, name: str = "kernel", reassociate: bool = False) -> LoopAnalysis:
    return analyze_kernel(lift_source(textwrap.dedent(source), name), reassociate)


def only_plan_bands(analysis: LoopAnalysis) -> tuple[Band, ...]:
    (plan,) = analysis.plans.values()
    return plan.bands


def shuffled_prange(seed: int = 1234) -> Any:
    rng = random.Random(seed)

    def prange(*args: int) -> list[int]:
        values = list(range(*args))
        rng.shuffle(values)
        return values

    return prange


def run_source(
    source: str, name: str, args: tuple[Any, ...], prange_name: str = "prange"
) -> tuple[Any, ...]:
    """Call ``name`` from ``source`` on copies of ``args``; return the copies."""
    scope: dict[str, Any] = {"np": np, prange_name: shuffled_prange()}
    exec(compile(textwrap.dedent(source), "<test kernel>", "exec"), scope)
    copies = tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)
    scope[name](*copies)
    return copies


def keyed(analysis: LoopAnalysis, choices: Mapping[int, Any]) -> dict[tuple[int, int], Any]:
    """Choices by band index for a kernel with one nest, keyed by (nest, band)."""
    (index,) = analysis.plans
    return {(index, band): choice for band, choice in choices.items()}


def transformed_matches(
    source: str,
    choices: Mapping[int, BandChoice],
    args: tuple[Any, ...],
    name: str = "kernel",
    reassociate: bool = False,
) -> bool:
    """Whether the kernel (one nest) with ``choices`` (by band index) leaves every
    argument as the original does, exactly. Raises if the choices are illegal."""
    analysis = analysis_of(source, name, reassociate)
    result = transformed_source(analysis, keyed(analysis, choices))
    if isinstance(result, Illegal):
        raise AssertionError(result.reason)
    want = run_source(source, name, args)
    got = run_source(result.source, name, args, result.prange_name)
    return all(np.array_equal(w, g) for w, g in zip(want, got, strict=True))
