"""Configs that carry across programs: recipes, a greedy coreset of them, and picks.

A config of one kernel names that kernel's nests (``loops.n2.b1.order = i,k,j``) and
parameters, which mean nothing in another kernel. A :class:`Recipe` keeps what does
carry: the compiler options, flags and pass sequence under their own keys, and the loop
transformations by kind (the innermost loop changed, the largest tile, the unroll-and-
jam factor, scalarized, fused), as :func:`~autotune.cost_model.transferable_features`
summarizes them. :meth:`Recipe.instantiate` turns a recipe back into a config of a new
program's space: its compiler settings where the space has them, and, among sampled
loop choices of the new program's own nests, the one closest to the recipe's.

:func:`build_coreset` chooses, greedily, recipes that together come close to the best
result measured on each training program (the coreset of Liang et al., ICML 2023, with
recipes for pass sequences); :func:`model_picks` ranks a space's candidates (coreset
instantiations, landmarks, samples) by a cost model for warm starts.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from autotune.cost_model._encoding import (
    LOOP_SUMMARY,
    LoopFacts,
    loop_facts,
    transferable_features,
)
from autotune.records import Status
from autotune.space import Config, SearchSpace

if TYPE_CHECKING:
    from autotune.context import RecordsView
    from autotune.cost_model._scoring import ProgramScorer

#: Recipes in a coreset at most (the size the ICML 2023 coreset found enough).
CORESET_SIZE = 50
#: Loop choices sampled per recipe when instantiating one on a space with loop nests.
INSTANTIATION_SAMPLES = 64
#: Key prefixes of settings that mean the same in every program.
TRANSFERABLE_PREFIXES = ("passes.", "pipeline.", "flags.")
#: A program whose best measured log speedup is below this teaches the coreset nothing
#: (any config is as good as another within noise).
MIN_LOG_GAIN = math.log(1.05)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


@functools.cache
def _is_default(key: str, value: str) -> bool:
    """Whether setting ``key`` to ``value`` (JSON) is what Numba does anyway: its
    transferable features are those of no setting at all."""
    setting = {key: json.loads(value)}
    return transferable_features(setting) == transferable_features({})


@dataclass(frozen=True, slots=True)
class Recipe:
    """A config in transferable terms.

    ``compiler`` holds the settings under :data:`TRANSFERABLE_PREFIXES` that differ
    from Numba's own (as sorted ``(key, json value)`` pairs), ``loops`` the non-zero
    loop-summary features (``loops.innermost_changed``, ``loops.tile_log2_max``, ...),
    rounded.
    """

    compiler: tuple[tuple[str, str], ...]
    loops: tuple[tuple[str, float], ...]

    @classmethod
    def of(
        cls,
        config: Mapping[str, Any],
        space: SearchSpace | None = None,
        *,
        facts: LoopFacts | None = None,
    ) -> Recipe:
        """The recipe of ``config`` (``space``, or the :func:`loop_facts` of the
        config's own space: for loop orders as written)."""
        compiler = tuple(
            sorted(
                (k, _canonical(v))
                for k, v in config.items()
                if isinstance(k, str)
                and k.startswith(TRANSFERABLE_PREFIXES)
                and not _is_default(k, _canonical(v))
            )
        )
        summary = transferable_features(config, space, facts=facts)
        loops = tuple(
            (name, round(summary[name], 1)) for name in LOOP_SUMMARY if summary[name] != 0.0
        )
        return cls(compiler, loops)

    @property
    def key(self) -> str:
        return _canonical([self.compiler, self.loops])

    def to_json(self) -> list[list[list[Any]]]:
        """The recipe as JSON lists, as a model's record stores its coreset."""
        return [[list(pair) for pair in self.compiler], [list(pair) for pair in self.loops]]

    @classmethod
    def from_json(cls, data: Any) -> Recipe:
        """The recipe :meth:`to_json` wrote. Raises ValueError for anything else."""
        try:
            compiler, loops = data
            return cls(
                tuple((str(k), str(v)) for k, v in compiler),
                tuple((str(k), float(v)) for k, v in loops),
            )
        except (TypeError, ValueError) as exc:
            raise ValueError(f"not a stored recipe: {data!r:.80}") from exc

    def settings(self) -> dict[str, Any]:
        """The compiler settings as a config fragment."""
        return {k: json.loads(v) for k, v in self.compiler}

    def describe(self) -> str:
        """The recipe in words, e.g. ``flags.fastmath=all; loops: tile_log2_max 6``."""
        parts = [f"{k}={v}" for k, v in self.compiler]
        if self.loops:
            parts.append("loops: " + ", ".join(f"{k[6:]} {v:g}" for k, v in self.loops))
        return "; ".join(parts) or "the default"

    def instantiate(self, space: SearchSpace, rng: np.random.Generator) -> Config | None:
        """A config of ``space`` that follows this recipe, or ``None`` when none does.

        Compiler settings the space lacks are dropped and the rest are kept; a setting
        the space forbids makes the recipe unusable there. Without loop changes in the
        recipe the loops stay as written. With them, the config whose loop summary is
        closest (L1) to the recipe's is taken among, in this order: the recipe built on
        the loops as written and on each landmark's loop choices (the memory orders:
        the stride-1 loop innermost), with the recipe's tile sizes and unroll-and-jam
        factor on every band that offers them (:meth:`shaped`), then
        :data:`INSTANTIATION_SAMPLES` samples of the space's loop choices; ties go to
        the first, so a recipe that reorders loops gets the memory order if it fits.
        """
        settings = {k: v for k, v in self.settings().items() if k in space.names}
        base = space.with_defaults(settings)
        if space.violation(base) is not None:
            return None
        loop_names = [n for n in space.names if n.startswith("loops.")]
        if not self.loops or not loop_names:
            return base
        wanted = dict(self.loops)
        facts = loop_facts(space)  # once: every candidate is compared with it
        best, best_distance = base, self._distance(base, facts, wanted)
        for candidate in self._candidates(space, settings, loop_names, rng):
            distance = self._distance(candidate, facts, wanted)
            if distance < best_distance:
                best, best_distance = candidate, distance
        return best

    def shaped(
        self, space: SearchSpace, settings: Mapping[str, Any], loop_names: Sequence[str]
    ) -> list[Config]:
        """Valid configs that follow the recipe by construction: its settings on the
        loops as written and on each landmark's loop choices, each with and without the
        recipe's tile, inner tile and unroll-and-jam factor on every band offering it."""
        wanted = dict(self.loops)
        sizes = {
            "tile": _power_of_two(wanted.get("loops.tile_log2_max", 0.0)),
            "tile_inner": _power_of_two(wanted.get("loops.tile_inner_log2_max", 0.0)),
            "unroll": int(wanted.get("loops.unroll_max", 0.0)),
        }
        blocking: dict[str, Any] = {}
        for name in loop_names:
            value = sizes.get(name.rsplit(".", 1)[-1], 0)
            if value > 1 and value in list(space[name].values()):
                blocking[name] = value
        marks: list[dict[str, Any]] = [{}]
        marks += [{k: v for k, v in m.items() if k in loop_names} for m in space.landmarks()]
        out: list[Config] = []
        for mark in marks:
            for extra in ({**mark, **blocking}, mark) if blocking else (mark,):
                config = space.with_defaults({**extra, **settings})
                if space.violation(config) is None:
                    out.append(config)
        return out

    def _candidates(
        self,
        space: SearchSpace,
        settings: Mapping[str, Any],
        loop_names: Sequence[str],
        rng: np.random.Generator,
    ) -> Iterable[Config]:
        yield from self.shaped(space, settings, loop_names)
        for _ in range(INSTANTIATION_SAMPLES):
            sample = space.sample(rng)
            merged = space.with_defaults(
                {**{k: sample[k] for k in loop_names if k in sample}, **settings}
            )
            if space.violation(merged) is None:
                yield merged

    @staticmethod
    def _distance(config: Config, facts: LoopFacts, wanted: Mapping[str, float]) -> float:
        summary = transferable_features(config, facts=facts)
        return sum(abs(summary[name] - wanted.get(name, 0.0)) for name in LOOP_SUMMARY)


def _power_of_two(log2: float) -> int:
    """``2 ** round(log2)``, or 0 for no size at all."""
    return 2 ** round(log2) if log2 > 0 else 0


@dataclass(frozen=True, slots=True)
class ProgramResults:
    """What was measured on one program: ``program`` (its IR hash) and the best log
    speedup measured for each recipe (a recipe measured several times, or at several
    problem sizes, keeps its mean per size and its best size)."""

    program: str
    gains: Mapping[str, float]
    recipes: Mapping[str, Recipe]
    #: Recipes of the program's reported winners (after simplification: only the
    #: settings that mattered): the coreset's candidates.
    winners: frozenset[str] = frozenset()

    @property
    def best(self) -> float:
        return max(self.gains.values(), default=0.0)


#: What :func:`program_results` groups: ``(program, config, speedup[, phase[, facts]])``.
MeasuredRow = (
    tuple[str, Mapping[str, Any], float]
    | tuple[str, Mapping[str, Any], float, str]
    | tuple[str, Mapping[str, Any], float, str, LoopFacts]
)


def program_results(measured: Iterable[MeasuredRow]) -> list[ProgramResults]:
    """Group ``(program, config, speedup[, phase[, facts]])`` tuples by program into
    :class:`ProgramResults`; non-positive or non-finite speedups are left out. The
    phase ``winner`` marks a program's reported winner (its speedup is its confirmed
    one); ``facts`` are the :func:`loop_facts` of the program's space."""
    sums: dict[str, dict[str, list[float]]] = {}
    recipes: dict[str, dict[str, Recipe]] = {}
    winners: dict[str, set[str]] = {}
    for program, config, speedup, *rest in measured:
        if not (speedup > 0 and math.isfinite(speedup)):
            continue
        phase = str(rest[0]) if rest else ""
        facts: LoopFacts | None = rest[1] if len(rest) > 1 else None  # type: ignore[assignment]
        recipe = Recipe.of(config, facts=facts)
        sums.setdefault(program, {}).setdefault(recipe.key, []).append(math.log(speedup))
        recipes.setdefault(program, {})[recipe.key] = recipe
        if phase == "winner":
            winners.setdefault(program, set()).add(recipe.key)
    return [
        ProgramResults(
            p,
            {k: float(np.mean(v)) for k, v in gains.items()},
            recipes[p],
            frozenset(winners.get(p, ())),
        )
        for p, gains in sorted(sums.items())
    ]


def results_from_records(
    records: RecordsView, exclude_program: str | None = None
) -> list[ProgramResults]:
    """:func:`program_results` of every workload on the records' target: the ok
    trials whose speedup is against their own baseline (search, refine, confirm),
    grouped by IR hash; ``exclude_program`` (an IR hash) is left out."""
    from autotune.cost_model._scoring import TRAINED_PHASES

    programs = {w.key: w.ir_hash for w in records.workloads()}
    facts = {h: records.loop_facts(h) for h in set(programs.values())}
    measured: list[MeasuredRow] = [
        (
            programs[t.workload_key],
            t.config,
            float(t.result.speedup or 0.0),
            t.phase,
            facts[programs[t.workload_key]],
        )
        for t in records.target_trials(phase=None)
        if t.phase in TRAINED_PHASES
        and t.result.status is Status.OK
        and t.workload_key in programs
        and programs[t.workload_key] != exclude_program
    ]
    for result in records.results():
        program = programs.get(result.workload_key or "")
        if program is not None and program != exclude_program and result.best_config:
            measured.append((program, result.best_config, result.speedup, "winner", facts[program]))
    return program_results(measured)


def build_coreset(programs: Sequence[ProgramResults], size: int = CORESET_SIZE) -> list[Recipe]:
    """Up to ``size`` recipes chosen greedily to cover the programs' best results.

    The candidates are the programs' winners (all recipes of a program with no winner
    on record).

    A program is covered by a set of recipes to the share of its best log speedup that
    the best of them reached on it (0 for recipes not measured there, capped at 1).
    Each step adds the recipe that raises the summed coverage most; ties go to the
    higher summed log speedup, then to the recipe's key, so the result is deterministic.
    Programs whose best gain is below :data:`MIN_LOG_GAIN` count nothing. Stops when no
    recipe adds coverage.
    """
    useful = [p for p in programs if p.best >= MIN_LOG_GAIN]
    catalog: dict[str, Recipe] = {}
    for p in useful:
        # Winners are simplified: only settings that mattered, which is what carries to
        # other programs. A program with no winner on record offers all its recipes.
        keys = p.winners or p.recipes.keys()
        catalog.update({k: p.recipes[k] for k in keys if k in p.recipes})
    totals = {k: sum(p.gains.get(k, 0.0) for p in useful) for k in catalog}
    covered = dict.fromkeys((p.program for p in useful), 0.0)
    chosen: list[Recipe] = []
    while len(chosen) < size and catalog:
        best_key, best_gain = None, 0.0
        for key in sorted(catalog, key=lambda k: (-totals[k], k)):
            gain = sum(
                max(0.0, min(1.0, p.gains.get(key, 0.0) / p.best) - covered[p.program])
                for p in useful
            )
            if gain > best_gain + 1e-12:
                best_key, best_gain = key, gain
        if best_key is None:
            break
        chosen.append(catalog.pop(best_key))
        for p in useful:
            share = min(1.0, max(0.0, p.gains.get(best_key, 0.0) / p.best))
            covered[p.program] = max(covered[p.program], share)
    return chosen


def instantiate_all(
    recipes: Sequence[Recipe], space: SearchSpace, seed: int
) -> list[tuple[Recipe, Config]]:
    """Each recipe's config in ``space`` (in order; recipes with none are left out)."""
    rng = np.random.default_rng(seed)
    out = []
    for recipe in recipes:
        config = recipe.instantiate(space, rng)
        if config is not None:
            out.append((recipe, config))
    return out


def model_picks(
    scorer: ProgramScorer,
    space: SearchSpace,
    candidates: Sequence[Config],
    n: int,
    samples: int = 0,
    seed: int = 0,
) -> list[Config]:
    """The ``n`` configs with the highest predicted log speedup among ``candidates``
    plus ``samples`` random valid configs of ``space``, best first (ties keep order;
    duplicates and the default config are left out)."""
    rng = np.random.default_rng(seed)
    pool = list(candidates)
    pool += [c for c in (space.sample(rng) for _ in range(samples)) if space.violation(c) is None]
    default = _canonical(space.default_config())
    unique: dict[str, Config] = {}
    for config in pool:
        unique.setdefault(_canonical(config), config)
    unique.pop(default, None)
    configs = list(unique.values())
    if not configs:
        return []
    mean, _ = scorer.score(configs)
    order = np.argsort(-mean, kind="stable")
    return [configs[int(i)] for i in order[:n]]


__all__ = [
    "CORESET_SIZE",
    "ProgramResults",
    "Recipe",
    "build_coreset",
    "instantiate_all",
    "model_picks",
    "program_results",
    "results_from_records",
]
