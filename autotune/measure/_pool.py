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

    def call(self, request: dict[str, Any], timeout: float) -> dict[str, Any] | WorkerFailure:
        """Send ``request``; the reply, or a :class:`WorkerFailure` within ``timeout``."""
        if self._proc is None or self._proc.poll() is not None:
            started = self._start()
            if isinstance(started, WorkerFailure):
                return started
        assert self._proc is not None and self._proc.stdin is not None
        try:
            send(self._proc.stdin, request)  # type: ignore[arg-type]
        except (BrokenPipeError, OSError):
            return self._died("send")
        self.calls += 1
        return self._wait(timeout, "queued")

    def _wait(self, timeout: float, stage: str) -> dict[str, Any] | WorkerFailure:
        assert self._proc is not None and self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while True:
            complete, message = pop_message(self._buffer)
            if complete:
                if message.get("event") == "stage":
                    stage = message["stage"]
                    continue
                return message
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                return WorkerFailure("timeout", stage, f"no result within {timeout:.0f} s")
            ready, _, _ = select.select([fd], [], [], remaining)
            if ready and not read_available(fd, self._buffer):
                return self._died(stage)

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
