"""The expression language of sizes and parameters: results, refusals and fuzzing."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autotune.errors import InputError
from autotune.kernels import Expr
from autotune.kernels._expr import MAX_DEPTH, MAX_INT_BITS, MAX_LENGTH

ENV = {"M": 256, "N": 100, "BM": 64, "TM": 4, "x": 2.5, "flag": True, "zero": 0}


def error_of(text: Any, env: dict[str, Any] | None = None) -> str:
    """The one-line message of the InputError that parsing or evaluating ``text`` raises."""
    with pytest.raises(InputError) as info:
        Expr(text).evaluate(ENV if env is None else env)
    message = str(info.value)
    assert "\n" not in message
    return message


# --- results ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ceil_div(N, 32)", 4),
        ("ceil_div(M, BM)", 4),
        ("(BM // TM) * (BM // TM) <= 1024", True),
        ("2 * M * N", 51200),
        ("M / BM", 4.0),
        ("N % 7", 2),
        ("2 ** 10", 1024),
        ("2 ** -1", 0.5),
        ("-N + +M", 156),
        ("not zero", True),
        ("0 < TM < BM <= M", True),
        ("0 < BM < TM", False),
        ("M if flag else N", 256),
        ("M if zero else N", 100),
        ("zero or N", 100),
        ("flag and x", 2.5),
        ("min(M, N, BM)", 64),
        ("max(x, 3)", 3),
        ("abs(-x)", 2.5),
        ("int(x * 3)", 7),
        ("round(x)", 2),
        ("round(x * 1.23, 1)", 3.1),
        ("log2(BM)", 6.0),
        ("M == 256 and N != 100", False),
        ("True + 1", 2),
        (1024, 1024),
        (0.5, 0.5),
        (True, True),
        ("  M  ", 256),
        ("(M +\n N)", 356),
    ],
)
def test_expressions_evaluate_as_python_does(text: Any, expected: Any) -> None:
    value = Expr(text).evaluate(ENV)
    assert value == expected
    assert type(value) is type(expected)


def test_names_are_the_variables_read() -> None:
    assert Expr("ceil_div(N, BN) * max(a, 2) if c else 0").names == {"N", "BN", "a", "c"}
    assert Expr(3).names == frozenset()


def test_an_expression_is_frozen_and_equal_by_its_text() -> None:
    expr = Expr("M * N")
    with pytest.raises(dataclasses.FrozenInstanceError):
        expr.text = "M"  # type: ignore[misc]
    assert expr == Expr("M * N") and hash(expr) == hash(Expr("M * N"))
    assert expr != Expr("N * M")
    assert str(expr) == "M * N" and Expr(64).text == "64"


def test_short_circuits_skip_what_python_skips() -> None:
    assert Expr("zero and 1 / zero").evaluate(ENV) == 0
    assert Expr("N or 1 / zero").evaluate(ENV) == 100
    assert Expr("N if flag else 1 / zero").evaluate(ENV) == 100
    assert Expr("1 > 2 > 1 / zero").evaluate(ENV) is False


def test_numpy_numbers_in_the_environment_are_numbers() -> None:
    assert Expr("n * 2").evaluate({"n": np.int32(21)}) == 42
    assert Expr("f * 2").evaluate({"f": np.float32(0.5)}) == 1.0


# --- refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("M.real", "attribute access is not allowed"),
        ("x[0]", "subscripts are not allowed"),
        ("lambda: 1", "lambda is not allowed"),
        ("(y := 1)", "assignment is not allowed"),
        ("'abc'", "str constant is not allowed"),
        ("b'abc'", "bytes constant is not allowed"),
        ("None", "NoneType constant is not allowed"),
        ("1j", "complex constant is not allowed"),
        ("...", "ellipsis constant is not allowed"),
        ("open('f')", "calling 'open' is not allowed"),
        ("__import__('os')", "calling '__import__' is not allowed"),
        ("math.floor(1)", "calling 'math.floor' is not allowed"),
        ("max(a=1, b=2)", "keyword or starred arguments"),
        ("max(*N)", "keyword or starred arguments"),
        ("min(M)", "'min' takes 2 to 64 arguments, got 1"),
        ("ceil_div(M)", "'ceil_div' takes 2 arguments, got 1"),
        ("abs()", "'abs' takes 1 arguments, got 0"),
        ("min", "the function 'min' must be called"),
        ("M << 2", "LShift is not allowed"),
        ("M & 1", "BitAnd is not allowed"),
        ("~M", "Invert is not allowed"),
        ("M is N", "Is is not allowed"),
        ("M in N", "In is not allowed"),
        ("[M, N]", "List is not allowed"),
        ("(M, N)", "Tuple is not allowed"),
        ("f'{M}'", "JoinedStr is not allowed"),
        ("[i for i in M]", "ListComp is not allowed"),
        ("M +", "invalid syntax"),
        ("M = 1", "invalid syntax"),
        ("import os", "invalid syntax"),
        ("", "empty"),
        ("   ", "empty"),
        ("M\x00", "null bytes"),
        ("2 ** 10 ** 9", f"over {MAX_INT_BITS} bits"),
        ("N ** N ** N", f"over {MAX_INT_BITS} bits"),
        ("1" * 1300, f"over {MAX_INT_BITS} bits"),
        ("M" + " + M" * MAX_DEPTH, f"nested more than {MAX_DEPTH} levels deep"),
        ("-" * (MAX_DEPTH + 1) + "M", f"nested more than {MAX_DEPTH} levels deep"),
        ("(" * 300 + "M" + ")" * 300, "too many nested parentheses"),
        ("M" * (MAX_LENGTH + 1), f"longer than {MAX_LENGTH} characters"),
    ],
)
def test_anything_outside_the_subset_is_refused_with_one_line(text: str, words: str) -> None:
    message = error_of(text)
    assert words in message, message
    assert message.startswith("expression ")
    assert len(message) < 400  # long expressions are cut short in messages


@pytest.mark.parametrize("value", [None, [1], {"a": 1}, b"1", float("inf"), float("nan")])
def test_only_text_and_finite_numbers_are_expressions(value: Any) -> None:
    with pytest.raises(InputError) as info:
        Expr(value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "env", "words"),
    [
        ("K * 2", ENV, "unknown name 'K' (known: BM, M, N, TM, flag, x, zero)"),
        ("K", {}, "unknown name 'K' (known: none)"),
        ("mode + 1", {"mode": "fast"}, "'mode' is 'fast', not a number"),
        ("M / zero", ENV, "ZeroDivisionError"),
        ("M // zero", ENV, "ZeroDivisionError"),
        ("M % zero", ENV, "ZeroDivisionError"),
        ("ceil_div(M, zero)", ENV, "ZeroDivisionError"),
        ("zero ** -1", ENV, "ZeroDivisionError"),
        ("log2(zero)", ENV, "ValueError: math domain error"),
        ("int(1e308 * 10)", ENV, "OverflowError"),
        ("int(1e308 * 10 - 1e308 * 10)", ENV, "ValueError"),
        ("10.0 ** 400", ENV, "OverflowError"),
        ("(-x) ** 0.5", ENV, "a result is complex, not a real number"),
        ("round(M, -10 ** 18)", ENV, "round's ndigits"),
        ("round(x, 0.5)", ENV, "round's ndigits"),
        ("2 ** 4095 * 4", ENV, f"a result is over {MAX_INT_BITS} bits"),
    ],
)
def test_evaluation_failures_are_one_line_input_errors(
    text: str, env: dict[str, Any], words: str
) -> None:
    message = error_of(text, env)
    assert words in message, message
    assert text[:20] in message


# --- fuzzing ----------------------------------------------------------------------------

FUZZ_ENV: dict[str, Any] = {"a": 3, "b": -2, "c": 0, "d": 2.5, "e": True}
FUNCTIONS = {
    "min": min,
    "max": max,
    "abs": abs,
    "int": int,
    "round": round,
    "log2": math.log2,
    "ceil_div": lambda a, b: -(-a // b),
}

leaves = st.one_of(
    st.sampled_from(sorted(FUZZ_ENV)),
    st.integers(-10, 10).map(str),
    st.sampled_from(["0.5", "2.0", "1e300", "0.0", "True", "False"]),
)


def _compound(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.sampled_from(["+", "-", "*", "/", "//", "%", "<", "<=", "==", "!=", ">", ">="])
    return st.one_of(
        st.tuples(inner, binary, inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(inner, st.sampled_from(["-2", "-1", "0", "1", "2", "3"])).map(
            lambda t: f"({t[0]}) ** {t[1]}"
        ),
        st.tuples(st.sampled_from(["-", "+", "not "]), inner).map(lambda t: f"({t[0]}{t[1]})"),
        st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
        st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} < {t[1]} <= {t[2]})"),
        st.tuples(st.sampled_from(["min", "max", "ceil_div"]), inner, inner).map(
            lambda t: f"{t[0]}({t[1]}, {t[2]})"
        ),
        st.tuples(st.sampled_from(["abs", "int", "round", "log2"]), inner).map(
            lambda t: f"{t[0]}({t[1]})"
        ),
        st.tuples(inner, st.integers(-3, 3)).map(lambda t: f"round({t[0]}, {t[1]})"),
    )


well_formed = st.recursive(leaves, _compound, max_leaves=12)


def _python(text: str) -> tuple[str, Any]:
    """``("ok", value)`` or ``("error", exception type)`` of Python's own eval."""
    try:
        value = eval(text, {"__builtins__": {}}, {**FUNCTIONS, **FUZZ_ENV})
    except (ArithmeticError, ValueError, TypeError) as exc:
        return "error", type(exc)
    return "ok", value


