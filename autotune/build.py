"""The build step: make sure every kernel of a package has a tuned config, tuning only
what is missing (``python -m autotune build``).

A kernel is *cached* when the config source holds an entry for its cheap key at its
own size bucket, tuned on a machine that matches this one (see
:class:`~autotune.cache.MatchLevel`), over the search space this release would search.
Anything else is a *miss*, with the reason: no entry, only another size's, only another
machine's, or an entry tuned over another search space (a config was added or removed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from autotune.cache import BaseConfigSource, CacheEntry, CacheHit, MatchLevel, kernel_key, lookup
from autotune.kernels import KernelDecl, load_kernels
from autotune.kernels._corpus import KernelJob, find_kernels


@dataclass(frozen=True, slots=True)
class BuildItem:
    """One kernel of a build at one size: cached, or missing and why.

    ``hit`` is the entry found (``None`` on a plain miss); ``reason`` is empty exactly
    when the kernel is cached.
    """

    label: str
    source: str
    spec: str | None
    kernel: str
    size: str
    digest: str
    hit: CacheHit | None
    reason: str

    @property
    def cached(self) -> bool:
        return not self.reason

    def describe(self) -> str:
        if self.cached:
            assert self.hit is not None
            return f"{self.label} [{self.size}]: cached ({self.hit.level.label})"
        return f"{self.label} [{self.size}]: {self.reason}"


def find_jobs(sources: Sequence[Path]) -> list[KernelJob]:
    """The kernels of ``sources`` (files, spec files, directories), as a sweep finds
    them. Raises InputError for a path that does not exist or declares nothing."""
    corpus = find_kernels(list(sources))
    if corpus.unloadable:
        from autotune.errors import InputError

        first = corpus.unloadable[0]
        raise InputError(f"{first.path}: {first.reason}")
    return list(corpus.jobs)


def check(
    jobs: Sequence[KernelJob], source: BaseConfigSource, size: str | None = None
) -> list[BuildItem]:
    """What ``source`` holds for each kernel of ``jobs`` at ``size`` (each kernel's
    default size when ``None``). Nothing is compiled or written."""
    items = []
    for (src, spec), group in _by_file(jobs).items():
        decls = {d.name: d for d in load_kernels(Path(src), Path(spec) if spec else None)}
        for job in group:
            decl = decls[job.name]
            items.append(check_kernel(decl, job, source, size or decl.default_size))
    return items


def check_kernel(
    decl: KernelDecl, job: KernelJob, source: BaseConfigSource, size: str
) -> BuildItem:
    """:func:`check` for one declared kernel."""
    args = decl.make_inputs(0, size)
    key = kernel_key(decl.pyfunc, args)
    hit = lookup(source, key)
    reason = _miss_reason(decl, hit)
    return BuildItem(job.label, job.source, job.spec, decl.name, size, key.digest, hit, reason)


def _miss_reason(decl: KernelDecl, hit: CacheHit | None) -> str:
    if hit is None:
        return "not tuned (no entry for this kernel, toolchain and machine)"
    if hit.nearest:
        return "not tuned at this size (only another size bucket's entry)"
    from autotune.cache import baseline_mismatch

    mismatch = baseline_mismatch(hit.entry, decl.njit_options)
    if mismatch is not None:
        return f"out of date: {mismatch}"
    options = hit.entry.extra.get("space_options")
    digest = hit.entry.space_digest
    if isinstance(options, dict) and digest and space_digest_for(decl, options) != digest:
        return "out of date: the search space changed since it was tuned"
    return ""


def space_digest_for(decl: KernelDecl, options: dict[str, Any]) -> str:
    """The digest of the space that tuning ``decl`` with ``options`` (the entry's
    ``space_options``: fastmath, scope, loops, max_threads, baseline) would search
    now. An entry older than the baseline option was tuned against Numba's default."""
    from autotune.kernels import BASELINES, NUMBA_DEFAULT
    from autotune.passes import cpu_search_space
    from autotune.result import space_digest

    kind = options.get("baseline", NUMBA_DEFAULT)
    space = cpu_search_space(
        decl.as_baseline(kind if kind in BASELINES else NUMBA_DEFAULT),
        allow_fastmath=bool(options.get("allow_fastmath", True)),
        scope=str(options.get("scope", "all")),
        loops=str(options.get("loops", "off")),
        max_threads=options.get("max_threads"),
    )
    return space_digest(space)


_Located = TypeVar("_Located", KernelJob, "BuildItem")


