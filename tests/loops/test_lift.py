"""Lifting: what lies inside the affine subset, and the reason for what does not."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from autotune.loops import Nest, Untransformable, lift_function, lift_source


def _reason(source: str) -> str:
    kernel = lift_source(source, "kernel")
    (entry,) = [n for n in kernel.nests if isinstance(n, Untransformable)]
    return entry.reason


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("for i in range(indptr[0], n):\n        y[i] = 0.0", "not an affine"),
        ("for i in range(n):\n        y[i * i] = 0.0", "multiplies two variables"),
        ("for i in range(n):\n        y[i::2] = 0.0", "slice"),
        ("for i in range(n):\n        y[i] = 0.0\n        break", "`Break`"),
        ("for i in range(0, n, step):\n        y[i] = 0.0", "step"),
        ("for i in range(n):\n        foo(y)", "`Expr`"),
        ("for i in range(n):\n        t = foo(y)", "may touch array y"),
        ("for i in range(n):\n        t = y\n        y[i] = 1.0", "used as a whole"),
        ("for i in range(n):\n        z = y\n        z[i] = 1.0", "assigned inside the nest"),
        ("for x in y:\n        pass", "only `for ... in range"),
        ("while n > 0:\n        for i in range(n):\n            y[i] = 0", "top-level `while`"),
    ],
)
def test_constructs_outside_the_subset_are_reported(body: str, expected: str) -> None:
    source = f"def kernel(y, indptr, n, step):\n    {body}\n"
    assert expected in _reason(source)


def test_loop_variable_read_after_the_nest_keeps_the_nest_untouched() -> None:
    source = """
def kernel(y, n):
    for i in range(n):
        y[i] = 0.0
    return i
"""
    assert "used after the loop nest" in _reason(source)


def test_an_array_that_may_alias_another_is_not_lifted() -> None:
    source = """
def kernel(y, n):
    z = y[1:]
    for i in range(n):
        z[i] = y[i]
"""
    assert "may share memory" in _reason(source)


def test_the_may_share_memory_reason_names_the_assignment_line() -> None:
    source = """
def kernel(y, n):
    z = y[1:]
    for i in range(n):
        z[i] = y[i]
"""
    assert _reason(source).startswith("line 3: array z ")


def test_freshly_allocated_arrays_are_distinct() -> None:
    source = """
def kernel(y, n):
    z = np.zeros(n)
    for i in range(n):
        z[i] = y[i]
"""
    (nest,) = lift_source(source, "kernel").transformable
    assert isinstance(nest, Nest)


def test_shapes_and_argument_scalars_are_loop_invariants() -> None:
    source = """
def kernel(A, x, alpha):
    for i in range(A.shape[0] - 1):
        for j in range(i, len(x)):
            A[i, j] = alpha * x[j] + np.sqrt(A[i + 1, j])
"""
    (nest,) = lift_source(source, "kernel").transformable
    (outer,) = nest.roots
    assert str(outer.upper) == "A.shape[0] - 1"
    inner = outer.body[0]
    assert str(inner.lower) == "i" and str(inner.upper) == "len(x)"  # type: ignore[union-attr]


def test_each_top_level_loop_is_its_own_nest() -> None:
    source = """
def kernel(y, n):
    for i in range(n):
        y[i] = 0.0
    t = 1.0
    for i in range(n):
        y[i] += t
"""
    kernel = lift_source(source, "kernel")
    assert [n.index for n in kernel.transformable] == [0, 2]


def test_a_closure_is_not_lifted() -> None:
    scale = 2.0

    def closure(y):
        for i in range(y.shape[0]):
            y[i] *= scale

    assert "closure" in lift_function(closure).error


def test_lifting_reads_the_function_source_with_its_line_numbers() -> None:
    def kernel(y):
        for i in range(y.shape[0]):
            y[i] = 1.0

    (nest,) = lift_function(kernel).transformable
    assert nest.line == kernel.__code__.co_firstlineno + 1


def _decorator(**_: object) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return lambda func: func


def test_a_decorated_function_reports_the_for_statements_line_in_the_file() -> None:
    @_decorator(
        outputs=[0],
        rtol=1e-9,
    )
    def kernel(y):
        for i in range(y.shape[0]):  # the decorated nest
            y[i] = 1.0

    lines = Path(__file__).read_text().splitlines()
    expected = 1 + next(n for n, text in enumerate(lines) if text.endswith("# the decorated nest"))
    (nest,) = lift_function(kernel).transformable
    assert nest.line == expected
    assert nest.roots[0].line == expected


@pytest.mark.parametrize(
    ("after", "live"),
    [
        ("    for i in range(n):\n        y[i] += 1.0\n", False),  # reassigned by the next loop
        ("    i = 0\n    y[i] = 1.0\n", False),
        ("    if n > 2:\n        y[0] = i\n", True),
        ("    for j in range(n):\n        y[j] = i\n", True),
    ],
)
def test_a_loop_variable_is_live_after_the_nest_only_if_it_may_be_read(
    after: str, live: bool
) -> None:
    source = f"def kernel(y, n):\n    for i in range(n):\n        y[i] = 0.0\n{after}"
    first = lift_source(source, "kernel").nests[0]
    assert isinstance(first, Untransformable) == live
