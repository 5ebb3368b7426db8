"""Conformance suite for runners (:class:`autotune.measure.BaseRunner`).

A runner's test module subclasses :class:`RunnerConformance` and provides a runner, a
kernel it can measure, a config that measures fine and one that fails::

    class TestMyRunner(RunnerConformance):
        def make_runner(self): ...
        def kernel(self): ...          # a KernelRef
        def good_config(self): ...     # measures ok
        def failing_config(self): ...  # crashes, fails to build or is unknown
"""

from __future__ import annotations

from typing import Any

from autotune.measure import BaseRunner, KernelRef, MeasureRequest
from autotune.records import Status, TimingSettings

#: Enough to exercise a runner; far too little for a real comparison.
QUICK = TimingSettings(
    min_rounds=2, max_rounds=3, samples_per_round=2, min_sample_s=0.002, max_time_s=0.2
)


class RunnerConformance:
    """Checks every runner must pass."""

    def make_runner(self) -> BaseRunner:
        raise NotImplementedError

    def kernel(self) -> KernelRef:
        raise NotImplementedError

    def good_config(self) -> dict[str, Any]:
        raise NotImplementedError

    def failing_config(self) -> dict[str, Any]:
        raise NotImplementedError

    def test_lower_gives_the_workload(self) -> None:
        with self.make_runner() as runner:
            lowered = runner.lower(self.kernel())
        assert lowered.workload is not None, lowered.error
        assert lowered.workload.key

    def test_one_result_per_request_in_order_and_failures_are_values(self) -> None:
        requests = [
            MeasureRequest(None, QUICK),
            MeasureRequest(self.failing_config(), QUICK),
            MeasureRequest(self.good_config(), QUICK),
        ]
        with self.make_runner() as runner:
            baseline, failing, good = runner.measure(self.kernel(), requests)
        assert baseline.status is Status.OK
        assert failing.status is not Status.OK and failing.error
        assert good.status is Status.OK

    def test_ok_results_carry_paired_timings(self) -> None:
        with self.make_runner() as runner:
            [good] = runner.measure(self.kernel(), [MeasureRequest(self.good_config(), QUICK)])
        timing = good.timing
        assert timing is not None
        assert len(timing.baseline_rounds) == len(timing.candidate_rounds) >= 1
        lo, hi = timing.speedup_ci95
        assert lo <= timing.speedup <= hi
        assert timing.baseline_s > 0 and timing.candidate_s > 0

    def test_confirm_measures_the_config(self) -> None:
        with self.make_runner() as runner:
            result = runner.confirm(self.kernel(), MeasureRequest(self.good_config(), QUICK))
        assert result.status is Status.OK and result.timing is not None
