"""The SQLAlchemy database: the conformance suite on SQLite, plus schema and URL handling."""

from __future__ import annotations

import hashlib
import sqlite3
import sys
from pathlib import Path

import pytest

from autotune.db import SCHEMA_VERSION, SQLDatabase, normalize_url, open_database
from autotune.errors import DatabaseError
from autotune.testing.databases import TARGET, WORKLOAD, DatabaseConformance, make_trial


class TestSQLiteDatabase(DatabaseConformance):
    def make_database(self, tmp_path: Path) -> SQLDatabase:
        return SQLDatabase(f"sqlite:///{tmp_path / 'tuning.db'}")


def _set_schema_version(path: Path, version: int) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute(
            "UPDATE autotune_meta SET value = ? WHERE key = 'schema_version'", (str(version),)
        )


def test_new_database_records_the_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "tuning.db"
    SQLDatabase(str(path)).close()
    with sqlite3.connect(path) as conn:
        [(value,)] = conn.execute(
            "SELECT value FROM autotune_meta WHERE key = 'schema_version'"
        ).fetchall()
    assert int(value) == SCHEMA_VERSION


def test_database_from_a_newer_release_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "tuning.db"
    SQLDatabase(str(path)).close()
    _set_schema_version(path, SCHEMA_VERSION + 1)
    with pytest.raises(DatabaseError) as info:
        SQLDatabase(str(path))
    message = str(info.value)
    assert f"v{SCHEMA_VERSION + 1}" in message
    assert f"v{SCHEMA_VERSION}" in message


def test_database_at_the_current_version_reopens_with_its_data(tmp_path: Path) -> None:
    path = tmp_path / "tuning.db"
    db = SQLDatabase(str(path))
    db.add_trial(make_trial({"x": 1}))
    db.close()
    _set_schema_version(path, SCHEMA_VERSION)
    reopened = open_database(str(path))
    assert [r.config for r in reopened.trials(WORKLOAD, TARGET)] == [{"x": 1}]
    reopened.close()


def test_version_1_database_is_migrated_with_its_trials_kept(tmp_path: Path) -> None:
    path = tmp_path / "tuning.db"
    db = SQLDatabase(str(path))
    db.add_trial(make_trial({"x": 1}))
    db.close()
    with sqlite3.connect(path) as conn:  # what a v1 release wrote: no portfolio, no claims
        conn.execute("DROP TABLE autotune_portfolio")
        conn.execute("DROP TABLE autotune_claims")
        conn.execute("DROP TABLE autotune_tuned")
        conn.execute("DROP TABLE autotune_features")
        conn.execute("DROP TABLE autotune_models")
    _set_schema_version(path, 1)
    migrated = SQLDatabase(str(path))
    assert [r.config for r in migrated.trials(WORKLOAD, TARGET)] == [{"x": 1}]
    assert migrated.add_portfolio_reward(TARGET, WORKLOAD, {"x": 1}, 0.1)
    migrated.close()
    with sqlite3.connect(path) as conn:
        [(value,)] = conn.execute(
            "SELECT value FROM autotune_meta WHERE key = 'schema_version'"
        ).fetchall()
    assert int(value) == SCHEMA_VERSION == 5


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////nonexistent-autotune-dir/x/y.db",
        "nosuchdialect://user@host/db",
    ],
)
def test_unusable_url_raises_one_line_database_error(url: str) -> None:
    with pytest.raises(DatabaseError) as info:
        SQLDatabase(url)
    message = str(info.value)
    assert "\n" not in message
    assert url in message


def test_plain_path_is_shorthand_for_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "plain.db"
    assert normalize_url(str(path)) == f"sqlite:///{path}"
    db = SQLDatabase(str(path))
    db.add_trial(make_trial({"x": 1}))
    db.close()
    assert path.is_file()
    reopened = SQLDatabase(f"sqlite:///{path}")
    assert len(reopened.trials(WORKLOAD, TARGET)) == 1
    reopened.close()


def test_urls_pass_through_unchanged() -> None:
    url = "postgresql+psycopg://user@host:5432/tuning"
    assert normalize_url(url) == url
    assert normalize_url("autotune.db") == "sqlite:///autotune.db"


