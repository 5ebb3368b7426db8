"""Finding a function's tuned config for a call, without ever failing the call.

Config sources are opened once per process and shared by every decorated function:
a bundle is parsed once, a database connected once. Whatever goes wrong (a corrupt
bundle, an unreadable database, arguments the key cannot describe) becomes one
warning and a miss; the caller then runs Numba's default build.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autotune.deploy._warn import forget_warnings, warn_once

if TYPE_CHECKING:
    from autotune.cache import BaseConfigSource, CacheHit, KernelKey

_SourceId = tuple[str | None, str | None]
#: The environment variable naming the default database (autotune.db.ENV_VAR; not
#: imported from there, which would import SQLAlchemy for bundle lookups too).
ENV_VAR = "AUTOTUNE_DB"
_sources: dict[_SourceId, BaseConfigSource] = {}
_sources_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class Found:
    """What a lookup found: a hit or ``None``, the key (``None`` when it could not be
    computed), and whether reading failed (which was warned about already)."""

    hit: CacheHit | None
    key: KernelKey | None
    failed: bool = False


def find_config(
    pyfunc: Callable[..., Any], args: tuple[Any, ...], db: str | None, bundle: str | None
) -> Found:
    """The tuned config of ``pyfunc`` for a call with ``args``; never raises."""
    from autotune.cache import kernel_key, lookup

    try:
        key = kernel_key(pyfunc, args)
    except Exception as exc:
        warn_once(f"key:{id(pyfunc)}", f"autotune: {pyfunc.__name__}: no cache key: {exc}")
        return Found(None, None, failed=True)
    source = _source(db, bundle)
    if source is None:
        return Found(None, key, failed=True)
    try:
        hit = lookup(source, key)
    except Exception as exc:
        warn_once(f"lookup:{db}:{bundle}", f"autotune: cannot read tuned configs: {exc}")
        return Found(None, key, failed=True)
    for problem in source.problems:
        warn_once(f"problem:{problem}", f"autotune: {problem}; using Numba's default builds")
    return Found(hit, key, failed=hit is None and bool(source.problems))


def _source(db: str | None, bundle: str | None) -> BaseConfigSource | None:
    from autotune.cache import open_source

    ident = _source_id(db, bundle)
    with _sources_lock:
        source = _sources.get(ident)
        if source is None:
            try:
                source = _sources[ident] = open_source(db=db, bundle=bundle)
            except Exception as exc:
                warn_once(f"open:{ident}", f"autotune: cannot open tuned configs: {exc}")
                return None
    return source


def forget_source(db: str | None, bundle: str | None) -> None:
    """Close the source of ``db``/``bundle`` so that the next lookup opens it again
    (a database that did not exist holds no entries until reopened)."""
    with _sources_lock:
        source = _sources.pop(_source_id(db, bundle), None)
    if source is not None:
        source.close()


def _source_id(db: str | None, bundle: str | None) -> _SourceId:
    if bundle is not None:
        return (db, str(Path(bundle).resolve()))
    # The default database is whatever $AUTOTUNE_DB names at the time of the lookup.
    return (db or "default:" + os.environ.get(ENV_VAR, ""), None)


def reset() -> None:
    """Close every source opened so far and forget which warnings were given (tests;
    a bundle rewritten in place)."""
    with _sources_lock:
        for source in _sources.values():
            source.close()
        _sources.clear()
    forget_warnings()
