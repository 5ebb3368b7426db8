"""Does the timing protocol hold up on this machine? (see the measurement protocol)

- A/A: the baseline measured against itself. Its 95% CI should contain 1.0 in about
  95% of repetitions.
- Known effect: a candidate doing 5% more work by construction. It should be found
  slower (CI entirely below 1.0) in at least 90% of repetitions.

Both are run with the search settings and with the confirmation settings, each
repetition in the same long-lived worker, as the tuner does.

    python benchmarks/timing_protocol.py [--repetitions 40]
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from autotune.measure import KernelRef, LocalRunner, MeasureRequest
from autotune.records import Status, TimingSettings

HERE = Path(__file__).resolve().parent


def run(
    settings: TimingSettings, config: dict | None, repetitions: int
) -> list[tuple[float, float, float]]:
    ref = KernelRef(str(HERE / "timing_kernels.py"), None, "repeated_scale")
    out = []
    with LocalRunner() as runner:
        for _ in range(repetitions):
            [result] = runner.measure(ref, [MeasureRequest(config, settings)])
            assert result.status is Status.OK, result.error
            t = result.timing
            out.append((t.speedup, *t.speedup_ci95))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repetitions", type=int, default=40)
    args = parser.parse_args()
    search = TimingSettings()
    for label, settings in (("search", search), ("confirm", search.confirm())):
        aa = run(settings, None, args.repetitions)
        covered = sum(lo <= 1.0 <= hi for _, lo, hi in aa) / len(aa)
        slow = run(settings, {"kernel.PASSES": 21}, args.repetitions)
        detected = sum(hi < 1.0 for _, lo, hi in slow) / len(slow)
        print(
            f"{label:8s} A/A: CI contains 1.0 in {covered:.0%} of {len(aa)} "
            f"(median speedup {statistics.median(s for s, _, _ in aa):.4f}); "
            f"5% slower: detected in {detected:.0%} of {len(slow)} "
            f"(median speedup {statistics.median(s for s, _, _ in slow):.4f}, expected {20 / 21:.4f})"
        )


if __name__ == "__main__":
    main()
