"""Tuning databases (SQLAlchemy: SQLite by default, PostgreSQL by URL).

Naming a database (:func:`default_url`, :func:`normalize_url`, :data:`ENV_VAR`) imports
no SQLAlchemy; the database classes are imported when first used, so that commands
and lookups that never open a database do not pay for it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from autotune.db._location import ENV_VAR, default_url, normalize_url, user_default_url

if TYPE_CHECKING:
    from autotune.db._base import BaseDatabase, ModelRecord
    from autotune.db._claims import CLAIM_STALE_S
    from autotune.db._engine import display_url
    from autotune.db._optuna import open_optuna_storage
    from autotune.db._schema import SCHEMA_VERSION
    from autotune.db._sql import SQLDatabase

#: Name -> module, for the names imported on first use.
_LAZY = {
    "BaseDatabase": "autotune.db._base",
    "ModelRecord": "autotune.db._base",
    "CLAIM_STALE_S": "autotune.db._claims",
    "display_url": "autotune.db._engine",
    "open_optuna_storage": "autotune.db._optuna",
    "SCHEMA_VERSION": "autotune.db._schema",
    "SQLDatabase": "autotune.db._sql",
}

__all__ = [
    "CLAIM_STALE_S",
    "ENV_VAR",
    "SCHEMA_VERSION",
    "BaseDatabase",
    "ModelRecord",
    "SQLDatabase",
    "default_url",
    "display_url",
    "normalize_url",
    "open_database",
    "open_optuna_storage",
    "user_default_url",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'autotune.db' has no attribute {name!r}")


def open_database(url: str | None = None, must_exist: bool = False) -> SQLDatabase:
    """Open the database at ``url`` (default: :func:`default_url`) to write: it is
    created, or migrated from an older schema, as needed. The per-user default's
    directory is created too.

    With ``must_exist``, for commands that only read, it is opened read-only instead:
    it must exist and hold a schema this release can read, and nothing in it is
    created, migrated or changed (see :class:`SQLDatabase`).

    Raises:
        DatabaseError: one line, with any password or secret in the URL hidden.
    """
    from autotune.db._location import create_default_directory, sqlite_path
    from autotune.db._sql import SQLDatabase
    from autotune.errors import DatabaseError

    url = normalize_url(url or default_url())
    if not must_exist:
        create_default_directory(url)
        return SQLDatabase(url)
    path = sqlite_path(url)
    if path is not None and not path.exists():
        raise DatabaseError(f"no database at {path}")
    return SQLDatabase(url, read_only=True)
