"""A Ctrl-C that Python swallowed (raised inside a garbage-collection callback) still
stops a run at the next trial boundary, with that trial kept."""

from __future__ import annotations

import contextlib
import signal

import pytest

from autotune._interrupt import keeping_interrupts, raise_if_interrupted


@pytest.fixture(autouse=True)
def default_sigint_handler():  # type: ignore[no-untyped-def]
    """Python's own handler, as a command-line run has it (a test runner may differ)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def _swallowed_sigint() -> None:
    """Run the SIGINT handler as Python does on delivery, and swallow its
    KeyboardInterrupt, as a garbage-collection callback would."""
    handler = signal.getsignal(signal.SIGINT)
    assert callable(handler)
    with contextlib.suppress(KeyboardInterrupt):
        handler(signal.SIGINT, None)


def test_a_swallowed_interrupt_is_raised_again_at_the_next_check() -> None:
    with keeping_interrupts():
        _swallowed_sigint()
        with pytest.raises(KeyboardInterrupt):
            raise_if_interrupted()
        raise_if_interrupted()  # once acted on, it is gone


def test_outside_the_block_the_default_handler_is_back_and_nothing_is_pending() -> None:
    with keeping_interrupts():
        _swallowed_sigint()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    raise_if_interrupted()


def test_an_embedding_programs_own_handler_is_left_alone() -> None:
    def own(signum, frame):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, own)
    try:
        with keeping_interrupts():
            assert signal.getsignal(signal.SIGINT) is own
    finally:
        signal.signal(signal.SIGINT, previous)


def test_the_tuner_keeps_the_trial_then_stops(tmp_path) -> None:
    from autotune.candidate import Candidate
    from autotune.db import open_database
    from autotune.program import Target, Workload
    from autotune.records import MeasureResult, Status
    from autotune.tuner import TuneOptions, Tuner

    db = open_database(f"sqlite:///{tmp_path / 't.db'}")
    target = Target("cpu", "", "0.68", "0.50")
    tuner = Tuner(runner=None, db=db, target=target, options=TuneOptions())  # type: ignore[arg-type]
    workload = Workload(kernel="k", arg_types="()", ir_text="", inputs="")
    db.add_workload(workload, "k.py")
    candidate = Candidate.from_config({"x": 1})
    with keeping_interrupts():
        _swallowed_sigint()
        with pytest.raises(KeyboardInterrupt):
            tuner._record("k", workload, candidate, "search", MeasureResult(Status.INVALID, "x"), 0)
    [stored] = db.trials(workload.key, target.key)
    assert stored.config_key == candidate.key
