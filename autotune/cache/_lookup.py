"""Looking a kernel up in a config source, and remembering what a tuning run chose."""

from __future__ import annotations

import time
from typing import Any

from autotune.cache._base import BaseConfigSource
from autotune.cache._entry import CacheEntry, CacheHit, MatchLevel, match_level, target_facts
from autotune.cache._key import KernelKey, bucket_distance
from autotune.db import BaseDatabase
from autotune.program import Target
from autotune.records import TunedRow


def lookup(
    source: BaseConfigSource, key: KernelKey, target: Target | None = None
) -> CacheHit | None:
    """The best entry for ``key`` on ``target`` (default: this host), or ``None``.

    Entries match on :class:`MatchLevel`; ``NONE`` never matches. The closest level
    wins; within it, the key's own bucket, else the nearest bucket (``nearest`` set),
    then the newest entry.
    """
    if target is None:
        from autotune.program import host_target

        target = host_target()
    best: tuple[tuple[float, ...], CacheHit] | None = None
    for entry in source.entries(key.digest):
        level = match_level(entry.target, target)
        if level is MatchLevel.NONE:
            continue
        distance = bucket_distance(entry.bucket, key.bucket)
        if distance == float("inf"):
            continue
        rank = (float(level), distance, -entry.created_at)
        if best is None or rank < best[0]:
            best = (rank, CacheHit(entry, level, nearest=distance > 0))
    return None if best is None else best[1]


def make_entry(key: KernelKey, target: Target, config: dict[str, Any], **fields: Any) -> CacheEntry:
    """The entry recording that ``config`` is the tuned choice for ``key`` on
    ``target``. ``fields`` fill the rest of :class:`CacheEntry` (``ir_hash``,
    ``code_hash``, ``speedup``, ...)."""
    fields.setdefault("created_at", time.time())
    return CacheEntry(
        digest=key.digest,
        bucket=key.bucket,
        kernel=key.kernel,
        config=dict(config),
        target=target_facts(target),
        program=key.program,
        arg_types=key.arg_types,
        **fields,
    )


def remember(db: BaseDatabase, entry: CacheEntry) -> None:
    """Store ``entry`` in ``db``'s config cache, replacing the one for the same
    kernel key, bucket and target."""
    row = TunedRow(
        digest=entry.digest,
        bucket=entry.bucket_text,
        target_key=entry.target_key,
        kernel=entry.kernel,
        entry=entry.to_json(),
        created_at=entry.created_at,
    )
    db.save_tuned(row)
