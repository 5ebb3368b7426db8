"""Search strategies (ask/tell), resolved by name."""

from __future__ import annotations

import importlib
from collections.abc import Sequence

from autotune.context import TuneContext
from autotune.records import PortfolioArm
from autotune.space import SearchSpace
from autotune.strategies._base import BaseStrategy

__all__ = ["STRATEGIES", "BaseStrategy", "make_strategy"]

#: Strategy name -> "module:class", imported only when used.
STRATEGIES = {
    "random": "autotune.strategies._random:RandomStrategy",
    "exhaustive": "autotune.strategies._exhaustive:ExhaustiveStrategy",
    "tpe": "autotune.strategies._optuna:OptunaStrategy",
    "gp": "autotune.strategies._optuna:GPStrategy",
    "mutation": "autotune.strategies._local:MutationStrategy",
    "evolution": "autotune.strategies._local:EvolutionStrategy",
    "model": "autotune.strategies._model:ModelStrategy",
    "bandit": "autotune.strategies._bandit:AUCBanditStrategy",
    "zero-shot": "autotune.strategies._zero_shot:ZeroShotStrategy",
}


#: Strategies that keep an Optuna study and accept ``storage``/``study_name``.
USES_OPTUNA = {"tpe", "gp", "bandit"}


def make_strategy(
    name: str,
    space: SearchSpace,
    seed: int,
    budget: int,
    storage: str | None = None,
    study_name: str | None = None,
    portfolio: Sequence[PortfolioArm] = (),
    context: TuneContext | None = None,
) -> BaseStrategy:
    """The strategy called ``name``; ``auto`` is the AUC bandit over search techniques.

    ``storage`` (an SQLAlchemy URL) and ``study_name`` say where strategies built on
    Optuna keep their study. ``portfolio`` holds known-good configs from earlier
    problem instances: the bandit adds them as one more technique. ``context`` (about
    ``space``) tells the strategy, and every technique of the bandit, what program,
    target and records the search is about; ``None`` gives a detached one.
    """
    if name == "auto":
        name = "bandit"
    if name not in STRATEGIES:
        raise KeyError(f"unknown strategy {name!r}; known: auto, {', '.join(sorted(STRATEGIES))}")
    module, cls = STRATEGIES[name].split(":")
    factory = getattr(importlib.import_module(module), cls)
    kwargs: dict[str, object] = {"context": context}
    if name in USES_OPTUNA and storage is not None:
        kwargs.update(storage=storage, study_name=study_name)
    if name == "bandit" and portfolio:
        kwargs["portfolio"] = portfolio
    if name == "zero-shot":
        kwargs["budget"] = budget
    strategy: BaseStrategy = factory(space, seed, **kwargs)
    return strategy
