"""Loop fusion: same-range sibling loops merge where no dependence runs backwards."""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autotune.loops import BandChoice, Illegal, Transformed, analyze, transformed_source
from autotune.loops._kernel import analyze_kernel
from autotune.loops._lift import lift_source
from autotune.loops._space import LoopOptions, add_loop_dimensions, fuse_key
from autotune.space import SearchSpace


def _fused(source: str, ranks: dict[str, int] | None = None) -> Transformed | None:
    kernel = lift_source(textwrap.dedent(source), "k")
    if ranks:
        from autotune.loops._lift import _lifted

        kernel = _lifted("k", kernel.original, ranks)  # type: ignore[arg-type]
    analysis = analyze_kernel(kernel)
    fusible = frozenset(i for i, p in analysis.plans.items() if p.fused is not None)
    if not fusible:
        return None
    lowered = transformed_source(analysis, {}, frozenset(), True, fusible)
    assert isinstance(lowered, Transformed)
    return lowered


def _run(source: str, args: tuple[Any, ...]) -> list[Any]:
    scope: dict[str, Any] = {"np": np, "_np": np}
    exec(compile(textwrap.dedent(source), "<test>", "exec"), scope)
    copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    scope["k"](*copies)
    return [a for a in copies if isinstance(a, np.ndarray)]


PIPELINE = """
def k(x, y, z, w, a):
    for t in range(3):
        for i in range(x.shape[0]):
            y[i] += a * x[i]
        for j in range(x.shape[0]):
            z[j] += a * y[j]
        for i in range(x.shape[0]):
            w[i] = z[i] * 2.0
"""


def test_a_pipeline_of_same_range_loops_fuses_into_one() -> None:
    lowered = _fused(PIPELINE)
    assert lowered is not None
    assert lowered.source.count("for ") == 2  # the time loop and one fused loop
    assert "z[i] += a * y[i]" in lowered.source  # the second loop's variable renamed
    rng = np.random.default_rng(0)
    args = (*(rng.random(11) for _ in range(4)), 0.5)
    for got, expected in zip(_run(lowered.source, args), _run(PIPELINE, args), strict=True):
        np.testing.assert_array_equal(got, expected)


def test_reading_ahead_of_the_producer_blocks_fusion() -> None:
    ahead = """
    def k(a, b, x):
        for t in range(3):
            for i in range(x.shape[0] - 1):
                a[i] = x[i] * 2.0
            for i in range(x.shape[0] - 1):
                b[i] = a[i + 1]
    """
    assert _fused(ahead) is None
    behind = ahead.replace("a[i + 1]", "a[i]")
    assert _fused(behind) is not None


def test_a_reduction_used_by_the_next_loop_blocks_fusion() -> None:
    source = """
    def k(x, y):
        for t in range(2):
            s = 0.0
            for i in range(x.shape[0]):
                s += x[i]
            for i in range(x.shape[0]):
                y[i] = x[i] / s
    """
    assert _fused(source) is None


def _pipeline(x, y, z, w, a):  # type: ignore[no-untyped-def]
    for _t in range(3):
        y[:] += a * x
        z[:] += a * y
        w[:] = z * 2.0


def test_fusion_is_a_search_dimension_exclusive_with_band_choices() -> None:
    rng = np.random.default_rng(1)
    ranks = (("x", 1), ("y", 1), ("z", 1), ("w", 1), ("a", 0))
    space = SearchSpace()
    add_loop_dimensions(space, _pipeline, "parallel", ranks=ranks, threads=(2,))
    key = fuse_key(0)
    assert key in space.names
    assert key not in space.default_config()  # gated on scalarizing
    config = space.with_defaults({"loops.scalarize": True, key: True})
    assert space.violation(config) is None
    assert LoopOptions.from_config(config).fused == frozenset({0})
    assert not any(k.startswith("loops.n0.b") for k in config)  # bands hang off fuse=False
    analysis = analyze(_pipeline, False, ranks)
    both = transformed_source(analysis, {(0, 1): BandChoice(parallel=True)}, frozenset(), True,
                              frozenset({0}))  # fmt: skip
    assert isinstance(both, Illegal) and "fused" in both.reason
    lowered = transformed_source(analysis, {}, frozenset(), True, frozenset({0}))
    assert isinstance(lowered, Transformed)
    args = (*(rng.random(9) for _ in range(4)), 0.25)
    scope: dict[str, Any] = {"np": np}
    exec(lowered.source, scope)
    got, expected = [a.copy() for a in args[:4]], [a.copy() for a in args[:4]]
    scope["_pipeline"](*got, 0.25)
    _pipeline(*expected, 0.25)
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_array_equal(g, e)


# --- fuzzing: random same-range statement sequences, fused where legal ---------------

N = 10


@st.composite
def _sequence(draw: st.DrawFn) -> list[str]:
    out = []
    for _ in range(draw(st.integers(2, 4))):
        target = draw(st.sampled_from("ABC"))
        terms = [
            f"{draw(st.sampled_from('ABC'))}[{o}:{N - 2 + o}]"
            for o in draw(st.lists(st.integers(0, 2), min_size=1, max_size=3))
        ]
        op = draw(st.sampled_from(["=", "+="]))
        out.append(f"{target}[1:{N - 1}] {op} 0.5 * ({' + '.join(terms)})")
    return out


def _check_sequence(statements: list[str]) -> None:
    body = "".join(f"        {s}\n" for s in statements)
    source = f"def k(A, B, C):\n    for t in range(2):\n{body}"
    lowered = _fused(source, {"A": 1, "B": 1, "C": 1})
    if lowered is None:
        return
    rng = np.random.default_rng(2)
    args = tuple(rng.integers(0, 9, N).astype(float) for _ in range(3))
    for got, expected in zip(_run(lowered.source, args), _run(source, args), strict=True):
        np.testing.assert_array_equal(got, expected)


@settings(max_examples=20, deadline=None, derandomize=True)
@given(_sequence())
def test_fuzz_fused_sequences_keep_numpy_results(statements: list[str]) -> None:
    _check_sequence(statements)


@pytest.mark.slow
@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(_sequence())
def test_fuzz_many_fused_sequences_keep_numpy_results(statements: list[str]) -> None:
    _check_sequence(statements)
