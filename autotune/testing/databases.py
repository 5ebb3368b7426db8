"""Conformance suite for tuning databases (:class:`autotune.db.BaseDatabase`).

A database's test module subclasses :class:`DatabaseConformance` and says how to open
one::

    from autotune.testing.databases import DatabaseConformance

    class TestMyDatabase(DatabaseConformance):
        def make_database(self, tmp_path):
            return MyDatabase(tmp_path / "tuning.db")

``make_database`` called twice with the same ``tmp_path`` must open the same storage:
the suite closes a database and reopens it to check that data persists. It is also
called in a forked child process, which claims a config and dies holding it, to check
that claims of live processes hold and those of dead ones are stale.
"""

from __future__ import annotations

import copy
import multiprocessing
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from autotune.candidate import Candidate
from autotune.db import BaseDatabase
from autotune.measure._timing import summarize
from autotune.program import Workload
from autotune.records import MeasureResult, Status, TrialRecord, TunedRow
from autotune.result import ResultStatus, TuningResult

WORKLOAD = "w" * 16
OTHER_WORKLOAD = "v" * 16
TARGET = "t" * 16
OTHER_TARGET = "u" * 16
CONFIG = Candidate.from_config({"x": 1}).key
OTHER_CONFIG = Candidate.from_config({"x": 2}).key


def make_result(
    kernel: str, workload_key: str = WORKLOAD, target_key: str = TARGET, **fields: Any
) -> TuningResult:
    """A tuned kernel's result (``fields`` change any field), as a tuner returns it."""
    values: dict[str, Any] = {
        "status": ResultStatus.TUNED,
        "ir_hash": "i" * 16,
        "workload_key": workload_key,
        "target_key": target_key,
        "baseline_s": 2e-3,
        "best_s": 1e-3,
        "speedup": 2.0,
        "speedup_ci95": (1.9, 2.1),
        "trials": 4,
        "source": f"/src/{kernel}.py",
        "run_id": "run-1",
    }
    return TuningResult(kernel, **(values | fields))


def make_timing_result(provenance: dict[str, Any] | None = None) -> MeasureResult:
    """An OK result with raw rounds, as a runner produces it."""
    baseline = [[2.0e-3, 2.1e-3, 1.9e-3], [2.2e-3, 2.0e-3, 2.05e-3], [1.95e-3, 2.0e-3, 2.1e-3]]
    candidate = [[1.0e-3, 1.1e-3, 0.9e-3], [1.2e-3, 1.05e-3, 1.0e-3], [0.98e-3, 1.0e-3, 1.3e-3]]
    return MeasureResult(
        Status.OK,
        compile_s=0.25,
        verify_s=0.01,
        timing=summarize(baseline, candidate, 7),
        provenance=provenance if provenance is not None else {"host": "h1", "pid": 42},
    )


def make_trial(
    config: dict[str, Any],
    *,
    phase: str = "search",
    run_id: str = "run-1",
    workload_key: str = WORKLOAD,
    target_key: str = TARGET,
    result: MeasureResult | None = None,
    kernel: str = "saxpy",
) -> TrialRecord:
    """A trial record whose config key is derived from ``config``."""
    return TrialRecord(
        kernel=kernel,
        workload_key=workload_key,
        target_key=target_key,
        config_key=Candidate.from_config(config).key,
        config=config,
        phase=phase,
        result=result if result is not None else make_timing_result(),
        run_id=run_id,
        created_at=1_700_000_000.0,
    )


