"""Training cost models from a database's trials, and the ``autotune model`` commands."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from autotune.backends._numba import NumbaBuilder
from autotune.cli import main
from autotune.cost_model import BoostedCostModel, schema_hash
from autotune.cost_model._scoring import target_family as family_of
from autotune.cost_model._train import FEATURE_NAMES, MODEL_NAME, train, training_rows
from autotune.db import SQLDatabase, open_database
from autotune.measure._timing import summarize
from autotune.program import Workload
from autotune.records import MeasureResult, Status
from autotune.testing.builders import scaled_copy
from autotune.testing.databases import TARGET, make_trial

TRIALS = 30
BASELINE = [[2.0e-3, 2.1e-3, 1.9e-3], [2.2e-3, 2.0e-3, 2.05e-3], [1.95e-3, 2.0e-3, 2.1e-3]]


def _result(speedup: float) -> MeasureResult:
    candidate = [[t / speedup for t in row] for row in BASELINE]
    return MeasureResult(Status.OK, timing=summarize(BASELINE, candidate, 7))


def _fill(db: SQLDatabase) -> Workload:
    """A real Numba workload with :data:`TRIALS` search trials, plus trials training
    must ignore: a baseline, a simplify trial, a failure and a CUDA workload's."""
    workload = NumbaBuilder().lower(scaled_copy, scaled_copy.make_inputs(0))
    db.add_workload(workload, "builders.py")
    for i in range(TRIALS):
        config = {"kernel.B": 2 ** (i % 6), "fastmath": "all" if i % 2 else "off", "i": i}
        record = make_trial(config, workload_key=workload.key, result=_result(0.5 + (i % 6) * 0.3))
        db.add_trial(record)
    ignored = _result(9.0)
    db.add_trial(
        make_trial({"i": 100}, phase="baseline", workload_key=workload.key, result=ignored)
    )
    db.add_trial(
        make_trial({"i": 101}, phase="simplify", workload_key=workload.key, result=ignored)
    )
    failed = MeasureResult(Status.BUILD_FAILED, error="no")
    db.add_trial(make_trial({"i": 102}, workload_key=workload.key, result=failed))
    cuda = Workload("gpu", "(float32[::1],)", "__global__ void k(float* x) { x[0] = 1; }")
    db.add_workload(cuda, "gpu.py")
    db.add_trial(make_trial({"i": 103}, workload_key=cuda.key, result=ignored))
    return workload


@pytest.fixture
def filled(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    db = open_database(url)
    try:
        _fill(db)
    finally:
        db.close()
    return url


def test_training_rows_keep_only_trials_against_the_baseline(filled: str) -> None:
    db = open_database(filled)
    try:
        rows = training_rows(db)
        again = training_rows(db, TARGET)  # program features now come from the database
    finally:
        db.close()
    assert rows.X.shape == (TRIALS, len(FEATURE_NAMES)) and rows.rows == TRIALS
    assert rows.programs == 1 and len(rows.workloads) == 1 and rows.unparsed == 1
    assert np.all(rows.y < 9.0) and np.all(rows.y > 0)
    np.testing.assert_array_equal(rows.X, again.X)


def test_train_stores_a_model_that_loads_and_predicts(filled: str) -> None:
    db = open_database(filled)
    try:
        [done] = train(db)
        assert done.model is not None and done.rows == TRIALS
        assert done.model.family == family_of(TARGET) and done.model.name == MODEL_NAME
        seen = {k: done.model.trained_on[k] for k in ("rows", "programs", "workloads")}
        assert seen == {"rows": TRIALS, "programs": 1, "workloads": 1}
        assert done.model.trained_on["source"] == "database"
        data = db.model_bytes(done.model.id)
        X = training_rows(db).X
    finally:
        db.close()
    model = BoostedCostModel.from_bytes(data, schema_hash(FEATURE_NAMES))
    predicted = model.predict(X)
    assert predicted.shape == (TRIALS,) and np.all(np.isfinite(predicted))


def test_too_few_rows_train_nothing(filled: str) -> None:
    db = open_database(filled)
    try:
        [done] = train(db, min_rows=TRIALS + 1)
        assert done.model is None and "needed" in done.reason
        assert db.models() == []
    finally:
        db.close()


def test_model_train_and_show(filled: str) -> None:
    runner = CliRunner()
    trained = runner.invoke(main, ["model", "train", "--db", filled])
    assert trained.exit_code == 0, trained.output
    assert f"{TRIALS} rows" in trained.output and "model id 1" in trained.output
    shown = runner.invoke(main, ["model", "show", "--db", filled])
    assert shown.exit_code == 0, shown.output
    assert MODEL_NAME in shown.output and family_of(TARGET)[:10] in shown.output


def test_model_commands_on_an_empty_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    open_database(url).close()
    runner = CliRunner()
    trained = runner.invoke(main, ["model", "train", "--db", url])
    assert trained.exit_code == 0 and "nothing to train" in trained.output
    shown = runner.invoke(main, ["model", "show", "--db", url])
    assert shown.exit_code == 0 and "no models" in shown.output


@pytest.mark.parametrize("command", ["train", "show"])
def test_a_missing_database_is_one_line_and_exit_2(tmp_path: Path, command: str) -> None:
    missing = tmp_path / "missing.db"
    result = CliRunner().invoke(main, ["model", command, "--db", str(missing)])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1 and "error:" in result.output
    assert not missing.exists()


def test_a_database_exports_what_training_reads(filled: str, tmp_path: Path) -> None:
    from autotune.cost_model._dataset import read_export

    path = tmp_path / "e.jsonl.gz"
    out = CliRunner().invoke(main, ["model", "export", "--db", filled, "--out", str(path)])
    assert out.exit_code == 0, out.output
    assert "1 workloads" in out.output  # the CUDA workload has no LLVM IR
    [workload] = read_export(path).workloads
    assert len(workload.usable()) == TRIALS


def test_a_damaged_stored_model_is_passed_over_with_the_reason(tmp_path: Path) -> None:
    from autotune.cost_model._boosted import FORMAT_VERSION, toolchain
    from autotune.cost_model._scoring import ROW_NAMES, load_target_model

    rng = np.random.default_rng(0)
    X = rng.random((40, len(ROW_NAMES)))
    model = BoostedCostModel(max_iter=5, n_estimators=2).fit(X, np.exp(X[:, 0]))
    schema = schema_hash(ROW_NAMES)
    damaged = model.to_bytes(schema)[:-200]  # the header is whole, the pickle is not
    db = open_database(f"sqlite:///{tmp_path / 'm.db'}")
    try:
        db.add_model(
            name=MODEL_NAME,
            family=family_of(TARGET),
            schema=schema,
            fmt=FORMAT_VERSION,
            toolchain=toolchain(),
            trained_on={},
            data=damaged,
        )
        loaded = load_target_model(db, TARGET)
    finally:
        db.close()
    assert loaded.model is None and "damaged" in loaded.reason


def test_a_sweep_retrains_only_targets_with_enough_programs(filled: str) -> None:
    from autotune.cost_model._train import refit_after_sweep

    db = open_database(filled)
    try:
        [skipped] = refit_after_sweep(db, [TARGET])
        assert skipped.model is None and "1 program on record, 5 needed" in skipped.reason
        assert db.models() == []
        [done] = refit_after_sweep(db, [TARGET, TARGET], min_programs=1)
        assert done.model is not None and done.rows == TRIALS
        assert [m.id for m in db.models()] == [done.model.id]
    finally:
        db.close()
