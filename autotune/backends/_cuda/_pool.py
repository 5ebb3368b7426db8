"""Compile many kernel configs ahead of measurement, in worker processes.

Workers are started with ``spawn`` so that none inherits a CUDA context (or any other
state) from the parent; they only ever call NVRTC. The pool hands a worker at most one
job at a time per process, so when a worker dies (ptxas can crash inside NVRTC) only the
jobs in flight are suspects: each is compiled again alone, in a one-process executor, and
only the job that kills that one too gets an error value. Queued jobs are never blamed.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import partial
from types import TracebackType

from autotune.backends._cuda._cache import BinaryCache, cache_key
from autotune.backends._cuda._nvrtc import CompileOutput, compile_cubin, nvrtc_version


@dataclass(frozen=True, slots=True)
class CompileJob:
    """One compile: the arguments of :func:`compile_cubin`, as a frozen value."""

    source: str
    entry: str
    options: tuple[str, ...] = ()
    arch: str = "sm_90"
    name_expression: str | None = None

    def __post_init__(self) -> None:
        # A list is accepted for convenience; a tuple keeps the job hashable and frozen.
        object.__setattr__(self, "options", tuple(self.options))


def compile_job(job: CompileJob) -> CompileOutput:
    """Compile one job in this process; never raises (the worker's entry point)."""
    try:
        return compile_cubin(job.source, job.entry, job.options, job.arch, job.name_expression)
    except Exception as exc:  # a bug here must not take the worker down
        return failed_output(job, f"compiler raised {type(exc).__name__}: {exc}")


def failed_output(job: CompileJob, error: str, version: str = "") -> CompileOutput:
    """A :class:`CompileOutput` that carries only ``error``."""
    lowered = job.entry if job.name_expression is None else ""
    return CompileOutput(None, lowered, "", error, 0.0, None, job.arch, version)


CompileFn = Callable[[CompileJob], CompileOutput]


@dataclass(slots=True)
class _Pending:
    job: CompileJob
    key: str | None
    result: Future[CompileOutput]


class CompilePool:
    """A pool of ``processes`` compile workers with an optional :class:`BinaryCache`.

    Contract:
        * :meth:`submit` returns a future that always gets a :class:`CompileOutput`,
          never an exception: a compile error, a worker that died and a closed pool all
          become outputs with ``error`` set.
        * A cache hit is answered in the calling thread and never reaches a worker; a
          successful compile is stored in the cache before its future completes.
        * ``processes=0`` compiles in the calling thread (no isolation from a crash), as
          does any pool created inside a daemonic process, which may not have children.
        * ``compile_fn`` must be a picklable module-level function; it is the worker's
          entry point (tests pass one that kills the worker).
        * Thread-safe; :meth:`close` (or leaving the ``with`` block) stops the workers.
    """

    def __init__(
        self,
        processes: int = 2,
        cache: BinaryCache | None = None,
        *,
        compile_fn: CompileFn = compile_job,
        start_method: str = "spawn",
    ) -> None:
        self.processes = max(0, processes)
        self.cache = cache
        self._compile_fn = compile_fn
        self._context = multiprocessing.get_context(start_method)
        self._inline = self.processes == 0 or bool(multiprocessing.current_process().daemon)
        self._lock = threading.Lock()
        self._queue: deque[_Pending] = deque()
        self._in_flight = 0
        self._shared: ProcessPoolExecutor | None = None
        self._suspects: deque[_Pending] = deque()
        self._isolated: ProcessPoolExecutor | None = None
        self._isolating = False
        self._closed = False
        self._version: str | None = None

    def __enter__(self) -> CompilePool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def nvrtc_version(self) -> str:
        """The parent's NVRTC version (part of every cache key); "" without NVRTC."""
        if self._version is None:
            self._version = nvrtc_version()
        return self._version

    def key(self, job: CompileJob) -> str | None:
        """The job's cache key, or None when there is no cache or no NVRTC to key by."""
        if self.cache is None or not self.nvrtc_version:
            return None
        return cache_key(
            job.source, job.entry, job.options, job.arch, job.name_expression, self.nvrtc_version
        )

    def submit(self, job: CompileJob) -> Future[CompileOutput]:
        """Start compiling ``job``; the future completes with its output."""
        key = self.key(job)
        if key is not None and self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                return _completed(hit)
        pending = _Pending(job, key, Future())
        if self._inline:
            self._resolve(pending, compile_job_safely(self._compile_fn, job))
            return pending.result
        if self._enqueue(self._queue, pending):
            self._pump()
        return pending.result

    def compile_many(self, jobs: Iterable[CompileJob]) -> list[CompileOutput]:
        """Compile ``jobs`` concurrently; the outputs in the jobs' order."""
        futures = [self.submit(job) for job in jobs]
        return [future.result() for future in futures]

    def close(self) -> None:
        """Stop the workers. Jobs not yet started complete with an error output."""
        with self._lock:
            self._closed = True
            abandoned = [*self._queue, *self._suspects]
            self._queue.clear()
            self._suspects.clear()
            executors = [self._shared, self._isolated]
            self._shared = self._isolated = None
        for pending in abandoned:
            self._resolve(pending, failed_output(pending.job, "compile pool was closed"))
        for executor in executors:
            if executor is not None:
                executor.shutdown(wait=True, cancel_futures=True)

    # -- the shared executor: at most `processes` jobs in flight ---------------------

    def _pump(self) -> None:
        """Hand queued jobs to the shared executor while a worker is free."""
        while True:
            with self._lock:
                if self._closed or not self._queue or self._in_flight >= self.processes:
                    return
                pending = self._queue.popleft()
                if self._shared is None:
                    self._shared = ProcessPoolExecutor(self.processes, mp_context=self._context)
                executor = self._shared
                self._in_flight += 1
                # Submitting under the lock: no callback can retire the executor between
                # choosing it and submitting to it.
                inner = _submit(executor, self._compile_fn, pending.job)
            # Outside the lock: a future that failed to submit runs its callback at once.
            inner.add_done_callback(partial(self._shared_done, executor, pending))

    def _shared_done(
        self, executor: ProcessPoolExecutor, pending: _Pending, inner: Future[CompileOutput]
    ) -> None:
        with self._lock:
            self._in_flight -= 1
        exc = _exception(inner)
        if isinstance(exc, _NotSubmitted) and isinstance(exc.__cause__, BrokenProcessPool):
            # It never ran, so it is no suspect: it waits for the next executor.
            self._retire(executor, shared=True)
            self._enqueue(self._queue, pending, front=True)
        elif isinstance(exc, BrokenProcessPool):
            self._retire(executor, shared=True)
            self._isolate(pending)
        elif exc is not None:
            self._resolve(pending, failed_output(pending.job, _describe(exc)))
        else:
            self._resolve(pending, inner.result())
        self._pump()

    # -- isolation: a suspect runs alone, so a death is its own ----------------------

    def _isolate(self, pending: _Pending) -> None:
        if self._enqueue(self._suspects, pending):
            self._next_suspect()

    def _next_suspect(self) -> None:
        with self._lock:
            if self._isolating or self._closed or not self._suspects:
                return
            self._isolating = True
            pending = self._suspects.popleft()
            if self._isolated is None:
                self._isolated = ProcessPoolExecutor(1, mp_context=self._context)
            executor = self._isolated
            inner = _submit(executor, self._compile_fn, pending.job)
        inner.add_done_callback(partial(self._isolated_done, executor, pending))

    def _isolated_done(
        self, executor: ProcessPoolExecutor, pending: _Pending, inner: Future[CompileOutput]
    ) -> None:
        exc = _exception(inner)
        if isinstance(exc, _NotSubmitted) and isinstance(exc.__cause__, BrokenProcessPool):
            self._retire(executor, shared=False)
            self._enqueue(self._suspects, pending, front=True)
        elif isinstance(exc, BrokenProcessPool):
            self._retire(executor, shared=False)
            message = f"the compiler process died while compiling this job ({_describe(exc)})"
            self._resolve(pending, failed_output(pending.job, message, self.nvrtc_version))
        elif exc is not None:
            self._resolve(pending, failed_output(pending.job, _describe(exc)))
        else:
            self._resolve(pending, inner.result())
        with self._lock:
            self._isolating = False
        self._next_suspect()

    def _enqueue(self, queue: deque[_Pending], pending: _Pending, *, front: bool = False) -> bool:
        """Queue ``pending``; False (and an error output) once the pool is closed."""
        with self._lock:
            closed = self._closed
            if not closed:
                if front:
                    queue.appendleft(pending)
                else:
                    queue.append(pending)
        if closed:
            self._resolve(pending, failed_output(pending.job, "compile pool is closed"))
        return not closed

    def _retire(self, executor: ProcessPoolExecutor, *, shared: bool) -> None:
        """Forget a broken executor; the next job starts a fresh one."""
        with self._lock:
            if shared and self._shared is executor:
                self._shared = None
            if not shared and self._isolated is executor:
                self._isolated = None
        # Called from the executor's own thread: waiting for it would deadlock.
        executor.shutdown(wait=False)

    def _resolve(self, pending: _Pending, output: CompileOutput) -> None:
        # The key names the parent's NVRTC; an output from another one must not be filed
        # under it.
        same_compiler = output.nvrtc_version == self.nvrtc_version
        if pending.key is not None and self.cache is not None and same_compiler:
            self.cache.put(pending.key, output)
        pending.result.set_result(output)


def compile_job_safely(compile_fn: CompileFn, job: CompileJob) -> CompileOutput:
    """``compile_fn(job)``, with an exception turned into an error output."""
    try:
        return compile_fn(job)
    except Exception as exc:
        return failed_output(job, _describe(exc))


def compile_serially(jobs: Sequence[CompileJob]) -> list[CompileOutput]:
    """Compile ``jobs`` one after another in this process (reference results)."""
    return [compile_job(job) for job in jobs]


class _NotSubmitted(Exception):
    """The executor refused the job (its cause says why); the job never ran."""


def _submit(executor: ProcessPoolExecutor, fn: CompileFn, job: CompileJob) -> Future[CompileOutput]:
    """``executor.submit(fn, job)``, or a future holding why it was refused."""
    try:
        return executor.submit(fn, job)
    except Exception as exc:  # broken, shut down, or no process could be started
        refused: Future[CompileOutput] = Future()
        error = _NotSubmitted(f"the compile executor refused the job: {exc}")
        error.__cause__ = exc
        refused.set_exception(error)
        return refused


def _completed(output: CompileOutput) -> Future[CompileOutput]:
    future: Future[CompileOutput] = Future()
    future.set_result(output)
    return future


def _exception(inner: Future[CompileOutput]) -> BaseException | None:
    if inner.cancelled():
        return RuntimeError("compile was cancelled: the pool was closed")
    return inner.exception()


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    if exc.__cause__ is not None:
        text += f" ({str(exc.__cause__).strip()[:300]})"
    return text
