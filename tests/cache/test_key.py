"""The cheap kernel key: equal for the same program and toolchain, different after any
edit that changes the compiled code, and computed without compiling."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numba
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autotune.cache import kernel_key, size_bucket
from autotune.cache._key import bucket_distance, bucket_text, parse_bucket
from autotune.kernels import import_source

CALLEE = """
import numba

@numba.njit
def scale(x):
    return 2.0 * x
"""

KERNEL = """
import numba
import numpy as np
from helpers import scale

N = 3

@numba.njit(fastmath=True)
def total(a):
    # a comment
    s = 0.0
    for i in range(a.shape[0]):
        s += scale(a[i]) * N
    return s
"""


def _load(tmp_path: Path, kernel: str = KERNEL, callee: str = CALLEE) -> object:
    (tmp_path / "helpers.py").write_text(textwrap.dedent(callee))
    path = tmp_path / "kern.py"
    path.write_text(textwrap.dedent(kernel))
    import sys

    sys.path.insert(0, str(tmp_path))
    try:
        sys.modules.pop("helpers", None)
        module = import_source(path)
    finally:
        sys.path.remove(str(tmp_path))
    return module.total.py_func


def _key(func: object, n: int = 100) -> object:
    return kernel_key(func, (np.ones(n),))  # type: ignore[arg-type]


def test_the_same_program_loaded_twice_has_the_same_key(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    assert _key(_load(tmp_path / "a")) == _key(_load(tmp_path / "b"))


def test_decorators_do_not_change_the_key(tmp_path: Path) -> None:
    # @autotune.kernel(...) and @autotune.jit(...) on the same function find one entry.
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    plain = _key(_load(tmp_path / "a"))
    edited = KERNEL.replace(
        "@numba.njit(fastmath=True)", "@numba.njit(\n    error_model='numpy'\n)"
    )
    assert _key(_load(tmp_path / "b", edited)).digest == plain.digest


def test_lines_above_do_not_change_the_key(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    plain = _key(_load(tmp_path / "a"))
    moved = KERNEL.replace("N = 3", "# a new comment\n\n\nN = 3")
    assert _key(_load(tmp_path / "b", moved)).digest == plain.digest


@pytest.mark.parametrize(
    ("kernel", "callee"),
    [
        (KERNEL.replace("s += scale", "s -= scale"), CALLEE),  # the kernel's body
        (KERNEL.replace("N = 3", "N = 4"), CALLEE),  # a bound global's value
        (KERNEL, CALLEE.replace("2.0 * x", "3.0 * x")),  # a callee in another file
    ],
    ids=["kernel edited", "global changed", "callee edited"],
)
def test_an_edit_that_changes_the_code_changes_the_key(
    tmp_path: Path, kernel: str, callee: str
) -> None:
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    before = _key(_load(tmp_path / "a"))
    after = _key(_load(tmp_path / "b", kernel, callee))
    assert after.digest != before.digest


def test_a_new_numba_version_changes_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    func = _load(tmp_path)
    before = _key(func)
    monkeypatch.setattr(numba, "__version__", "99.0.0")
    assert _key(func).digest != before.digest


def test_the_bucket_is_outside_the_digest(tmp_path: Path) -> None:
    func = _load(tmp_path)
    small, large = _key(func, 100), _key(func, 5000)
    assert small.digest == large.digest
    assert small.bucket == (7,) and large.bucket == (13,)


def test_types_are_in_the_digest(tmp_path: Path) -> None:
    func = _load(tmp_path)
    as_float = kernel_key(func, (np.ones(8),))  # type: ignore[arg-type]
    as_single = kernel_key(func, (np.ones(8, dtype=np.float32),))  # type: ignore[arg-type]
    assert as_float.digest != as_single.digest
    assert as_float.arg_types == "(array(float64, 1d, C))"


def test_size_bucket_counts_array_dimensions_and_integers() -> None:
    args = (np.zeros((3, 64)), 1000, 2.5, True, np.int64(17))
    assert size_bucket(args) == (2, 6, 10, 5)


@given(st.lists(st.integers(min_value=0, max_value=60), max_size=8))
def test_bucket_text_round_trips(bucket: list[int]) -> None:
    assert parse_bucket(bucket_text(tuple(bucket))) == tuple(bucket)


@given(
    st.lists(st.integers(0, 40), min_size=1, max_size=4),
    st.lists(st.integers(0, 40), min_size=1, max_size=4),
)
def test_bucket_distance_is_a_metric_on_equal_ranks(a: list[int], b: list[int]) -> None:
    d = bucket_distance(tuple(a), tuple(b))
    assert d == bucket_distance(tuple(b), tuple(a))
    assert (d == 0) == (a == b) or len(a) != len(b)
    if len(a) != len(b):
        assert d == float("inf")
