"""Tuned speedup over Numba's default build for every CPU corpus kernel, and the
per-candidate overhead of the tuning loop.

Runs ``autotune tune`` on each corpus file (medium size) twice, with fastmath allowed
and without, each into its own fresh database, then prints per-kernel confirmed
speedups, geomeans (kernels with and without parameters separately) and the median
per-candidate overhead (build + verify, minus the kernel's own run time), taken from
the recorded trials. It also checks that no wrong result was reported as best.

    python benchmarks/cpu_speedups.py [--budget 60] [--out DIR] [--kernels a,b]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpora" / "cpu"


def corpus_files(only: set[str]) -> list[Path]:
    files = sorted(CORPUS.glob("*.py"))
    return [f for f in files if not only or f.stem in only]


def tune(path: Path, db: Path, budget: int, fastmath: bool, out: Path) -> list[dict]:
    json_path = out / f"{path.stem}.{'fm' if fastmath else 'nofm'}.json"
    cmd = [
        sys.executable,
        "-m",
        "autotune.cli",
        "tune",
        str(path),
        "--budget",
        str(budget),
        "--size",
        "medium",
        "--db",
        f"sqlite:///{db}",
        "--json",
        str(json_path),
    ]
    if not fastmath:
        cmd.append("--no-fastmath")
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if not json_path.exists():
        print(f"  {path.stem}: failed (exit {proc.returncode}): {proc.stderr.strip()[-300:]}")
        return []
    summaries = json.loads(json_path.read_text())
    for s in summaries:
        s["wall_s"] = wall / len(summaries)
    return summaries


def overheads(db: Path) -> list[float]:
    """compile_s + verify_s - 2 kernel calls, per built-and-verified search trial."""
    from autotune.db import open_database

    values = []
    for record in open_database(f"sqlite:///{db}").all_trials():
        r = record.result
        if (
            record.phase != "search"
            or r.compile_s is None
            or r.verify_s is None
            or r.timing is None
        ):
            continue
        values.append(r.compile_s + r.verify_s - 2 * r.timing.candidate_s)
    return values


def geomean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=int, default=60)
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "cpu_speedups")
    parser.add_argument("--kernels", default="")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    only = {k for k in args.kernels.split(",") if k}
    results: dict[bool, list[dict]] = {}
    for fastmath in (True, False):
        db = args.out / f"{'fm' if fastmath else 'nofm'}.db"
        db.unlink(missing_ok=True)
        print(f"== fastmath {'allowed' if fastmath else 'off'}, budget {args.budget}, size medium")
        results[fastmath] = []
        for path in corpus_files(only):
            for s in tune(path, db, args.budget, fastmath, args.out):
                s["has_params"] = bool(
                    s.get("best_config") and any(k.startswith("kernel.") for k in s["best_config"])
                ) or path.stem.endswith("_tiled")
                results[fastmath].append(s)
                ci = s.get("speedup_ci95", [float("nan")] * 2)
                print(
                    f"  {s['kernel']:16s} {s['status']:8s} speedup {s.get('speedup', float('nan')):.3f} "
                    f"[{ci[0]:.3f}, {ci[1]:.3f}] trials {s.get('trials')} failed {s.get('failed')} "
                    f"wrong {s.get('rejected_wrong')} wall {s['wall_s']:.0f}s config {json.dumps(s.get('best_config'))}"
                )
        ov = overheads(db)
        if ov:
            print(
                f"  per-candidate overhead (build + verify - kernel runs): median {statistics.median(ov) * 1e3:.1f} ms, "
                f"p90 {sorted(ov)[int(0.9 * len(ov))] * 1e3:.1f} ms over {len(ov)} candidates"
            )
    for fastmath, summaries in results.items():
        tuned = [s for s in summaries if s["status"] == "tuned"]
        plain = [s["speedup"] for s in tuned if not s["has_params"]]
        params = [s["speedup"] for s in tuned if s["has_params"]]
        label = "with fastmath" if fastmath else "without fastmath"
        print(
            f"geomean {label}: kernels without parameters {geomean(plain):.3f}x (n={len(plain)}), "
            f"with parameters {geomean(params):.3f}x (n={len(params)}), all {geomean(plain + params):.3f}x"
        )
    (args.out / "summary.json").write_text(
        json.dumps({str(k): v for k, v in results.items()}, indent=1)
    )


if __name__ == "__main__":
    main()
