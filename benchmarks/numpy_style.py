"""NumPy-style kernels: scalarization, fusion and loop transformations against Numba.

For every kernel of ``corpora/numpy`` (slices and array expressions, as people commonly
write Numba code), this script:

* lists which array statements were scalarized and, for the others, why not
  (``autotune explain``'s reasons);
* tunes it with ``--loops serial`` against Numba's build of the same source, and tunes
  its loop-written twin in ``corpora/cpu`` the same way, each into its own database;
* rebuilds every reported winner and verifies it again on both input sets (a winner
  that fails counts as a wrong result reported as best);
* times, paired and interleaved in this process on the same inputs: the tuned
  NumPy-style kernel against its tuned twin (``twin_s / numpy_s``: at least 0.9 means
  within 10 %), and, against Numba's build of the NumPy-style source, the scalarized
  kernel with no other transformation and, where a nest fuses, the scalarized and
  fused one.

Timing needs a quiet machine; the script runs one tuning process at a time and records
the load average before each.

    python benchmarks/numpy_style.py [--budget 24] [--size medium] [--kernels a,b]
        [--timing standard|lean] [--confirm-top 2] [--no-simplify] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NUMPY = ROOT / "corpora" / "numpy"
TWINS = ROOT / "corpora" / "cpu"


def statements(decl: Any) -> tuple[list[Any], str]:
    """The kernel's array statements (scalarized or not, with why) and its fusible
    nests' config keys, as ``explain`` reports them."""
    from autotune.loops import analyze, declared_ranks
    from autotune.loops._explain import explain_analysis
    from autotune.loops._space import fuse_key

    analysis = analyze(decl.pyfunc, decl.allow_fastmath, declared_ranks(decl))
    report = explain_analysis(analysis, decl.name)
    fusible = [fuse_key(i) for i, p in sorted(analysis.plans.items()) if p.fused is not None]
    return list(report.statements), ",".join(fusible)


def paired(decl: Any, base: Any, candidate: Any, size: str) -> float:
    """``base_s / candidate_s`` on one input set, timed paired and interleaved."""
    from autotune.measure._timing import time_paired
    from autotune.records import TimingSettings

    args = decl.make_inputs(0, size)
    restore = [o for o in decl.outputs if isinstance(o, int)]
    settings = TimingSettings(min_rounds=5, max_rounds=9, max_time_s=3.0, early_stop_ratio=0.0)
    return time_paired(base, candidate, args, restore, settings).speedup


def build(decl: Any, config: dict[str, Any], size: str) -> Any:
    from autotune.backends._numba import NumbaBuilder

    built = NumbaBuilder().build(decl, config, decl.make_inputs(0, size))
    if built.artifact is None:
        raise RuntimeError(f"{decl.name}: {config} does not build: {built.error}")
    return built.artifact


def loops_only(config: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (config or {}).items() if k.startswith("loops.")}


