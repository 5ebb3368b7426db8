"""Timing locks: one timing phase per machine at a time, never a lock left behind."""

import socket
import subprocess
import sys
import threading
import time

import pytest

from autotune.measure import HostFileLock, KernelRef, LocalRunner, MeasureRequest
from autotune.records import Status
from tests._helpers import FAST_TIMING, FIXTURES, assert_timing_turns_never_overlap

GOOD = {"kernel.OFFSET": 0, "kernel.BIAS": 0.0, "kernel.REPEAT": 1}
CRASHES = {**GOOD, "kernel.OFFSET": 1 << 40}

_HOLDER = """
import sys, time
from autotune.measure import HostFileLock
lock = HostFileLock(sys.argv[1])
lock.acquire()
print("held", flush=True)
time.sleep(float(sys.argv[2]))
lock.release()
"""


def _hold_in_another_process(path, seconds):
    """A process that holds the lock for ``seconds``; returns once it holds it."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(path), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_lock_held_by_another_process_blocks_until_it_is_released(tmp_path):
    path = tmp_path / "timing.lock"
    holder = _hold_in_another_process(path, 1.0)
    started = time.monotonic()
    lock = HostFileLock(path)
    lock.acquire()
    waited = time.monotonic() - started
    lock.release()
    holder.wait(timeout=10)
    assert waited > 0.5


def test_a_holder_that_dies_gives_the_lock_back(tmp_path):
    path = tmp_path / "timing.lock"
    holder = _hold_in_another_process(path, 60)
    holder.kill()
    holder.wait(timeout=10)
    started = time.monotonic()
    lock = HostFileLock(path)
    lock.acquire()
    lock.release()
    assert time.monotonic() - started < 5


def test_threads_of_one_process_exclude_each_other(tmp_path):
    lock = HostFileLock(tmp_path / "timing.lock")
    inside, overlaps = [], []

    def hold():
        for _ in range(20):
            lock.acquire()
            inside.append(1)
            if len(inside) > 1:
                overlaps.append(1)
            time.sleep(0.001)
            inside.pop()
            lock.release()

    threads = [threading.Thread(target=hold) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not overlaps


def _ref():
    return KernelRef(str(FIXTURES / "planted.py"), None, "scale")


@pytest.mark.slow
def test_runners_sharing_a_lock_never_time_at_once(tmp_path):
    path = tmp_path / "timing.lock"
    turns, errors = [], []

    def measure():
        try:
            with LocalRunner(timing_lock=HostFileLock(path)) as runner:
                requests = [MeasureRequest(GOOD, FAST_TIMING) for _ in range(4)]
                for result in runner.measure(_ref(), requests):
                    assert result.status is Status.OK, result.error
                    turns.append(result.provenance["timing_turn"])
        except Exception as exc:  # surfaced below: a thread cannot fail the test itself
            errors.append(exc)

    threads = [threading.Thread(target=measure) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(turns) == 8
    assert_timing_turns_never_overlap(turns)


@pytest.mark.slow
def test_waiting_for_the_lock_does_not_count_against_the_timeout(tmp_path):
    path = tmp_path / "timing.lock"
    with LocalRunner(timing_lock=HostFileLock(path)) as runner:
        [warm] = runner.measure(_ref(), [MeasureRequest(GOOD, FAST_TIMING)])  # worker started
        assert warm.status is Status.OK
        holder = _hold_in_another_process(path, 4.0)
        [result] = runner.measure(_ref(), [MeasureRequest(GOOD, FAST_TIMING, timeout_s=3)])
        holder.wait(timeout=10)
    assert result.status is Status.OK, result.error
    assert result.provenance["timing_turn"]["waited_s"] > 2


@pytest.mark.slow
def test_a_failed_measurement_names_the_machine_too(tmp_path):
    with LocalRunner(timing_lock=HostFileLock(tmp_path / "timing.lock")) as runner:
        [crashed] = runner.measure(_ref(), [MeasureRequest(CRASHES, FAST_TIMING)])
    assert crashed.status is Status.RUN_FAILED
    assert crashed.provenance["hostname"] == socket.gethostname()
