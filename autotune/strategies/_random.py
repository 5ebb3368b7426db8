"""Uniform random search without repeats."""

from __future__ import annotations

import numpy as np

from autotune.candidate import Candidate
from autotune.context import TuneContext
from autotune.space import ENUMERATION_LIMIT, SearchSpace
from autotune.strategies._base import BaseStrategy

#: Consecutive repeats or invalid draws after which the space counts as exhausted.
MAX_FUTILE_DRAWS = 2000


class RandomStrategy(BaseStrategy):
    """Samples configs uniformly per parameter, skipping repeats and invalid ones.

    When draws keep hitting repeats or invalid configs (a nearly exhausted or heavily
    constrained space), it switches to a shuffled enumeration of what is left, so an
    empty answer really means the space is exhausted. A space too large to enumerate
    that still yields nothing after that many draws is treated as exhausted.
    """

    def __init__(
        self, space: SearchSpace, seed: int = 0, *, context: TuneContext | None = None
    ) -> None:
        super().__init__(space, seed, context)
        self._rng = np.random.default_rng(seed)
        self._remaining: list[Candidate] | None = None

    def ask(self, n: int = 1) -> list[Candidate]:
        out: list[Candidate] = []
        futile = 0
        while len(out) < n and self._remaining is None:
            config = self.space.sample(self._rng)
            candidate = Candidate.from_config(config)
            if self.is_seen(candidate) or self.space.violation(config) is not None:
                futile += 1
                if futile >= MAX_FUTILE_DRAWS:
                    self._remaining = self._enumerate_rest()
                continue
            futile = 0
            self.mark_seen(candidate)
            out.append(candidate)
        while len(out) < n and self._remaining:
            candidate = self._remaining.pop()
            if not self.is_seen(candidate):
                self.mark_seen(candidate)
                out.append(candidate)
        return out

    def _enumerate_rest(self) -> list[Candidate]:
        if self.space.size() > ENUMERATION_LIMIT:
            return []
        rest = [
            Candidate.from_config(c)
            for c in self.space.enumerate()
            if self.space.violation(c) is None
        ]
        rest = [c for c in rest if not self.is_seen(c)]
        order = self._rng.permutation(len(rest))
        return [rest[i] for i in order]
