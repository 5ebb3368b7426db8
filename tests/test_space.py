"""Search spaces: every parameter type, conditions, constraints, counting and enumeration."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autotune.candidate import Candidate
from autotune.space import (
    BaseParam,
    Bool,
    Choice,
    Condition,
    Int,
    Permutation,
    Pow2,
    SearchSpace,
    Seq,
    Subset,
)

# --- hypothesis strategies -------------------------------------------------------------

names = st.text("abcdefghij", min_size=1, max_size=3)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1000, 1000),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(max_size=4),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def int_params(draw: st.DrawFn) -> Int:
    low = draw(st.integers(-50, 50))
    high = low + draw(st.integers(0, 60))
    step = draw(st.integers(1, 7))
    values = list(range(low, high + 1, step))
    default = draw(st.none() | st.sampled_from(values))
    return Int(low, high, step, default)


@st.composite
def pow2_params(draw: st.DrawFn) -> Pow2:
    lo = draw(st.integers(0, 10))
    hi = draw(st.integers(lo, 12))
    default = draw(st.none() | st.integers(lo, hi).map(lambda e: 1 << e))
    return Pow2(1 << lo, 1 << hi, default)


def _type_and_value(value: Any) -> tuple[str, Any]:
    return type(value).__name__, value


choice_params = st.lists(json_scalars, min_size=1, max_size=6, unique_by=_type_and_value).map(
    lambda values: Choice(tuple(values))
)
item_lists = st.lists(names, min_size=1, max_size=4, unique=True).map(tuple)


@st.composite
def permutation_params(draw: st.DrawFn) -> Permutation:
    """Permutations, some with ordering pairs consistent with the default order."""
    items = draw(item_lists)
    pairs = [(items[i], items[j]) for i in range(len(items)) for j in range(i + 1, len(items))]
    precedes = draw(st.lists(st.sampled_from(pairs), max_size=3, unique=True)) if pairs else []
    return Permutation(items, tuple(precedes))


subset_params = st.lists(names, max_size=4, unique=True).map(lambda items: Subset(tuple(items)))


@st.composite
def seq_params(draw: st.DrawFn) -> Seq:
    choices = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    min_len = draw(st.integers(0, 2))
    max_len = draw(st.integers(max(min_len, 1), 3))
    rules: list[tuple[str, tuple[str, ...]]] = []
    for item in choices[1:]:
        enablers = [c for c in choices if c != item]
        if draw(st.booleans()):
            picked = draw(st.lists(st.sampled_from(enablers), min_size=1, max_size=2, unique=True))
            rules.append((item, tuple(picked)))
    return Seq(tuple(choices), min_len, max_len, tuple(rules))


any_param = st.one_of(
    int_params(), pow2_params(), choice_params, permutation_params(), subset_params, seq_params()
)


def frozen(value: Any) -> Any:
    """A hashable form that keeps JSON types apart (True is not 1)."""
    if isinstance(value, list | tuple):
        return ("list", tuple(frozen(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((k, frozen(v)) for k, v in value.items())))
    return _type_and_value(value)


@st.composite
def conditional_spaces(draw: st.DrawFn) -> SearchSpace:
    """Spaces of 1-4 small parameters, some active only under an earlier one's values."""
    space = SearchSpace()
    small = st.one_of(
        int_params(), pow2_params(), choice_params, permutation_params(), seq_params()
    )
    for i in range(draw(st.integers(1, 4))):
        param = draw(small.filter(lambda p: p.size() <= 12))
        condition = None
        if i and draw(st.booleans()):
            parent = draw(st.sampled_from(space.names))
            values = draw(
                st.lists(st.sampled_from(list(space[parent].values())), min_size=1, max_size=3)
            )
            condition = Condition(parent, tuple(values))
        space.add(f"p{i}", param, condition)
    return space


# --- parameters ------------------------------------------------------------------------


@given(param=any_param)
def test_default_is_valid(param: BaseParam) -> None:
    assert param.validate(param.default)


@given(param=any_param, seed=st.integers(0, 2**32 - 1))
def test_samples_are_valid_values(param: BaseParam, seed: int) -> None:
    rng = np.random.default_rng(seed)
    small = param.size() <= 500
    domain = {frozen(v) for v in param.values()} if small else set()
    for _ in range(10):
        value = param.sample(rng)
        assert param.validate(value), value
        if small:
            assert frozen(value) in domain


