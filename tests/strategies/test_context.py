"""The tune context: what every strategy is given about its program, target and records."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from autotune.backends._cupy import CudaTarget
from autotune.context import RecordsView, TuneContext
from autotune.cost_model._program import (
    PROBLEM_FEATURES,
    PROGRAM_FEATURES,
    cached_program_features,
)
from autotune.db import BaseDatabase, open_database
from autotune.program import Workload
from autotune.strategies import STRATEGIES, BaseStrategy, make_strategy
from autotune.strategies._optuna import gp_available
from autotune.strategies._random import RandomStrategy
from autotune.testing.strategies import (
    CONFORMANCE_TARGET,
    CONFORMANCE_WORKLOAD,
    OTHER_TARGET,
    OTHER_WORKLOAD,
    add_conformance_records,
    conditional_space,
    conformance_context,
    mixed_results,
    sequence_space,
)

#: Method names that would write to a database, none of which a view may have.
WRITING_PREFIXES = ("add", "remove", "delete", "save", "set", "update", "claim", "release")
WRITING_PREFIXES += ("start", "finish", "close", "insert", "write")

CUDA_WORKLOAD = Workload(
    kernel="scale",
    arg_types="(float32[1d], int32)",
    ir_text='extern "C" __global__ void scale(float* x, int n) { x[threadIdx.x] *= 2; }',
    inputs="4096, 4096",
)
CUDA_TARGET = CudaTarget("MockGPU", "9.0", 132, "12080", "13000", "mock")


@pytest.fixture
def database(tmp_path: Path) -> Iterator[BaseDatabase]:
    db = open_database(f"sqlite:///{tmp_path / 'records.db'}")
    add_conformance_records(db)
    yield db
    db.close()


def test_the_records_view_has_no_way_to_write(database: BaseDatabase) -> None:
    view = conformance_context(conditional_space(), database).records
    public = [name for name in dir(view) if not name.startswith("_")]
    assert not [name for name in public if name.startswith(WRITING_PREFIXES)]
    assert set(public) >= {"trials", "target_trials", "workloads", "portfolio"}
    with pytest.raises(AttributeError):
        view._database = None  # type: ignore[misc]
    with pytest.raises(AttributeError):
        view.add_trial = database.add_trial  # type: ignore[attr-defined]


def test_the_context_is_frozen(database: BaseDatabase) -> None:
    context = conformance_context(conditional_space(), database)
    with pytest.raises(dataclasses.FrozenInstanceError):
        context.records = RecordsView.empty()  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        context.workload = OTHER_WORKLOAD  # type: ignore[misc]


def test_records_are_this_workloads_on_this_target_and_every_workloads_on_it(
    database: BaseDatabase,
) -> None:
    records = conformance_context(conditional_space(), database).records
    mine = records.trials()
    assert len(mine) == 3
    assert {(r.workload_key, r.target_key) for r in mine} == {
        (CONFORMANCE_WORKLOAD.key, CONFORMANCE_TARGET.key)
    }
    on_target = records.target_trials()
    assert len(on_target) == 6
    assert {r.workload_key for r in on_target} == {CONFORMANCE_WORKLOAD.key, OTHER_WORKLOAD.key}
    assert OTHER_TARGET.key not in {r.target_key for r in on_target}
    assert records.target_trials(phase="confirm") == []
    assert {w.key for w in records.workloads()} == {CONFORMANCE_WORKLOAD.key, OTHER_WORKLOAD.key}
    assert records.portfolio() == []
    mine[0].config["unroll"] = "changed"  # answers are copies
    assert records.trials()[0].config["unroll"] != "changed"


def test_a_detached_context_has_empty_records_and_no_program() -> None:
    space = conditional_space()
    context = TuneContext.detached(space)
    assert context.space is space and context.workload is None and context.target is None
    assert not context.records.has_database
    assert context.records.trials() == [] and context.records.target_trials() == []
    assert context.records.workloads() == [] and context.records.portfolio() == []
    assert dict(context.program_features) == {}


def test_numba_features_are_the_program_features_computed_once() -> None:
    context = TuneContext.detached(conditional_space(), CONFORMANCE_WORKLOAD)
    features = context.program_features
    assert tuple(features) == PROGRAM_FEATURES
    assert dict(features) == cached_program_features(CONFORMANCE_WORKLOAD)
    assert features["prog.loop.count"] == 1
    assert context.program_features is features
    with pytest.raises(TypeError):
        features["prog.loop.count"] = 2.0  # type: ignore[index]


@pytest.mark.parametrize("backend", ["cuda", "numba"])
def test_features_of_a_cuda_workload_do_not_raise(backend: str) -> None:
    # Labelled "numba" by mistake, CUDA source still gives its problem size.
    context = TuneContext.detached(
        conditional_space(), CUDA_WORKLOAD, target=CUDA_TARGET, backend=backend
    )
    features = context.program_features
    assert tuple(features) == PROBLEM_FEATURES
    assert features["prog.size.arrays"] == 1 and features["prog.size.scalars"] == 1
    assert features["prog.size.log2_elements"] > 12


def test_a_strategy_refuses_the_context_of_another_space() -> None:
    context = TuneContext.detached(conditional_space())
    with pytest.raises(ValueError, match="another search space"):
        RandomStrategy(sequence_space(), 0, context=context)


def test_a_strategy_without_a_context_gets_a_detached_one() -> None:
    space = conditional_space()
    strategy = make_strategy("auto", space, 0, 10)
    assert strategy.context.space is space and strategy.context.workload is None


#: Strategies whose proposals come from other programs' records by design.
TRANSFER_STRATEGIES = {"zero-shot"}


def _available(name: str) -> Any:
    if name == "gp" and not gp_available():
        return pytest.param(name, marks=pytest.mark.skip(reason="'gp' needs PyTorch"))
    return name


def _first_proposals(strategy: BaseStrategy, count: int = 20) -> list[str]:
    keys: list[str] = []
    while len(keys) < count:
        asked = strategy.ask(1 + len(keys) % 3)  # batches of 1, 2 and 3
        if not asked:
            break
        keys.extend(c.key for c in asked)
        strategy.tell(asked, mixed_results(asked))
    return keys[:count]


@pytest.mark.parametrize("space_of", [conditional_space, sequence_space], ids=["cond", "seq"])
@pytest.mark.parametrize(
    "name", [_available(n) for n in sorted(STRATEGIES) if n not in TRANSFER_STRATEGIES]
)
def test_without_a_model_a_context_does_not_change_what_a_strategy_proposes(
    name: str, space_of: Any, database: BaseDatabase, global_random_seed: int
) -> None:
    without = _first_proposals(make_strategy(name, space_of(), global_random_seed, 20))
    space = space_of()
    context = conformance_context(space, database)
    strategy = make_strategy(name, space, global_random_seed, 20, context=context)
    assert strategy.context is context
    assert _first_proposals(strategy) == without
    assert len(without) == 20


def test_every_technique_of_the_bandit_shares_its_context(database: BaseDatabase) -> None:
    space = conditional_space()
    context = conformance_context(space, database)
    bandit = make_strategy("auto", space, 0, 20, context=context)
    techniques = getattr(bandit, "techniques", {})
    assert techniques and all(t.context is context for t in techniques.values())


def test_the_tuner_gives_its_strategy_the_context_of_the_search(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CUDA search replayed from mock data (no GPU): the strategy sees the workload,
    the target, the backend and the database, and the features do not raise."""
    import autotune.tuner
    from autotune.measure._gpu_spaces import convert, dumps
    from autotune.measure._replay import ReplayData, ReplayRunner
    from autotune.tuner import TuneOptions, Tuner
    from tests.measure.test_gpu_spaces import mock_cuda_kernel, mock_measured_source

    source = mock_measured_source()
    path = tmp_path / "replay.json"
    path.write_text(dumps(convert(source)))
    data = ReplayData.load(path)
    decl = mock_cuda_kernel(source)
    built: list[BaseStrategy] = []

    def recording(*args: Any, **kwargs: Any) -> BaseStrategy:
        strategy = make_strategy(*args, **kwargs)
        built.append(strategy)
        return strategy

    monkeypatch.setattr(autotune.tuner, "make_strategy", recording)
    db = open_database(f"sqlite:///{tmp_path / 'tune.db'}")
    try:
        options = TuneOptions(budget=6, strategy="random", confirm_top=1)
        result = Tuner(ReplayRunner(data), db, data.target, options).tune(decl)
        [strategy] = built
        context = strategy.context
        assert context.space is strategy.space
        assert context.backend == "cuda" and context.target is data.target
        assert context.workload is not None and context.workload.key == result.workload_key
        assert tuple(context.program_features) == PROBLEM_FEATURES
        stored = [r.config_key for r in db.trials(result.workload_key, data.target.key)]
        assert stored and [r.config_key for r in context.records.trials()] == stored
    finally:
        db.close()
