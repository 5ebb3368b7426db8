"""A kernel that cannot be tuned says which step of preparing it failed."""

from __future__ import annotations

import io

import pytest

from autotune.measure._protocol import KernelRef
from autotune.measure._worker import StageError, Worker
from tests._helpers import FIXTURES

SOURCE = FIXTURES / "stages.py"


def _lower(name: str) -> dict:  # type: ignore[type-arg]
    return Worker(io.BytesIO()).handle(
        {"op": "lower", "kernel": KernelRef(str(SOURCE), None, name)}
    )


@pytest.mark.parametrize(
    ("name", "step", "detail"),
    [
        ("inputs_raise", "making the inputs failed", "ValueError: no inputs today"),
        ("inputs_too_big", "making the inputs failed", "MemoryError"),
        ("kernel_raises", "the kernel raised when run (Numba's default build)", "kernel broke"),
        ("does_not_compile", "Numba's default build does not compile", "no_such_attribute"),
    ],
)
def test_lowering_names_the_step_that_failed(name: str, step: str, detail: str) -> None:
    with pytest.raises(StageError) as info:
        _lower(name)
    message = str(info.value)
    assert message.startswith(step), message
    assert detail in message
    assert "does not compile" not in message or step.endswith("does not compile")


def test_a_raising_reference_is_blamed_on_the_reference() -> None:
    with pytest.raises(StageError, match=r"^the reference raised: ZeroDivisionError"):
        _lower("reference_raises")


def test_an_unknown_kernel_name_is_a_loading_failure() -> None:
    with pytest.raises(StageError, match=r"^the kernel does not load: no kernel 'nope'"):
        _lower("nope")


def test_lowering_reports_identical_input_sets() -> None:
    assert _lower("ignores_its_rng")["identical_inputs"] is True


def test_lowering_reports_distinct_input_sets_as_such() -> None:
    worker = Worker(io.BytesIO())
    reply = worker.handle(
        {"op": "lower", "kernel": KernelRef(str(FIXTURES / "mixed.py"), None, "fine")}
    )
    assert reply["identical_inputs"] is False