@given(param=any_param)
def test_values_are_distinct_valid_and_counted_by_size(param: BaseParam) -> None:
    values = list(param.values())
    assert len(values) == param.size()
    assert len({frozen(v) for v in values}) == len(values)
    assert all(param.validate(v) for v in values)
    assert frozen(param.default) in {frozen(v) for v in values}


@given(param=st.one_of(int_params(), pow2_params(), choice_params, seq_params()), value=json_values)
def test_validate_answers_any_json_value_with_a_bool(param: BaseParam, value: Any) -> None:
    assert param.validate(value) in (True, False)


@given(param=any_param, seed=st.integers(0, 2**32 - 1))
def test_sampled_values_are_json_native(param: BaseParam, seed: int) -> None:
    value = param.sample(np.random.default_rng(seed))
    assert Candidate.from_config({"x": value}).config == {"x": value}
    assert not isinstance(value, tuple | np.generic)


@given(param=int_params(), value=st.integers(-200, 200))
def test_int_accepts_exactly_the_grid_points_within_bounds(param: Int, value: int) -> None:
    on_grid = param.low <= value <= param.high and (value - param.low) % param.step == 0
    assert param.validate(value) is on_grid


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (0, True),
        (10, True),
        (4, True),
        (3, False),
        (-2, False),
        (12, False),
        (True, False),
        (2.0, False),
        ("2", False),
        (None, False),
    ],
)
def test_int_validate_examples(value: Any, ok: bool) -> None:
    assert Int(0, 10, 2).validate(value) is ok


@pytest.mark.parametrize(
    "args",
    [(5, 3), (0, 10, 0), (0, 10, -1), (0, 10, 2, 3), (0, 10, 1, 11)],
)
def test_int_rejects_bad_ranges_and_defaults(args: tuple[int, ...]) -> None:
    with pytest.raises(ValueError):
        Int(*args)


def test_int_default_is_low_unless_given() -> None:
    assert Int(3, 9).default == 3
    assert Int(3, 9, 2, 7).default == 7
    assert Int(3, 9, 2).size() == 4
    assert list(Int(3, 9, 2).values()) == [3, 5, 7, 9]


@given(param=pow2_params(), value=st.integers(-5, 5000))
def test_pow2_accepts_exactly_powers_of_two_within_bounds(param: Pow2, value: int) -> None:
    is_pow2 = value >= 1 and value & (value - 1) == 0
    assert param.validate(value) is (is_pow2 and param.low <= value <= param.high)


@pytest.mark.parametrize(
    "args", [(3, 8), (2, 12), (0, 8), (8, 4), (-2, 4), (2, 16, 6), (2, 16, 32)]
)
def test_pow2_rejects_bad_bounds_and_defaults(args: tuple[int, ...]) -> None:
    with pytest.raises(ValueError):
        Pow2(*args)


def test_pow2_values_and_size() -> None:
    param = Pow2(4, 64)
    assert list(param.values()) == [4, 8, 16, 32, 64]
    assert param.size() == 5
    assert not param.validate(True)
    assert not param.validate(8.0)


def test_choice_keeps_true_distinct_from_one() -> None:
    ints = Choice((0, 1))
    assert ints.validate(1)
    assert not ints.validate(True)
    assert not ints.validate(1.0)
    bools = Bool()
    assert bools.validate(False) and bools.validate(True)
    assert not bools.validate(0)
    mixed = Choice((1, True, 1.0, "1"))
    assert mixed.size() == 4
    assert all(mixed.validate(v) for v in (1, True, 1.0, "1"))


def test_choice_rejects_empty_and_duplicate_values() -> None:
    with pytest.raises(ValueError):
        Choice(())
    with pytest.raises(ValueError):
        Choice((1, 2, 1))
    with pytest.raises(ValueError):
        Choice(([1, 2], [1, 2]))


def test_choice_default_is_first_and_bool_default_first() -> None:
    assert Choice(("b", "a")).default == "b"
    assert Bool(True).default is True
    assert Bool().default is False
    assert list(Bool(True).values()) == [True, False]


