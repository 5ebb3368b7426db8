"""Random search: the strategy conformance suite."""

from __future__ import annotations

from autotune.context import TuneContext
from autotune.space import SearchSpace
from autotune.strategies import BaseStrategy
from autotune.strategies._random import RandomStrategy
from autotune.testing.strategies import StrategyConformance


class TestRandomStrategy(StrategyConformance):
    def make_strategy(
        self, space: SearchSpace, seed: int, context: TuneContext | None = None
    ) -> BaseStrategy:
        return RandomStrategy(space, seed, context=context)
