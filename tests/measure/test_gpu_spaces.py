"""GPU tuning-space files become replay data that a search runs on without a GPU.

The measured-format sources here are synthetic mock data (device ``MockGPU``, CuPy
``mock``): made-up times with a known fastest config, never a recording.
"""

from __future__ import annotations

import itertools
import json
import math
import statistics
from pathlib import Path
from typing import Any

import pytest

from autotune.backends._cupy import CudaTarget
from autotune.candidate import Candidate
from autotune.db import open_database
from autotune.errors import InputError
from autotune.kernels import cuda_kernel
from autotune.measure import KernelRef, MeasureRequest
from autotune.measure._gpu_spaces import (
    NOT_RUN,
    convert,
    convert_file,
    dumps,
    is_static,
    main,
    static_target,
)
from autotune.measure._record import space_from_definition
from autotune.measure._replay import ReplayData, ReplayRunner
from autotune.records import Status
from autotune.space import Choice
from autotune.strategies import make_strategy
from autotune.tuner import TuneOptions, Tuner

GPU_SPACES = Path(__file__).parents[2] / "corpora" / "spaces" / "gpu"
PARAMS = {"TILE": [8, 16, 32, 64], "ROWS": [1, 2, 4], "VEC": [1, 2]}
FASTEST = {"TILE": 32, "ROWS": 2, "VEC": 2}
MOCK_DEVICE = {
    "device_name": "MockGPU",
    "compute_capability": "9.0",
    "multiprocessors": 132,
    "driver_version": 12080,
    "runtime_version": 13000,
    "cupy_version": "mock",
    "nvrtc_version": "13.0",
    "date_utc": "2026-01-01T00:00:00Z",
}


def _mock_ms(params: dict[str, int]) -> float:
    """Made-up launch times: FASTEST is the unique minimum."""
    return (
        1.0
        + 0.1 * abs(params["TILE"] - 32) / 8
        + 0.05 * abs(params["ROWS"] - 2)
        + (0.0 if params["VEC"] == 2 else 0.08)
    )


def _mock_config(i: int, params: dict[str, int]) -> dict[str, Any]:
    config: dict[str, Any] = {"id": i, "params": params, "status": "ok", "error": None}
    if params["TILE"] * params["ROWS"] > 128:
        return {**config, "status": "invalid", "error": "TILE*ROWS > 128", "compile_s": None}
    if params == {"TILE": 8, "ROWS": 4, "VEC": 2}:
        return {**config, "status": "compile_error", "error": "ptxas: boom", "compile_s": 0.2}
    if params == {"TILE": 8, "ROWS": 1, "VEC": 2}:
        return {**config, "status": "wrong_result", "error": "rel_err 1e-2", "compile_s": 0.1}
    if params == {"TILE": 16, "ROWS": 1, "VEC": 2}:
        return {**config, "status": "not_measured", "error": "deadline", "compile_s": None}
    # A different jitter per config, so pairing launches matters to the speedup.
    times = [round(_mock_ms(params) * (1 + 0.01 * ((i * 3 + k) % 5 - 2)), 5) for k in range(5)]
    return {
        **config,
        "compile_s": 0.1,
        "times_ms": times,
        "median_ms": statistics.median(times),
        "resources": {"regs": 32, "smem_bytes": 256, "local_bytes": 0, "max_threads": 1024},
    }


def mock_measured_source(**changes: Any) -> dict[str, Any]:
    """A ``gpu-tuning-space/v1`` file of mock data (see the module docstring)."""
    configs = [
        _mock_config(i, dict(zip(PARAMS, values, strict=True)))
        for i, values in enumerate(itertools.product(*PARAMS.values()))
    ]
    source = {
        "format": "gpu-tuning-space/v1",
        "space": "scale",
        "kernel_name": "scale",
        "complete": False,
        "problem": {"n": 4096, "dtype": "float32"},
        "device": MOCK_DEVICE,
        "measurement": {"metric": "gbps", "warmup_launches": 3, "timed_repetitions": 5},
        "launch": {"args": "(x, int n)"},
        "baseline": {"device_copy": {"what": "a copy", "times_ms": [0.5], "median_ms": 0.5}},
        "tune_params": PARAMS,
        "tune_params_keys": list(PARAMS),
        "restrictions": ["TILE*ROWS <= 128"],
        "compile_options": ["-arch=sm_90", "-std=c++17", "-D<NAME>=<value>"],
        "kernel_source": 'extern "C" __global__ void scale(float* x, int n) {}',
        "configs": configs,
    }
    return {**source, **changes}


