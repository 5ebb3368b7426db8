"""Real tuning runs with and without the cross-program model (no replay).

For each held-out kernel (none of its workloads is trained on), in fresh databases:

* ``--seeds`` runs of ``autotune tune --budget B`` with a model trained on the exports
  less the held-out kernels, and as many without any model (an empty database);
* ``--zero-shot-seeds`` runs of ``autotune tune --strategy zero-shot`` (``--k``
  measurements) with the model.

Every run has ``--size small --timing lean --loops serial`` and ``--tune-args``
(default ``--no-simplify --confirm-top 1``: the speedup reported is the confirmed one
either way, and simplifying costs more than the search at this budget). Runs already in
``--json`` are not run again, so an interrupted benchmark resumes, and kernels can be
split over several processes whose files are merged and summarized by one more call.

Prints, per kernel and overall, the share of runs reaching at least ``--within`` of the
best log speedup known for the kernel (the exports' confirmed best and every run here),
and the zero-shot share of that best (``--best-from``: earlier results of this benchmark
whose runs count toward the best too). Writes everything to ``--json``.

    python benchmarks/cost_model_live.py --data corpora/training/*.jsonl.gz \
        --kernel corpora/cpu/gemm.py ... --json out/cost_model_live.json
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from autotune.cost_model._dataset import merge, read_export


def run(command: list[str], log: Path) -> None:
    with log.open("a") as out:
        out.write("$ " + " ".join(command) + "\n")
        out.flush()
        subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, check=False)


def tune(kernel: Path, db: Path, out: Path, log: Path, *extra: str) -> dict[str, Any] | None:
    """One tuning run's JSON result (``None`` if it produced none)."""
    command = ["autotune", "tune", str(kernel), "--db", str(db), "--json", str(out), *extra]
    run(command, log)
    if not out.exists():
        return None
    results = json.loads(out.read_text())
    tuned = [r for r in results if r.get("status") == "tuned"]
    return tuned[0] if tuned else None


def speedup_of(result: dict[str, Any] | None) -> float | None:
    return None if result is None else float(result["speedup"])


def known_best(data: list[Path], kernel: str, inputs: set[str]) -> float:
    """The best confirmed speedup of ``kernel`` at the problem instances ``inputs`` in
    the exports (1.0 if none)."""
    dataset = merge([read_export(p) for p in data])
    best = 0.0
    for workload in dataset.workloads:
        if workload.kernel == kernel and workload.inputs in inputs:
            best = max(best, workload.confirmed_best())
    return math.exp(best)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, nargs="+", required=True)
    parser.add_argument("--kernel", type=Path, nargs="+", required=True)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--budget", type=int, default=40)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--zero-shot-seeds", type=int, default=3, help="zero-shot runs per kernel")
    parser.add_argument("--size", default="small")
    parser.add_argument("--within", type=float, default=0.9)
    parser.add_argument("--json", type=Path, required=True)
    parser.add_argument("--work", type=Path, default=None, help="keep databases and logs here")
    parser.add_argument(
        "--best-from",
        type=Path,
        nargs="*",
        default=[],
        help="earlier JSON files of this benchmark whose runs count toward the best known",
    )
    parser.add_argument(
        "--tune-args",
        default="--no-simplify --confirm-top 1",
        help="more options for every tuning run (the same for both arms)",
    )
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="cost-model-live-"))
    work.mkdir(parents=True, exist_ok=True)
    log = work / "runs.log"
    names = [k.stem for k in args.kernel]
    model_db = work / "model.db"
    started = time.time()
    if not model_db.exists():
        command = ["autotune", "model", "train", "--db", str(model_db)]
        for path in args.data:
            command += ["--data", str(path)]
        for name in names:
            command += ["--exclude-kernel", name]
        run(command, log)
    common = ["--size", args.size, "--timing", "lean", "--loops", "serial"]
    common += args.tune_args.split()
    report: dict[str, Any] = {"args": {k: str(v) for k, v in vars(args).items()}, "kernels": {}}
    if args.json.exists():
        report = json.loads(args.json.read_text())
    for kernel in args.kernel:
        entry = report["kernels"].setdefault(kernel.stem, {"with": [], "without": []})
        for seed in range(args.seeds):
            for arm in ("with", "without"):
                if len(entry[arm]) > seed:
                    continue  # done in an earlier, interrupted run of this script
                db = work / f"{kernel.stem}-{arm}-{seed}.db"
                db.unlink(missing_ok=True)
                if arm == "with":
                    shutil.copy(model_db, db)
                out = work / f"{kernel.stem}-{arm}-{seed}.json"
                out.unlink(missing_ok=True)
                result = tune(
                    kernel, db, out, log, "--budget", str(args.budget), "--seed", str(seed), *common
                )
                entry[arm].append(speedup_of(result))
                if result is not None:
                    entry["inputs"] = result.get("inputs")
                args.json.write_text(json.dumps(report, indent=1))
        runs = entry.setdefault("zero_shot_runs", [])
        for seed in range(len(runs), args.zero_shot_seeds):
            db = work / f"{kernel.stem}-zero-shot-{seed}.db"
            db.unlink(missing_ok=True)
            shutil.copy(model_db, db)
            out = work / f"{kernel.stem}-zero-shot-{seed}.json"
            out.unlink(missing_ok=True)
            result = tune(
                kernel,
                db,
                out,
                log,
                *("--strategy", "zero-shot", "--budget", str(args.k), "--seed", str(seed)),
                *common,
            )
            runs.append(speedup_of(result))
            if result is not None:
                entry["inputs"] = result.get("inputs")
                entry["zero_shot_compilations"] = result.get("compilations")
                entry["zero_shot_search_measurements"] = result.get("search_measurements")
                entry["zero_shot_notes"] = result.get("provenance", {}).get("notes")
            args.json.write_text(json.dumps(report, indent=1))
        args.json.write_text(json.dumps(report, indent=1))
    summarize(report, args, names)
    report["seconds"] = round(time.time() - started)
    args.json.write_text(json.dumps(report, indent=1))