def _by_file(things: Sequence[_Located]) -> dict[tuple[str, str | None], list[_Located]]:
    """``things`` (jobs or build items) grouped by the files that declare them."""
    groups: dict[tuple[str, str | None], list[_Located]] = {}
    for thing in things:
        groups.setdefault((thing.source, thing.spec), []).append(thing)
    return groups


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What a build found (``before``), and what tuning the misses gave (``after``:
    the same kernels checked again; empty with ``check_only``)."""

    before: list[BuildItem]
    after: list[BuildItem]
    tuned: list[str]

    @property
    def misses(self) -> list[BuildItem]:
        final = self.after or self.before
        return [item for item in final if not item.cached]

    @property
    def exit_code(self) -> int:
        return 1 if self.misses else 0


def build(
    sources: Sequence[Path],
    *,
    db: str | None = None,
    bundle: Path | None = None,
    budget: int = 60,
    size: str | None = None,
    loops: str = "off",
    check_only: bool = False,
) -> BuildReport:
    """Check that every kernel of ``sources`` has a tuned config, and tune the misses.

    Configs are read from the bundle file ``bundle`` when given, else from the
    database ``db`` (default: the per-user one). Misses are tuned with ``budget``
    (trials are recorded in ``db``); with a bundle, their new entries are then merged
    into it (written atomically), also when tuning stops early (Ctrl-C, an error).
    With ``check_only`` nothing is tuned or written.

    Raises InputError for sources that do not load, and BundleError / DatabaseError
    for a source of configs that cannot be read (a build must not pass by accident).
    """
    from autotune.cache import open_source

    jobs = find_jobs(sources)
    with open_source(db=db, bundle=bundle, strict=True, missing_ok=True) as source:
        before = check(jobs, source, size)
    misses = [item for item in before if not item.cached]
    if check_only or not misses:
        return BuildReport(before, [], [])
    try:
        tuned = _tune_misses(misses, db, budget, size, loops)
    finally:
        if bundle is not None:  # also what was tuned before an interruption or error
            _export_to_bundle(db, bundle, misses)
    with open_source(db=db, bundle=bundle, strict=True, missing_ok=True) as source:
        after = check(jobs, source, size)
    return BuildReport(before, after, tuned)


def _tune_misses(
    misses: Sequence[BuildItem], db_url: str | None, budget: int, size: str | None, loops: str
) -> list[str]:
    from autotune.api import select_kernels, tune_kernels
    from autotune.db import open_database
    from autotune.tuner import TuneOptions

    tuned: list[str] = []
    db = open_database(db_url)
    try:
        for (src, spec), items in _by_file(misses).items():
            names = sorted({item.kernel for item in items})
            decls = select_kernels(Path(src), Path(spec) if spec else None, names)
            for item_size in sorted({item.size for item in items}):
                options = TuneOptions(budget=budget, size=size or item_size, loops=loops)
                wanted = [
                    d
                    for d in decls
                    if any(i.kernel == d.name and i.size == item_size for i in items)
                ]
                run = tune_kernels(wanted, options, db, Path(spec) if spec else None)
                tuned.extend(r.kernel for r in run.results if r.tuned)
    finally:
        db.close()
    return tuned


def _export_to_bundle(db_url: str | None, bundle: Path, misses: Sequence[BuildItem]) -> None:
    from autotune.cache import open_source, write_bundle

    digests = {item.digest for item in misses}
    with open_source(db=db_url, strict=True) as source:
        entries = [e for e in source.all_entries() if e.digest in digests]
    write_bundle(bundle, entries)


@dataclass(frozen=True, slots=True)
class StaleEntry:
    """A config-cache entry that no longer describes its kernel, and why."""

    entry: CacheEntry
    reason: str

    def describe(self) -> str:
        where = self.entry.source or "?"
        return f"{self.entry.kernel} [{self.entry.size or '?'}] ({where}): {self.reason}"


def stale_entries(source: BaseConfigSource) -> list[StaleEntry]:
    """The entries of ``source`` that would never be used again on this machine's
    toolchain, or that ``build --check`` would call out of date: their kernel's
    source is gone or no longer declares it, the kernel or a callee was edited, the
    toolchain changed, or the search space did. Entries of other machines are
    judged too (their own targets do not matter here). Loads each kernel once;
    compiles nothing."""
    stale = []
    decls: dict[tuple[str, str | None], dict[str, KernelDecl] | str] = {}
    for entry in source.all_entries():
        reason = _stale_reason(entry, decls)
        if reason:
            stale.append(StaleEntry(entry, reason))
    return stale


def _stale_reason(
    entry: CacheEntry, decls: dict[tuple[str, str | None], dict[str, KernelDecl] | str]
) -> str:
    from autotune.errors import AutotuneError

    if not entry.source:
        return "it names no source file"
    where = (entry.source, entry.spec)
    if where not in decls:
        try:
            loaded = load_kernels(Path(entry.source), Path(entry.spec) if entry.spec else None)
            decls[where] = {d.name: d for d in loaded}
        except AutotuneError as exc:
            decls[where] = str(exc)
    found = decls[where]
    if isinstance(found, str):
        return f"its source no longer loads: {found}"
    decl = found.get(entry.kernel)
    if decl is None:
        return f"{entry.source} no longer declares kernel {entry.kernel!r}"
    try:
        key = kernel_key(decl.pyfunc, decl.make_inputs(0, entry.size or decl.default_size))
    except AutotuneError as exc:
        return f"its inputs no longer load: {exc}"
    if key.program != entry.program:
        return "the kernel or a function it calls changed since it was tuned"
    if key.digest != entry.digest:
        return "the toolchain or the argument types changed since it was tuned"
    return _miss_reason(decl, CacheHit(entry, MatchLevel.EXACT, nearest=False))
