"""Add each workload's loop facts to exports written before exports carried them.

A loop fact tells, per loop-order dimension of a workload's space, the band's order as
written and what each of its loops costs innermost (see
``autotune/cost_model/_encoding.py``). ``autotune model export`` writes them for
workloads tuned since; for older exports they are computed again from the kernels'
sources, found by kernel name among ``--kernels`` (files or folders of modules), with
the loop mode the sweeps used (``serial``: the same bands and orders as ``parallel``).
An export is rewritten in place only when every workload with loop dimensions in its
trials got its facts, and the trials' loop orders all belong to those dimensions.

    python -m autotune.cost_model._synthetic --seed 1 --count 200 --out /tmp/syn
    python corpora/training/add_loop_facts.py corpora/training/*.jsonl.gz \
        --kernels corpora/cpu corpora/numpy /tmp/syn
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from autotune.cost_model._dataset import Dataset, WorkloadData, read_export, write_export
from autotune.cost_model._encoding import BandFacts, loop_facts
from autotune.kernels import load_kernels
from autotune.passes import cpu_search_space


def kernel_facts(sources: list[Path]) -> dict[str, dict[str, BandFacts]]:
    """The loop facts of every kernel declared in ``sources``, by kernel name."""
    files = [f for s in sources for f in (sorted(s.glob("*.py")) if s.is_dir() else [s])]
    out: dict[str, dict[str, BandFacts]] = {}
    for path in files:
        if path.name.startswith("_"):
            continue
        for decl in load_kernels(path):
            out[decl.name] = loop_facts(cpu_search_space(decl, loops="serial"))
    return out


def _orders_used(workload: WorkloadData) -> set[str]:
    return {
        key
        for trial in workload.trials
        for key in trial.config
        if key.startswith("loops.") and key.endswith(".order")
    }


def with_facts(dataset: Dataset, known: dict[str, dict[str, BandFacts]]) -> Dataset:
    """``dataset`` with the facts of each workload's kernel. Raises ValueError when a
    workload that reorders loops has no facts, or orders the facts do not know."""
    out = []
    for workload in dataset.workloads:
        used = _orders_used(workload)
        facts = known.get(workload.kernel, {})
        if used - set(facts):
            missing = sorted(used - set(facts))[:3]
            raise ValueError(f"{workload.kernel}: no loop facts for {missing}")
        out.append(dataclasses.replace(workload, loops=facts) if facts else workload)
    return dataclasses.replace(dataset, workloads=tuple(out))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("exports", type=Path, nargs="+")
    parser.add_argument("--kernels", type=Path, nargs="+", required=True)
    args = parser.parse_args()
    known = kernel_facts(args.kernels)
    for path in args.exports:
        dataset = read_export(path)
        try:
            filled = with_facts(dataset, known)
        except ValueError as exc:
            print(f"{path}: left as it was: {exc}", file=sys.stderr)
            return 1
        made = {k: v for k, v in dataset.made.items() if k != "header"}
        write_export(filled, path, made)
        count = sum(1 for w in filled.workloads if w.loops)
        print(f"{path}: loop facts for {count} of {len(filled.workloads)} workloads")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
