"""Searches that move from good configs: greedy mutation and an evolutionary search."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from autotune.candidate import Candidate
from autotune.context import TuneContext
from autotune.records import MeasureResult, Status
from autotune.space import Config, SearchSpace
from autotune.strategies._base import BaseStrategy
from autotune.strategies._neighbors import crossover, mutate
from autotune.strategies._random import RandomStrategy

#: Repeated or invalid neighbours in a row before a random config is proposed instead.
MAX_FUTILE_NEIGHBOURS = 50


class _FromElite(BaseStrategy):
    """Keeps the best configs told so far; subclasses derive proposals from them."""

    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        elite_size: int = 8,
        *,
        context: TuneContext | None = None,
    ) -> None:
        super().__init__(space, seed, context)
        self._rng = np.random.default_rng(seed)
        self._elite: list[tuple[float, Config]] = []
        self._elite_size = elite_size
        self._random = RandomStrategy(space, seed + 1, context=self.context)
        self._random.share_seen(self._seen)  # one memory: nothing is proposed twice

    def share_seen(self, seen: set[str]) -> None:
        super().share_seen(seen)
        self._random.share_seen(seen)

    def tell(self, candidates: Sequence[Candidate], results: Sequence[MeasureResult]) -> None:
        super().tell(candidates, results)
        for candidate, result in zip(candidates, results, strict=True):
            if result.status is Status.OK and result.speedup:
                self._elite.append((result.speedup, candidate.config))
        self._elite.sort(key=lambda item: -item[0])
        del self._elite[self._elite_size :]

    def ask(self, n: int = 1) -> list[Candidate]:
        out: list[Candidate] = []
        while len(out) < n:
            candidate = self._from_elite() if self._elite else None
            if candidate is None:
                found = self._random.ask(1)
                if not found:
                    break
                candidate = found[0]
            out.append(candidate)
        return out

    def _from_elite(self) -> Candidate | None:
        for _ in range(MAX_FUTILE_NEIGHBOURS):
            config = self._derive()
            candidate = Candidate.from_config(config)
            if not self.is_seen(candidate) and self.space.violation(config) is None:
                self.mark_seen(candidate)
                return candidate
        return None

    def _derive(self) -> Config:
        raise NotImplementedError


class MutationStrategy(_FromElite):
    """Greedy local search: mutate one or two settings of the best config so far."""

    def __init__(
        self, space: SearchSpace, seed: int = 0, *, context: TuneContext | None = None
    ) -> None:
        super().__init__(space, seed, elite_size=1, context=context)

    def _derive(self) -> Config:
        changes = 1 + int(self._rng.random() < 0.3)
        return mutate(self.space, self._elite[0][1], self._rng, changes)


class EvolutionStrategy(_FromElite):
    """An evolutionary search: crossover of two of the best configs, then a mutation."""

    def _derive(self) -> Config:
        picks = self._rng.choice(len(self._elite), size=2, replace=len(self._elite) < 2)
        child = crossover(self.space, self._elite[picks[0]][1], self._elite[picks[1]][1], self._rng)
        return mutate(self.space, child, self._rng, 1)
