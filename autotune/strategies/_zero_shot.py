"""Zero-shot search: measure only the few configs that transfer best to this program.

The coreset is the one stored with the target's cost model (``autotune model train``),
else one built greedily from the records of other programs on the same target
(:func:`autotune.cost_model._coreset.build_coreset`): configs in transferable terms
that together come close to each program's best result. Each recipe is
instantiated on this program's own space (its compiler settings, and loop choices of
its own nests nearest to the recipe's), and the instantiations are ranked for this
program by the cross-program cost model when the target has one, else in the
coreset's order, together with the space's landmarks (memory orders of its loops,
scalarized builds: what this program's own analysis suggests), of which the best-ranked
always gets a place before those kept for compositions. The first half of those places
go to distinct choices of loop transformations, each its best-ranked config, so that
recipes differing only in compiler settings do not fill the budget with one loop
structure. The strategy proposes at most ``budget - 1`` configs: with the default
config, measured as the baseline, that is ``budget`` measurements in all. The last
:data:`COMPOSITIONS` of them (fewer where the budget leaves no room for two other
results first), once results are in, compose the loop choices of one of the two best
configs measured with the compiler settings of the other: a recipe's loop
transformation and another's fastmath often add up.

Without records of other programs there is nothing to transfer: the strategy then
searches as ``auto`` does, within the same cap, and the context's note says so.
"""

from __future__ import annotations

from collections.abc import Sequence

from autotune.candidate import Candidate
from autotune.context import TuneContext
from autotune.cost_model._coreset import CORESET_SIZE, Recipe, instantiate_all
from autotune.loops._space import PREFIX as LOOP_PREFIX
from autotune.records import MeasureResult, Status
from autotune.space import Config, SearchSpace
from autotune.strategies._base import BaseStrategy

#: Measurements of a zero-shot search when no budget is given, the default included.
DEFAULT_K = 10
#: Proposals, at most, that compose the loop part of one measured config with the
#: compiler part of another (proposed last, once results are in).
COMPOSITIONS = 2


