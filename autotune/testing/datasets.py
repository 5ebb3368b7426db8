"""Small, seeded datasets of measured configs for the cost-model tests."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from autotune.cost_model._dataset import Dataset, Measured, WorkloadData
from autotune.cost_model._program import PROGRAM_FEATURES

FAMILIES = ("dense-linear-algebra", "stencil", "reduction")
CONFIGS = [
    {"flags.fastmath": fastmath, "pipeline.speed_level": level}
    for fastmath in ("off", "all")
    for level in (1, 2, 3)
]


def true_gain(program: int, config: Mapping[str, Any]) -> float:
    """Log speedup of ``config`` on program ``program``: fastmath pays on even
    programs, speed level 3 is the baseline, lower levels cost more on odd ones."""
    gain = 0.4 if config["flags.fastmath"] == "all" and program % 2 == 0 else 0.0
    gain -= (3 - int(config["pipeline.speed_level"])) * (0.05 + 0.1 * (program % 2))
    return gain


def workload(program: int, size: int = 0, family: str | None = None) -> WorkloadData:
    """One workload of program ``program`` (its features say which kind it is), with
    every config measured in search and the best one confirmed."""
    rng = np.random.default_rng([program, size])
    features = {name: 0.0 for name in PROGRAM_FEATURES}
    features["prog.op.fmul"] = float(program % 2) * 10 + rng.random()
    features["prog.size.log2_elements"] = 10.0 + size
    trials = []
    for config in CONFIGS:
        speedup = math.exp(true_gain(program, config) + rng.normal(0, 0.01))
        trials.append(Measured(config, "search", "ok", speedup))
    best = max(trials, key=lambda t: t.speedup or 0.0)
    trials.append(Measured(best.config, "confirm", "ok", best.speedup))
    return WorkloadData(
        key=f"w{program}-{size}",
        kernel=f"k{program}",
        ir_hash=f"p{program}",
        family=family or FAMILIES[program % len(FAMILIES)],
        arg_types="(array(float64, 1d, C),)",
        inputs=str(100 * (size + 1)),
        target_key="t",
        features=features,
        trials=tuple(trials),
    )


def dataset(programs: int = 12) -> Dataset:
    """``programs`` programs, the first at two problem sizes."""
    workloads = [workload(p) for p in range(programs)] + [workload(0, size=1)]
    return Dataset(tuple(sorted(workloads, key=lambda w: (w.kernel, w.key))), {"note": "test"})
