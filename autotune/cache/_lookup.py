"""Looking a kernel up in a config source, and remembering what a tuning run chose."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from autotune.cache._base import BaseConfigSource
from autotune.cache._entry import CacheEntry, CacheHit, MatchLevel, match_level, target_facts
from autotune.cache._key import KernelKey, bucket_distance, kernel_key
from autotune.program import Target
from autotune.records import TunedRow

if TYPE_CHECKING:
    from autotune.db import BaseDatabase
    from autotune.kernels import KernelDecl
    from autotune.result import TuningResult


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


def entry_for_result(
    decl: KernelDecl, args: tuple[Any, ...], result: TuningResult, target: Target
) -> CacheEntry:
    """The entry recording a ``tuned`` result of ``decl`` whose problem instance was
    ``args``: its best config (``{}`` when Numba's default build won)."""
    options = result.options or {}
    space_options = {k: options.get(k) for k in _SPACE_OPTIONS if k in options}
    return make_entry(
        kernel_key(decl.pyfunc, args),
        target,
        dict(result.best_config or {}),
        ir_hash=result.ir_hash or "",
        code_hash=result.best_code_hash,
        inputs=result.inputs or "",
        speedup=result.speedup,
        speedup_ci95=tuple(result.speedup_ci95),
        space_digest=result.space_digest or "",
        source=result.source or decl.source,
        spec=result.spec,
        size=result.size,
        extra={
            "space_options": space_options,
            "run_id": result.run_id or "",
            "changes": dict(result.best_changes),  # what differs from the default config
            # What the config was tuned against: its flags override these options.
            "baseline": dict(result.baseline),
        },
    )


#: The run options that decide the search space (see :func:`cpu_search_space`).
_SPACE_OPTIONS = ("allow_fastmath", "scope", "loops", "max_threads", "baseline")


def tuned_options(entry: CacheEntry) -> dict[str, Any] | None:
    """The ``numba.njit`` options (JSON form) ``entry``'s config was tuned against, or
    ``None`` for an entry that does not record them (tuned before they were)."""
    baseline = entry.extra.get("baseline")
    if not isinstance(baseline, dict) or not isinstance(baseline.get("options"), dict):
        return None
    return dict(baseline["options"])


def baseline_mismatch(entry: CacheEntry, njit_options: Mapping[str, Any]) -> str | None:
    """Why ``entry``'s config does not fit a build on ``njit_options`` (the author's
    options now), or ``None``: it was tuned against other options, so its speedup
    and its code are not what that build would give."""
    from autotune.kernels._options import (
        applied_njit_options,
        describe_njit_options,
        njit_options_from_json,
        njit_options_json,
    )

    recorded = tuned_options(entry)
    current = njit_options_json(applied_njit_options(njit_options))
    if recorded is None or recorded == current:
        return None
    then = describe_njit_options(njit_options_from_json(recorded))
    now = describe_njit_options(njit_options_from_json(current))
    return f"tuned against {then}, but the kernel is now built on {now}"
