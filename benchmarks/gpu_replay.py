"""Search strategies on recorded GPU spaces: the comparison of ``strategies.py``.

For every replay file in ``--spaces`` (``corpora/spaces/gpu``, converted from GPU
tuning-space files by ``python -m autotune.measure._gpu_spaces``) and every file given
on the command line, each strategy runs with ``--seeds`` seeds against the recorded
measurements (no building, no timing), exactly as ``strategies.py`` runs the CPU
spaces: the figure of merit is the median number of unique evaluations to reach within
``--within`` (5%) of the best recorded speedup (``budget + 1`` when a run never does).

A space without runtimes (static compile data: every valid config compiled, none run)
gets one line saying so and what it needs: a recording on a GPU. Configs recorded
``invalid`` (they break a restriction) count as evaluations here, since a replay file
holds no restriction expressions; a tune with the kernel's declaration never proposes
them.

Writes ``--json PATH``: {"spaces": space -> strategy -> {"evals_to_5pct": median,
"seeds": n}, "without_runtimes": [space, ...]}.

    python benchmarks/gpu_replay.py [FILE.json ...] [--seeds 30] [--json out/gpu_replay.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from strategies import (
    check_targets,
    compare_strategies,
    load_space_files,
    load_spaces,
    print_table,
)

from autotune.errors import InputError
from autotune.records import Status

ROOT = Path(__file__).resolve().parents[1]
STRATEGIES = ("auto", "random")


def has_runtimes(kernel) -> bool:
    return any(r.status is Status.OK and r.speedup for _, r in kernel.results.values())


def no_runtimes_line(space_name: str, kernel) -> str:
    counts = Counter(str(r.status) for _, r in kernel.results.values())
    found = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    return (
        f"{space_name}: no runtimes recorded ({found}); it needs a recording on a GPU "
        "(a gpu-tuning-space/v1 file, converted with python -m autotune.measure._gpu_spaces)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, help="more replay files")
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--within", type=float, default=0.05)
    parser.add_argument("--spaces", type=Path, default=ROOT / "corpora" / "spaces" / "gpu")
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    parser.add_argument("--json", type=Path, default=ROOT / "out" / "gpu_replay.json")
    args = parser.parse_args()
    names = [s for s in args.strategies.split(",") if s]
    try:
        spaces = load_spaces(args.spaces) if args.spaces.is_dir() else {}
        spaces.update(load_space_files(args.files))
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    measured = {n: s for n, s in spaces.items() if has_runtimes(s[1])}
    print(
        f"{len(spaces)} spaces ({len(measured)} with runtimes), budget {args.budget}, "
        f"{args.seeds} seeds, within {args.within:.0%}"
    )
    table: dict[str, dict[str, dict[str, float]]] = {}
    curves: dict[tuple[str, str], list[list[float]]] = {}
    for space_name, (_, kernel) in spaces.items():
        if space_name not in measured:
            print(no_runtimes_line(space_name, kernel))
            continue
        invalid = sum(r.status is Status.INVALID for _, r in kernel.results.values())
        print(f"{space_name}: {len(kernel.results)} configs, {invalid} recorded invalid")
        budget = min(args.budget, len(kernel.results))
        table[space_name] = compare_strategies(
            measured, space_name, names, args.seeds, budget, args.within, curves
        )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    without = [n for n in spaces if n not in measured]
    args.json.write_text(
        json.dumps({"spaces": table, "without_runtimes": without}, indent=2, sort_keys=True)
    )
    print(f"wrote {args.json}")
    if table:
        print_table(table)
        if "auto" in names:
            check_targets(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
