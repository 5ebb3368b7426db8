"""Search strategies (ask/tell), resolved by name."""

from __future__ import annotations

import importlib

from autotune.space import SearchSpace
from autotune.strategies._base import BaseStrategy

__all__ = ["STRATEGIES", "BaseStrategy", "make_strategy"]

#: Strategy name -> "module:class", imported only when used.
STRATEGIES = {
    "random": "autotune.strategies._random:RandomStrategy",
    "exhaustive": "autotune.strategies._exhaustive:ExhaustiveStrategy",
    "tpe": "autotune.strategies._optuna:OptunaStrategy",
    "mutation": "autotune.strategies._local:MutationStrategy",
    "evolution": "autotune.strategies._local:EvolutionStrategy",
    "bandit": "autotune.strategies._bandit:AUCBanditStrategy",
}


#: Strategies that keep an Optuna study and accept ``storage``/``study_name``.
USES_OPTUNA = {"tpe", "bandit"}


def make_strategy(
    name: str,
    space: SearchSpace,
    seed: int,
    budget: int,
    storage: str | None = None,
    study_name: str | None = None,
) -> BaseStrategy:
    """The strategy called ``name``; ``auto`` is exhaustive when the whole space fits the
    budget, else random. ``storage`` (an SQLAlchemy URL) and ``study_name`` say where
    strategies built on Optuna keep their study."""
    if name == "auto":
        name = "exhaustive" if space.size() <= budget else "random"
    if name not in STRATEGIES:
        raise KeyError(f"unknown strategy {name!r}; known: auto, {', '.join(sorted(STRATEGIES))}")
    module, cls = STRATEGIES[name].split(":")
    factory = getattr(importlib.import_module(module), cls)
    strategy: BaseStrategy
    if name in USES_OPTUNA and storage is not None:
        strategy = factory(space, seed, storage=storage, study_name=study_name)
    else:
        strategy = factory(space, seed)
    return strategy
