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
from dataclasses import asdict
from pathlib import Path
from typing import Any, BinaryIO

from autotune.backends import BuildResult
from autotune.loops import LEGALITY_BUG
from autotune.measure._protocol import KernelRef, recv, send


class BaselineError(Exception):
    """The kernel's baseline (Numba's default build) does not compile."""


class _KernelState:
    """What a worker keeps per kernel: inputs, reference outputs and the baseline."""

    def __init__(self, ref: KernelRef, builder: Any) -> None:
        from autotune.kernels import load_kernels
        from autotune.measure._verify import collect_outputs

        decls = load_kernels(Path(ref.source), Path(ref.spec) if ref.spec else None)
        matches = [d for d in decls if d.name == ref.name]
        if not matches:
            raise LookupError(f"kernel {ref.name!r} not found in {ref.source}")
        self.decl = matches[0]
        self.builder = builder
        self.input_sets = [self.decl.make_inputs(ref.seed + i, ref.size) for i in (0, 1)]
        self.restore = [o for o in self.decl.outputs if isinstance(o, int)]
        self.baseline: BuildResult | None = None
        reference: Any = self.decl.reference
        if reference is None:
            reference = self.ensure_baseline().artifact
        self.expected = [
            collect_outputs(reference, args, self.decl.outputs) for args in self.input_sets
        ]

    def ensure_baseline(self) -> BuildResult:
        """Numba's default build of the kernel, built once; raises if it does not compile."""
        if self.baseline is None:
            built = self.builder.build_baseline(self.decl, self.input_sets[0])
            if built.artifact is None:
                raise BaselineError(built.error)
            self.baseline = built
        return self.baseline

    def built(self, config: dict[str, Any] | None) -> BuildResult:
        """The build of ``config``; ``None`` is the baseline, built once."""
        if config is None:
            return self.ensure_baseline()
        return self.builder.build(self.decl, config, self.input_sets[0])

    def verify(self, func: Any) -> str | None:
        from autotune.measure._verify import collect_outputs, compare_outputs

        decl = self.decl
        for i, (args, want) in enumerate(zip(self.input_sets, self.expected, strict=True)):
            got = collect_outputs(func, args, decl.outputs)
            why = compare_outputs(got, want, decl.outputs, decl.rtol, decl.atol)
            if why is not None:
                return f"input set {i}: {why}"
        return None


class Worker:
    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._kernels: dict[KernelRef, _KernelState] = {}
        self._builders: dict[str, Any] = {}

    def stage(self, name: str) -> None:
        send(self._out, {"event": "stage", "stage": name})

    def _builder(self, name: str) -> Any:
        if name not in self._builders:
            from autotune.backends import get_builder

            self._builders[name] = get_builder(name)
        return self._builders[name]

    def _kernel(self, ref: KernelRef) -> _KernelState:
        if ref not in self._kernels:
            self.stage("load")
            self._kernels[ref] = _KernelState(ref, self._builder(ref.builder))
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
            return {"workload": asdict(workload)}
        if op == "measure":
            return self.measure(
                ref, request.get("config"), request["settings"], request.get("against")
            )
        raise ValueError(f"unknown op {op!r}")

    def measure(
        self,
        ref: KernelRef,
        config: dict[str, Any] | None,
        settings: Any,
        against: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Build ``config`` (``None``: the baseline), verify it, and time it paired with
        the baseline, or with the build of ``against``."""
        from autotune.measure._timing import time_paired
        from autotune.program import provenance

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
        why = state.verify(built.artifact)
        verify_s = time.perf_counter() - started
        if why is not None:
            if config is None:
                why = f"baseline fails its reference check: {why}"
            else:
                why = self._blame_loops(state, config, why)
            result = _result("wrong_result", why, built.compile_s, verify_s)
            return {**result, "code_hash": built.code_hash}
        self.stage("time")
        args = state.input_sets[0]
        timing = time_paired(reference.artifact, built.artifact, args, state.restore, settings)
        result = _result("ok", "", built.compile_s, verify_s)
        result["timing"] = asdict(timing)
        result["code_hash"] = built.code_hash
        result["provenance"] = {**provenance(), "reference_code_hash": reference.code_hash}
        return result

    def _blame_loops(self, state: _KernelState, config: dict[str, Any], why: str) -> str:
        """``why`` marked as a legality bug when the config's loop transformations alone,
        under Numba's default compiler options, already give a wrong result."""
        from autotune.loops._space import PREFIX, LoopOptions

        loops_only = {k: v for k, v in config.items() if k.startswith(PREFIX)}
        if LoopOptions.from_config(loops_only).is_default:
            return why
        self.stage("build")
        alone = state.built(loops_only)
        if alone.artifact is None:
            return why
        self.stage("verify")
        again = state.verify(alone.artifact)
        if again is None:
            return why  # the compiler options, not the loop transformations, broke it
        changes = ", ".join(f"{k}={v}" for k, v in sorted(loops_only.items()))
        return f"{LEGALITY_BUG}: the dependence checks let through {changes}; {again}"


def _result(
    status: str, error: str, compile_s: float, verify_s: float | None = None
) -> dict[str, Any]:
    return {"status": status, "error": error, "compile_s": compile_s, "verify_s": verify_s}


def main() -> None:
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # kernels that print now write to stderr
    sys.stdout = sys.stderr
    stdin = sys.stdin.buffer
    worker = Worker(out)
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
            kind = "" if isinstance(exc, BaselineError) else f"{type(exc).__name__}: "
            reply = {
                "event": "error",
                "error": kind + " ".join(str(exc).split())[:800],
                "traceback": traceback.format_exc(),
            }
        send(out, reply)


if __name__ == "__main__":
    main()
