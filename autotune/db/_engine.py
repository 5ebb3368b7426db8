"""Engines per dialect, and what makes each safe for several writers at once.

* SQLite: writers take the database's write lock when their transaction begins
  (``BEGIN IMMEDIATE``) and wait up to :data:`SQLITE_BUSY_TIMEOUT_S` for it. A deferred
  transaction that reads and then writes can fail at once with "database is locked"
  instead of waiting, because two such readers could deadlock each other.
* PostgreSQL: schema changes are serialized by a transaction-level advisory lock;
  concurrent inserts of the same key are resolved by ``ON CONFLICT DO NOTHING``.
* Any other dialect: duplicates are caught as integrity errors inside a savepoint.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import quote, unquote_plus

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from autotune.db._location import is_memory_url, normalize_url, sqlite_path

__all__ = ["is_memory_url", "normalize_url", "sqlite_path"]  # re-exported, defined there

#: Seconds an SQLite writer waits for another process's write to finish.
SQLITE_BUSY_TIMEOUT_S = 60.0
#: Seconds to wait for a PostgreSQL server before saying it does not answer.
CONNECT_TIMEOUT_S = 10
#: Execution option that marks a connection's transactions as writing.
WRITES = "autotune_writes"
#: What a hidden password or secret query parameter shows instead.
MASK = "***"
# The name=value pairs of a query string; a value ends at the next '&' or fragment.
_SECRET_QUERY = re.compile(r"(?<=[?&])([^=&#]+)=([^&#]*)")


def read_only_url(url: str) -> str:
    """``url`` (normalized) opened so that nothing can write: an SQLite file is opened
    read-only, and so never created. Other URLs are returned as they are."""
    path = sqlite_path(url)
    if path is None:
        return url
    return f"sqlite:///file:{quote(str(path))}?mode=ro&uri=true"


def display_url(url: str) -> str:
    """``url`` as it may be shown: the password hidden, and the value of every query
    parameter that may hold a secret (see :func:`is_secret_parameter`)."""
    try:
        shown = sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        shown = url
    return _SECRET_QUERY.sub(_mask_secret_parameter, shown)


def is_secret_parameter(name: str) -> bool:
    """Whether a URL query parameter called ``name`` may hold a secret: ``password``,
    ``passwd``, ``pwd``, or any name containing ``password``, ``secret`` or ``token``
    (case-insensitive)."""
    folded = name.lower()
    return folded in ("passwd", "pwd") or any(
        word in folded for word in ("password", "secret", "token")
    )


def redact(text: str, url: str) -> str:
    """``text`` (an error message, say) with every secret of ``url`` replaced by ``***``."""
    for secret in sorted(_secrets(url), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def _mask_secret_parameter(match: re.Match[str]) -> str:
    name = match.group(1)
    return f"{name}={MASK}" if is_secret_parameter(unquote_plus(name)) else match.group(0)


def _secrets(url: str) -> set[str]:
    """The password and secret query values of ``url``, as written and decoded."""
    found: set[str] = set()
    for match in _SECRET_QUERY.finditer(url):
        if is_secret_parameter(unquote_plus(match.group(1))):
            found.update((match.group(2), unquote_plus(match.group(2))))
    try:
        password = sa.engine.make_url(url).password
    except sa.exc.ArgumentError:
        password = None
    if password:
        found.add(str(password))
    found.discard("")
    return found


def create_engine(url: str) -> sa.Engine:
    """An engine for ``url``, set up for concurrent writers (see the module docstring)."""
    parsed = sa.engine.make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        engine = sa.create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
        sa.event.listen(engine, "connect", _sqlite_manual_transactions)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    connect_args: dict[str, Any] = {}
    if backend == "postgresql" and "connect_timeout" not in parsed.query:
        # libpq waits forever for a host that drops packets.
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
    # Long tuning runs outlive idle connections that servers and firewalls close.
    return sa.create_engine(parsed, connect_args=connect_args, pool_pre_ping=True)


def _sqlite_manual_transactions(dbapi_connection: Any, _record: Any) -> None:
    # Stop the sqlite3 module from issuing its own deferred BEGIN, so ours is used.
    dbapi_connection.isolation_level = None


def _sqlite_begin(conn: sa.Connection) -> None:
    writes = conn.get_execution_options().get(WRITES, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


def lock_for_transaction(conn: sa.Connection, name: str) -> None:
    """Hold a database-wide lock called ``name`` until ``conn``'s transaction ends.

    On PostgreSQL this is an advisory lock. SQLite needs none: a writing transaction
    holds the whole database already. Elsewhere nothing is locked.
    """
    if conn.dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))


def insert_unless_present(conn: sa.Connection, table: sa.Table, row: dict[str, Any]) -> bool:
    """Insert ``row`` unless a row with one of its unique keys exists; True if inserted.

    Safe against a concurrent writer inserting the same key: exactly one of them wins.
    """
    dialect = conn.dialect.name
    if dialect == "postgresql":
        # The rowcount of an INSERT that returns its key is not reported; ask for a row.
        pg_insert = postgresql.insert(table).values(**row).on_conflict_do_nothing()
        inserted = conn.execute(pg_insert.returning(*table.primary_key.columns)).first()
        return inserted is not None
    if dialect == "sqlite":
        sqlite_insert = sqlite.insert(table).values(**row).on_conflict_do_nothing()
        return bool(conn.execute(sqlite_insert).rowcount == 1)
    try:
        with conn.begin_nested():
            conn.execute(table.insert().values(**row))
    except IntegrityError:
        return False
    return True
