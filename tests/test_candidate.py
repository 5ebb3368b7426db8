"""Candidates: canonical JSON and a key that identifies the config."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autotune.candidate import Candidate, canonical_json

# Floats without NaN (not equal to itself) and without -0.0 (equal to 0.0 in Python but
# spelled differently in JSON), so Python equality and JSON equality coincide.
floats = st.floats(allow_nan=False, allow_infinity=False).filter(
    lambda f: f != 0 or math.copysign(1, f) > 0
)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), floats, st.text(max_size=5))
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=10,
)
configs = st.dictionaries(st.text(max_size=6), values, max_size=6)


def strict(value: Any) -> Any:
    """Equality that keeps JSON types apart: True is not 1 and 1 is not 1.0."""
    if isinstance(value, list | tuple):
        return ("list", tuple(strict(v) for v in value))
    if isinstance(value, dict):
        return ("dict", frozenset((k, strict(v)) for k, v in value.items()))
    return (type(value).__name__, value)


def reorder(value: Any, rng: np.random.Generator) -> Any:
    """The same value with every dict's keys inserted in a shuffled order."""
    if isinstance(value, dict):
        keys = list(value)
        rng.shuffle(keys)
        return {k: reorder(value[k], rng) for k in keys}
    if isinstance(value, list):
        return [reorder(v, rng) for v in value]
    return value


@given(config=configs, seed=st.integers(0, 2**32 - 1))
def test_key_is_stable_under_key_order(config: dict[str, Any], seed: int) -> None:
    shuffled = reorder(config, np.random.default_rng(seed))
    assert canonical_json(shuffled) == canonical_json(config)
    assert Candidate.from_config(shuffled) == Candidate.from_config(config)
    assert Candidate.from_config(shuffled).key == Candidate.from_config(config).key


@given(config=configs)
def test_config_round_trips_with_its_types(config: dict[str, Any]) -> None:
    candidate = Candidate.from_config(config)
    assert strict(candidate.config) == strict(config)
    assert Candidate(candidate.config_json) == candidate


@given(a=configs, b=configs)
def test_keys_are_equal_exactly_when_configs_are(a: dict[str, Any], b: dict[str, Any]) -> None:
    same_key = Candidate.from_config(a).key == Candidate.from_config(b).key
    assert same_key is (strict(a) == strict(b))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ({"x": 1}, {"x": True}),
        ({"x": 1}, {"x": 1.0}),
        ({"x": 1}, {"x": "1"}),
        ({"x": [1, 2]}, {"x": [2, 1]}),
        ({"x": None}, {}),
        ({"x": 0}, {"x": False}),
    ],
)
def test_configs_equal_in_python_but_not_in_json_get_different_keys(
    a: dict[str, Any], b: dict[str, Any]
) -> None:
    assert Candidate.from_config(a).key != Candidate.from_config(b).key


def test_canonical_json_is_compact_and_sorted() -> None:
    assert canonical_json({"b": [1, (2, 3)], "a": {"d": 1, "c": None}}) == (
        '{"a":{"c":null,"d":1},"b":[1,[2,3]]}'
    )


def test_tuples_become_lists() -> None:
    candidate = Candidate.from_config({"order": ("i", "j")})
    assert candidate.config == {"order": ["i", "j"]}
    assert candidate == Candidate.from_config({"order": ["i", "j"]})


def test_config_returns_a_fresh_copy() -> None:
    candidate = Candidate.from_config({"order": ["i", "j"]})
    candidate.config["order"].append("k")
    assert candidate.config == {"order": ["i", "j"]}


def test_key_is_a_short_hex_digest() -> None:
    key = Candidate.from_config({"x": 1}).key
    assert len(key) == 20
    int(key, 16)


@pytest.mark.parametrize(
    "value",
    [{1, 2}, b"bytes", np.int64(3), np.array([1, 2]), Decimal("1.5"), object(), 1 + 2j],
    ids=["set", "bytes", "np.int64", "ndarray", "Decimal", "object", "complex"],
)
def test_rejects_values_that_are_not_json(value: Any) -> None:
    with pytest.raises(TypeError, match="JSON-native"):
        Candidate.from_config({"x": value})
    with pytest.raises(TypeError, match="JSON-native"):
        canonical_json({"nested": [{"x": value}]})
