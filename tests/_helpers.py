"""Shared helpers for tests that run the real worker pool."""

from pathlib import Path

from autotune.records import TimingSettings

FIXTURES = Path(__file__).parent / "fixtures"
CORPUS = Path(__file__).parents[1] / "corpora" / "cpu"

#: Enough to exercise the protocol; far too little for a real comparison.
FAST_TIMING = TimingSettings(
    min_rounds=2, max_rounds=3, samples_per_round=2, min_sample_s=0.002, max_time_s=0.2
)
