"""Timing locks: one timing phase at a time per machine.

Timing needs the machine's cores to itself, while building and verifying candidates may
overlap. A runner given a timing lock holds it around the timing phase of each
measurement only (see :class:`~autotune.measure.WorkerProcess`).
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path

#: Shared by every process on the host, whoever runs it.
DEFAULT_LOCK_PATH = Path(tempfile.gettempdir()) / "autotune-timing.lock"


def scoped_lock_path(scope: str) -> Path:
    """The lock file of a timing scope other than the host's cores (``cuda:0``): one
    per device, beside the host's."""
    safe = "".join(c if c.isalnum() else "-" for c in scope)
    return DEFAULT_LOCK_PATH.with_name(f"autotune-timing-{safe}.lock")


class BaseTimingLock(ABC):
    """Grants one holder at a time the right to time on a machine.

    Contract:
        * ``acquire`` blocks until the lock is held; ``release`` follows each
          ``acquire`` exactly once, from the same thread.
        * Holders in other processes (and other threads) on the same machine exclude
          each other.
        * A holder that dies does not block the others forever: the operating system or
          a lease gives the lock back.
    """

    @abstractmethod
    def acquire(self) -> None: ...

    @abstractmethod
    def release(self) -> None: ...

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release what the lock keeps open; it may not be used afterwards."""


class HostFileLock(BaseTimingLock):
    """An exclusive ``flock`` on a file in the host's temporary directory.

    Each ``acquire`` opens the file anew, so threads of one process exclude each other
    too, and the kernel drops the lock when its holder dies.
    """

    def __init__(self, path: Path = DEFAULT_LOCK_PATH) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def close(self) -> None:
        self.release()
