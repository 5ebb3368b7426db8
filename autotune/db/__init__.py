"""Tuning databases (SQLAlchemy: SQLite by default, PostgreSQL by URL)."""

from autotune.db._base import BaseDatabase
from autotune.db._engine import normalize_url
from autotune.db._optuna import open_optuna_storage
from autotune.db._sql import DEFAULT_URL, SCHEMA_VERSION, SQLDatabase

__all__ = [
    "DEFAULT_URL",
    "SCHEMA_VERSION",
    "BaseDatabase",
    "SQLDatabase",
    "normalize_url",
    "open_database",
    "open_optuna_storage",
]


def open_database(url: str = DEFAULT_URL, must_exist: bool = False) -> SQLDatabase:
    """Open (creating or migrating) the database at ``url``.

    With ``must_exist``, a SQLite file that is not there is an error instead of a new,
    empty database (for commands that only read).
    """
    from pathlib import Path

    from autotune.errors import DatabaseError

    url = normalize_url(url)
    if must_exist and url.startswith("sqlite:///") and url not in ("sqlite:///:memory:",):
        path = Path(url.removeprefix("sqlite:///"))
        if not path.exists():
            raise DatabaseError(f"no database at {path}")
    return SQLDatabase(url)
