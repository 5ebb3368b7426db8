"""Scalarization of NumPy slice statements: NumPy's semantics kept, reasons for the rest."""

from __future__ import annotations

import ast
import textwrap
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autotune.loops import (
    BandChoice,
    Illegal,
    Transformed,
    analyze,
    analyze_kernel,
    lift_source,
    transformed_source,
)
from autotune.loops._scalarize import scalarize
from autotune.loops._space import SCALARIZE, LoopOptions, add_loop_dimensions
from autotune.space import SearchSpace


def _statements(source: str) -> dict[int, tuple[str, str]]:
    """(how, reason) per line of the array statements of the first function."""
    func = ast.parse(textwrap.dedent(source)).body[0]
    assert isinstance(func, ast.FunctionDef)
    return {s.line: (s.how, s.reason) for s in scalarize(func).statements}


def _scalarized(source: str, name: str = "k") -> str:
    analysis = analyze_kernel(lift_source(textwrap.dedent(source), name))
    lowered = transformed_source(analysis, {}, frozenset(), scalarize=True)
    assert isinstance(lowered, Transformed)
    return lowered.source


def _run(source: str, args: tuple[Any, ...], name: str = "k") -> tuple[Any, ...]:
    """Run ``source``'s function in plain Python on copies of ``args``; the arrays
    after the call (and the return value last)."""
    scope: dict[str, Any] = {"np": np, "_np": np}
    exec(compile(textwrap.dedent(source), "<test>", "exec"), scope)
    copies = tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)
    out = scope[name](*copies)
    return (*(a for a in copies if isinstance(a, np.ndarray)), out)


def _same(source: str, args: tuple[Any, ...], exact: bool = True) -> None:
    expected = _run(source, args)
    got = _run(_scalarized(source), args)
    for e, g in zip(expected, got, strict=True):
        if e is None:
            assert g is None
        elif exact:
            np.testing.assert_array_equal(g, e)
        else:
            np.testing.assert_allclose(g, e, rtol=1e-12)


ISSUE_EXAMPLES = """
def k(u, y, c, M, d, q, a, e, h, C, beta):
    n = u.shape[0]
    for t in range(3):
        for i in range(1, n - 1):
            u[i, 1:-1] += 0.25 * (u[i - 1, :-2] + u[i - 1, 2:] + u[i + 1, 1:-1])
    for i in range(n):
        y[i] = (c[i] - M[i, :i] @ y[:i]) / M[i, i]
    for k in range(n):
        for i in range(n):
            d[i, :] = np.minimum(d[i, :], d[i, k] + d[k, :])
    for k in range(n):
        for j in range(k + 1, n):
            r = np.dot(q[:, k], a[:, j])
            a[:, j] -= q[:, k] * r
    e[1:, :] -= 0.5 * (h[1:, :] - h[:-1, :])
    C[:, :] *= beta
    C *= beta
"""


def _issue_args() -> tuple[Any, ...]:
    rng = np.random.default_rng(0)
    n = 7
    M = rng.random((n, n)) + n * np.eye(n)
    return (
        rng.random((n, n)), rng.random(n), rng.random(n), M, rng.random((n, n)),
        rng.random((n, n)), rng.random((n, n)), rng.random((n, n)), rng.random((n, n)),
        rng.random((n, n)), 1.5,
    )  # fmt: skip


def test_every_statement_of_the_issue_examples_is_scalarized() -> None:
    notes = _statements(ISSUE_EXAMPLES)
    assert notes and all(how for how, _ in notes.values()), notes
    source = _scalarized(ISSUE_EXAMPLES)
    assert ":" not in "".join(
        ast.unparse(s) for s in ast.walk(ast.parse(source)) if isinstance(s, ast.Slice)
    )
    assert not [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Slice)]
    _same(ISSUE_EXAMPLES, _issue_args(), exact=False)


def test_the_stencil_becomes_the_loop_people_write() -> None:
    source = _scalarized(
        """
        def k(u):
            for i in range(1, u.shape[0] - 1):
                u[i, 1:-1] += 0.25 * (u[i - 1, :-2] + u[i + 1, 1:-1])
        """
    )
    assert "for _u0 in range(1, u.shape[1] - 1):" in source
    assert "u[i, _u0] += 0.25 * (u[i - 1, _u0 - 1] + u[i + 1, _u0])" in source


