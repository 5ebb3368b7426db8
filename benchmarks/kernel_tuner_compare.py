"""Kernel Tuner's strategies next to autotune's, on the same recorded spaces.

Every space file in ``--spaces`` (see ``record_spaces.py``) is converted to a Kernel
Tuner cache file (``_kt_cache.py``; ``time`` = reference / recorded speedup) and Kernel
Tuner's strategies run on it in simulation mode (``tune_kernel(..., cache=...,
simulation_mode=True)``: nothing is built or timed). autotune's strategies replay the
same space through ``strategies_replay.best_so_far``. Both get the same budget (unique
evaluations, failures included) and the same seeds; the table shows the median number
of unique evaluations to reach within ``--within`` (5%) of the best recorded speedup,
``budget + 1`` where a run does not reach it (``strategies_replay.evaluations_to_reach``
on the best-so-far curve, padded to the budget when a strategy stops early).

None of the five Kernel Tuner strategies compared here takes a seed (kernel_tuner 1.5.0:
``strategy_options["seed"]`` is refused by ``common.get_options``, and ``tune_kernel``'s
own ``seed`` is read only by the pymoo strategies); they draw from Python's ``random``
and NumPy's global state (SciPy's ``dual_annealing`` and ``LatinHypercube`` fall back to
it too), so both are seeded before each run. A strategy that takes ``seed`` in its
``_options`` gets it there as well.

``bayes_opt`` runs with ``method="multi-fast"`` unless ``--bayes-method`` says otherwise.
Its default, ``"multi-ultrafast"``, decides when to refit the Gaussian process from
wall-clock time (refit when the last evaluation took at least 5x the last prediction,
else every 6th round): in simulation an evaluation takes no time, so it would refit
rarely and at moments that depend on machine load, i.e. not reproducibly. On a real
device, where evaluating takes far longer than predicting, it refits every round, which
is what ``"multi-fast"`` does always. Other strategies run with Kernel Tuner's defaults;
note that ``simulated_annealing``'s schedule ends after about 75% of ``max_fevals``
unique evaluations (``T`` 0.1 -> 0.0001 on a schedule sized for 1 -> 0.0001) and that
``dual_annealing``'s ``maxfun`` and ``genetic_algorithm``'s stop rule (evaluations, repeats
included, up to the space size) count repeated configs, so these three can stop short of
the budget; the second table shows how many unique evaluations each really used.

    pip install kernel-tuner
    python benchmarks/kernel_tuner_compare.py [--seeds 30] [--budget 200] [--spaces DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import io
import random
import signal
import statistics
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _kt_cache import KTCache, cache_key, convert_file
from strategies_replay import STRATEGIES as AUTOTUNE_STRATEGIES
from strategies_replay import best_so_far, evaluations_to_reach

from autotune.measure._replay import ReplayData

ROOT = Path(__file__).resolve().parents[1]
KT_STRATEGIES = (
    "random_sample",
    "genetic_algorithm",
    "simulated_annealing",
    "bayes_opt",
    "dual_annealing",
)


class RunTimeout(BaseException):
    """One run took longer than ``--timeout`` (a BaseException so no strategy swallows it)."""


@contextlib.contextmanager
def time_limit(seconds: float):
    if seconds <= 0 or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum, frame):
        raise RunTimeout(f"no result after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)


@contextlib.contextmanager
def seeded_latin_hypercube():
    """Make SciPy's ``LatinHypercube`` (bayes_opt's initial sample) draw its seed from
    NumPy's global state: with no ``rng`` it takes fresh OS entropy, which no global
    seed reaches. Nothing else about the sampler changes."""
    import scipy.stats.qmc as qmc

    original = qmc.LatinHypercube

    def seeded(*args, **kwargs):
        if kwargs.get("rng") is None and kwargs.get("seed") is None:
            kwargs.pop("seed", None)
            kwargs["rng"] = int(np.random.randint(0, 2**31 - 1))
        return original(*args, **kwargs)

    modules = [qmc] + [
        m
        for name, m in list(sys.modules.items())
        if name.startswith("kernel_tuner") and getattr(m, "LatinHypercube", None) is original
    ]
    for module in modules:
        module.LatinHypercube = seeded
    try:
        yield
    finally:
        for module in modules:
            module.LatinHypercube = original


def kt_seed_support(strategy: str) -> tuple[bool, bool]:
    """(strategy_options accepts "seed", tune_kernel has a ``seed`` argument)."""
    from kernel_tuner import interface

    module = interface.strategy_map.get(strategy)
    options = getattr(module, "_options", {}) if module is not None else {}
    return "seed" in options, "seed" in inspect.signature(interface.tune_kernel).parameters


def kt_run(
    kt: KTCache, strategy: str, seed: int, budget: int, extra: dict | None = None
) -> list[dict]:
    """Kernel Tuner's results (evaluation order) for one simulated run."""
    from kernel_tuner import tune_kernel

    in_options, in_signature = kt_seed_support(strategy)
    options: dict = {**(extra or {}), "max_fevals": budget}
    if in_options:
        options["seed"] = seed
    kwargs = {"seed": seed} if in_signature else {}
    seed_everything(seed)
    chatter = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(chatter), seeded_latin_hypercube():
        warnings.simplefilter("ignore")
        results, _env = tune_kernel(
            kt.kernel_name,
            "",
            kt.problem_size,
            [],
            kt.tune_params,
            cache=str(kt.path),
            simulation_mode=True,
            strategy=strategy,
            strategy_options=options,
            quiet=True,
            verbose=False,
            **kwargs,
        )
    return results