def mock_static_source() -> dict[str, Any]:
    """A ``gpu-tuning-space-static/v1`` file: the mock space compiled, nothing run."""
    configs = []
    for config in mock_measured_source()["configs"]:
        kept = {k: config[k] for k in ("id", "params", "status", "error", "compile_s")}
        if config["status"] not in ("invalid", "compile_error"):
            kept.update(
                status="compiled",
                error=None,
                compile_s=0.1,
                cubin_bytes=4096,
                resources={"regs": 40, "spill_store_bytes": 8, "smem_bytes": 512},
                other_kernels={"finish": {"regs": 24}},
            )
        configs.append(kept)
    return {
        "format": "gpu-tuning-space-static/v1",
        "space": "scale",
        "kernel_name": "scale",
        "nvrtc_version": "13.0",
        "compile_options": ["-arch=sm_90", "-std=c++17", "-D<NAME>=<value>", "--ptxas-options=-v"],
        "host": {"machine": "x86_64", "cpus": 2},
        "date_utc": "2026-01-01T00:00:00Z",
        "tune_params": PARAMS,
        "restrictions": ["TILE*ROWS <= 128"],
        "status_counts": {"compiled": 21, "invalid": 2, "compile_error": 1},
        "kernel_source": 'extern "C" __global__ void scale(float* x, int n) {}',
        "configs": configs,
    }


def _load(tmp_path: Path, source: dict[str, Any]) -> ReplayData:
    path = tmp_path / "replay.json"
    path.write_text(dumps(convert(source)))
    return ReplayData.load(path)


def _key(params: dict[str, Any]) -> str:
    return Candidate.from_config({f"kernel.{k}": v for k, v in params.items()}).key


@pytest.mark.parametrize("path", sorted(GPU_SPACES.glob("*.json")), ids=lambda p: p.stem)
def test_committed_static_spaces_keep_the_source_counts(path: Path) -> None:
    raw = json.loads(path.read_text())
    [kernel] = ReplayData.load(path).kernels.values()
    [entry] = raw["kernels"]
    counts = entry["recording"]["status_counts"]
    statuses = [r.status for _, r in kernel.results.values()]
    assert statuses.count(Status.INVALID) == counts["invalid"]
    assert statuses.count(Status.SKIPPED) == counts["compiled"]
    assert len(statuses) == sum(counts.values())
    assert Status.OK not in statuses and kernel.baseline.status is Status.SKIPPED
    assert is_static(ReplayData.load(path).target)
    space = space_from_definition(kernel.space)
    assert len(statuses) == math.prod(len(t["choices"]) for t in kernel.space.values())
    assert space.default_config() == entry["baseline_config"]
    for _, result in kernel.results.values():
        if result.status is Status.SKIPPED:
            assert result.error == NOT_RUN and result.provenance["build"]["registers"] > 0
        else:
            assert result.error  # the restriction it breaks


def test_static_conversion_keeps_reasons_and_build_features(tmp_path: Path) -> None:
    data = _load(tmp_path, mock_static_source())
    assert data.target == static_target() and data.target.sm_count == 0
    assert data.target.device_name == "static sm_90 (no runtimes)"
    assert is_static(data.target) and not is_static(CudaTarget("H100", "9.0", 132, *"abc"))
    kernel = data.kernels["scale"]
    statuses = [r.status for _, r in kernel.results.values()]
    assert statuses.count(Status.SKIPPED) == 21 and statuses.count(Status.INVALID) == 2
    assert statuses.count(Status.BUILD_FAILED) == 1
    _, skipped = kernel.results[_key(FASTEST)]
    assert skipped.timing is None and skipped.compile_s == 0.1
    assert skipped.provenance["build"] == {
        "registers": 40,
        "spill_store_bytes": 8,
        "shared_static_bytes": 512,
        "cubin_bytes": 4096,
        "other_kernels": {"finish": {"registers": 24}},
    }
    _, failed = kernel.results[_key({"TILE": 8, "ROWS": 4, "VEC": 2})]
    assert failed.error == "ptxas: boom"
    assert kernel.workload.inputs.startswith("compile only")


