"""Transformations as pure functions, and the source they lower to."""

from __future__ import annotations

import ast
from typing import Any

import numpy as np
import pytest

from autotune.loops import (
    Band,
    BandChoice,
    Illegal,
    apply_choice,
    compile_transformed,
    lower_bands,
    permute,
    transformed_source,
    unroll_and_jam,
)
from autotune.loops._schedule import with_schedule
from tests.loops._programs import (
    analysis_of,
    keyed,
    only_plan_bands,
    run_source,
    transformed_matches,
)
from tests.loops.test_deps import MATMUL, SEIDEL

TRIANGLE = """
def kernel(A, B, C):
    n = A.shape[0]
    for i in range(n):
        for j in range(i + 1):
            for k in range(j, n):
                C[i, j] += A[i, k] * B[k, j]
"""


def _matrices(n: int, seed: int = 0) -> tuple[Any, ...]:
    rng = np.random.default_rng(seed)
    return rng.random((n, n)), rng.random((n, n)), np.zeros((n, n))


def test_transformations_are_pure() -> None:
    (_, band) = only_plan_bands(analysis_of(MATMUL))
    before = band.schedule
    swapped = permute(band, ("k", "i", "j"))
    assert isinstance(swapped, Band)
    assert band.schedule == before
    assert swapped.schedule.names == ("k", "i", "j")


def test_default_choices_leave_the_source_as_written() -> None:
    analysis = analysis_of(MATMUL)
    result = transformed_source(analysis, keyed(analysis, {1: BandChoice()}))
    assert not isinstance(result, Illegal)
    original = ast.parse(MATMUL).body[0]
    assert ast.dump(result.func.body[-1]) == ast.dump(original.body[-1])  # type: ignore[attr-defined]


def test_an_illegal_interchange_forced_through_changes_the_result() -> None:
    # The check the other tests rely on: an order the analysis refuses really does
    # compute something else.
    analysis = analysis_of(SEIDEL)
    (band,) = only_plan_bands(analysis)
    assert isinstance(permute(band, ("j", "i")), Illegal)
    forced = with_schedule(band, band.schedule.__class__(((0, 1), (1, 0)), ("j", "i")))
    lowered = lower_bands(analysis, keyed(analysis, {0: forced}))
    (A,) = (np.random.default_rng(0).random((9, 9)),)
    (want,) = run_source(SEIDEL, "kernel", (A,))
    (got,) = run_source(lowered.source, "kernel", (A,))
    assert not np.allclose(want, got)


@pytest.mark.parametrize(
    "choice",
    [
        BandChoice(order=("i", "k", "j")),
        BandChoice(order=("k", "j", "i"), tile=3),
        BandChoice(tile=4, tile_inner=5),
        BandChoice(order=("j", "k", "i"), unroll=3),
        BandChoice(order=("i", "k", "j"), tile=2, unroll=2, parallel=True),
        BandChoice(parallel=True),
    ],
)
def test_matmul_choices_compute_the_same_product(choice: BandChoice) -> None:
    # n = 7 divides none of the tile sizes or unroll factors: edge tiles and
    # remainder loops run.
    assert transformed_matches(MATMUL, {1: choice}, _matrices(7))


@pytest.mark.parametrize("order", [("j", "i", "k"), ("k", "j", "i"), ("j", "k", "i")])
def test_triangular_bounds_are_rewritten_for_every_order(order: tuple[str, ...]) -> None:
    assert transformed_matches(TRIANGLE, {0: BandChoice(order=order, tile=2)}, _matrices(6))


def test_unroll_and_jam_refuses_a_loop_that_inner_bounds_depend_on() -> None:
    (band,) = only_plan_bands(analysis_of(TRIANGLE))
    result = unroll_and_jam(band, "j", 2)
    assert isinstance(result, Illegal)
    assert "depend on j" in result.reason
    assert isinstance(unroll_and_jam(band, "k", 2), Illegal)  # innermost


def test_unroll_and_jam_refuses_to_reverse_a_dependence() -> None:
    (band,) = only_plan_bands(analysis_of(SEIDEL))
    result = unroll_and_jam(band, "i", 2)
    assert isinstance(result, Illegal)
    assert "reverse the dependence" in result.reason


def test_skewed_and_tiled_seidel_computes_the_same_values() -> None:
    A = np.random.default_rng(1).random((11, 11))
    choice = BandChoice(enable="permutable", order=("j", "i"), tile=3, tile_inner=4)
    assert transformed_matches(SEIDEL, {0: choice}, (A,))


def test_invariant_elements_are_kept_in_locals_only_for_writable_arrays() -> None:
    analysis = analysis_of(MATMUL)
    choice = {1: BandChoice(order=("i", "j", "k"), tile=4)}
    kept = transformed_source(analysis, keyed(analysis, choice), writable=frozenset({"C"}))
    plain = transformed_source(analysis, keyed(analysis, choice))
    assert not isinstance(kept, Illegal) and not isinstance(plain, Illegal)
    assert "c_ij = C[i, j]" in kept.source and "C[i, j] = c_ij" in kept.source
    assert "c_ij" not in plain.source
    assert transformed_matches(MATMUL, choice, _matrices(6))


def test_new_names_avoid_the_names_the_kernel_uses() -> None:
    source = """
def kernel(A, prange, i_t):
    for i in range(A.shape[0]):
        A[i] = prange + i_t
"""
    analysis = analysis_of(source)
    result = transformed_source(analysis, keyed(analysis, {0: BandChoice(parallel=True)}))
    assert not isinstance(result, Illegal)
    assert result.prange_name not in ("prange", "i_t")
    assert result.parallel
    assert transformed_matches(source, {0: BandChoice(parallel=True)}, (np.zeros(5), 1, 2))


def test_apply_choice_reports_the_first_illegal_step() -> None:
    (band,) = only_plan_bands(analysis_of(SEIDEL))
    result = apply_choice(band, BandChoice(order=("j", "i"), tile=4))
    assert isinstance(result, Illegal)
    assert result.reason.startswith("order (j, i)")


def test_a_module_that_rebinds_max_is_refused() -> None:
    analysis = analysis_of(MATMUL)
    lowered = transformed_source(analysis, keyed(analysis, {1: BandChoice(tile=4)}))
    assert not isinstance(lowered, Illegal) and "max(" in lowered.source
    scope: dict[str, Any] = {"max": np.max}
    exec("def kernel(A, B, C):\n    pass\n", scope)
    with pytest.raises(ValueError, match="rebinds max"):
        compile_transformed(scope["kernel"], lowered, {})


def test_a_tiled_innermost_loop_counts_from_zero() -> None:
    # LLVM vectorizes Numba's inner loops only when it can prove their indices
    # non-negative, which a loop starting at max(0, j_t) defeats.
    analysis = analysis_of(MATMUL)
    lowered = transformed_source(analysis, keyed(analysis, {1: BandChoice(tile=4, tile_inner=8)}))
    assert not isinstance(lowered, Illegal)
    assert "for k_k in range(" in lowered.source and "k = k_lo + k_k" in lowered.source
    assert transformed_matches(MATMUL, {1: BandChoice(tile=4, tile_inner=8)}, _matrices(7))