def test_a_read_behind_the_write_reverses_the_loop() -> None:
    source = """
    def k(A, B):
        A[1:] = A[:-1] + B[1:]
    """
    assert _statements(source) == {3: ("loops, reversed", "")}
    assert "range(A.shape[0] - 1, 0, -1)" in _scalarized(source)
    rng = np.random.default_rng(1)
    _same(source, (rng.random(9), rng.random(9)))


def test_element_reads_of_the_written_array_are_read_before_the_loop() -> None:
    # d[i, k] is written when the loop reaches column k; NumPy reads it before.
    source = """
    def k(d, i, k):
        d[i, :] = d[i, :] - d[i, k]
    """
    rng = np.random.default_rng(2)
    _same(source, (rng.random((4, 6)), 1, 2))


@pytest.mark.parametrize(
    ("statement", "reason"),
    [
        ("A[1:] = A[:-1] + A[2:]", "both ahead of and behind"),
        ("A[::2] = 0.0", "with a step"),
        ("A[: idx[0]] = 0.0", "not affine"),
        ("A[1:] = np.cumsum(B[1:])", "call to np.cumsum"),
        ("A[:] = V[:]", "V may be a view"),
        ("W = A[1:] + B[1:]", "binds W to an array"),
        ("M[:, 0] = M[0, :]", "other dimensions"),
        ("A[:] = np.where(B > 0, B, 0.0)", "Compare"),
    ],
)
def test_statements_left_as_written_say_why(statement: str, reason: str) -> None:
    source = f"""
    def k(A, B, M, idx):
        V = A[::-1]
        {statement}
    """
    notes = _statements(source)
    how, why = notes[4]
    assert how == "" and reason in why, notes


def test_a_slice_bound_that_may_be_negative_is_left_alone() -> None:
    source = """
    def k(A, y):
        for i in range(A.shape[0]):
            y[i] = np.sum(A[i, i - 1 :])
        for i in range(1, A.shape[0]):
            y[i] = np.sum(A[i, i - 1 :])
    """
    notes = _statements(source)
    assert "may be negative" in notes[4][1]
    assert notes[6] == ("reduction", "")


def test_reductions_keep_numpy_results() -> None:
    source = """
    def k(A, x, out):
        for i in range(A.shape[0]):
            out[i] = np.max(np.abs(A[i, 1:])) + A[i, :].sum() + np.min(A[i, :i + 1])
        return np.sum(x[2:] * x[:-2]) + x @ x
    """
    rng = np.random.default_rng(3)
    _same(source, (rng.normal(size=(5, 6)), rng.normal(size=8), np.zeros(5)), exact=False)


def test_unchanged_code_is_not_rewritten() -> None:
    source = """
    def k(A):
        for i in range(A.shape[0]):
            A[i] = 2.0 * A[i]
    """
    func = ast.parse(textwrap.dedent(source)).body[0]
    assert isinstance(func, ast.FunctionDef)
    result = scalarize(func)
    assert result.rewritten == frozenset() and result.statements == ()


# --- fuzzing: every generated statement keeps NumPy's result exactly ------------------

N = 9


@st.composite
def _one_dim(draw: st.DrawFn) -> tuple[str, str]:
    length = draw(st.integers(1, N))
    lo = draw(st.integers(0, N - length))
    target = f"A[{lo}:{lo + length}]"
    terms = []
    for _ in range(draw(st.integers(1, 3))):
        array = draw(st.sampled_from("AB"))
        start = draw(st.integers(0, N - length))
        end = start + length
        if end == N:
            stop = draw(st.sampled_from(["", str(N)]))
        else:  # NumPy counts a negative bound from the end
            stop = str(end - N if draw(st.booleans()) else end)
        terms.append(f"{array}[{start}:{stop}]")
    ops = [draw(st.sampled_from(["+", "-", "*"])) for _ in terms[1:]]
    expr = terms[0] + "".join(f" {op} {t}" for op, t in zip(ops, terms[1:], strict=True))
    assign = draw(st.sampled_from(["=", "+=", "-="]))
    return f"{target} {assign} {expr}", f"{target} {assign} 0.5 * ({expr})"


