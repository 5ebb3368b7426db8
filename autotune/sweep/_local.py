"""Sweeping in this process: one kernel after another, no Dask needed."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from autotune.db import BaseDatabase, open_database
from autotune.kernels._corpus import KernelJob
from autotune.measure import BaseRunner, BaseTimingLock, HostFileLock, LocalRunner
from autotune.sweep._base import BaseExecutor, EventSink, JobOutcome, SweepPlan
from autotune.sweep._job import describe_error, tune_job, unfinished


class LocalExecutor(BaseExecutor):
    """Tunes the kernels one after another with one local runner.

    Timing holds ``timing_lock`` (by default the host's file lock), so that sweeps and
    other lock holders running beside this one on the machine never time at once.
    """

    def __init__(self, timing_lock: BaseTimingLock | None = None) -> None:
        self._timing_lock = timing_lock or HostFileLock()

    def describe(self) -> str:
        return "in this process"

    def run(
        self, jobs: Sequence[KernelJob], plan: SweepPlan, on_event: EventSink
    ) -> Iterator[JobOutcome]:
        db = open_database(plan.db_url)
        try:
            with LocalRunner(timing_lock=self._timing_lock) as runner:
                for job in jobs:
                    yield _outcome(job, plan, runner, db, on_event)
        finally:
            db.close()

    def close(self) -> None:
        self._timing_lock.close()


def _outcome(
    job: KernelJob, plan: SweepPlan, runner: BaseRunner, db: BaseDatabase, on_event: EventSink
) -> JobOutcome:
    try:
        return tune_job(job, plan, runner, db, on_event)
    except Exception as exc:  # one kernel's fault must not end the sweep
        return JobOutcome(job, unfinished(job, describe_error(exc)))
