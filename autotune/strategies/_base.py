"""The search-strategy extension point: ask for candidates, tell results."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence

from autotune.candidate import Candidate
from autotune.context import TuneContext
from autotune.records import MeasureResult
from autotune.space import SearchSpace


class BaseStrategy(ABC):
    """Proposes candidates and learns from their results. It never builds or times.

    Contract:
        * ``ask(n)`` returns at most ``n`` candidates, none of which was returned before
          or told before; an empty list means the space is exhausted.
        * Every candidate returned satisfies the space (``space.violation`` is None).
        * ``tell`` accepts results for any candidates, including ones it never
          proposed (records from an earlier run); those are never proposed again.
        * Given the same space, seed, context (and records in it) and sequence of
          calls, proposals are identical.
        * ``context`` (:class:`autotune.context.TuneContext`) is what the strategy may
          know about the program, target and earlier records. It only reads it, and
          must work with a detached context, whose records are empty.
    """

    #: Whether the tuner measures the space's landmarks (see ``SearchSpace.landmarks``)
    #: before this strategy's first proposal.
    measures_landmarks = True

    def __init__(
        self, space: SearchSpace, seed: int = 0, context: TuneContext | None = None
    ) -> None:
        """``context`` describes the search over ``space``; ``None`` makes a detached
        one (no program, no records), so :attr:`context` is always set.

        Raises:
            ValueError: ``context`` is about another search space.
        """
        if context is None:
            context = TuneContext.detached(space)
        elif context.space is not space:
            raise ValueError("the context describes another search space than the strategy's")
        self.space = space
        self.seed = seed
        self.context = context
        self._seen: set[str] = set()

    def is_seen(self, candidate: Candidate) -> bool:
        return candidate.key in self._seen

    def mark_seen(self, candidate: Candidate) -> None:
        self._seen.add(candidate.key)

    def share_seen(self, seen: set[str]) -> None:
        """Use ``seen`` as the memory of proposed configs, shared with other strategies
        (a meta-strategy's techniques must never propose what another one did)."""
        self._seen = seen

    def notes(self) -> list[str]:
        """Lines on how the search went that a user should see (e.g. what it transferred
        from other programs); none by default."""
        return []

    @abstractmethod
    def ask(self, n: int = 1) -> list[Candidate]: ...

    @staticmethod
    def _fill(n: int, propose: Callable[[], Candidate | None]) -> list[Candidate]:
        """Up to ``n`` proposals from ``propose``, stopping at its first ``None``."""
        out: list[Candidate] = []
        while len(out) < n:
            candidate = propose()
            if candidate is None:
                break
            out.append(candidate)
        return out

    def tell(self, candidates: Sequence[Candidate], results: Sequence[MeasureResult]) -> None:
        """Record outcomes; the base implementation only remembers what was seen."""
        for candidate in candidates:
            self.mark_seen(candidate)
