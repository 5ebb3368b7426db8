"""Config sources: the tuning database, and bundle files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from autotune.cache._base import BaseConfigSource
from autotune.cache._bundle import BundleSource
from autotune.cache._entry import CacheEntry
from autotune.errors import AutotuneError

if TYPE_CHECKING:
    from autotune.db import BaseDatabase

# autotune.db (and SQLAlchemy with it) is imported only when a database is read: a
# package reading its bundle at import time does not pay for it.


class DatabaseSource(BaseConfigSource):
    """The config cache of a tuning database, opened read-only on first use: nothing
    in it is created, migrated or changed, and a missing SQLite file holds no entries.

    With ``strict=False`` (imports, decorators), a database that cannot be read gives
    no entries and one line in ``problems``; with ``strict=True`` its
    :class:`~autotune.errors.DatabaseError` propagates.
    """

    def __init__(self, url: str | None = None, *, strict: bool = False) -> None:
        from autotune.db import default_url, normalize_url

        self.url = normalize_url(url or default_url())
        self.strict = strict
        self._db: BaseDatabase | None = None
        self._opened = False

    @classmethod
    def of(cls, db: BaseDatabase) -> DatabaseSource:
        """A source reading an already open database (which it never closes)."""
        source = cls(getattr(db, "url", None) or "sqlite:///:memory:", strict=True)
        source._db, source._opened, source._owned = db, True, False
        return source

    _owned = True

    @property
    def description(self) -> str:
        from autotune.db import display_url

        return f"database {display_url(self.url)}"

    def _database(self) -> BaseDatabase | None:
        if self._opened:
            return self._db
        from autotune.db import open_database
        from autotune.db._engine import sqlite_path

        path = sqlite_path(self.url)
        if path is not None and not path.exists():
            return None  # looked for again next time: another process may create it
        self._opened = True
        try:
            self._db = open_database(self.url, must_exist=True)
        except AutotuneError as exc:
            if self.strict:
                raise
            self.problems = (str(exc),)
        return self._db

    def entries(self, digest: str) -> list[CacheEntry]:
        return self._read(digest)

    def all_entries(self) -> list[CacheEntry]:
        return self._read(None)

    def _read(self, digest: str | None) -> list[CacheEntry]:
        db = self._database()
        if db is None:
            return []
        try:
            rows = db.tuned(digest)
        except AutotuneError as exc:
            if self.strict:
                raise
            self.problems = (*self.problems, str(exc))
            return []
        entries = []
        for row in rows:
            try:
                entries.append(CacheEntry.from_json(row.entry))
            except (KeyError, TypeError, ValueError):
                self.problems = (*self.problems, f"{self.description}: a malformed entry")
        return entries

    def close(self) -> None:
        if self._db is not None and self._owned:
            self._db.close()
        self._db = None


def open_source(
    db: str | None = None,
    bundle: str | Path | None = None,
    *,
    strict: bool = False,
    missing_ok: bool = False,
) -> BaseConfigSource:
    """Where tuned configs are read from: the bundle file ``bundle`` when given, else
    the database ``db`` (default: the per-user database, or ``$AUTOTUNE_DB``).

    Opening never writes anything. With ``strict=False`` a source that cannot be read
    has no entries and says why in ``problems``; with ``strict=True`` it raises
    (:class:`~autotune.cache.BundleError` or
    :class:`~autotune.errors.DatabaseError`). ``missing_ok``: a bundle file that does
    not exist yet is an empty one.
    """
    if bundle is not None:
        return BundleSource(bundle, strict=strict, missing_ok=missing_ok)
    return DatabaseSource(db, strict=strict)