@settings(max_examples=300, deadline=None, derandomize=True)
@given(_one_dim())
def test_fuzz_one_dimensional_statements(statements: tuple[str, str]) -> None:
    source = "def k(A, B):\n" + "".join(f"    {s}\n" for s in statements)
    rng = np.random.default_rng(4)
    _same(source, (rng.integers(0, 50, N).astype(float), rng.integers(0, 50, N).astype(float)))


@st.composite
def _two_dim(draw: st.DrawFn) -> str:
    rows, cols = draw(st.integers(1, 4)), draw(st.integers(1, 5))
    r0, c0 = draw(st.integers(0, 4 - rows)), draw(st.integers(0, 5 - cols))
    terms = []
    for _ in range(draw(st.integers(1, 3))):
        array = draw(st.sampled_from("AB"))
        a, b = draw(st.integers(0, 4 - rows)), draw(st.integers(0, 5 - cols))
        terms.append(f"{array}[{a}:{a + rows}, {b}:{b + cols}]")
    if draw(st.booleans()):  # a row broadcast along the first dimension
        b = draw(st.integers(0, 5 - cols))
        terms.append(f"B[{draw(st.integers(0, 3))}, {b}:{b + cols}]")
    return f"A[{r0}:{r0 + rows}, {c0}:{c0 + cols}] = " + " + ".join(terms)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(_two_dim())
def test_fuzz_two_dimensional_statements(statement: str) -> None:
    source = f"def k(A, B):\n    {statement}\n"
    rng = np.random.default_rng(5)
    shape = (4, 5)
    _same(source, (rng.integers(0, 50, shape).astype(float), rng.integers(0, 50, shape) * 1.0))


# --- the search space ----------------------------------------------------------------


def _sliced(u, T):  # type: ignore[no-untyped-def]
    for _t in range(T):
        for i in range(1, u.shape[0] - 1):
            u[i, 1:-1] = 0.5 * (u[i - 1, 1:-1] + u[i + 1, 1:-1])


def test_the_space_offers_scalarizing_and_gates_the_new_nests_on_it() -> None:
    space = SearchSpace()
    add_loop_dimensions(space, _sliced, "serial")
    assert space.names[0] == SCALARIZE
    assert space.default_config() == {SCALARIZE: False}
    band_keys = [n for n in space.names if n.startswith("loops.n0.")]
    assert band_keys
    on = space.with_defaults({SCALARIZE: True})
    assert set(band_keys) & set(on)
    assert LoopOptions.from_config(on).scalarize
    assert not LoopOptions.from_config(space.default_config()).scalarize
    assert not LoopOptions.from_config(on).is_default
    config = {SCALARIZE: True, "loops.n0.b0.enable": "permutable", "loops.n0.b0.tile": 16}
    assert space.violation(space.with_defaults(config)) is None


def test_a_scalarized_nest_without_scalarizing_is_illegal() -> None:
    analysis = analyze(_sliced)
    choice = {(0, 0): BandChoice(tile=16, enable="permutable")}
    lowered = transformed_source(analysis, choice, frozenset(), scalarize=False)
    assert isinstance(lowered, Illegal) and "only in the scalarized kernel" in lowered.reason
    plain = transformed_source(analysis, {}, frozenset(), scalarize=False)
    assert isinstance(plain, Transformed)
    assert "1:-1" in plain.source and not plain.changed
    scalar = transformed_source(analysis, choice, frozenset(), scalarize=True)
    assert isinstance(scalar, Transformed) and scalar.changed and "1:-1" not in scalar.source


def test_a_view_used_as_an_operand_is_inlined_and_scalarized() -> None:
    source = """
    def k(A, B):
        for t in range(2):
            c = A[1:-1, 1:-1]
            B[1:-1, 1:-1] = 0.5 * (A[2:, 1:-1] + c)
            c = B[1:-1, 1:-1]
            A[1:-1, 1:-1] = 0.5 * (B[:-2, 1:-1] + c)
    """
    notes = _statements(source)
    assert notes[4] == ("view inlined", "") and notes[6] == ("view inlined", "")
    assert notes[5][0] == "loops" and notes[7][0] == "loops"
    assert "c" not in {
        n.id for n in ast.walk(ast.parse(_scalarized(source))) if isinstance(n, ast.Name)
    }
    rng = np.random.default_rng(6)
    _same(source, (rng.random((5, 6)), rng.random((5, 6))))


