"""Shared helpers for tests that run the real worker pool."""

from itertools import pairwise
from pathlib import Path

from autotune.records import TimingSettings

FIXTURES = Path(__file__).parent / "fixtures"
CORPUS = Path(__file__).parents[1] / "corpora" / "cpu"

#: Enough to exercise the protocol; far too little for a real comparison.
FAST_TIMING = TimingSettings(
    min_rounds=2, max_rounds=3, samples_per_round=2, min_sample_s=0.002, max_time_s=0.2
)


def assert_timing_turns_never_overlap(turns):
    """``turns``: the ``timing_turn`` provenance of measurements taken on one machine."""
    spans = sorted((t["granted_at"], t["ended_at"]) for t in turns)
    for (_, end), (start, _) in pairwise(spans):
        assert end <= start, "two timing phases overlapped"


#: Keys every per-kernel JSON object of ``tune`` and ``sweep`` carries.
SUMMARY_KEYS = {
    "kernel",
    "status",
    "ir_hash",
    "baseline_s",
    "best_s",
    "speedup",
    "speedup_ci95",
    "best_config",
    "trials",
    "failed",
    "rejected_wrong",
}


def run_cli(*args: object) -> tuple[int, str]:
    """Invoke the ``autotune`` command in-process; returns (exit code, output)."""
    from click.testing import CliRunner

    from autotune.cli import main

    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.output
