"""Dependence analysis on textbook kernels: what may be reordered, and what may not."""

from __future__ import annotations

import itertools

import pytest

from autotune.loops import (
    Band,
    Illegal,
    Interval,
    dependences,
    extract_bands,
    lift_source,
    make_permutable,
    parallelize,
    permute,
    tile,
)
from tests.loops._programs import analysis_of, only_plan_bands

MATMUL = """
def kernel(A, B, C):
    n, m = A.shape
    p = B.shape[1]
    for i in range(n):
        for j in range(p):
            s = 0.0
            for k in range(m):
                s += A[i, k] * B[k, j]
            C[i, j] = s
"""

JACOBI = """
def kernel(A, B, tsteps):
    n = A.shape[0]
    for t in range(tsteps):
        for i in range(1, n - 1):
            for j in range(1, n - 1):
                B[i, j] = 0.2 * (A[i, j] + A[i, j - 1] + A[i, j + 1] + A[i + 1, j] + A[i - 1, j])
        for i in range(1, n - 1):
            for j in range(1, n - 1):
                A[i, j] = 0.2 * (B[i, j] + B[i, j - 1] + B[i, j + 1] + B[i + 1, j] + B[i - 1, j])
"""

SEIDEL = """
def kernel(A):
    n = A.shape[0]
    for i in range(1, n - 1):
        for j in range(1, n - 1):
            A[i, j] = (A[i - 1, j - 1] + A[i - 1, j] + A[i - 1, j + 1] + A[i, j - 1]
                       + A[i, j] + A[i, j + 1] + A[i + 1, j - 1] + A[i + 1, j]
                       + A[i + 1, j + 1]) / 9.0
"""

PREFIX_SCAN = """
def kernel(x, out):
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i]
        out[i] = s
"""

HISTOGRAM = """
def kernel(x, counts):
    nbins = counts.shape[0]
    for i in range(x.shape[0]):
        b = int(x[i] * nbins)
        if b >= nbins:
            b = nbins - 1
        counts[b] += 1
"""

DOT = """
def kernel(x, y):
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i] * y[i]
    return s
"""


def _band(bands: tuple[Band, ...], loops: tuple[str, ...]) -> Band:
    return next(b for b in bands if b.vars == loops)


def test_matmul_every_loop_order_is_legal_once_the_accumulator_is_expanded() -> None:
    bands = only_plan_bands(analysis_of(MATMUL))
    band = _band(bands, ("i", "j", "k"))
    for order in itertools.permutations(("i", "j", "k")):
        assert isinstance(permute(band, order), Band), order
    assert isinstance(tile(band, [8, 8, 8]), Band)
    assert isinstance(parallelize(band, "i"), Band)
    assert isinstance(parallelize(band, "j"), Band)
    assert isinstance(parallelize(band, "k"), Illegal)  # k carries the sum into C[i, j]


def test_matmul_with_its_scalar_accumulator_keeps_k_innermost() -> None:
    # Without accumulator expansion the k loop is a band of its own inside (i, j):
    # no transformation of a band can move it out.
    (nest,) = lift_source(MATMUL, "kernel").transformable
    bands = extract_bands(nest)
    assert [b.vars for b in bands] == [("i", "j"), ("k",)]
    outer, inner = bands
    assert not outer.leaf
    assert isinstance(permute(outer, ("j", "i")), Band)
    assert isinstance(parallelize(inner, "k"), Illegal)  # s carries the reduction


def test_jacobi_with_two_arrays_allows_interchange_and_parallel_outer_loops() -> None:
    bands = only_plan_bands(analysis_of(JACOBI))
    assert [b.vars for b in bands] == [("t",), ("i", "j"), ("i", "j")]
    time_loop, first, second = bands
    for band in (first, second):
        assert band.deps == ()
        swapped = permute(band, ("j", "i"))
        assert isinstance(swapped, Band)
        assert isinstance(parallelize(swapped, "j"), Band)
        assert isinstance(parallelize(band, "i"), Band)
    assert isinstance(parallelize(time_loop, "t"), Illegal)


def test_seidel_in_place_carries_dependences_so_interchange_needs_skewing() -> None:
    (band,) = only_plan_bands(analysis_of(SEIDEL))
    swapped = permute(band, ("j", "i"))
    assert isinstance(swapped, Illegal)
    assert "dependence" in swapped.reason
    assert isinstance(parallelize(band, "i"), Illegal)
    assert isinstance(parallelize(band, "j"), Illegal)
    assert isinstance(tile(band, [8, 8]), Illegal)
    skewed = make_permutable(band)
    assert isinstance(skewed, Band)
    assert skewed.schedule.matrix == ((1, 0), (1, 1))  # j runs along j + i
    assert isinstance(permute(skewed, ("j", "i")), Band)
    assert isinstance(tile(skewed, [8, 8]), Band)


def test_prefix_scan_is_not_parallel() -> None:
    (band,) = only_plan_bands(analysis_of(PREFIX_SCAN, reassociate=True))
    result = parallelize(band, "i")
    assert isinstance(result, Illegal)
    assert "on s" in result.reason


def test_histogram_reduction_on_an_indirect_subscript_is_not_affine() -> None:
    kernel = lift_source(HISTOGRAM, "kernel")
    (entry,) = kernel.nests
    assert not kernel.transformable
    assert "indirect subscript" in entry.reason  # type: ignore[union-attr]
    assert "not affine" in entry.reason  # type: ignore[union-attr]


@pytest.mark.parametrize("reassociate", [False, True])
def test_scalar_reduction_runs_in_parallel_only_when_it_may_be_reassociated(
    reassociate: bool,
) -> None:
    (band,) = only_plan_bands(analysis_of(DOT, reassociate=reassociate))
    assert isinstance(parallelize(band, "i"), Band) == reassociate


def _vectors(source: str) -> set[tuple[Interval, ...]]:
    (nest,) = lift_source(source, "kernel").transformable
    return {d.vector for d in dependences(nest.roots, nest.live_out) if d.array == "A"}


def test_uniform_distance_is_exact() -> None:
    source = """
    def kernel(A, n):
        for i in range(1, n):
            A[i] = A[i - 1] + 1.0
    """
    assert _vectors(source) == {(Interval(1, 1),)}


def test_gcd_test_separates_even_and_odd_elements() -> None:
    source = """
    def kernel(A, n):
        for i in range(n):
            A[2 * i] = A[2 * i + 1] + 1.0
    """
    assert _vectors(source) == set()


def test_disjoint_triangles_have_only_the_diagonal_in_common() -> None:
    # cov[j, i] for j >= i touches the upper triangle cov[i, j] only on the diagonal.
    source = """
    def kernel(A, m):
        for i in range(m):
            for j in range(i, m):
                A[j, i] = A[i, j]
    """
    assert _vectors(source) <= {(Interval(0, 0), Interval(0, 0))}


def test_unknown_distance_is_kept_conservatively() -> None:
    source = """
    def kernel(A, n, m):
        for i in range(n):
            A[i] = A[i + m] + 1.0
    """
    vectors = _vectors(source)
    assert vectors  # m is unknown: a dependence either way may exist
    assert all(v[0].lo is not None and v[0].lo >= 1 for v in vectors)