def _same(ours: Any, theirs: Any) -> bool:
    if isinstance(ours, float) and isinstance(theirs, float) and math.isnan(ours):
        return math.isnan(theirs)
    return type(ours) is type(theirs) and ours == theirs


@settings(max_examples=400)
@given(text=well_formed)
def test_well_formed_expressions_agree_with_python(text: str) -> None:
    expr = Expr(text)
    kind, theirs = _python(text)
    try:
        ours = expr.evaluate(FUZZ_ENV)
    except InputError as exc:
        assert "\n" not in str(exc)
        too_big = isinstance(theirs, int) and theirs.bit_length() > MAX_INT_BITS
        assert kind == "error" or isinstance(theirs, complex) or too_big, (text, theirs, exc)
        return
    assert kind == "ok", (text, theirs, ours)
    assert _same(ours, theirs), (text, ours, theirs)


python_like_text = st.lists(
    st.sampled_from(
        [
            *"abcdexyzMN0123456789+-*/%()<>=!., _:[]'\"{}@~^&|\\\n\t",
            *[" if ", " else ", "not ", " and ", " or ", "min", "max", "log2", "ceil_div"],
            *["int", "round", "lambda", "**", "//", "__class__", "e9", "1e308", "import"],
        ]
    ),
    max_size=30,
).map("".join)


@settings(max_examples=400)
@given(text=st.one_of(python_like_text, st.text(max_size=30)))
def test_random_text_parses_or_fails_with_an_input_error(text: str) -> None:
    try:
        expr = Expr(text)
        value = expr.evaluate({name: 7 for name in expr.names})
    except InputError as exc:
        assert "\n" not in str(exc)
        return
    assert isinstance(value, bool | int | float)