def test_measured_speedups_are_recomputed_from_paired_launches(tmp_path: Path) -> None:
    source = mock_measured_source()
    data = _load(tmp_path, source)
    assert data.target == CudaTarget("MockGPU", "9.0", 132, "12.8", "13.0", "mock")
    kernel = data.kernels["scale"]
    base = source["configs"][0]["times_ms"]  # the first values: the default config
    assert kernel.baseline.speedup == 1.0
    ok = [c for c in source["configs"] if c["status"] == "ok"]
    for config in ok:
        _, result = kernel.results[_key(config["params"])]
        expected = statistics.median(b / c for b, c in zip(base, config["times_ms"], strict=True))
        assert result.status is Status.OK and result.speedup == pytest.approx(expected, rel=1e-9)
        assert result.timing.candidate_s == pytest.approx(config["median_ms"] / 1000)
        assert result.provenance["build"]["shared_static_bytes"] == 256
    answers = {
        str(r.status): r.error for _, r in kernel.results.values() if r.status is not Status.OK
    }
    assert answers == {
        "invalid": "TILE*ROWS > 128",
        "build_failed": "ptxas: boom",
        "wrong_result": "rel_err 1e-2",
        "skipped": "not measured: deadline",
    }


def test_a_default_that_did_not_run_gives_way_to_the_first_timed_config(tmp_path) -> None:
    source = mock_measured_source()
    source["configs"][0] = {**source["configs"][0], "status": "launch_error", "error": "x"}
    [kernel] = convert(source)["kernels"]
    first_timed = source["configs"][2]["params"]  # config 1 is a wrong result
    assert kernel["baseline_config"] == {f"kernel.{k}": v for k, v in first_timed.items()}
    assert "launch_error" in kernel["baseline_note"]
    space = space_from_definition(kernel["space"])
    assert space.default_config() == kernel["baseline_config"]
    named = convert(mock_measured_source(default=FASTEST))["kernels"][0]
    assert named["baseline_config"] == {f"kernel.{k}": v for k, v in FASTEST.items()}


def test_a_search_over_the_replay_file_alone_finds_the_fastest_config(tmp_path: Path) -> None:
    data = _load(tmp_path, mock_measured_source())
    kernel = data.kernels["scale"]
    runner = ReplayRunner(data)
    ref = KernelRef("", None, "scale")
    strategy = make_strategy("auto", space_from_definition(kernel.space), 0, len(PARAMS) * 8)
    best: tuple[float, dict[str, Any] | None] = (0.0, None)
    while asked := strategy.ask(1):
        config = asked[0].config
        [result] = runner.measure(ref, [MeasureRequest(config)])
        breaks_restriction = config["kernel.TILE"] * config["kernel.ROWS"] > 128
        assert (result.status is Status.INVALID) == breaks_restriction
        if breaks_restriction:
            assert result.error == "TILE*ROWS > 128"
        if result.status is Status.OK and result.speedup > best[0]:
            best = (result.speedup, config)
        strategy.tell(asked, [result])
    assert best[1] == {f"kernel.{k}": v for k, v in FASTEST.items()}


