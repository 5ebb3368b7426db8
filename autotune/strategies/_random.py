"""Uniform random search without repeats."""

from __future__ import annotations

import numpy as np

from autotune.candidate import Candidate
from autotune.space import SearchSpace
from autotune.strategies._base import BaseStrategy

#: Consecutive repeats or invalid draws after which the space counts as exhausted.
MAX_FUTILE_DRAWS = 2000


class RandomStrategy(BaseStrategy):
    """Samples configs uniformly per parameter, skipping repeats and invalid ones."""

    def __init__(self, space: SearchSpace, seed: int = 0) -> None:
        super().__init__(space, seed)
        self._rng = np.random.default_rng(seed)

    def ask(self, n: int = 1) -> list[Candidate]:
        out: list[Candidate] = []
        futile = 0
        while len(out) < n and futile < MAX_FUTILE_DRAWS:
            config = self.space.sample(self._rng)
            candidate = Candidate.from_config(config)
            if self.is_seen(candidate) or self.space.violation(config) is not None:
                futile += 1
                continue
            futile = 0
            self.mark_seen(candidate)
            out.append(candidate)
        return out
