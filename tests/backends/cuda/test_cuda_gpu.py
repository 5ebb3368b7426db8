"""Device probing, loading, launching and timing. The tests marked ``gpu`` need a CUDA
device with CuPy and are skipped elsewhere (see ``tests/conftest.py``); the others check
what must hold on any machine."""

from __future__ import annotations

import numpy as np
import pytest
from _cuda_sources import SCALE

from autotune.backends._cuda import (
    compile_cubin,
    device_arch,
    device_facts,
    device_limits,
    gpu_unavailable_reason,
    nvml_sample,
    nvrtc_unavailable,
    occupancy,
    parse_ptxas,
    roofline_references,
    sticky_error,
    time_paired_events,
)


class CUDARuntimeError(Exception):
    """Stands in for CuPy's error class: a status code and CUDA's wording."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status


@pytest.mark.parametrize(
    ("exc", "sticky"),
    [
        (
            CUDARuntimeError(
                700, "cudaErrorIllegalAddress: an illegal memory access was encountered"
            ),
            True,
        ),
        (CUDARuntimeError(719, "cudaErrorLaunchFailure: unspecified launch failure"), True),
        (CUDARuntimeError(716, "cudaErrorMisalignedAddress: misaligned address"), True),
        (
            CUDARuntimeError(
                701, "cudaErrorLaunchOutOfResources: too many resources requested for launch"
            ),
            False,
        ),
        (CUDARuntimeError(1, "cudaErrorInvalidValue: invalid argument"), False),
        (
            RuntimeError("CUDA_ERROR_ILLEGAL_ADDRESS: an illegal memory access was encountered"),
            True,
        ),
        (ValueError("shapes do not match"), False),
    ],
)
def test_sticky_errors(exc, sticky):
    assert sticky_error(exc) is sticky


def test_gpu_probe_never_raises():
    reason = gpu_unavailable_reason()
    assert reason is None or (isinstance(reason, str) and reason)
    assert gpu_unavailable_reason() is reason  # cached


def test_nvml_sample_is_a_dict_or_none():
    sample = nvml_sample()
    assert sample is None or set(sample) == {"sm_clock_mhz", "temperature_c", "power_w"}


needs_nvrtc = pytest.mark.skipif(
    nvrtc_unavailable() is not None, reason=f"NVRTC is not usable here: {nvrtc_unavailable()}"
)


@pytest.mark.gpu
def test_device_facts():
    facts = device_facts()
    assert facts["arch"] == device_arch() and device_arch().startswith("sm_")
    assert facts["sm_count"] > 0 and facts["memory_bytes"] > 0
    assert facts["compute_capability"].count(".") == 1
    limits = device_limits()
    assert limits.max_threads_per_block >= 1024 and limits.warp_size == 32


def scale_kernel(scale_by: float = 2.0):
    from autotune.backends._cuda import LoadedKernel

    out = compile_cubin(SCALE, "scale", [f"-DSCALE_BY={scale_by}f"], arch=device_arch())
    assert out.ok, out.error
    assert out.cubin is not None
    return out, LoadedKernel(out.cubin, out.lowered_name)


@pytest.mark.gpu
@needs_nvrtc
def test_load_and_launch_a_cubin():
    import cupy

    out, kernel = scale_kernel()
    data = cupy.arange(1000, dtype=cupy.float32)
    kernel.launch((4,), (256,), (data, np.float32(3.0), np.int32(1000)))
    cupy.cuda.Device().synchronize()
    np.testing.assert_allclose(cupy.asnumpy(data), np.arange(1000, dtype=np.float32) * 6.0)
    attributes = kernel.attributes()
    assert out.resources == parse_ptxas(out.log, out.lowered_name)
    assert out.resources is not None and attributes["registers"] == out.resources.registers
    assert attributes["shared_static_bytes"] == out.resources.shared_static_bytes
    assert occupancy(out.resources, 256, 0, device_limits()) > 0


@pytest.mark.gpu
@needs_nvrtc
def test_time_paired_events_shapes():
    import cupy

    _, kernel = scale_kernel()
    data = cupy.ones(1 << 20, dtype=cupy.float32)
    args = (data, np.float32(1.0), np.int32(data.size))

    def run_a() -> None:
        kernel.launch((data.size // 256,), (256,), args)

    def run_b() -> None:
        kernel.launch((data.size // 512,), (256,), args)  # half the work

    times_a, times_b = time_paired_events(run_a, run_b, warmup=2, rounds=3, reps=4, flush_l2=True)
    assert [len(r) for r in times_a] == [4, 4, 4] and [len(r) for r in times_b] == [4, 4, 4]
    assert all(0 < t < 1 for r in times_a + times_b for t in r)


@pytest.mark.gpu
def test_roofline_references_small():
    refs = roofline_references(copy_bytes=64 << 20, gemm_n=1024, repeats=3)
    assert refs["copy_gbps"]["median"] > 10 and refs["sgemm_tflops"]["median"] > 0.1
    assert refs["copy_gbps"]["min"] <= refs["copy_gbps"]["median"] <= refs["copy_gbps"]["max"]


def test_sticky_errors_from_cupy():
    cupy = pytest.importorskip("cupy", reason="CuPy is not installed")
    assert sticky_error(cupy.cuda.runtime.CUDARuntimeError(700))
    assert not sticky_error(cupy.cuda.runtime.CUDARuntimeError(701))
