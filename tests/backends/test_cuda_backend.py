"""The CUDA backend as the tuner uses it, without a GPU: loading, lowering, compiling
ahead, build failures as values, and refusing to measure where no GPU is."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from autotune.backends import get_backend
from autotune.backends._cupy import CudaBuilder, CudaTarget, cuda_search_space
from autotune.kernels import load_kernels
from autotune.measure import KernelRef, LocalRunner

CORPUS = Path(__file__).resolve().parents[2] / "corpora" / "gpu"

SCALE_CU = """
extern "C" __global__ void scale(const float* x, float* y, float a, int n) {
    int i = blockIdx.x * BLOCK + threadIdx.x;
    if (i < n) y[i] = a * x[i];
}
"""

DECLARING_MODULE = """
import autotune

def ref(x, y, a, n):
    y[:] = a * x

scale = autotune.cuda_kernel(
    entry="scale", source="scale.cu", sizes={"small": {"N": 4096}},
    inputs=[{"name": "x", "shape": ["N"], "dtype": "float32"},
            {"name": "y", "shape": ["N"], "dtype": "float32", "fill": "zeros"},
            {"name": "a", "value": 2.5, "dtype": "float32"},
            {"name": "n", "value": "N", "dtype": "int32"}],
    outputs=["y"], grid=["ceil_div(N, BLOCK)"], block=["BLOCK"],
    params={"BLOCK": autotune.Pow2(32, 1024, 256)}, reference=ref,
)
"""


def _nvrtc_missing() -> str | None:
    from autotune.backends._cuda import nvrtc_unavailable

    return nvrtc_unavailable()


needs_nvrtc = pytest.mark.skipif(_nvrtc_missing() is not None, reason=str(_nvrtc_missing()))


@pytest.fixture
def python_declared(tmp_path: Path) -> Path:
    (tmp_path / "scale.cu").write_text(SCALE_CU)
    module = tmp_path / "kern.py"
    module.write_text(textwrap.dedent(DECLARING_MODULE))
    return module


def test_a_kernel_declared_in_python_is_loaded_by_workers_from_that_file(
    python_declared: Path,
) -> None:
    [decl] = load_kernels(python_declared)
    assert decl.loaded_from == str(python_declared.resolve())
    with LocalRunner() as runner:
        lowered = runner.lower(KernelRef(decl.loaded_from, None, decl.name, builder="cuda"))
    assert lowered.workload is not None, lowered.error
    assert lowered.workload.arg_types == "(float32[1d], float32[1d], float32, int32)"
    assert "scale" in lowered.workload.ir_text


@needs_nvrtc
def test_configs_compile_ahead_and_builds_take_them(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AUTOTUNE_CUBIN_CACHE", str(tmp_path / "cubins"))
    [decl] = [d for d in load_kernels(CORPUS / "reduction.cu") if d.name == "reduce_sum"]
    args = decl.make_inputs(0)
    space = cuda_search_space(decl)
    configs = [c for c in space.enumerate() if space.violation(c) is None][:3]
    builder = CudaBuilder(arch="sm_90", processes=2)
    try:
        builder.prepare(decl, configs, args)
        assert len(builder._ahead) == len(configs)
        built = [builder.build(decl, c, args) for c in configs]
        assert not builder._ahead  # each build took its compile
    finally:
        builder.close()
    assert all(b.artifact is not None and b.error == "" for b in built)
    assert len({b.code_hash for b in built}) == len(built)
    assert all(b.features["registers"] > 0 for b in built)
    assert all(0 < b.features["occupancy"] <= 1 for b in built)


@needs_nvrtc
def test_a_compile_error_is_a_build_failure_with_the_compilers_message(tmp_path: Path) -> None:
    (tmp_path / "scale.cu").write_text(SCALE_CU.replace("a * x[i]", "a * x[i] + undefined_name"))
    (tmp_path / "kern.py").write_text(textwrap.dedent(DECLARING_MODULE))
    [decl] = load_kernels(tmp_path / "kern.py")
    builder = CudaBuilder(arch="sm_90", processes=0)
    built = builder.build(decl, {}, decl.make_inputs(0))
    builder.close()
    assert built.artifact is None and "undefined_name" in built.error


def test_an_invalid_config_fails_its_build_with_the_restriction(python_declared: Path) -> None:
    [decl] = load_kernels(python_declared)
    builder = CudaBuilder(arch="sm_90", processes=0)
    built = builder.build(decl, {"kernel.BLOCK": 2048}, decl.make_inputs(0))
    assert built.artifact is None and built.error.startswith("invalid config")


def test_the_target_key_depends_on_every_field() -> None:
    base = CudaTarget("NVIDIA H100 80GB HBM3", "9.0", 132, "13.0", "13.0", "14.2.0")
    assert CudaTarget.from_dict(base.as_dict()) == base
    other = CudaTarget("NVIDIA H100 80GB HBM3", "9.0", 114, "13.0", "13.0", "14.2.0")
    assert base.key != other.key and base.arch == "sm_90"


@pytest.mark.skipif(get_backend("cuda").unavailable_reason() is None, reason="a GPU is usable here")
def test_tuning_a_cuda_kernel_without_a_gpu_says_so_in_one_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "autotune.cli", "tune", str(CORPUS / "sgemm.cu"), "--budget", "3"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot be measured here" in lines[0] and "GPU" in lines[0]


@needs_nvrtc
def test_a_tuned_cuda_result_compiles_to_a_launchable_kernel(
    python_declared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from autotune.backends._cupy import CudaArtifact
    from autotune.result import ResultStatus, TuningResult

    monkeypatch.setenv("AUTOTUNE_CUBIN_CACHE", str(tmp_path / "cubins"))
    result = TuningResult(
        "scale",
        ResultStatus.TUNED,
        source=str(python_declared),
        best_config={"kernel.BLOCK": 128},
    )
    kernel = result.compile()
    assert isinstance(kernel, CudaArtifact)
    assert kernel.block == (128, 1, 1) and kernel.grid == (4096 // 128, 1, 1)