def test_permutation_validation() -> None:
    param = Permutation(("i", "j", "k"))
    assert param.default == ["i", "j", "k"]
    assert param.size() == 6
    assert param.validate(["k", "i", "j"])
    for bad in (
        ["i", "j"],
        ["i", "j", "j"],
        ["i", "j", "k", "k"],
        ["i", "j", "x"],
        ("i", "j", "k"),
        "ijk",
        None,
    ):
        assert not param.validate(bad), bad
    with pytest.raises(ValueError):
        Permutation(("i", "i"))
    with pytest.raises(ValueError):
        Permutation(())


def test_permutation_validate_rejects_mixed_types_without_raising() -> None:
    assert Permutation(("a", "b")).validate([1, "a"]) is False


def test_subset_validation() -> None:
    param = Subset(("x", "y", "z"))
    assert param.default == []
    assert param.size() == 8
    assert param.validate(["x", "z"])
    for bad in (["z", "x"], ["x", "x"], ["w"], ("x",), "x", None):
        assert not param.validate(bad), bad


def test_subset_validate_rejects_nested_lists_without_raising() -> None:
    assert Subset(("x",)).validate([["x"]]) is False


def test_subset_rejects_duplicate_items() -> None:
    with pytest.raises(ValueError):
        Subset(("a", "a"))


def test_seq_rejects_duplicate_choices() -> None:
    with pytest.raises(ValueError):
        Seq(("a", "a"), 1, 2)


def test_seq_validation() -> None:
    param = Seq(("a", "b"), 1, 3)
    assert param.default == ["a"]
    assert param.size() == 2 + 4 + 8
    assert param.validate(["b", "b", "a"])
    for bad in ([], ["a"] * 4, ["c"], ("a",), "a", None):
        assert not param.validate(bad), bad
    assert Seq(("a",), 0, 2).default == []
    for args in [((), 1, 2), (("a",), -1, 2), (("a",), 3, 2), (("a",), 0, 0)]:
        with pytest.raises(ValueError):
            Seq(*args)


# --- search spaces ---------------------------------------------------------------------


def tiling_space() -> SearchSpace:
    space = SearchSpace()
    space.add("mode", Choice(("plain", "tiled", "tiled+order")))
    space.add("tile", Pow2(8, 64), Condition("mode", ("tiled", "tiled+order")))
    space.add("order", Permutation(("i", "j")), Condition("mode", ("tiled+order",)))
    space.add("inner", Int(1, 2), Condition("tile", (64,)))
    space.add("unroll", Bool())
    return space


def test_conditional_size_and_enumeration_by_hand() -> None:
    space = tiling_space()
    # plain: 2; tiled: (3 tiles + 1 tile x 2 inner) x 2; tiled+order: that x 2 orders.
    assert space.size() == 2 + 5 * 2 + 5 * 2 * 2
    configs = list(space.enumerate())
    assert len(configs) == space.size()
    assert {"mode": "plain", "unroll": False} in configs
    assert {"mode": "tiled", "tile": 64, "inner": 2, "unroll": True} in configs


def test_default_config_holds_only_active_parameters() -> None:
    space = tiling_space()
    assert space.default_config() == {"mode": "plain", "unroll": False}
    assert space.violation(space.default_config()) is None


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ({"mode": "tiled", "unroll": False}, ["missing", "'tile'"]),
        ({"mode": "plain"}, ["missing", "'unroll'"]),
        ({"mode": "plain", "unroll": False, "bogus": 1}, ["unexpected", "bogus"]),
        ({"mode": "plain", "unroll": False, "tile": 8}, ["inactive", "tile"]),
        ({"mode": "tiled", "tile": 8, "inner": 1, "unroll": False}, ["inactive", "inner"]),
        ({"mode": "tiled", "tile": 12, "unroll": False}, ["tile=12", "pow2 [8, 64]"]),
        ({"mode": "fast", "unroll": False}, ["mode='fast'", "choice"]),
        ({"mode": "plain", "unroll": 0}, ["unroll=0"]),
    ],
)
def test_violation_says_what_is_wrong(config: dict[str, Any], words: list[str]) -> None:
    reason = tiling_space().violation(config)
    assert isinstance(reason, str)
    for word in words:
        assert word in reason