def kt_options(strategy: str, args) -> dict:
    """Strategy options beyond ``max_fevals`` (see the module docstring)."""
    if strategy == "bayes_opt" and args.bayes_method:
        return {"method": args.bayes_method}
    return {}


def kt_curve(kt: KTCache, results: list[dict], budget: int) -> tuple[list[float], int]:
    """Best recorded speedup after each unique evaluation, and how many there were."""
    idents = list(kt.tune_params)
    seen: set[str] = set()
    curve: list[float] = []
    best = 0.0
    for result in results:
        if not result:
            continue
        key = cache_key([result[i] for i in idents])
        if key in seen:
            continue
        seen.add(key)
        best = max(best, kt.speedups.get(key, 0.0))
        curve.append(best)
    return curve[:budget], len(seen)


def padded(curve: list[float], budget: int) -> list[float]:
    """A strategy that stops early finds nothing more: hold its last value to the budget."""
    return curve + [curve[-1] if curve else 0.0] * (budget - len(curve))


@dataclass
class Cell:
    needed: list[int] = field(default_factory=list)
    used: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def text(self, budget: int) -> str:
        if not self.needed:
            return "error" if self.errors else "-"
        median = statistics.median(self.needed)
        text = f"{median:g}" if median <= budget else f">{budget}"
        return text + (f" ({len(self.errors)} err)" if self.errors else "")


def run_space(
    name: str, kt: KTCache, kernel, args, kt_names: list[str], at_names: list[str]
) -> dict[str, Cell]:
    n = len(kernel.results)
    budget = min(args.budget, n, kt.entries)
    target = (1 - args.within) * kt.best
    cells: dict[str, Cell] = {}
    for strategy in at_names:
        cell = cells.setdefault(f"at:{strategy}", Cell())
        started = time.perf_counter()
        for seed in range(args.seeds):
            try:
                with time_limit(args.timeout), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    curve = best_so_far(kernel, strategy, seed, budget)
            except (Exception, RunTimeout) as exc:
                cell.errors.append(f"seed {seed} failed: {type(exc).__name__}: {exc}")
                print(f"  {name}: autotune {strategy} {cell.errors[-1]}", flush=True)
                if len(cell.errors) >= args.max_errors:
                    break
                continue
            cell.used.append(len(curve))
            cell.needed.append(evaluations_to_reach(padded(curve, budget), target))
        cell.seconds = time.perf_counter() - started
    for strategy in kt_names:
        cell = cells.setdefault(f"kt:{strategy}", Cell())
        started = time.perf_counter()
        for seed in range(args.seeds):
            try:
                with time_limit(args.timeout):
                    results = kt_run(kt, strategy, seed, budget, kt_options(strategy, args))
                curve, used = kt_curve(kt, results, budget)
            except (Exception, RunTimeout) as exc:
                cell.errors.append(f"seed {seed} failed: {type(exc).__name__}: {exc}")
                print(f"  {name}: Kernel Tuner {strategy} {cell.errors[-1]}", flush=True)
                if len(cell.errors) >= args.max_errors:
                    print(
                        f"  {name}: giving up on {strategy} after {len(cell.errors)} errors",
                        flush=True,
                    )
                    break
                continue
            cell.used.append(used)
            cell.needed.append(evaluations_to_reach(padded(curve, budget), target))
        cell.seconds = time.perf_counter() - started
    return cells