class DatabaseConformance:
    """Tests that every :class:`BaseDatabase` implementation must pass.

    Subclasses implement :meth:`make_database`; the class name must start with ``Test``
    for pytest to collect it.
    """

    def make_database(self, tmp_path: Path) -> BaseDatabase:
        """A database stored under ``tmp_path``; the same path reopens the same data."""
        raise NotImplementedError("subclasses of DatabaseConformance implement make_database")

    @pytest.fixture
    def database(self, tmp_path: Path) -> Iterator[BaseDatabase]:
        db = self.make_database(tmp_path)
        yield db
        db.close()

    def test_trial_round_trip(self, database: BaseDatabase) -> None:
        config = {"passes.mode": "after", "passes.sequence": ["sroa", "sroa"], "kernel.B": 16}
        record = make_trial(config)
        assert database.add_trial(record) is True
        [stored] = database.trials(WORKLOAD, TARGET)
        assert stored.kernel == record.kernel
        assert (stored.workload_key, stored.target_key) == (WORKLOAD, TARGET)
        assert stored.config_key == record.config_key
        assert stored.config == config
        assert stored.phase == "search"
        assert stored.run_id == "run-1"
        assert stored.created_at == record.created_at
        assert stored.result.status is Status.OK
        assert stored.result.error == ""
        assert stored.result.compile_s == record.result.compile_s
        assert stored.result.verify_s == record.result.verify_s
        assert stored.result.provenance == record.result.provenance
        timing, original = stored.result.timing, record.result.timing
        assert timing is not None and original is not None
        assert timing.baseline_rounds == original.baseline_rounds
        assert timing.candidate_rounds == original.candidate_rounds
        assert timing.calls_per_sample == original.calls_per_sample
        assert timing.speedup == original.speedup
        assert timing.speedup_ci95 == original.speedup_ci95
        assert stored.result.speedup == record.result.speedup

    def test_rounds_from_several_processes_keep_their_grouping(
        self, database: BaseDatabase
    ) -> None:
        plain = make_timing_result().timing
        assert plain is not None
        timing = summarize(
            plain.baseline_rounds, [[x * 1.2 for x in r] for r in plain.candidate_rounds], 7, (1, 2)
        )
        result = MeasureResult(Status.OK, compile_s=0.2, verify_s=0.01, timing=timing)
        database.add_trial(make_trial({"kernel.B": 8}, phase="confirm", result=result))
        [stored] = database.trials(WORKLOAD, TARGET, phase="confirm")
        assert stored.result.timing is not None
        assert stored.result.timing.process_rounds == (1, 2)
        assert stored.result.timing.speedup_ci95 == timing.speedup_ci95

    @pytest.mark.parametrize(
        "status", [Status.BUILD_FAILED, Status.RUN_FAILED, Status.TIMEOUT, Status.WRONG_RESULT]
    )
    def test_failed_trial_keeps_status_and_error(
        self, database: BaseDatabase, status: Status
    ) -> None:
        error = f"{status.value}: line 1\nsecond line with 'quotes' and ünïcode"
        result = MeasureResult(status, error=error, compile_s=1.5, provenance={"pid": 7})
        database.add_trial(make_trial({"x": 1}, result=result))
        [stored] = database.trials(WORKLOAD, TARGET)
        assert stored.result.status is status
        assert stored.result.error == error
        assert stored.result.timing is None
        assert stored.result.speedup is None
        assert stored.result.compile_s == 1.5
        assert stored.result.provenance == {"pid": 7}

    def test_nul_characters_in_errors_do_not_prevent_storing(self, database: BaseDatabase) -> None:
        # A crashed worker's output can hold NUL, which some databases cannot store.
        result = MeasureResult(Status.RUN_FAILED, error="crash\x00output", provenance={})
        assert database.add_trial(make_trial({"x": 1}, result=result)) is True
        [stored] = database.trials(WORKLOAD, TARGET)
        assert stored.result.error.startswith("crash") and stored.result.error.endswith("output")

    def test_returned_records_are_copies(self, database: BaseDatabase) -> None:
        config = {"order": ["i", "j"], "nested": {"a": 1}}
        database.add_trial(make_trial(copy.deepcopy(config)))
        [first] = database.trials(WORKLOAD, TARGET)
        first.config["order"].append("k")
        first.config["nested"]["a"] = 2
        first.config["extra"] = True
        first.result.provenance["host"] = "changed"
        [again] = database.trials(WORKLOAD, TARGET)
        assert again.config == config
        assert again.result.provenance == {"host": "h1", "pid": 42}

    def test_stored_record_is_independent_of_the_callers_config(
        self, database: BaseDatabase
    ) -> None:
        config = {"order": ["i", "j"]}
        record = make_trial(config)
        database.add_trial(record)
        config["order"].append("k")
        [stored] = database.trials(WORKLOAD, TARGET)
        assert stored.config == {"order": ["i", "j"]}

    def test_search_trial_is_unique_per_workload_target_and_config(
        self, database: BaseDatabase
    ) -> None:
        assert database.add_trial(make_trial({"x": 1}, run_id="run-1")) is True
        # The same config measured again, also by another run, is not stored twice.
        assert database.add_trial(make_trial({"x": 1}, run_id="run-1")) is False
        assert database.add_trial(make_trial({"x": 1}, run_id="run-2")) is False
        assert len(database.trials(WORKLOAD, TARGET)) == 1
        # Another config, workload or target is another trial.
        assert database.add_trial(make_trial({"x": 2})) is True
        assert database.add_trial(make_trial({"x": 1}, workload_key=OTHER_WORKLOAD)) is True
        assert database.add_trial(make_trial({"x": 1}, target_key=OTHER_TARGET)) is True
        assert len(database.trials(WORKLOAD, TARGET)) == 2

    @pytest.mark.parametrize("phase", ["baseline", "confirm"])
    def test_run_scoped_trials_of_different_runs_coexist(
        self, database: BaseDatabase, phase: str
    ) -> None:
        assert database.add_trial(make_trial({"x": 1}, phase=phase, run_id="run-1")) is True
        assert database.add_trial(make_trial({"x": 1}, phase=phase, run_id="run-2")) is True
        assert database.add_trial(make_trial({"x": 1}, phase=phase, run_id="run-2")) is False
        stored = database.trials(WORKLOAD, TARGET, phase=phase)
        assert sorted(r.run_id for r in stored) == ["run-1", "run-2"]
        assert database.trials(WORKLOAD, TARGET) == []  # the default phase is "search"

    def test_trials_are_filtered_by_workload_and_target(self, database: BaseDatabase) -> None:
        database.add_trial(make_trial({"x": 1}))
        database.add_trial(make_trial({"x": 2}, workload_key=OTHER_WORKLOAD))
        database.add_trial(make_trial({"x": 3}, target_key=OTHER_TARGET))
        database.add_trial(
            make_trial({"x": 4}, workload_key=OTHER_WORKLOAD, target_key=OTHER_TARGET)
        )
        assert [r.config for r in database.trials(WORKLOAD, TARGET)] == [{"x": 1}]
        assert [r.config for r in database.trials(OTHER_WORKLOAD, TARGET)] == [{"x": 2}]
        assert [r.config for r in database.trials(WORKLOAD, OTHER_TARGET)] == [{"x": 3}]
        assert [r.config for r in database.trials(OTHER_WORKLOAD, OTHER_TARGET)] == [{"x": 4}]
        assert database.trials("none", TARGET) == []

    def test_phase_none_returns_every_phase(self, database: BaseDatabase) -> None:
        database.add_trial(make_trial({"x": 1}, phase="search"))
        database.add_trial(make_trial({"x": 1}, phase="baseline"))
        database.add_trial(make_trial({"x": 1}, phase="confirm"))
        database.add_trial(make_trial({"x": 2}, phase="confirm"))
        assert sorted(r.phase for r in database.trials(WORKLOAD, TARGET, phase=None)) == [
            "baseline",
            "confirm",
            "confirm",
            "search",
        ]
        assert [r.config for r in database.trials(WORKLOAD, TARGET, phase="confirm")] == [
            {"x": 1},
            {"x": 2},
        ]

    def test_latest_results_keep_the_newest_per_kernel(self, database: BaseDatabase) -> None:
        database.start_run("run-1", "autotune tune a.py", {"budget": 10})
        gemm = TuningResult(
            "gemm", ResultStatus.SKIPPED, "no", workload_key=OTHER_WORKLOAD, target_key=TARGET
        )
        database.finish_run("run-1", [make_result("saxpy", speedup=1.1), gemm])
        database.start_run("run-2", "autotune tune a.py", {"budget": 20})
        database.finish_run("run-2", [make_result("saxpy", speedup=1.3)])
        latest = database.latest_results()
        assert [(r.kernel, r.status, r.speedup) for r in latest] == [
            ("saxpy", ResultStatus.TUNED, 1.3),
            ("gemm", ResultStatus.SKIPPED, 1.0),
        ]
        assert latest[1] == gemm
        assert database.latest_results("saxpy") == [latest[0]]
        assert database.latest_results("unknown") == []
        assert database.latest_summaries() == [r.to_dict() for r in latest]

    def test_results_come_back_equal_with_every_field(self, database: BaseDatabase) -> None:
        result = make_result(
            "saxpy",
            best_config={"x": 1, "order": ["i", "j"]},
            best_changes={"x": 1},
            warnings=("identical inputs",),
            options={"budget": 10, "timing": {"min_rounds": 3}},
            provenance={"target": {"cpu_name": "znver4"}, "time": 1.5},
            seed=3,
            size="small",
            best_code_hash="c" * 16,
            extra={"label": "a.py:saxpy", "nested": {"k": [1, 2]}},
        )
        database.start_run("run-1", "autotune tune a.py", {})
        database.finish_run("run-1", [result])
        [stored] = database.latest_results()
        assert stored == result
        assert stored.to_dict()["label"] == "a.py:saxpy"  # unknown keys are kept

    def test_a_run_started_again_is_resumed(self, database: BaseDatabase) -> None:
        database.start_run("run-1", "autotune sweep corpus", {})
        database.finish_run("run-1", [make_result("saxpy", speedup=1.1)])
        database.start_run("run-1", "autotune sweep corpus", {})
        database.finish_run("run-1", [make_result("gemm", OTHER_WORKLOAD, speedup=1.2)])
        assert sorted(r.kernel for r in database.latest_results()) == ["gemm", "saxpy"]

    def test_portfolio_collects_rewards_per_config_across_workloads(
        self, database: BaseDatabase
    ) -> None:
        good, poor = {"x": 1, "y": "a"}, {"x": 2}
        assert database.add_portfolio_reward(TARGET, WORKLOAD, good, 0.4)
        assert database.add_portfolio_reward(TARGET, OTHER_WORKLOAD, good, 0.2)
        assert database.add_portfolio_reward(TARGET, WORKLOAD, poor, -0.1)
        assert database.add_portfolio_reward(OTHER_TARGET, WORKLOAD, poor, 0.9)
        arms = database.portfolio(TARGET)
        assert [arm.config for arm in arms] == [good, poor]  # best mean first
        assert sorted(arms[0].rewards) == [0.2, 0.4]
        assert arms[0].config_key == Candidate.from_config(good).key
        assert [arm.rewards for arm in database.portfolio(OTHER_TARGET)] == [(0.9,)]
        assert database.portfolio("nothing-here") == []

    def test_portfolio_keeps_one_reward_per_config_and_workload(
        self, database: BaseDatabase
    ) -> None:
        assert database.add_portfolio_reward(TARGET, WORKLOAD, {"x": 1}, 0.3)
        assert database.add_portfolio_reward(TARGET, WORKLOAD, {"x": 1}, 0.5) is False
        [arm] = database.portfolio(TARGET)
        assert arm.rewards == (0.3,)
        arm.config["x"] = 99  # a copy: the stored arm is unchanged
        assert database.portfolio(TARGET)[0].config == {"x": 1}

    def test_data_survives_closing_and_reopening(self, tmp_path: Path) -> None:
        db = self.make_database(tmp_path)
        workload = Workload(kernel="saxpy", arg_types="(float64[::1],)", ir_text="define void @f()")
        db.add_workload(workload, source="saxpy.py")
        db.add_workload(workload, source="saxpy.py")  # adding again is harmless
        db.add_trial(make_trial({"x": 1}))
        db.add_trial(make_trial({"x": 1}, phase="confirm"))
        db.start_run("run-1", "autotune tune saxpy.py", {})
        db.finish_run("run-1", [make_result("saxpy", speedup=1.2)])
        db.add_portfolio_reward(TARGET, WORKLOAD, {"x": 1}, 0.25)
        db.close()

        reopened = self.make_database(tmp_path)
        try:
            stored = reopened.trials(WORKLOAD, TARGET, phase=None)
            assert sorted(r.phase for r in stored) == ["confirm", "search"]
            assert all(r.config == {"x": 1} for r in stored)
            assert [r.speedup for r in reopened.latest_results("saxpy")] == [1.2]
            assert [arm.rewards for arm in reopened.portfolio(TARGET)] == [(0.25,)]
            # Uniqueness still holds against rows written before reopening.
            assert reopened.add_trial(make_trial({"x": 1})) is False
        finally:
            reopened.close()

    def test_search_trial_finds_one_stored_search_trial(self, database: BaseDatabase) -> None:
        database.add_trial(make_trial({"x": 1}))
        database.add_trial(make_trial({"x": 2}, phase="confirm"))
        key_1, key_2 = (Candidate.from_config({"x": i}).key for i in (1, 2))
        found = database.search_trial(WORKLOAD, TARGET, key_1)
        assert found is not None and found.config == {"x": 1} and found.phase == "search"
        assert database.search_trial(WORKLOAD, TARGET, key_2) is None  # only confirmed
        assert database.search_trial(OTHER_WORKLOAD, TARGET, key_1) is None
        assert database.search_trial(WORKLOAD, OTHER_TARGET, key_1) is None

    def test_a_claim_is_held_until_released(self, database: BaseDatabase) -> None:
        assert database.claim(WORKLOAD, TARGET, CONFIG, "run-1") is True
        assert database.claim(WORKLOAD, TARGET, CONFIG, "run-1") is True  # its holder again
        assert database.claim(WORKLOAD, TARGET, CONFIG, "run-2") is False
        database.release(WORKLOAD, TARGET, CONFIG, "run-2")  # not its holder: no effect
        assert database.claim(WORKLOAD, TARGET, CONFIG, "run-2") is False
        database.release(WORKLOAD, TARGET, CONFIG, "run-1")
        assert database.claim(WORKLOAD, TARGET, CONFIG, "run-2") is True
        assert database.claim(WORKLOAD, TARGET, CONFIG, "run-1") is False

    def test_claims_are_per_workload_target_and_config(self, database: BaseDatabase) -> None:
        assert database.claim(WORKLOAD, TARGET, CONFIG, "run-1")
        assert database.claim(WORKLOAD, TARGET, OTHER_CONFIG, "run-2")
        assert database.claim(OTHER_WORKLOAD, TARGET, CONFIG, "run-2")
        assert database.claim(WORKLOAD, OTHER_TARGET, CONFIG, "run-2")
        database.release(WORKLOAD, TARGET, CONFIG, "run-1")
        database.release(WORKLOAD, TARGET, CONFIG, "run-1")  # releasing twice is harmless

    def test_an_old_claim_is_stale_and_taken_over(self, database: BaseDatabase) -> None:
        assert database.claim(WORKLOAD, TARGET, CONFIG, "run-1")
        assert database.claim(WORKLOAD, TARGET, CONFIG, "run-2", stale_after_s=3600) is False
        time.sleep(0.01)
        assert database.claim(WORKLOAD, TARGET, CONFIG, "run-2", stale_after_s=0.001) is True
        # Taken over: the first holder lost it, and its release leaves the new claim.
        database.release(WORKLOAD, TARGET, CONFIG, "run-1")
        assert database.claim(WORKLOAD, TARGET, CONFIG, "run-3") is False

    def test_a_claim_of_a_live_process_holds_and_of_a_dead_one_is_stale(
        self, tmp_path: Path
    ) -> None:
        # Another process claims with the very same run id: a process is a holder of its own.
        ctx = multiprocessing.get_context("fork")  # no connection of this process is open
        claimed, finish = ctx.Event(), ctx.Event()
        child = ctx.Process(target=self._claim_in_child, args=(tmp_path, claimed, finish))
        child.start()
        try:
            assert claimed.wait(timeout=60), "the child process did not claim"
            db = self.make_database(tmp_path)
            assert db.claim(WORKLOAD, TARGET, CONFIG, "run-1") is False  # it lives
            finish.set()
            child.join(timeout=60)
            assert child.exitcode == 0
            assert db.claim(WORKLOAD, TARGET, CONFIG, "run-1") is True  # it died holding it
            db.close()
        finally:
            finish.set()
            child.join(timeout=10)

    def test_tuned_rows_are_replaced_per_digest_bucket_and_target(
        self, database: BaseDatabase
    ) -> None:
        def row(bucket: str, target: str, speedup: float, at: float) -> TunedRow:
            entry = {"kernel": "saxpy", "config": {"x": 1}, "speedup": speedup}
            return TunedRow("d1", bucket, target, "saxpy", entry, at)

        database.save_tuned(row("10", TARGET, 1.2, 1.0))
        database.save_tuned(row("10", TARGET, 1.5, 2.0))  # a later run replaces it
        database.save_tuned(row("12", TARGET, 1.1, 3.0))
        database.save_tuned(row("10", "other-target", 1.3, 4.0))
        database.save_tuned(TunedRow("d2", "10", TARGET, "gemm", {"config": {}}, 5.0))
        rows = database.tuned("d1")
        assert [(r.bucket, r.target_key, r.entry["speedup"]) for r in rows] == [
            ("10", TARGET, 1.5),
            ("12", TARGET, 1.1),
            ("10", "other-target", 1.3),
        ]
        assert len(database.tuned()) == 4 and database.tuned("none") == []
        rows[0].entry["speedup"] = 99.0  # a copy: nothing stored changes
        assert database.tuned("d1")[0].entry["speedup"] == 1.5

    def test_program_features_round_trip_per_ir_hash_and_schema(
        self, database: BaseDatabase
    ) -> None:
        features = {"instructions": 12.0, "loads": 3.0, "loop_depth": 2.0}
        assert database.program_features("ir-1", "schema-a") is None
        database.add_program_features("ir-1", "schema-a", features)
        database.add_program_features("ir-1", "schema-b", {"instructions": 1.0})
        database.add_program_features("ir-2", "schema-a", {"instructions": 5.0})
        assert database.program_features("ir-1", "schema-a") == features
        assert database.program_features("ir-1", "schema-b") == {"instructions": 1.0}
        assert database.program_features("ir-2", "schema-a") == {"instructions": 5.0}
        assert database.program_features("ir-2", "schema-b") is None
        stored = database.program_features("ir-1", "schema-a")
        assert stored is not None
        stored["loads"] = 99.0  # a copy: nothing stored changes
        assert database.program_features("ir-1", "schema-a") == features

    def test_program_features_are_stored_once(self, tmp_path: Path) -> None:
        db = self.make_database(tmp_path)
        db.add_program_features("ir-1", "schema-a", {"loads": 3.0})
        db.add_program_features("ir-1", "schema-a", {"loads": 3.0})  # harmless
        db.add_program_features("ir-1", "schema-a", {"loads": 4.0})  # the first stays
        db.close()
        reopened = self.make_database(tmp_path)
        try:
            assert reopened.program_features("ir-1", "schema-a") == {"loads": 3.0}
        finally:
            reopened.close()

    def test_models_round_trip_without_their_bytes(self, database: BaseDatabase) -> None:
        data = bytes(range(256)) * 4  # every byte value, NUL included
        toolchain = {"numba": "0.60.0", "llvmlite": "0.43.0", "scikit-learn": "1.5.0"}
        trained_on = {"rows": 120, "programs": 7, "workloads": 9}
        model_id = database.add_model(
            "boosted", "cpu:" + TARGET, "s" * 64, 1, toolchain, trained_on, data
        )
        [record] = database.models()
        assert record.id == model_id
        assert (record.name, record.family, record.schema) == ("boosted", "cpu:" + TARGET, "s" * 64)
        assert record.format_version == 1
        assert record.toolchain == toolchain and record.trained_on == trained_on
        assert record.created_at > 0
        assert database.model_bytes(model_id) == data
        record.trained_on["rows"] = 0  # a copy: nothing stored changes
        assert database.models()[0].trained_on == trained_on
        with pytest.raises(KeyError):
            database.model_bytes(model_id + 1000)

    def test_models_come_newest_first_and_filtered(self, database: BaseDatabase) -> None:
        def add(name: str, family: str) -> int:
            return database.add_model(name, family, "s", 1, {}, {"rows": 1}, name.encode())

        first = add("boosted", "cpu:a")
        second = add("boosted", "cpu:b")
        third = add("linear", "cpu:a")
        fourth = add("boosted", "cpu:a")  # the same again is another model
        assert len({first, second, third, fourth}) == 4
        assert [m.id for m in database.models()] == [fourth, third, second, first]
        assert [m.id for m in database.models(name="boosted")] == [fourth, second, first]
        assert [m.id for m in database.models(family="cpu:a")] == [fourth, third, first]
        assert [m.id for m in database.models("boosted", "cpu:b")] == [second]
        assert database.models(name="none") == []
        assert database.model_bytes(third) == b"linear"

    def _claim_in_child(self, tmp_path: Path, claimed: Any, finish: Any) -> None:
        """Claim CONFIG, say so, and exit without releasing it once told to."""
        db = self.make_database(tmp_path)
        if not db.claim(WORKLOAD, TARGET, CONFIG, "run-1"):
            os._exit(1)
        db.close()
        claimed.set()
        finish.wait(timeout=60)
        os._exit(0)
