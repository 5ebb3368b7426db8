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
from autotune.result import TuningResult
from autotune.strategies import make_strategy
from autotune.testing.databases import TARGET, WORKLOAD, make_trial
from autotune.testing.strategies import drain, synthetic_result, tiny_space

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
        won, rewarded = [], []
        for i in order:
            barrier.wait(timeout=60)  # every writer tries config i at the same moment
            if db.add_trial(make_trial({"x": i}, run_id=run_id)):
                won.append(i)
            if db.add_portfolio_reward(TARGET, WORKLOAD, {"x": i}, 0.1 * writer):
                rewarded.append(i)
        result = TuningResult.from_dict(
            {"kernel": "saxpy", "workload_key": WORKLOAD, "writer": writer}
        )
        db.finish_run(run_id, [result])
        db.close()
        results.put({"baseline": baseline, "won": won, "rewarded": rewarded, "error": ""})
    except Exception:
        results.put({"error": traceback.format_exc()})


def _write_concurrently(url: str, seed: int) -> list[dict[str, Any]]:
    order = list(range(CONFIGS))
    random.Random(seed).shuffle(order)
    # The same order for everyone: every config is contested by every writer at once.
    return _in_processes(_writer, url, order)


def _in_processes(target: Any, url: str, *args: Any) -> list[Any]:
    """Run ``target(url, writer, *args, barrier, results)`` in every writer process at
    once; returns what they put in ``results``."""
    # Forked, not spawned: a spawned writer spends seconds importing autotune again. The
    # parent holds no connection to the database under test, so none is shared.
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(WRITERS), ctx.Queue()
    procs = [
        ctx.Process(target=target, args=(url, w, *args, barrier, results)) for w in range(WRITERS)
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
    errors = [o["error"] for o in outcomes if o["error"]]
    assert not errors, errors[0]
    # Each search trial and portfolio reward was claimed by exactly one writer; each
    # run kept its baseline.
    assert sorted(i for o in outcomes for i in o["won"]) == list(range(CONFIGS))
    assert sorted(i for o in outcomes for i in o["rewarded"]) == list(range(CONFIGS))
    assert all(o["baseline"] for o in outcomes)

    db = SQLDatabase(url)
    try:
        search = db.trials(WORKLOAD, TARGET)
        assert sorted(r.config["x"] for r in search) == list(range(CONFIGS))
        baselines = db.trials(WORKLOAD, TARGET, phase="baseline")
        assert sorted(r.run_id for r in baselines) == [f"run-{w}" for w in range(WRITERS)]
        assert [w.key for w in db.workloads()] == [KERNEL_WORKLOAD.key]
        arms = db.portfolio(TARGET)
        assert len(arms) == CONFIGS and all(len(arm.rewards) == 1 for arm in arms)
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


def _study_writer(url: str, writer: int, barrier: Any, results: Any) -> None:
    """Tune with TPE as the tuner does: the study lives in the tuning database."""
    try:
        db = SQLDatabase(url)
        barrier.wait(timeout=60)  # every writer creates its study at the same moment
        strategy = make_strategy(
            "tpe", tiny_space(), writer, 10, db.optuna_storage, f"autotune:k{writer}"
        )
        drain(strategy, batch=1, limit=3, results=lambda cs: [synthetic_result(c) for c in cs])
        db.close()
        results.put((writer, ""))
    except Exception:
        results.put((writer, traceback.format_exc()))


def _check_optuna_studies_of_concurrent_writers(url: str) -> None:
    import optuna

    errors = [error for _, error in _in_processes(_study_writer, url) if error]
    assert not errors, errors[0]
    studies = optuna.get_all_study_summaries(storage=url)
    assert sorted(s.study_name for s in studies) == [f"autotune:k{w}" for w in range(WRITERS)]
    assert all(s.n_trials >= 3 for s in studies)


@pytest.mark.slow
def test_concurrent_optuna_studies_on_sqlite(tmp_path):
    _check_optuna_studies_of_concurrent_writers(f"sqlite:///{tmp_path / 'shared.db'}")


@pytest.mark.slow
def test_concurrent_optuna_studies_on_postgresql(postgres_url):
    _check_optuna_studies_of_concurrent_writers(postgres_url)
