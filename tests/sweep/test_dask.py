"""Sweeps on a real Dask LocalCluster of two workers: timing serialized, lost workers."""

import os
import signal
import socket
import threading
import time
from collections import Counter

import pytest

from autotune.db import open_database
from autotune.records import Status, TimingSettings
from autotune.sweep import find_kernels, run_sweep
from autotune.tuner import TuneOptions
from tests._helpers import FAST_TIMING, assert_timing_turns_never_overlap
from tests.sweep._corpus import mixed_corpus, param_corpus, trial_rows

distributed = pytest.importorskip(
    "distributed", reason="Dask distributed is not installed (the dist extra)"
)

from autotune.sweep._dask import DaskExecutor  # noqa: E402 - needs distributed

pytestmark = pytest.mark.slow


def _options(budget, timing=FAST_TIMING):
    return TuneOptions(
        budget=budget,
        timing=timing,
        candidate_timeout_s=60,
        scope="params",
        strategy="exhaustive",
    )


@pytest.fixture
def cluster():
    import dask

    # A lost worker's timing lease comes back after this, instead of 30 s.
    with (
        dask.config.set({"distributed.scheduler.locks.lease-timeout": "3s"}),
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as local,
    ):
        yield local


def test_two_workers_tune_every_kernel_and_never_time_at_once(cluster, tmp_path):
    corpus = mixed_corpus(tmp_path / "corpus")
    param_corpus(corpus, names=("second",))
    url = f"sqlite:///{tmp_path / 's.db'}"
    executor = DaskExecutor(address=cluster.scheduler_address)
    events = []
    run = run_sweep(find_kernels([corpus]), _options(4), url, executor, events.append)
    by_name = {s.kernel: s for s in run.results}
    assert by_name["first"].status == by_name["second"].status == "tuned"
    assert by_name["first"].trials == by_name["second"].trials == 4
    assert by_name["broken"].status == "skipped"
    assert "no_such_attribute" in by_name["broken"].reason
    assert {e.job for e in events if e.kind == "trial"} >= {"first", "second"}

    db = open_database(url)
    trials = db.all_trials()
    assert all(t.result.provenance["hostname"] == socket.gethostname() for t in trials)
    timed = [t for t in trials if t.result.status is Status.OK]
    assert_timing_turns_never_overlap([t.result.provenance["timing_turn"] for t in timed])
    # Whether the two kernels' searches overlapped in time depends on scheduling (a
    # four-trial search can end before the other starts), so it is not asserted here;
    # the benchmark measures what running on two workers gains.


def _worker_running(client, prefix):
    """The address of the worker processing a task whose key starts with ``prefix``."""
    for address, keys in client.processing().items():
        if any(str(key).startswith(prefix) for key in keys):
            return address
    return None


def _kill_worker_running_the_task(cluster):
    with distributed.Client(cluster) as client:
        address = None
        while address is None:
            address = _worker_running(client, "autotune-sweep-")
            time.sleep(0.05)
        pid = client.run(os.getpid, workers=[address])[address]
    os.kill(pid, signal.SIGKILL)
    while True:  # until it is gone: nothing it does can be committed after this
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


def test_a_task_whose_worker_is_lost_is_retried_and_keeps_its_trials(cluster, tmp_path):
    corpus = param_corpus(tmp_path / "corpus", names=("first",))
    db_path = tmp_path / "s.db"
    executor = DaskExecutor(address=cluster.scheduler_address)
    events, outcome = [], {}

    def sweep():
        options = _options(7, TimingSettings())
        outcome["run"] = run_sweep(
            find_kernels([corpus]), options, f"sqlite:///{db_path}", executor, events.append
        )

    thread = threading.Thread(target=sweep)
    thread.start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if sum(1 for row in trial_rows(db_path) if row[2] == "search") >= 2:
            break
        time.sleep(0.05)
    _kill_worker_running_the_task(cluster)
    committed = trial_rows(db_path)
    thread.join(timeout=300)
    assert not thread.is_alive()

    [summary] = outcome["run"].results
    assert summary.status == "tuned" and summary.trials == 7
    after = trial_rows(db_path)
    assert set(committed) <= set(after), "a committed trial was lost"
    phases = Counter(row[2] for row in after)
    assert phases["search"] == 7 and phases["baseline"] == 1
    starts = [i for i, e in enumerate(events) if e.kind == "start"]
    assert len(starts) == 2, "the task was not retried"
    retried = [e for e in events[starts[1] :] if e.kind == "trial"]
    # The retry measured only what was not committed, each into a new record.
    assert len(retried) == len(after) - len(committed)
    assert summary.measured_this_run == 7 - sum(1 for r in committed if r[2] == "search")
