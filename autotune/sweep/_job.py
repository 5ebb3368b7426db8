"""Tuning one kernel of a sweep: the unit of work every executor runs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from autotune.backends import backend_for
from autotune.callbacks import BaseCallback
from autotune.db import BaseDatabase
from autotune.errors import InputError
from autotune.kernels import KernelDecl, load_kernels
from autotune.kernels._corpus import KernelJob
from autotune.measure import BaseRunner
from autotune.records import Status, TrialRecord
from autotune.result import ResultStatus, TuningResult
from autotune.sweep._base import EventSink, JobOutcome, SweepEvent, SweepPlan
from autotune.tuner import Tuner


class _Progress(BaseCallback):
    """Passes the tuner's progress on one kernel on as sweep events."""

    def __init__(self, label: str, on_event: EventSink) -> None:
        self.label = label
        self.on_event = on_event

    def on_kernel_start(self, kernel: str, budget: int) -> None:
        self.on_event(SweepEvent("start", self.label, budget=budget))

    def on_trial(self, record: TrialRecord, spent: int) -> None:
        result = record.result
        found = record.phase == "search" and result.status is Status.OK
        speedup = result.speedup if found else None
        self.on_event(
            SweepEvent("trial", self.label, used=spent, phase=record.phase, speedup=speedup)
        )


def tune_job(
    job: KernelJob, plan: SweepPlan, runner: BaseRunner, db: BaseDatabase, on_event: EventSink
) -> JobOutcome:
    """Tune ``job`` with ``runner``, recording into ``db`` under the sweep's run id.

    The result is the tuner's (``tuned``, or ``skipped`` with a ``reason``) with the
    job's ``source`` and ``source_digest``, by which (and ``run_id``) a later run of the
    same sweep recognizes the kernel as done.
    """
    decl = _load(job)
    if isinstance(decl, str):
        return JobOutcome(job, unfinished(job, decl))
    unavailable = backend_for(decl).unavailable_reason()
    if unavailable is not None:
        return JobOutcome(job, skipped(job, f"it cannot be measured here: {unavailable}"))
    tuner = Tuner(runner, db, None, plan.options, [_Progress(job.label, on_event)], plan.run_id)
    result = tuner.tune(decl, job.spec)
    return JobOutcome(job, replace(result, source=job.source, source_digest=job.digest))


def _load(job: KernelJob) -> KernelDecl | str:
    """The job's declaration, or why it cannot be loaded here."""
    try:
        decls = load_kernels(Path(job.source), Path(job.spec) if job.spec else None)
    except InputError as exc:
        return str(exc)
    for decl in decls:
        if decl.name == job.name:
            return decl
    return f"{job.source}: no kernel named {job.name} any more"


def skipped(job: KernelJob, reason: str) -> TuningResult:
    """The result of a kernel the sweep does not tune, and why."""
    return TuningResult(job.name, ResultStatus.SKIPPED, reason, source=job.source, spec=job.spec)


def unfinished(job: KernelJob, reason: str) -> TuningResult:
    """The result of a kernel whose tuning could not finish this time."""
    return replace(skipped(job, f"{reason} (run the sweep again to retry)"), finished=False)


def describe_error(exc: BaseException) -> str:
    """One line about an unexpected error."""
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:500]
