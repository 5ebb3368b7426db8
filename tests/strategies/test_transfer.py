"""Searches that use a cross-program model: screening, warm starts and zero-shot."""

from __future__ import annotations

import math

import pytest

from autotune.candidate import Candidate
from autotune.context import TuneContext
from autotune.cost_model._boosted import BoostedCostModel
from autotune.cost_model._coreset import Recipe
from autotune.cost_model._scoring import LoadedModel
from autotune.params import Choice
from autotune.records import MeasureResult, Status
from autotune.space import SearchSpace
from autotune.strategies import make_strategy
from autotune.strategies._model import ModelStrategy
from autotune.strategies._optuna import warm_start_picks
from autotune.strategies._zero_shot import DEFAULT_K, ZeroShotStrategy
from autotune.testing.datasets import dataset, true_gain, workload


@pytest.fixture(scope="module")
def model() -> BoostedCostModel:
    X, y, _ = dataset(12).rows()
    return BoostedCostModel(max_iter=60, n_estimators=3, min_samples_leaf=3).fit(X, y)


def _space() -> SearchSpace:
    space = SearchSpace()
    space.add("flags.fastmath", Choice(("off", "all")))
    space.add("pipeline.speed_level", Choice((3, 2, 1)))
    space.add("kernel.T", Choice((1, 2, 4, 8)))
    return space


def _context(space: SearchSpace, model: BoostedCostModel, program: int = 20) -> TuneContext:
    """A detached context for a program the model never saw (``program`` even: fastmath
    pays there)."""
    features = workload(program).features
    return TuneContext.detached(space, model=LoadedModel(model), features=features)


def _answer(program: int, candidate: Candidate) -> MeasureResult:
    from autotune.measure._timing import summarize

    speedup = math.exp(true_gain(program, candidate.config))
    base = [[1e-3, 1e-3, 1e-3]] * 3
    return MeasureResult(
        Status.OK, timing=summarize(base, [[t / speedup for t in r] for r in base], 5)
    )


def test_with_a_model_the_first_proposals_are_its_top_picks(model: BoostedCostModel) -> None:
    space = _space()
    strategy = ModelStrategy(space, 0, context=_context(space, model))
    strategy.mark_seen(Candidate.from_config(space.default_config()))  # the baseline
    [first] = strategy.ask(1)
    assert first.config["flags.fastmath"] == "all"
    assert first.config["pipeline.speed_level"] == 3


@pytest.mark.parametrize("n", [1, 2, 5])
def test_screening_never_proposes_more_than_asked(model: BoostedCostModel, n: int) -> None:
    space = _space()
    strategy = ModelStrategy(space, 0, context=_context(space, model))
    for _ in range(4):
        asked = strategy.ask(n)
        assert len(asked) <= n
        strategy.tell(asked, [_answer(20, c) for c in asked])


def test_the_model_note_says_whether_a_model_is_used(model: BoostedCostModel) -> None:
    space = _space()
    assert "ranks candidates" in _context(space, model).model_note()
    assert "without transfer" in TuneContext.detached(space).model_note()


def test_tpe_is_warm_started_from_the_models_picks(model: BoostedCostModel) -> None:
    space = _space()
    context = _context(space, model)
    picks = warm_start_picks(context, 3)
    assert picks and picks[0]["flags.fastmath"] == "all"
    strategy = make_strategy("tpe", space, 0, 20, context=context)
    [first] = strategy.ask(1)
    assert first.config == picks[0]


def _recipes() -> list[Recipe]:
    configs = [{"flags.fastmath": "off", "pipeline.speed_level": 1}, {"flags.fastmath": "all"}]
    return [Recipe.of(c) for c in configs]


@pytest.mark.parametrize("budget", [2, 3, 10])
def test_zero_shot_respects_k(model: BoostedCostModel, budget: int) -> None:
    space = _space()
    strategy = ZeroShotStrategy(
        space, 0, budget, context=_context(space, model), coreset=_recipes()
    )
    strategy.mark_seen(Candidate.from_config(space.default_config()))
    proposed = []
    while asked := strategy.ask(3):
        proposed += asked
        strategy.tell(asked, [_answer(20, c) for c in asked])
    assert len(proposed) == min(budget - 1, space.size() - 1)
    assert proposed[0].config["flags.fastmath"] == "all"  # ranked by the model first


def test_zero_shot_defaults_to_ten_measurements() -> None:
    assert ZeroShotStrategy(_space(), 0, 0).cap == DEFAULT_K - 1
    from autotune.api import default_budget

    assert default_budget(None, "zero-shot") == DEFAULT_K
    assert default_budget(None, "auto") == 60 and default_budget(7, "zero-shot") == 7


def test_zero_shot_without_records_says_it_starts_cold() -> None:
    space = _space()
    strategy = ZeroShotStrategy(space, 0, 5)
    asked = strategy.ask(4)
    assert len(asked) == 4 and strategy.ranking == "cold"
    assert "no records" in strategy.notes()[0]


def test_a_recipe_is_instantiated_with_the_settings_the_space_has() -> None:
    import numpy as np

    recipe = Recipe.of({"flags.fastmath": "all", "passes.mode": "replace", "kernel.T": 8})
    config = recipe.instantiate(_space(), np.random.default_rng(0))
    assert config is not None
    assert config["flags.fastmath"] == "all" and config["kernel.T"] == 1  # default kept
    assert "passes.mode" not in config


