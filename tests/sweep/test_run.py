"""Sweeps in this process: every kernel tuned or skipped with a reason, and resume."""

import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter

import pytest

from autotune.db import open_database
from autotune.measure import HostFileLock
from autotune.records import LEAN_TIMING
from autotune.sweep import LocalExecutor, find_kernels, run_sweep, sweep_run_id
from autotune.tuner import TuneOptions
from tests._helpers import FAST_TIMING
from tests.sweep._corpus import PARAM_KERNEL, mixed_corpus, param_corpus, trial_rows

pytestmark = pytest.mark.slow


def _options(budget):
    return TuneOptions(
        budget=budget,
        timing=FAST_TIMING,
        candidate_timeout_s=30,
        scope="params",
        strategy="exhaustive",
    )


def _sweep(corpus, options, db_path, events=None):
    executor = LocalExecutor(HostFileLock(db_path.with_suffix(".lock")))
    sink = (lambda e: None) if events is None else events.append
    return run_sweep(find_kernels([corpus]), options, f"sqlite:///{db_path}", executor, sink)


def test_every_kernel_is_tuned_and_a_broken_baseline_is_skipped_with_its_reason(tmp_path):
    events = []
    run = _sweep(mixed_corpus(tmp_path / "corpus"), _options(3), tmp_path / "s.db", events)
    assert [s.kernel for s in run.results] == ["first", "broken", "fine"]
    first, broken, fine = run.results
    assert first.status == "tuned" and first.trials == 3
    assert broken.status == "skipped" and "no_such_attribute" in broken.reason
    assert fine.status == "tuned"
    assert run.exit_code == 1
    kinds = [e.kind for e in events if e.job == "first"]
    assert kinds[0] == "start" and kinds[-1] == "done" and kinds.count("trial") >= 4
    assert {e.job for e in events if e.kind == "done"} == {"first", "broken", "fine"}
    db = open_database(f"sqlite:///{tmp_path / 's.db'}")
    assert all(t.result.provenance.get("hostname") for t in db.all_trials("first"))


def test_a_finished_kernel_is_reported_again_and_an_edited_one_tuned_again(tmp_path):
    corpus = param_corpus(tmp_path / "corpus", names=("first",))
    db_path = tmp_path / "s.db"
    first = _sweep(corpus, _options(2), db_path).results[0]
    events = []
    again = _sweep(corpus, _options(2), db_path, events).results[0]
    assert again == first
    assert [(e.kind, e.note) for e in events] == [("done", "finished earlier")]
    (corpus / "first.py").write_text(PARAM_KERNEL.format(name="first") + "\n# edited\n")
    events = []
    edited = _sweep(corpus, _options(2), db_path, events).results[0]
    assert [e.kind for e in events] == ["start", "done"]  # its trials are all reused
    assert edited.speedup == first.speedup and edited.trials == 2


def _run_ids(db_path):
    with sqlite3.connect(db_path) as conn:
        return [r for (r,) in conn.execute("select run_id from autotune_runs")]


@pytest.mark.parametrize("kill_after", [2, 9])
def test_after_kill_9_the_same_sweep_continues_and_measures_nothing_twice(tmp_path, kill_after):
    corpus = param_corpus(tmp_path / "corpus")
    db_path = tmp_path / "s.db"
    command = [
        *(sys.executable, "-m", "autotune.cli", "sweep", str(corpus)),
        *("--budget", "5", "--timing", "lean", "--confirm-top", "1", "--no-simplify"),
        *("--db", str(db_path)),
    ]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while len(trial_rows(db_path)) < kill_after and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the sweep ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    before = trial_rows(db_path)
    assert len(before) >= kill_after

    options = TuneOptions(budget=5, timing=LEAN_TIMING, confirm_top=1, simplify=False)
    assert _run_ids(db_path) == [sweep_run_id(options)]  # what the command line ran
    events = []
    run = run_sweep(
        find_kernels([corpus]), options, f"sqlite:///{db_path}", LocalExecutor(), events.append
    )
    after = trial_rows(db_path)
    assert set(before) <= set(after), "a committed trial was lost"
    measured = [e for e in events if e.kind == "trial"]
    # Every measurement of the second run made a new record: nothing committed before
    # the kill was measured again.
    assert len(measured) == len(after) - len(before)
    assert [s.trials for s in run.results] == [5, 5]
    counted = Counter(
        k for _, k, phase, _, _, status in after if phase == "search" and status != "invalid"
    )
    assert counted == {"first": 5, "second": 5}
    baselines = Counter(k for _, k, phase, *_ in after if phase == "baseline")
    assert baselines == {"first": 1, "second": 1}
