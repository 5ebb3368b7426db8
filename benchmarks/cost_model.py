"""How good is the cross-program cost model? Figures from recorded data, no tuning.

1. Leave one family out on the committed exports (``corpora/training``): Kendall tau,
   top-1/5 regret, a-peak@10, and the share of the full search's log speedup that
   zero-shot with K measurements reaches, against the fixed config best on average,
   ``auto``'s first K measurements, the portfolio without a model and random K
   (see ``autotune/cost_model/_evaluate.py``). Only workloads whose full search
   confirmed a gain of at least 5% are scored.
2. Screening, by replay of the exhaustively recorded spaces (``corpora/spaces/cpu``):
   measurements ``auto`` needs to get within 5% of the best recorded config, with the
   model (trained without the space's family) and without it, over ``--seeds`` seeds.
3. Cost: training on the whole export, and scoring 1,000 candidates.

    python benchmarks/cost_model.py --json out/cost_model.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from autotune.context import TuneContext
from autotune.cost_model._boosted import BoostedCostModel
from autotune.cost_model._dataset import Dataset, kernel_family, merge, read_export
from autotune.cost_model._evaluate import evaluate
from autotune.cost_model._program import program_features
from autotune.cost_model._scoring import LoadedModel, ProgramScorer
from autotune.measure._record import space_from_definition
from autotune.measure._replay import ReplayData
from autotune.records import MeasureResult, Status
from autotune.strategies import make_strategy

ROOT = Path(__file__).resolve().parents[1]
TRAINING = ROOT / "corpora" / "training"
SPACES = ROOT / "corpora" / "spaces" / "cpu"


def load(paths: list[Path]) -> Dataset:
    return merge([read_export(p) for p in paths])


def screening(dataset: Dataset, seeds: int, budget: int, within: float) -> dict[str, Any]:
    """Evaluations to reach within ``within`` of the best recorded speedup, with and
    without the model, per recorded space (medians over seeds)."""
    per_space: dict[str, Any] = {}
    for path in sorted(SPACES.glob("*.json")):
        [kernel] = ReplayData.load(path).kernels.values()
        name = kernel.workload.kernel
        family = kernel_family(name)
        train = [w for w in dataset.workloads if w.family != family and w.kernel != name]
        X, y, _ = dataset.rows(train)
        model = BoostedCostModel().fit(X, y)
        workload = kernel.workload
        features = program_features(workload.ir_text, workload.arg_types, workload.inputs)
        best = max(r.speedup or 0.0 for _, r in kernel.results.values() if r.status is Status.OK)
        target = best * (1 - within)
        counts: dict[str, list[int]] = {"with": [], "without": []}
        for seed in range(seeds):
            for arm in ("with", "without"):
                space = space_from_definition(kernel.space)
                context = None
                if arm == "with":
                    context = TuneContext.detached(
                        space, workload, model=LoadedModel(model), features=features
                    )
                strategy = make_strategy("auto", space, seed, budget, context=context)
                counts[arm].append(_evaluations(strategy, kernel, target, budget))
        with_median = statistics.median(counts["with"])
        without_median = statistics.median(counts["without"])
        per_space[name] = {
            "family": family,
            "best": round(best, 4),
            "with_model": counts["with"],
            "without_model": counts["without"],
            "with_median": with_median,
            "without_median": without_median,
            "ratio": round(with_median / without_median, 4),
        }
        print(
            f"screening {name:<18} ({family}): within {within:.0%} of {best:.2f}x after "
            f"{with_median} evaluations with the model, {without_median} without "
            f"(ratio {with_median / without_median:.2f})"
        )
    ratios = [v["ratio"] for v in per_space.values()]
    return {
        "spaces": per_space,
        "ratio_median": round(statistics.median(ratios), 4) if ratios else None,
        "seeds": seeds,
        "within": within,
    }


def _evaluations(strategy: Any, kernel: Any, target: float, budget: int) -> int:
    """Unique evaluations until one reaches ``target`` (``budget + 1``: never)."""
    for i in range(budget):
        asked = strategy.ask(1)
        if not asked:
            return budget + 1
        [candidate] = asked
        _, result = kernel.results.get(
            candidate.key, (None, MeasureResult(Status.INVALID, "unrecorded"))
        )
        strategy.tell([candidate], [result])
        if result.status is Status.OK and (result.speedup or 0.0) >= target:
            return i + 1
    return budget + 1


def costs(dataset: Dataset) -> dict[str, Any]:
    """Seconds to train on the whole dataset (as ``model train --data`` does) and
    milliseconds to score 1,000 candidates."""
    from autotune.cost_model._train import train_on
    from autotune.db import open_database

    with tempfile.TemporaryDirectory() as folder:
        db = open_database(str(Path(folder) / "model.db"))
        started = time.perf_counter()
        done = train_on(db, "benchmark", dataset, source="export")
        train_s = time.perf_counter() - started
        db.close()
    X, y, _ = dataset.rows()
    model = BoostedCostModel().fit(X[:2000], y[:2000])
    # A real CPU space with loop transformations: every sampled config has a row of
    # its own (kernel parameters, which the model cannot see, would repeat rows).
    from autotune.kernels import load_kernels
    from autotune.passes import cpu_search_space

    [decl] = load_kernels(Path(__file__).parents[1] / "corpora" / "cpu" / "correlation.py")
    space = cpu_search_space(decl, loops="serial")
    rng = np.random.default_rng(0)
    configs = [space.sample(rng) for _ in range(1000)]
    scorer = ProgramScorer(model, dataset.workloads[0].features, space)
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        scorer.score(configs)
        timings.append(time.perf_counter() - started)
    return {
        "train_s": round(train_s, 2),
        "fit_s": round(done.seconds, 2),
        "train_rows": done.rows,
        "train_programs": done.programs,
        "score_1000_ms": round(1000 * statistics.median(timings), 1),
        "score_space": f"correlation, loops serial ({len(space.names)} dimensions)",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, nargs="*", default=sorted(TRAINING.glob("*.jsonl.gz")))
    parser.add_argument("--json", type=Path, required=True)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budget", type=int, default=200)
    parser.add_argument("--by", choices=["family", "program", "both"], default="family")
    parser.add_argument("--skip-screening", action="store_true")
    parser.add_argument("--skip-eval", action="store_true", help="only screening and cost")
    args = parser.parse_args()
    if not args.data:
        parser.error(f"no exports given and none in {TRAINING}")
    dataset = load(args.data)
    print(
        f"{len(dataset)} workloads, {len(dataset.programs())} programs from {len(args.data)} exports"
    )
    report: dict[str, Any] = {"data": [str(p) for p in args.data]}
    groupings = ["family", "program"] if args.by == "both" else [args.by]
    for grouping in [] if args.skip_eval else groupings:
        summary = evaluate(dataset, grouping, k=args.k).summary()
        report[grouping] = summary
        shown = {k: v for k, v in summary.items() if k != "workloads"}
        print(f"leave one {grouping} out: " + json.dumps(shown))
    report.update(report.get("family", report.get("program", {})))
    report.pop("workloads", None)
    if not args.skip_screening:
        report["screening"] = screening(dataset, args.seeds, args.budget, 0.05)
    report["cost"] = costs(dataset)
    print("cost: " + json.dumps(report["cost"]))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
