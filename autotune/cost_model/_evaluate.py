"""Leave-one-out evaluation of the cross-program model on recorded data.

Each held-out group (one program, by IR hash, or one family) is scored by a model
trained on every other workload that shares neither its IR hash nor, when grouping by
family, its family; :func:`split` checks this and raises :class:`LeakError` otherwise.
Generated (synthetic) programs are always trained on and never scored.

For each scored workload (its full search confirmed a gain of at least ``min_gain``):

* ``kendall_tau``: rank agreement of predicted and measured log speedups of its
  recorded configs;
* ``top1_regret`` / ``top5_regret``: how much slower the best of the model's top 1 / 5
  recorded configs is than the best recorded one (``best / found - 1``);
* ``a_peak_at_10``: the best speedup among the model's top 10, over the best recorded;
* ``zero_shot_share``: the share of the full search's log speedup that zero-shot with
  ``k`` measurements reaches: a coreset built from the training workloads, each recipe
  matched to this workload's recorded configs with the same recipe, ranked by the
  model, the best ``k - 1`` taken (the default is the k-th);
* baselines at the same ``k``: ``fixed_config_share`` (the one recipe best on average
  over the training programs), ``auto_share`` (the first ``k - 1`` search trials as
  the recorded ``auto`` run measured them), ``portfolio_share`` (the training
  programs' best configs in order of their mean gain, no model) and ``random_share``
  (the expected best of ``k - 1`` recorded configs drawn at random).

Replay can only answer configs that were measured. A recipe is answered by the
workload's recorded config nearest to it in transferable features (L1, where one flag
or pass more counts 1 and a tile size's log2 counts as itself), if one lies within
:data:`MATCH_RADIUS`; a recipe with none is passed over (``zero_shot_matched`` counts
the matches), and so is the fixed config (its share is then not scored). Since the
recorded configs are those a search chose to measure, replayed shares lean optimistic
for every method alike, random draws included; real tuning runs are the check.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from autotune.cost_model._boosted import BoostedCostModel
from autotune.cost_model._coreset import Recipe, build_coreset, program_results
from autotune.cost_model._dataset import Dataset, WorkloadData
from autotune.cost_model._encoding import (
    LOOP_SUMMARY,
    TRANSFERABLE_SCHEMA,
    LoopFacts,
    transferable_features,
)
from autotune.cost_model._scoring import ProgramScorer

#: A full search must have confirmed at least this gain for its workload to be scored.
MIN_GAIN = 0.05
#: Measurements of zero-shot and of the baselines, the default config included.
DEFAULT_K = 10
#: Draws averaged for the random baseline.
RANDOM_DRAWS = 200
#: How far (L1 in transferable features) a recorded config may lie from a recipe and
#: still answer for it.
MATCH_RADIUS = 1.0
#: Recipes of each training program (its best ones) that compete for the fixed config.
FIXED_CANDIDATES = 5


class LeakError(AssertionError):
    """A training workload shares the held-out group's program (or family)."""