def mock_cuda_kernel(source: dict[str, Any]) -> Any:
    """A CUDA declaration of the mock recording's kernel (``mock_measured_source``)."""
    return cuda_kernel(
        entry="scale",
        code=source["kernel_source"],
        inputs=[
            {"name": "x", "shape": ["N"], "dtype": "float32"},
            {"name": "n", "value": "N", "dtype": "int32"},
        ],
        outputs=["x"],
        grid=["ceil_div(N, TILE)"],
        block=["ROWS * 32"],
        sizes={"mock": {"N": 4096}},
        params={name: Choice(tuple(values)) for name, values in PARAMS.items()},
        restrictions=["TILE * ROWS <= 128"],
    )


def test_the_tuner_replays_a_converted_file_for_a_cuda_declaration(tmp_path: Path) -> None:
    source = mock_measured_source()
    data = _load(tmp_path, source)
    decl = mock_cuda_kernel(source)
    db = open_database("sqlite://")
    try:
        options = TuneOptions(budget=24, strategy="auto", confirm_top=1)
        result = Tuner(ReplayRunner(data), db, data.target, options).tune(decl)
    finally:
        db.close()
    assert result.tuned and result.target_key == data.target.key
    assert result.best_config == {f"kernel.{k}": v for k, v in FASTEST.items()}
    assert result.provenance["winner"]["build"]["registers"] > 0  # the winner's build


def test_build_features_and_the_cuda_target_survive_a_round_trip(tmp_path: Path) -> None:
    data = _load(tmp_path, mock_measured_source())
    again = tmp_path / "again.json"
    again.write_text(json.dumps(data.to_json()))
    loaded = ReplayData.load(again)
    assert loaded.target == data.target
    _, result = loaded.kernels["scale"].results[_key(FASTEST)]
    assert result.provenance["build"]["registers"] == 32


def test_the_command_line_converts_a_file(tmp_path: Path, capsys) -> None:
    src, out = tmp_path / "scale.mockgpu.json", tmp_path / "out.json"
    src.write_text(json.dumps(mock_measured_source()))
    assert main([str(src), str(out)]) == 0
    assert "24 configs" in capsys.readouterr().out
    assert "scale" in ReplayData.load(out).kernels
    assert convert_file(src, out)["kernels"][0]["kernel"] == "scale"


def _broken(**changes: Any) -> str:
    return json.dumps(mock_measured_source(**changes))


def _with_config(index: int, **changes: Any) -> str:
    source = mock_measured_source()
    source["configs"][index] = {**source["configs"][index], **changes}
    return json.dumps(source)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not readable JSON"),
        (json.dumps([1, 2]), "not a GPU tuning-space file"),
        (json.dumps({"format": "autotune-replay"}), "format 'autotune-replay'"),
        (_broken(tune_params={}), "tune_params"),
        (_broken(device={"device_name": "x"}), "no 'compute_capability'"),
        (_broken(default={"TILE": 3, "ROWS": 1, "VEC": 1}), "TILE=3"),
        (_with_config(3, params={"TILE": 8}), "parameters must be exactly"),
        (_with_config(3, status="exploded"), "status 'exploded'"),
        (_with_config(3, params={"TILE": 8, "ROWS": 1, "VEC": 1}), "same parameters"),
        (_with_config(3, times_ms=None, median_ms=None), "without times_ms"),
        (_broken(summary={"status_counts": {"ok": 24}}), "disagree with the configs"),
        (
            json.dumps({k: v for k, v in mock_measured_source().items() if k != "configs"}),
            "no 'configs'",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, capsys, content, message) -> None:
    src = tmp_path / "bad.json"
    src.write_text(content)
    assert main([str(src), str(tmp_path / "out.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err
    with pytest.raises(InputError):
        convert_file(src, tmp_path / "out.json")


def test_a_missing_file_or_argument_is_exit_2(tmp_path: Path, capsys) -> None:
    assert main([str(tmp_path / "nope.json"), str(tmp_path / "out.json")]) == 2
    assert main(["only-one.json"]) == 2
    src = tmp_path / "scale.mockgpu.json"
    src.write_text(json.dumps(mock_measured_source()))
    assert main([str(src), str(tmp_path / "no-such-folder" / "out.json")]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert "no such file" in lines[0] and lines[1].startswith("usage:")
    assert "cannot write" in lines[2] and len(lines) == 3
