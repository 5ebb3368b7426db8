"""A bandit over a portfolio of known-good configs, by Thompson sampling.

Each arm is a config that did well on earlier problem instances (other workloads, other
sizes); its rewards are the log speedups it earned there. For a new instance the arms
are tried in the order of draws from their posteriors (a normal mean with the pooled
noise of the arms' rewards), so an arm with a good record comes early, and one measured only
once still gets its chance. Arms from another kernel keep only the settings this space
has; the rest take their defaults. An arm is proposed at most once per search: no
config is ever measured twice.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from autotune.candidate import Candidate
from autotune.context import TuneContext
from autotune.records import MeasureResult, PortfolioArm, Status
from autotune.space import Config, SearchSpace
from autotune.strategies._base import BaseStrategy

#: Rewards are log speedups clipped to this range: a failure is a loss, not a disaster.
REWARD_CLIP = (-1.0, 1.0)
#: Prior of an arm's mean reward: no gain, with room for a 2x either way.
PRIOR_MEAN, PRIOR_SD = 0.0, 0.5
#: Lower bound of the noise of one reward (measurement noise of a log speedup).
MIN_NOISE_SD = 0.03
#: Noise assumed while no arm has two rewards to estimate it from.
DEFAULT_NOISE_SD = 0.15


def reward(result: MeasureResult) -> float:
    """The reward of one measurement: clipped log speedup; failures get the minimum."""
    if result.status is Status.OK and result.speedup and result.speedup > 0:
        return float(np.clip(math.log(result.speedup), *REWARD_CLIP))
    return REWARD_CLIP[0]


def adapt(space: SearchSpace, config: Config) -> Config | None:
    """``config`` as a point of ``space`` (foreign settings dropped, missing ones at
    their defaults), or ``None`` when it cannot be one."""
    adapted = space.with_defaults({k: v for k, v in config.items() if k in space.names})
    return adapted if space.violation(adapted) is None else None


class PortfolioStrategy(BaseStrategy):
    """Proposes portfolio arms in Thompson-sampling order; empty once all are tried."""

    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        arms: Sequence[PortfolioArm] = (),
        *,
        context: TuneContext | None = None,
    ) -> None:
        super().__init__(space, seed, context)
        self._rng = np.random.default_rng(seed)
        self._arms: dict[str, tuple[Candidate, list[float]]] = {}
        for arm in arms:
            config = adapt(space, arm.config)
            if config is None:
                continue
            candidate = Candidate.from_config(config)
            _, rewards = self._arms.setdefault(candidate.key, (candidate, []))
            rewards.extend(arm.rewards)
        self._noise_sd = _pooled_sd([rs for _, rs in self._arms.values()])

    def __len__(self) -> int:
        return len(self._arms)

    def ask(self, n: int = 1) -> list[Candidate]:
        out: list[Candidate] = []
        while len(out) < n:
            open_arms = [(c, rs) for c, rs in self._arms.values() if not self.is_seen(c)]
            if not open_arms:
                break
            draws = [self._draw(rewards) for _, rewards in open_arms]
            candidate = open_arms[int(np.argmax(draws))][0]
            self.mark_seen(candidate)
            out.append(candidate)
        return out

    def _draw(self, rewards: list[float]) -> float:
        """A draw from the posterior of an arm's mean reward (normal-normal update)."""
        precision = 1 / PRIOR_SD**2 + len(rewards) / self._noise_sd**2
        mean = (PRIOR_MEAN / PRIOR_SD**2 + sum(rewards) / self._noise_sd**2) / precision
        return float(self._rng.normal(mean, 1 / math.sqrt(precision)))

    def tell(self, candidates: Sequence[Candidate], results: Sequence[MeasureResult]) -> None:
        super().tell(candidates, results)
        for candidate, result in zip(candidates, results, strict=True):
            if candidate.key in self._arms:
                self._arms[candidate.key][1].append(reward(result))


def _pooled_sd(groups: list[list[float]]) -> float:
    """How much one config's reward varies between instances, pooled over the arms."""
    squares = sum(float(np.sum((np.array(g) - np.mean(g)) ** 2)) for g in groups if len(g) > 1)
    dof = sum(len(g) - 1 for g in groups if len(g) > 1)
    if not dof:
        return DEFAULT_NOISE_SD
    return max(MIN_NOISE_SD, math.sqrt(squares / dof))