def test_violation_reports_constraints_by_name_with_their_reason() -> None:
    space = tiling_space()
    space.add_constraint("small-tiles-only", lambda c: c.get("tile", 8) <= 16)
    space.add_constraint(
        "no-unroll-when-tiled",
        lambda c: not (c["unroll"] and "tile" in c) or "tiles unroll already",
    )
    assert space.violation({"mode": "plain", "unroll": True}) is None
    assert space.violation({"mode": "tiled", "tile": 16, "unroll": False}) is None
    reason = space.violation({"mode": "tiled", "tile": 32, "unroll": False})
    assert reason == "constraint 'small-tiles-only' violated"
    reason = space.violation({"mode": "tiled", "tile": 8, "unroll": True})
    assert reason == "constraint 'no-unroll-when-tiled' violated: tiles unroll already"


def test_a_constraint_that_raises_makes_the_config_invalid_with_the_reason() -> None:
    space = tiling_space()
    space.add_constraint("reads-tile", lambda c: c["tile"] <= 16)
    assert space.violation({"mode": "tiled", "tile": 8, "unroll": False}) is None
    reason = space.violation({"mode": "plain", "unroll": True})
    assert reason == "constraint 'reads-tile' raised KeyError: 'tile'"
    configs = list(space.enumerate())
    valid = [c for c in configs if space.violation(c) is None]
    assert valid and len(valid) < len(configs)


def test_add_rejects_duplicate_names_and_parents_added_later() -> None:
    space = SearchSpace().add("a", Int(0, 1))
    with pytest.raises(ValueError, match="already defined"):
        space.add("a", Int(0, 2))
    with pytest.raises(ValueError, match="must be added before"):
        space.add("b", Int(0, 2), Condition("c", (1,)))
    assert space.names == ["a"]
    assert len(space) == 1
    with pytest.raises(KeyError):
        space["b"]


def test_enumerate_refuses_spaces_over_the_limit() -> None:
    space = SearchSpace().add("a", Int(0, 99)).add("b", Int(0, 99))
    with pytest.raises(ValueError, match="10000"):
        next(space.enumerate(limit=9999))
    assert sum(1 for _ in space.enumerate(limit=10000)) == 10000


def test_describe_lists_domains_and_conditions() -> None:
    rows = tiling_space().describe()
    assert rows[0] == ("mode", "choice {'plain', 'tiled', 'tiled+order'}", "")
    assert rows[1] == ("tile", "pow2 [8, 64]", "if mode in ['tiled', 'tiled+order']")


@given(space=conditional_spaces())
def test_size_counts_enumerated_configs(space: SearchSpace) -> None:
    configs = list(space.enumerate())
    assert len(configs) == space.size()


@given(space=conditional_spaces())
def test_enumerate_yields_distinct_valid_configs(space: SearchSpace) -> None:
    keys = [Candidate.from_config(c).key for c in space.enumerate()]
    assert len(keys) == len(set(keys))
    assert all(space.violation(c) is None for c in space.enumerate())


@given(space=conditional_spaces(), seed=st.integers(0, 2**32 - 1))
def test_samples_are_valid_enumerated_configs(space: SearchSpace, seed: int) -> None:
    rng = np.random.default_rng(seed)
    keys = {Candidate.from_config(c).key for c in space.enumerate()}
    assert space.violation(space.default_config()) is None
    for _ in range(10):
        config = space.sample(rng)
        assert space.violation(config) is None, config
        assert Candidate.from_config(config).key in keys


@given(space=conditional_spaces(), seed=st.integers(0, 2**32 - 1))
def test_inactive_parameters_are_absent_from_samples(space: SearchSpace, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(10):
        config = space.sample(rng)
        for entry in space._entries:
            active = entry.condition is None or entry.condition.holds(config)
            assert (entry.name in config) is active


@given(space=conditional_spaces(), seed=st.integers(0, 2**32 - 1), data=st.data())
def test_violation_names_a_removed_or_added_parameter(
    space: SearchSpace, seed: int, data: st.DataObject
) -> None:
    config = space.sample(np.random.default_rng(seed))
    name = data.draw(st.sampled_from(sorted(config)))
    missing = {k: v for k, v in config.items() if k != name}
    reason = space.violation(missing)
    assert reason is not None
    extra = {**config, "not_a_param": 1}
    assert "not_a_param" in (space.violation(extra) or "")


def test_landmarks_are_completed_with_defaults_and_must_be_valid():
    from autotune.params import Bool, Choice

    space = SearchSpace()
    space.add("a", Bool(False)).add("b", Choice((1, 2)))
    space.add_landmark({"a": True}).add_landmark({"b": 3})
    assert space.landmarks() == [{"a": True, "b": 1}]
