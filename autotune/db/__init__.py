"""Tuning databases (SQLAlchemy: SQLite by default, PostgreSQL by URL)."""

from autotune.db._base import BaseDatabase
from autotune.db._sql import DEFAULT_URL, SCHEMA_VERSION, SQLDatabase, normalize_url

__all__ = [
    "DEFAULT_URL",
    "SCHEMA_VERSION",
    "BaseDatabase",
    "SQLDatabase",
    "normalize_url",
    "open_database",
]


def open_database(url: str = DEFAULT_URL) -> SQLDatabase:
    """Open (creating or migrating) the database at ``url``."""
    return SQLDatabase(url)
