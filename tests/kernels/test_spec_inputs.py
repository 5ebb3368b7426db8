"""Spec files: reading them, argument tables and their size, init functions."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autotune.errors import InputError
from autotune.kernels import identical_input_sets, load_kernels
from autotune.kernels._spec_inputs import (
    COPIES_HELD,
    check_fits_in_memory,
    human_bytes,
    physical_memory,
)
from tests.kernels._helpers import kernel_toml

MODULE = """
import numpy as np


def saxpy(a, x, y, out):
    for i in range(x.shape[0]):
        out[i] = a * x[i] + y[i]


def one(x):
    return x


def ones_inputs(n=4):
    return 2.0, np.ones(n), np.ones(n), np.zeros(n)


def returns_an_array(rng):
    return rng.random(4)
"""

HELPERS = """
import numpy as np


def make_inputs(rng, n):
    return 2.0, rng.random(n), rng.random(n), np.zeros(n)
"""


def write(directory: Path, spec: str | bytes, module: str = MODULE) -> Path:
    (directory / "kern.py").write_text(module)
    path = directory / "kern.autotune.toml"
    if isinstance(spec, bytes):
        path.write_bytes(spec)
    else:
        path.write_text(spec)
    return path


def table(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "function": "saxpy",
        "outputs": [3],
        "inputs": [{"value": 2.5}, {"shape": [8]}, {"shape": [8]}, {"shape": [8], "fill": "zeros"}],
    }
    return {**base, **changes}


def load_error(directory: Path, spec: str | bytes) -> str:
    with pytest.raises(InputError) as info:
        load_kernels(write(directory, spec))
    message = str(info.value)
    assert "\n" not in message
    return message


# --- reading the file ---------------------------------------------------------------------


def test_spec_that_is_not_utf8_names_the_file_and_line(tmp_path: Path) -> None:
    spec = kernel_toml(table()).encode() + b'reference = "caf\xe9"\n'
    message = load_error(tmp_path, spec)
    lines = spec.count(b"\n")
    assert message == (
        f"{tmp_path / 'kern.autotune.toml'}:{lines}: not UTF-8 text (byte 0xe9); "
        "save the spec file as UTF-8"
    )


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    [decl] = load_kernels(write(tmp_path, b"\xef\xbb\xbf" + kernel_toml(table()).encode()))
    assert decl.name == "saxpy"


@pytest.mark.parametrize("depth", [17, 3000])
def test_deeply_nested_values_are_refused(tmp_path: Path, depth: int) -> None:
    message = load_error(tmp_path, "x = " + "[" * depth + "]" * depth + "\n")
    assert "nested" in message


def test_an_integer_too_long_to_convert_is_invalid_toml(tmp_path: Path) -> None:
    assert "invalid TOML" in load_error(tmp_path, "x = " + "1" * 5000 + "\n")


def test_module_name_with_a_nul_is_refused(tmp_path: Path) -> None:
    assert "'module' must be" in load_error(tmp_path, 'module = "a\\u0000.py"\n')


# --- tolerances and perturb -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("rtol", math.nan, "non-negative finite number"),
        ("rtol", math.inf, "non-negative finite number"),
        ("rtol", 1e308, "less than 1"),
        ("rtol", 1, "accepts any value of the right sign"),
        ("atol", math.inf, "non-negative finite number"),
        ("atol", math.nan, "non-negative finite number"),
        ("perturb", 0.5, "finite number in [0, 0.1]"),
        ("perturb", "1e-6", "finite number in [0, 0.1]"),
    ],
)
def test_tolerances_and_perturb_are_checked(
    tmp_path: Path, key: str, value: Any, words: str
) -> None:
    message = load_error(tmp_path, kernel_toml(table(**{key: value})))
    assert f"'{key}'" in message and words in message


def test_perturb_from_a_spec_perturbs_identical_sets(tmp_path: Path) -> None:
    spec = kernel_toml(table(inputs={"init": "ones_inputs"}, perturb=1e-6))
    [decl] = load_kernels(write(tmp_path, spec))
    assert decl.perturb == 1e-6
    timed, held_back = decl.input_sets(0, None)
    assert identical_input_sets(decl.make_inputs(0), decl.make_inputs(1))
    assert not identical_input_sets(timed, held_back)
    assert np.allclose(held_back[1], 1.0, rtol=1e-6, atol=0) and held_back[0] == 2.0


# --- argument tables ------------------------------------------------------------------------


def test_inputs_that_cannot_fit_in_memory_are_refused_with_the_figure(tmp_path: Path) -> None:
    inputs = [{"value": 2.5}, {"shape": [10**12]}, {"shape": [4]}, {"shape": [4]}]
    message = load_error(tmp_path, kernel_toml(table(inputs=inputs)))
    memory = physical_memory()
    assert memory is not None
    assert f"inputs need 7.3 TiB; this machine has {human_bytes(memory)} of memory" in message


@pytest.mark.parametrize(
    "shape", [[10**30], [2**40, 2**40, 2**40], [0, 10**30], [10**4000], [1] * 33]
)
def test_overflowing_shapes_are_input_errors(tmp_path: Path, shape: list[int]) -> None:
    inputs = [{"value": 2.5}, {"shape": shape}, {"shape": [4]}, {"shape": [4]}]
    assert "inputs" in load_error(tmp_path, kernel_toml(table(inputs=inputs)))


@given(nbytes=st.integers(0, 2**200), memory=st.integers(1, 2**50))
@settings(max_examples=200)
def test_memory_check_refuses_exactly_what_three_copies_cannot_fit(
    nbytes: int, memory: int
) -> None:
    if COPIES_HELD * nbytes <= memory:
        check_fits_in_memory("here", nbytes, memory)
        return
    with pytest.raises(InputError) as info:
        check_fits_in_memory("here", nbytes, memory)
    assert f"inputs need {human_bytes(nbytes)}" in str(info.value)


@pytest.mark.parametrize(
    ("nbytes", "shown"),
    [(0, "0 B"), (1023, "1023 B"), (1536, "1.5 KiB"), (8 * 10**12, "7.3 TiB"), (2**100, "over")],
)
def test_human_bytes(nbytes: int, shown: str) -> None:
    assert human_bytes(nbytes).startswith(shown)


@pytest.mark.parametrize(
    ("arg", "words"),
    [
        ({"shape": [4], "dtype": "U10"}, "is not one Numba kernels take"),
        ({"shape": [4], "dtype": "O"}, "is not one Numba kernels take"),
        ({"shape": [4], "dtype": "i4,f8"}, "is not one Numba kernels take"),
        ({"shape": [4], "dtype": "(2,)f8"}, "is not one Numba kernels take"),
        ({"shape": [4], "dtype": "M8"}, "is not one Numba kernels take"),
        ({"shape": [4], "dtype": "float128"}, "is not one Numba kernels take"),
        ({"shape": [4], "dtype": "("}, "unknown dtype '('"),
        ({"shape": [4], "dtype": "ñ"}, "unknown dtype 'ñ'"),
        ({"value": 300, "dtype": "int8"}, "'value' 300 does not fit dtype int8"),
        ({"value": 1e300, "dtype": "float32"}, "does not fit dtype float32"),
        ({"value": math.nan, "dtype": "int64"}, "does not fit dtype int64"),
        ({"value": 10**30, "dtype": "int64"}, "does not fit dtype int64"),
        ({"shape": [4], "fill": "randint", "high": 2**64}, "'high' must fit in 64 bits"),
        ({"shape": [4], "fill": ["zeros"]}, "'fill' must be one of"),
        ({"dtype": "float64"}, "'shape' must be a list"),
    ],
)
def test_bad_argument_tables_are_one_line_input_errors(
    tmp_path: Path, arg: dict[str, Any], words: str
) -> None:
    inputs = [{"value": 2.5}, arg, {"shape": [4]}, {"shape": [4]}]
    assert words in load_error(tmp_path, kernel_toml(table(inputs=inputs)))


@pytest.mark.parametrize("dtype", ["bool", "uint8", "float16", "complex64"])
@pytest.mark.parametrize("fill", ["random", "normal", "arange", "randint", "ones"])
def test_every_fill_makes_every_numeric_dtype(tmp_path: Path, dtype: str, fill: str) -> None:
    spec = kernel_toml(
        {
            "function": "one",
            "outputs": "return",
            "inputs": [{"shape": [3, 100], "dtype": dtype, "fill": fill}],
        }
    )
    [decl] = load_kernels(write(tmp_path, spec))
    [arg] = decl.make_inputs(0)
    assert arg.shape == (3, 100) and arg.dtype == np.dtype(dtype)


# --- init functions ------------------------------------------------------------------------


def test_init_from_a_file_beside_the_spec(tmp_path: Path) -> None:
    (tmp_path / "helpers.py").write_text(HELPERS)
    spec = kernel_toml(table(inputs={"init": "helpers.py:make_inputs", "n": 5}))
    [decl] = load_kernels(write(tmp_path, spec))
    a, x, _, _ = decl.make_inputs(1)
    assert a == 2.0 and x.shape == (5,)
    assert not np.array_equal(x, decl.make_inputs(2)[1])


def test_init_from_an_importable_module(tmp_path: Path) -> None:
    package = tmp_path / "mypkg_inputs"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "inputs.py").write_text(HELPERS)
    spec = kernel_toml(table(inputs={"init": "mypkg_inputs.inputs:make_inputs", "n": 3}))
    [decl] = load_kernels(write(tmp_path, spec))
    assert decl.make_inputs(0)[1].shape == (3,)


@pytest.mark.parametrize(
    ("init", "words"),
    [
        ("missing.py:make_inputs", "init module 'missing.py' not found"),
        ("no_such_package_xyz.mod:make", "cannot import init module 'no_such_package_xyz.mod'"),
        ("helpers.py:nope", "has no function 'nope'"),
        ("helpers.py:", "must be 'function' or 'module:function'"),
        (":make_inputs", "must be 'function' or 'module:function'"),
        ("nope", "has no function 'nope'"),
    ],
)
def test_init_references_that_do_not_resolve(tmp_path: Path, init: str, words: str) -> None:
    (tmp_path / "helpers.py").write_text(HELPERS)
    message = load_error(tmp_path, kernel_toml(table(inputs={"init": init, "n": 3})))
    assert words in message, message


def test_init_without_a_random_argument_is_called_with_the_keywords(tmp_path: Path) -> None:
    spec = kernel_toml(table(inputs={"init": "ones_inputs", "n": 6}))
    [decl] = load_kernels(write(tmp_path, spec))
    _, x, _, _ = decl.make_inputs(0)
    assert x.shape == (6,)
    assert identical_input_sets(*decl.input_sets(0, None))  # flagged by the worker


@pytest.mark.parametrize(
    ("inputs", "words"),
    [
        ({"init": "ones_inputs", "m": 3}, "cannot take {'m': 3}"),
        ({"init": "helpers.py:make_inputs"}, "missing a required argument: 'n'"),
        ({"init": "helpers.py:make_inputs", "n": 3, "rng": 1}, "'rng' is passed by autotune"),
        ({"init": 3}, "'init' is required"),
    ],
)
def test_init_keywords_are_checked_when_the_spec_loads(
    tmp_path: Path, inputs: dict[str, Any], words: str
) -> None:
    (tmp_path / "helpers.py").write_text(HELPERS)
    assert words in load_error(tmp_path, kernel_toml(table(inputs=inputs)))


def test_init_that_does_not_return_a_tuple_is_named(tmp_path: Path) -> None:
    spec = kernel_toml(table(function="one", outputs="return", inputs={"init": "returns_an_array"}))
    [decl] = load_kernels(write(tmp_path, spec))
    with pytest.raises(InputError) as info:
        decl.make_inputs(0)
    assert str(info.value) == (
        "init function 'returns_an_array' must return the argument tuple, got ndarray"
    )


def test_unicode_function_names_are_named_in_the_error(tmp_path: Path) -> None:
    spec = kernel_toml(table(function="ядро"))
    assert "no function 'ядро'" in load_error(tmp_path, spec)
    module = MODULE + textwrap.dedent("""
        def ядро(x):
            return x
    """)
    other = tmp_path / "other"
    other.mkdir()
    spec = kernel_toml({"function": "ядро", "outputs": "return", "inputs": [{"shape": [2]}]})
    [decl] = load_kernels(write(other, spec, module))
    assert decl.name == "ядро"
