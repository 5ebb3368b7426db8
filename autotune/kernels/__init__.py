"""Kernel declarations: the ``@autotune.kernel`` decorator, CUDA kernels, spec files and
loading."""

from autotune.kernels._cuda_decl import AnyKernelDecl, CudaKernelDecl, cuda_kernel
from autotune.kernels._decl import RETURN, KernelDecl, kernel
from autotune.kernels._expr import Expr
from autotune.kernels._inputs import identical_input_sets
from autotune.kernels._loader import declares_kernels, load_kernels
from autotune.kernels._options import (
    AS_WRITTEN,
    BASELINES,
    NUMBA_DEFAULT,
    author_njit_options,
    describe_baseline,
    njit_options_from_json,
    njit_options_json,
)
from autotune.kernels._source import import_source
from autotune.kernels._spec import SPEC_SUFFIX, spec_path_for

__all__ = [
    "AS_WRITTEN",
    "BASELINES",
    "NUMBA_DEFAULT",
    "RETURN",
    "SPEC_SUFFIX",
    "AnyKernelDecl",
    "CudaKernelDecl",
    "Expr",
    "KernelDecl",
    "author_njit_options",
    "cuda_kernel",
    "declares_kernels",
    "describe_baseline",
    "identical_input_sets",
    "import_source",
    "kernel",
    "load_kernels",
    "njit_options_from_json",
    "njit_options_json",
    "spec_path_for",
]
