"""The SQLAlchemy database on a real PostgreSQL server: the conformance suite and more."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from autotune.cli import main
from autotune.db import SQLDatabase
from autotune.testing.databases import DatabaseConformance
from tests._helpers import CORPUS


class TestPostgreSQLDatabase(DatabaseConformance):
    @pytest.fixture(autouse=True)
    def _fresh_database(self, postgres_url: str) -> None:
        self.url = postgres_url

    def make_database(self, tmp_path: Path) -> SQLDatabase:
        # One fresh database per test: reopening within the test finds the same data.
        return SQLDatabase(self.url)


@pytest.mark.slow
def test_tuning_on_postgresql_keeps_records_reports_and_optuna_studies(postgres_url, tmp_path):
    import optuna

    def run(*args):
        result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    # Little timing and no simplification: this is about where the records go.
    tune = ["tune", CORPUS / "dot.py", "--size", "small", "--no-simplify", "--confirm-top", 1]
    run(*tune, "--budget", 3, "--strategy", "tpe", "--db", postgres_url)
    run("show", "--db", postgres_url, "--json", tmp_path / "show.json")
    [summary] = json.loads((tmp_path / "show.json").read_text())
    assert summary["kernel"] == "dot" and summary["trials"] == 3

    # A second run resumes from the records instead of measuring them again.
    again_args = ["--budget", 1, "--strategy", "random", "--json", tmp_path / "again.json"]
    run(*tune, *again_args, "--db", postgres_url)
    [again] = json.loads((tmp_path / "again.json").read_text())
    assert again["resumed"] == 3 and again["trials"] == 4

    studies = optuna.get_all_study_summaries(storage=postgres_url)
    assert [s.study_name.split(":")[:2] for s in studies] == [["autotune", "dot"]]
    assert studies[0].n_trials >= 3

    run("report", "--db", postgres_url, "-o", tmp_path / "report")
    assert "dot" in (tmp_path / "report" / "summary.md").read_text()