@dataclass(frozen=True, slots=True)
class WorkloadScore:
    """The figures of one scored workload (see the module docstring); a figure that
    could not be computed is ``None``."""

    kernel: str
    workload: str
    program: str
    family: str
    group: str
    best_speedup: float
    configs: int
    kendall_tau: float | None
    top1_regret: float
    top5_regret: float
    a_peak_at_10: float
    zero_shot_share: float
    zero_shot_matched: int
    fixed_config_share: float | None
    auto_share: float | None
    portfolio_share: float
    random_share: float


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Scores of every scored workload under one grouping, and their medians."""

    group_by: str
    k: int
    min_gain: float
    programs_total: int
    scores: tuple[WorkloadScore, ...]
    fits: int
    seconds: float
    extra: Mapping[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """The JSON keys of ``autotune model eval`` and the benchmark."""
        scores = self.scores
        fixed = [s for s in scores if s.fixed_config_share is not None]
        return {
            "group_by": self.group_by,
            "k": self.k,
            "min_gain": self.min_gain,
            "programs_total": self.programs_total,
            "programs_scored": len({s.program for s in scores}),
            "workloads_scored": len(scores),
            "kendall_tau_median": _median(s.kendall_tau for s in scores),
            "a_peak_at_10_median": _median(s.a_peak_at_10 for s in scores),
            "top1_regret_median": _median(s.top1_regret for s in scores),
            "top5_regret_median": _median(s.top5_regret for s in scores),
            "zero_shot_share_median": _median(s.zero_shot_share for s in scores),
            "fixed_config_share_median": _median(s.fixed_config_share for s in scores),
            "auto_share_median": _median(s.auto_share for s in scores),
            "portfolio_share_median": _median(s.portfolio_share for s in scores),
            "random_share_median": _median(s.random_share for s in scores),
            "zero_shot_beats_fixed": _share(
                s.zero_shot_share > (s.fixed_config_share or 0.0) for s in fixed
            ),
            "zero_shot_matched_median": _median(s.zero_shot_matched for s in scores),
            "zero_shot_share_median_where_matched": _median(
                s.zero_shot_share for s in scores if s.zero_shot_matched
            ),
            "zero_shot_scored_where_matched": sum(1 for s in scores if s.zero_shot_matched),
            "fixed_config_scored": len(fixed),
            "fits": self.fits,
            "seconds": round(self.seconds, 1),
            **self.extra,
            "workloads": [asdict(s) for s in scores],
        }


def _median(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None and math.isfinite(v)]
    return round(statistics.median(known), 4) if known else None


def _share(flags: Iterable[bool]) -> float | None:
    values = list(flags)
    return round(sum(values) / len(values), 4) if values else None


def split(dataset: Dataset, held_out: Sequence[WorkloadData], group_by: str) -> list[WorkloadData]:
    """The training workloads for ``held_out``: all others sharing neither an IR hash
    nor (``group_by="family"``) a family with it. Raises :class:`LeakError` if the
    result would contain one (it cannot, unless this function is broken: the check is
    what the leak test plants a fault against)."""
    train = _others(dataset, held_out, group_by)
    check_no_leak(train, held_out, group_by)
    return train


def _others(
    dataset: Dataset, held_out: Sequence[WorkloadData], group_by: str
) -> list[WorkloadData]:
    programs = {w.ir_hash for w in held_out}
    families = {w.family for w in held_out} if group_by == "family" else set()
    return [w for w in dataset.workloads if w.ir_hash not in programs and w.family not in families]


def check_no_leak(
    train: Sequence[WorkloadData], held_out: Sequence[WorkloadData], group_by: str
) -> None:
    """Raise :class:`LeakError` when a training workload shares the IR hash of a
    held-out one, or its family when grouping by family."""
    programs = {w.ir_hash for w in held_out}
    families = {w.family for w in held_out}
    for workload in train:
        if workload.ir_hash in programs:
            raise LeakError(
                f"training workload {workload.key} ({workload.kernel}) is a held-out program"
            )
        if group_by == "family" and workload.family in families:
            raise LeakError(
                f"training workload {workload.key} ({workload.kernel}) is of a held-out family"
            )


def groups_of(dataset: Dataset, group_by: str) -> dict[str, list[WorkloadData]]:
    """The hand-written workloads by held-out group (IR hash, or family)."""
    if group_by not in ("program", "family"):
        raise ValueError(f"group_by must be 'program' or 'family', got {group_by!r}")
    groups: dict[str, list[WorkloadData]] = {}
    for workload in dataset.workloads:
        if workload.synthetic:
            continue
        key = workload.ir_hash if group_by == "program" else workload.family
        groups.setdefault(key, []).append(workload)
    return dict(sorted(groups.items()))


def evaluate(
    dataset: Dataset,
    group_by: str = "family",
    k: int = DEFAULT_K,
    min_gain: float = MIN_GAIN,
    make_model: Callable[[], BoostedCostModel] = BoostedCostModel,
    seed: int = 0,
) -> Evaluation:
    """Leave each group out in turn, train on the rest, score the group (see the
    module docstring). Deterministic for a dataset and seed."""
    if k < 2:
        raise ValueError(f"k must be at least 2 (the default and one more), got {k}")
    started = time.perf_counter()
    groups = groups_of(dataset, group_by)
    scores: list[WorkloadScore] = []
    fits = 0
    for group, held_out in groups.items():
        scored = [w for w in held_out if _scorable(w, min_gain)]
        if not scored:
            continue
        train = split(dataset, held_out, group_by)
        X, y, _ = dataset.rows(train)
        if len(y) == 0:
            continue
        model = make_model().fit(X, y)
        fits += 1
        trained = _Trained(model, train, k, seed)
        scores += [trained.score(w, group) for w in scored]
    return Evaluation(
        group_by=group_by,
        k=k,
        min_gain=min_gain,
        programs_total=len({w.ir_hash for g in groups.values() for w in g}),
        scores=tuple(scores),
        fits=fits,
        seconds=time.perf_counter() - started,
    )


def _scorable(workload: WorkloadData, min_gain: float) -> bool:
    return workload.confirmed_best() >= math.log1p(min_gain) and len(workload.config_gains()) >= 2


class _Trained:
    """A model fitted without a group, with what the baselines learn from the same
    training workloads."""

    def __init__(
        self, model: BoostedCostModel, train: Sequence[WorkloadData], k: int, seed: int
    ) -> None:
        self.model = model
        self.k = k
        self.seed = seed
        hand_written = [w for w in train if not w.synthetic]
        results = program_results(row for w in train for row in w.coreset_rows())
        self.coreset = build_coreset(results)
        self.fixed = _best_on_average(hand_written)
        self.portfolio = _portfolio_order(results)

    def score(self, workload: WorkloadData, group: str) -> WorkloadScore:
        gains = workload.config_gains()
        configs = [c for c, _ in gains.values()]
        true = np.array([g for _, g in gains.values()])
        best = float(true.max())
        scorer = ProgramScorer(self.model, workload.features, facts=workload.loops)
        predicted, _ = scorer.score(configs)
        order = np.argsort(-predicted, kind="stable")
        matcher = _Matcher(gains, workload.loops)
        full = max(workload.confirmed_best(), best)
        zero_shot, matched = self._zero_shot(scorer, matcher)
        fixed = matcher.match(self.fixed) if self.fixed is not None else None
        return WorkloadScore(
            kernel=workload.kernel,
            workload=workload.key,
            program=workload.ir_hash,
            family=workload.family,
            group=group,
            best_speedup=round(math.exp(full), 4),
            configs=len(configs),
            kendall_tau=_kendall(predicted, true),
            top1_regret=_regret(best, true[order[:1]]),
            top5_regret=_regret(best, true[order[:5]]),
            a_peak_at_10=round(math.exp(float(true[order[:10]].max()) - best), 4),
            zero_shot_share=_ratio(zero_shot, full),
            zero_shot_matched=matched,
            fixed_config_share=None if fixed is None else _ratio(fixed[1], full),
            auto_share=self._auto(workload, full),
            portfolio_share=_ratio(self._first_matches(self.portfolio, matcher), full),
            random_share=self._random(true, full),
        )

    def _zero_shot(self, scorer: ProgramScorer, matcher: _Matcher) -> tuple[float, int]:
        answers = [matcher.match(r) for r in self.coreset]
        unique: dict[str, tuple[Mapping[str, Any], float]] = {}
        for answer in answers:
            if answer is not None:
                unique.setdefault(json.dumps(answer[0], sort_keys=True), answer)
        matched = list(unique.values())
        if not matched:
            return 0.0, 0
        predicted, _ = scorer.score([c for c, _ in matched])
        order = np.argsort(-predicted, kind="stable")[: self.k - 1]
        return max(0.0, *(matched[int(i)][1] for i in order)), len(matched)

    def _first_matches(self, recipes: Sequence[Recipe], matcher: _Matcher) -> float:
        found = [a[1] for a in map(matcher.match, recipes) if a is not None][: self.k - 1]
        return max([0.0, *found])

    def _auto(self, workload: WorkloadData, full: float) -> float | None:
        search = [t for t in workload.trials if t.phase == "search"][: self.k - 1]
        if not search:
            return None
        gains = [math.log(t.speedup) for t in search if t.usable and t.speedup]
        return _ratio(max([0.0, *gains]), full)

    def _random(self, true: np.ndarray, full: float) -> float:
        rng = np.random.default_rng(self.seed)
        draws = min(self.k - 1, len(true))
        best = [
            max(0.0, float(true[rng.choice(len(true), draws, replace=False)].max()))
            for _ in range(RANDOM_DRAWS)
        ]
        return _ratio(float(np.mean(best)), full)


class _Matcher:
    """Answers recipes from one workload's recorded configs (nearest within
    :data:`MATCH_RADIUS`)."""

    def __init__(
        self, gains: Mapping[str, tuple[Mapping[str, Any], float]], facts: LoopFacts
    ) -> None:
        self.configs = [c for c, _ in gains.values()]
        self.gains = np.array([g for _, g in gains.values()])
        self.facts = facts
        self.matrix = np.array([_vector(Recipe.of(c, facts=facts)) for c in self.configs])

    def match(self, recipe: Recipe) -> tuple[Mapping[str, Any], float] | None:
        if not self.configs:
            return None
        distance = np.abs(self.matrix - _vector(recipe)).sum(axis=1)
        i = int(np.argmin(distance))
        if distance[i] > MATCH_RADIUS:
            return None
        return self.configs[i], float(self.gains[i])


_VECTORS: dict[str, np.ndarray] = {}


def _vector(recipe: Recipe) -> np.ndarray:
    """A recipe's transferable features: its settings', with its loop summary."""
    known = _VECTORS.get(recipe.key)
    if known is None:
        features = transferable_features(recipe.settings())
        for name in LOOP_SUMMARY:
            features[name] = 0.0
        features.update(dict(recipe.loops))
        known = np.fromiter((features[n] for n in TRANSFERABLE_SCHEMA), float)
        _VECTORS[recipe.key] = known
    return known


def _best_on_average(train: Sequence[WorkloadData]) -> Recipe | None:
    """The one recipe with the highest mean log speedup over the training workloads,
    among each workload's best :data:`FIXED_CANDIDATES` recipes; a workload where a
    recipe has no recorded match counts 0 for it (the default's gain)."""
    matchers = [_Matcher(w.config_gains(), w.loops) for w in train]
    candidates: dict[str, Recipe] = {}
    for matcher in matchers:
        for i in np.argsort(-matcher.gains, kind="stable")[:FIXED_CANDIDATES]:
            recipe = Recipe.of(matcher.configs[int(i)], facts=matcher.facts)
            candidates.setdefault(recipe.key, recipe)
    if not candidates:
        return None

    def mean_gain(recipe: Recipe) -> float:
        answers = [m.match(recipe) for m in matchers]
        return float(np.mean([a[1] if a is not None else 0.0 for a in answers]))

    return max((candidates[k] for k in sorted(candidates)), key=mean_gain)


def _portfolio_order(results: Sequence[Any]) -> list[Recipe]:
    """Each training program's best recipe, ordered by mean gain where measured."""
    best = {}
    for result in results:
        if result.gains:
            key = max(sorted(result.gains), key=lambda k: result.gains[k])
            best[key] = result.recipes[key]
    means = {key: float(np.mean([r.gains[key] for r in results if key in r.gains])) for key in best}
    return [best[k] for k in sorted(best, key=lambda k: (-means[k], k))]


def _kendall(predicted: np.ndarray, true: np.ndarray) -> float | None:
    from scipy.stats import kendalltau

    if len(true) < 3 or np.ptp(true) == 0 or np.ptp(predicted) == 0:
        return None
    tau = kendalltau(predicted, true).statistic
    return None if not math.isfinite(tau) else round(float(tau), 4)


def _regret(best: float, found: np.ndarray) -> float:
    return round(math.exp(best - float(found.max())) - 1.0, 4)


def _ratio(gain: float, full: float) -> float:
    """``gain`` as a share of ``full`` (both log speedups), clipped to [0, 1]."""
    if full <= 0:
        return 1.0
    return round(min(1.0, max(0.0, gain / full)), 4)


__all__ = [
    "DEFAULT_K",
    "MIN_GAIN",
    "Evaluation",
    "LeakError",
    "WorkloadScore",
    "check_no_leak",
    "evaluate",
    "groups_of",
    "split",
]
