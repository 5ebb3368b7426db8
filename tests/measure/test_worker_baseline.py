"""The worker's baseline is the kernel as written; without a declared reference, it
is verified against Numba's default build, so an author's ``parallel=True`` that
computes wrong is caught, named, and candidates with parallel off still verify."""

from __future__ import annotations

import io
from typing import Any

import numba
import pytest

from autotune.kernels import NUMBA_DEFAULT, load_kernels
from autotune.measure._protocol import KernelRef
from autotune.measure._worker import Worker
from autotune.passes import cpu_search_space
from tests._helpers import FAST_TIMING, FIXTURES

SOURCE = FIXTURES / "author_options.py"

pytestmark = pytest.mark.skipif(
    numba.config.NUMBA_NUM_THREADS < 2,  # type: ignore[attr-defined]
    reason="a race-free wrong parallel result needs two threads or more",
)


def _measure(name: str, changes: dict[str, Any] | None, baseline: str = "as-written") -> Any:
    decl = next(d for d in load_kernels(SOURCE) if d.name == name).as_baseline(baseline)
    config = None if changes is None else cpu_search_space(decl).with_defaults(changes)
    ref = KernelRef(str(SOURCE), None, name, baseline=baseline)
    return Worker(io.BytesIO()).measure(ref, config, FAST_TIMING)


def test_an_authors_wrong_parallel_build_fails_as_the_baseline_naming_its_options() -> None:
    reply = _measure("running_sum", None)
    assert reply["status"] == "wrong_result"
    assert reply["error"].startswith(
        "baseline fails its reference check (the kernel as written, njit(parallel=True), "
        "against Numba's default build): input set 0: argument 1:"
    )


def test_candidates_with_parallel_off_verify_and_on_are_rejected() -> None:
    assert _measure("running_sum", {"flags.parallel": False})["status"] == "ok"
    wrong = _measure("running_sum", {"flags.parallel": True, "pipeline.speed_level": 2})
    assert wrong["status"] == "wrong_result"


def test_numba_default_measures_the_serial_build() -> None:
    assert _measure("running_sum", None, baseline=NUMBA_DEFAULT)["status"] == "ok"


def test_a_correct_parallel_baseline_is_measured() -> None:
    assert _measure("scale_parallel", None)["status"] == "ok"
