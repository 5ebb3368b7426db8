"""Exhaustive search: every valid config once, in a seeded random order."""

from __future__ import annotations

import numpy as np

from autotune.candidate import Candidate
from autotune.context import TuneContext
from autotune.space import SearchSpace
from autotune.strategies._base import BaseStrategy


class ExhaustiveStrategy(BaseStrategy):
    """Enumerates the whole space (refusing spaces over the enumeration limit).

    The order is shuffled with the seed, so a run cut short by its budget or time limit
    is still a uniform sample of the space.
    """

    def __init__(
        self, space: SearchSpace, seed: int = 0, *, context: TuneContext | None = None
    ) -> None:
        super().__init__(space, seed, context)
        configs = [c for c in space.enumerate() if space.violation(c) is None]
        order = np.random.default_rng(seed).permutation(len(configs))
        self._queue = [Candidate.from_config(configs[i]) for i in order]

    def ask(self, n: int = 1) -> list[Candidate]:
        out: list[Candidate] = []
        while self._queue and len(out) < n:
            candidate = self._queue.pop()
            if not self.is_seen(candidate):
                self.mark_seen(candidate)
                out.append(candidate)
        return out
