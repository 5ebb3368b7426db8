"""Loop transformations against compiler knobs alone, on the naive corpus kernels.

For every corpus kernel written naively (no kernel parameters) whose loop nests lie in
the affine subset, tunes three times, each run into its own fresh database:

* ``knobs``: compiler options only (``--space compiler --loops off``);
* ``serial``: loop transformations, single thread (``--space loops``; with
  ``--loop-space compiler``, together with the compiler options);
* ``parallel``: the same plus prange, with ``--max-threads`` threads (default 2).

It prints each kernel's confirmed speedup over Numba's default build and the geomeans,
rebuilds every reported winner and verifies it again on both input sets (a winner that
fails is counted as a wrong result reported as best), and times the best transformed
version against a hand-optimized one where ``_hand_loops.py`` has one (paired in one
process: ``hand_s / best_s``, above 1 when the tuner wins). Kernels outside the affine
subset are listed with the reason.

Timing needs a quiet machine: a multi-threaded candidate and its baseline both need
every core they use. Nothing else should run meanwhile; the script runs one tuning
process at a time and records the load average before each.

    python benchmarks/loop_transforms.py [--budget 60] [--size medium] [--kernels a,b]
        [--modes knobs,serial,parallel] [--max-threads 2] [--loop-space loops|compiler]
        [--timing standard|lean] [--confirm-top 3] [--no-simplify] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpora" / "cpu"
MODES = {"knobs": "off", "serial": "serial", "parallel": "parallel"}


def classify(only: set[str]) -> tuple[list[tuple[Path, Any]], list[tuple[str, str]]]:
    """Naive corpus kernels inside the affine subset, and those outside with why."""
    from autotune.kernels import load_kernels
    from autotune.loops import analyze
    from autotune.loops._explain import explain_analysis
    from autotune.passes import cpu_search_space

    inside, outside = [], []
    for path in sorted(CORPUS.glob("*.py")):
        for decl in load_kernels(path):
            if only and decl.name not in only:
                continue
            if decl.params:
                outside.append((decl.name, "hand-tuned already (kernel parameters)"))
                continue
            space = cpu_search_space(decl, loops="parallel", scope="compiler", max_threads=2)
            if any(n.startswith("loops.") for n in space.names):
                inside.append((path, decl))
                continue
            report = explain_analysis(analyze(decl.pyfunc, decl.allow_fastmath))
            reasons = [n.reason for n in report.nests if not n.transformable]
            outside.append(
                (decl.name, "; ".join(reasons) or report.error or "no legal transformation")
            )
    return inside, outside


def tune(path: Path, mode: str, args: argparse.Namespace) -> dict[str, Any] | None:
    db = args.out / f"{mode}.db"
    json_path = args.out / f"{path.stem}.{mode}.json"
    cmd = [
        sys.executable,
        "-m",
        "autotune.cli",
        "tune",
        str(path),
        "--budget",
        str(args.budget),
        "--size",
        args.size,
        "--space",
        "compiler" if mode == "knobs" else args.loop_space,
        "--loops",
        MODES[mode],
        "--max-threads",
        str(args.max_threads),
        "--db",
        f"sqlite:///{db}",
        "--json",
        str(json_path),
        "--timing",
        args.timing,
        "--confirm-top",
        str(args.confirm_top),
        *(["--no-simplify"] if args.no_simplify else []),
    ]
    load = os.getloadavg()[0]
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if not json_path.exists():
        print(f"    {mode}: failed (exit {proc.returncode}): {proc.stderr.strip()[-300:]}")
        return None
    (summary,) = json.loads(json_path.read_text())
    summary.update(wall_s=wall, loadavg_before=load)
    return summary


def recheck(decl: Any, summary: dict[str, Any], size: str) -> str | None:
    """Rebuild the reported winner and verify it on both input sets; why it fails."""
    from autotune.backends._numba import NumbaBuilder
    from autotune.measure._verify import collect_outputs, compare_outputs

    config = summary.get("best_config")
    if not config:
        return None
    builder = NumbaBuilder()
    for seed in (0, 1):
        args = decl.make_inputs(seed, size)
        built = builder.build(decl, config, args)
        if built.artifact is None:
            return f"does not build: {built.error}"
        reference = decl.reference or builder.build_baseline(decl, args).artifact
        want = collect_outputs(reference, args, decl.outputs)
        got = collect_outputs(built.artifact, args, decl.outputs)
        why = compare_outputs(got, want, decl.outputs, decl.rtol, decl.atol)
        if why is not None:
            return f"input set {seed}: {why}"
    return None


def against_hand(
    decl: Any, summary: dict[str, Any], size: str, parallel: bool, threads: int
) -> float | None:
    """``hand_s / best_s`` timed paired in this process, or None without a hand version."""
    import numba
    from _hand_loops import HAND

    from autotune.backends._numba import NumbaBuilder
    from autotune.measure._timing import time_paired
    from autotune.measure._verify import collect_outputs, compare_outputs
    from autotune.records import TimingSettings

    hand = HAND.get(decl.name)
    if hand is None or not summary.get("best_config"):
        return None
    args = decl.make_inputs(0, size)
    best = NumbaBuilder().build(decl, summary["best_config"], args).artifact
    hand_fn = numba.njit(parallel=parallel)(hand)
    reference = decl.reference or decl
    want = collect_outputs(reference, args, decl.outputs)
    if compare_outputs(
        collect_outputs(hand_fn, args, decl.outputs), want, decl.outputs, decl.rtol, decl.atol
    ):
        print(f"    hand version of {decl.name} fails its check; not compared")
        return None

    def hand_call(*a: Any) -> Any:
        numba.set_num_threads(threads)
        return hand_fn(*a)

    restore = [o for o in decl.outputs if isinstance(o, int)]
    settings = TimingSettings(min_rounds=5, max_rounds=9, max_time_s=3.0, early_stop_ratio=0.0)
    return time_paired(hand_call, best, args, restore, settings).speedup


def geomean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=int, default=60)
    parser.add_argument("--size", default="medium")
    parser.add_argument("--kernels", default="")
    parser.add_argument("--modes", default="knobs,serial,parallel")
    parser.add_argument("--max-threads", type=int, default=2)
    parser.add_argument("--loop-space", choices=("loops", "compiler"), default="loops")
    parser.add_argument("--timing", choices=("standard", "lean"), default="standard")
    parser.add_argument("--confirm-top", type=int, default=3)
    parser.add_argument("--no-simplify", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "loop_transforms")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    modes = [m for m in args.modes.split(",") if m]
    for mode in modes:
        (args.out / f"{mode}.db").unlink(missing_ok=True)
    inside, outside = classify({k for k in args.kernels.split(",") if k})
    print("== kernels outside the affine subset (or already hand-tuned)")
    for name, reason in outside:
        print(f"  {name:18s} {reason}")
    print(f"== {len(inside)} kernels, budget {args.budget}, size {args.size}, modes {modes}")
    rows: list[dict[str, Any]] = []
    wrong = 0
    for path, decl in inside:
        row: dict[str, Any] = {"kernel": decl.name}
        for mode in modes:
            summary = tune(path, mode, args)
            if summary is None or summary["status"] != "tuned":
                continue
            why = recheck(decl, summary, args.size)
            wrong += why is not None
            row[mode] = summary["speedup"]
            row[f"{mode}_config"] = summary.get("best_changes")
            row["baseline_ms"] = summary["baseline_s"] * 1e3
            row[f"{mode}_bugs"] = summary.get("loop_legality_bugs", 0)
            if mode != "knobs":
                row[f"{mode}_vs_hand"] = against_hand(
                    decl, summary, args.size, mode == "parallel", args.max_threads
                )
            ci = summary["speedup_ci95"]
            print(
                f"  {decl.name:14s} {mode:8s} {summary['speedup']:.3f}x [{ci[0]:.3f}, {ci[1]:.3f}] "
                f"baseline {row['baseline_ms']:.1f} ms, load {summary['loadavg_before']:.2f}, "
                f"wall {summary['wall_s']:.0f}s"
                + (f", WRONG: {why}" if why else "")
                + (f", vs hand {row[f'{mode}_vs_hand']:.2f}" if row.get(f"{mode}_vs_hand") else "")
            )
            print(f"    {json.dumps(summary.get('best_changes'))}")
        rows.append(row)
    print("== geomean speedup over Numba's default build")
    for mode in modes:
        values = [r[mode] for r in rows if mode in r]
        print(f"  {mode:8s} {geomean(values):.3f}x over {len(values)} kernels")
    short = [r["kernel"] for r in rows if r.get("baseline_ms", 5.0) < 5.0]
    if short:
        print(f"  note: baseline below 5 ms at size {args.size}: {', '.join(short)}")
    print(f"== winners that fail a fresh verification: {wrong}")
    print(
        f"== wrong results from loop transformations alone (legality bugs): "
        f"{sum(r.get(f'{m}_bugs', 0) for r in rows for m in modes)}"
    )
    (args.out / "summary.json").write_text(json.dumps({"rows": rows, "outside": outside}, indent=1))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