def summarize(report: dict[str, Any], args: argparse.Namespace, names: list[str]) -> None:
    reached: dict[str, list[bool]] = {"with": [], "without": []}
    zero_shot_shares: list[float] = []
    for name in names:
        entry = report["kernels"][name]
        zero_shot = entry.get("zero_shot_runs", [])
        runs = [s for arm in ("with", "without") for s in entry[arm] if s]
        runs += [s for s in zero_shot if s]
        runs += [entry["zero_shot"]] if entry.get("zero_shot") else []  # older files
        runs += earlier_runs(args.best_from, name, entry.get("inputs"))
        best = max([known_best(args.data, name, {entry.get("inputs") or ""}), *runs])
        entry["best_known"] = round(best, 4)
        line = f"{name:<20} best {best:6.2f}x"
        for arm in ("with", "without"):
            shares = [share(s, best) for s in entry[arm]]
            entry[f"{arm}_shares"] = shares
            reached[arm] += [s >= args.within for s in shares]
            line += f"  {arm}: " + " ".join(f"{s:.2f}" for s in shares)
        entry["zero_shot_shares"] = [share(s, best) for s in zero_shot]
        zero_shot_shares += entry["zero_shot_shares"]
        print(line + "  zero-shot: " + " ".join(f"{s:.2f}" for s in entry["zero_shot_shares"]))
    for arm in ("with", "without"):
        flags = reached[arm]
        report[f"reached_{arm}_model"] = round(sum(flags) / len(flags), 4) if flags else None
    report["zero_shot_share_median"] = (
        round(statistics.median(zero_shot_shares), 4) if zero_shot_shares else None
    )
    print(
        f"runs reaching {args.within:.0%} of the best log speedup: with the model "
        f"{report['reached_with_model']}, without {report['reached_without_model']}; "
        f"zero-shot share median {report['zero_shot_share_median']} "
        f"({len(zero_shot_shares)} runs)"
    )


def earlier_runs(paths: list[Path], name: str, inputs: str | None) -> list[float]:
    """The speedups of ``name``'s runs at ``inputs`` in earlier JSON files."""
    out: list[float] = []
    for path in paths:
        entry = json.loads(path.read_text())["kernels"].get(name, {})
        if entry.get("inputs") == inputs:
            out += [s for arm in ("with", "without") for s in entry.get(arm, []) if s]
            out += [entry["zero_shot"]] if entry.get("zero_shot") else []
            out += [s for s in entry.get("zero_shot_runs", []) if s]
    return out


def share(speedup: float | None, best: float) -> float:
    if not speedup or best <= 1.0:
        return 0.0 if not speedup else 1.0
    return round(max(0.0, min(1.0, math.log(speedup) / math.log(best))), 4)


if __name__ == "__main__":
    main()
