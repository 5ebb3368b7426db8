"""Ordering rules of pass sequences and permutations hold for every proposal."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autotune.candidate import Candidate
from autotune.passes import PASS_ORDER_RULES, PASSES
from autotune.records import MeasureResult, Status, Timing
from autotune.space import Choice, Permutation, SearchSpace, Seq
from autotune.strategies import make_strategy
from autotune.strategies._neighbors import mutate
from autotune.strategies._optuna import _ordering_by_keys

STRATEGY_NAMES = ("random", "mutation", "evolution", "tpe", "bandit")


def _ok(speedup: float) -> MeasureResult:
    timing = Timing(
        [[1.0]], [[1.0 / speedup]], 1, 1.0, 1.0 / speedup, 0.0, speedup, (speedup, speedup)
    )
    return MeasureResult(Status.OK, timing=timing)


@st.composite
def ordered_spaces(draw: st.DrawFn) -> SearchSpace:
    """A pass sequence under ordering rules beside a permutation with precedences."""
    choices = tuple(draw(st.lists(st.sampled_from("abcdef"), min_size=2, max_size=5, unique=True)))
    rules = tuple((item, (choices[0],)) for item in choices[1:] if draw(st.booleans()))
    items = ("i", "j", "k", "l")
    precedes = tuple(
        draw(st.lists(st.sampled_from([("i", "j"), ("j", "l"), ("k", "l")]), unique=True))
    )
    space = SearchSpace()
    space.add("seq", Seq(choices, 0, draw(st.integers(1, 4)), rules))
    space.add("order", Permutation(items, precedes))
    space.add("x", Choice((1, 2, 3)))
    return space


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(space=ordered_spaces(), seed=st.integers(0, 2**16), name=st.sampled_from(STRATEGY_NAMES))
def test_every_strategy_proposes_only_ordered_configs(
    space: SearchSpace, seed: int, name: str
) -> None:
    strategy = make_strategy(name, space, seed, 30)
    rng = np.random.default_rng(seed)
    for _ in range(25):
        asked = strategy.ask(1)
        if not asked:
            break
        assert space.violation(asked[0].config) is None, asked[0].config
        strategy.tell(asked, [_ok(float(rng.uniform(0.5, 2.0)))])


@given(space=ordered_spaces(), seed=st.integers(0, 2**16))
def test_mutations_keep_ordering_rules(space: SearchSpace, seed: int) -> None:
    rng = np.random.default_rng(seed)
    config = space.sample(rng)
    for _ in range(20):
        config = mutate(space, config, rng, changes=2)
        assert space.violation(config) is None, config


@given(keys=st.lists(st.floats(0, 1), min_size=7, max_size=7))
def test_random_key_decoding_respects_precedences(keys: list[float]) -> None:
    items = tuple("abcdefg")
    param = Permutation(items, (("a", "g"), ("b", "c"), ("d", "e")))
    order = _ordering_by_keys(param, dict(zip(items, keys, strict=True)))
    assert param.validate(order)


def test_loop_passes_come_after_loop_canonicalization() -> None:
    seq = Seq(PASSES, 1, 8, PASS_ORDER_RULES)
    assert not seq.validate(["loop_unroll"])
    assert not seq.validate(["sroa", "loop_rotate", "loop_simplify"])
    assert seq.validate(["loop_simplify", "sroa", "loop_rotate", "loop_unroll"])
    rng = np.random.default_rng(0)
    loop_passes = {item for item, _ in PASS_ORDER_RULES}
    for _ in range(500):
        sample = seq.sample(rng)
        first_loop = next((i for i, p in enumerate(sample) if p in loop_passes), None)
        if first_loop is not None:
            assert "loop_simplify" in sample[:first_loop]


def test_ordered_sizes_match_enumeration() -> None:
    seq = Seq(("s", "a", "b"), 0, 3, (("a", ("s",)), ("b", ("a",))))
    assert seq.size() == len(list(seq.values()))
    assert ["s", "a", "b"] in list(seq.values())
    assert ["a"] not in list(seq.values())
    perm = Permutation(("i", "j", "k"), (("i", "k"),))
    assert perm.size() == 3
    assert sorted(map(tuple, perm.values())) == [("i", "j", "k"), ("i", "k", "j"), ("j", "i", "k")]


def test_candidates_from_ordered_spaces_round_trip() -> None:
    space = SearchSpace().add("seq", Seq(PASSES, 1, 4, PASS_ORDER_RULES))
    config = {"seq": ["loop_simplify", "loop_unroll"]}
    assert Candidate.from_config(config).config == config
    assert space.violation(config) is None
