"""Worker process: builds, verifies and times candidates on request.

Started by :class:`~autotune.measure.WorkerProcess` as ``python -m
autotune.measure._worker``. Requests arrive on stdin; replies leave on the original
stdout, which is then pointed at stderr so that a kernel's prints cannot corrupt the
protocol. Before each risky step the worker announces a *stage*, so that when it dies
(a segfault, an LLVM fatal error) the parent knows what it was doing.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from autotune.backends import BaseBackend, BuildResult, get_backend
from autotune.kernels import NUMBA_DEFAULT
from autotune.measure._protocol import KernelRef, recv, send
from autotune.records import TimingSettings

T = TypeVar("T")


class StageError(Exception):
    """A step of preparing a kernel failed: loading it, making its inputs, running its
    reference, building or running the baseline. The message names the step."""


class BaselineError(StageError):
    """The kernel's baseline (as written, or Numba's default build) does not compile."""


def _in_stage(what: str, func: Callable[[], T]) -> T:
    """``func()``, with any exception it raises turned into a :class:`StageError` whose
    message starts with ``what`` (the step that failed)."""
    try:
        return func()
    except StageError:
        raise
    except Exception as exc:
        raise StageError(f"{what}: {type(exc).__name__}: {' '.join(str(exc).split())}") from exc


class _KernelState:
    """What a worker keeps per kernel: inputs, reference outputs and the baseline."""

    def __init__(self, ref: KernelRef, backend: BaseBackend) -> None:
        from autotune.kernels import identical_input_sets, load_kernels
        from autotune.measure._verify import collect_outputs

        decls = _in_stage(
            "the kernel does not load",
            lambda: load_kernels(Path(ref.source), Path(ref.spec) if ref.spec else None),
        )
        matches = [d for d in decls if d.name == ref.name]
        if not matches:
            raise StageError(f"the kernel does not load: no kernel {ref.name!r} in {ref.source}")
        self.decl = decl = _in_stage(
            "the kernel does not load", lambda: matches[0].as_baseline(ref.baseline)
        )
        #: What the baseline is, as messages name it.
        self.baseline_name = backend.baseline_name(decl, ref.baseline)
        self.backend = backend
        self.builder = backend.builder()
        self.input_sets = list(
            _in_stage("making the inputs failed", lambda: decl.input_sets(ref.seed, ref.size))
        )
        #: Whether the held-back input set equals the timed one (no second check).
        self.identical_inputs = identical_input_sets(*self.input_sets)
        self.restore = [o for o in decl.outputs if isinstance(o, int)]
        self.baseline: BuildResult | None = None
        self.baseline_call: float | None = None
        reference: Any = decl.reference
        what = "the reference raised"
        if reference is None:
            reference = self._default_build()
            what = "the kernel raised when run (Numba's default build)"
        self.expected = [
            _in_stage(what, partial(collect_outputs, reference, args, decl.outputs))
            for args in self.input_sets
        ]

    def ensure_baseline(self) -> BuildResult:
        """The baseline build of the kernel, built once; raises if it does not compile."""
        if self.baseline is None:
            built = self.builder.build_baseline(self.decl, self.input_sets[0])
            if built.artifact is None:
                raise BaselineError(f"{self.baseline_name} does not compile: {built.error}")
            self.baseline = built
        return self.baseline

    def baseline_note(self) -> str:
        """What the baseline and the reference were, where the author's options make
        the baseline more than Numba's default build (empty otherwise)."""
        if not self.decl.njit_options:
            return ""
        reference = "its declared reference" if self.decl.reference else "Numba's default build"
        return f" ({self.baseline_name}, against {reference})"

    def _default_build(self) -> Any:
        """Numba's default build (plain ``njit``): the reference of a kernel that
        declares none. Not the author's build: that one is verified against it, since
        options such as ``parallel=True`` can make code as written compute wrong."""
        if not self.decl.njit_options:
            return self.ensure_baseline().artifact
        plain = self.decl.as_baseline(NUMBA_DEFAULT)
        built = self.builder.build_baseline(plain, self.input_sets[0])
        if built.artifact is None:
            raise StageError(f"Numba's default build does not compile: {built.error}")
        return built.artifact

    def built(self, config: dict[str, Any] | None) -> BuildResult:
        """The build of ``config``; ``None`` is the baseline, built once."""
        if config is None:
            return self.ensure_baseline()
        return self.builder.build(self.decl, config, self.input_sets[0])

    def verify(self, func: Any, settings: TimingSettings | None = None) -> tuple[str | None, Any]:
        """Why ``func``'s outputs are wrong, or ``None``; and, when its calls on the first
        input set show it hopeless (see ``TimingSettings``), their :class:`Timing`
        against the baseline: it is then not verified further."""
        decl = self.decl
        for i, (args, want) in enumerate(zip(self.input_sets, self.expected, strict=True)):
            got, call_s = _timed_outputs(func, args, decl.outputs)
            why = self.backend.verify(got, want, decl.outputs, decl.rtol, decl.atol)
            if why is not None:
                return f"input set {i}: {why}", None
            if i == 0 and settings is not None and _may_be_hopeless(call_s, settings):
                cut = self._hopeless_timing(func, call_s, settings.hopeless_speedup)
                if cut is not None:
                    return None, cut
        return None, None

    def _hopeless_timing(self, func: Any, first_call_s: float, hopeless_speedup: float) -> Any:
        """The timing of the candidate's calls against the baseline's when even its
        faster call is hopeless, else ``None``. A candidate within a factor of two of
        the cut is called once more first: noise does not make a call that much slower,
        but it can make it twice as slow."""
        from autotune.measure._timing import summarize

        args, outputs = self.input_sets[0], self.decl.outputs
        base_func = self.ensure_baseline().artifact
        if self.baseline_call is None:
            self.baseline_call = _timed_outputs(base_func, args, outputs)[1]
        baseline = [self.baseline_call, _timed_outputs(base_func, args, outputs)[1]]
        candidate = [first_call_s]
        if min(baseline) >= hopeless_speedup / 2 * first_call_s:
            candidate.append(_timed_outputs(func, args, outputs)[1])
        if min(baseline) >= hopeless_speedup * min(candidate):
            return None
        return summarize([baseline], [candidate], 1)