def print_table(rows: list[tuple[str, str, dict[str, Cell], int]], columns: list[str]) -> None:
    def label(column: str) -> str:
        side, name = column.split(":", 1)
        return ("KT " if side == "kt" else "") + name

    width = max([len("space")] + [len(r[0]) for r in rows])
    widths = [max(len(label(c)), 9) for c in columns]
    header = f"{'space':<{width}}  {'configs/best':>14}  " + "  ".join(
        f"{label(c):>{w}}" for c, w in zip(columns, widths, strict=True)
    )
    print()
    print("median unique evaluations to reach within the target of the best recorded speedup")
    print(header)
    print("-" * len(header))
    for name, info, cells, budget in rows:
        print(
            f"{name:<{width}}  {info:>14}  "
            + "  ".join(
                f"{cells[c].text(budget) if c in cells else '-':>{w}}"
                for c, w in zip(columns, widths, strict=True)
            )
        )
    print()
    print("runs reaching the target within the budget / runs; median unique evaluations used")
    for name, _info, cells, budget in rows:
        parts = []
        for c in columns:
            cell = cells.get(c)
            if cell is None or not cell.needed:
                parts.append(f"{label(c)} -")
                continue
            hit = sum(1 for v in cell.needed if v <= budget)
            parts.append(
                f"{label(c)} {hit}/{len(cell.needed)} used {statistics.median(cell.used):g} "
                f"[{cell.seconds:.0f} s]"
            )
        print(f"{name} (budget {budget}): " + "; ".join(parts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--budget", type=int, default=200)
    parser.add_argument("--within", type=float, default=0.05)
    parser.add_argument("--spaces", type=Path, default=ROOT / "corpora" / "spaces" / "cpu")
    parser.add_argument(
        "--caches", type=Path, default=ROOT / "out" / "kt_caches",
        help="where the Kernel Tuner cache files are written",
    )  # fmt: skip
    parser.add_argument("--kt-strategies", default=",".join(KT_STRATEGIES))
    parser.add_argument(
        "--autotune-strategies", default=",".join(AUTOTUNE_STRATEGIES),
        help="comma-separated; empty for none",
    )  # fmt: skip
    parser.add_argument(
        "--bayes-method", default="multi-fast",
        help='bayes_opt\'s "method" option; empty for Kernel Tuner\'s default (multi-ultrafast)',
    )  # fmt: skip
    parser.add_argument(
        "--timeout", type=float, default=300.0,
        help="seconds one run may take before it counts as an error (0: no limit)",
    )  # fmt: skip
    parser.add_argument(
        "--max-errors", type=int, default=3,
        help="give up on a strategy for a space after this many failed runs",
    )  # fmt: skip
    args = parser.parse_args()
    kt_names = [s for s in args.kt_strategies.split(",") if s]
    at_names = [s for s in args.autotune_strategies.split(",") if s]

    try:
        import kernel_tuner

        version = getattr(kernel_tuner, "__version__", "?")
    except ImportError as exc:
        print(f"Kernel Tuner is not installed ({exc}); only autotune's strategies run.")
        print("Install it with: pip install kernel-tuner")
        version, kt_names = None, []
    if version is not None:
        seeded = {s: kt_seed_support(s) for s in kt_names if _known(s)}
        unknown = [s for s in kt_names if not _known(s)]
        if unknown:
            print(f"unknown Kernel Tuner strategies, skipped: {', '.join(unknown)}")
            kt_names = [s for s in kt_names if s not in unknown]
        takes = [s for s, (opt, _) in seeded.items() if opt]
        print(
            f"Kernel Tuner {version}; strategies taking a seed option: {', '.join(takes) or 'none'}; "
            f"all runs seed Python's random and NumPy's global state"
            + (
                "; tune_kernel(seed=) is passed too"
                if any(sig for _, sig in seeded.values())
                else ""
            )
        )

    paths = sorted(args.spaces.glob("*.json"))
    if not paths:
        print(f"no space files in {args.spaces}")
        return
    print(
        f"{len(paths)} space files, budget {args.budget}, {args.seeds} seeds, "
        f"target within {args.within:.0%} of the best; caches in {args.caches}",
        flush=True,
    )
    columns = [f"at:{s}" for s in at_names] + [f"kt:{s}" for s in kt_names]
    rows = []
    for path in paths:
        try:
            data = ReplayData.load(path)
            caches = convert_file(path, args.caches)
        except Exception as exc:
            print(f"{path.name}: skipped: {type(exc).__name__}: {exc}", flush=True)
            continue
        for kernel_name, kernel in data.kernels.items():
            kt = caches[kernel_name]
            name = path.stem if len(data.kernels) == 1 else f"{path.stem}.{kernel_name}"
            budget = min(args.budget, len(kernel.results), kt.entries)
            print(
                f"{name}: {len(kernel.results)} configs ({kt.entries} in the product), "
                f"best {kt.best:.3f}x, failures {kt.errors or 'none'}, budget {budget}",
                flush=True,
            )
            cells = run_space(name, kt, kernel, args, kt_names, at_names)
            line = "  ".join(
                f"{c.split(':', 1)[1]} {cells[c].text(budget)}" for c in columns if c in cells
            )
            print(f"  {line}", flush=True)
            rows.append((name, f"{len(kernel.results)}/{kt.best:.2f}x", cells, budget))
    if rows:
        print_table(rows, columns)


def _known(strategy: str) -> bool:
    from kernel_tuner import interface

    return strategy in interface.strategy_map


if __name__ == "__main__":
    main()
