"""Memory order: the stride-1 loop innermost, recurrences out of it, offered as landmarks."""

from __future__ import annotations

import numpy as np
import pytest

import autotune
from autotune.loops import analyze
from autotune.loops._stride import LINE, carried_alone, innermost_cost, memory_order
from autotune.passes import cpu_search_space


def _inputs(rng, n=16):
    return rng.random((n, n)), np.zeros((n, n))


@autotune.kernel(inputs=_inputs, outputs=[1])
def column_walk(A, B):
    n = A.shape[0]
    for j in range(n):
        for i in range(n):
            B[i, j] = 2.0 * A[i, j]


@autotune.kernel(inputs=_inputs, outputs=[1])
def row_walk(A, B):
    n = A.shape[0]
    for i in range(n):
        for j in range(n):
            B[i, j] = 2.0 * A[i, j]


@autotune.kernel(inputs=_inputs, outputs=[1])
def row_recurrence(A, B):
    n = A.shape[0]
    for i in range(n):
        for j in range(1, n):
            B[i, j] = 0.5 * B[i, j - 1] + A[i, j]


def _band(decl: autotune.KernelDecl):
    analysis = analyze(decl.pyfunc)
    (plan,) = analysis.plans.values()
    return plan.bands[0]


def test_each_loop_costs_its_strided_references() -> None:
    band = _band(column_walk)
    assert band.vars == ("j", "i")
    # i moves the first subscript of A and B (a new line each), j the last (one line
    # serves LINE iterations).
    assert innermost_cost(band, "i") == 2.0
    assert innermost_cost(band, "j") == 2 / LINE


def test_the_stride_one_loop_goes_innermost() -> None:
    assert memory_order(_band(column_walk)) == ("i", "j")


def test_a_band_in_memory_order_keeps_its_order() -> None:
    assert memory_order(_band(row_walk)) == ("i", "j")


def test_a_recurrence_moves_out_of_the_innermost_loop_only_when_asked() -> None:
    band = _band(row_recurrence)
    assert carried_alone(band, "j") >= 1
    assert carried_alone(band, "i") == 0
    assert memory_order(band) == ("i", "j")
    assert memory_order(band, recurrences=True) == ("j", "i")


@pytest.mark.parametrize(
    ("decl", "orders"),
    [
        (column_walk, [{"loops.n1.b0.order": "i,j"}]),
        (row_walk, []),
        (row_recurrence, [{"loops.n1.b0.order": "j,i"}]),
    ],
)
def test_the_space_measures_each_memory_order_first(
    decl: autotune.KernelDecl, orders: list[dict[str, str]]
) -> None:
    space = cpu_search_space(decl, loops="serial")
    changed = [
        {k: v for k, v in c.items() if k.endswith(".order") and v != space[k].default}
        for c in space.landmarks()
    ]
    assert [c for c in changed if c] == orders
    assert all(space.violation(c) is None for c in space.landmarks())


def test_explain_shows_both_memory_orders() -> None:
    from autotune.loops._explain import explain_kernel, format_report

    lines = format_report(explain_kernel(row_recurrence.pyfunc, name="row_recurrence"))
    assert "      memory order: (i, j); with fewest recurrences innermost (j, i)" in lines
