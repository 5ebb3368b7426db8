"""Worker subprocesses owned by the measurement layer.

Workers are plain ``subprocess`` children, not ``multiprocessing`` ones, so the tuner
also works inside a daemonic process (a Dask worker). A worker that dies or overruns
its deadline is killed and replaced on the next call; its death is returned as a value.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autotune.measure._lock import BaseTimingLock
from autotune.measure._protocol import pop_message, read_available, send

STDERR_TAIL = 2000


@dataclass(frozen=True, slots=True)
class WorkerFailure:
    """Why a call returned no reply: the worker died, or the deadline passed."""

    kind: str  # "died" | "timeout"
    stage: str
    message: str


def describe_exit(returncode: int | None) -> str:
    if returncode is None:
        return "still running"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"killed by {name}"
    return f"exited with status {returncode}"


class _Turn:
    """One hold of a timing lock around a worker's timing phase."""

    def __init__(self, lock: BaseTimingLock) -> None:
        self.lock = lock
        self.granted_at: float | None = None
        self.ended_at: float | None = None
        self.waited_s = 0.0

    def begin(self) -> float:
        """Block until the lock is held; the seconds spent waiting."""
        started = time.monotonic()
        self.lock.acquire()
        self.granted_at = time.time()
        self.waited_s = time.monotonic() - started
        return self.waited_s

    def end(self) -> None:
        if self.granted_at is not None and self.ended_at is None:
            self.ended_at = time.time()
            self.lock.release()

    def as_dict(self) -> dict[str, float | None]:
        return {"granted_at": self.granted_at, "ended_at": self.ended_at, "waited_s": self.waited_s}


class WorkerProcess:
    """One worker subprocess, started lazily and restarted after a failure."""

    def __init__(self, env: dict[str, str] | None = None, startup_timeout: float = 120.0) -> None:
        self._env = env
        self._startup_timeout = startup_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: Any = None
        self._buffer = bytearray()
        self.calls = 0
        self.restarts = 0
        self._ever_started = False

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    def _start(self) -> dict[str, Any] | WorkerFailure:
        if self._ever_started:
            self.restarts += 1
        self._ever_started = True
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the worker
        env = dict(os.environ if self._env is None else self._env)
        env.setdefault("PYTHONUNBUFFERED", "1")
        # The worker imports this very package, installed or not.
        root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "autotune.measure._worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
            close_fds=True,
            # Ctrl-C reaches the tuner only; it then shuts its workers down itself.
            start_new_session=True,
        )
        self._buffer = bytearray()
        self.calls = 0
        return self._wait(self._startup_timeout, "start")

    def call(
        self,
        request: dict[str, Any],
        timeout: float,
        timing_lock: BaseTimingLock | None = None,
    ) -> dict[str, Any] | WorkerFailure:
        """Send ``request``; the reply, or a :class:`WorkerFailure` within ``timeout``.

        With ``timing_lock``, the worker waits before its timing phase until the lock is
        held, and the lock is released when the reply (or a failure) arrives. Time spent
        waiting for the lock does not count against ``timeout``; the reply then carries
        ``timing_turn``: when the lock was granted and given back (``time.time()``), and
        how long the wait took.
        """
        if self._proc is None or self._proc.poll() is not None:
            started = self._start()
            if isinstance(started, WorkerFailure):
                return started
        assert self._proc is not None and self._proc.stdin is not None
        if timing_lock is not None:
            request = {**request, "gated": True}
        try:
            send(self._proc.stdin, request)  # type: ignore[arg-type]
        except (BrokenPipeError, OSError):
            return self._died("send")
        self.calls += 1
        if timing_lock is None:
            return self._wait(timeout, "queued")
        turn = _Turn(timing_lock)
        try:
            reply = self._wait(timeout, "queued", turn)
        finally:
            turn.end()
        if isinstance(reply, dict) and turn.granted_at is not None:
            reply["timing_turn"] = turn.as_dict()
        return reply

    def _wait(
        self, timeout: float, stage: str, turn: _Turn | None = None
    ) -> dict[str, Any] | WorkerFailure:
        assert self._proc is not None and self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while True:
            complete, message = pop_message(self._buffer)
            if complete:
                event = message.get("event")
                if event == "stage":
                    stage = message["stage"]
                    continue
                if event == "gate" and turn is not None:
                    deadline += turn.begin()
                    if not self._go():
                        return self._died("time")
                    continue
                if message.get("restart"):
                    self._retire()
                return message
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                return WorkerFailure("timeout", stage, f"no result within {timeout:.0f} s")
            ready, _, _ = select.select([fd], [], [], remaining)
            if ready and not read_available(fd, self._buffer):
                return self._died(stage)

    def _go(self) -> bool:
        """Tell a worker waiting at its timing gate to go on; ``False`` if it is gone."""
        assert self._proc is not None and self._proc.stdin is not None
        try:
            send(self._proc.stdin, {"op": "go"})  # type: ignore[arg-type]
        except (BrokenPipeError, OSError):
            return False
        return True

    def _retire(self) -> None:
        """Let a worker that said it is unfit for more work (a lost CUDA context) exit;
        the next call starts a fresh one."""
        assert self._proc is not None
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
        self._proc = None

    def _died(self, stage: str) -> WorkerFailure:
        assert self._proc is not None
        try:
            code = self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self._proc.returncode
        tail = self.stderr_tail()
        self._proc = None
        message = f"worker {describe_exit(code)} during {stage}"
        if tail:
            message += f"; stderr: {tail}"
        return WorkerFailure("died", stage, message)

    def stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0, os.SEEK_END)
        size = self._stderr.tell()
        self._stderr.seek(max(0, size - STDERR_TAIL))
        text = self._stderr.read().decode(errors="replace")
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        # LLVM's fatal errors are the most useful line when present.
        fatal = [ln for ln in lines if "LLVM ERROR" in ln]
        return (fatal[-1] if fatal else " | ".join(lines[-3:]))[:500]

    def kill(self) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait()
            self._proc = None

    def close(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            try:
                assert self._proc.stdin is not None
                send(self._proc.stdin, {"op": "exit"})  # type: ignore[arg-type]
                self._proc.stdin.close()
                self._proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.kill()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> WorkerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
