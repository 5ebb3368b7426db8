"""Cost models: program features (from llvmlite's parsed IR), one config encoding for
the per-run and the cross-program model, the estimator interface and a gradient-boosted
model that learns across programs, with what uses it: scoring a program's configs,
transferable recipes and their coreset, datasets and leave-one-out evaluation.

Names are imported on first use: the search strategies need only the encoding, and
scikit-learn's ensembles take a noticeable time to import.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "BaseCostModel": "_base",
    "BoostedCostModel": "_boosted",
    "IncompatibleModelError": "_boosted",
    "TRANSFERABLE_SCHEMA": "_encoding",
    "run_columns": "_encoding",
    "run_features": "_encoding",
    "schema_hash": "_encoding",
    "transferable_features": "_encoding",
    "transferable_matrix": "_encoding",
    "transferable_vector": "_encoding",
    "PROGRAM_FEATURES": "_program",
    "Dataset": "_dataset",
    "read_export": "_dataset",
    "write_export": "_dataset",
    "evaluate": "_evaluate",
    "ProgramScorer": "_scoring",
    "Recipe": "_coreset",
    "build_coreset": "_coreset",
    "cached_program_features": "_program",
    "problem_features": "_program",
    "program_features": "_program",
    "program_vector": "_program",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'autotune.cost_model' has no attribute {name!r}")
    module = importlib.import_module(f"autotune.cost_model.{_WHERE[name]}")
    return getattr(module, name)
