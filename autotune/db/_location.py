"""Where the tuning database lives when no URL is given.

The default is per user, not per working directory, so that ``autotune show`` finds
what ``autotune tune`` wrote wherever either runs: ``$AUTOTUNE_DB`` (a URL or a file
path) when set, else ``autotune.db`` in the platform's user data directory.
"""

from __future__ import annotations

import os

from autotune.db._engine import normalize_url, sqlite_path

#: Environment variable naming the default database (a URL or a file path).
ENV_VAR = "AUTOTUNE_DB"
#: File name of the per-user default database.
DEFAULT_FILE = "autotune.db"


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
