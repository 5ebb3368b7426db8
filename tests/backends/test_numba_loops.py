"""The Numba builder with loop transformations: rewritten source, prange, threads."""

from __future__ import annotations

from pathlib import Path

import numba
import numpy as np
import pytest

from autotune.backends._numba import NumbaBuilder, WithThreads
from autotune.kernels import load_kernels
from autotune.measure._verify import collect_outputs, compare_outputs
from autotune.passes import cpu_search_space
from tests._helpers import FIXTURES


@pytest.fixture(scope="module")
def builder() -> NumbaBuilder:
    return NumbaBuilder()


@pytest.fixture(scope="module")
def matmul():  # type: ignore[no-untyped-def]
    return {d.name: d for d in load_kernels(Path(FIXTURES / "loops_kernels.py"))}["matmul"]


def _config(decl, **changes):  # type: ignore[no-untyped-def]
    space = cpu_search_space(decl, loops="parallel")
    names = {n.rsplit(".", 1)[-1] if ".b1." in n else n: n for n in space.names}
    config = space.with_defaults({names[k]: v for k, v in changes.items()})
    assert space.violation(config) is None, space.violation(config)
    return config


def _correct(decl, func) -> bool:  # type: ignore[no-untyped-def]
    args = decl.make_inputs(0)
    want = [args[0] @ args[1]]
    return (
        compare_outputs(collect_outputs(func, args, decl.outputs), want, decl.outputs, 1e-9, 1e-9)
        is None
    )


def test_a_transformed_build_computes_the_product(builder, matmul) -> None:  # type: ignore[no-untyped-def]
    config = _config(matmul, order="i,k,j", tile=16, unroll=2)
    built = builder.build(matmul, config, matmul.make_inputs(0))
    assert built.error == ""
    assert _correct(matmul, built.artifact)


def test_the_default_config_builds_numbas_own_code(builder, matmul) -> None:  # type: ignore[no-untyped-def]
    args = matmul.make_inputs(0)
    default = builder.build(
        matmul, cpu_search_space(matmul, loops="parallel").default_config(), args
    )
    baseline = builder.build_baseline(matmul, args)
    assert default.code_hash == baseline.code_hash


def test_loop_choices_give_distinct_code_hashes(builder, matmul) -> None:  # type: ignore[no-untyped-def]
    args = matmul.make_inputs(0)
    ikj = builder.build(matmul, _config(matmul, order="i,k,j"), args)
    again = builder.build(matmul, _config(matmul, order="i,k,j"), args)
    kij = builder.build(matmul, _config(matmul, order="k,i,j"), args)
    assert ikj.code_hash == again.code_hash != kij.code_hash


def test_a_parallel_build_runs_with_its_thread_count(builder, matmul) -> None:  # type: ignore[no-untyped-def]
    config = _config(matmul, **{"loops.parallel": True, "parallel": True, "order": "i,k,j"})
    built = builder.build(matmul, config, matmul.make_inputs(0))
    assert isinstance(built.artifact, WithThreads)
    assert built.artifact.threads == config["loops.threads"]
    numba.set_num_threads(1)
    assert _correct(matmul, built.artifact)
    assert numba.get_num_threads() == config["loops.threads"]
    assert np.isfinite(built.compile_s)
