"""The CPU search space of a kernel: pipeline options, pass orders, Numba flags, loop
transformations and the kernel's own parameters. Every default is Numba's own default
or the author's own ``njit`` option (and the code as written), so the default config
is the baseline: the kernel as written."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from autotune.kernels import KernelDecl
from autotune.loops import declared_ranks
from autotune.loops._space import (
    PARALLEL,
    SCALARIZE,
    LoopOptions,
    add_loop_dimensions,
    thread_counts,
)
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
FASTMATH_MODES = ("off", "all", "subset")
ERROR_MODELS = ("python", "numpy")
#: The dimension that may turn off the author's ``parallel=True``.
PARALLEL_FLAG = "flags.parallel"
#: Config keys that set ``numba.njit`` options, and the option each sets. Where a config
#: names one it wins over the author's option; where it does not, the author's stays.
CONFIG_FLAGS = {
    "flags.fastmath": "fastmath",
    "flags.error_model": "error_model",
    PARALLEL_FLAG: "parallel",
}


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

    The author's ``njit`` options (``decl.njit_options``) are the defaults: fastmath on
    (``all``) where the author had ``fastmath=True``, their ``error_model``, and, where
    they had ``parallel=True``, a ``flags.parallel`` dimension (default on) that may
    turn it off. A fastmath flag set, or fastmath where the space offers none, stays
    in every build as written.
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
        ranks = declared_ranks(decl)
        add_loop_dimensions(space, decl.pyfunc, loops, reassociate, threads, ranks)
        if SCALARIZE in space.names and "flags.fastmath" in space.names:
            # Scalarized reductions replace BLAS's reassociated sums; fastmath lets
            # LLVM vectorize them again.
            space.add_landmark({SCALARIZE: True, "flags.fastmath": "all"})
    if scope in ("all", "params"):
        for name, param in decl.params.items():
            space.add(KERNEL_PREFIX + name, param)
    for name, check in decl.constraints:
        space.add_constraint(name, _on_params(check))
    if PARALLEL_FLAG in space.names and PARALLEL in space.names:
        space.add_constraint("parallel flag", _prange_needs_parallel)
    return space


def _prange_needs_parallel(config: Mapping[str, Any]) -> bool | str:
    """A prange loop transformation compiles with ``parallel=True`` whatever
    ``flags.parallel`` says: refuse the combination instead of building a duplicate."""
    if config.get(PARALLEL_FLAG) is False and config.get(PARALLEL):
        return "flags.parallel is off but loops.parallel runs loops with prange"
    return True


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
    author = decl.njit_options
    written = author.get("fastmath", False)
    # A flag set is not a point of this space (a subset's default is empty): no dimension.
    if allow_fastmath and decl.allow_fastmath and isinstance(written, bool):
        space.add("flags.fastmath", Choice(_first("all" if written else "off", FASTMATH_MODES)))
        space.add(
            "flags.fastmath_flags", Subset(FASTMATH_FLAGS), Condition("flags.fastmath", ("subset",))
        )
    error_model = author.get("error_model", "python")
    if error_model in ERROR_MODELS:
        space.add("flags.error_model", Choice(_first(error_model, ERROR_MODELS)))
    if author.get("parallel"):
        space.add(PARALLEL_FLAG, Bool(True))


def _first(default: str, values: tuple[str, ...]) -> tuple[str, ...]:
    """``values`` with ``default`` first (a choice's first value is its default)."""
    return (default, *(v for v in values if v != default))


@dataclass(frozen=True, slots=True)
class BuildOptions:
    """Everything a builder needs from a config, split by where it applies.

    ``parallel`` is the config's ``flags.parallel``; ``named`` holds the ``numba.njit``
    options the config sets (see :data:`CONFIG_FLAGS`): only those override the
    author's own.
    """

    pipeline: PipelineConfig
    fastmath: bool | tuple[str, ...]
    error_model: str
    params: dict[str, Any]
    loops: LoopOptions = field(default_factory=lambda: LoopOptions({}))
    parallel: bool = False
    named: frozenset[str] = frozenset()

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
            parallel=bool(config.get(PARALLEL_FLAG, False)),
            named=frozenset(option for key, option in CONFIG_FLAGS.items() if key in config),
        )

    def numba_options(self) -> dict[str, Any]:
        """The config's own fastmath and error model as ``numba.njit`` options."""
        opts: dict[str, Any] = {"error_model": self.error_model}
        if self.fastmath:
            opts["fastmath"] = set(self.fastmath) if isinstance(self.fastmath, tuple) else True
        return opts

    def njit_options(self, author: Mapping[str, Any], prange: bool) -> dict[str, Any]:
        """The ``numba.njit`` options of this config's build: the ``author``'s options
        (never ``cache``) under the config's flags where it names them (fastmath
        ``off`` drops the author's fastmath too), and ``parallel`` also wherever the
        source uses ``prange`` (``prange``: a loop transformation put it there).

        This is the one merge of author and config options: the tuner's builder and
        :mod:`autotune.deploy` both use it, so a deployed build is the measured one.
        """
        merged = {k: v for k, v in author.items() if k != "cache"}
        tuned = self.numba_options()
        if self.parallel:
            tuned["parallel"] = author.get("parallel") or True  # e.g. a dict of parfor kinds
        for option in self.named:
            if option in tuned:
                merged[option] = tuned[option]
            else:
                merged.pop(option, None)
        merged["parallel"] = merged.get("parallel") or prange
        return merged
