"""Transformed corpus kernels compile with Numba and pass their reference checks."""

from __future__ import annotations

import itertools
from pathlib import Path

import numba
import pytest

from autotune.kernels import KernelDecl, load_kernels
from autotune.loops import (
    BandChoice,
    Illegal,
    analyze,
    apply_choice,
    compile_transformed,
    transformed_source,
)
from autotune.measure._verify import collect_outputs, compare_outputs
from tests._helpers import CORPUS


def _decl(name: str) -> KernelDecl:
    (decl,) = load_kernels(Path(CORPUS / f"{name}.py"))
    return decl


def _check(name: str, choices: dict[int, BandChoice], nest: int | None = None) -> str:
    """Compile ``name`` with ``choices`` (by band index of its last nest, or ``nest``)
    and return the lowered source; fail unless it matches the reference."""
    decl = _decl(name)
    analysis = analyze(decl.pyfunc, decl.allow_fastmath)
    index = max(analysis.plans) if nest is None else nest
    keyed = {(index, b): c for b, c in choices.items()}
    lowered = transformed_source(analysis, keyed, writable=frozenset({"C", "A", "cov"}))
    assert not isinstance(lowered, Illegal), lowered
    func = numba.njit(parallel=lowered.parallel)(compile_transformed(decl.pyfunc, lowered, {}))
    args = decl.make_inputs(0, "small")
    reference = decl.reference or decl.pyfunc
    want = collect_outputs(reference, args, decl.outputs)
    got = collect_outputs(func, args, decl.outputs)
    assert compare_outputs(got, want, decl.outputs, decl.rtol, decl.atol) is None, lowered.source
    return lowered.source


@pytest.mark.parametrize("order", list(itertools.permutations(("i", "j", "k"))))
def test_every_matmul_order_matches_the_reference_within_tolerance(order: tuple[str, ...]) -> None:
    _check("matmul", {1: BandChoice(order=order)})


def test_blocked_parallel_gemm_with_unroll_and_jam() -> None:
    source = _check(
        "gemm", {1: BandChoice(order=("i", "k", "j"), tile=16, unroll=2, parallel=True)}
    )
    assert "prange" in source


def test_jacobi_interchanged_and_parallel() -> None:
    _check(
        "jacobi2d", {1: BandChoice(order=("j", "i"), parallel=True), 2: BandChoice(parallel=True)}
    )


def test_seidel_time_skewed_and_tiled() -> None:
    _check("seidel2d", {0: BandChoice(enable="permutable", tile=8, tile_inner=8)})


def test_triangular_covariance_product_interchanged() -> None:
    decl = _decl("covariance")
    analysis = analyze(decl.pyfunc, decl.allow_fastmath)
    bands = analysis.plans[max(analysis.plans)].bands
    product = next(b for b in bands if b.vars == ("i", "j", "k"))
    _check("covariance", {product.index: BandChoice(order=("k", "i", "j"), tile=8)})


@pytest.mark.slow
@pytest.mark.parametrize(
    "name",
    ["two_mm", "syrk", "trmm", "lu", "cholesky", "fdtd2d"],
)
def test_corpus_kernels_tiled_and_parallel_where_legal(name: str) -> None:
    decl = _decl(name)
    analysis = analyze(decl.pyfunc, decl.allow_fastmath)
    for index, plan in analysis.plans.items():
        choices = {}
        for band in plan.bands:
            for choice in (
                BandChoice(tile=8, parallel=True),
                BandChoice(tile=8),
                BandChoice(parallel=True),
            ):
                if not isinstance(apply_choice(band, choice), Illegal):
                    choices[band.index] = choice
                    break
        if choices:
            _check(name, choices, nest=index)
