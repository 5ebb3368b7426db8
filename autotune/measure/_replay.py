"""Replaying recorded measurements: the search runs, nothing is built or timed.

Replay file format (JSON)::

    {
      "format": "autotune-replay", "version": 1,
      "target": {"cpu_name": ..., "cpu_features": ..., "numba": ..., "llvmlite": ...},
      "kernels": [
        {
          "kernel": "matmul", "arg_types": "(...)", "inputs": "(256x256, ...)",
          "ir_text": "...",
          "workload_key": "...",
          "trials": [
            {"config": {...}, "status": "ok", "error": "", "compile_s": 0.09,
             "verify_s": 0.001, "calls_per_sample": 12,
             "baseline_rounds": [[s, s, s], ...], "candidate_rounds": [[s, s, s], ...]}
          ]
        }
      ]
    }

The baseline is the trial whose ``config`` is ``null``. Times are seconds per call;
speedups and CIs are recomputed from the raw rounds.

A CUDA target is written as :meth:`CudaTarget.as_dict
<autotune.backends._cupy.CudaTarget.as_dict>` writes it (``"backend": "cuda"``). A
trial may carry ``"build"``: what its build revealed (registers, spills, shared
memory), kept in the result's ``provenance["build"]`` as a measured CUDA trial keeps it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autotune.candidate import Candidate
from autotune.errors import InputError
from autotune.measure._base import BaseRunner, LowerResult, MeasureRequest
from autotune.measure._protocol import KernelRef
from autotune.measure._timing import result_from_mapping
from autotune.program import Target, Workload
from autotune.records import MeasureResult, Status, TrialRecord

if TYPE_CHECKING:
    from autotune.backends._cupy import CudaTarget

FORMAT = "autotune-replay"
VERSION = 1


@dataclass
class ReplayKernel:
    workload: Workload
    baseline: MeasureResult | None
    #: config key -> (config, result)
    results: dict[str, tuple[dict[str, Any], MeasureResult]]
    #: For space files: each dimension's spec-file table, in order.
    space: dict[str, Any] | None = None


@dataclass
class ReplayData:
    target: Target | CudaTarget
    kernels: dict[str, ReplayKernel]

    @classmethod
    def load(cls, path: Path) -> ReplayData:
        try:
            data = json.loads(Path(path).read_text())
        except FileNotFoundError:
            raise InputError(f"replay file not found: {path}") from None
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}: not valid JSON: {exc}") from None
        if (
            not isinstance(data, dict)
            or data.get("format") != FORMAT
            or data.get("version") != VERSION
        ):
            raise InputError(f"{path}: not an {FORMAT} v{VERSION} file")
        try:
            target = _target_from_json(data["target"])
            kernels = {k["kernel"]: _kernel_from_json(k) for k in data["kernels"]}
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{path}: malformed replay data: {exc!r}") from None
        return cls(target, kernels)

    @classmethod
    def from_records(
        cls, target: Target, workloads: list[Workload], records: list[TrialRecord]
    ) -> ReplayData:
        kernels: dict[str, ReplayKernel] = {}
        for workload in workloads:
            mine = [r for r in records if r.workload_key == workload.key]
            baseline = next((r.result for r in reversed(mine) if r.phase == "baseline"), None)
            results = {r.config_key: (r.config, r.result) for r in mine if r.phase == "search"}
            # One instance per kernel name: where a kernel was tuned at several problem
            # sizes, the one with the most measurements is kept.
            known = kernels.get(workload.kernel)
            if known is None or len(results) > len(known.results):
                kernels[workload.kernel] = ReplayKernel(workload, baseline, results)
        return cls(target, kernels)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "target": self.target.as_dict(),
            "kernels": [_kernel_to_json(k) for k in self.kernels.values()],
        }


_TARGET_FIELDS = {
    "cpu_name": "cpu_name",
    "cpu_features": "cpu_features",
    "numba": "numba_version",
    "llvmlite": "llvmlite_version",
}


def _target_from_json(data: dict[str, Any]) -> Target | CudaTarget:
    if data.get("backend") == "cuda":
        from autotune.backends._cupy import CudaTarget

        return CudaTarget.from_dict(data)
    return Target(**{_TARGET_FIELDS[k]: v for k, v in data.items()})


def _kernel_from_json(data: dict[str, Any]) -> ReplayKernel:
    workload = Workload(data["kernel"], data["arg_types"], data["ir_text"], data["inputs"])
    baseline = None
    results = {}
    for trial in data["trials"]:
        result = _result_from_json(trial)
        if trial["config"] is None:
            baseline = result
        else:
            results[Candidate.from_config(trial["config"]).key] = (trial["config"], result)
    return ReplayKernel(workload, baseline, results, data.get("space"))


def _result_from_json(trial: dict[str, Any]) -> MeasureResult:
    provenance: dict[str, Any] = {"replayed": True}
    if trial.get("build"):
        provenance["build"] = trial["build"]
    return result_from_mapping(trial, trial, provenance)


def _kernel_to_json(kernel: ReplayKernel) -> dict[str, Any]:
    trials = []
    if kernel.baseline is not None:
        trials.append(_result_to_json(None, kernel.baseline))
    for config, result in kernel.results.values():
        trials.append(_result_to_json(config, result))
    out: dict[str, Any] = {
        "kernel": kernel.workload.kernel,
        "arg_types": kernel.workload.arg_types,
        "inputs": kernel.workload.inputs,
        "ir_text": kernel.workload.ir_text,
        "workload_key": kernel.workload.key,
        "trials": trials,
    }
    if kernel.space is not None:
        out["space"] = kernel.space
    return out


def _result_to_json(config: dict[str, Any] | None, result: MeasureResult) -> dict[str, Any]:
    out: dict[str, Any] = {
        "config": config,
        "status": str(result.status),
        "error": result.error,
        "compile_s": result.compile_s,
        "verify_s": result.verify_s,
        "code_hash": result.code_hash,
    }
    if result.timing is not None:
        out["calls_per_sample"] = result.timing.calls_per_sample
        out["baseline_rounds"] = result.timing.baseline_rounds
        out["candidate_rounds"] = result.timing.candidate_rounds
        if result.timing.process_rounds:
            out["process_rounds"] = list(result.timing.process_rounds)
    if result.provenance.get("build"):
        out["build"] = result.provenance["build"]
    return out


class ReplayRunner(BaseRunner):
    """Answers every request from :class:`ReplayData`.

    A recorded config is answered as recorded, failures included: GPU space files
    (:mod:`autotune.measure._gpu_spaces`) record the configs that break a restriction
    as ``invalid`` and those compiled but never run as ``skipped``, each with its
    reason. A config that was never recorded comes back ``invalid`` ("not in the
    replay data"), which spends no budget, and so does an A/B request (``against``):
    recordings pair every config with the baseline only. ``confirm`` returns the
    recorded search measurement.
    """

    def __init__(self, data: ReplayData) -> None:
        self.data = data

    def _kernel(self, kernel: KernelRef) -> ReplayKernel | None:
        return self.data.kernels.get(kernel.name)

    def lower(self, kernel: KernelRef) -> LowerResult:
        recorded = self._kernel(kernel)
        if recorded is None:
            return LowerResult(None, f"kernel {kernel.name!r} is not in the replay data")
        return LowerResult(recorded.workload)

    def measure(self, kernel: KernelRef, requests: list[MeasureRequest]) -> list[MeasureResult]:
        return [self._answer(kernel, r) for r in requests]

    def confirm(self, kernel: KernelRef, request: MeasureRequest) -> MeasureResult:
        return self._answer(kernel, request)

    def _answer(self, kernel: KernelRef, request: MeasureRequest) -> MeasureResult:
        recorded = self._kernel(kernel)
        if recorded is None:
            return MeasureResult(
                Status.SKIPPED, f"kernel {kernel.name!r} is not in the replay data"
            )
        if request.against is not None:
            return MeasureResult(Status.INVALID, "A/B comparisons are not in the replay data")
        if request.config is None:
            if recorded.baseline is None:
                return MeasureResult(Status.RUN_FAILED, "no baseline in the replay data")
            return recorded.baseline
        key = Candidate.from_config(request.config).key
        if key not in recorded.results:
            return MeasureResult(Status.INVALID, "not in the replay data")
        return recorded.results[key][1]
