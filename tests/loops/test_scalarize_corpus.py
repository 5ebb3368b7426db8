"""Scalarized (and fused) builds of the NumPy-style corpus compute the reference's
results: NumPy's semantics survive the rewrite on real kernels, compiled by Numba."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from autotune.backends._numba import NumbaBuilder
from autotune.kernels import KernelDecl, load_kernels
from autotune.loops import Transformed, analyze, declared_ranks, transformed_source
from autotune.loops._space import fuse_key
from autotune.measure._verify import collect_outputs, compare_outputs
from tests._helpers import CORPUS

FILES = sorted((CORPUS.parent / "numpy").glob("*_np.py"))


def _decl(name: str) -> KernelDecl:
    (decl,) = load_kernels(CORPUS.parent / "numpy" / f"{name}.py")
    return decl


def _check(decl: KernelDecl, config: dict[str, object]) -> None:
    builder = NumbaBuilder()
    for seed in (0, 1):
        args = decl.make_inputs(seed, "small")
        built = builder.build(decl, config, args)
        assert built.artifact is not None, built.error
        want = collect_outputs(decl.reference or decl.pyfunc, args, decl.outputs)
        got = collect_outputs(built.artifact, args, decl.outputs)
        assert compare_outputs(got, want, decl.outputs, decl.rtol, decl.atol) is None


def _scalar_configs(decl: KernelDecl) -> list[dict[str, object]]:
    analysis = analyze(decl.pyfunc, decl.allow_fastmath, declared_ranks(decl))
    if not analysis.kernel.rewritten:
        return []
    scalar: dict[str, object] = {"loops.scalarize": True}
    fused = {fuse_key(i): True for i, p in analysis.plans.items() if p.fused is not None}
    return [scalar, {**scalar, **fused}] if fused else [scalar]


def test_the_scalarized_heat_stencil_matches_and_drops_its_slices() -> None:
    decl = _decl("heat3d_np")
    (config,) = _scalar_configs(decl)
    _check(decl, config)
    analysis = analyze(decl.pyfunc, decl.allow_fastmath, declared_ranks(decl))
    lowered = transformed_source(analysis, {}, frozenset(), scalarize=True)
    assert isinstance(lowered, Transformed)
    assert not [n for n in ast.walk(ast.parse(lowered.source)) if isinstance(n, ast.Slice)]


@pytest.mark.slow
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_scalarized_corpus_kernel_matches_its_reference(path: Path) -> None:
    (decl,) = load_kernels(path)
    configs = _scalar_configs(decl)
    if not configs:
        pytest.skip(f"{decl.name}: no array statement is scalarized")
    for config in configs:
        _check(decl, config)


def test_most_corpus_kernels_have_something_scalarized() -> None:
    rewritten = [p.stem for p in FILES if _scalar_configs(load_kernels(p)[0])]
    assert len(rewritten) >= 0.8 * len(FILES), rewritten
