"""``@autotune.kernel`` and ``KernelDecl``: argument checks, constraints, input sets."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autotune
from autotune.errors import InputError
from autotune.kernels import RETURN, KernelDecl, identical_input_sets
from autotune.passes import cpu_search_space

BLOCK = 1


def scaled(x):
    return x * BLOCK


def _one_arg(rng):
    return (rng.random(3),)


def _constant_inputs(rng):
    return np.ones(4), np.arange(4), 2.5, np.zeros(4, np.float32)


def declare(**kwargs: Any) -> KernelDecl:
    arguments: dict[str, Any] = {"inputs": _one_arg, "outputs": RETURN, **kwargs}
    return autotune.kernel(**arguments)(scaled)


def refusal(**kwargs: Any) -> str:
    with pytest.raises(InputError) as info:
        declare(**kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


# --- tolerances and perturb -------------------------------------------------------------


def test_a_tolerance_of_the_wrong_type_is_named_with_its_value() -> None:
    assert refusal(rtol="tight") == (
        "kernel 'scaled': rtol must be a non-negative finite number, got 'tight'"
    )


@pytest.mark.parametrize("rtol", [math.nan, math.inf, 1e308, 1.0, 1, -1e-9, None, [1e-7], True])
def test_rtol_must_be_finite_non_negative_and_below_one(rtol: Any) -> None:
    assert "rtol must be" in refusal(rtol=rtol)


def test_rtol_of_one_or_more_says_why() -> None:
    assert "accepts any value of the right sign" in refusal(rtol=1.0)


@pytest.mark.parametrize("atol", [math.nan, math.inf, -math.inf, -1.0, 10**400, "0", False])
def test_atol_must_be_finite_and_non_negative(atol: Any) -> None:
    assert "atol must be a non-negative finite number" in refusal(atol=atol)


@given(
    rtol=st.floats(0.0, 1.0, exclude_max=True),
    atol=st.floats(0.0, 1e300),
    perturb=st.floats(0, 0.1),
)
@settings(max_examples=50)
def test_finite_tolerances_in_range_are_accepted(rtol: float, atol: float, perturb: float) -> None:
    decl = declare(rtol=rtol, atol=atol, perturb=perturb)
    assert (decl.rtol, decl.atol, decl.perturb) == (rtol, atol, perturb)
    assert declare(rtol=np.float32(1e-5), atol=0).rtol == np.float32(1e-5)


@pytest.mark.parametrize("perturb", [-0.01, 0.2, math.nan, math.inf, "1e-6", True])
def test_perturb_must_be_a_finite_number_up_to_a_tenth(perturb: Any) -> None:
    assert "perturb must be a finite number in [0, 0.1]" in refusal(perturb=perturb)


# --- wrong types ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"params": 5}, "params must map names"),
        ({"params": {1: autotune.Int(1, 2)}}, "params must map names"),
        ({"sizes": {"s": 3}}, "sizes must map size names"),
        ({"sizes": [("s", {})]}, "sizes must map size names"),
        ({"sizes": {"s": {1: 2}}}, "sizes must map at least one size name"),
        ({"sizes": {}}, "sizes must map at least one size name"),
        ({"sizes": {"s": {"n": 3}}}, "inputs cannot be called as inputs(rng, **sizes['s'])"),
        ({"fastmath": "yes"}, "fastmath must be True or False"),
        ({"constraints": lambda p: True}, "constraints must be a list"),
        ({"constraints": [3]}, "constraint 'constraint0' is not callable"),
        ({"name": 5}, "name must be a non-empty one-line string"),
        ({"name": "two\nlines"}, "name must be a non-empty one-line string"),
        ({"name": ""}, "name must be a non-empty one-line string"),
        ({"reference": "scaled"}, "reference must be a function"),
        ({"inputs": None}, "inputs must be a callable"),
    ],
)
def test_decorator_arguments_of_the_wrong_type_are_one_line_input_errors(
    kwargs: dict[str, Any], words: str
) -> None:
    assert words in refusal(**kwargs)


def test_unicode_names_are_kept() -> None:
    assert declare(name="ядро_π").name == "ядро_π"


# --- constraints ------------------------------------------------------------------------


def test_constraint_that_raises_on_the_defaults_is_refused_naming_it_and_its_line() -> None:
    def needs_nope(p):
        return p["nope"] > 1

    message = refusal(params={"BLOCK": autotune.Int(1, 4)}, constraints=[needs_nope])
    line = needs_nope.__code__.co_firstlineno + 1
    assert "constraint 'needs_nope'" in message
    assert f"{__file__}:{line})" in message
    assert "raised KeyError: 'nope' on the default parameters {'BLOCK': 1}" in message


def test_constraint_whose_verdict_is_no_truth_value_is_refused() -> None:
    message = refusal(constraints=[lambda p: np.ones(2) > 0])
    assert "constraint '<lambda>'" in message and "ValueError" in message


def test_constraint_that_raises_on_other_configs_makes_them_invalid_with_the_reason() -> None:
    def small(p):
        if p["BLOCK"] > 2:
            raise ValueError("BLOCK too big to check")
        return True

    decl = declare(params={"BLOCK": autotune.Int(1, 4)}, constraints=[small])
    space = cpu_search_space(decl, scope="params")
    assert space.violation(space.default_config()) is None
    reason = space.violation({"kernel.BLOCK": 3})
    assert reason == "constraint 'small' raised ValueError: BLOCK too big to check"


# --- inputs and input sets --------------------------------------------------------------


def test_inputs_that_are_not_a_tuple_are_named() -> None:
    decl = declare(inputs=lambda rng: rng.random(3))
    with pytest.raises(InputError, match="inputs of kernel 'scaled' must return the argument"):
        decl.make_inputs(0)


def test_inputs_with_the_wrong_number_of_arguments_are_named() -> None:
    decl = declare(inputs=lambda rng: (1.0, 2.0))
    with pytest.raises(InputError, match="its inputs give 2 arguments"):
        decl.make_inputs(0)


def test_input_sets_are_made_with_seed_and_seed_plus_one() -> None:
    decl = declare(perturb=1e-6)
    timed, held_back = decl.input_sets(5, None)
    assert np.array_equal(timed[0], decl.make_inputs(5)[0])
    assert np.array_equal(held_back[0], decl.make_inputs(6)[0])  # already distinct: untouched
    assert not identical_input_sets(timed, held_back)


def _four_args(a, idx, s, b):
    return a


def test_an_init_that_ignores_its_rng_gives_identical_sets_unless_perturbed() -> None:
    plain = autotune.kernel(inputs=_constant_inputs, outputs=0)(_four_args)
    timed, held_back = plain.input_sets(0, None)
    assert identical_input_sets(timed, held_back)
    decl = autotune.kernel(inputs=_constant_inputs, outputs=0, perturb=1e-3)(_four_args)
    timed, held_back = decl.input_sets(0, None)
    assert not identical_input_sets(timed, held_back)
    a, idx, s, zeros = held_back
    assert a.shape == (4,) and a.dtype == np.float64
    assert np.all(np.abs(a - 1.0) <= 1e-3) and not np.array_equal(a, timed[0])
    assert np.array_equal(idx, np.arange(4)) and idx.dtype == timed[1].dtype
    assert s == 2.5
    assert zeros.dtype == np.float32 and not zeros.any()
    again = decl.input_sets(0, None)[1]
    assert identical_input_sets(held_back, again)  # seeded: the same perturbation each time


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ((np.ones(3), 2), (np.ones(3), 2), True),
        ((np.array([np.nan, 1.0]),), (np.array([np.nan, 1.0]),), True),
        ((np.ones(3),), (np.ones(3, np.float32),), False),
        ((np.ones(3),), (np.ones((3, 1)),), False),
        ((np.ones(3),), (np.zeros(3),), False),
        ((np.ones(3),), (1.0,), False),
        ((1.0, 2), (1.0, 3), False),
        ((math.nan,), (math.nan,), True),
        (((np.ones(2), 1),), ((np.ones(2), 1),), True),
        (((np.ones(2), 1),), ((np.ones(2), 2),), False),
        ((1,), (1, 2), False),
        (("a",), ("a",), True),
    ],
)
def test_identical_input_sets(a: tuple[Any, ...], b: tuple[Any, ...], same: bool) -> None:
    assert identical_input_sets(a, b) is same
    assert identical_input_sets(b, a) is same
