"""Optuna-backed search: the strategy conformance suite, plus what TPE must do."""

from __future__ import annotations

import numpy as np
import pytest

from autotune.candidate import Candidate
from autotune.context import TuneContext
from autotune.records import MeasureResult, Status
from autotune.space import Choice, Int, Permutation, Pow2, SearchSpace, Seq, Subset
from autotune.strategies import BaseStrategy
from autotune.strategies._optuna import OptunaStrategy, _Codec
from autotune.testing.strategies import StrategyConformance, space_fixture


class TestOptunaStrategy(StrategyConformance):
    # TPE's every ask costs more as trials accumulate: 40 proposals check the same
    # contract, and the two spaces with conditional parameters still take seconds.
    max_proposals = 40
    conformance_space = space_fixture(slow=("conditional", "sequence"))

    def make_strategy(
        self, space: SearchSpace, seed: int, context: TuneContext | None = None
    ) -> BaseStrategy:
        return OptunaStrategy(space, seed, context=context)


def _space() -> SearchSpace:
    space = SearchSpace()
    space.add("mode", Choice(("a", "b")))
    from autotune.space import Condition

    space.add("seq", Seq(("p", "q", "r"), 1, 3), Condition("mode", ("b",)))
    space.add("n", Int(0, 10, 2))
    space.add("t", Pow2(4, 64))
    space.add("s", Subset(("x", "y")))
    space.add("o", Permutation(("i", "j", "k")))
    return space


def test_codec_round_trips_every_parameter_kind():
    space = _space()
    codec = _Codec(space)
    rng = np.random.default_rng(0)
    for _ in range(50):
        config = space.sample(rng)
        params, dists = codec.encode(config)
        assert set(params) == set(dists)
        for key, value in params.items():
            assert dists[key]._contains(dists[key].to_internal_repr(value))


def test_tpe_finds_the_optimum_of_a_smooth_space_faster_than_chance():
    space = SearchSpace().add("x", Int(0, 99)).add("y", Int(0, 99))

    def speedup(config):
        return float(np.exp(-((config["x"] - 70) ** 2 + (config["y"] - 20) ** 2) / 400.0)) + 0.1

    strategy = OptunaStrategy(space, seed=1)
    best = 0.0
    for _ in range(60):
        [candidate] = strategy.ask(1)
        value = speedup(candidate.config)
        best = max(best, value)
        strategy.tell([candidate], [_ok(value)])
    # Random search reaches within 90% of the optimum in 60 of 10,000 points rarely.
    assert best > 0.9


def test_failures_are_told_without_breaking_the_study():
    strategy = OptunaStrategy(_space(), seed=0)
    for status in (Status.BUILD_FAILED, Status.WRONG_RESULT, Status.TIMEOUT):
        [candidate] = strategy.ask(1)
        strategy.tell([candidate], [MeasureResult(status, "x")])
    assert len(strategy.ask(3)) == 3


def test_priors_from_an_earlier_run_are_added_to_the_study():
    space = _space()
    prior = [Candidate.from_config(space.sample(np.random.default_rng(i))) for i in range(5)]
    strategy = OptunaStrategy(space, seed=0)
    strategy.tell(prior, [_ok(1.0 + i / 10) for i in range(5)])
    assert len(strategy.study.trials) == 5
    proposed = strategy.ask(10)
    assert not {c.key for c in proposed} & {c.key for c in prior}


def test_a_stored_study_resumed_is_not_told_its_trials_twice(tmp_path) -> None:
    space = _space()
    prior = [Candidate.from_config(space.sample(np.random.default_rng(i))) for i in range(4)]
    storage, name = f"sqlite:///{tmp_path / 'study.db'}", "autotune:k:w:run"
    first = OptunaStrategy(space, seed=0, storage=storage, study_name=name)
    first.tell(prior[:3], [_ok(1.1)] * 3)
    resumed = OptunaStrategy(space, seed=0, storage=storage, study_name=name)
    resumed.tell(prior, [_ok(1.1)] * 4)  # what a resumed run tells: every recorded trial
    assert len(resumed.study.trials) == 4


def _ok(speedup: float) -> MeasureResult:
    from autotune.measure._timing import summarize

    rounds = [[speedup, speedup], [speedup, speedup]]
    return MeasureResult(Status.OK, timing=summarize(rounds, [[1.0, 1.0], [1.0, 1.0]], 1))


@pytest.mark.slow
def test_gp_strategy_replays_a_recorded_space_without_repeats() -> None:
    """Optuna's GP sampler (needs torch) through the replay conformance checks."""
    from autotune.strategies._optuna import GPStrategy, gp_available
    from autotune.testing.strategies import replay_run, replay_space_files

    if not gp_available():
        pytest.skip("strategy 'gp' needs PyTorch (pip install torch==2.13.0)")
    files = replay_space_files()
    if not files:
        pytest.skip("no recorded search space found")
    space, proposed, _ = replay_run(GPStrategy, files[0], 0, 12)
    assert len(proposed) == 12
    assert len({c.key for c in proposed}) == 12
    assert all(space.violation(c.config) is None for c in proposed)


def test_gp_strategy_without_torch_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    from autotune.strategies._optuna import GPStrategy

    real_import = builtins.__import__

    def no_torch(name: str, *args: object, **kwargs: object) -> object:
        if name == "torch":
            raise ImportError("No module named 'torch'")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_torch)
    with pytest.raises(RuntimeError, match=r"torch==2\.13\.0"):
        GPStrategy(_space(), 0)


def test_a_stored_study_names_its_objective_for_optuna_dashboard(tmp_path) -> None:
    import optuna

    from autotune.strategies._optuna import OBJECTIVE_NAME

    storage, name = f"sqlite:///{tmp_path / 'study.db'}", "autotune:k:w:run"
    strategy = OptunaStrategy(_space(), seed=0, storage=storage, study_name=name)
    [candidate] = strategy.ask(1)
    strategy.tell([candidate], [_ok(1.2)])
    stored = optuna.load_study(study_name=name, storage=storage)
    assert stored.metric_names == [OBJECTIVE_NAME]
    assert "speedup" in OBJECTIVE_NAME
