"""Measuring in local worker subprocesses."""

from __future__ import annotations

from typing import Any

from autotune.measure._base import BaseRunner, LowerResult, MeasureRequest
from autotune.measure._pool import WorkerFailure, WorkerProcess
from autotune.measure._protocol import KernelRef
from autotune.measure._timing import result_from_mapping
from autotune.program import Workload
from autotune.records import MeasureResult, Status

#: A worker is replaced after this many calls: every candidate leaves JIT code behind.
MAX_CALLS_PER_WORKER = 250
#: Stages during which a death means the candidate did not build.
_BUILD_STAGES = {"queued", "load", "build"}


class LocalRunner(BaseRunner):
    """Builds, verifies and times in one long-lived worker, restarted after a crash.

    Timing needs the machine's cores, so candidates are measured one at a time.
    Confirmations run in a fresh worker that is discarded afterwards.
    """

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self._env = env
        self._worker = WorkerProcess(env)

    @property
    def worker_restarts(self) -> int:
        return self._worker.restarts

    def lower(self, kernel: KernelRef) -> LowerResult:
        reply = self._worker.call({"op": "lower", "kernel": kernel}, timeout=300)
        if isinstance(reply, WorkerFailure):
            return LowerResult(None, reply.message)
        if reply["event"] != "result":
            return LowerResult(None, reply["error"])
        return LowerResult(Workload(**reply["workload"]))

    def measure(self, kernel: KernelRef, requests: list[MeasureRequest]) -> list[MeasureResult]:
        results = []
        for request in requests:
            if self._worker.calls >= MAX_CALLS_PER_WORKER:
                self._worker.close()
                self._worker = WorkerProcess(self._env)
            results.append(_measure_in(self._worker, kernel, request))
        return results

    def confirm(self, kernel: KernelRef, request: MeasureRequest) -> MeasureResult:
        with WorkerProcess(self._env) as fresh:
            return _measure_in(fresh, kernel, request)

    def close(self) -> None:
        self._worker.close()


def _measure_in(worker: WorkerProcess, kernel: KernelRef, request: MeasureRequest) -> MeasureResult:
    message = {
        "op": "measure",
        "kernel": kernel,
        "config": request.config,
        "settings": request.settings,
        "against": request.against,
    }
    reply = worker.call(message, timeout=request.timeout_s)
    if isinstance(reply, WorkerFailure):
        if reply.kind == "timeout":
            return MeasureResult(Status.TIMEOUT, f"{reply.message} (during {reply.stage})")
        status = Status.BUILD_FAILED if reply.stage in _BUILD_STAGES else Status.RUN_FAILED
        return MeasureResult(status, reply.message)
    return result_from_reply(reply)


def result_from_reply(reply: dict[str, Any]) -> MeasureResult:
    """Turn a worker's reply into a :class:`MeasureResult`."""
    if reply["event"] == "error":
        # An exception escaped a step: Python-level errors while running the kernel.
        return MeasureResult(Status.RUN_FAILED, reply["error"])
    return result_from_mapping(reply, reply.get("timing"), reply.get("provenance", {}))
