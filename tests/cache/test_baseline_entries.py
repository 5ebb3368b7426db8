"""Config-cache entries record the ``@njit`` options their config was tuned against;
a build whose kernel now has other options calls the entry out of date."""

from __future__ import annotations

from typing import Any

from autotune.build import check_kernel, space_digest_for
from autotune.cache import (
    CacheEntry,
    baseline_mismatch,
    entry_for_result,
    kernel_key,
    make_entry,
    tuned_options,
)
from autotune.kernels import KernelDecl, load_kernels
from autotune.kernels._corpus import KernelJob
from autotune.program import host_target
from autotune.result import ResultStatus, TuningResult, baseline_record
from tests._helpers import FIXTURES

SPACE_OPTIONS = {"allow_fastmath": True, "scope": "all", "loops": "off", "max_threads": None}


def _dot() -> KernelDecl:
    return next(d for d in load_kernels(FIXTURES / "author_options.py") if d.name == "dot_fastmath")


def _entry(decl: KernelDecl, kind: str, options: dict[str, Any]) -> CacheEntry:
    space_options = {**SPACE_OPTIONS, "baseline": kind}
    return make_entry(
        kernel_key(decl.pyfunc, decl.make_inputs(0)),
        host_target(),
        {},
        space_digest=space_digest_for(decl, space_options),
        extra={"space_options": space_options, "baseline": baseline_record(kind, options)},
    )


def _job(decl: KernelDecl) -> KernelJob:
    return KernelJob(decl.source, None, decl.name, ("default",), digest="", label=decl.name)


def test_a_results_entry_records_its_baseline() -> None:
    decl = _dot()
    result = TuningResult(
        decl.name,
        ResultStatus.TUNED,
        options={**SPACE_OPTIONS, "baseline": "as-written", "budget": 3},
        baseline=baseline_record("as-written", decl.njit_options),
    )
    entry = entry_for_result(decl, decl.make_inputs(0), result, host_target())
    assert entry.extra["baseline"] == {"kind": "as-written", "options": {"fastmath": True}}
    assert entry.extra["space_options"]["baseline"] == "as-written"
    assert tuned_options(entry) == {"fastmath": True}
    assert baseline_mismatch(entry, {"fastmath": True, "cache": True}) is None
    assert baseline_mismatch(entry, {}) == (
        "tuned against njit(fastmath=True), but the kernel is now built on njit"
    )


def test_an_entry_without_a_record_is_taken_as_it_is() -> None:
    entry = make_entry(kernel_key(_dot().pyfunc, _dot().make_inputs(0)), host_target(), {})
    assert tuned_options(entry) is None and baseline_mismatch(entry, {"fastmath": True}) is None


def test_build_check_wants_the_kernel_tuned_as_written() -> None:
    decl = _dot()
    source: Any
    fresh = _entry(decl, "as-written", decl.njit_options)
    source = _Source([fresh])
    assert check_kernel(decl, _job(decl), source, "default").cached
    source = _Source([_entry(decl, "numba-default", {})])
    item = check_kernel(decl, _job(decl), source, "default")
    assert item.reason == (
        "out of date: tuned against njit, but the kernel is now built on njit(fastmath=True)"
    )


def test_the_space_digest_depends_on_the_baseline_only_where_options_exist() -> None:
    decl = _dot()
    written = space_digest_for(decl, {**SPACE_OPTIONS, "baseline": "as-written"})
    plain = space_digest_for(decl, {**SPACE_OPTIONS, "baseline": "numba-default"})
    assert written != plain
    assert space_digest_for(decl, SPACE_OPTIONS) == plain  # entries from before the record
    (scale,) = [d for d in load_kernels(FIXTURES / "planted.py") if d.name == "scale"]
    assert space_digest_for(scale, {**SPACE_OPTIONS, "baseline": "as-written"}) == (
        space_digest_for(scale, {**SPACE_OPTIONS, "baseline": "numba-default"})
    )


class _Source:
    """A config source holding ``entries`` (all for this host)."""

    def __init__(self, entries: list[CacheEntry]) -> None:
        self._entries = entries
        self.problems: list[str] = []

    def entries(self, digest: str) -> list[CacheEntry]:
        return [e for e in self._entries if e.digest == digest]
