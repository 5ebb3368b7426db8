"""The CPU search space of a kernel: pipeline options, pass orders, Numba flags, loop
transformations and the kernel's own parameters. Every default is Numba's own default
(and the code as written), so the default config is the baseline."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from autotune.kernels import KernelDecl
from autotune.loops._space import LoopOptions, add_loop_dimensions, thread_counts
from autotune.passes._catalog import (
    FASTMATH_FLAGS,
    INLINE_THRESHOLDS,
    PASS_MODES,
    PASS_ORDER_RULES,
    PASSES,
)
from autotune.passes._pipeline import PipelineConfig
from autotune.space import Bool, Choice, Condition, SearchSpace, Seq, Subset

KERNEL_PREFIX = "kernel."
WITH_O_LEVEL = ("default", "before", "after")


SCOPES = ("all", "compiler", "params", "loops")


def cpu_search_space(
    decl: KernelDecl,
    *,
    allow_fastmath: bool = True,
    max_sequence: int = 8,
    scope: str = "all",
    loops: str = "off",
    max_threads: int | None = None,
) -> SearchSpace:
    """The search space of ``decl`` on the CPU backend.

    Pipeline options only matter when an O-level pipeline runs, so they are inactive
    with ``passes.mode = "replace"``. ``fastmath`` is offered only when both the caller
    and the kernel's declaration allow it. ``scope`` keeps compiler options and kernel
    parameters (``all``), only compiler options (kernel parameters stay at their
    defaults) or only kernel parameters (Numba's default build). ``loops`` adds loop
    transformations of the kernel's source (``serial``; ``parallel`` also offers prange
    and a thread count up to ``max_threads``, default all cores) unless ``scope`` is
    ``params``; reductions into scalars may be reordered only where fastmath is allowed.
    Scope ``loops`` keeps only the loop transformations, on Numba's default build.
    """
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}, got {scope!r}")
    if scope == "loops" and loops == "off":
        raise ValueError("scope 'loops' needs loop transformations (serial or parallel)")
    space = SearchSpace()
    if scope in ("all", "compiler"):
        _add_compiler_options(space, decl, allow_fastmath, max_sequence)
    if scope != "params":
        reassociate = allow_fastmath and decl.allow_fastmath
        threads = thread_counts(max_threads) if max_threads else None
        add_loop_dimensions(space, decl.pyfunc, loops, reassociate, threads)
    if scope in ("all", "params"):
        for name, param in decl.params.items():
            space.add(KERNEL_PREFIX + name, param)
    for name, check in decl.constraints:
        space.add_constraint(name, _on_params(check))
    return space


def _on_params(check: Any) -> Any:
    """Adapt a constraint on kernel parameters to one on whole configs."""

    def on_config(config: Mapping[str, Any]) -> bool | str:
        params = {
            k.removeprefix(KERNEL_PREFIX): v
            for k, v in config.items()
            if k.startswith(KERNEL_PREFIX)
        }
        return bool(check(params)) if params else True

    return on_config


def _add_compiler_options(
    space: SearchSpace, decl: KernelDecl, allow_fastmath: bool, max_sequence: int
) -> None:
    space.add("passes.mode", Choice(PASS_MODES))
    custom = Condition("passes.mode", ("before", "after", "replace"))
    space.add("passes.sequence", Seq(PASSES, 1, max_sequence, PASS_ORDER_RULES), custom)
    o_level = Condition("passes.mode", WITH_O_LEVEL)
    space.add("pipeline.speed_level", Choice((3, 2, 1, 0)), o_level)
    space.add("pipeline.loop_vectorization", Bool(True), o_level)
    space.add("pipeline.slp_vectorization", Bool(False), o_level)
    space.add("pipeline.loop_interleaving", Bool(True), o_level)
    space.add("pipeline.loop_unrolling", Bool(True), o_level)
    space.add("pipeline.inlining_threshold", Choice(INLINE_THRESHOLDS), o_level)
    if allow_fastmath and decl.allow_fastmath:
        space.add("flags.fastmath", Choice(("off", "all", "subset")))
        space.add(
            "flags.fastmath_flags", Subset(FASTMATH_FLAGS), Condition("flags.fastmath", ("subset",))
        )
    space.add("flags.error_model", Choice(("python", "numpy")))


@dataclass(frozen=True, slots=True)
class BuildOptions:
    """Everything a builder needs from a config, split by where it applies."""

    pipeline: PipelineConfig
    fastmath: bool | tuple[str, ...]
    error_model: str
    params: dict[str, Any]
    loops: LoopOptions = field(default_factory=lambda: LoopOptions({}))

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> BuildOptions:
        mode = config.get("flags.fastmath", "off")
        fastmath: bool | tuple[str, ...] = mode == "all"
        if mode == "subset":
            fastmath = tuple(config.get("flags.fastmath_flags", ()))
            if not fastmath:
                fastmath = False
        params = {
            k.removeprefix(KERNEL_PREFIX): v
            for k, v in config.items()
            if k.startswith(KERNEL_PREFIX)
        }
        return cls(
            pipeline=PipelineConfig.from_config(config),
            fastmath=fastmath,
            error_model=str(config.get("flags.error_model", "python")),
            params=params,
            loops=LoopOptions.from_config(config),
        )

    def numba_options(self) -> dict[str, Any]:
        opts: dict[str, Any] = {"error_model": self.error_model}
        if self.fastmath:
            opts["fastmath"] = set(self.fastmath) if isinstance(self.fastmath, tuple) else True
        return opts
