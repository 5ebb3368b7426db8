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

That best is the largest of many confirmations taken at different times and loads, so
it is biased upward (the winner's curse). ``--retime P`` measures again, head to head,
every distinct winning config of a kernel's runs and the exports' two best confirmed
configs: each against the baseline, paired and interleaved with the confirmation
settings, in ``P`` passes in a shuffled order, each pass in a fresh worker. A config's speedup is the
median of its passes; the shares are then taken against the best of these, and are
reported beside the ones above (``retimed``). The retime also measures the fixed
config best on average over the training programs (the recipe of baseline (ii) in
``benchmarks/cost_model.py``, instantiated on each kernel), so that zero-shot is
compared with it in real measurements, not only by replay.

    python benchmarks/cost_model_live.py --data corpora/training/*.jsonl.gz \
        --kernel corpora/cpu/gemm.py ... --json out/cost_model_live.json
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from autotune.cost_model._dataset import Dataset, merge, read_export


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


def winner_config(result: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if result is None else result.get("best_config")


@functools.cache
def exports(data: tuple[Path, ...]) -> Dataset:
    """The exports ``data`` merged, read once however many kernels ask."""
    return merge([read_export(p) for p in data])


def known_best(data: list[Path], kernel: str, inputs: set[str]) -> float:
    """The best confirmed speedup of ``kernel`` at the problem instances ``inputs`` in
    the exports (1.0 if none)."""
    dataset = exports(tuple(data))
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
    parser.add_argument(
        "--retime",
        type=int,
        default=0,
        metavar="P",
        help="time every kernel's winners and best known configs again, head to head, "
        "in P passes (0: not)",
    )
    parser.add_argument(
        "--configs-from",
        type=Path,
        nargs="*",
        default=[],
        help="work folders of earlier runs, for winning configs the JSON does not hold",
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
                entry.setdefault(f"{arm}_configs", []).append(winner_config(result))
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
            entry.setdefault("zero_shot_configs", []).append(winner_config(result))
            if result is not None:
                entry["inputs"] = result.get("inputs")
                entry["zero_shot_compilations"] = result.get("compilations")
                entry["zero_shot_search_measurements"] = result.get("search_measurements")
                entry["zero_shot_notes"] = result.get("provenance", {}).get("notes")
            args.json.write_text(json.dumps(report, indent=1))
        args.json.write_text(json.dumps(report, indent=1))
    summarize(report, args, names)
    if args.retime:
        for kernel in args.kernel:
            retime(report["kernels"][kernel.stem], kernel, args)
            args.json.write_text(json.dumps(report, indent=1))
        summarize_retimed(report, args, names)
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
    totals(report, "", reached, zero_shot_shares, args.within)


def totals(
    report: dict[str, Any],
    prefix: str,
    reached: dict[str, list[bool]],
    zero_shot_shares: list[float],
    within: float,
) -> None:
    """Store and print the share of runs per arm that reached ``within`` of the best,
    and the zero-shot runs' median share (keys start with ``prefix``)."""
    for arm in ("with", "without"):
        flags = reached[arm]
        report[f"{prefix}reached_{arm}_model"] = (
            round(sum(flags) / len(flags), 4) if flags else None
        )
    median = round(statistics.median(zero_shot_shares), 4) if zero_shot_shares else None
    report[f"{prefix}zero_shot_share_median"] = median
    print(
        f"{prefix.rstrip('_') + ': ' if prefix else ''}runs reaching {within:.0%} of the best "
        f"log speedup: with the model {report[f'{prefix}reached_with_model']}, without "
        f"{report[f'{prefix}reached_without_model']}; zero-shot share median {median} "
        f"({len(zero_shot_shares)} runs)"
    )


RUN_FILES = {"with": "{}-with-{}.json", "without": "{}-without-{}.json"}
RUN_FILES["zero_shot"] = "{}-zero-shot-{}.json"


def run_configs(entry: dict[str, Any], name: str, arm: str, folders: list[Path]) -> list[Any]:
    """The winning config of each run of ``arm`` (``None`` where a run found none),
    from the JSON or else from the runs' own result files in ``folders``."""
    runs = entry.get("zero_shot_runs" if arm == "zero_shot" else arm, [])
    stored = entry.get(f"{arm}_configs")
    if stored is not None and len(stored) == len(runs):
        return list(stored)
    configs = []
    for seed in range(len(runs)):
        found = None
        for folder in folders:
            path = folder / RUN_FILES[arm].format(name, seed)
            if path.exists():
                results = [r for r in json.loads(path.read_text()) if r.get("status") == "tuned"]
                found = results[0].get("best_config") if results else None
                break
        configs.append(found)
    entry[f"{arm}_configs"] = configs
    return configs


def exports_best_configs(data: list[Path], kernel: str, inputs: str, count: int = 2) -> list[Any]:
    """The ``count`` best confirmed configs of ``kernel`` at ``inputs`` in the exports."""
    dataset = exports(tuple(data))
    confirmed = [
        t
        for w in dataset.workloads
        if w.kernel == kernel and w.inputs == inputs
        for t in w.trials
        if t.phase == "confirm" and t.status == "ok" and t.speedup
    ]
    confirmed.sort(key=lambda t: -(t.speedup or 0))
    return [dict(t.config) for t in confirmed[:count]]


def retime(entry: dict[str, Any], kernel: Path, args: argparse.Namespace) -> None:
    """Time ``kernel``'s distinct winning configs and the exports' best, head to head
    (see the module's text), into ``entry["retimed"]``: config key -> speedup."""
    import random

    from autotune.measure import KernelRef, LocalRunner, MeasureRequest
    from autotune.records import Status, TimingSettings

    configs: dict[str, dict[str, Any]] = {}
    for arm in ("with", "without", "zero_shot"):
        for config in run_configs(entry, kernel.stem, arm, args.configs_from):
            if config:
                configs[config_key(config)] = config
    for config in exports_best_configs(args.data, kernel.stem, entry.get("inputs") or ""):
        configs[config_key(config)] = config
    fixed = fixed_config(kernel, args)
    if fixed is not None:
        entry["fixed_config"] = fixed
        configs[config_key(fixed)] = fixed
    done = entry.setdefault("retimed_passes", {})
    ref = KernelRef(str(kernel.resolve()), None, kernel.stem, size=args.size)
    settings = TimingSettings().confirm()
    order = sorted(configs)
    for turn in range(args.retime):
        random.Random(turn).shuffle(order)
        # A fresh worker per pass: the same code can land in a different layout mode in
        # another process, and the median over passes should span those modes.
        with LocalRunner() as runner:
            for key in order:
                if len(done.get(key, [])) > turn:
                    continue
                [result] = runner.measure(ref, [MeasureRequest(configs[key], settings)])
                speedup = result.speedup if result.status is Status.OK else None
                done.setdefault(key, []).append(float(speedup) if speedup else None)
    entry["retimed"] = {
        key: round(statistics.median(v for v in values if v), 4)
        for key, values in done.items()
        if any(values)
    }


@functools.cache
def fixed_recipe(data: tuple[Path, ...], held_out: tuple[str, ...]) -> Any:
    """The one recipe best on average over the exports' hand-written workloads less the
    held-out kernels (baseline (ii) of ``benchmarks/cost_model.py``), or ``None``."""
    from autotune.cost_model._evaluate import _best_on_average

    train = [w for w in exports(data).workloads if not w.synthetic and w.kernel not in held_out]
    return _best_on_average(train)


def fixed_config(kernel: Path, args: argparse.Namespace) -> dict[str, Any] | None:
    """The fixed recipe as a config of ``kernel``'s space (the space the runs search)."""
    import numpy as np

    from autotune.kernels import load_kernels
    from autotune.passes import cpu_search_space

    held_out = tuple(sorted(k.stem for k in args.kernel))
    recipe = fixed_recipe(tuple(args.data), held_out)
    if recipe is None:
        return None
    [decl] = load_kernels(kernel)
    space = cpu_search_space(decl, loops="serial")
    config = recipe.instantiate(space, np.random.default_rng(0))
    return None if config is None else dict(config)


def config_key(config: dict[str, Any]) -> str:
    return json.dumps(config, sort_keys=True)


def summarize_retimed(report: dict[str, Any], args: argparse.Namespace, names: list[str]) -> None:
    """Shares of the retimed best, per run: a run's winner at its retimed speedup."""
    reached: dict[str, list[bool]] = {"with": [], "without": []}
    zero_shot_shares: list[float] = []
    fixed_shares: list[float] = []
    beats: list[bool] = []
    kernels_beaten: list[bool] = []
    print("head to head, retimed:")
    for name in names:
        entry = report["kernels"][name]
        retimed = entry.get("retimed", {})
        best = max([1.0, *retimed.values()])
        entry["retimed_best"] = round(best, 4)
        line = f"{name:<20} best {best:6.2f}x"
        for arm in ("with", "without", "zero_shot"):
            speedups = [
                retimed.get(config_key(c)) if c else None
                for c in run_configs(entry, name, arm, args.configs_from)
            ]
            shares = [share(s, best) if s else 0.0 for s in speedups]
            entry[f"{arm}_retimed_shares"] = shares
            if arm == "zero_shot":
                zero_shot_shares += shares
            else:
                reached[arm] += [s >= args.within for s in shares]
            line += f"  {arm}: " + " ".join(f"{s:.2f}" for s in shares)
        fixed = retimed.get(config_key(entry["fixed_config"])) if "fixed_config" in entry else None
        if fixed is not None and entry["zero_shot_retimed_shares"]:
            entry["fixed_retimed_share"] = share(fixed, best)
            fixed_shares.append(entry["fixed_retimed_share"])
            mine = entry["zero_shot_retimed_shares"]
            beats += [s > entry["fixed_retimed_share"] for s in mine]
            kernels_beaten.append(statistics.median(mine) > entry["fixed_retimed_share"])
            line += f"  fixed: {entry['fixed_retimed_share']:.2f}"
        print(line)
    totals(report, "retimed_", reached, zero_shot_shares, args.within)
    if fixed_shares:
        report["retimed_fixed_share_median"] = round(statistics.median(fixed_shares), 4)
        report["retimed_zero_shot_beats_fixed_runs"] = round(sum(beats) / len(beats), 4)
        report["retimed_zero_shot_beats_fixed_kernels"] = round(
            sum(kernels_beaten) / len(kernels_beaten), 4
        )
        print(
            f"fixed config: share median {report['retimed_fixed_share_median']}; zero-shot "
            f"beats it in {sum(beats)} of {len(beats)} runs, and on "
            f"{sum(kernels_beaten)} of {len(kernels_beaten)} kernels by its median run"
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
