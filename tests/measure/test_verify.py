"""Differential verification: comparing a candidate's outputs with the reference's."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autotune.kernels import RETURN
from autotune.measure._verify import collect_outputs, compare_outputs, fresh_copy


def test_equal_outputs_pass() -> None:
    x = np.linspace(0, 1, 10)
    assert compare_outputs([x, 3], [x.copy(), 3], [1, RETURN], rtol=0.0, atol=0.0) is None


@given(rtol=st.floats(1e-12, 1e-2), scale=st.floats(1e-3, 1e3), fraction=st.floats(0.0, 0.9))
def test_differences_within_rtol_pass(rtol: float, scale: float, fraction: float) -> None:
    want = np.full(5, scale)
    got = want * (1 + fraction * rtol)
    assert compare_outputs([got], [want], [0], rtol=rtol, atol=0.0) is None


@given(rtol=st.floats(1e-12, 1e-2), scale=st.floats(1e-3, 1e3), factor=st.floats(1.5, 100.0))
def test_differences_beyond_rtol_fail(rtol: float, scale: float, factor: float) -> None:
    want = np.full(5, scale)
    got = want.copy()
    got[3] = scale * (1 + factor * rtol)
    message = compare_outputs([got], [want], [2], rtol=rtol, atol=0.0)
    assert message is not None
    assert message.startswith("argument 2: 1 of 5 elements differ")
    assert "first at (3,)" in message


def test_atol_allows_absolute_differences() -> None:
    want = np.zeros(4)
    got = np.full(4, 1e-9)
    assert compare_outputs([got], [want], [0], rtol=0.0, atol=1e-8) is None
    assert compare_outputs([got], [want], [0], rtol=1e-3, atol=0.0) is not None


def test_message_names_the_argument_and_the_first_differing_index() -> None:
    want = np.zeros((3, 4))
    got = want.copy()
    got[2, 1] = 1.0
    got[2, 3] = 5.0
    ok = np.ones(2)
    message = compare_outputs([ok, got], [ok, want], [0, 4], rtol=1e-7, atol=0.0)
    assert message is not None
    assert "\n" not in message
    assert message.startswith("argument 4: 2 of 12 elements differ")
    assert "first at (2, 1): " in message
    assert "1.0" in message and "0.0" in message


def test_message_names_the_return_value() -> None:
    message = compare_outputs([2.0], [1.0], [RETURN], rtol=1e-7, atol=0.0)
    assert message is not None and message.startswith("return value:")
    assert "first at ()" in message


def test_shape_mismatch_fails() -> None:
    message = compare_outputs([np.zeros((2, 3))], [np.zeros(6)], [1], rtol=1.0, atol=1.0)
    assert message == "argument 1: shape (2, 3) != expected (6,)"


def test_nan_equals_nan_but_not_a_number() -> None:
    want = np.array([1.0, np.nan, 3.0])
    assert compare_outputs([want.copy()], [want], [0], rtol=1e-7, atol=0.0) is None
    got = np.array([1.0, 2.0, 3.0])
    message = compare_outputs([got], [want], [0], rtol=1e-7, atol=0.0)
    assert message is not None and "first at (1,)" in message
    message = compare_outputs([want], [got], [0], rtol=1e-7, atol=0.0)
    assert message is not None and "first at (1,)" in message


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_])
def test_integer_outputs_must_match_exactly(dtype: Any) -> None:
    want = np.array([0, 1, 1, 0], dtype=dtype)
    got = want.copy()
    got[2] = 0
    message = compare_outputs([got], [want], [0], rtol=1.0, atol=1.0)
    assert message is not None and "first at (2,)" in message
    assert compare_outputs([want.copy()], [want], [0], rtol=0.0, atol=0.0) is None


def test_large_integers_are_compared_exactly() -> None:
    big = np.array([2**60], dtype=np.int64)
    assert compare_outputs([big + 1], [big], [0], rtol=1e-7, atol=0.0) is not None


def test_returned_tuples_of_differently_shaped_arrays_are_compared_element_by_element() -> None:
    q, r = np.eye(3), np.arange(6.0).reshape(2, 3)
    want = (q, r)
    assert (
        compare_outputs(
            [np.ones(2), (q.copy(), r.copy())], [np.ones(2), want], [0, RETURN], 0.0, 0.0
        )
        is None
    )
    bad_r = r.copy()
    bad_r[1, 2] = -1.0
    message = compare_outputs([(q, bad_r)], [want], [RETURN], rtol=1e-7, atol=0.0)
    assert message is not None
    assert message.startswith("return value[1]: 1 of 6 elements differ")
    assert "first at (1, 2)" in message


def test_nested_returned_tuples_are_labelled_by_their_path() -> None:
    want = (1.0, (np.zeros(2), np.ones((2, 2))))
    got = (1.0, (np.zeros(2), np.zeros((2, 2))))
    message = compare_outputs([got], [want], [RETURN], rtol=1e-7, atol=0.0)
    assert message is not None and message.startswith("return value[1][1]: 4 of 4 elements")


@pytest.mark.parametrize(
    ("got", "want", "expected"),
    [
        ((1.0, 2.0), (1.0, 2.0, 3.0), "return value: a tuple of 2 elements != expected 3"),
        (np.zeros(2), (np.zeros(2),), "return value: a ndarray != expected a tuple of 1 elements"),
        ((np.zeros(2),), np.zeros(2), "return value: a tuple of 1 elements != expected a ndarray"),
        ((1.0, (2.0,)), (1.0, (2.0, 3.0)), "return value[1]: a tuple of 1 elements != expected 2"),
    ],
)
def test_tuples_of_another_length_or_kind_say_so(got: Any, want: Any, expected: str) -> None:
    assert compare_outputs([got], [want], [RETURN], rtol=1e-7, atol=0.0) == expected


def test_values_that_cannot_be_compared_give_a_reason_not_an_exception() -> None:
    ragged = [np.zeros(2), np.zeros(3)]
    message = compare_outputs([ragged], [ragged], [RETURN], rtol=1e-7, atol=0.0)
    assert message is not None and message.startswith("return value: cannot be compared")
    message = compare_outputs([np.array([None])], [np.array([1.5])], [0], rtol=1e-7, atol=0.0)
    assert message is not None and message.startswith("argument 0:")


def _writes_in_place(x: np.ndarray, out: np.ndarray, k: int) -> float:
    out[:] = x * k
    x[0] = -1.0  # a kernel that also scribbles on an input
    return float(out.sum())


def test_collect_outputs_leaves_the_callers_arrays_alone() -> None:
    x, out = np.arange(3.0), np.zeros(3)
    args = (x, out, 2)
    outputs = collect_outputs(_writes_in_place, args, [1, RETURN, 0])
    assert np.array_equal(outputs[0], [0.0, 2.0, 4.0])
    assert outputs[1] == 6.0
    assert np.array_equal(outputs[2], [-1.0, 1.0, 2.0])
    assert np.array_equal(x, [0.0, 1.0, 2.0])
    assert not out.any()
    # Collecting twice gives the same outputs: each call starts from pristine inputs.
    again = collect_outputs(_writes_in_place, args, [1, RETURN, 0])
    assert compare_outputs(again, outputs, [1, RETURN, 0], rtol=0.0, atol=0.0) is None


def test_fresh_copy_copies_arrays_and_keeps_scalars() -> None:
    x = np.ones(2)
    copied = fresh_copy((x, 3, "s"))
    assert copied[0] is not x and np.array_equal(copied[0], x)
    assert copied[1:] == (3, "s")
