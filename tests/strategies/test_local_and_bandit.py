"""Mutation, evolution and the AUC bandit: conformance, and what each is for."""

from __future__ import annotations

import numpy as np

from autotune.candidate import Candidate
from autotune.context import TuneContext
from autotune.measure._timing import summarize
from autotune.records import MeasureResult, Status
from autotune.space import Condition, Int, Permutation, SearchSpace, Seq
from autotune.strategies import BaseStrategy
from autotune.strategies._bandit import AUCBanditStrategy
from autotune.strategies._local import EvolutionStrategy, MutationStrategy
from autotune.strategies._neighbors import crossover, mutate
from autotune.testing.strategies import StrategyConformance


class TestMutationStrategy(StrategyConformance):
    def make_strategy(
        self, space: SearchSpace, seed: int, context: TuneContext | None = None
    ) -> BaseStrategy:
        return MutationStrategy(space, seed, context=context)


class TestEvolutionStrategy(StrategyConformance):
    def make_strategy(
        self, space: SearchSpace, seed: int, context: TuneContext | None = None
    ) -> BaseStrategy:
        return EvolutionStrategy(space, seed, context=context)


class TestAUCBanditWithoutTPE(StrategyConformance):
    def make_strategy(
        self, space: SearchSpace, seed: int, context: TuneContext | None = None
    ) -> BaseStrategy:
        return AUCBanditStrategy(
            space, seed, techniques=("random", "mutation", "evolution"), context=context
        )


def _ok(speedup: float) -> MeasureResult:
    return MeasureResult(Status.OK, timing=summarize([[speedup]] * 2, [[1.0]] * 2, 1))


def _space() -> SearchSpace:
    space = SearchSpace().add("mode", Int(0, 2))
    space.add("seq", Seq(("a", "b", "c"), 1, 4), Condition("mode", (1, 2)))
    return space.add("order", Permutation(("i", "j", "k")))


def test_mutations_and_crossovers_stay_inside_the_space():
    space, rng = _space(), np.random.default_rng(0)
    for _ in range(300):
        a, b = space.sample(rng), space.sample(rng)
        assert space.violation(mutate(space, a, rng, 2)) is None
        assert space.violation(crossover(space, a, b, rng)) is None


def _hill(config) -> float:
    return 1.0 + config["x"] / 100 - abs(config["y"] - 30) / 100


def test_mutation_climbs_a_smooth_hill_faster_than_random():
    space = SearchSpace().add("x", Int(0, 99)).add("y", Int(0, 99))
    results = {}
    for name, strategy in (("mutation", MutationStrategy(space, 3)),):
        best = 0.0
        for _ in range(80):
            [c] = strategy.ask(1)
            best = max(best, _hill(c.config))
            strategy.tell([c], [_ok(_hill(c.config))])
        results[name] = best
    assert results["mutation"] > 1.9


def test_bandit_gives_more_proposals_to_the_technique_that_finds_improvements():
    space = SearchSpace().add("x", Int(0, 999)).add("y", Int(0, 99))
    bandit = AUCBanditStrategy(space, seed=0, techniques=("random", "mutation"))
    for _ in range(150):
        [c] = bandit.ask(1)
        bandit.tell([c], [_ok(_hill({"x": c.config["x"] // 10, "y": c.config["y"]}))])
    assert bandit._uses["mutation"] > bandit._uses["random"]


def test_bandit_tells_every_technique_every_result():
    space = _space()
    bandit = AUCBanditStrategy(space, seed=0, techniques=("random", "mutation"))
    outside = [Candidate.from_config(space.sample(np.random.default_rng(9)))]
    bandit.tell(outside, [_ok(2.0)])
    assert bandit.techniques["mutation"]._elite[0][1] == outside[0].config
