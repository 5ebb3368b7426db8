"""The command line and its database: where it is by default, that reading never
writes, that secrets in URLs are never printed, and that concurrent runs share work."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import platformdirs
import pytest

from autotune.db import ENV_VAR, SQLDatabase
from tests._helpers import CORPUS, run_cli

run = run_cli
READERS = [["show"], ["report", "-o", "report-dir"], ["export", "-o", "replay.json"]]


def _fingerprint(path: Path) -> tuple[int, int, str]:
    data = path.read_bytes()
    return len(data), path.stat().st_mtime_ns, hashlib.sha256(data).hexdigest()


def _one_error_line(code: int, output: str) -> str:
    assert code == 2, output
    lines = [ln for ln in output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), output
    return lines[0]


@pytest.mark.parametrize("command", [*READERS, ["tune", CORPUS / "dot.py", "--budget", "1"]])
def test_a_password_in_the_query_string_is_never_printed(command: list[object]) -> None:
    url = "postgresql://u@127.0.0.1:1/x?password=secretpw"  # port 1: refused at once
    code, output = run(*command, "--db", url)
    line = _one_error_line(code, output)
    assert "secretpw" not in output and "password=***" in line


@pytest.mark.parametrize("command", READERS)
@pytest.mark.parametrize("content", [b"", b"a text file, not a database\n" * 50])
def test_readers_leave_a_file_that_is_no_database_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str], content: bytes
) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "other.db"
    path.write_bytes(content)
    before = _fingerprint(path)
    code, output = run(*command, "--db", path)
    assert "database" in _one_error_line(code, output)
    assert _fingerprint(path) == before


def test_replaying_from_a_file_that_is_no_database_leaves_it_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    before = _fingerprint(path)
    code, output = run("tune", CORPUS / "dot.py", "--replay", f"sqlite:///{path}")
    assert "not an autotune database" in _one_error_line(code, output)
    assert _fingerprint(path) == before


def _version_2_database(path: Path) -> None:
    SQLDatabase(str(path)).close()
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE autotune_claims")
        conn.execute("UPDATE autotune_meta SET value = '2' WHERE key = 'schema_version'")


def test_show_does_not_migrate_an_older_database(tmp_path: Path) -> None:
    path = tmp_path / "v2.db"
    _version_2_database(path)
    before = _fingerprint(path)
    code, output = run("show", "--db", path)
    assert code == 0 and "no tuning results in sqlite:///" in output, output
    assert _fingerprint(path) == before


def test_show_finds_the_default_database_from_any_directory(
    user_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, output = run("show")
    assert "no database at" in _one_error_line(code, output)
    assert not user_data.exists()
    user_data.mkdir(parents=True)
    SQLDatabase(str(user_data / "autotune.db")).close()
    monkeypatch.chdir(tmp_path)
    code, output = run("show")
    assert code == 0, output
    assert f"no tuning results in sqlite:///{user_data / 'autotune.db'}" in output


@pytest.mark.parametrize("command", ["tune", "sweep", "show", "report", "export"])
def test_help_shows_the_per_user_default_and_the_environment_variable(command: str) -> None:
    code, output = run(command, "--help")
    assert code == 0
    default = platformdirs.user_data_path("autotune", appauthor=False) / "autotune.db"
    flat = "".join(output.split())  # help text is wrapped
    assert f"default:sqlite:///{default}" in flat and "AUTOTUNE_DB" in flat


@pytest.mark.slow
def test_tune_writes_the_default_database_and_says_where(
    user_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    tune = ["tune", CORPUS / "dot.py", "--size", "small", "--no-simplify", "--confirm-top", 1]
    code, output = run(*tune, "--budget", 1, "--timing", "lean")
    assert code == 0, output
    default = user_data / "autotune.db"
    assert f"results in sqlite:///{default}" in output
    assert not (tmp_path / "autotune.db").exists()
    code, output = run("export", "-o", tmp_path / "replay.json")
    assert code == 0, output

    # A replay named by neither --db nor AUTOTUNE_DB keeps nothing: not in the default.
    before = _fingerprint(default)
    code, output = run(*tune, "--budget", 1, "--replay", tmp_path / "replay.json")
    assert code == 0, output
    assert "results in" not in output
    assert _fingerprint(default) == before
    # With AUTOTUNE_DB, the replay is recorded there.
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "replayed.db"))
    code, output = run(*tune, "--budget", 1, "--replay", tmp_path / "replay.json")
    assert code == 0 and f"results in sqlite:///{tmp_path / 'replayed.db'}" in output, output


@pytest.mark.slow
def test_concurrent_tune_runs_measure_each_config_once(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    SQLDatabase(str(db)).close()  # so that the runs race on claims, not on creating it
    procs = []
    for i in range(3):
        args = [sys.executable, "-m", "autotune.cli", "tune", str(CORPUS / "dot.py")]
        args += ["--size", "small", "--budget", "3", "--seed", "0", "--strategy", "random"]
        args += ["--no-simplify", "--confirm-top", "1", "--timing", "lean"]
        args += ["--db", str(db), "--json", str(tmp_path / f"run{i}.json")]
        procs.append(subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
    for proc in procs:
        _, err = proc.communicate(timeout=280)
        assert proc.returncode == 0, err.decode()
    measured = sum(
        json.loads((tmp_path / f"run{i}.json").read_text())[0]["measured_this_run"]
        for i in range(3)
    )
    with sqlite3.connect(db) as conn:
        stored = conn.execute(
            "SELECT count(*) FROM autotune_trials WHERE phase = 'search' "
            "AND status NOT IN ('invalid', 'skipped')"
        ).fetchone()[0]
        claims = conn.execute("SELECT count(*) FROM autotune_claims").fetchone()[0]
    assert measured == stored == 9
    assert claims == 0