class Worker:
    def __init__(self, out: BinaryIO, inp: BinaryIO | None = None) -> None:
        self._out = out
        self._in = inp
        self._kernels: dict[KernelRef, _KernelState] = {}

    def stage(self, name: str) -> None:
        send(self._out, {"event": "stage", "stage": name})

    def wait_for_turn(self) -> None:
        """Block until the parent holds the machine's timing lock and says go."""
        assert self._in is not None, "a gated request needs the request stream"
        send(self._out, {"event": "gate"})
        message = recv(self._in)
        if message.get("op") != "go":
            raise RuntimeError(f"expected 'go' at the timing gate, got {message!r}")

    def _kernel(self, ref: KernelRef) -> _KernelState:
        if ref not in self._kernels:
            self.stage("load")
            self._kernels[ref] = _KernelState(ref, get_backend(ref.builder))
        return self._kernels[ref]

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request["op"]
        if op == "ping":
            return {"pid": os.getpid()}
        ref: KernelRef = request["kernel"]
        if op == "lower":
            state = self._kernel(ref)
            self.stage("lower")
            workload = state.builder.lower(state.decl, state.input_sets[0])
            return {"workload": asdict(workload), "identical_inputs": state.identical_inputs}
        if op == "prepare":
            state = self._kernel(ref)
            state.builder.prepare(state.decl, request["configs"], state.input_sets[0])
            return {}
        if op == "measure":
            return self.measure(
                ref,
                request.get("config"),
                request["settings"],
                request.get("against"),
                gated=bool(request.get("gated")),
            )
        raise ValueError(f"unknown op {op!r}")

    def measure(
        self,
        ref: KernelRef,
        config: dict[str, Any] | None,
        settings: Any,
        against: dict[str, Any] | None = None,
        gated: bool = False,
    ) -> dict[str, Any]:
        """Build ``config`` (``None``: the baseline), verify it, and time it paired with
        the baseline, or with the build of ``against``. ``gated``: wait for the parent's
        go before timing (it holds the machine's timing lock meanwhile)."""
        state = self._kernel(ref)
        self.stage("build")
        state.ensure_baseline()
        reference = state.built(against)
        if reference.artifact is None:
            return _result("run_failed", f"config to compare against: {reference.error}", 0.0)
        built = state.built(config)
        if built.artifact is None:
            return _result("build_failed", built.error, built.compile_s)
        self.stage("verify")
        started = time.perf_counter()
        # Only a candidate timed against the baseline can be cut (A/B trials never are).
        cut = settings if config is not None and against is None else None
        if config is None:
            # The baseline raising is the kernel's own failure: say so.
            what = f"the kernel raised when run ({state.baseline_name})"
            why, hopeless = _in_stage(what, lambda: state.verify(built.artifact, cut))
        else:
            why, hopeless = state.verify(built.artifact, cut)
        verify_s = time.perf_counter() - started
        if why is not None:
            if config is None:
                why = f"baseline fails its reference check{state.baseline_note()}: {why}"
            else:
                why = state.backend.blame(state, config, why, self.stage)
            result = _result("wrong_result", why, built.compile_s, verify_s)
            return {**result, "code_hash": built.code_hash}
        if hopeless is not None:
            return _ok(built, verify_s, hopeless, reference.code_hash, hopeless=True)
        if gated:
            self.wait_for_turn()
        self.stage("time")
        args = state.input_sets[0]
        timing = state.backend.time_paired(
            reference.artifact, built.artifact, args, state.restore, settings
        )
        result = _ok(built, verify_s, timing, reference.code_hash)
        figures = state.backend.figures(built.artifact, timing)
        if figures:
            result["provenance"]["figures"] = figures
        return result


