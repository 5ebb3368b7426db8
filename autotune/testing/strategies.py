"""Conformance suite for search strategies (:class:`autotune.strategies.BaseStrategy`).

A strategy's test module subclasses :class:`StrategyConformance` and says how to build
the strategy from a space, a seed and a :class:`autotune.context.TuneContext`::

    from autotune.testing.strategies import StrategyConformance

    class TestMyStrategy(StrategyConformance):
        def make_strategy(self, space, seed, context=None):
            return MyStrategy(space, seed, context=context)

Every test runs on several small and medium spaces with conditional parameters,
sequences, permutations and constraints that make part of the space invalid. The seed
is the ``global_random_seed`` fixture when the test session defines one, else 0. Every
strategy is built with a context as the tuner gives one: a program, a target, and
records of earlier trials in a real SQLite database (:func:`conformance_context`).

The replay tests run the strategy against exhaustively recorded measurements of real
kernels (``corpora/spaces/cpu`` in the source tree, or ``AUTOTUNE_REPLAY_SPACES``), with
a seeded fifth of the configs turned into failures; they skip where no recorded space
can be found.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from autotune.candidate import Candidate
from autotune.context import TuneContext
from autotune.db import BaseDatabase, open_database
from autotune.measure._timing import summarize
from autotune.program import Target, Workload
from autotune.records import MeasureResult, Status, TrialRecord
from autotune.space import (
    Bool,
    Choice,
    Condition,
    Config,
    Int,
    Permutation,
    Pow2,
    SearchSpace,
    Seq,
    Subset,
)
from autotune.strategies import BaseStrategy

#: Statuses of failed trials that a strategy must digest and keep going.
FAILURE_STATUSES = (
    Status.BUILD_FAILED,
    Status.RUN_FAILED,
    Status.TIMEOUT,
    Status.WRONG_RESULT,
    Status.INVALID,
)

#: Builds a strategy from a space and a seed (the ``new_strategy`` fixture).
StrategyFactory = Callable[[SearchSpace, int], BaseStrategy]

#: Upper bound on proposals drawn in one test, so a broken strategy cannot loop forever.
MAX_PROPOSALS = 400


def tiny_space() -> SearchSpace:
    """6 configs, 5 valid: small enough that every strategy must exhaust it."""
    space = SearchSpace()
    space.add("unroll", Choice((1, 2, 4)))
    space.add("vectorize", Bool(True))
    space.add_constraint(
        "unroll-4-needs-vectorize",
        lambda c: c["vectorize"] or c["unroll"] != 4 or "unroll 4 needs vectorization",
    )
    return space


def conditional_space() -> SearchSpace:
    """232 configs with two levels of conditional parameters and a permutation."""
    space = SearchSpace()
    space.add("mode", Choice(("off", "tile", "tile+order")))
    space.add("tile", Pow2(4, 32), Condition("mode", ("tile", "tile+order")))
    space.add("order", Permutation(("i", "j", "k")), Condition("mode", ("tile+order",)))
    space.add("unroll", Int(0, 3))
    space.add("parallel", Bool(False))

    def fits_registers(c: Mapping[str, Any]) -> bool | str:
        return c.get("tile", 1) * c["unroll"] <= 32 or "tile * unroll exceeds 32"

    def k_not_outer_at_32(c: Mapping[str, Any]) -> bool:
        return not (c.get("tile") == 32 and c.get("order", ["i"])[0] == "k")

    space.add_constraint("fits-registers", fits_registers)
    space.add_constraint("k-not-outer-at-32", k_not_outer_at_32)
    return space


def sequence_space() -> SearchSpace:
    """1,560 configs: a pass sequence, a subset, a choice conditional on the subset and a
    choice whose values are equal in Python but distinct in JSON (None, 1, True, "1")."""
    space = SearchSpace()
    space.add("passes", Seq(("a", "b", "c"), 1, 3))
    space.add("flags", Subset(("x", "y")))
    space.add("level", Choice((0, 1, 2, 3)), Condition("flags", (["x"], ["x", "y"])))
    space.add("hint", Choice((None, 1, True, "1")))

    def no_pass_twice_in_a_row(c: Mapping[str, Any]) -> bool | str:
        seq = c["passes"]
        return all(a != b for a, b in itertools.pairwise(seq)) or "a pass repeats"

    space.add_constraint("no-repeats", no_pass_twice_in_a_row)
    return space


def medium_space() -> SearchSpace:
    """10,752 configs, most of them invalid through a product constraint."""
    space = SearchSpace()
    space.add("block", Pow2(1, 64))
    space.add("threads", Int(1, 16))
    space.add("layout", Choice(("row", "col", "tiled")))
    space.add("order", Permutation(("i", "j", "k", "l")))
    space.add("swizzle", Bool(False), Condition("layout", ("tiled",)))
    space.add_constraint(
        "block-threads", lambda c: c["block"] * c["threads"] <= 128 or "block * threads > 128"
    )
    return space


def needle_space() -> SearchSpace:
    """16,384 configs of which 5 are valid: tiles that divide the problem size 16384 and
    are at least 1024 (a sampler hits one about once in 3,300 draws)."""
    space = SearchSpace()
    space.add("tile", Int(1, 16384))
    space.add_constraint(
        "divides-problem",
        lambda c: (16384 % c["tile"] == 0 and c["tile"] >= 1024) or "tile must divide 16384",
    )
    return space


def all_invalid_space() -> SearchSpace:
    """A space whose every config breaks a constraint: nothing may be proposed."""
    space = tiny_space()
    space.add_constraint("never", lambda c: "no config is valid")
    return space


#: The spaces every conformance test runs on.
CONFORMANCE_SPACES: dict[str, Callable[[], SearchSpace]] = {
    "tiny": tiny_space,
    "conditional": conditional_space,
    "sequence": sequence_space,
    "medium": medium_space,
}


def valid_configs(space: SearchSpace) -> list[Config]:
    """Every config of ``space`` that satisfies it."""
    return [c for c in space.enumerate() if space.violation(c) is None]


def synthetic_result(candidate: Candidate, status: Status = Status.OK) -> MeasureResult:
    """A deterministic result for ``candidate``: a speedup in [0.5, 1.5) derived from its
    key when ``status`` is OK, else a failure with a reason."""
    if status is not Status.OK:
        return MeasureResult(status, error=f"synthetic {status.value}")
    ratio = 0.5 + int(candidate.key[:8], 16) / 0x1_0000_0000
    # One round keeps this cheap: a single round needs no bootstrap.
    baseline = [[1e-3, 1.01e-3, 0.99e-3]]
    timing = summarize(baseline, [[t / ratio for t in r] for r in baseline], 1)
    return MeasureResult(Status.OK, timing=timing)


def mixed_results(candidates: list[Candidate]) -> list[MeasureResult]:
    """Results where every third candidate failed, cycling through the failure kinds."""
    results = []
    for i, candidate in enumerate(candidates):
        status = FAILURE_STATUSES[(i // 3) % len(FAILURE_STATUSES)] if i % 3 == 2 else Status.OK
        results.append(synthetic_result(candidate, status))
    return results


def drain(
    strategy: BaseStrategy,
    batch: int,
    limit: int = MAX_PROPOSALS,
    results: Callable[[list[Candidate]], list[MeasureResult]] = mixed_results,
) -> tuple[list[Candidate], bool]:
    """Ask and tell in batches until ``ask`` returns nothing or ``limit`` proposals.

    Returns the proposals and whether the strategy said the space is exhausted.
    """
    proposed: list[Candidate] = []
    while len(proposed) < limit:
        candidates = strategy.ask(min(batch, limit - len(proposed)))
        if not candidates:
            return proposed, True
        proposed.extend(candidates)
        strategy.tell(candidates, results(candidates))
    return proposed, False


#: The program of :func:`conformance_context`: a loop summing an array (LLVM IR).
CONFORMANCE_WORKLOAD = Workload(
    kernel="conformance_sum",
    arg_types="(array(float64, 1d, C),)",
    ir_text="""; ModuleID = 'conformance'