def test_a_view_written_through_or_rebound_inputs_stay_as_written() -> None:
    source = """
    def k(A, i):
        c = A[i, :]
        i = i + 1
        A[i, :] = c
    """
    notes = _statements(source)
    assert "view inlined" not in {how for how, _ in notes.values()}
    assert "c may be a view" in notes[5][1]


def test_reversed_operand_slices_and_norms() -> None:
    source = """
    def k(r, y, z, A, out):
        for k in range(1, y.shape[0]):
            z[:k] = y[:k] + 0.5 * y[k - 1 :: -1]
            out[k] = np.sum(r[k - 1 :: -1] * y[:k]) + np.linalg.norm(A[:, k])
    """
    notes = _statements(source)
    assert notes[4] == ("loops", "") and notes[5] == ("reduction", "")
    rng = np.random.default_rng(7)
    args = (rng.random(6), rng.random(6), np.zeros(6), rng.random((4, 6)), np.zeros(6))
    _same(source, args, exact=False)


def test_fancy_indexing_is_left_as_written() -> None:
    notes = _statements("def k(s, idx):\n    s[idx] = s[idx[0]:]\n    x = idx[0]\n")
    assert notes[2] == ("", "boolean or fancy indexing of s")


def test_an_allocation_inside_a_loop_is_hoisted_and_its_fill_scalarized() -> None:
    source = """
    def k(u, out):
        n = u.shape[0]
        for t in range(out.shape[0]):
            tmp = np.zeros(n)
            tmp[1:-1] = 0.5 * (u[:-2] + u[2:])
            u[:] = tmp
            out[t] = tmp.sum()
    """
    notes = _statements(source)
    assert notes[5] == ("allocation hoisted", "")
    scalar = _scalarized(source)
    assert scalar.index("tmp = np.empty(n)") < scalar.index("for t in")
    rng = np.random.default_rng(8)
    _same(source, (rng.random(12), np.zeros(3)))


def test_an_allocation_that_escapes_or_changes_shape_stays_in_its_loop() -> None:
    escapes = """
    def k(u, keep):
        for t in range(3):
            tmp = np.zeros(u.shape[0])
            tmp[:] = u
            keep.append(tmp)
    """
    resized = """
    def k(u):
        for t in range(1, 4):
            tmp = np.zeros(t)
            tmp[:] = 1.0
            u[:t] += tmp
    """
    for source in (escapes, resized):
        assert "allocation hoisted" not in {how for how, _ in _statements(source).values()}


def test_a_temporary_is_inlined_where_nothing_it_reads_changes_before_its_uses() -> None:
    source = """
    def k(p, q, a, b):
        for j in range(1, p.shape[1]):
            den = a * p[1:-1, j - 1] + b
            p[1:-1, j] = -1.0 / den
            q[1:-1, j] = (q[1:-1, j - 1] + 1.0) / den
    """
    notes = _statements(source)
    assert notes[4] == ("temporary inlined", "")
    assert notes[5][0] == "loops" and notes[6][0] == "loops"
    rng = np.random.default_rng(9)
    _same(source, (rng.random((5, 4)) + 1.0, rng.random((5, 4)), 0.5, 2.0))


def test_a_temporary_whose_input_is_overwritten_first_stays_with_the_reason() -> None:
    source = """
    def k(p, q, a):
        for j in range(p.shape[1]):
            den = a * p[1:-1, j]
            p[1:-1, j] = -1.0 / den
            q[1:-1, j] = den
    """
    notes = _statements(source)
    assert "binds den to an array" in notes[4][1]
    assert "NumPy temporary" in notes[5][1]


def _top_level_view(A, B, C):  # type: ignore[no-untyped-def]
    c = A[1:-1]
    for i in range(C.shape[0]):
        for j in range(C.shape[1]):
            C[i, j] = 2.0 * C[i, j]
    B[1:-1] = c + 1.0