def test_zero_shot_keeps_a_landmark_within_its_budget() -> None:
    space = _space()
    space.add_landmark({"pipeline.speed_level": 2})
    # Recipes the coreset ranks first fill the budget; the landmark still gets a place.
    recipes = [Recipe.of({"kernel.T": 1, "flags.fastmath": "all", "pipeline.speed_level": 1})]
    recipes += [Recipe.of({"pipeline.speed_level": 1}), Recipe.of({"flags.fastmath": "all"})]
    strategy = ZeroShotStrategy(space, 0, 3, coreset=recipes)
    strategy.mark_seen(Candidate.from_config(space.default_config()))
    proposed = strategy.ask(5)
    assert len(proposed) == 2
    assert proposed[0].config == {"flags.fastmath": "all", "pipeline.speed_level": 1, "kernel.T": 1}
    assert proposed[1].config["pipeline.speed_level"] == 2


def test_the_landmark_comes_before_the_places_kept_for_compositions() -> None:
    space = _space()
    space.add_landmark({"pipeline.speed_level": 2})
    recipes = [
        Recipe.of(settings)
        for settings in (
            {"flags.fastmath": "all", "pipeline.speed_level": 1},
            {"pipeline.speed_level": 1},
            {"flags.fastmath": "all"},
            {"flags.fastmath": "all", "pipeline.speed_level": 2},
        )
    ]
    # 5 proposals, the last 2 kept for compositions: the landmark, ranked after every
    # recipe, takes the third.
    strategy = ZeroShotStrategy(space, 0, 6, coreset=recipes)
    strategy.mark_seen(Candidate.from_config(space.default_config()))
    first = strategy.ask(5)
    assert len(first) == 3
    assert first[2].config == {"flags.fastmath": "off", "pipeline.speed_level": 2, "kernel.T": 1}


def test_zero_shot_measures_each_loop_structure_before_more_compiler_settings() -> None:
    space = SearchSpace()
    space.add("flags.fastmath", Choice(("off", "all")))
    space.add("pipeline.speed_level", Choice((3, 2, 1)))
    space.add("loops.n1.b0.order", Choice(("i,j", "j,i")))
    recipes = [
        Recipe.of(settings, space)
        for settings in (
            {"flags.fastmath": "all"},
            {"pipeline.speed_level": 2},
            {"pipeline.speed_level": 1},
            {"loops.n1.b0.order": "j,i"},
        )
    ]
    # 5 proposals, 2 kept for compositions; of the other 3, the first 2 go to the two
    # loop structures, each its best-ranked config.
    strategy = ZeroShotStrategy(space, 0, 6, coreset=recipes)
    strategy.mark_seen(Candidate.from_config(space.default_config()))
    first = [c.config for c in strategy.ask(5)]
    assert [c["loops.n1.b0.order"] for c in first] == ["i,j", "j,i", "i,j"]
    assert first[0]["flags.fastmath"] == "all"
    assert first[2]["pipeline.speed_level"] == 2


def test_zero_shot_composes_the_loops_of_one_result_with_the_compiler_of_another() -> None:
    from autotune.measure._timing import summarize

    space = SearchSpace()
    space.add("flags.fastmath", Choice(("off", "all")))
    space.add("loops.n1.b0.order", Choice(("i,j", "j,i")))
    fast = {"flags.fastmath": "all", "loops.n1.b0.order": "i,j"}
    reordered = {"flags.fastmath": "off", "loops.n1.b0.order": "j,i"}
    recipes = [Recipe.of(fast, space), Recipe.of(reordered, space)]
    strategy = ZeroShotStrategy(space, 0, 4, coreset=recipes)
    strategy.mark_seen(Candidate.from_config(space.default_config()))
    base = [[1e-3] * 3] * 3
    proposed = []
    for speedup in (1.5, 2.0):
        [candidate] = strategy.ask(1)
        timing = summarize(base, [[t / speedup for t in row] for row in base], 5)
        strategy.tell([candidate], [MeasureResult(Status.OK, timing=timing)])
        proposed.append(candidate.config)
    assert proposed == [fast, reordered]
    [composed] = strategy.ask(1)
    assert composed.config == {"flags.fastmath": "all", "loops.n1.b0.order": "j,i"}
    assert strategy.ask(1) == []  # the budget: 3 proposals and the default
    assert "composing" in strategy.notes()[0]


def test_zero_shot_asked_for_a_batch_composes_once_its_results_are_in() -> None:
    from autotune.measure._timing import summarize

    space = SearchSpace()
    space.add("flags.fastmath", Choice(("off", "all")))
    space.add("pipeline.speed_level", Choice((3, 2)))
    space.add("loops.n1.b0.order", Choice(("i,j", "j,i")))
    recipes = [
        Recipe.of({"flags.fastmath": "all"}, space),
        Recipe.of({"loops.n1.b0.order": "j,i"}, space),
        Recipe.of({"pipeline.speed_level": 2}, space),
    ]
    strategy = ZeroShotStrategy(space, 0, 5, coreset=recipes)  # 4 proposals
    strategy.mark_seen(Candidate.from_config(space.default_config()))
    batch = strategy.ask(4)  # as the tuner asks ahead, to compile while it measures
    assert len(batch) == 2  # the last two places wait for results
    base = [[1e-3] * 3] * 3
    for candidate, speedup in zip(batch, (1.5, 2.0), strict=True):
        timing = summarize(base, [[t / speedup for t in row] for row in base], 5)
        strategy.tell([candidate], [MeasureResult(Status.OK, timing=timing)])
    [composed] = strategy.ask(4)  # the other composition is the default config
    assert composed.config == {
        "flags.fastmath": "all",
        "pipeline.speed_level": 3,
        "loops.n1.b0.order": "j,i",
    }
    assert [c.config["pipeline.speed_level"] for c in strategy.ask(4)] == [2]
    assert strategy.ask(4) == []
