"""The Numba builder on kernels written with their own ``@njit`` options: the
baseline is the kernel as written, the default config builds exactly that, and
candidates build on the author's options."""

from __future__ import annotations

from typing import Any

import numba
import pytest

from autotune.backends._numba import NumbaBuilder, WithThreads, signature_of
from autotune.kernels import NUMBA_DEFAULT, KernelDecl, load_kernels
from autotune.passes import cpu_search_space
from tests._helpers import FIXTURES


@pytest.fixture(scope="module")
def builder() -> NumbaBuilder:
    return NumbaBuilder()


def _fixture(name: str) -> KernelDecl:
    return next(d for d in load_kernels(FIXTURES / "author_options.py") if d.name == name)


def _spec_declared() -> KernelDecl:
    (decl,) = load_kernels(FIXTURES / "author_lib.py")
    return decl


def _dispatcher(artifact: Any) -> Any:
    return artifact.dispatcher if isinstance(artifact, WithThreads) else artifact


@pytest.mark.parametrize("make", [lambda: _fixture("dot_fastmath"), _spec_declared])
def test_the_default_configs_build_is_the_authors_build(builder, make) -> None:  # type: ignore[no-untyped-def]
    decl = make()
    args = decl.make_inputs(0)
    baseline = builder.build_baseline(decl, args)
    default = builder.build(decl, cpu_search_space(decl).default_config(), args)
    plain = builder.build_baseline(decl.as_baseline(NUMBA_DEFAULT), args)
    assert baseline.code_hash == default.code_hash is not None
    assert plain.code_hash != baseline.code_hash  # fastmath made other code
    options = _dispatcher(baseline.artifact).targetoptions
    assert options["fastmath"] is True
    assert {k: options.get(k) for k in decl.njit_options} == decl.njit_options


def test_numba_default_builds_plain_njit_as_before(builder) -> None:  # type: ignore[no-untyped-def]
    decl = _fixture("dot_fastmath").as_baseline(NUMBA_DEFAULT)
    args = decl.make_inputs(0)
    baseline = builder.build_baseline(decl, args)
    default = builder.build(decl, cpu_search_space(decl).default_config(), args)
    assert "fastmath" not in _dispatcher(baseline.artifact).targetoptions
    assert baseline.code_hash == default.code_hash


def test_fastmath_off_builds_what_plain_njit_builds(builder) -> None:  # type: ignore[no-untyped-def]
    decl = _fixture("dot_fastmath")
    args = decl.make_inputs(0)
    space = cpu_search_space(decl)
    off = builder.build(decl, space.with_defaults({"flags.fastmath": "off"}), args)
    plain = builder.build_baseline(decl.as_baseline(NUMBA_DEFAULT), args)
    assert off.code_hash == plain.code_hash


def test_prange_loops_stay_parallel_in_candidates_with_parallel_on(builder) -> None:  # type: ignore[no-untyped-def]
    decl = _fixture("scale_parallel")
    args = decl.make_inputs(0)
    space = cpu_search_space(decl)
    sig = signature_of(args)
    candidate = space.with_defaults({"pipeline.speed_level": 2})
    on = _dispatcher(builder.build(decl, candidate, args).artifact)
    off = _dispatcher(builder.build(decl, {**candidate, "flags.parallel": False}, args).artifact)
    assert on.targetoptions["parallel"] is True
    assert "parfor" in on.inspect_llvm(sig)  # the prange loop runs as a parallel region
    assert not off.targetoptions["parallel"] and "parfor" not in off.inspect_llvm(sig)


def test_a_parallel_build_runs_with_all_of_numbas_threads(builder) -> None:  # type: ignore[no-untyped-def]
    decl = _fixture("scale_parallel")
    baseline = builder.build_baseline(decl, decl.make_inputs(0))
    assert isinstance(baseline.artifact, WithThreads)
    assert baseline.artifact.threads == numba.config.NUMBA_NUM_THREADS  # type: ignore[attr-defined]


def test_the_workload_differs_between_the_baselines(builder) -> None:  # type: ignore[no-untyped-def]
    decl = _fixture("dot_fastmath")
    args = decl.make_inputs(0)
    as_written = builder.lower(decl, args)
    plain = builder.lower(decl.as_baseline(NUMBA_DEFAULT), args)
    assert as_written.key != plain.key
    assert as_written.ir_text.startswith("; autotune baseline: njit(fastmath=True)")
    assert not plain.ir_text.startswith("; autotune baseline")
