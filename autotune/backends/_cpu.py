"""The CPU backend: Numba/llvmlite builds on this host, timed with the host's clock."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from autotune.backends._base import BaseBackend, BaseBuilder


class NumbaBackend(BaseBackend):
    """CPU kernels compiled by Numba: the host CPU and toolchain are the target, the
    space is the compiler's (pass pipelines, options, flags) plus kernel parameters and
    loop transformations, and timing needs the host's cores to itself."""

    name = "numba"

    def target(self) -> Any:
        from autotune.program import host_target

        return host_target()

    def search_space(self, decl: Any, options: Any) -> Any:
        from autotune.passes import cpu_search_space

        return cpu_search_space(
            decl,
            allow_fastmath=options.allow_fastmath,
            scope=options.scope,
            loops=options.loops,
            max_threads=options.max_threads,
        )

    def builder(self) -> BaseBuilder:
        from autotune.backends._numba import NumbaBuilder

        return NumbaBuilder()

    def time_paired(
        self,
        reference: Callable[..., Any],
        candidate: Callable[..., Any],
        args: tuple[Any, ...],
        restore: Sequence[int],
        settings: Any,
    ) -> Any:
        from autotune.measure._timing import time_paired

        return time_paired(reference, candidate, args, restore, settings)

    def baseline_name(self, decl: Any, kind: str) -> str:
        from autotune.kernels import describe_baseline

        return describe_baseline(kind, decl.njit_options)

    def blame(self, state: Any, config: dict[str, Any], why: str, stage: Any) -> str:
        """``why`` marked as a legality bug when the config's loop transformations
        alone, under the baseline's compiler options, already give a wrong result."""
        from autotune.loops import LEGALITY_BUG
        from autotune.loops._space import PREFIX, LoopOptions

        loops_only = {k: v for k, v in config.items() if k.startswith(PREFIX)}
        if LoopOptions.from_config(loops_only).is_default:
            return why
        stage("build")
        alone = state.built(loops_only)
        if alone.artifact is None:
            return why
        stage("verify")
        again, _ = state.verify(alone.artifact)
        if again is None:
            return why  # the compiler options, not the loop transformations, broke it
        changes = ", ".join(f"{k}={v}" for k, v in sorted(loops_only.items()))
        return f"{LEGALITY_BUG}: the dependence checks let through {changes}; {again}"
