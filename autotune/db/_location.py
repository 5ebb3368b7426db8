"""Where the tuning database lives when no URL is given.

The default is per user, not per working directory, so that ``autotune show`` finds
what ``autotune tune`` wrote wherever either runs: ``$AUTOTUNE_DB`` (a URL or a file
path) when set, else ``autotune.db`` in the platform's user data directory.

This module imports no SQLAlchemy, so that naming a database (a command's help, a
lookup in a bundle) costs nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Environment variable naming the default database (a URL or a file path).
ENV_VAR = "AUTOTUNE_DB"
#: File name of the per-user default database.
DEFAULT_FILE = "autotune.db"


def normalize_url(url: str) -> str:
    """Accept a plain file path as shorthand for an SQLite URL, and name the
    PostgreSQL driver (psycopg, from the ``pg`` extra) when the URL names none."""
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser()}"
    for bare in ("postgresql://", "postgres://"):
        if url.startswith(bare):
            return "postgresql+psycopg://" + url.removeprefix(bare)
    return url


def is_memory_url(url: str) -> bool:
    """Whether ``url`` (normalized) names an in-memory SQLite database."""
    return url in ("sqlite://", "sqlite:///:memory:")


def sqlite_path(url: str) -> Path | None:
    """The file of an SQLite ``url`` (normalized); ``None`` for other databases and
    in-memory ones."""
    if not url.startswith("sqlite:///") or is_memory_url(url):
        return None
    return Path(url.removeprefix("sqlite:///").split("?", 1)[0])


def user_default_url() -> str:
    """The per-user default database: SQLite in the platform's user data directory
    (e.g. ``~/.local/share/autotune/autotune.db`` on Linux). Nothing is created."""
    from platformdirs import user_data_path

    return f"sqlite:///{user_data_path('autotune', appauthor=False) / DEFAULT_FILE}"


def default_url() -> str:
    """The database to use when none is named: ``$AUTOTUNE_DB``, else
    :func:`user_default_url`; normalized."""
    return normalize_url(os.environ.get(ENV_VAR) or user_default_url())


def create_default_directory(url: str) -> None:
    """Create the directory of the per-user default database when ``url`` (normalized)
    is that database, as a writer is about to create it. Other locations are the
    user's to create: a mistyped path should fail, not grow directories."""
    path = sqlite_path(url)
    if path is not None and url == user_default_url():
        path.parent.mkdir(parents=True, exist_ok=True)
