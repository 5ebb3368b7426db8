"""The replay runner answers from recorded data and never builds anything."""

import json

import pytest

from autotune.candidate import Candidate
from autotune.errors import InputError
from autotune.measure import KernelRef, MeasureRequest
from autotune.measure._replay import ReplayData, ReplayRunner
from autotune.records import Status

ROUNDS = {
    "baseline_rounds": [[2.0, 2.0], [2.1, 2.0]],
    "candidate_rounds": [[1.0, 1.0], [1.0, 1.05]],
    "calls_per_sample": 3,
}


def _file(tmp_path, trials):
    data = {
        "format": "autotune-replay",
        "version": 1,
        "target": {"cpu_name": "x", "cpu_features": "+a", "numba": "0.68.1", "llvmlite": "0.50.0"},
        "kernels": [
            {
                "kernel": "k",
                "arg_types": "(f8[:],)",
                "inputs": "(8)",
                "ir_text": "define void @k()",
                "trials": trials,
            }
        ],
    }
    path = tmp_path / "r.json"
    path.write_text(json.dumps(data))
    return path


def test_recorded_configs_are_answered_with_statistics_recomputed(tmp_path):
    config = {"kernel.T": 4}
    path = _file(
        tmp_path,
        [
            {"config": None, "status": "ok", **ROUNDS},
            {"config": config, "status": "ok", "code_hash": "abc", **ROUNDS},
            {"config": {"kernel.T": 8}, "status": "run_failed", "error": "boom"},
        ],
    )
    runner = ReplayRunner(ReplayData.load(path))
    ref = KernelRef("", None, "k")
    assert runner.lower(ref).workload.kernel == "k"
    ok, failed, missing, ab = runner.measure(
        ref,
        [
            MeasureRequest(config),
            MeasureRequest({"kernel.T": 8}),
            MeasureRequest({"kernel.T": 2}),
            MeasureRequest(config, against={"kernel.T": 8}),
        ],
    )
    assert ok.status is Status.OK and ok.timing.speedup == pytest.approx(2.0, rel=0.05)
    assert ok.code_hash == "abc"
    assert failed.status is Status.RUN_FAILED and failed.error == "boom"
    assert missing.status is Status.INVALID and ab.status is Status.INVALID
    assert runner.measure(ref, [MeasureRequest(None)])[0].status is Status.OK


def test_round_trip_through_json_keeps_every_trial(tmp_path):
    path = _file(
        tmp_path,
        [
            {"config": None, "status": "ok", **ROUNDS},
            {"config": {"kernel.T": 4}, "status": "ok", **ROUNDS},
        ],
    )
    data = ReplayData.load(path)
    again = ReplayData.load(_write(tmp_path / "again.json", data.to_json()))
    kernel = again.kernels["k"]
    assert kernel.workload.key == data.kernels["k"].workload.key
    assert Candidate.from_config({"kernel.T": 4}).key in kernel.results


def _write(path, data):
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        json.dumps({"format": "other"}),
        json.dumps({"format": "autotune-replay", "version": 1}),
    ],
)
def test_bad_replay_files_are_input_errors(tmp_path, content):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(InputError):
        ReplayData.load(path)


def test_missing_replay_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="not found"):
        ReplayData.load(tmp_path / "nope.json")
