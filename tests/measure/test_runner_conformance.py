"""The local and replay runners pass the runner conformance suite."""

import json

import pytest

from autotune.measure import KernelRef, LocalRunner
from autotune.measure._replay import ReplayData, ReplayRunner
from autotune.testing.runners import RunnerConformance
from tests._helpers import FIXTURES

GOOD = {"kernel.OFFSET": 0, "kernel.BIAS": 0.0, "kernel.REPEAT": 1}


@pytest.mark.slow
class TestLocalRunner(RunnerConformance):
    def make_runner(self):
        return LocalRunner()

    def kernel(self):
        return KernelRef(str(FIXTURES / "planted.py"), None, "scale")

    def good_config(self):
        return GOOD

    def failing_config(self):
        return {**GOOD, "kernel.OFFSET": 1 << 40}  # writes far out of bounds


ROUNDS = {
    "baseline_rounds": [[2.0, 2.1], [2.0, 2.0]],
    "candidate_rounds": [[1.0, 1.1], [1.0, 1.0]],
    "calls_per_sample": 5,
}


class TestReplayRunner(RunnerConformance):
    @pytest.fixture(autouse=True)
    def _replay_file(self, tmp_path):
        data = {
            "format": "autotune-replay",
            "version": 1,
            "target": {
                "cpu_name": "c",
                "cpu_features": "+f",
                "numba": "0.68.1",
                "llvmlite": "0.50.0",
            },
            "kernels": [
                {
                    "kernel": "scale",
                    "arg_types": "(a,)",
                    "inputs": "(4096)",
                    "ir_text": "ir",
                    "trials": [
                        {"config": None, "status": "ok", **ROUNDS},
                        {"config": GOOD, "status": "ok", **ROUNDS},
                        {
                            "config": {**GOOD, "kernel.OFFSET": 1 << 40},
                            "status": "run_failed",
                            "error": "worker killed by SIGSEGV during verify",
                        },
                    ],
                }
            ],
        }
        self.path = tmp_path / "replay.json"
        self.path.write_text(json.dumps(data))

    def make_runner(self):
        return ReplayRunner(ReplayData.load(self.path))

    def kernel(self):
        return KernelRef("", None, "scale")

    def good_config(self):
        return GOOD

    def failing_config(self):
        return {**GOOD, "kernel.OFFSET": 1 << 40}
