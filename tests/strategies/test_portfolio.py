"""The portfolio bandit: known-good configs in Thompson-sampling order."""

from __future__ import annotations

from collections import Counter
from typing import Any

from autotune.candidate import Candidate
from autotune.records import MeasureResult, PortfolioArm, Status
from autotune.space import Choice, Int, SearchSpace
from autotune.strategies import make_strategy
from autotune.strategies._portfolio import PortfolioStrategy, adapt, reward
from autotune.testing.strategies import StrategyConformance, synthetic_result


def _space() -> SearchSpace:
    space = SearchSpace()
    space.add("pipeline.speed_level", Choice((3, 2, 1, 0)))
    space.add("kernel.TILE", Int(1, 8))
    return space


def _arm(config: dict[str, Any], *rewards: float) -> PortfolioArm:
    return PortfolioArm(Candidate.from_config(config).key, config, tuple(rewards))


ARMS = (
    _arm({"pipeline.speed_level": 2, "kernel.TILE": 4}, 0.40, 0.35, 0.45),
    _arm({"pipeline.speed_level": 1}, 0.05),
    _arm({"pipeline.speed_level": 0, "kernel.TILE": 2}, -0.6, -0.5),
)


class TestPortfolioInsideTheBandit(StrategyConformance):
    # Each ask costs more as trials accumulate: 100 proposals check the same contract.
    max_proposals = 100

    def make_strategy(self, space, seed, context=None):
        arms = [
            _arm(space.sample(__import__("numpy").random.default_rng(i)), 0.2) for i in range(3)
        ]
        return make_strategy("auto", space, seed, 50, portfolio=arms, context=context)


def test_arms_with_a_good_record_come_first() -> None:
    firsts = Counter(
        PortfolioStrategy(_space(), seed, ARMS).ask(1)[0].config["pipeline.speed_level"]
        for seed in range(200)
    )
    assert firsts[2] > 150  # the arm that earned ~1.5x on three instances
    assert firsts[0] < 10  # the arm that lost on two


def test_each_arm_is_proposed_once_then_the_portfolio_is_exhausted() -> None:
    strategy = PortfolioStrategy(_space(), 0, ARMS)
    proposed = strategy.ask(10)
    assert len(proposed) == 3 and len({c.key for c in proposed}) == 3
    assert strategy.ask(1) == []


def test_foreign_settings_are_dropped_and_missing_ones_take_defaults() -> None:
    space = _space()
    assert adapt(space, {"pipeline.speed_level": 1, "kernel.OTHER": 5}) == {
        "pipeline.speed_level": 1,
        "kernel.TILE": 1,
    }
    assert adapt(space, {"pipeline.speed_level": 7}) is None  # not a value of this space
    strategy = PortfolioStrategy(space, 0, [_arm({"pipeline.speed_level": 7}, 1.0)])
    assert len(strategy) == 0 and strategy.ask(1) == []


def test_rewards_are_clipped_log_speedups_and_failures_count_as_losses() -> None:
    ok = synthetic_result(Candidate.from_config({"x": 1}))
    assert ok.speedup is not None and -1.0 <= reward(ok) <= 1.0
    assert reward(MeasureResult(Status.RUN_FAILED, "segfault")) == -1.0


def test_the_default_strategy_tries_the_best_arm_once_its_model_stalls() -> None:
    space = _space()
    strategy = make_strategy("auto", space, 0, 20, portfolio=ARMS)
    proposed = []
    for _ in range(12):
        [candidate] = strategy.ask(1)
        proposed.append(candidate.config)
        strategy.tell([candidate], [synthetic_result(candidate)])
    assert proposed[0] == space.default_config()  # what the user gets without tuning
    assert {"pipeline.speed_level": 2, "kernel.TILE": 4} in proposed
