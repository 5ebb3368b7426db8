"""What the sweep benchmarks share: running ``autotune sweep`` on corpus files, and
reading what it recorded."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpora" / "cpu"


def corpus_files(kernels: str) -> list[Path]:
    """The CPU corpus's kernel files (one kernel each), or those named in ``kernels``
    (comma-separated stems)."""
    only = {k for k in kernels.split(",") if k}
    files = sorted(CORPUS.glob("*.py"))
    unknown = only - {f.stem for f in files}
    if unknown:
        sys.exit(f"unknown kernels: {', '.join(sorted(unknown))}")
    return [f for f in files if not only or f.stem in only]


@dataclass
class SweepResult:
    wall_s: float
    exit_code: int
    summaries: list[dict]
    stderr_tail: str

    @property
    def tuned(self) -> list[dict]:
        return [s for s in self.summaries if s["status"] == "tuned"]

    @property
    def measured(self) -> int:
        """Configs measured by this sweep's search (confirmations excluded)."""
        return sum(s.get("measured_this_run", 0) for s in self.tuned)


def run_sweep(files: list[Path], out: Path, name: str, options: list[str]) -> SweepResult:
    """``autotune sweep FILES`` into a fresh database ``out/NAME.db``, timed."""
    db, json_path = out / f"{name}.db", out / f"{name}.json"
    db.unlink(missing_ok=True)
    json_path.unlink(missing_ok=True)
    cmd = [
        *(sys.executable, "-m", "autotune.cli", "sweep", *map(str, files)),
        *("--db", f"sqlite:///{db}", "--json", str(json_path), *options),
    ]
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - started
    summaries = json.loads(json_path.read_text()) if json_path.exists() else []
    return SweepResult(wall, proc.returncode, summaries, proc.stderr.strip()[-500:])


def geomean(values: list[float]) -> float:
    return math.exp(sum(map(math.log, values)) / len(values)) if values else float("nan")


def describe(summary: dict) -> str:
    if summary["status"] != "tuned":
        return f"{summary['kernel']:18s} skipped: {summary.get('reason', '')[:100]}"
    lo, hi = summary["speedup_ci95"]
    return (
        f"{summary['kernel']:18s} {summary['speedup']:.3f} [{lo:.3f}, {hi:.3f}] "
        f"trials {summary['trials']:3d} measured {summary.get('measured_this_run', 0):3d} "
        f"changes {json.dumps(summary.get('best_changes') or {})}"
    )