def _may_be_hopeless(call_s: float, settings: TimingSettings) -> bool:
    # A call shorter than one timing sample costs little to time, and its first call
    # after compiling is dominated by one-off overheads: never cut it.
    return settings.hopeless_speedup > 0 and call_s >= settings.min_sample_s


def _timed_outputs(func: Any, args: tuple[Any, ...], outputs: Any) -> tuple[list[Any], float]:
    """``func``'s outputs on (a copy of) ``args``, and the seconds the call took, copy
    included."""
    from autotune.measure._verify import collect_outputs

    started = time.perf_counter()
    got = collect_outputs(func, args, outputs)
    return got, time.perf_counter() - started


def _ok(
    built: BuildResult,
    verify_s: float,
    timing: Any,
    reference_hash: str | None,
    hopeless: bool = False,
) -> dict[str, Any]:
    from autotune.program import provenance

    result = _result("ok", "", built.compile_s, verify_s)
    result["timing"] = asdict(timing)
    result["code_hash"] = built.code_hash
    result["provenance"] = {**provenance(), "reference_code_hash": reference_hash}
    if built.features:
        result["provenance"]["build"] = built.features
    if hopeless:
        result["provenance"]["hopeless"] = True
    return result


def _result(
    status: str, error: str, compile_s: float, verify_s: float | None = None
) -> dict[str, Any]:
    return {"status": status, "error": error, "compile_s": compile_s, "verify_s": verify_s}


def _poisons(request: dict[str, Any], exc: BaseException) -> bool:
    """Whether ``exc`` leaves this process unfit for more work, as the backend of the
    request's kernel judges it."""
    ref = request.get("kernel")
    if not isinstance(ref, KernelRef):
        return False
    try:
        return get_backend(ref.builder).poisoned(exc)
    except Exception:  # an unknown backend poisons nothing
        return False


def main() -> None:
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # kernels that print now write to stderr
    sys.stdout = sys.stderr
    stdin = sys.stdin.buffer
    worker = Worker(out, stdin)
    send(out, {"event": "ready", "pid": os.getpid()})
    while True:
        try:
            request = recv(stdin)
        except EOFError:
            return
        if request.get("op") == "exit":
            return
        try:
            reply = {"event": "result", **worker.handle(request)}
        except Exception as exc:
            kind = "" if isinstance(exc, StageError) else f"{type(exc).__name__}: "
            reply = {
                "event": "error",
                "error": kind + " ".join(str(exc).split())[:800],
                "traceback": traceback.format_exc(),
            }
            if _poisons(request, exc):
                send(out, {**reply, "restart": True})
                return  # the runner starts a fresh worker for the next request
        send(out, reply)


if __name__ == "__main__":
    main()
