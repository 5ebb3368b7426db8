"""A sweep of the whole CPU corpus: its wall time and the geomean speedup it finds.

Runs ``autotune sweep`` on the kernel files of ``corpora/cpu`` (budget 100 per
kernel, medium size) into a fresh database, then prints each kernel's confirmed speedup
over Numba's default build, the geomean over all tuned kernels (a kernel where nothing
beats the default counts as 1.0), the wall time against the target of 40 minutes on a
2-core machine, and the wall time per measured config.

    python benchmarks/sweep_corpus.py [--budget 100] [--size medium] [--timing lean]
                                      [--strategy auto] [--workers N] [--kernels a,b] [--out DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from _sweeps import ROOT, corpus_files, describe, geomean, run_sweep

TARGET_S = 40 * 60


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--size", default="medium")
    parser.add_argument("--timing", choices=["standard", "lean"], default="lean")
    parser.add_argument("--strategy", default="auto")
    parser.add_argument("--workers", type=int, help="run on a local Dask cluster of N workers")
    parser.add_argument("--kernels", default="", help="comma-separated subset of the corpus")
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "sweep_corpus")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    files = corpus_files(args.kernels)
    options = [
        *("--budget", str(args.budget), "--size", args.size),
        *("--timing", args.timing, "--strategy", args.strategy),
    ]
    if args.workers:
        options += ["--workers", str(args.workers)]
    where = f"{args.workers} Dask workers" if args.workers else "in process"
    print(
        f"== sweep of {len(files)} kernels, budget {args.budget}, size {args.size}, "
        f"{args.timing} timing, strategy {args.strategy}, {where}"
    )
    result = run_sweep(files, args.out, "sweep", options)
    if not result.summaries:
        raise SystemExit(f"the sweep failed (exit {result.exit_code}): {result.stderr_tail}")
    for summary in result.summaries:
        print("  " + describe(summary))
    speedups = [s["speedup"] for s in result.tuned]
    winners = sum(1 for s in result.tuned if s.get("best_config"))
    print(
        f"geomean speedup over Numba's default: {geomean(speedups):.3f}x over "
        f"{len(speedups)} tuned kernels ({winners} with a confirmed winner)"
    )
    verdict = "met" if result.wall_s <= TARGET_S * len(files) / 40 else "missed"
    print(
        f"wall time {result.wall_s / 60:.1f} min for {len(files)} kernels "
        f"(target {TARGET_S / 60 * len(files) / 40:.1f} min: {verdict}); "
        f"{result.wall_s / max(1, result.measured):.2f} s per measured config, "
        f"confirmation included"
    )


if __name__ == "__main__":
    main()
