"""Post-measurement callbacks: what happens to each trial after it is measured."""

from __future__ import annotations

import logging

from autotune.db import BaseDatabase
from autotune.loops import LEGALITY_BUG
from autotune.records import Status, TrialRecord
from autotune.result import TuningResult


class BaseCallback:
    """Hooks the tuner calls; every method is optional. Callbacks must not raise."""

    def on_kernel_start(self, kernel: str, budget: int) -> None:
        """Tuning of ``kernel`` starts with ``budget`` measurements to spend."""

    def on_trial(self, record: TrialRecord, spent: int) -> None:
        """``record`` was measured (or answered); ``spent`` of the budget is used."""

    def on_note(self, kernel: str, text: str) -> None:
        """A line about how the tuning of ``kernel`` goes (e.g. the cost model it uses)."""

    def on_kernel_end(self, result: TuningResult) -> None:
        """Tuning of the kernel ended with ``result``."""


class AddToDatabase(BaseCallback):
    """Commit every trial as soon as it exists, so a crash loses at most the one in flight."""

    def __init__(self, db: BaseDatabase) -> None:
        self.db = db

    def on_trial(self, record: TrialRecord, spent: int) -> None:
        self.db.add_trial(record)


class LogLegalityBugs(BaseCallback):
    """Log every wrong result that a loop transformation alone causes: the dependence
    analysis allowed something it should not have."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger or logging.getLogger("autotune.loops")

    def on_trial(self, record: TrialRecord, spent: int) -> None:
        result = record.result
        if result.status is Status.WRONG_RESULT and result.error.startswith(LEGALITY_BUG):
            self.logger.error(
                "kernel %s, config %s: %s", record.kernel, record.config_key, result.error
            )
