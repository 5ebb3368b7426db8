"""The CUDA kernels of ``corpora/gpu`` load, their defaults are valid launches at every
size, their references run, and they compile for sm_90 with NVRTC (no GPU needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from autotune.backends._cupy import CudaBuilder, cuda_search_space, split_config
from autotune.kernels import CudaKernelDecl, load_kernels
from autotune.measure._verify import collect_outputs

CORPUS = Path(__file__).resolve().parents[2] / "corpora" / "gpu"
SOURCES = sorted(CORPUS.glob("*.cu"))


def _nvrtc_missing() -> str | None:
    from autotune.backends._cuda import nvrtc_unavailable

    return nvrtc_unavailable()


needs_nvrtc = pytest.mark.skipif(_nvrtc_missing() is not None, reason=str(_nvrtc_missing()))


def _decls() -> list[CudaKernelDecl]:
    return [d for source in SOURCES for d in load_kernels(source)]


def test_the_corpus_has_the_five_kernels_with_performance_models() -> None:
    decls = _decls()
    assert {d.entry for d in decls} == {
        "sgemm", "reduce_sum", "transpose", "conv2d", "softmax"
    }  # fmt: skip
    for decl in decls:
        assert decl.roofline in ("gemm", "copy") and decl.bytes_moved is not None
        assert decl.reference is not None


@pytest.mark.parametrize("decl", _decls(), ids=lambda d: d.name)
def test_defaults_are_valid_launches_at_every_size(decl: CudaKernelDecl) -> None:
    for size in decl.sizes:
        assert decl.violated(decl.default_params(), size) is None, size
        grid, block, shared = decl.geometry(decl.default_params(), size)
        assert min(grid) >= 1 and 1 <= int(np.prod(block)) <= 1024 and shared >= 0
        _, moved = decl.performance(size, decl.default_params())
        assert moved is not None and moved > 0


@pytest.mark.parametrize("decl", _decls(), ids=lambda d: d.name)
def test_the_reference_runs_on_the_default_size(decl: CudaKernelDecl) -> None:
    args = decl.make_inputs(0)
    outputs = collect_outputs(decl.reference, args, decl.outputs)
    assert all(np.all(np.isfinite(o)) for o in outputs)


@needs_nvrtc
def test_every_default_compiles_for_sm90_with_its_resources(
    tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setenv("AUTOTUNE_CUBIN_CACHE", str(tmp_path))
    builder = CudaBuilder(arch="sm_90", processes=2)
    try:
        for decl in _decls():
            args = decl.make_inputs(0)
            builder.prepare(decl, [{}], args)
        built = {d.name: builder.build_baseline(d, d.make_inputs(0)) for d in _decls()}
    finally:
        builder.close()
    for name, result in built.items():
        assert result.artifact is not None, f"{name}: {result.error}"
        assert result.features["registers"] > 0 and 0 < result.features["occupancy"] <= 1


@needs_nvrtc
@pytest.mark.parametrize("decl", _decls(), ids=lambda d: d.name)
def test_sampled_valid_configs_compile_and_invalid_ones_say_why(
    decl: CudaKernelDecl, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setenv("AUTOTUNE_CUBIN_CACHE", str(tmp_path))
    space = cuda_search_space(decl)
    rng = np.random.default_rng(0)
    samples = [space.sample(rng) for _ in range(40)]
    valid = [c for c in samples if space.violation(c) is None][:6]
    invalid = [c for c in samples if space.violation(c) is not None]
    assert valid
    args = decl.make_inputs(0)
    builder = CudaBuilder(arch="sm_90", processes=2)
    try:
        builder.prepare(decl, valid, args)
        for config in valid:
            built = builder.build(decl, config, args)
            assert built.artifact is not None, f"{config}: {built.error}"
        for config in invalid[:3]:
            params = split_config(decl, config)[0]
            assert decl.violated(params, None)  # the space's reason comes from the decl
            built = builder.build(decl, config, args)
            assert built.artifact is None and built.error.startswith("invalid config")
    finally:
        builder.close()
