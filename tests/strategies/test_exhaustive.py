"""Exhaustive search: the strategy conformance suite and choosing a strategy by name."""

from __future__ import annotations

import pytest

from autotune.context import TuneContext
from autotune.space import Choice, Int, SearchSpace
from autotune.strategies import STRATEGIES, BaseStrategy, make_strategy
from autotune.strategies._exhaustive import ExhaustiveStrategy
from autotune.strategies._optuna import gp_available
from autotune.testing.strategies import StrategyConformance, tiny_space


class TestExhaustiveStrategy(StrategyConformance):
    def make_strategy(
        self, space: SearchSpace, seed: int, context: TuneContext | None = None
    ) -> BaseStrategy:
        return ExhaustiveStrategy(space, seed, context=context)


def test_exhaustive_refuses_a_space_too_large_to_enumerate() -> None:
    space = SearchSpace().add("a", Int(0, 999)).add("b", Int(0, 999))
    with pytest.raises(ValueError, match="more than"):
        ExhaustiveStrategy(space)


@pytest.mark.parametrize("budget", [1, 6, 100])
def test_auto_is_the_bandit_whatever_the_budget(budget: int, global_random_seed: int) -> None:
    from autotune.strategies._bandit import AUCBanditStrategy

    space = tiny_space()
    strategy = make_strategy("auto", space, global_random_seed, budget)
    assert type(strategy) is AUCBanditStrategy
    assert strategy.space is space
    assert strategy.seed == global_random_seed


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_every_registered_name_builds_its_strategy(name: str, global_random_seed: int) -> None:
    if name == "gp" and not gp_available():
        pytest.skip("strategy 'gp' needs PyTorch: pip install torch==2.13.0")
    space = SearchSpace().add("x", Choice((1, 2)))
    strategy = make_strategy(name, space, global_random_seed, budget=10)
    assert isinstance(strategy, BaseStrategy)
    assert len(strategy.ask(5)) == 2


def test_unknown_strategy_name_raises_key_error_listing_known_names() -> None:
    with pytest.raises(KeyError, match="random"):
        make_strategy("simulated-annealing", tiny_space(), 0, 10)
