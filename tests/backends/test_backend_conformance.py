"""The CPU and CUDA backends pass the backend conformance suite."""

from __future__ import annotations

from typing import Any

import numpy as np

from autotune.backends import BaseBackend, get_backend
from autotune.kernels import cuda_kernel
from autotune.space import Pow2
from autotune.testing.backends import BackendConformance
from autotune.testing.builders import scaled_copy

SCALE_CU = """
extern "C" __global__ void scale(const float* x, float* y, float a, int n) {
    int i = blockIdx.x * BLOCK + threadIdx.x;
    if (i < n) y[i] = a * x[i];
}
"""


def _scale_reference(x: Any, y: Any, a: Any, n: Any) -> None:
    y[:] = a * x


SCALE = cuda_kernel(
    entry="scale",
    code=SCALE_CU,
    sizes={"small": {"N": 4096}},
    inputs=[
        {"name": "x", "shape": ["N"], "dtype": "float32", "fill": "random"},
        {"name": "y", "shape": ["N"], "dtype": "float32", "fill": "zeros"},
        {"name": "a", "value": 2.5, "dtype": "float32"},
        {"name": "n", "value": "N", "dtype": "int32"},
    ],
    outputs=["y"],
    grid=["ceil_div(N, BLOCK)"],
    block=["BLOCK"],
    params={"BLOCK": Pow2(32, 1024, 256)},
    reference=_scale_reference,
)


class TestNumbaBackend(BackendConformance):
    def make_backend(self) -> BaseBackend:
        return get_backend("numba")

    def make_kernel(self) -> Any:
        return scaled_copy


class TestCudaBackend(BackendConformance):
    def make_backend(self) -> BaseBackend:
        return get_backend("cuda")

    def make_kernel(self) -> Any:
        return SCALE

    def compiler_missing(self) -> str | None:
        from autotune.backends._cuda import nvrtc_unavailable

        return nvrtc_unavailable()


def test_a_cuda_kernels_space_holds_its_parameters_and_restrictions() -> None:
    from autotune.backends._cupy import cuda_search_space

    space = cuda_search_space(SCALE)
    assert space.names == ["kernel.BLOCK"]
    assert space.violation({"kernel.BLOCK": 2048}) is not None  # not in the space
    rng = np.random.default_rng(0)
    assert all(space.violation(space.sample(rng)) is None for _ in range(10))