define double @conformance_sum(double* %a, i64 %n) {
entry:
  br label %loop
loop:
  %i = phi i64 [ 0, %entry ], [ %next, %loop ]
  %acc = phi double [ 0.0, %entry ], [ %sum, %loop ]
  %p = getelementptr double, double* %a, i64 %i
  %x = load double, double* %p
  %sum = fadd double %acc, %x
  %next = add i64 %i, 1
  %done = icmp eq i64 %next, 1024
  br i1 %done, label %exit, label %loop
exit:
  ret double %sum
}
""",
    inputs="1024",
)
#: Another program with records on the same target: what transfers across programs.
OTHER_WORKLOAD = Workload("conformance_other", "(int64,)", "define void @other()", "7")
#: The target of :func:`conformance_context` (a made-up CPU, never this host).
CONFORMANCE_TARGET = Target("conformance-cpu", "+sse2", "0.0.0", "0.0.0")
#: Another target, whose records a context of :data:`CONFORMANCE_TARGET` never shows.
OTHER_TARGET = Target("other-cpu", "+neon", "0.0.0", "0.0.0")


def add_conformance_records(db: BaseDatabase) -> list[TrialRecord]:
    """Store a few trials of tiny-space configs (some failed) for the workloads and
    targets above, and return them in the order stored."""
    stored: list[TrialRecord] = []
    configs = valid_configs(tiny_space())
    places = [
        (CONFORMANCE_WORKLOAD, CONFORMANCE_TARGET),
        (OTHER_WORKLOAD, CONFORMANCE_TARGET),
        (CONFORMANCE_WORKLOAD, OTHER_TARGET),
    ]
    for workload in (CONFORMANCE_WORKLOAD, OTHER_WORKLOAD):
        db.add_workload(workload, "conformance records")
    for workload, target in places:
        candidates = [Candidate.from_config(c) for c in configs[:3]]
        for candidate, result in zip(candidates, mixed_results(candidates), strict=True):
            record = TrialRecord(
                kernel=workload.kernel,
                workload_key=workload.key,
                target_key=target.key,
                config_key=candidate.key,
                config=candidate.config,
                phase="search",
                result=result,
                run_id="conformance",
            )
            db.add_trial(record)
            stored.append(record)
    return stored


def conformance_context(space: SearchSpace, db: BaseDatabase) -> TuneContext:
    """The context of a search over ``space`` for :data:`CONFORMANCE_WORKLOAD` on
    :data:`CONFORMANCE_TARGET`, reading the records in ``db``."""
    return TuneContext.from_database(db, CONFORMANCE_WORKLOAD, CONFORMANCE_TARGET, space, "numba")


#: Unique evaluations per replay run: a budget well below each recorded space's size.
REPLAY_BUDGET = 40


def replay_space_files() -> list[Path]:
    """Recorded exhaustive spaces to replay, from ``AUTOTUNE_REPLAY_SPACES`` or the
    source tree's ``corpora/spaces/cpu``; empty when neither exists."""
    folder = os.environ.get("AUTOTUNE_REPLAY_SPACES")
    root = Path(folder) if folder else Path(__file__).resolve().parents[2] / "corpora/spaces/cpu"
    return sorted(root.glob("*.json")) if root.is_dir() else []


