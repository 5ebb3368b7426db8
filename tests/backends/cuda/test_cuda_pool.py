"""The compile pool: order, equality with serial compiles, cache hits that never reach a
worker, and a worker that dies becoming an error value."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from _cuda_sources import BROKEN, SCALE, TILE_TEMPLATE

from autotune.backends._cuda import (
    BinaryCache,
    CompileJob,
    CompileOutput,
    CompilePool,
    compile_job,
    nvrtc_unavailable,
)

needs_nvrtc = pytest.mark.skipif(
    nvrtc_unavailable() is not None, reason=f"NVRTC is not usable here: {nvrtc_unavailable()}"
)


# Worker entry points for the tests. The spawned workers import this module by name,
# so these must be module-level functions.
def fake_compile(job: CompileJob) -> CompileOutput:
    """A compile that needs no NVRTC: the "cubin" names the job; entry "die" kills the
    worker process the way a crash inside the compiler would."""
    if job.entry == "die":
        os._exit(3)
    return CompileOutput(
        f"cubin:{job.entry}:{','.join(job.options)}".encode(),
        job.entry,
        "",
        "",
        0.0,
        None,
        job.arch,
        "fake",
    )


def must_not_run(job: CompileJob) -> CompileOutput:
    os._exit(4)


def jobs() -> list[CompileJob]:
    scales = [CompileJob(SCALE, "scale", ["-std=c++17", f"-DSCALE_BY={n}.0f"]) for n in range(1, 5)]
    return [
        *scales[:2],
        CompileJob(BROKEN, "broken"),
        CompileJob(TILE_TEMPLATE, "tile", ["-std=c++17"], name_expression="tile<8, 16>"),
        *scales[2:],
    ]


@pytest.fixture(scope="module")
def pool_of_two() -> Iterator[CompilePool]:
    with CompilePool(2) as pool:
        yield pool


@needs_nvrtc
def test_pool_returns_serial_results_in_order(pool_of_two):
    work = jobs()
    pooled = pool_of_two.compile_many(work)
    serial = [compile_job(job) for job in work]
    assert [out.lowered_name for out in pooled] == [out.lowered_name for out in serial]
    assert [out.cubin for out in pooled] == [out.cubin for out in serial]
    assert [out.resources for out in pooled] == [out.resources for out in serial]
    assert [bool(out.error) for out in pooled] == [False, False, True, False, False, False]
    assert "undefined_value" in pooled[2].error


@needs_nvrtc
def test_cache_hits_never_reach_a_worker(tmp_path, pool_of_two):
    work = [job for job in jobs() if job.entry != "broken"]
    first = CompilePool(2, BinaryCache(tmp_path))
    first.compile_many(work)
    first.close()
    with CompilePool(2, BinaryCache(tmp_path), compile_fn=must_not_run) as cached:
        again = cached.compile_many(work)
        assert cached.cache is not None and cached.cache.hits == len(work)
    assert all(out.ok and out.from_cache for out in again)
    assert [out.cubin for out in again] == [out.cubin for out in pool_of_two.compile_many(work)]


def test_a_dead_worker_becomes_an_error_value_for_its_job_only():
    work = [CompileJob("", name, ["-DX=1"]) for name in ("a", "b", "die", "c", "d", "e")]
    with CompilePool(2, compile_fn=fake_compile) as pool:
        outputs = pool.compile_many(work)
        assert [bool(out.error) for out in outputs] == [False, False, True, False, False, False]
        assert "died" in outputs[2].error and outputs[2].cubin is None
        assert [out.cubin for i, out in enumerate(outputs) if i != 2] == [
            f"cubin:{name}:-DX=1".encode() for name in ("a", "b", "c", "d", "e")
        ]
        # The pool recovers: later jobs compile on fresh workers.
        assert pool.submit(CompileJob("", "f")).result(timeout=60).cubin == b"cubin:f:"


def test_inline_pool_compiles_in_this_process():
    with CompilePool(0, compile_fn=fake_compile) as pool:
        future = pool.submit(CompileJob("", "a", ["-DX=2"]))
        assert future.done() and future.result().cubin == b"cubin:a:-DX=2"


def test_closed_pool_answers_with_an_error_value():
    pool = CompilePool(2, compile_fn=fake_compile)
    pool.close()
    out = pool.submit(CompileJob("", "a")).result(timeout=5)
    assert out.cubin is None and "closed" in out.error


def test_job_is_frozen_and_hashable():
    job = CompileJob("src", "k", ["-DA=1"])
    assert job.options == ("-DA=1",) and hash(job) == hash(CompileJob("src", "k", ("-DA=1",)))
    with pytest.raises(AttributeError):
        job.entry = "other"  # type: ignore[misc]
