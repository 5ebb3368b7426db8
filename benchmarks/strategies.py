"""Search strategies on recorded spaces: autotune's next to Kernel Tuner's.

For every recorded space in ``--spaces`` each strategy runs with ``--seeds`` seeds
against the recorded measurements (no building, no timing): autotune's strategies
through ``strategies_replay.best_so_far``, Kernel Tuner's in its simulation mode on a
converted cache file (see ``kernel_tuner_compare.py`` for how, and for how those runs
are seeded). Every strategy gets the same budget of unique evaluations. The figure of
merit is the median number of unique evaluations to reach within ``--within`` (5%) of
the best recorded speedup (``budget + 1`` when a run never does).

``auto`` is the default strategy. ``auto+portfolio`` is the same with a portfolio of
known-good configs learned on the *other* spaces (the top 5 of each, rewarded with
their recorded log speedups): what a database shared across kernels gives a new one.

Writes ``--json PATH``: space -> strategy -> {"evals_to_5pct": median, "seeds": n}
(Kernel Tuner's strategies prefixed ``kt:``), prints the targets of the default
strategy, and draws median best-so-far curves to ``--plot``.

    pip install kernel-tuner
    python benchmarks/strategies.py [--seeds 30] [--budget 100] [--json out/strategies.json]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kernel_tuner_compare import KT_STRATEGIES, kt_curve, kt_run, padded
from strategies_replay import best_so_far, evaluations_to_reach

from autotune.candidate import Candidate
from autotune.measure._replay import ReplayData
from autotune.records import PortfolioArm, Status

ROOT = Path(__file__).resolve().parents[1]
STRATEGIES = ("auto", "random", "tpe", "model", "mutation", "evolution", "auto+portfolio")
PORTFOLIO_PER_SPACE = 5


def load_spaces(folder: Path) -> dict[str, object]:
    return load_space_files(sorted(folder.glob("*.json")))


def load_space_files(paths: list[Path]) -> dict[str, object]:
    """The kernels of the replay files ``paths``, each named after its file (and after
    itself too where the file's name does not start with its name)."""
    spaces = {}
    for path in paths:
        for name, kernel in ReplayData.load(path).kernels.items():
            alone = name == path.stem.split(".")[0]
            spaces[path.stem if alone else f"{path.stem}.{name}"] = (path, kernel)
    return spaces


def best_recorded(kernel) -> float:
    return max(r.speedup for _, r in kernel.results.values() if r.status is Status.OK and r.speedup)


def portfolio_without(spaces: dict, left_out: str) -> list[PortfolioArm]:
    """The top configs of every other space, each rewarded with its log speedup."""
    arms = []
    for name, (_, kernel) in spaces.items():
        if name == left_out:
            continue
        ranked = sorted(
            (r.speedup, config)
            for config, r in kernel.results.values()
            if r.status is Status.OK and r.speedup
        )[-PORTFOLIO_PER_SPACE:]
        for speedup, config in ranked:
            arms.append(
                PortfolioArm(Candidate.from_config(config).key, config, (math.log(speedup),))
            )
    return arms


def curve(kernel, strategy_name: str, seed: int, budget: int, portfolio=()) -> list[float]:
    """Best recorded speedup after each unique evaluation of one replayed run."""
    name = "auto" if strategy_name == "auto+portfolio" else strategy_name
    return best_so_far(kernel, name, seed, budget, portfolio)


def compare_strategies(
    spaces: dict,
    space_name: str,
    names: list[str],
    seeds: int,
    budget: int,
    within: float,
    curves: dict[tuple[str, str], list[list[float]]],
) -> dict[str, dict[str, float]]:
    """Each of autotune's strategies ``names`` on the space ``space_name`` of ``spaces``:
    the median over ``seeds`` runs of the unique evaluations it needs to reach within
    ``within`` of the best recorded speedup. Prints a line per strategy and adds its
    padded best-so-far curves to ``curves``."""
    _, kernel = spaces[space_name]
    target = (1 - within) * best_recorded(kernel)
    row: dict[str, dict[str, float]] = {}
    for name in names:
        started = time.perf_counter()
        arms = portfolio_without(spaces, space_name) if name == "auto+portfolio" else ()
        runs = [curve(kernel, name, seed, budget, arms) for seed in range(seeds)]
        curves[(space_name, name)] = [padded(r, budget) for r in runs]
        needed = [evaluations_to_reach(padded(r, budget), target) for r in runs]
        row[name] = {"evals_to_5pct": statistics.median(needed), "seeds": len(runs)}
        print(
            f"  {space_name} {name}: {row[name]['evals_to_5pct']:g} "
            f"[{time.perf_counter() - started:.0f} s]",
            flush=True,
        )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--within", type=float, default=0.05)
    parser.add_argument("--spaces", type=Path, default=ROOT / "corpora" / "spaces" / "cpu")
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    parser.add_argument("--kt-strategies", default=",".join(KT_STRATEGIES))
    parser.add_argument("--caches", type=Path, default=ROOT / "out" / "kt_caches")
    parser.add_argument("--json", type=Path, default=ROOT / "out" / "strategies.json")
    parser.add_argument("--plot", type=Path, default=ROOT / "out" / "strategies.png")
    args = parser.parse_args()
    names = [s for s in args.strategies.split(",") if s]
    kt_names = [s for s in args.kt_strategies.split(",") if s]
    try:
        import kernel_tuner  # noqa: F401
        from _kt_cache import convert_file
    except ImportError:
        print(
            "Kernel Tuner is not installed (pip install kernel-tuner); its strategies are skipped"
        )
        kt_names = []

    spaces = load_spaces(args.spaces)
    print(
        f"{len(spaces)} spaces, budget {args.budget}, {args.seeds} seeds, within {args.within:.0%}"
    )
    table: dict[str, dict[str, dict[str, float]]] = {}
    curves: dict[tuple[str, str], list[list[float]]] = {}
    for space_name, (path, kernel) in spaces.items():
        budget = min(args.budget, len(kernel.results))
        target = (1 - args.within) * best_recorded(kernel)
        row = table.setdefault(space_name, {})
        row.update(
            compare_strategies(spaces, space_name, names, args.seeds, budget, args.within, curves)
        )
        if kt_names:
            kt = convert_file(path, args.caches)[next(iter(ReplayData.load(path).kernels))]
            for name in kt_names:
                started = time.perf_counter()
                needed, kt_curves = [], []
                for seed in range(args.seeds):
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        results = kt_run(
                            kt,
                            name,
                            seed,
                            budget,
                            {"method": "multi-fast"} if name == "bayes_opt" else None,
                        )
                    got, _used = kt_curve(kt, results, budget)
                    kt_curves.append(padded(got, budget))
                    needed.append(evaluations_to_reach(padded(got, budget), target))
                curves[(space_name, f"kt:{name}")] = kt_curves
                row[f"kt:{name}"] = {
                    "evals_to_5pct": statistics.median(needed),
                    "seeds": len(needed),
                }
                print(
                    f"  {space_name} kt:{name}: {row[f'kt:{name}']['evals_to_5pct']:g} "
                    f"[{time.perf_counter() - started:.0f} s]",
                    flush=True,
                )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(table, indent=2, sort_keys=True))
    print(f"wrote {args.json}")
    print_table(table)
    check_targets(table)
    plot(curves, args.plot)


