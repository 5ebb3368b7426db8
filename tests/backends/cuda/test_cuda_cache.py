"""The cubin cache on disk: keys, hits and misses, corrupted entries, default place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autotune.backends._cuda import (
    BinaryCache,
    CompileOutput,
    Resources,
    _cache,
    cache_key,
    default_cache_dir,
)


def output(cubin: bytes | None = b"\x7fELF-cubin", error: str = "") -> CompileOutput:
    return CompileOutput(
        cubin=cubin,
        lowered_name="_Z4tileILi8ELi16EEvPf",
        log="ptxas info    : Used 10 registers",
        error=error,
        compile_s=0.25,
        resources=Resources(registers=10, spill_store_bytes=4, shared_static_bytes=512),
        arch="sm_90",
        nvrtc_version="13.5",
    )


KEY_ARGS = ("source", "tile", ["-std=c++17", "-DA=1"], "sm_90", "tile<8, 16>", "13.5")


def test_key_depends_on_every_input():
    base = cache_key(*KEY_ARGS)
    assert base == cache_key(*KEY_ARGS) and len(base) == 64
    variants = [
        ("source2", *KEY_ARGS[1:]),
        (KEY_ARGS[0], "tile2", *KEY_ARGS[2:]),
        (*KEY_ARGS[:2], ["-DA=1", "-std=c++17"], *KEY_ARGS[3:]),  # order matters to NVRTC
        (*KEY_ARGS[:3], "sm_80", *KEY_ARGS[4:]),
        (*KEY_ARGS[:4], None, KEY_ARGS[5]),
        (*KEY_ARGS[:5], "12.9"),
    ]
    keys = {cache_key(*variant) for variant in variants}
    assert base not in keys and len(keys) == len(variants)


def test_miss_then_hit(tmp_path):
    cache = BinaryCache(tmp_path)
    key = cache_key(*KEY_ARGS)
    assert cache.get(key) is None
    assert cache.put(key, output())
    hit = cache.get(key)
    assert hit is not None and hit.from_cache
    assert hit == CompileOutput(**{**_fields(output()), "from_cache": True})
    assert (cache.hits, cache.misses) == (1, 1)
    # No temporary file is left behind by the atomic writes.
    assert sorted(p.suffix for p in tmp_path.rglob("*") if p.is_file()) == [".cubin", ".json"]


def _fields(out: CompileOutput) -> dict:
    return {name: getattr(out, name) for name in CompileOutput.__dataclass_fields__}


def test_failures_are_not_stored(tmp_path):
    cache = BinaryCache(tmp_path)
    assert not cache.put("k" * 64, output(cubin=None, error="NVRTC_ERROR_COMPILATION: x"))
    assert cache.get("k" * 64) is None


def entry_files(cache: BinaryCache, key: str) -> tuple[Path, Path]:
    return cache._paths(key)


@pytest.mark.parametrize(
    "damage",
    [
        lambda cubin, meta: cubin.write_bytes(b"\x7fELF-other"),
        lambda cubin, meta: cubin.unlink(),
        lambda cubin, meta: meta.write_text(meta.read_text()[:20]),
        lambda cubin, meta: meta.write_text("[]"),
        lambda cubin, meta: meta.write_text(
            json.dumps({**json.loads(meta.read_text()), "key": "another"})
        ),
        lambda cubin, meta: meta.write_text(
            json.dumps({**json.loads(meta.read_text()), "output": {"arch": "sm_90"}})
        ),
    ],
    ids=["other-cubin", "no-cubin", "torn-json", "not-a-dict", "other-key", "missing-fields"],
)
def test_corrupted_entry_is_a_miss_and_is_rewritten(tmp_path, damage):
    cache = BinaryCache(tmp_path)
    key = cache_key(*KEY_ARGS)
    cache.put(key, output())
    damage(*entry_files(cache, key))
    assert cache.get(key) is None
    assert cache.put(key, output())
    assert cache.get(key) is not None


def test_unwritable_directory_is_not_an_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    cache = BinaryCache(blocker / "cache")
    assert not cache.put(cache_key(*KEY_ARGS), output())
    assert cache.get(cache_key(*KEY_ARGS)) is None


def test_default_directory(monkeypatch, tmp_path):
    monkeypatch.delenv(_cache.CUBIN_CACHE_ENV, raising=False)
    monkeypatch.delenv(_cache.CACHE_DIR_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "autotune" / "cubin"
    monkeypatch.setenv(_cache.CACHE_DIR_ENV, str(tmp_path / "root"))
    assert default_cache_dir() == tmp_path / "root" / "cubin"
    monkeypatch.setenv(_cache.CUBIN_CACHE_ENV, str(tmp_path / "cubins"))
    assert default_cache_dir() == tmp_path / "cubins"
    assert BinaryCache().directory == tmp_path / "cubins"