def replay_run(
    make: Callable[[SearchSpace, int], BaseStrategy], path: Path, seed: int, budget: int
) -> tuple[SearchSpace, list[Candidate], list[MeasureResult]]:
    """Drive a strategy with recorded answers, as the tuner does, until ``budget``
    configs were measured. A seeded fifth of the recorded configs answer as failures
    (build failed, run failed, wrong result, timeout), so recovery is exercised."""
    from autotune.measure._record import space_from_definition
    from autotune.measure._replay import ReplayData

    [kernel] = ReplayData.load(path).kernels.values()
    if kernel.space is None:
        raise ValueError(f"{path} records no search space to replay")
    space = space_from_definition(kernel.space)
    strategy = make(space, seed)
    rng = np.random.default_rng(seed)
    failing = {key for key in sorted(kernel.results) if rng.random() < 0.2}
    proposed: list[Candidate] = []
    answers: list[MeasureResult] = []
    while len(proposed) < budget:
        asked = strategy.ask(1)
        if not asked:
            break
        [candidate] = asked
        _, result = kernel.results.get(
            candidate.key, (None, MeasureResult(Status.INVALID, "not a recorded config"))
        )
        if candidate.key in failing:
            kinds = FAILURE_STATUSES[:4]
            result = MeasureResult(kinds[len(proposed) % len(kinds)], "replayed failure")
        proposed.append(candidate)
        answers.append(result)
        strategy.tell([candidate], [result])
    return space, proposed, answers


