"""The Numba builder passes the builder conformance suite."""

from typing import Any

from autotune.backends._numba import NumbaBuilder
from autotune.kernels import KernelDecl
from autotune.passes import cpu_search_space
from autotune.testing.builders import BuilderConformance

_BUILDER = NumbaBuilder()


class TestNumbaBuilder(BuilderConformance):
    def make_builder(self) -> NumbaBuilder:
        return _BUILDER

    def default_config(self, decl: KernelDecl) -> dict[str, Any]:
        return cpu_search_space(decl).default_config()
