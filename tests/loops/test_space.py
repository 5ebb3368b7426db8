"""Loop transformations as search-space dimensions: defaults, legality, every strategy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import autotune
from autotune.candidate import Candidate
from autotune.kernels import load_kernels
from autotune.loops import Illegal, analyze, transformed_source
from autotune.loops._space import LoopOptions, thread_counts
from autotune.passes import BuildOptions, cpu_search_space
from autotune.strategies import make_strategy
from tests._helpers import CORPUS


def _inputs(rng, n=8):
    return rng.random((n, n)), np.zeros((n, n))


@autotune.kernel(inputs=_inputs, outputs=[1])
def triangle(A, B):
    n = A.shape[0]
    for i in range(n):
        for j in range(i, n):
            for k in range(n):
                B[i, j] += A[k, i] * A[k, j]


def _corpus(name: str) -> autotune.KernelDecl:
    (decl,) = load_kernels(Path(CORPUS / f"{name}.py"))
    return decl


def test_off_adds_nothing() -> None:
    decl = _corpus("matmul")
    names = cpu_search_space(decl, loops="off").names
    assert not [n for n in names if n.startswith("loops.")]


@pytest.mark.parametrize("name", ["matmul", "seidel2d", "jacobi2d", "dot"])
def test_the_default_config_leaves_every_loop_as_written(name: str) -> None:
    space = cpu_search_space(_corpus(name), loops="parallel")
    assert any(n.startswith("loops.") for n in space.names)
    default = space.default_config()
    assert space.violation(default) is None
    decl = _corpus(name)
    loops = BuildOptions.from_config(default).loops
    lowered = transformed_source(analyze(decl.pyfunc, decl.allow_fastmath), loops.choices)
    assert not isinstance(lowered, Illegal)
    assert not lowered.changed


def test_params_scope_keeps_numbas_default_build() -> None:
    space = cpu_search_space(_corpus("matmul"), loops="parallel", scope="params")
    assert not [n for n in space.names if n.startswith("loops.")]


@pytest.mark.parametrize("strategy", ["random", "tpe", "mutation", "evolution", "bandit"])
def test_no_strategy_proposes_an_illegal_transformation(
    strategy: str, global_random_seed: int
) -> None:
    decl = _corpus("seidel2d")
    space = cpu_search_space(decl, loops="parallel")
    analysis = analyze(decl.pyfunc, decl.allow_fastmath)
    search = make_strategy(strategy, space, global_random_seed, budget=30)
    search.mark_seen(Candidate.from_config(space.default_config()))
    proposed = 0
    for _ in range(12):
        asked = search.ask(1)
        if not asked:
            break
        config = asked[0].config
        assert space.violation(config) is None
        loops = LoopOptions.from_config(config)
        assert not isinstance(transformed_source(analysis, loops.choices), Illegal)
        search.tell(asked, [_ok()])
        proposed += 1
    assert proposed == 12


def _ok():  # type: ignore[no-untyped-def]
    from autotune.testing.databases import make_timing_result

    return make_timing_result()


def test_the_constraint_says_why_a_combination_is_illegal() -> None:
    space = cpu_search_space(triangle, loops="serial", scope="compiler")
    (prefix,) = {n.rsplit(".", 1)[0] for n in space.names if n.startswith("loops.n")}
    legal = space.with_defaults({f"{prefix}.unroll": 2})  # jams j around k: legal
    assert legal[f"{prefix}.unroll"] == 2 and space.violation(legal) is None
    config = space.with_defaults({f"{prefix}.order": "k,i,j", f"{prefix}.unroll": 2})
    why = space.violation(config)
    assert why is not None and "bounds of loop j depend on i" in why


def test_parallel_needs_a_band_that_runs_in_parallel() -> None:
    space = cpu_search_space(_corpus("matmul"), loops="parallel")
    config = space.with_defaults({"loops.parallel": True})
    assert "no band runs in parallel" in (space.violation(config) or "")
    prefix = next(n for n in space.names if n.endswith(".b1.parallel"))
    config = space.with_defaults({"loops.parallel": True, prefix: True})
    assert space.violation(config) is None
    options = LoopOptions.from_config(config)
    assert options.threads == thread_counts()[0]
    assert any(c.parallel for c in options.choices.values())


def test_thread_counts_halve_down_to_two() -> None:
    assert thread_counts(16) == (16, 8, 4, 2)
    assert thread_counts(6) == (6, 3, 2)
    assert thread_counts(2) == (2,)
    assert thread_counts(1) == ()


def test_loops_scope_searches_loop_transformations_alone() -> None:
    space = cpu_search_space(_corpus("matmul"), loops="serial", scope="loops")
    assert space.names and all(n.startswith("loops.") for n in space.names)
    with pytest.raises(ValueError, match="needs loop transformations"):
        cpu_search_space(_corpus("matmul"), scope="loops")
