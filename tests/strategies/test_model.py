"""The model-guided strategy: conformance, and what it is for."""

from __future__ import annotations

import math
import statistics

import numpy as np

from autotune.candidate import Candidate
from autotune.context import TuneContext
from autotune.measure._timing import summarize
from autotune.records import MeasureResult, Status
from autotune.space import Choice, Int, Pow2, SearchSpace, Seq
from autotune.strategies import BaseStrategy
from autotune.strategies._model import MAX_FEATURES, ModelStrategy, _Encoder
from autotune.strategies._random import RandomStrategy
from autotune.testing.strategies import StrategyConformance, space_fixture


class TestModelStrategy(StrategyConformance):
    # A model is fitted at every ask: draining the medium space takes a few seconds.
    conformance_space = space_fixture(slow=("medium",))

    def make_strategy(
        self, space: SearchSpace, seed: int, context: TuneContext | None = None
    ) -> BaseStrategy:
        return ModelStrategy(space, seed, context=context)


def _ok(speedup: float) -> MeasureResult:
    return MeasureResult(Status.OK, timing=summarize([[speedup]] * 2, [[1.0]] * 2, 1))


def _landscape() -> tuple[SearchSpace, dict[str, float]]:
    """480 configs; the best needs two settings together (an interaction), and a
    10-way parameter that barely matters tempts a search to try all its values."""
    space = SearchSpace()
    space.add("tile", Pow2(4, 2048, default_value=128))
    space.add("copies", Choice((1, 2, 4, 8)))
    space.add("unroll", Choice((1, 4)))
    space.add("vectorize", Choice((True, False)))
    space.add("order", Choice(("row", "col", "zig")))
    rng = np.random.default_rng(7)
    speedups = {}
    for config in space.enumerate():
        log = 0.1 * math.log2(config["copies"]) + 0.15 * (config["unroll"] == 4)
        log += 0.35 * (config["copies"] == 4 and config["unroll"] == 4)
        log += 0.05 * (config["order"] == "col") - 0.05 * (not config["vectorize"])
        log += rng.normal(0, 0.01) + 0.002 * math.log2(config["tile"])
        speedups[Candidate.from_config(config).key] = math.exp(log)
    return space, speedups


def _evaluations_to_best(strategy: BaseStrategy, speedups: dict[str, float]) -> int:
    target = 0.97 * max(speedups.values())
    for n in range(1, len(speedups) + 1):
        [candidate] = strategy.ask(1)
        speedup = speedups[candidate.key]
        if speedup >= target:
            return n
        strategy.tell([candidate], [_ok(speedup)])
    raise AssertionError("the strategy exhausted the space without reaching the best")


def test_model_finds_an_interaction_with_far_fewer_measurements_than_random():
    space, speedups = _landscape()
    model = [_evaluations_to_best(ModelStrategy(space, s), speedups) for s in range(20)]
    rand = [_evaluations_to_best(RandomStrategy(space, s), speedups) for s in range(20)]
    assert statistics.median(model) * 2 < statistics.median(rand)


def test_first_proposal_is_the_default_config():
    space, _ = _landscape()
    [first] = ModelStrategy(space, 3).ask(1)
    assert first.config == space.default_config()


def test_failures_steer_the_model_away_from_their_region():
    space = SearchSpace().add("mode", Choice(("safe", "risky"))).add("x", Int(0, 29))
    strategy = ModelStrategy(space, 0)
    proposed = []
    for _ in range(20):
        [candidate] = strategy.ask(1)
        proposed.append(candidate.config)
        if candidate.config["mode"] == "risky":
            strategy.tell([candidate], [MeasureResult(Status.BUILD_FAILED, "crash")])
        else:
            strategy.tell([candidate], [_ok(1.0 + candidate.config["x"] / 100)])
    assert sum(c["mode"] == "risky" for c in proposed[5:]) <= 3


def test_a_space_too_large_to_score_whole_is_sampled_around_the_best():
    space = SearchSpace().add("passes", Seq(tuple("abcdefgh"), 0, 6)).add("level", Int(0, 3))
    assert space.size() > 5000
    strategy = ModelStrategy(space, 1)
    for _ in range(15):
        [candidate] = strategy.ask(1)
        passes = candidate.config["passes"]
        strategy.tell([candidate], [_ok(1.0 + passes.count("a") / 10)])
    assert len(strategy._seen) == 15


def test_pairwise_products_are_dropped_when_there_are_too_many():
    space = SearchSpace()
    for i in range(12):
        space.add(f"p{i}", Choice(tuple(range(6))))
    configs = [space.sample(np.random.default_rng(i)) for i in range(200)]
    encoder = _Encoder(configs)
    assert not encoder.pairs
    assert encoder(configs).shape[1] <= MAX_FEATURES
