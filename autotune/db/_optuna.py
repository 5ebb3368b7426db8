"""Optuna's storage inside the tuning database, safe to open from many processes at once.

The first time Optuna opens a database it creates its tables and records its schema
version, each a check followed by a write. Processes that do so at the same moment
(the workers of a distributed sweep starting together) collide: "table already
exists", duplicate version rows. On PostgreSQL an advisory lock lets one process
initialize at a time; elsewhere a failed initialization is retried, and finds the
work done by the process it collided with.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from autotune.db._engine import SQLITE_BUSY_TIMEOUT_S, create_engine, lock_for_transaction

if TYPE_CHECKING:
    import optuna

#: Attempts to open Optuna's storage before giving up; waits double from 50 ms.
OPEN_ATTEMPTS = 7


def open_optuna_storage(url: str) -> optuna.storages.RDBStorage:
    """Optuna's storage at the SQLAlchemy ``url``, its tables created exactly once.

    Raises the last ``SQLAlchemyError`` when the database keeps failing.
    """
    for attempt in range(OPEN_ATTEMPTS - 1):
        try:
            return _collected(_open(url))
        except SQLAlchemyError:
            time.sleep(0.05 * 2**attempt)
    return _collected(_open(url))


def _collected(storage: optuna.storages.RDBStorage) -> optuna.storages.RDBStorage:
    """``storage``, after collecting the garbage that opening it left.

    Optuna's schema check loads Alembic's migration scripts, whose ORM registries then
    wait for a full garbage collection; its weakref callbacks run Python code, and a
    Ctrl-C that arrives during the collection is raised inside one of them, where
    Python ignores it. Collected here, at a known moment, instead of at some moment of
    the search loop, the interrupt reaches the loop.
    """
    gc.collect()
    return storage


def _open(url: str) -> optuna.storages.RDBStorage:
    import optuna  # only tuning with an Optuna strategy pays for the import

    with _initialization_lock(url):
        return optuna.storages.RDBStorage(url, engine_kwargs=_engine_kwargs(url))


def _engine_kwargs(url: str) -> dict[str, Any]:
    if sa.engine.make_url(url).get_backend_name() == "sqlite":
        # As patient as the tuning database's own writers (Optuna's default is 5 s).
        return {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_S}}
    return {"pool_pre_ping": True}


def _initialization_lock(url: str) -> Any:
    if sa.engine.make_url(url).get_backend_name() == "postgresql":
        return _postgresql_lock(url)
    return nullcontext()


@contextmanager
def _postgresql_lock(url: str) -> Iterator[None]:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            lock_for_transaction(conn, "optuna schema")
            yield
    finally:
        engine.dispose()
