"""A meta-strategy that shares the budget among techniques by their recent credit.

Credit is the area under the curve of recent successes, as in OpenTuner's AUC bandit:
of each technique's last ``window`` proposals, those that set a new best count, the
more recent ones more. An exploration bonus keeps rarely used techniques in play;
every technique starts as if it had made a few proposals without success, so the first
technique listed (by default the model-guided one) has the budget while it keeps
improving and the others take over when it stalls.
Every technique is told every result, so each learns from all measurements; they share
one memory of what was proposed, so no config is proposed twice. Given a portfolio of
known-good configs from earlier problem instances, a Thompson-sampling bandit over them
joins as the second technique.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence

from autotune.candidate import Candidate
from autotune.context import TuneContext
from autotune.records import MeasureResult, PortfolioArm, Status
from autotune.space import SearchSpace
from autotune.strategies._base import BaseStrategy
from autotune.strategies._portfolio import PortfolioStrategy

#: The techniques of the default strategy, in order of preference on ties.
DEFAULT_TECHNIQUES = ("model", "mutation", "tpe", "random", "evolution")
#: Unsuccessful proposals every technique is assumed to have made before its first.
#: With 1, every technique is tried within the first few proposals, which spends a
#: tenth of a small budget on techniques that are rarely the best start; with 3 the
#: leading technique keeps the budget while it improves (see benchmarks/strategies.py).
PRIOR_USES = 3


class AUCBanditStrategy(BaseStrategy):
    """Chooses, for each proposal, the technique with the highest credit plus bonus."""

    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        techniques: Sequence[str] = DEFAULT_TECHNIQUES,
        window: int = 30,
        exploration: float = 0.2,
        storage: str | None = None,
        study_name: str | None = None,
        portfolio: Sequence[PortfolioArm] = (),
        *,
        context: TuneContext | None = None,
    ) -> None:
        super().__init__(space, seed, context)
        from autotune.strategies import make_strategy

        self.techniques: dict[str, BaseStrategy] = {}
        arms = PortfolioStrategy(space, seed, portfolio, context=self.context)
        for i, name in enumerate(techniques):
            self.techniques[name] = make_strategy(
                name, space, seed + i, 0, storage, study_name, context=self.context
            )
            if i == 0 and len(arms):
                # Second, not first: arms from other kernels, tried before the leading
                # technique has a model of this one, cost more than they find.
                self.techniques["portfolio"] = arms
        for technique in self.techniques.values():
            technique.share_seen(self._seen)
        names = list(self.techniques)
        self._history: dict[str, deque[int]] = {n: deque(maxlen=window) for n in names}
        self._uses = dict.fromkeys(names, 0)
        self._owner: dict[str, str] = {}
        self._best = 0.0
        self._exploration = exploration

    def credit(self, name: str) -> float:
        """Area under the recent-success curve of ``name``, plus its exploration bonus."""
        history = self._history[name]
        total = sum(self._uses.values())
        # Every technique starts as if it had made PRIOR_USES proposals without success:
        # the first listed starts, and the others join once it stops improving.
        uses = max(self._uses[name], PRIOR_USES)
        bonus = self._exploration * math.sqrt(2 * math.log(max(total, 1)) / uses)
        weights = len(history) * (len(history) + 1) / 2
        auc = sum((i + 1) * hit for i, hit in enumerate(history)) / weights if history else 0.0
        return auc + bonus

    def ask(self, n: int = 1) -> list[Candidate]:
        out: list[Candidate] = []
        exhausted: set[str] = set()
        while len(out) < n and len(exhausted) < len(self.techniques):
            # Ties go to the technique listed first, which keeps runs deterministic.
            name = max((t for t in self.techniques if t not in exhausted), key=self.credit)
            found = self.techniques[name].ask(1)
            if not found:
                exhausted.add(name)
                continue
            self._uses[name] += 1
            self._owner[found[0].key] = name
            out.append(found[0])
        return out

    def tell(self, candidates: Sequence[Candidate], results: Sequence[MeasureResult]) -> None:
        super().tell(candidates, results)
        for candidate, result in zip(candidates, results, strict=True):
            speedup = result.speedup if result.status is Status.OK and result.speedup else 0.0
            owner = self._owner.pop(candidate.key, None)
            if owner is not None:
                self._history[owner].append(int(speedup > self._best))
            self._best = max(self._best, speedup)
        for technique in self.techniques.values():
            technique.tell(candidates, results)
