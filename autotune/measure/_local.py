"""Measuring in local worker subprocesses."""

from __future__ import annotations

import dataclasses
import socket
from typing import Any

from autotune.measure._base import BaseRunner, LowerResult, MeasureRequest
from autotune.measure._lock import BaseTimingLock, HostFileLock, scoped_lock_path
from autotune.measure._pool import WorkerFailure, WorkerProcess
from autotune.measure._protocol import KernelRef
from autotune.measure._timing import result_from_mapping, summarize
from autotune.program import Workload
from autotune.records import MeasureResult, Status

#: A worker is replaced after this many calls: every candidate leaves JIT code behind.
MAX_CALLS_PER_WORKER = 250
#: Stages during which a death means the candidate did not build.
_BUILD_STAGES = {"queued", "load", "build"}


class LocalRunner(BaseRunner):
    """Builds, verifies and times in one long-lived worker, restarted after a crash.

    Timing needs the machine's cores, so candidates are measured one at a time.
    A confirmation runs in ``confirm_processes`` fresh workers, one after another, each
    discarded afterwards: the same code can land in a different layout mode in another
    process, so the result pools their rounds and its CI spans every process's CI
    (:attr:`Timing.process_rounds` says which rounds came from which). With
    ``timing_lock``, every timing phase (and only that) runs while the lock is held, so
    runners in other processes on the machine may build and verify meanwhile but never
    time at once; the result's provenance then says when the lock was held
    (``timing_turn``). Every result's provenance names the machine (``hostname``).
    """

    def __init__(
        self,
        env: dict[str, str] | None = None,
        timing_lock: BaseTimingLock | None = None,
        confirm_processes: int = 2,
    ) -> None:
        if confirm_processes < 1:
            raise ValueError(f"confirm_processes must be at least 1, not {confirm_processes}")
        self._env = env
        self._confirm_processes = confirm_processes
        self._timing_lock = timing_lock
        #: Locks of timing scopes other than the host's (one per GPU), made on demand.
        self._scoped_locks: dict[str, BaseTimingLock] = {}
        self._worker = WorkerProcess(env)

    def _lock_for(self, kernel: KernelRef) -> BaseTimingLock | None:
        """The timing lock of ``kernel``'s backend's scope: the given lock for the
        host's cores, a file lock per device for a GPU (timing on one GPU does not
        disturb another, nor CPU timing); none when this runner was given none."""
        if self._timing_lock is None:
            return None
        from autotune.backends import get_backend

        scope = get_backend(kernel.builder).lock_scope()
        if scope == "host":
            return self._timing_lock
        if scope not in self._scoped_locks:
            self._scoped_locks[scope] = HostFileLock(scoped_lock_path(scope))
        return self._scoped_locks[scope]

    @property
    def worker_restarts(self) -> int:
        return self._worker.restarts

    def lower(self, kernel: KernelRef) -> LowerResult:
        reply = self._worker.call({"op": "lower", "kernel": kernel}, timeout=300)
        if isinstance(reply, WorkerFailure):
            return LowerResult(None, reply.message)
        if reply["event"] != "result":
            return LowerResult(None, reply["error"])
        return LowerResult(
            Workload(**reply["workload"]), identical_inputs=reply.get("identical_inputs", False)
        )

    def measure(self, kernel: KernelRef, requests: list[MeasureRequest]) -> list[MeasureResult]:
        results = []
        for request in requests:
            if self._worker.calls >= MAX_CALLS_PER_WORKER:
                self._worker.close()
                self._worker = WorkerProcess(self._env)
            results.append(_measure_in(self._worker, kernel, request, self._lock_for(kernel)))
        return results

    def prepare(self, kernel: KernelRef, configs: list[dict[str, Any]]) -> None:
        # A failure here costs only the head start: each build reports its own.
        self._worker.call({"op": "prepare", "kernel": kernel, "configs": configs}, timeout=60)

    def confirm(self, kernel: KernelRef, request: MeasureRequest) -> MeasureResult:
        results = []
        for _ in range(self._confirm_processes):
            with WorkerProcess(self._env) as fresh:
                result = _measure_in(fresh, kernel, request, self._lock_for(kernel))
            if result.status is not Status.OK or result.timing is None:
                return result  # one process that fails or disagrees decides
            results.append(result)
        return pool_processes(results)

    def close(self) -> None:
        self._worker.close()
        for lock in self._scoped_locks.values():
            lock.close()


def _measure_in(
    worker: WorkerProcess,
    kernel: KernelRef,
    request: MeasureRequest,
    timing_lock: BaseTimingLock | None = None,
) -> MeasureResult:
    message = {
        "op": "measure",
        "kernel": kernel,
        "config": request.config,
        "settings": request.settings,
        "against": request.against,
    }
    reply = worker.call(message, timeout=request.timeout_s, timing_lock=timing_lock)
    if isinstance(reply, WorkerFailure):
        if reply.kind == "timeout":
            result = MeasureResult(Status.TIMEOUT, f"{reply.message} (during {reply.stage})")
        else:
            status = Status.BUILD_FAILED if reply.stage in _BUILD_STAGES else Status.RUN_FAILED
            result = MeasureResult(status, reply.message)
        return _on_this_host(result, {})
    return _on_this_host(result_from_reply(reply), reply.get("timing_turn"))


def _on_this_host(result: MeasureResult, timing_turn: dict[str, Any] | None) -> MeasureResult:
    """Name the machine in every result (failures carry no worker provenance)."""
    extra: dict[str, Any] = {"hostname": socket.gethostname()}
    if timing_turn:
        extra["timing_turn"] = timing_turn
    return dataclasses.replace(result, provenance={**extra, **result.provenance})


def pool_processes(results: list[MeasureResult]) -> MeasureResult:
    """One result from the timed results of the same request in several processes.

    The rounds are pooled in order and the statistics derived again, grouped by
    process; build and verification times are the first process's. The provenance is
    the first process's, plus ``processes``: each process's pid, speedup and CI.
    """
    timings = [r.timing for r in results if r.timing is not None]
    if len(timings) != len(results) or not results:
        raise ValueError("pooling needs timed results")
    if len(results) == 1:
        return results[0]
    timing = summarize(
        [r for t in timings for r in t.baseline_rounds],
        [r for t in timings for r in t.candidate_rounds],
        timings[0].calls_per_sample,
        [len(t.baseline_rounds) for t in timings],
    )
    processes = [
        {"pid": r.provenance.get("pid"), "speedup": t.speedup, "speedup_ci95": list(t.speedup_ci95)}
        for r, t in zip(results, timings, strict=True)
    ]
    first = results[0]
    return dataclasses.replace(
        first, timing=timing, provenance={**first.provenance, "processes": processes}
    )


def result_from_reply(reply: dict[str, Any]) -> MeasureResult:
    """Turn a worker's reply into a :class:`MeasureResult`."""
    if reply["event"] == "error":
        # An exception escaped a step: Python-level errors while running the kernel.
        return MeasureResult(Status.RUN_FAILED, reply["error"])
    return result_from_mapping(reply, reply.get("timing"), reply.get("provenance", {}))