def main() -> None:
    from loop_transforms import recheck, tune

    from autotune.kernels import load_kernels

    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=int, default=24)
    parser.add_argument("--size", default="medium")
    parser.add_argument("--kernels", default="")
    parser.add_argument("--timing", choices=("standard", "lean"), default="lean")
    parser.add_argument("--confirm-top", type=int, default=2)
    parser.add_argument("--no-simplify", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "numpy_style")
    args = parser.parse_args()
    # what loop_transforms.tune reads: compiler options and loops together, one thread
    args.loop_space, args.max_threads = "all", 2  # threads only matter with prange
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "serial.db").unlink(missing_ok=True)
    only = {k for k in args.kernels.split(",") if k}
    rows: list[dict[str, Any]] = []
    wrong = 0
    for path in sorted(NUMPY.glob("*_np.py")):
        (decl,) = load_kernels(path)
        if only and decl.name not in only:
            continue
        twin_path = TWINS / f"{decl.name.removesuffix('_np')}.py"
        (twin,) = load_kernels(twin_path)
        notes, fusible = statements(decl)
        done = sum(1 for s in notes if s.scalarized)
        left = [f"line {s.line}: {s.reason}" for s in notes if not s.scalarized]
        print(f"== {decl.name}: {done} of {len(notes)} array statements scalarized")
        for reason in left:
            print(f"    left as written, {reason}")
        row: dict[str, Any] = {"kernel": decl.name, "scalarized": done, "left": left}
        for label, kpath, kdecl in (("numpy", path, decl), ("twin", twin_path, twin)):
            summary = tune(kpath, "serial", args)
            if summary is None or summary["status"] != "tuned":
                status = summary["status"] if summary else "failed"
                print(f"  {label}: {status}")
                row[label] = 1.0 if summary and summary["status"] == "no gain" else None
                row[f"{label}_config"] = {}
                continue
            why = recheck(kdecl, summary, args.size)
            wrong += why is not None
            row[label] = summary["speedup"]
            row[f"{label}_config"] = summary.get("best_config") or {}
            row[f"{label}_baseline_ms"] = summary["baseline_s"] * 1e3
            ci = summary["speedup_ci95"]
            print(
                f"  {label:5s} {summary['speedup']:.3f}x [{ci[0]:.3f}, {ci[1]:.3f}] baseline "
                f"{summary['baseline_s'] * 1e3:.1f} ms, load {summary['loadavg_before']:.2f}, "
                f"wall {summary['wall_s']:.0f}s" + (f", WRONG: {why}" if why else "")
            )
            print(f"    {json.dumps(loops_only(summary.get('best_config')))}")
        compare(decl, twin, row, fusible, args.size)
        rows.append(row)
    report(rows, wrong)
    (args.out / "summary.json").write_text(json.dumps(rows, indent=1, default=str))


def compare(decl: Any, twin: Any, row: dict[str, Any], fusible: str, size: str) -> None:
    """The paired comparisons of one kernel (see the module docstring)."""
    default = build(decl, {}, size)
    if row.get("numpy") is not None and row.get("twin") is not None:
        mine = build(decl, row["numpy_config"], size)
        theirs = build(twin, row["twin_config"], size)
        row["vs_twin"] = paired(decl, theirs, mine, size)
        print(f"  tuned NumPy-style against tuned twin: twin_s / numpy_s = {row['vs_twin']:.3f}")
    scalar = {"loops.scalarize": True}
    if not row["scalarized"]:
        return  # the scalarized build would be Numba's build itself
    try:
        row["scalar_only"] = paired(decl, default, build(decl, scalar, size), size)
    except RuntimeError as exc:
        print(f"  scalarized only: {exc}")
        return
    print(f"  scalarized only: {row['scalar_only']:.3f}x over Numba's build")
    if fusible:
        fused = {**scalar, **dict.fromkeys(fusible.split(","), True)}
        row["fused"] = paired(decl, default, build(decl, fused, size), size)
        print(f"  scalarized and fused ({fusible}): {row['fused']:.3f}x over Numba's build")
    winner = loops_only(row.get("numpy_config"))
    row["winner_scalar_only"] = winner == scalar


def report(rows: list[dict[str, Any]], wrong: int) -> None:
    from loop_transforms import geomean

    tuned = [r["numpy"] for r in rows if r.get("numpy")]
    print(
        f"== geomean speedup over Numba's build of the same source: {geomean(tuned):.3f}x "
        f"over {len(tuned)} kernels"
    )
    twins = [r["vs_twin"] for r in rows if r.get("vs_twin")]
    within = sum(1 for v in twins if v >= 0.9)
    print(
        f"== tuned NumPy-style within 10% of its tuned twin: {within} of {len(twins)} "
        f"(geomean twin_s / numpy_s {geomean(twins):.3f})"
    )
    for r in rows:
        if r.get("vs_twin") is not None and r["vs_twin"] < 0.9:
            print(f"    {r['kernel']}: {r['vs_twin']:.3f}")
    scalar = [r["scalar_only"] for r in rows if r.get("scalar_only")]
    wins = sum(1 for r in rows if r.get("winner_scalar_only"))
    print(
        f"== scalarized only: geomean {geomean(scalar):.3f}x; the tuned winner's loop "
        f"choices are scalarizing alone for {wins} of {len(rows)} kernels"
    )
    fused = [(r["kernel"], r["fused"] / r["scalar_only"]) for r in rows if r.get("fused")]
    for name, gain in fused:
        print(f"    fusion on {name}: {gain:.3f}x over scalarized only")
    if not fused:
        print("    no kernel has a nest that fuses")
    print(f"== winners that fail a fresh verification: {wrong}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
