"""Value objects that cross the tuning loop's boundaries: statuses, results, records.

Failures are values: every builder/runner outcome is a :class:`MeasureResult` with a
:class:`Status` and, when not ``ok``, an ``error`` string saying why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """Outcome of one trial. Exactly one applies."""

    OK = "ok"
    WRONG_RESULT = "wrong_result"
    BUILD_FAILED = "build_failed"
    RUN_FAILED = "run_failed"
    TIMEOUT = "timeout"
    INVALID = "invalid"
    SKIPPED = "skipped"

    @property
    def counts_against_budget(self) -> bool:
        """Built-and-measured outcomes spend budget; invalid/skipped ones do not."""
        return self not in (Status.INVALID, Status.SKIPPED)


@dataclass(frozen=True, slots=True)
class TimingSettings:
    """How a candidate is timed against the baseline (see the measurement protocol).

    Each *round* takes ``samples_per_round`` samples of the baseline and of the
    candidate, alternating which goes first. One *sample* repeats the call until it
    lasts at least ``min_sample_s``. Rounds continue until ``max_rounds`` or until
    ``min_rounds`` are done and ``max_time_s`` has passed. After two rounds, a
    candidate slower than ``early_stop_ratio`` times the baseline in every round is
    not timed further: it cannot win.

    With ``hopeless_speedup`` above 0, a candidate whose call on the first input set,
    while it is verified, lasts at least ``min_sample_s`` and is slower than the
    faster of two baseline calls by more than that (a speedup below it) is *cut*,
    after one more call confirms it when the first was less than twice that slow: it
    is neither verified on the second input set nor timed in rounds, those calls are
    its only round, and its provenance says ``hopeless``. Such a candidate can never
    win, and an unoptimized build can run 100 times slower, where each further call
    costs seconds and tells nothing more.
    """

    min_rounds: int = 3
    max_rounds: int = 7
    samples_per_round: int = 3
    min_sample_s: float = 0.01
    max_time_s: float = 1.5
    warmup_calls: int = 1
    early_stop_ratio: float = 0.8
    hopeless_speedup: float = 0.0

    def screen(self) -> TimingSettings:
        """The cheap first measurement of successive halving: two rounds, at most a
        third of the time. Enough to tell clear losers from contenders."""
        return TimingSettings(
            min_rounds=2,
            max_rounds=2,
            samples_per_round=self.samples_per_round,
            min_sample_s=self.min_sample_s,
            max_time_s=self.max_time_s / 3,
            warmup_calls=self.warmup_calls,
            early_stop_ratio=self.early_stop_ratio,
            hopeless_speedup=self.hopeless_speedup,
        )

    def confirm(self) -> TimingSettings:
        """The heavier settings used to confirm a winner in fresh processes."""
        return TimingSettings(
            min_rounds=max(10, self.min_rounds),
            max_rounds=max(15, self.max_rounds),
            samples_per_round=self.samples_per_round,
            min_sample_s=self.min_sample_s,
            max_time_s=max(4.0, 2 * self.max_time_s),
            warmup_calls=self.warmup_calls,
            early_stop_ratio=0.0,
        )


#: Lean timing: a candidate whose first verified call shows it more than twice as slow
#: as the baseline is cut short, and fewer rounds are taken where candidates are timed
#: in full (refinement, or search without halving). Confirmation keeps its full settings
#: (``TimingSettings.confirm``), so every winner reported is measured as thoroughly as
#: with the standard settings.
LEAN_TIMING = TimingSettings(min_rounds=2, max_rounds=5, max_time_s=0.75, hopeless_speedup=0.5)

#: The timing presets a user picks by name (``--timing``).
TIMINGS = {"standard": TimingSettings(), "lean": LEAN_TIMING}


@dataclass(frozen=True, slots=True)
class Timing:
    """Raw paired samples (seconds per call) and the statistics derived from them."""

    baseline_rounds: list[list[float]]
    candidate_rounds: list[list[float]]
    calls_per_sample: int
    baseline_s: float
    candidate_s: float
    candidate_iqr_s: float
    speedup: float
    speedup_ci95: tuple[float, float]
    #: Rounds per process, in order, when the rounds come from several processes
    #: (empty: one process). The CI then spans the processes (see ``measure._stats``).
    process_rounds: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class MeasureResult:
    """What a runner says about one candidate."""

    status: Status
    error: str = ""
    compile_s: float | None = None
    verify_s: float | None = None
    timing: Timing | None = None
    provenance: dict[str, Any] = field(default_factory=dict)
    #: Hash of the optimized code (see :func:`autotune.program.code_hash`), when built.
    code_hash: str | None = None

    @property
    def speedup(self) -> float | None:
        return None if self.timing is None else self.timing.speedup


@dataclass(frozen=True, slots=True)
class TrialRecord:
    """One stored trial, as the database returns it (a copy, never a live row)."""

    kernel: str
    workload_key: str
    target_key: str
    config_key: str
    config: dict[str, Any]
    phase: str
    result: MeasureResult
    run_id: str = ""
    created_at: float = 0.0


@dataclass(frozen=True, slots=True)
class PortfolioArm:
    """A known-good config and the rewards it earned on earlier problem instances.

    A reward is the log speedup one workload measured for the config (clipped, so a
    failure counts as a large loss without dominating). ``rewards`` has one entry per
    workload the config was measured on.
    """

    config_key: str
    config: dict[str, Any]
    rewards: tuple[float, ...]

    @property
    def pulls(self) -> int:
        return len(self.rewards)

    @property
    def mean(self) -> float:
        return sum(self.rewards) / len(self.rewards) if self.rewards else 0.0


@dataclass(frozen=True, slots=True)
class TunedRow:
    """One stored entry of the config cache (see :mod:`autotune.cache`), as the database
    keeps it: the lookup columns and the entry itself as a JSON-able mapping.

    ``digest`` is the cheap kernel key without the size bucket, ``bucket`` the bucket
    as text, ``target_key`` the target the config was tuned on. At most one row exists
    per (digest, bucket, target_key); storing another replaces it.
    """

    digest: str
    bucket: str
    target_key: str
    kernel: str
    entry: dict[str, Any]
    created_at: float
