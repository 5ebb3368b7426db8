"""Differential verification behind the legality checks: a loop transformation that
computes a wrong result is rejected and reported as a legality bug."""

from __future__ import annotations

import io
from pathlib import Path

from autotune.kernels import load_kernels
from autotune.loops import LEGALITY_BUG
from autotune.measure._protocol import KernelRef
from autotune.measure._worker import Worker
from autotune.passes import cpu_search_space
from tests._helpers import FAST_TIMING, FIXTURES

SOURCE = FIXTURES / "loops_kernels.py"


def _measure(config_changes: dict) -> dict:  # type: ignore[type-arg]
    (decl,) = [d for d in load_kernels(Path(SOURCE)) if d.name == "cancelling_sum"]
    space = cpu_search_space(decl, loops="parallel")
    names = {n.rsplit(".", 1)[-1] if ".b0." in n else n: n for n in space.names}
    config = space.with_defaults({names[k]: v for k, v in config_changes.items()})
    assert space.violation(config) is None
    ref = KernelRef(str(SOURCE), None, "cancelling_sum")
    return Worker(io.BytesIO()).measure(ref, config, FAST_TIMING)


def test_a_reordering_that_breaks_the_result_is_logged_as_a_legality_bug() -> None:
    # The reduction may be reassociated (the kernel allows fastmath), but its terms
    # cancel, so the sum split between two threads differs beyond rtol = 0.
    reply = _measure({"loops.parallel": True, "parallel": True, "loops.threads": 2})
    assert reply["status"] == "wrong_result"
    assert reply["error"].startswith(LEGALITY_BUG)
    assert "loops.n1.b0.parallel=True" in reply["error"]


def test_a_wrong_result_from_compiler_flags_is_not_blamed_on_loops() -> None:
    reply = _measure({"flags.fastmath": "all"})
    assert reply["status"] == "wrong_result"
    assert not reply["error"].startswith(LEGALITY_BUG)
