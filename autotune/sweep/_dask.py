"""Sweeping on Dask distributed: one task per kernel, timing serialized per machine.

Needs the ``dist`` extra; nothing here is imported unless a Dask executor is asked for.
Every task opens the tuning database itself, so its trials are committed as they are
measured: when a worker is lost, Dask runs the task again elsewhere, and the retry
resumes from what was committed (see ``TuneOptions.continue_run``).
"""

from __future__ import annotations

import logging
import socket
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, fields
from typing import Any

from autotune.db import open_database
from autotune.errors import InputError
from autotune.kernels._corpus import KernelJob
from autotune.measure import BaseTimingLock, LocalRunner
from autotune.sweep._base import BaseExecutor, EventSink, JobOutcome, SweepEvent, SweepPlan
from autotune.sweep._job import describe_error, tune_job, unfinished

#: Dask is an optional dependency: say how to get it.
MISSING_DASK = "--workers and --scheduler need Dask: pip install 'autotune[dist]'"


def _distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise InputError(MISSING_DASK) from None
    return distributed


class DaskHostLock(BaseTimingLock):
    """A Dask semaphore with one lease per host name, shared by the whole cluster.

    The scheduler takes a lease back when its holder stops refreshing it (a lost
    worker), after ``distributed.scheduler.locks.lease-timeout``. Only usable inside a
    task or beside a client.
    """

    def __init__(self, hostname: str | None = None) -> None:
        self.name = f"autotune-timing:{hostname or socket.gethostname()}"
        self._semaphore = _distributed().Semaphore(max_leases=1, name=self.name)

    def acquire(self) -> None:
        self._semaphore.acquire()

    def release(self) -> None:
        self._semaphore.release()

    def close(self) -> None:
        # Semaphore.close would remove the semaphore for every worker; stop refreshing only.
        callback = getattr(self._semaphore, "refresh_callback", None)
        if callback is not None:
            callback.stop()


def _tune_task(job: KernelJob, plan: SweepPlan, topic: str) -> JobOutcome:
    """Runs on a Dask worker: tune one kernel, reporting progress under ``topic``."""
    worker = _distributed().get_worker()

    def emit(event: SweepEvent) -> None:
        worker.log_event(topic, asdict(event))

    lock = DaskHostLock()
    db = open_database(plan.db_url)
    try:
        with LocalRunner(timing_lock=lock) as runner:
            return tune_job(job, plan, runner, db, emit)
    finally:
        db.close()
        lock.close()


class DaskExecutor(BaseExecutor):
    """Tunes kernels as Dask tasks: on a local cluster of ``workers`` single-threaded
    worker processes, or on the existing cluster whose scheduler is at ``address``.

    Workers must reach the database at the plan's URL and the kernel files at the same
    paths (a shared file system, or one machine).
    """

    def __init__(
        self,
        workers: int | None = None,
        address: str | None = None,
        connect_timeout_s: float = 10.0,
    ) -> None:
        if (workers is None) == (address is None):
            raise ValueError("give either a number of local workers or a scheduler address")
        self.workers = workers
        self.address = address
        self.connect_timeout_s = connect_timeout_s
        self._cluster: Any = None
        self._client: Any = None

    def start(self) -> None:
        distributed = _distributed()
        if self.address is None:
            self._cluster = distributed.LocalCluster(
                n_workers=self.workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            self._client = distributed.Client(self._cluster)
            return
        try:
            self._client = distributed.Client(self.address, timeout=self.connect_timeout_s)
        except (OSError, TimeoutError, ValueError) as exc:
            reason = " ".join(str(exc).split())[:200] or type(exc).__name__
            raise InputError(
                f"cannot reach the Dask scheduler at {self.address}: {reason}"
            ) from None

    def describe(self) -> str:
        if self.address is None:
            return f"on a local Dask cluster of {self.workers} workers"
        return f"on the Dask cluster at {self.address}"

    def run(
        self, jobs: Sequence[KernelJob], plan: SweepPlan, on_event: EventSink
    ) -> Iterator[JobOutcome]:
        distributed = _distributed()
        client = self._client
        topic = f"autotune-sweep-{uuid.uuid4().hex}"
        client.subscribe_topic(topic, lambda entry: on_event(_event_from(entry[1])))
        futures = {
            client.submit(_tune_task, job, plan, topic, key=f"{topic}-{i}", pure=False): job
            for i, job in enumerate(jobs)
        }
        try:
            for future in distributed.as_completed(futures):
                yield _outcome(future, futures[future])
        finally:
            client.cancel(list(futures))
            client.unsubscribe_topic(topic)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


_EVENT_FIELDS = {f.name for f in fields(SweepEvent)}


def _event_from(message: dict[str, Any]) -> SweepEvent:
    # Dask adds its own keys (the sending worker) to a logged event. Tasks send only
    # start and trial events, which carry no result.
    return SweepEvent(**{k: v for k, v in message.items() if k in _EVENT_FIELDS})


def _outcome(future: Any, job: KernelJob) -> JobOutcome:
    try:
        outcome: JobOutcome = future.result()
    except Exception as exc:  # the task raised, or its workers were lost too often
        return JobOutcome(job, unfinished(job, describe_error(exc)))
    return outcome
