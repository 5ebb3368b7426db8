"""Tuners in several processes sharing one workload and database: each config is
measured by one of them only (claims), and every measurement is stored."""

from __future__ import annotations

import multiprocessing
import queue
import time
import traceback
from types import SimpleNamespace
from typing import Any

import pytest

from autotune.candidate import Candidate
from autotune.db import SQLDatabase
from autotune.measure import BaseRunner, KernelRef, MeasureRequest
from autotune.measure._base import LowerResult
from autotune.measure._timing import summarize
from autotune.program import Target, Workload
from autotune.records import MeasureResult, Status
from autotune.space import SearchSpace
from autotune.testing.strategies import conditional_space, synthetic_result
from autotune.tuner import TuneOptions, Tuner

TUNERS = 3
BUDGET = 5
#: Long enough for the processes' searches to overlap.
MEASURE_S = 0.05
WORKLOAD = Workload("saxpy", "(float64[::1],)", "define void @saxpy()")
TARGET = Target("test-cpu", "+test", "0.0", "0.0")


class _SlowSyntheticRunner(BaseRunner):
    """Answers every measurement with a synthetic result after a pause, and remembers
    which configs it measured in the search."""

    def __init__(self) -> None:
        self.measured: list[str] = []

    def lower(self, kernel: KernelRef) -> LowerResult:
        return LowerResult(WORKLOAD)

    def measure(self, kernel: KernelRef, requests: list[MeasureRequest]) -> list[MeasureResult]:
        return [self._one(request) for request in requests]

    def confirm(self, kernel: KernelRef, request: MeasureRequest) -> MeasureResult:
        return self._one(request, search=False)

    def _one(self, request: MeasureRequest, search: bool = True) -> MeasureResult:
        time.sleep(MEASURE_S)
        if request.config is None:  # the baseline, against itself
            rounds = [[1e-3, 1.01e-3, 0.99e-3]]
            return MeasureResult(Status.OK, timing=summarize(rounds, rounds, 1))
        candidate = Candidate.from_config(request.config)
        if search:
            self.measured.append(candidate.key)
        return synthetic_result(candidate)


class _SpaceTuner(Tuner):
    """A tuner of a synthetic space: no kernel source is needed."""

    def space_for(self, decl: Any) -> SearchSpace:
        return conditional_space()


def _tune_in_process(url: str, seed: int, barrier: Any, results: Any) -> None:
    try:
        runner = _SlowSyntheticRunner()
        # No halving or simplification: every measure() call is then a search trial.
        options = TuneOptions(
            budget=BUDGET,
            seed=seed,
            strategy="random",
            confirm_top=1,
            simplify=False,
            halving=False,
        )
        decl = SimpleNamespace(
            name="saxpy",
            source="saxpy.py",
            default_size="default",
            pyfunc=_saxpy,  # what the config cache keys the tuned result by
            make_inputs=lambda seed, size: (2.0, [1.0], [1.0]),
            njit_options={},
        )
        decl.as_baseline = lambda kind: decl  # no options of its own: any baseline is itself
        barrier.wait(timeout=60)  # every tuner starts at once, proposing the same configs
        tuner = _SpaceTuner(runner, SQLDatabase(url), TARGET, options)
        summary = tuner.tune(decl)  # type: ignore[arg-type]
        results.put({"summary": summary, "measured": runner.measured, "error": ""})
    except Exception:
        results.put({"error": traceback.format_exc()})


def _saxpy(a, x, y):  # type: ignore[no-untyped-def]
    for i in range(len(x)):
        y[i] += a * x[i]


def _tune_concurrently(url: str, seed: int) -> list[dict[str, Any]]:
    # Forked: the parent holds no connection to the database under test.
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(TUNERS), ctx.Queue()
    procs = [
        ctx.Process(target=_tune_in_process, args=(url, seed, barrier, results))
        for _ in range(TUNERS)
    ]
    for proc in procs:
        proc.start()
    outcomes = []
    deadline = time.monotonic() + 120
    while len(outcomes) < TUNERS and time.monotonic() < deadline:
        try:
            outcomes.append(results.get(timeout=1))
        except queue.Empty:
            if not any(proc.is_alive() for proc in procs) and results.empty():
                break
    for proc in procs:
        proc.join(timeout=30)
    assert len(outcomes) == TUNERS, [proc.exitcode for proc in procs]
    errors = [o["error"] for o in outcomes if o["error"]]
    assert not errors, errors[0]
    return outcomes


@pytest.mark.slow
def test_tuners_sharing_a_workload_never_measure_a_config_twice(tmp_path, global_random_seed):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    outcomes = _tune_concurrently(url, global_random_seed)

    measured = [key for o in outcomes for key in o["measured"]]
    assert len(measured) == len(set(measured)), "a config was measured twice"
    # Skipping a config another process holds costs no budget: each measured its own.
    assert [o["summary"].measured_this_run for o in outcomes] == [BUDGET] * TUNERS
    db = SQLDatabase(url)
    try:
        stored = [r for r in db.trials(WORKLOAD.key, TARGET.key) if r.phase == "search"]
    finally:
        db.close()
    measured_stored = [r.config_key for r in stored if r.result.status.counts_against_budget]
    assert sorted(measured_stored) == sorted(measured)
    # Nothing stays claimed once the tuners are done.
    assert _claims_left(url) == 0


def _claims_left(url: str) -> int:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FROM autotune_claims")).scalar_one())
    finally:
        engine.dispose()