def test_top_level_statements_keep_their_positions_so_nest_keys_agree() -> None:
    analysis = analyze(_top_level_view, False, (("A", 1), ("B", 1), ("C", 2)))
    assert 1 in analysis.plans and 1 not in analysis.kernel.rewritten
    choice = {(1, 0): BandChoice(order=("j", "i"))}
    for scalar in (False, True):
        lowered = transformed_source(analysis, choice, frozenset(), scalarize=scalar)
        assert isinstance(lowered, Transformed)
        assert "for j in range(C.shape[1]):\n        for i in range(C.shape[0]):" in lowered.source
        assert ("c = A[1:-1]" in lowered.source) is not scalar


AXES_AND_MASKS = """
def k(data, mean, sd, out):
    n, m = data.shape
    mean[:] = data.sum(axis=0) / n
    sd[:] = np.sqrt(((data - mean) ** 2).sum(axis=0))
    out[:] = np.max(data, axis=1) - data.min(axis=-1)
    sd[sd <= 0.5] = 1.0
    out[(out > 0.2) & ~(out > 0.8)] += 1.0
    mean[mean > sd] = mean[0]
"""


def test_axis_reductions_and_masked_assignments_keep_numpy_results() -> None:
    notes = _statements(AXES_AND_MASKS)
    assert [notes[line][0] for line in range(4, 10)] == ["loops"] * 3 + ["loops, masked"] * 3
    rng = np.random.default_rng(10)
    data = rng.random((6, 5))
    _same(AXES_AND_MASKS, (data, np.zeros(5), np.zeros(5), np.zeros(6)), exact=False)


def test_a_masked_assignment_of_an_array_or_an_axis_over_the_target_stays() -> None:
    notes = _statements("def k(a, b):\n    a[a > 0] = b[:]\n    a[:, 0] = a.sum(axis=1)\n")
    assert "masked assignment of an array" in notes[2][1]
    assert "while writing it" in notes[3][1]


def test_element_reads_outside_the_written_region_stay_in_the_loop() -> None:
    source = """
    def k(A):
        n = A.shape[0]
        for k in range(n):
            A[k + 1 :, k] /= A[k, k]
            for i in range(k + 1, n):
                A[i, k + 1 :] -= A[i, k] * A[k, k + 1 :]
    """
    scalar = _scalarized(source)
    assert "_elt" not in scalar  # A[k, k] and A[i, k] are never written by their statement
    assert "A[i, _A01] -= A[i, k] * A[k, _A01]" in scalar
    rng = np.random.default_rng(11)
    _same(source, (rng.random((6, 6)) + 6 * np.eye(6),))


def test_open_bounds_take_the_name_the_code_binds_the_size_to() -> None:
    source = """
    def k(A, B):
        n, m = A.shape
        A[1:, :] *= 2.0
        for k in range(n):
            A[k + 1 :, k] /= A[k, k]
        p = B.shape[0]
        p = p - 1
        B[1:] += 1.0
    """
    scalar = _scalarized(source)
    assert "range(k + 1, n)" in scalar  # A's rows after the binding of n
    assert "range(m)" in scalar  # the tuple binding names the columns too
    assert "range(1, B.shape[0])" in scalar  # p is bound twice: not an alias
    rng = np.random.default_rng(3)
    _same(source, (rng.random((5, 5)) + 5 * np.eye(5), rng.random(4)))


def test_an_alias_bound_after_the_statement_is_not_used() -> None:
    source = """
    def k(A):
        A[1:] += 1.0
        n = A.shape[0]
        for i in range(n):
            A[i] *= 2.0
    """
    assert "range(1, A.shape[0])" in _scalarized(source)


def test_a_scalarization_failure_leaves_the_kernel_as_written(monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    import autotune.loops._lift as lift

    def broken(*_args: object) -> None:
        raise KeyError("bug")

    monkeypatch.setattr(lift, "scalarize", broken)
    kernel = lift_source("def k(a):\n    for i in range(3):\n        a[i] = 1.0\n", "k")
    assert kernel.transformable and kernel.rewritten == frozenset()
    assert "scalarization failed" in caplog.text