def _params(names: Sequence[str], slow: Collection[str] | bool) -> list[Any]:
    return [
        pytest.param(n, marks=pytest.mark.slow) if slow is True or (slow and n in slow) else n
        for n in names
    ]


def space_fixture(slow: Collection[str] = ()) -> Any:
    """The ``conformance_space`` fixture: one of :data:`CONFORMANCE_SPACES` per test.

    A strategy whose every ask is costly (a model fitted per ask) overrides it in its
    test class with the spaces that take it more than a few seconds to drain marked
    ``slow``: ``conformance_space = space_fixture(slow=("medium",))``.
    """

    @pytest.fixture(params=_params(sorted(CONFORMANCE_SPACES), slow))
    def conformance_space(self: Any, request: pytest.FixtureRequest) -> SearchSpace:
        return CONFORMANCE_SPACES[request.param]()

    return conformance_space


def replay_fixture(slow: Collection[str] | bool = ()) -> Any:
    """The ``replay_file`` fixture: one recorded space per test (skipped when none is
    found); ``slow`` marks some of them, or all with ``True``, as ``space_fixture``."""

    @pytest.fixture(params=_params([p.stem for p in replay_space_files()] or ["none"], slow))
    def replay_file(self: Any, request: pytest.FixtureRequest) -> Path:
        files = {p.stem: p for p in replay_space_files()}
        if request.param not in files:
            pytest.skip("no recorded search space found (set AUTOTUNE_REPLAY_SPACES)")
        return files[request.param]

    return replay_file


