"""For kernels with parameters: is the tuned winner within 5% of the exhaustive best?

For each corpus kernel that declares parameters, runs (1) an exhaustive search over its
kernel parameters alone (Numba's default compiler settings) and (2) the default search
over the full space (compiler options x parameters) with a budget of 60, both confirmed
in fresh processes, and prints the confirmed speedups and their ratio. A ratio >= 0.95
means the tuned winner is within 5% of the exhaustive best (or beats it, using compiler
options as well).

    python benchmarks/params_vs_exhaustive.py [--budget 60] [--size medium]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpora" / "cpu"


def tune(path: Path, out: Path, db: Path, *extra: str) -> dict:
    cmd = [
        sys.executable,
        "-m",
        "autotune.cli",
        "tune",
        str(path),
        "--db",
        f"sqlite:///{db}",
        "--json",
        str(out),
        *extra,
    ]
    subprocess.run(cmd, capture_output=True, text=True, check=False)
    return json.loads(out.read_text())[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=int, default=60)
    parser.add_argument("--size", default="medium")
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "params_vs_exhaustive")
    parser.add_argument(
        "--kernels", default="", help="Comma-separated kernel names (default: all)."
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    from autotune.kernels import load_kernels

    for path in sorted(CORPUS.glob("*.py")):
        for decl in load_kernels(path):
            if not decl.params or (args.kernels and decl.name not in args.kernels.split(",")):
                continue
            db = args.out / f"{decl.name}.db"
            db.unlink(missing_ok=True)
            exhaustive = tune(
                path,
                args.out / f"{decl.name}.exhaustive.json",
                db,
                "--kernel",
                decl.name,
                "--space",
                "params",
                "--strategy",
                "exhaustive",
                "--budget",
                "100000",
                "--size",
                args.size,
                "--confirm-top",
                "5",
            )
            tuned = tune(
                path,
                args.out / f"{decl.name}.tuned.json",
                db,
                "--kernel",
                decl.name,
                "--budget",
                str(args.budget),
                "--size",
                args.size,
            )
            ratio = tuned["speedup"] / exhaustive["speedup"]
            print(
                f"{decl.name}: exhaustive over {exhaustive['trials']} parameter configs -> "
                f"{exhaustive['speedup']:.3f}x {exhaustive['speedup_ci95']} "
                f"{json.dumps(exhaustive['best_config'])}"
            )
            print(
                f"{decl.name}: tuned, budget {args.budget}, full space -> {tuned['speedup']:.3f}x "
                f"{tuned['speedup_ci95']} {json.dumps(tuned['best_config'])}"
            )
            print(
                f"{decl.name}: tuned / exhaustive = {ratio:.3f} "
                f"({'within 5%' if ratio >= 0.95 else 'NOT within 5%'})"
            )


if __name__ == "__main__":
    main()
