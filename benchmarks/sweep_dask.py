"""The corpus sweep on 1 and on 2 local Dask workers: wall-time ratio and agreement.

Runs the same sweep (budget 100, medium size, by default every kernel of
``corpora/cpu``) twice, each into a fresh database: on a local Dask cluster of one
worker, then of two. Two workers compile in parallel while timing stays one at a time
per machine. Prints both wall times and their ratio (target <= 0.75), then checks per
kernel that the confirmed speedups of the two runs agree within their 95% CIs (the
intervals overlap; a kernel with no winner counts as 1.0 with the interval [1, 1]),
saying where the two searches found different winners.

    python benchmarks/sweep_dask.py [--budget 100] [--size medium] [--timing lean]
                                    [--strategy auto] [--kernels a,b] [--out DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from _sweeps import ROOT, SweepResult, corpus_files, geomean, run_sweep

TARGET_RATIO = 0.75


def agree(a: dict, b: dict) -> bool:
    (lo_a, hi_a), (lo_b, hi_b) = a["speedup_ci95"], b["speedup_ci95"]
    return lo_a <= hi_b and lo_b <= hi_a


def compare(one: SweepResult, two: SweepResult) -> int:
    """Print the per-kernel comparison; the number of kernels that disagree."""
    by_kernel = {s["kernel"]: s for s in two.tuned}
    disagree = 0
    for a in one.tuned:
        b = by_kernel.get(a["kernel"])
        if b is None:
            print(f"  {a['kernel']:18s} not tuned with 2 workers")
            disagree += 1
            continue
        ok = agree(a, b)
        disagree += not ok
        # Two searches may find different winners: then their speedups need not agree.
        same = a.get("best_changes") == b.get("best_changes")
        print(
            f"  {a['kernel']:18s} 1 worker {a['speedup']:.3f} {_ci(a)}  "
            f"2 workers {b['speedup']:.3f} {_ci(b)}  {'agree' if ok else 'DISAGREE'}"
            f"{'' if same else ' (different winners)'}"
        )
    return disagree


def _ci(summary: dict) -> str:
    lo, hi = summary["speedup_ci95"]
    return f"[{lo:.3f}, {hi:.3f}]"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--size", default="medium")
    parser.add_argument("--timing", choices=["standard", "lean"], default="lean")
    parser.add_argument("--strategy", default="auto")
    parser.add_argument("--kernels", default="", help="comma-separated subset of the corpus")
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "sweep_dask")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    files = corpus_files(args.kernels)
    options = [
        *("--budget", str(args.budget), "--size", args.size),
        *("--timing", args.timing, "--strategy", args.strategy),
    ]
    runs: dict[int, SweepResult] = {}
    for workers in (1, 2):
        print(f"== {len(files)} kernels, budget {args.budget}, {workers} Dask worker(s)")
        runs[workers] = run_sweep(
            files, args.out, f"w{workers}", [*options, "--workers", str(workers)]
        )
        result = runs[workers]
        if not result.summaries:
            raise SystemExit(f"the sweep failed (exit {result.exit_code}): {result.stderr_tail}")
        speedups = [s["speedup"] for s in result.tuned]
        print(
            f"   wall {result.wall_s / 60:.1f} min, geomean {geomean(speedups):.3f}x, "
            f"{result.measured} configs measured"
        )
    ratio = runs[2].wall_s / runs[1].wall_s
    print(
        f"wall-time ratio 2 workers / 1 worker: {ratio:.2f} "
        f"(target <= {TARGET_RATIO}: {'met' if ratio <= TARGET_RATIO else 'missed'})"
    )
    disagree = compare(runs[1], runs[2])
    print(
        f"per-kernel speedups agree within their CIs: {len(runs[1].tuned) - disagree}/{len(runs[1].tuned)}"
    )


if __name__ == "__main__":
    main()
