"""Entries, target match levels, lookup, and the database and bundle sources."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autotune.cache import (
    BundleError,
    BundleSource,
    CacheEntry,
    DatabaseSource,
    KernelKey,
    MatchLevel,
    isa_level,
    lookup,
    make_entry,
    match_level,
    open_source,
    read_bundle,
    remember,
    write_bundle,
)
from autotune.db import SQLDatabase
from autotune.program import Target

V3 = "+sse2,+cx16,+sahf,+popcnt,+sse3,+sse4.1,+sse4.2,+ssse3,+avx,+avx2,+bmi,+bmi2,+f16c,+fma,+lzcnt,+movbe,+xsave"
V4 = V3 + ",+avx512f,+avx512bw,+avx512cd,+avx512dq,+avx512vl"
HOST = Target("znver4", V4, "0.68.1", "0.50.0")
KEY = KernelKey("dot", "prog", "(array(float64, 1d, C),)", (10,), "tc")


def _entry(target: Target = HOST, bucket: tuple[int, ...] = (10,), **fields: object) -> CacheEntry:
    key = KernelKey(KEY.kernel, KEY.program, KEY.arg_types, bucket, KEY.toolchain)
    return make_entry(key, target, {"fastmath": True}, **fields)  # type: ignore[arg-type]


class _Source(BundleSource):
    def __init__(self, entries: list[CacheEntry]) -> None:
        self._entries = entries
        self._by_digest = {}
        for e in entries:
            self._by_digest.setdefault(e.digest, []).append(e)
        self.path = Path("<memory>")


def test_isa_levels_from_llvm_features() -> None:
    assert isa_level("+sse2", "x86_64") == "x86-64-v1"
    assert isa_level(V3, "x86_64") == "x86-64-v3"
    assert isa_level(V4, "x86_64") == "x86-64-v4"
    assert isa_level(V4.replace("+avx512vl", "-avx512vl"), "x86_64") == "x86-64-v3"
    assert isa_level("+neon", "aarch64") == "aarch64"


def test_match_levels(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("platform.machine", lambda: "x86_64")
    recorded = _entry().target
    assert match_level(recorded, HOST) is MatchLevel.EXACT
    assert match_level(recorded, Target("znver4", V4 + ",-foo", "x", "y")) is MatchLevel.CPU_NAME
    assert match_level(recorded, Target("sapphirerapids", V4, "x", "y")) is MatchLevel.ISA
    assert match_level(recorded, Target("haswell", V3, "x", "y")) is MatchLevel.NONE
    assert MatchLevel.ISA.needs_verification and not MatchLevel.EXACT.needs_verification


def test_lookup_prefers_the_closest_target_then_the_own_bucket() -> None:
    other_cpu = Target("sapphirerapids", V4, "0.68.1", "0.50.0")
    exact_far = _entry(bucket=(14,), created_at=1.0)
    isa_near = _entry(other_cpu, bucket=(10,), created_at=2.0)
    hit = lookup(_Source([isa_near, exact_far]), KEY, HOST)
    assert hit is not None and hit.entry is exact_far
    assert hit.level is MatchLevel.EXACT and hit.nearest
    own = _entry(bucket=(10,), created_at=0.5)
    hit = lookup(_Source([isa_near, exact_far, own]), KEY, HOST)
    assert hit is not None and hit.entry is own and not hit.nearest
    assert "dot" in hit.describe()


def test_lookup_misses_another_cpu_family_and_other_ranks() -> None:
    haswell = Target("haswell", V3, "0.68.1", "0.50.0")
    assert lookup(_Source([_entry(haswell)]), KEY, HOST) is None
    assert lookup(_Source([_entry(bucket=(10, 3))]), KEY, HOST) is None
    assert lookup(_Source([]), KEY, HOST) is None


def test_entries_round_trip_through_json_keeping_unknown_fields() -> None:
    entry = _entry(code_hash="abc", speedup=1.7, speedup_ci95=(1.5, 1.9))
    data = entry.to_json()
    data["from_the_future"] = 3
    again = CacheEntry.from_json(json.loads(json.dumps(data)))
    assert again.to_json() == data
    assert again.extra == {"from_the_future": 3}


def test_database_stores_one_entry_per_key_bucket_and_target(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 't.db'}"
    db = SQLDatabase(url)
    remember(db, _entry(speedup=1.2, created_at=1.0))
    remember(db, _entry(speedup=1.5, created_at=2.0))  # a later run replaces it
    remember(db, _entry(bucket=(12,), created_at=3.0))
    db.close()
    with open_source(url, strict=True) as source:
        entries = source.entries(KEY.digest)
        assert sorted((e.bucket, e.speedup) for e in entries) == [((10,), 1.5), ((12,), 1.0)]
        hit = lookup(source, KEY, HOST)
        assert hit is not None and hit.entry.speedup == 1.5 and not hit.nearest


def test_a_missing_database_is_an_empty_source_and_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "none.db"
    source = DatabaseSource(f"sqlite:///{path}")
    assert source.all_entries() == [] and not path.exists()


def test_a_database_that_is_not_one_gives_a_problem_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    source = DatabaseSource(f"sqlite:///{path}")
    assert source.entries(KEY.digest) == [] and source.problems


def test_bundle_round_trip_keeps_other_targets(tmp_path: Path) -> None:
    path = tmp_path / "tuned.json"
    haswell = Target("haswell", V3, "0.68.1", "0.50.0")
    assert write_bundle(path, [_entry(haswell)]) == 1
    assert write_bundle(path, [_entry()]) == 2  # merged: the other target's entry stays
    text = path.read_text()
    assert '"format": "autotune-tuned-configs"' in text and "\n" in text
    entries = read_bundle(path)
    assert {e.target["cpu_name"] for e in entries} == {"haswell", "znver4"}
    hit = lookup(BundleSource(path), KEY, HOST)
    assert hit is not None and hit.entry.target["cpu_name"] == "znver4"
    assert not list(tmp_path.glob(".tuned.json.*"))  # no temporary left behind
    assert path.stat().st_mode & 0o044 == 0o044  # readable by others, as umask 022 gives


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("{not json", "not JSON"),
        ('{"format": "something-else", "version": 1, "entries": []}', "not an autotune bundle"),
        ('{"format": "autotune-tuned-configs", "version": 99, "entries": []}', "newer"),
        ('{"format": "autotune-tuned-configs", "version": 1, "entries": [{"x": 1}]}', "entry 0"),
        ('{"format": "autotune-tuned-configs", "version": 1, "entries": 5}', "not a list"),
    ],
)
def test_bad_bundles_are_one_line_problems(tmp_path: Path, content: str, says: str) -> None:
    path = tmp_path / "tuned.json"
    path.write_text(content)
    source = BundleSource(path)
    assert source.all_entries() == [] and len(source.problems) == 1
    assert says in source.problems[0] and "\n" not in source.problems[0]
    with pytest.raises(BundleError, match=says):
        BundleSource(path, strict=True)


def test_merging_into_a_corrupt_bundle_refuses_and_keeps_the_file(tmp_path: Path) -> None:
    path = tmp_path / "tuned.json"
    path.write_text("{corrupt")
    with pytest.raises(BundleError):
        write_bundle(path, [_entry()])
    assert path.read_text() == "{corrupt"
