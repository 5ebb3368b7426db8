"""Program features and trained cost models in the database: a v4 database is migrated
to hold them, concurrent writers of the same features agree, and a real model's bytes
come back loadable."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np

from autotune.cost_model import PROGRAM_FEATURES, BoostedCostModel, program_features, schema_hash
from autotune.cost_model._boosted import FORMAT_VERSION, toolchain
from autotune.db import SCHEMA_VERSION, SQLDatabase, open_database
from autotune.program import Workload
from autotune.records import TunedRow
from autotune.testing.databases import TARGET, WORKLOAD, make_trial

NEW_TABLES = {"autotune_features", "autotune_models"}
IR = """
define double @dot(double* %a, double* %b, i64 %n) {
entry:
  %x = load double, double* %a
  %y = load double, double* %b
  %p = fmul double %x, %y
  ret double %p
}
"""


def _tables(path: Path) -> dict[str, str]:
    """Every table and index of the SQLite file at ``path``, with the SQL that made it."""
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL")
        return dict(rows.fetchall())


def _version_4_database(path: Path) -> None:
    """What a v4 release wrote: no features or models, some rows of every other kind."""
    db = SQLDatabase(str(path))
    db.add_workload(Workload("dot", "(float64[::1],)", IR), "dot.py")
    db.add_trial(make_trial({"x": 1}))
    db.add_portfolio_reward(TARGET, WORKLOAD, {"x": 1}, 0.5)
    db.save_tuned(TunedRow("d1", "10", TARGET, "dot", {"config": {"x": 1}}, 1.0))
    db.close()
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE autotune_features")
        conn.execute("DROP TABLE autotune_models")
        conn.execute("UPDATE autotune_meta SET value = '4' WHERE key = 'schema_version'")


def test_a_version_4_database_is_migrated_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "v4.db"
    _version_4_database(path)
    before = _tables(path)
    assert not NEW_TABLES & before.keys()

    reader = open_database(str(path), must_exist=True)  # reading leaves it at v4
    assert reader.models() == [] and reader.program_features("ir", "s") is None
    reader.close()
    assert _tables(path) == before

    db = SQLDatabase(str(path))
    after = _tables(path)
    assert after.keys() >= NEW_TABLES
    # Nothing that was there changed: only the new tables (and their index) were added.
    assert {name: after[name] for name in before} == before
    assert [r.config for r in db.trials(WORKLOAD, TARGET)] == [{"x": 1}]
    assert [w.kernel for w in db.workloads()] == ["dot"]
    assert [arm.rewards for arm in db.portfolio(TARGET)] == [(0.5,)]
    assert [row.entry for row in db.tuned("d1")] == [{"config": {"x": 1}}]
    db.add_program_features("ir", "s", {"loads": 2.0})
    model_id = db.add_model("boosted", "cpu:t", "s", 1, {}, {"rows": 1}, b"model")
    assert db.program_features("ir", "s") == {"loads": 2.0}
    assert db.model_bytes(model_id) == b"model"
    db.close()
    with sqlite3.connect(path) as conn:
        [(value,)] = conn.execute("SELECT value FROM autotune_meta").fetchall()
    assert int(value) == SCHEMA_VERSION == 5


def _add_features(url: str, barrier: Any, features: dict[str, float]) -> None:
    db = SQLDatabase(url)
    barrier.wait(timeout=60)  # every writer adds the same row at the same moment
    for _ in range(20):
        db.add_program_features("ir-1", "schema-a", features)
    db.close()


def test_processes_adding_the_same_features_at_once_store_one_row(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    SQLDatabase(url).close()
    ctx = multiprocessing.get_context("fork")  # the parent holds no open connection
    barrier = ctx.Barrier(3)
    procs = [
        ctx.Process(target=_add_features, args=(url, barrier, {"loads": float(i)}))
        for i in range(3)
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
    assert [proc.exitcode for proc in procs] == [0, 0, 0]
    db = SQLDatabase(url)
    stored = db.program_features("ir-1", "schema-a")
    assert stored is not None and stored["loads"] in (0.0, 1.0, 2.0)
    db.close()
    with sqlite3.connect(tmp_path / "shared.db") as conn:
        [(count,)] = conn.execute("SELECT COUNT(*) FROM autotune_features").fetchall()
    assert count == 1


def test_real_features_and_a_real_model_come_back_usable(tmp_path: Path) -> None:
    db = SQLDatabase(str(tmp_path / "t.db"))
    workload = Workload("dot", "(float64[::1],)", IR)
    features = program_features(IR)
    program_schema = schema_hash(PROGRAM_FEATURES)
    db.add_program_features(workload.ir_hash, program_schema, features)
    assert db.program_features(workload.ir_hash, program_schema) == features

    rng = np.random.default_rng(0)
    X = rng.random((60, 3))
    fitted = BoostedCostModel(max_iter=10, n_estimators=2).fit(X, np.exp(X[:, 0]))
    trained_on = {"rows": 60, "programs": 1, "workloads": 1}
    model_id = db.add_model(
        "boosted",
        "cpu:t",
        schema_hash(),
        FORMAT_VERSION,
        toolchain(),
        trained_on,
        fitted.to_bytes(),
    )
    [record] = db.models("boosted", "cpu:t")
    assert record.schema == schema_hash() and record.toolchain == toolchain()
    loaded = BoostedCostModel.from_bytes(db.model_bytes(model_id), record.schema)
    np.testing.assert_array_equal(loaded.predict(X), fitted.predict(X))
    db.close()
