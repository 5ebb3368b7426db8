"""How many unique evaluations does each strategy need on recorded spaces?

For every space file in ``corpora/spaces/cpu`` (see ``record_spaces.py``), each
strategy runs with ``--seeds`` seeds against the recorded measurements (no building, no
timing). Prints the median number of unique evaluations to reach within 5% of the best
recorded speedup, and draws median best-so-far curves to ``--plot``.

    python benchmarks/strategies_replay.py [--seeds 30] [--budget 200] [--plot out/strategies.png]
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from autotune.measure._record import space_from_definition
from autotune.measure._replay import ReplayData
from autotune.records import MeasureResult, Status
from autotune.strategies import make_strategy

ROOT = Path(__file__).resolve().parents[1]
STRATEGIES = ("random", "tpe", "mutation", "evolution", "bandit")


def best_so_far(kernel, strategy_name: str, seed: int, budget: int, portfolio=()) -> list[float]:
    """Best recorded speedup after each unique evaluation of one replayed run."""
    space = space_from_definition(kernel.space)
    strategy = make_strategy(strategy_name, space, seed, budget, portfolio=portfolio)
    curve: list[float] = []
    best = 0.0
    while len(curve) < budget:
        asked = strategy.ask(1)
        if not asked:
            break
        [candidate] = asked
        _, result = kernel.results.get(
            candidate.key, (None, MeasureResult(Status.INVALID, "unrecorded"))
        )
        if result.status is Status.OK and result.speedup:
            best = max(best, result.speedup)
        curve.append(best)
        strategy.tell([candidate], [result])
    return curve


def evaluations_to_reach(curve: list[float], target: float) -> int:
    for i, value in enumerate(curve):
        if value >= target:
            return i + 1
    return len(curve) + 1  # not reached within the budget


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--budget", type=int, default=200)
    parser.add_argument("--within", type=float, default=0.05)
    parser.add_argument("--spaces", type=Path, default=ROOT / "corpora" / "spaces" / "cpu")
    parser.add_argument("--plot", type=Path, default=ROOT / "out" / "strategies.png")
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    args = parser.parse_args()
    names = args.strategies.split(",")
    curves: dict[tuple[str, str], list[list[float]]] = {}
    for path in sorted(args.spaces.glob("*.json")):
        data = ReplayData.load(path)
        for kernel_name, kernel in data.kernels.items():
            speedups = [
                r.speedup for _, r in kernel.results.values() if r.status is Status.OK and r.speedup
            ]
            best = max(speedups)
            target = (1 - args.within) * best
            n = len(kernel.results)
            line = [f"{kernel_name} ({n} configs, best {best:.3f}x):"]
            for name in names:
                runs = [
                    best_so_far(kernel, name, seed, min(args.budget, n))
                    for seed in range(args.seeds)
                ]
                curves[(kernel_name, name)] = runs
                needed = statistics.median(evaluations_to_reach(c, target) for c in runs)
                line.append(f"{name} {needed:g}")
            print("  ".join(line), flush=True)
    _plot(curves, names, args.plot)


def _plot(curves, names, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    kernels = sorted({k for k, _ in curves})
    fig, axes = plt.subplots(1, len(kernels), figsize=(4 * len(kernels), 3.2), squeeze=False)
    for ax, kernel in zip(axes[0], kernels, strict=True):
        for name in names:
            runs = curves[(kernel, name)]
            length = min(len(r) for r in runs)
            median = np.median(np.array([r[:length] for r in runs]), axis=0)
            ax.plot(np.arange(1, length + 1), median, label=name)
        ax.set_title(kernel)
        ax.set_xlabel("unique evaluations")
        ax.set_ylabel("best speedup so far (median)")
        ax.set_xscale("log")
    axes[0][0].legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
