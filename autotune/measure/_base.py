"""The runner extension point: verify and time candidates, return results as values."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from autotune.measure._protocol import KernelRef
from autotune.program import Workload
from autotune.records import MeasureResult, TimingSettings


@dataclass(frozen=True, slots=True)
class MeasureRequest:
    """Measure ``config`` (``None``: the baseline against itself) with ``settings``.

    The candidate is timed paired with the baseline, or with the build of ``against``
    when given (an A/B comparison of two configs; the result's ``baseline_*`` figures
    then belong to ``against``).
    """

    config: dict[str, Any] | None
    settings: TimingSettings = field(default_factory=TimingSettings)
    timeout_s: float = 120.0
    against: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class LowerResult:
    """The kernel's workload, or ``error``: which step of preparing it failed and why.
    ``identical_inputs``: its timed and held-back input sets are equal, so the second
    verification checks nothing new."""

    workload: Workload | None
    error: str = ""
    identical_inputs: bool = False


class BaseRunner(ABC):
    """Measures candidates of one kernel at a time.

    Contract:
        * ``measure`` returns exactly one :class:`MeasureResult` per request, in order,
          and never raises for a bad candidate: crashes, LLVM fatal errors, timeouts and
          wrong results are statuses with a reason.
        * Every ``ok`` result carries paired timings against the baseline, taken in the
          same process, interleaved.
        * ``confirm`` measures in one or more processes that have measured nothing
          else; with several, its CI spans theirs (:attr:`Timing.process_rounds`).
        * ``lower`` returns the kernel's workload, or why it cannot be lowered.
    """

    @abstractmethod
    def lower(self, kernel: KernelRef) -> LowerResult: ...

    @abstractmethod
    def measure(self, kernel: KernelRef, requests: list[MeasureRequest]) -> list[MeasureResult]: ...

    @abstractmethod
    def confirm(self, kernel: KernelRef, request: MeasureRequest) -> MeasureResult: ...

    def prepare(self, kernel: KernelRef, configs: list[dict[str, Any]]) -> None:  # noqa: B027
        """Let the builder start on ``configs``, which will be measured soon (compiling
        ahead); returns without waiting for it. Optional: nothing by default."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release worker processes; the runner may not be used afterwards."""

    def __enter__(self) -> BaseRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
