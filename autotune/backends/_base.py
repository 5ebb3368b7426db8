"""The builder and backend extension points: a backend (CPU/Numba, CUDA) supplies the
target, space, builder, verification and timer of its kernels; its builder turns a
kernel and a config into something runnable."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from autotune.kernels import KernelDecl
from autotune.program import Workload


@dataclass(frozen=True, slots=True)
class BuildResult:
    """A built artifact, or the reason it could not be built. Never both."""

    artifact: Callable[..., Any] | None
    compile_s: float
    error: str = ""
    #: Equal for two builds exactly when they produced the same optimized code.
    code_hash: str | None = None
    #: What the build reveals before it runs (a GPU build: registers, spills, shared
    #: memory, occupancy); recorded with the measurement.
    features: dict[str, Any] = field(default_factory=dict)


class BaseBuilder(ABC):
    """Compiles kernels inside a worker process.

    Contract:
        * ``lower`` returns the kernel's workload (normalized unoptimized IR and keys)
          as the baseline builds it; it may raise, and the caller turns that into a
          skipped kernel.
        * ``build_baseline`` builds the kernel as ``decl`` writes it: its default
          parameters on the author's ``decl.njit_options``; ``build`` builds a config
          on those options, the config's flags overriding them (see
          :meth:`KernelDecl.as_baseline` for a baseline without them).
        * ``build_baseline`` and ``build`` never raise for a bad candidate: a compile
          error comes back as a :class:`BuildResult` with ``error`` set. A crash of the
          compiler itself (an LLVM fatal error) kills the worker process, and the
          runner that owns the process records it.
        * Artifacts are called with the kernel's argument tuple.
    """

    name: str = "base"

    @abstractmethod
    def lower(self, decl: KernelDecl, args: tuple[Any, ...]) -> Workload: ...

    @abstractmethod
    def build_baseline(self, decl: KernelDecl, args: tuple[Any, ...]) -> BuildResult: ...

    @abstractmethod
    def build(self, decl: KernelDecl, config: dict[str, Any], args: tuple[Any, ...]) -> BuildResult:
        """Build ``decl`` with ``config`` for arguments typed like ``args``."""

    def prepare(  # noqa: B027 - optional hook
        self, decl: Any, configs: Sequence[dict[str, Any]], args: tuple[Any, ...]
    ) -> None:
        """Start work on builds that will be asked for soon (compiling ahead); returns
        at once. Never raises for a bad config: its build reports it."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release what the builder holds (compile processes)."""


class BaseBackend(ABC):
    """One kind of hardware and toolchain, behind which the tuning loop is the same.

    A backend supplies, for the kernels declared for it: the target that keys their
    measurements, their search space, the builder its worker processes use, the check
    of a candidate's outputs, the paired timer, and the scope of the timing lock (what
    two measurements must not share while timing).

    Contract:
        * ``name`` is the registry name; a kernel declaration names its backend in its
          ``backend`` attribute, and :class:`~autotune.measure.KernelRef` carries it to
          the worker (its ``builder`` field).
        * ``target`` is cheap after its first call and the same value for the same
          machine and toolchain; its ``key`` partitions the database.
        * ``unavailable_reason`` says, without raising, why this machine cannot
          measure the backend's kernels (``None`` when it can). Replay needs no device.
        * ``time_paired`` returns a :class:`~autotune.measure.Timing` of interleaved
          rounds of the two artifacts on the same arguments, restoring ``restore``
          arguments between calls.
        * ``verify`` returns why ``got`` differs from ``want`` beyond the tolerances,
          or ``None``.
        * ``blame`` may refine a wrong-result reason (the CPU backend names legality
          bugs of loop transformations); by default it returns ``why``.
    """

    name: str = "base"
    #: How many search candidates the tuner asks for at once and hands to the builder
    #: ahead of their measurement (:meth:`BaseBuilder.prepare`); 1: one at a time.
    ask_ahead: int = 1

    @abstractmethod
    def target(self) -> Any:
        """The target of this machine for the backend (``key`` and ``as_dict()``)."""

    @abstractmethod
    def search_space(self, decl: Any, options: Any) -> Any:
        """The :class:`~autotune.space.SearchSpace` of ``decl`` under the tuning
        ``options`` (a :class:`~autotune.tuner.TuneOptions`)."""

    @abstractmethod
    def builder(self) -> BaseBuilder:
        """A fresh builder, used inside worker processes."""

    @abstractmethod
    def time_paired(
        self,
        reference: Callable[..., Any],
        candidate: Callable[..., Any],
        args: tuple[Any, ...],
        restore: Sequence[int],
        settings: Any,
    ) -> Any: ...

    def unavailable_reason(self) -> str | None:
        return None

    def verify(
        self,
        got: list[Any],
        want: list[Any],
        outputs: Sequence[int | str],
        rtol: float,
        atol: float,
    ) -> str | None:
        from autotune.measure._verify import compare_outputs

        return compare_outputs(got, want, outputs, rtol, atol)

    def blame(self, state: Any, config: dict[str, Any], why: str, stage: Any) -> str:
        """``why`` (a wrong result of ``config``), refined where the backend can say
        more; ``state`` is the worker's kernel state, ``stage`` announces a step."""
        return why

    def figures(self, candidate: Any, timing: Any) -> dict[str, Any]:
        """Absolute figures of a timed candidate artifact (throughput against the
        device's ceilings measured in this process), recorded with the measurement;
        none by default."""
        return {}

    def baseline_name(self, decl: Any, kind: str) -> str:
        """What the baseline of ``decl`` is, as messages name it (``kind``: the
        tuning run's baseline option)."""
        return "its default config"

    def poisoned(self, exc: BaseException) -> bool:
        """Whether ``exc``, raised while measuring, leaves the worker process unfit for
        more work (a sticky CUDA error loses the context): the worker then exits after
        replying, and the runner starts a fresh one."""
        return False

    def lock_scope(self) -> str:
        """What timing needs to itself: ``host`` (the machine's cores) by default."""
        return "host"
