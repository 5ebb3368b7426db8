"""Whole tuning runs against the two baselines: the kernel as written (its own
``@njit`` options) and Numba's default build (``numba-default``)."""

from __future__ import annotations

from typing import Any

import pytest

from autotune.backends._numba import NumbaBuilder
from autotune.db import BaseDatabase, open_database
from autotune.kernels import NUMBA_DEFAULT, KernelDecl, load_kernels
from autotune.measure import LocalRunner
from autotune.passes import cpu_search_space
from autotune.program import host_target
from autotune.result import TuningResult
from autotune.tuner import TuneOptions, Tuner
from tests._helpers import FAST_TIMING, FIXTURES

pytestmark = pytest.mark.slow


def _fixture(name: str) -> KernelDecl:
    return next(d for d in load_kernels(FIXTURES / "author_options.py") if d.name == name)


def _tune(db: BaseDatabase, decl: KernelDecl, **kw: Any) -> TuningResult:
    kw.setdefault("confirm_top", 1)
    kw.setdefault("budget", 2)
    options = TuneOptions(timing=FAST_TIMING, candidate_timeout_s=60, seed=0, **kw)
    with LocalRunner() as runner:
        return Tuner(runner, db, host_target(), options).tune(decl)


def _baseline_hash(db: BaseDatabase, result: TuningResult) -> str | None:
    assert result.workload_key is not None
    trials = db.trials(result.workload_key, host_target().key, phase=None)
    [baseline] = [t for t in trials if t.phase == "baseline"]
    return baseline.result.code_hash


def test_fastmath_kernel_is_timed_against_its_fastmath_build(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = open_database(f"sqlite:///{tmp_path / 't.db'}")
    decl = _fixture("dot_fastmath")
    result = _tune(db, decl)
    assert result.status == "tuned"
    assert result.baseline == {"kind": "as-written", "options": {"fastmath": True}}
    # The baseline measured is the default config's build: the author's.
    args = decl.make_inputs(0)
    default = NumbaBuilder().build(decl, cpu_search_space(decl).default_config(), args)
    assert _baseline_hash(db, result) == default.code_hash is not None
    assert result.best_config is None or "flags.fastmath" in result.best_config

    # numba-default: the old behaviour, and none of the first run's measurements.
    old = _tune(db, decl, baseline=NUMBA_DEFAULT)
    assert old.status == "tuned"
    assert old.baseline == {"kind": "numba-default", "options": {}}
    assert old.workload_key != result.workload_key
    assert old.resumed == 0 and old.measured_this_run == 2
    plain = NumbaBuilder().build_baseline(decl.as_baseline(NUMBA_DEFAULT), args)
    assert _baseline_hash(db, old) == plain.code_hash != default.code_hash


def test_a_wrong_parallel_build_as_written_is_skipped_and_never_wins(  # type: ignore[no-untyped-def]
    tmp_path, monkeypatch
) -> None:
    # Enough threads for the prange chunks to differ, whatever this machine has.
    monkeypatch.setenv("NUMBA_NUM_THREADS", "4")
    db = open_database(f"sqlite:///{tmp_path / 't.db'}")
    decl = _fixture("running_sum")
    skipped = _tune(db, decl, budget=4)
    assert skipped.status == "skipped" and skipped.best_config is None
    assert "baseline fails its reference check" in skipped.reason
    assert "njit(parallel=True)" in skipped.reason
    assert skipped.baseline == {"kind": "as-written", "options": {"parallel": True}}
    # Against Numba's default (serial) build, the kernel tunes, and every candidate
    # that is reported was verified.
    serial = _tune(db, decl, budget=4, baseline=NUMBA_DEFAULT)
    assert serial.status == "tuned" and serial.rejected_wrong == 0