class StrategyConformance:
    """Tests that every :class:`BaseStrategy` implementation must pass.

    Subclasses implement :meth:`make_strategy`; the class name must start with ``Test``
    for pytest to collect it. The tests build strategies through the ``new_strategy``
    fixture, which gives each one a context with records (see :func:`conformance_context`).
    """

    def make_strategy(
        self, space: SearchSpace, seed: int, context: TuneContext | None = None
    ) -> BaseStrategy:
        """A fresh strategy over ``space`` seeded with ``seed``, given ``context``."""
        raise NotImplementedError("subclasses of StrategyConformance implement make_strategy")

    @pytest.fixture(scope="class")
    @classmethod
    def conformance_database(
        cls, tmp_path_factory: pytest.TempPathFactory
    ) -> Iterator[BaseDatabase]:
        """A SQLite database holding :func:`add_conformance_records`, shared by a class."""
        path = tmp_path_factory.mktemp("conformance") / "records.db"
        db = open_database(f"sqlite:///{path}")
        add_conformance_records(db)
        yield db
        db.close()

    @pytest.fixture
    def new_strategy(self, conformance_database: BaseDatabase) -> StrategyFactory:
        """Builds a strategy over a space with a seed, as the tuner does: with the
        context of that space, whose records come from ``conformance_database``."""

        def new(space: SearchSpace, seed: int) -> BaseStrategy:
            context = conformance_context(space, conformance_database)
            return self.make_strategy(space, seed, context)

        return new

    @pytest.fixture
    def conformance_seed(self, request: pytest.FixtureRequest) -> int:
        try:
            return int(request.getfixturevalue("global_random_seed"))
        except pytest.FixtureLookupError:
            return 0

    #: Proposals drained per test at most. A strategy whose asks cost more as it learns
    #: (a model refitted, a TPE over every trial) may lower it to keep its suite fast.
    max_proposals: ClassVar[int] = MAX_PROPOSALS
    conformance_space = space_fixture()

    def test_keeps_the_context_it_was_given(
        self, conformance_database: BaseDatabase, conformance_seed: int
    ) -> None:
        space = conditional_space()
        context = conformance_context(space, conformance_database)
        strategy = self.make_strategy(space, conformance_seed, context)
        assert strategy.context is context
        before = len(context.records.trials())
        drain(strategy, batch=4, limit=min(20, self.max_proposals))
        assert len(context.records.trials()) == before  # a strategy never writes records
        detached = self.make_strategy(space, conformance_seed)
        assert detached.context.space is space and detached.context.records.trials() == []

    def test_ask_returns_at_most_n_candidates(
        self, new_strategy: StrategyFactory, conformance_space: SearchSpace, conformance_seed: int
    ) -> None:
        strategy = new_strategy(conformance_space, conformance_seed)
        assert strategy.ask(0) == []
        for n in (1, 2, 5, 13):
            batch = strategy.ask(n)
            assert len(batch) <= n
            assert all(isinstance(c, Candidate) for c in batch)

    def test_ask_fills_the_batch_while_the_space_lasts(
        self, new_strategy: StrategyFactory, conformance_seed: int
    ) -> None:
        space = medium_space()
        strategy = new_strategy(space, conformance_seed)
        for n in (1, 4, 16, 32):
            assert len(strategy.ask(n)) == n

    def test_never_proposes_a_candidate_twice(
        self, new_strategy: StrategyFactory, conformance_space: SearchSpace, conformance_seed: int
    ) -> None:
        strategy = new_strategy(conformance_space, conformance_seed)
        proposed, _ = drain(strategy, batch=7, limit=self.max_proposals)
        keys = [c.key for c in proposed]
        assert len(keys) == len(set(keys))

    def test_every_proposal_satisfies_the_space(
        self, new_strategy: StrategyFactory, conformance_space: SearchSpace, conformance_seed: int
    ) -> None:
        strategy = new_strategy(conformance_space, conformance_seed)
        proposed, _ = drain(strategy, batch=5, limit=self.max_proposals)
        assert proposed, "a space with valid configs must yield proposals"
        for candidate in proposed:
            assert conformance_space.violation(candidate.config) is None, candidate.config

    def test_never_proposes_a_candidate_told_before(
        self, new_strategy: StrategyFactory, conformance_space: SearchSpace, conformance_seed: int
    ) -> None:
        # Records of an earlier run reach the strategy before it proposes anything.
        configs = valid_configs(conformance_space)
        previous = [Candidate.from_config(c) for c in configs[:: max(1, len(configs) // 40)]]
        strategy = new_strategy(conformance_space, conformance_seed)
        strategy.tell(previous, mixed_results(previous))
        proposed, exhausted = drain(strategy, batch=6, limit=self.max_proposals)
        told = {c.key for c in previous}
        assert told.isdisjoint(c.key for c in proposed)
        if exhausted:
            assert {c.key for c in proposed} | told == {
                Candidate.from_config(c).key for c in configs
            }

    def test_candidates_told_between_asks_are_not_proposed(
        self, new_strategy: StrategyFactory, conformance_seed: int
    ) -> None:
        space = conditional_space()
        configs = valid_configs(space)
        strategy = new_strategy(space, conformance_seed)
        first = strategy.ask(4)
        foreign = [Candidate.from_config(c) for c in configs[1::3]]
        strategy.tell(first + foreign, mixed_results(first + foreign))
        later, _ = drain(strategy, batch=8, limit=self.max_proposals)
        assert {c.key for c in foreign + first}.isdisjoint(c.key for c in later)

    def test_same_seed_gives_same_proposals(
        self, new_strategy: StrategyFactory, conformance_space: SearchSpace, conformance_seed: int
    ) -> None:
        def script(strategy: BaseStrategy) -> list[list[str]]:
            batches = []
            for n in (3, 1, 8, 5, 2):
                batch = strategy.ask(n)
                batches.append([c.key for c in batch])
                strategy.tell(batch, mixed_results(batch))
            return batches

        first = script(new_strategy(conformance_space, conformance_seed))
        second = script(new_strategy(conformance_space, conformance_seed))
        assert first == second

    @pytest.mark.parametrize("status", [Status.BUILD_FAILED, Status.RUN_FAILED, Status.TIMEOUT])
    def test_keeps_proposing_after_failed_trials(
        self, new_strategy: StrategyFactory, status: Status, conformance_seed: int
    ) -> None:
        space = medium_space()
        strategy = new_strategy(space, conformance_seed)
        proposed, exhausted = drain(
            strategy,
            batch=4,
            limit=60,
            results=lambda cs: [synthetic_result(c, status) for c in cs],
        )
        assert not exhausted
        assert len(proposed) == 60
        assert len({c.key for c in proposed}) == 60
        assert all(space.violation(c.config) is None for c in proposed)

    @pytest.mark.timeout(60)
    def test_exhausts_a_tiny_space_with_an_empty_list(
        self, new_strategy: StrategyFactory, conformance_seed: int
    ) -> None:
        space = tiny_space()
        valid = {Candidate.from_config(c).key for c in valid_configs(space)}
        strategy = new_strategy(space, conformance_seed)
        proposed, exhausted = drain(strategy, batch=2, limit=len(valid) + 10)
        assert exhausted
        assert sorted(c.key for c in proposed) == sorted(valid)
        assert strategy.ask(3) == []

    @pytest.mark.timeout(60)
    def test_empty_list_means_the_space_is_exhausted(
        self, new_strategy: StrategyFactory, conformance_seed: int
    ) -> None:
        # Giving up after a run of invalid draws is not exhaustion: the few valid
        # configs of a constraint-heavy space must all be proposed first.
        space = needle_space()
        valid = {Candidate.from_config(c).key for c in valid_configs(space)}
        for seed in range(conformance_seed, conformance_seed + 3):
            strategy = new_strategy(space, seed)
            proposed, exhausted = drain(strategy, batch=2, limit=len(valid) + 1)
            assert exhausted
            missing = valid - {c.key for c in proposed}
            assert not missing, f"seed {seed}: {len(missing)} of {len(valid)} valid configs missed"

    @pytest.mark.timeout(60)
    def test_space_without_valid_configs_yields_nothing(
        self, new_strategy: StrategyFactory, conformance_seed: int
    ) -> None:
        strategy = new_strategy(all_invalid_space(), conformance_seed)
        assert strategy.ask(4) == []

    replay_file = replay_fixture()

    def test_replay_spends_the_budget_on_distinct_valid_recorded_configs(
        self, new_strategy: StrategyFactory, replay_file: Path, conformance_seed: int
    ) -> None:
        space, proposed, answers = replay_run(
            new_strategy, replay_file, conformance_seed, REPLAY_BUDGET
        )
        assert len(proposed) == REPLAY_BUDGET  # each space is far larger than the budget
        assert len({c.key for c in proposed}) == len(proposed)
        assert all(space.violation(c.config) is None for c in proposed)
        assert all(a.status is not Status.INVALID for a in answers)  # all were recorded
        assert any(a.status is not Status.OK for a in answers)  # failures were survived

    def test_replay_is_deterministic_for_a_seed(
        self, new_strategy: StrategyFactory, replay_file: Path, conformance_seed: int
    ) -> None:
        runs = [
            [c.key for c in replay_run(new_strategy, replay_file, conformance_seed, 15)[1]]
            for _ in range(2)
        ]
        assert runs[0] == runs[1]
