"""The SQLAlchemy database on a real PostgreSQL server: the conformance suite and more."""

from __future__ import annotations

from pathlib import Path

import pytest

from autotune.db import SQLDatabase
from autotune.testing.databases import DatabaseConformance


class TestPostgreSQLDatabase(DatabaseConformance):
    @pytest.fixture(autouse=True)
    def _fresh_database(self, postgres_url: str) -> None:
        self.url = postgres_url

    def make_database(self, tmp_path: Path) -> SQLDatabase:
        # One fresh database per test: reopening within the test finds the same data.
        return SQLDatabase(self.url)
