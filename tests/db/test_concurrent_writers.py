"""Several processes writing one workload and target at once, as machines sharing a
database do: every record must end up stored exactly once."""

from __future__ import annotations

import multiprocessing
import queue
import random
import time
import traceback
from typing import Any

import pytest
import sqlalchemy as sa

from autotune.db import SQLDatabase
from autotune.program import Workload
from autotune.testing.databases import TARGET, WORKLOAD, make_trial

WRITERS = 4
CONFIGS = 40
KERNEL_WORKLOAD = Workload("saxpy", "(float64[::1],)", "define void @saxpy()")


def _writer(url: str, writer: int, order: list[int], barrier: Any, results: Any) -> None:
    """Open the (possibly not yet created) database and write one run's records."""
    try:
        barrier.wait(timeout=60)  # all writers open the database at the same moment
        db = SQLDatabase(url)
        run_id = f"run-{writer}"
        db.start_run(run_id, "autotune tune saxpy.py", {"writer": writer})
        db.add_workload(KERNEL_WORKLOAD, "saxpy.py")
        baseline = db.add_trial(make_trial({}, phase="baseline", run_id=run_id))
        won = []
        for i in order:
            barrier.wait(timeout=60)  # every writer tries config i at the same moment
            if db.add_trial(make_trial({"x": i}, run_id=run_id)):
                won.append(i)
        db.finish_run(run_id, [{"kernel": "saxpy", "workload_key": WORKLOAD, "writer": writer}])
        db.close()
        results.put((writer, baseline, won, ""))
    except Exception:
        results.put((writer, False, [], traceback.format_exc()))


def _write_concurrently(url: str, seed: int) -> list[tuple[int, bool, list[int], str]]:
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(WRITERS), ctx.Queue()
    order = list(range(CONFIGS))
    random.Random(seed).shuffle(order)
    # The same order for everyone: every config is contested by every writer at once.
    procs = [
        ctx.Process(target=_writer, args=(url, w, order, barrier, results)) for w in range(WRITERS)
    ]
    for proc in procs:
        proc.start()
    outcomes = []
    deadline = time.monotonic() + 120
    while len(outcomes) < WRITERS and time.monotonic() < deadline:
        try:
            outcomes.append(results.get(timeout=1))
        except queue.Empty:
            if not any(proc.is_alive() for proc in procs) and results.empty():
                break  # a writer died without a word; its exit code says how
    for proc in procs:
        proc.join(timeout=30)
    assert len(outcomes) == WRITERS, [proc.exitcode for proc in procs]
    return outcomes


def _count(url: str, table: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())
    finally:
        engine.dispose()


def _check_every_record_stored_once(url: str, seed: int) -> None:
    outcomes = _write_concurrently(url, seed)
    errors = [error for *_, error in outcomes if error]
    assert not errors, errors[0]
    # Each search trial was claimed by exactly one writer; each run kept its baseline.
    claimed = sorted(i for _, _, won, _ in outcomes for i in won)
    assert claimed == list(range(CONFIGS))
    assert all(baseline for _, baseline, _, _ in outcomes)

    db = SQLDatabase(url)
    try:
        search = db.trials(WORKLOAD, TARGET)
        assert sorted(r.config["x"] for r in search) == list(range(CONFIGS))
        baselines = db.trials(WORKLOAD, TARGET, phase="baseline")
        assert sorted(r.run_id for r in baselines) == [f"run-{w}" for w in range(WRITERS)]
        assert [w.key for w in db.workloads()] == [KERNEL_WORKLOAD.key]
    finally:
        db.close()
    assert _count(url, "autotune_runs") == WRITERS
    assert _count(url, "autotune_summaries") == WRITERS


@pytest.mark.slow
def test_concurrent_writers_on_sqlite(tmp_path, global_random_seed):
    _check_every_record_stored_once(f"sqlite:///{tmp_path / 'shared.db'}", global_random_seed)


@pytest.mark.slow
def test_concurrent_writers_on_postgresql(postgres_url, global_random_seed):
    _check_every_record_stored_once(postgres_url, global_random_seed)
