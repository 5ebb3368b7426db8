"""Kernel declarations: the ``@autotune.kernel`` decorator, spec files and loading."""

from autotune.kernels._decl import RETURN, KernelDecl, kernel
from autotune.kernels._inputs import identical_input_sets
from autotune.kernels._loader import declares_kernels, load_kernels
from autotune.kernels._source import import_source
from autotune.kernels._spec import SPEC_SUFFIX, spec_path_for

__all__ = [
    "RETURN",
    "SPEC_SUFFIX",
    "KernelDecl",
    "declares_kernels",
    "identical_input_sets",
    "import_source",
    "kernel",
    "load_kernels",
    "spec_path_for",
]