def print_table(table) -> None:
    columns = sorted(
        {c for row in table.values() for c in row}, key=lambda c: (c.startswith("kt:"), c)
    )
    print("\nmedian unique evaluations to reach within 5% of the best recorded speedup")
    print(f"{'space':<20}" + "".join(f"{c:>22}" for c in columns))
    for space, row in table.items():
        print(
            f"{space:<20}"
            + "".join(
                f"{row[c]['evals_to_5pct']:>22g}" if c in row else f"{'-':>22}" for c in columns
            )
        )


def check_targets(table) -> None:
    """The default strategy's targets: <= 1/4 of random's evaluations where random needs
    >= 20; never more than 10% worse than TPE; better than the best Kernel Tuner
    strategy on most spaces."""
    print()
    wins = 0
    for space, row in table.items():
        auto, rnd = row["auto"]["evals_to_5pct"], row.get("random", {}).get("evals_to_5pct")
        notes = []
        if rnd is not None and rnd >= 20:
            notes.append(f"vs random {auto / rnd:.2f} (target <= 0.25)")
        if "tpe" in row:
            notes.append(f"vs tpe {auto / row['tpe']['evals_to_5pct']:.2f} (target <= 1.10)")
        kt = [v["evals_to_5pct"] for k, v in row.items() if k.startswith("kt:")]
        if kt:
            wins += auto < min(kt)
            notes.append(f"best KT {min(kt):g}")
        print(f"{space}: auto {auto:g}; " + "; ".join(notes))
    if any(k.startswith("kt:") for row in table.values() for k in row):
        print(f"auto beats the best Kernel Tuner strategy on {wins} of {len(table)} spaces")


def plot(curves, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    spaces = sorted({s for s, _ in curves})
    names = sorted({n for _, n in curves}, key=lambda n: (n.startswith("kt:"), n))
    cols = min(4, len(spaces))
    rows = -(-len(spaces) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.6 * rows), squeeze=False)
    for ax in axes.flat[len(spaces) :]:
        ax.set_visible(False)
    for ax, space in zip(axes.flat, spaces, strict=False):
        for name in names:
            runs = curves.get((space, name))
            if not runs:
                continue
            median = np.median(np.array(runs), axis=0)
            style = "--" if name.startswith("kt:") else "-"
            width = 2.2 if name == "auto" else 1.0
            ax.plot(np.arange(1, len(median) + 1), median, style, lw=width, label=name)
        ax.set_title(space)
        ax.set_xscale("log")
        ax.set_xlabel("unique evaluations")
        ax.set_ylabel("best speedup so far (median)")
    axes.flat[len(spaces) - 1].legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
