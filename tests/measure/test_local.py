"""The local runner: statuses for crashes, aborts and timeouts; worker reuse and restart."""

import dataclasses

import pytest

from autotune.measure import KernelRef, LocalRunner, MeasureRequest, WorkerProcess
from autotune.records import Status
from tests._helpers import FAST_TIMING, FIXTURES

pytestmark = pytest.mark.slow


def _ref(name, path="planted.py"):
    return KernelRef(str(FIXTURES / path), None, name)


def test_abort_during_build_is_build_failed_and_the_pool_restarts():
    with LocalRunner() as runner:
        ok, aborted, again = runner.measure(
            _ref("copy", "aborts.py"),
            [
                MeasureRequest(None, FAST_TIMING),
                MeasureRequest({"kernel.ABORT": 1}, FAST_TIMING),
                MeasureRequest({"kernel.ABORT": 0}, FAST_TIMING),
            ],
        )
        assert ok.status is Status.OK
        assert aborted.status is Status.BUILD_FAILED
        assert "SIGABRT" in aborted.error and "build" in aborted.error
        assert again.status is Status.OK
        assert runner.worker_restarts == 1


def test_segfault_while_running_is_run_failed():
    with LocalRunner() as runner:
        [result] = runner.measure(
            _ref("scale"),
            [
                MeasureRequest(
                    {"kernel.OFFSET": 1 << 40, "kernel.BIAS": 0.0, "kernel.REPEAT": 4}, FAST_TIMING
                )
            ],
        )
    assert result.status is Status.RUN_FAILED
    assert "SIGSEGV" in result.error


def test_timeout_kills_the_worker():
    with LocalRunner() as runner:
        [result] = runner.measure(
            _ref("hangs"), [MeasureRequest({"kernel.SPIN": 1}, FAST_TIMING, timeout_s=3)]
        )
    assert result.status is Status.TIMEOUT
    assert "3 s" in result.error


def test_ok_result_carries_paired_samples_and_provenance():
    with LocalRunner() as runner:
        [result] = runner.measure(
            _ref("scale"),
            [
                MeasureRequest(
                    {"kernel.OFFSET": 0, "kernel.BIAS": 0.0, "kernel.REPEAT": 1}, FAST_TIMING
                )
            ],
        )
    assert result.status is Status.OK
    timing = result.timing
    assert len(timing.baseline_rounds) == len(timing.candidate_rounds) >= FAST_TIMING.min_rounds
    assert timing.speedup_ci95[0] <= timing.speedup <= timing.speedup_ci95[1]
    assert result.compile_s > 0 and result.verify_s > 0
    assert {"hostname", "pid", "loadavg", "cpu_name", "llvm"} <= set(result.provenance)
    assert result.provenance["llvm"].split(".")[0].isdigit()


def test_confirmation_runs_in_a_fresh_process():
    with LocalRunner() as runner:
        [first] = runner.measure(_ref("scale"), [MeasureRequest(None, FAST_TIMING)])
        confirmed = runner.confirm(_ref("scale"), MeasureRequest(None, FAST_TIMING))
    assert first.provenance["pid"] != confirmed.provenance["pid"]


def test_confirmation_pools_two_fresh_processes_and_its_ci_spans_both():
    with LocalRunner(confirm_processes=2) as runner:
        [first] = runner.measure(_ref("scale"), [MeasureRequest(None, FAST_TIMING)])
        confirmed = runner.confirm(_ref("scale"), MeasureRequest(None, FAST_TIMING))
    timing = confirmed.timing
    processes = confirmed.provenance["processes"]
    assert len(processes) == 2 and len(timing.process_rounds) == 2
    assert sum(timing.process_rounds) == len(timing.baseline_rounds)
    pids = {p["pid"] for p in processes}
    assert len(pids) == 2 and first.provenance["pid"] not in pids
    lo, hi = timing.speedup_ci95
    for p in processes:
        assert lo <= p["speedup_ci95"][0] and p["speedup_ci95"][1] <= hi


def test_runner_refuses_fewer_than_one_confirming_process():
    with pytest.raises(ValueError, match="confirm_processes"):
        LocalRunner(confirm_processes=0)


def test_worker_reports_a_kernel_that_prints_without_breaking_the_protocol(tmp_path):
    source = tmp_path / "noisy.py"
    source.write_text(
        "import numpy as np\nimport autotune\n"
        "def make(rng):\n    print('hello from the input factory')\n    return (rng.random(8), np.zeros(8))\n"
        "@autotune.kernel(inputs=make, outputs=[1])\n"
        "def k(x, out):\n    for i in range(8):\n        out[i] = x[i]\n"
    )
    with LocalRunner() as runner:
        [result] = runner.measure(
            KernelRef(str(source), None, "k"), [MeasureRequest(None, FAST_TIMING)]
        )
    assert result.status is Status.OK


def test_worker_process_survives_being_killed_between_calls():
    with WorkerProcess() as worker:
        first = worker.call({"op": "ping"}, timeout=60)
        worker.kill()
        second = worker.call({"op": "ping"}, timeout=60)
    assert first["pid"] != second["pid"]


def test_workload_key_is_the_same_in_separate_processes():
    ref = _ref("scale")
    with LocalRunner() as first, LocalRunner() as second:
        second.measure(ref, [MeasureRequest(None, FAST_TIMING)])  # compile other things first
        a, b = first.lower(ref).workload, second.lower(ref).workload
    assert a is not None and b is not None
    assert a.key == b.key and a.ir_hash == b.ir_hash


def _measure_in_daemon(queue):
    with LocalRunner() as runner:
        [result] = runner.measure(_ref("scale"), [MeasureRequest(None, FAST_TIMING)])
    queue.put(str(result.status))


def test_runner_works_inside_a_daemonic_process():
    """Dask workers are daemonic and cannot have multiprocessing children."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_measure_in_daemon, args=(queue,), daemon=True)
    proc.start()
    status = queue.get(timeout=120)
    proc.join(timeout=30)
    assert status == "ok"


def test_a_hopeless_candidate_is_cut_after_its_first_verified_call():
    # SLOW = 2 is 2x slower at most, and one call lasts less than a sample: never cut.
    settings = dataclasses.replace(FAST_TIMING, hopeless_speedup=0.5, min_sample_s=0.01)
    with LocalRunner() as runner:
        hopeless, within_reach = runner.measure(
            _ref("slows_down"),
            [
                MeasureRequest({"kernel.SLOW": 400}, settings),
                MeasureRequest({"kernel.SLOW": 2}, settings),
            ],
        )
    assert hopeless.status is Status.OK and hopeless.provenance["hopeless"] is True
    assert hopeless.timing.candidate_rounds == [hopeless.timing.candidate_rounds[0]]
    assert hopeless.timing.calls_per_sample == 1
    assert hopeless.timing.speedup < 0.5
    assert "hopeless" not in within_reach.provenance
    assert len(within_reach.timing.candidate_rounds) >= FAST_TIMING.min_rounds


def test_without_a_cut_a_slow_candidate_is_timed_in_rounds():
    settings = dataclasses.replace(FAST_TIMING, min_sample_s=1e-5)  # one call per sample
    with LocalRunner() as runner:
        [slow] = runner.measure(
            _ref("slows_down"), [MeasureRequest({"kernel.SLOW": 400}, settings)]
        )
    assert "hopeless" not in slow.provenance and len(slow.timing.candidate_rounds) >= 2
