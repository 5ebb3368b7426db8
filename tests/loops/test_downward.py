"""Loops that count down (``range(hi, lo, -1)``) are transformed like upward ones.

A band's coordinate of such a loop is minus its variable: a change of variables that
keeps the order of every iteration, so every legal variant must compute exactly what
the original does (bit for bit, in plain Python with a shuffled ``prange``).
"""

from __future__ import annotations

import itertools
import textwrap
from typing import Any

import numba
import numpy as np
import pytest

from autotune.loops import (
    Band,
    BandChoice,
    Illegal,
    apply_choice,
    compile_transformed,
    lower_bands,
    transformed_source,
)
from autotune.loops._explain import explain_analysis, format_report
from tests.loops._programs import analysis_of, keyed, only_plan_bands, run_source

BACK_SUBSTITUTION = """
def kernel(U, b, x, n):
    for i in range(n - 1, -1, -1):
        x[i] = b[i]
        for j in range(i + 1, n):
            x[i] -= U[i, j] * x[j]
        x[i] = x[i] / U[i, i]
"""

REVERSED_PREFIX_SUM = """
def kernel(a, n):
    for i in range(n - 2, -1, -1):
        a[i] += a[i + 1]
"""

DOWN_THEN_UP = """
def kernel(A, B, n, m):
    for i in range(n - 1, 0, -1):
        for j in range(1, m):
            A[i, j] = A[i - 1, j] * 0.5 + B[i, j] * A[i, j - 1]
"""

TRIANGLE_DOWN = """
def kernel(A, B, n):
    for i in range(n - 1, -1, -1):
        for j in range(i, n):
            A[i, j] = A[i + 1, j] + B[i, j] * A[i, j]
"""

N = 9


def _inputs(source: str, seed: int = 0) -> tuple[Any, ...]:
    rng = np.random.default_rng(seed)
    if source is BACK_SUBSTITUTION:
        upper = np.triu(rng.random((N, N))) + N * np.eye(N)
        return upper, rng.random(N), np.zeros(N), N
    if source is REVERSED_PREFIX_SUM:
        return rng.random(N), N
    if source is DOWN_THEN_UP:
        return rng.random((N, N + 2)), rng.random((N, N + 2)), N, N + 2
    return rng.random((N + 1, N)), rng.random((N, N)), N


def _every_choice(band: Band) -> list[BandChoice]:
    orders: list[tuple[str, ...] | None] = [None, *itertools.permutations(band.vars)]
    nested = band.depth > 1
    return [
        BandChoice(enable, order, tile, inner, unroll, parallel)
        for enable, order, tile, inner, unroll, parallel in itertools.product(
            ("none", "permutable"),
            orders,
            (0, 2, 3) if nested else (0,),
            (0, 2),
            (1, 2, 3) if nested else (1,),
            (False, True),
        )
    ]


def _report_lines(source: str) -> list[str]:
    return format_report(explain_analysis(analysis_of(source)))


def test_back_substitution_is_lifted_and_explained() -> None:
    lines = _report_lines(BACK_SUBSTITUTION)
    text = "\n".join(lines)
    assert "not transformable" not in text and "unit-step" not in text
    assert any(ln.strip().startswith("legal   prange i") for ln in lines), text


def test_a_downward_outer_loop_interchanges_and_tiles() -> None:
    lines = [ln.strip() for ln in _report_lines(DOWN_THEN_UP)]
    for what in ("interchange to (j, i)", "tiling every loop", "unroll-and-jam i"):
        assert f"legal   {what}" in lines, lines


def test_the_default_lowering_keeps_the_downward_loop() -> None:
    (band,) = only_plan_bands(analysis_of(TRIANGLE_DOWN))
    made = apply_choice(band, BandChoice(enable="permutable"))
    assert isinstance(made, Band) and made.schedule.is_identity
    analysis = analysis_of(TRIANGLE_DOWN)
    lowered = transformed_source(analysis, keyed(analysis, {0: BandChoice(parallel=True)}))
    assert not isinstance(lowered, Illegal)
    assert "for i in range(n - 1, -1, -1):" in lowered.source, lowered.source


def test_steps_other_than_plus_or_minus_one_say_why() -> None:
    source = """
    def kernel(A, n):
        for i in range(n - 1, -1, -2):
            for j in range(n):
                A[i, j] = A[i, j] * 2.0
    """
    lines = _report_lines(textwrap.dedent(source))
    assert any("step -2; only loops with step 1 or -1 are transformed" in ln for ln in lines)


@pytest.mark.parametrize(
    "source",
    [BACK_SUBSTITUTION, REVERSED_PREFIX_SUM, DOWN_THEN_UP, TRIANGLE_DOWN],
    ids=["back_substitution", "reversed_prefix_sum", "down_then_up", "triangle_down"],
)
def test_every_legal_variant_computes_exactly_the_original(source: str) -> None:
    analysis = analysis_of(source)
    (plan,) = analysis.plans.values()
    args = _inputs(source)
    want = run_source(source, "kernel", args)
    variants = 0
    for band in plan.bands:
        for choice in _every_choice(band):
            result = apply_choice(band, choice)
            if isinstance(result, Illegal) or result.schedule.is_identity:
                continue
            variants += 1
            lowered = lower_bands(analysis, {(plan.nest.index, band.index): result})
            got = run_source(lowered.source, "kernel", args, lowered.prange_name)
            for w, g in zip(want, got, strict=True):
                assert np.array_equal(w, g), f"{choice}\n{lowered.source}"
    assert variants > 0  # the prefix sum: strip-mined (tile_inner) only


def test_a_tiled_downward_nest_compiles_with_numba_and_matches() -> None:
    scope: dict[str, Any] = {}
    exec(textwrap.dedent(DOWN_THEN_UP), scope)
    analysis = analysis_of(DOWN_THEN_UP)
    choice = BandChoice(order=("j", "i"), tile=4, tile_inner=4)
    lowered = transformed_source(analysis, keyed(analysis, {0: choice}))
    assert not isinstance(lowered, Illegal)
    func = numba.njit(compile_transformed(scope["kernel"], lowered, {}))
    args = _inputs(DOWN_THEN_UP, seed=3)
    want = run_source(DOWN_THEN_UP, "kernel", args)
    got = tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)
    func(*got)
    for w, g in zip(want, got, strict=True):
        assert np.array_equal(w, g), lowered.source
