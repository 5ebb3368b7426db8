"""Successive halving against full timing of every candidate, on real kernels.

For each corpus kernel, ``autotune tune`` runs twice with the same seed and budget,
once with successive halving (the default) and once with ``--no-halving``, each into a
fresh database; the order of the two alternates from kernel to kernel (A B, B A, ...)
so that drift of the machine falls on both. Prints the wall time of each run, their
ratio (halving / full), and the confirmed speedups with their CIs, which should agree.

    python benchmarks/halving.py [--budget 40] [--kernels conv1d,dot,histogram] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpora" / "cpu"
DEFAULT_KERNELS = "conv1d,dot,histogram,matmul_tiled,transpose"


def tune(path: Path, halving: bool, budget: int, seed: int, out: Path) -> tuple[float, dict]:
    tag = "halving" if halving else "full"
    json_path = out / f"{path.stem}.{tag}.json"
    cmd = [
        sys.executable, "-m", "autotune.cli", "tune", str(path),
        "--budget", str(budget), "--seed", str(seed), "--size", "medium",
        "--db", f"sqlite:///{out / f'{path.stem}.{tag}.db'}", "--json", str(json_path),
    ]  # fmt: skip
    if not halving:
        cmd.append("--no-halving")
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if not json_path.exists():
        raise RuntimeError(f"{path.stem} ({tag}) failed: {proc.stderr.strip()[-300:]}")
    [summary] = json.loads(json_path.read_text())
    return wall, summary


def agree(a: dict, b: dict) -> bool:
    lo_a, hi_a = a["speedup_ci95"]
    lo_b, hi_b = b["speedup_ci95"]
    return lo_a <= hi_b and lo_b <= hi_a


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--kernels", default=DEFAULT_KERNELS)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="halving-"))
    out.mkdir(parents=True, exist_ok=True)
    ratios, agreements = [], []
    print(f"budget {args.budget}, seed {args.seed}, medium size; results in {out}")
    print(f"{'kernel':<14}{'halving s':>10}{'full s':>9}{'ratio':>7}  speedup halving / full")
    for i, name in enumerate(args.kernels.split(",")):
        path = CORPUS / f"{name}.py"
        order = (True, False) if i % 2 == 0 else (False, True)
        runs = {halving: tune(path, halving, args.budget, args.seed, out) for halving in order}
        (wall_h, s_h), (wall_f, s_f) = runs[True], runs[False]
        ratios.append(wall_h / wall_f)
        agreements.append(agree(s_h, s_f))
        print(
            f"{name:<14}{wall_h:>10.1f}{wall_f:>9.1f}{wall_h / wall_f:>7.2f}  "
            f"{s_h['speedup']:.3f} [{s_h['speedup_ci95'][0]:.3f}, {s_h['speedup_ci95'][1]:.3f}] / "
            f"{s_f['speedup']:.3f} [{s_f['speedup_ci95'][0]:.3f}, {s_f['speedup_ci95'][1]:.3f}]"
            f"{'' if agreements[-1] else '  (CIs disjoint)'}  refine {s_h.get('refine_trials', 0)}",
            flush=True,
        )
    geo = math.exp(statistics.fmean(math.log(r) for r in ratios))
    print(
        f"wall-time ratio halving/full: geomean {geo:.2f}, median {statistics.median(ratios):.2f}"
    )
    print(f"confirmed speedups agree within their CIs on {sum(agreements)} of {len(agreements)}")


if __name__ == "__main__":
    main()