class ZeroShotStrategy(BaseStrategy):
    """Proposes the best-ranked coreset instantiations, at most ``budget - 1``.

    Args:
        budget: measurements in all, the default config (the baseline) included.
            ``0`` or less means :data:`DEFAULT_K`.
        coreset: recipes to use instead of building them from the context's records
            (replays and evaluation, where the records are not in a database).
        coreset_size: recipes in a coreset built from the records.
    """

    #: The tuner measures a space's landmarks first only for strategies that want them:
    #: here they compete with the coreset for the few measurements.
    measures_landmarks = False

    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        budget: int = DEFAULT_K,
        *,
        context: TuneContext | None = None,
        coreset: Sequence[Recipe] | None = None,
        coreset_size: int = CORESET_SIZE,
    ) -> None:
        super().__init__(space, seed, context)
        self.budget = budget if budget > 0 else DEFAULT_K
        self._given = None if coreset is None else list(coreset)
        self._coreset_size = coreset_size
        self._plan: list[Candidate] | None = None
        self._fallback: BaseStrategy | None = None
        self._proposed = 0
        self._filled = 0  # proposals of the fallback search
        self._composed = 0
        self._measured: list[tuple[float, Config]] = []  # (speedup, config) of ok results
        #: How the plan was ranked: "model", "coreset" or "cold" (set on first ask).
        self.ranking = ""

    @property
    def cap(self) -> int:
        """Proposals at most: the budget less the default config."""
        return max(0, self.budget - 1)

    def coreset(self) -> list[Recipe]:
        """The recipes this search draws from: those given, else the context's."""
        if self._given is None:
            self._given = list(self.context.coreset)[: self._coreset_size]
        return self._given

    def plan(self) -> list[Candidate]:
        """The candidates in the order they will be proposed (computed once)."""
        if self._plan is None:
            self._plan = self._make_plan()
        return self._plan

    def _make_plan(self) -> list[Candidate]:
        recipes = self.coreset()
        if not recipes:
            self.ranking = "cold"
            return []
        configs = [config for _, config in instantiate_all(recipes, self.space, self.seed)]
        landmarks = [c for c in self.space.landmarks() if self.space.violation(c) is None]
        configs = _unique(configs + landmarks, self.space.default_config())
        scorer = self.context.scorer
        if scorer is not None and configs:
            mean, _ = scorer.score(configs)
            order = sorted(range(len(configs)), key=lambda i: (-float(mean[i]), i))
            configs = [configs[i] for i in order]
            self.ranking = "model"
        else:
            self.ranking = "coreset"
        # The landmark must come before the places kept for compositions, or they push
        # it out of the budget.
        reach = self.cap - self._composition_places()
        configs = _loops_first(configs, (reach + 1) // 2)
        return [Candidate.from_config(c) for c in _landmark_in_reach(configs, landmarks, reach)]

    def _composition_places(self) -> int:
        """Proposals kept for compositions: none for a cold start, and fewer where the
        budget leaves no room for two other results first."""
        return 0 if self.ranking == "cold" else max(0, min(COMPOSITIONS, self.cap - 2))

    def notes(self) -> list[str]:
        if self.ranking == "cold":
            return [
                "zero-shot: no records of other programs on this target to transfer "
                "from; searched as auto does"
            ]
        if not self.ranking:
            return []
        how = "by the cost model" if self.ranking == "model" else "in coreset order (no model)"
        recipes = self._proposed - self._filled - self._composed
        note = (
            f"zero-shot: {recipes} of {len(self.coreset())} coreset recipes proposed, ranked {how}"
        )
        if self._composed:
            note += f"; {self._composed} composing the loops of one with the compiler of another"
        if self._filled:
            note += f"; {self._filled} more from auto's search"
        return [note]

    def ask(self, n: int = 1) -> list[Candidate]:
        plan = self.plan()
        out: list[Candidate] = []
        while len(out) < n and self._proposed < self.cap:
            places = self._composition_places()
            last_places = self.cap - self._proposed <= places - self._composed
            composing = self._composed < places
            if composing and (last_places or not plan):
                composed = self._composition()
                if composed is not None:
                    self.mark_seen(composed)
                    self._proposed += 1
                    self._composed += 1
                    out.append(composed)
                    continue
                if out:
                    break  # compose once this batch's results are in
            if not plan:
                break
            candidate = plan.pop(0)
            if self.is_seen(candidate):
                continue
            self.mark_seen(candidate)
            self._proposed += 1
            out.append(candidate)
        left = min(n - len(out), self.cap - self._proposed)
        if left > 0 and not plan:
            # Fewer transferable configs than the budget (or none: a cold start): the
            # rest of the budget goes to auto's search.
            more = self._cold().ask(left)
            self._proposed += len(more)
            self._filled += len(more)
            out += more
        return out

    def _cold(self) -> BaseStrategy:
        """``auto``'s search, for a target with no records to transfer from."""
        if self._fallback is None:
            from autotune.strategies._bandit import AUCBanditStrategy

            self._fallback = AUCBanditStrategy(self.space, self.seed, context=self.context)
            self._fallback.share_seen(self._seen)
        return self._fallback

    def share_seen(self, seen: set[str]) -> None:
        super().share_seen(seen)
        if self._fallback is not None:
            self._fallback.share_seen(seen)

    def _composition(self) -> Candidate | None:
        """The loop choices of one of the two best configs measured so far with the
        compiler settings of the other, where that is new and valid; better first."""
        ranked = sorted(self._measured, key=lambda pair: -pair[0])[:2]
        if len(ranked) < 2:
            return None
        (_, first), (_, second) = ranked
        for loops_of, compiler_of in ((first, second), (second, first)):
            merged = self.space.with_defaults(
                {
                    **{k: v for k, v in compiler_of.items() if not k.startswith(LOOP_PREFIX)},
                    **{k: v for k, v in loops_of.items() if k.startswith(LOOP_PREFIX)},
                }
            )
            candidate = Candidate.from_config(merged)
            if self.space.violation(merged) is None and not self.is_seen(candidate):
                return candidate
        return None

    def tell(self, candidates: Sequence[Candidate], results: Sequence[MeasureResult]) -> None:
        super().tell(candidates, results)
        for candidate, result in zip(candidates, results, strict=True):
            if result.status is Status.OK and result.speedup:
                self._measured.append((float(result.speedup), candidate.config))
        if self._fallback is not None:
            self._fallback.tell(candidates, results)


def _landmark_in_reach(ranked: list[Config], landmarks: Sequence[Config], cap: int) -> list[Config]:
    """``ranked`` with its best-ranked landmark moved up to the last of the first ``cap``
    places if none is within them. Landmarks come from this program's own analysis
    (memory orders, scalarized builds), which recipes and the model, seeing loop
    changes only by kind, cannot know."""
    keys = {Candidate.from_config(c).key for c in landmarks}
    places = [i for i, c in enumerate(ranked) if Candidate.from_config(c).key in keys]
    if cap < 1 or not places or places[0] < cap:
        return ranked
    out = list(ranked)
    out.insert(cap - 1, out.pop(places[0]))
    return out


def _loops_first(ranked: list[Config], places: int) -> list[Config]:
    """``ranked`` with its first ``places`` taken by the best-ranked config of each
    distinct choice of loop transformations (in rank order), the rest in rank order.

    Recipes that share their loop choices and differ in compiler settings tend to rank
    together, and would spend the budget on one loop structure. Measuring the
    structures first costs little: the compositions at the end put the best one
    measured with the best compiler settings measured."""
    firsts: dict[tuple[tuple[str, str], ...], int] = {}
    for index, config in enumerate(ranked):
        loops = tuple(sorted((k, repr(v)) for k, v in config.items() if k.startswith(LOOP_PREFIX)))
        firsts.setdefault(loops, index)
    if len(firsts) < 2:
        return ranked
    chosen = list(firsts.values())[:places]  # first indices come in rank order
    picked = set(chosen)
    return [ranked[i] for i in chosen] + [c for i, c in enumerate(ranked) if i not in picked]


def _unique(configs: Sequence[Config], default: Config) -> list[Config]:
    """``configs`` without repeats and without ``default``, in order."""
    seen = {Candidate.from_config(default).key}
    out = []
    for config in configs:
        key = Candidate.from_config(config).key
        if key not in seen:
            seen.add(key)
            out.append(config)
    return out