def test_bare_postgresql_urls_name_the_psycopg_driver() -> None:
    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgresql+psycopg2://u@h/db") == "postgresql+psycopg2://u@h/db"


def test_a_server_that_does_not_answer_is_one_line_without_the_password() -> None:
    # Port 1 on the loopback: refused at once, on any machine.
    with pytest.raises(DatabaseError) as info:
        SQLDatabase("postgresql://tuner:s3cret@127.0.0.1:1/tuning")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("cannot open database postgresql+psycopg://tuner:***@127.0.0.1:1/")
    assert "s3cret" not in message


def test_a_missing_driver_says_which_extra_installs_it(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if it were not installed
    with pytest.raises(DatabaseError) as info:
        SQLDatabase("postgresql://tuner@127.0.0.1:1/tuning")
    assert "driver is not installed" in str(info.value)
    assert "autotune[pg]" in str(info.value)


def _fingerprint(path: Path) -> tuple[int, int, str]:
    """Size, modification time and content hash: what must not change on reading."""
    data = path.read_bytes()
    return len(data), path.stat().st_mtime_ns, hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"", "not an autotune database"), (b"plain text, no database\n" * 40, "not a database")],
)
def test_reading_a_file_that_is_no_autotune_database_changes_nothing(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    path = tmp_path / "other.db"
    path.write_bytes(content)
    before = _fingerprint(path)
    with pytest.raises(DatabaseError) as info:
        open_database(str(path), must_exist=True)
    assert reason in str(info.value) and "\n" not in str(info.value)
    assert _fingerprint(path) == before


def test_reading_a_missing_file_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "missing.db"
    with pytest.raises(DatabaseError, match="no database at"):
        open_database(f"sqlite:///{path}", must_exist=True)
    assert list(tmp_path.iterdir()) == []


def _version_2_database(path: Path) -> None:
    """What a v2 release wrote: no claims table, one search trial."""
    db = SQLDatabase(str(path))
    db.add_trial(make_trial({"x": 1}))
    db.close()
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE autotune_claims")
        conn.execute("DROP TABLE autotune_tuned")
        conn.execute("DROP TABLE autotune_features")
        conn.execute("DROP TABLE autotune_models")
    _set_schema_version(path, 2)


def test_an_older_database_is_read_without_being_migrated(tmp_path: Path) -> None:
    path = tmp_path / "v2.db"
    _version_2_database(path)
    before = _fingerprint(path)
    db = open_database(str(path), must_exist=True)
    assert [r.config for r in db.trials(WORKLOAD, TARGET)] == [{"x": 1}]
    assert db.latest_summaries() == [] and db.portfolio(TARGET) == []
    assert db.tuned() == [] and db.models() == []
    assert db.program_features("ir", "schema") is None
    db.close()
    assert _fingerprint(path) == before
    # A writer migrates it.
    SQLDatabase(str(path)).close()
    with sqlite3.connect(path) as conn:
        [(value,)] = conn.execute("SELECT value FROM autotune_meta").fetchall()
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}
    new_tables = {"autotune_claims", "autotune_tuned", "autotune_features", "autotune_models"}
    assert int(value) == SCHEMA_VERSION and new_tables <= tables


def test_a_version_1_database_is_read_with_an_empty_portfolio(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    _version_2_database(path)
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE autotune_portfolio")
    _set_schema_version(path, 1)
    db = open_database(str(path), must_exist=True)
    assert db.portfolio(TARGET) == [] and len(db.trials(WORKLOAD, TARGET)) == 1
    db.close()


def test_reading_a_newer_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    SQLDatabase(str(path)).close()
    _set_schema_version(path, SCHEMA_VERSION + 1)
    with pytest.raises(DatabaseError, match=f"v{SCHEMA_VERSION + 1}"):
        open_database(str(path), must_exist=True)


def test_a_database_opened_to_read_refuses_writes(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    SQLDatabase(str(path)).close()
    before = _fingerprint(path)
    db = open_database(str(path), must_exist=True)
    assert db.optuna_storage is None  # Optuna would create its tables
    with pytest.raises(DatabaseError, match="opened only to read"):
        db.add_trial(make_trial({"x": 1}))
    with pytest.raises(DatabaseError, match="opened only to read"):
        db.claim(WORKLOAD, TARGET, "c", "run-1")
    db.close()
    assert _fingerprint(path) == before
