"""The executor extension point: where and how the kernels of a sweep are tuned."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from autotune.kernels._corpus import KernelJob
from autotune.result import TuningResult
from autotune.tuner import TuneOptions


@dataclass(frozen=True, slots=True)
class SweepPlan:
    """What every kernel of one sweep shares; it travels to remote workers.

    Trials are recorded in the database at ``db_url`` under ``run_id``, which is the
    same whenever the same sweep runs again, so that it resumes.
    """

    run_id: str
    db_url: str
    options: TuneOptions


@dataclass(frozen=True, slots=True)
class SweepEvent:
    """Progress of one kernel, for display.

    ``kind`` is ``start`` (with ``budget``), ``trial`` (``used`` of the budget spent;
    ``speedup`` of a search trial that measured fine) or ``done`` (with ``result``;
    ``note`` says when it was finished by an earlier run of the sweep).
    """

    kind: str
    job: str
    budget: int = 0
    used: int = 0
    phase: str = ""
    speedup: float | None = None
    result: TuningResult | None = None
    note: str = ""


EventSink = Callable[[SweepEvent], None]


@dataclass(frozen=True, slots=True)
class JobOutcome:
    """A kernel's result. When the kernel could not be tuned to the end (its task
    failed, its workers were lost too often) ``result.finished`` is false: such a
    result is not stored, and running the sweep again tries the kernel again."""

    job: KernelJob
    result: TuningResult

    @property
    def finished(self) -> bool:
        return self.result.finished


class BaseExecutor(ABC):
    """Runs the kernels of a sweep, in this process or elsewhere.

    Contract:
        * ``start`` acquires what running needs (a cluster, a connection) and raises
          :class:`~autotune.errors.InputError` with one line when it cannot; ``close``
          releases it, also after a failed ``start``.
        * ``run`` tunes each job once with :func:`autotune.sweep.tune_job`, recording into
          the database at ``plan.db_url``, and yields one :class:`JobOutcome` per job as
          it finishes. A job that cannot finish is an outcome with ``finished=False``
          and the reason, never an exception; a retried job resumes from the database,
          so what it committed is neither lost nor measured twice.
        * Timing phases never overlap on one machine: every runner holds a
          machine-wide timing lock around them, while building may run in parallel.
        * ``on_event`` receives each job's progress, possibly from another thread.
    """

    def start(self) -> None:  # noqa: B027 - optional hook
        """Acquire what running needs."""

    @abstractmethod
    def run(
        self, jobs: Sequence[KernelJob], plan: SweepPlan, on_event: EventSink
    ) -> Iterator[JobOutcome]: ...

    def describe(self) -> str:
        """Where the kernels run, in a few words."""
        return type(self).__name__

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release what ``start`` acquired."""

    def __enter__(self) -> BaseExecutor:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
