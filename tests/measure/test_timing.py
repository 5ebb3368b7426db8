"""Paired timing: both sides run on the same data, outputs restored, rounds recorded."""

import numpy as np

from autotune.measure._timing import time_paired
from autotune.records import TimingSettings

QUICK = TimingSettings(
    min_rounds=2, max_rounds=3, samples_per_round=2, min_sample_s=0.0005, max_time_s=0.05
)


def test_baseline_and_candidate_run_on_the_very_same_arrays():
    """Separate copies sit at different addresses, and placement alone moves timings."""
    seen = {"baseline": set(), "candidate": set()}

    def baseline(x, out):
        seen["baseline"].add((x.ctypes.data, out.ctypes.data))
        out[:] = x

    def candidate(x, out):
        seen["candidate"].add((x.ctypes.data, out.ctypes.data))
        out[:] = x

    time_paired(baseline, candidate, (np.ones(16), np.zeros(16)), [1], QUICK)
    assert seen["baseline"] == seen["candidate"] and len(seen["baseline"]) == 1


def test_outputs_are_restored_before_every_call_and_inputs_never_touched():
    starts = []

    def accumulate(x, out):
        starts.append(out[0])
        out += x  # an in-place kernel: without restoring, every call would see more

    x, out = np.ones(4), np.zeros(4)
    time_paired(accumulate, accumulate, (x, out), [1], QUICK)
    assert set(starts) == {0.0}
    assert out[0] == 0.0 and x[0] == 1.0  # the caller's arrays are copies, untouched


def test_rounds_are_paired_and_recorded():
    timing = time_paired(lambda x: x.sum(), lambda x: x.sum(), (np.ones(100),), [], QUICK)
    assert len(timing.baseline_rounds) == len(timing.candidate_rounds) >= QUICK.min_rounds
    assert all(len(r) == QUICK.samples_per_round for r in timing.baseline_rounds)
    assert timing.speedup_ci95[0] <= timing.speedup <= timing.speedup_ci95[1]
