"""Running a sweep: plan it, skip what an earlier run finished, tune the rest, record."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from autotune.db import BaseDatabase, normalize_url, open_database
from autotune.errors import InputError
from autotune.kernels._corpus import Corpus, KernelJob
from autotune.program import host_target
from autotune.result import ResultStatus, TuningResult
from autotune.sweep._base import BaseExecutor, EventSink, JobOutcome, SweepEvent, SweepPlan
from autotune.sweep._job import skipped
from autotune.tuner import TuneOptions


@dataclass(frozen=True, slots=True)
class SweepRun:
    results: list[TuningResult]
    run_id: str

    @property
    def exit_code(self) -> int:
        return 1 if any(not r.tuned for r in self.results) else 0


def sweep_run_id(options: TuneOptions) -> str:
    """The run id of a sweep with ``options``: the same whenever the same sweep runs
    again, so that it resumes; any other option gives another."""
    text = repr(replace(options, continue_run=True))
    return "sweep-" + hashlib.sha256(text.encode()).hexdigest()[:12]


def shared_db_url(url: str) -> str:
    """``url`` as every worker process can open it: SQLite paths made absolute."""
    url = normalize_url(url)
    if url in ("sqlite://", "sqlite:///:memory:"):
        raise InputError("a sweep needs a database on disk or a server: not an in-memory one")
    if url.startswith("sqlite:///"):
        return "sqlite:///" + str(Path(url.removeprefix("sqlite:///")).resolve())
    return url


def run_sweep(
    corpus: Corpus,
    options: TuneOptions,
    db_url: str,
    executor: BaseExecutor,
    on_event: EventSink = lambda event: None,
    command: str = "",
) -> SweepRun:
    """Tune every kernel of ``corpus`` with ``executor`` and record it all in ``db_url``.

    Running the same sweep again (same options, same database) resumes it: kernels it
    finished are reported from the database, and the others continue from their
    committed trials. Results come back in corpus order; files that did not load and
    kernels without the requested size are ``skipped`` with a reason.
    """
    plan = SweepPlan(
        sweep_run_id(options), shared_db_url(db_url), replace(options, continue_run=True)
    )
    outcomes: dict[KernelJob, TuningResult] = {}
    runnable = []
    for job in corpus.jobs:
        if options.size is not None and options.size not in job.sizes:
            outcomes[job] = skipped(job, f"no size {options.size!r}; known: {', '.join(job.sizes)}")
        else:
            runnable.append(job)
    unloadable = [
        TuningResult(u.path, ResultStatus.SKIPPED, u.reason, source=u.path)
        for u in corpus.unloadable
    ]
    with executor:
        db = open_database(plan.db_url)
        try:
            db.start_run(plan.run_id, command, _run_info(plan, executor))
            # Reported once the sweep can run: a bad database or cluster is one error line.
            for label, result in _not_runnable(corpus, outcomes, unloadable):
                on_event(SweepEvent("done", label, result=result))
            todo = _report_finished(db, plan, runnable, outcomes, on_event)
            for outcome in executor.run(todo, plan, on_event):
                _record(db, plan, outcome, outcomes, on_event)
        finally:
            db.close()
    return SweepRun(unloadable + [outcomes[job] for job in corpus.jobs], plan.run_id)


def _not_runnable(
    corpus: Corpus, outcomes: dict[KernelJob, TuningResult], unloadable: list[TuningResult]
) -> list[tuple[str, TuningResult]]:
    found = [(job.label, outcomes[job]) for job in corpus.jobs if job in outcomes]
    return [(r.kernel, r) for r in unloadable] + found


def _run_info(plan: SweepPlan, executor: BaseExecutor) -> dict[str, Any]:
    return {
        "target": host_target().as_dict(),
        "options": repr(plan.options),
        "sweep": executor.describe(),
    }


def _report_finished(
    db: BaseDatabase,
    plan: SweepPlan,
    jobs: Sequence[KernelJob],
    outcomes: dict[KernelJob, TuningResult],
    on_event: EventSink,
) -> list[KernelJob]:
    """Take the results of kernels an earlier run of this sweep finished; the rest."""
    earlier = {
        (r.source, r.kernel, r.source_digest): r
        for r in db.latest_results()
        if r.run_id == plan.run_id
    }
    todo = []
    for job in jobs:
        result = earlier.get((job.source, job.name, job.digest))
        if result is None:
            todo.append(job)
            continue
        outcomes[job] = result
        on_event(SweepEvent("done", job.label, result=result, note="finished earlier"))
    return todo


def _record(
    db: BaseDatabase,
    plan: SweepPlan,
    outcome: JobOutcome,
    outcomes: dict[KernelJob, TuningResult],
    on_event: EventSink,
) -> None:
    if outcome.finished:
        db.finish_run(plan.run_id, [outcome.result])
    outcomes[outcome.job] = outcome.result
    on_event(SweepEvent("done", outcome.job.label, result=outcome.result))


def make_executor(workers: int | None = None, scheduler: str | None = None) -> BaseExecutor:
    """The executor for the command line's choice: in this process by default, a local
    Dask cluster of ``workers``, or the Dask cluster at ``scheduler``."""
    if workers is not None and scheduler is not None:
        raise InputError("give --workers or --scheduler, not both")
    if workers is None and scheduler is None:
        from autotune.sweep._local import LocalExecutor

        return LocalExecutor()
    from autotune.sweep._dask import DaskExecutor, _distributed

    _distributed()  # fail now, with one line, when Dask is missing
    return DaskExecutor(workers=workers, address=scheduler)
