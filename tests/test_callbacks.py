"""Post-measurement callbacks."""

from __future__ import annotations

import logging

import pytest

from autotune.callbacks import LogLegalityBugs
from autotune.loops import LEGALITY_BUG
from autotune.records import MeasureResult, Status, TrialRecord


def _record(error: str) -> TrialRecord:
    return TrialRecord(
        kernel="k",
        workload_key="w",
        target_key="t",
        config_key="c",
        config={},
        phase="search",
        result=MeasureResult(Status.WRONG_RESULT, error),
        run_id="r",
        created_at=0.0,
    )


def test_legality_bugs_are_logged_as_errors(caplog: pytest.LogCaptureFixture) -> None:
    callback = LogLegalityBugs()
    with caplog.at_level(logging.ERROR, logger="autotune.loops"):
        callback.on_trial(_record("input set 0: mismatch"), 1)
        assert not caplog.records
        callback.on_trial(_record(f"{LEGALITY_BUG}: the checks let through x"), 2)
    (entry,) = caplog.records
    assert entry.levelno == logging.ERROR and LEGALITY_BUG in entry.getMessage()
