"""Measurement: runners (local subprocess workers, replay), verification and timing."""

from autotune.measure._base import BaseRunner, LowerResult, MeasureRequest
from autotune.measure._local import LocalRunner
from autotune.measure._lock import BaseTimingLock, HostFileLock
from autotune.measure._pool import WorkerFailure, WorkerProcess
from autotune.measure._protocol import KernelRef

__all__ = [
    "BaseRunner",
    "BaseTimingLock",
    "HostFileLock",
    "KernelRef",
    "LocalRunner",
    "LowerResult",
    "MeasureRequest",
    "WorkerFailure",
    "WorkerProcess",
]
