"""Differential verification: compare a candidate's outputs with the reference's."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from autotune.kernels import RETURN


def fresh_copy(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """Copies of array arguments (kernels write into them); scalars are immutable."""
    return tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)


def collect_outputs(
    func: Callable[..., Any], args: tuple[Any, ...], outputs: Sequence[int | str]
) -> list[Any]:
    """Call ``func`` on a copy of ``args`` and return the declared outputs."""
    call_args = fresh_copy(args)
    returned = func(*call_args)
    return [returned if out == RETURN else call_args[int(out)] for out in outputs]


def compare_outputs(
    actual: Sequence[Any],
    expected: Sequence[Any],
    labels: Sequence[int | str],
    rtol: float,
    atol: float,
) -> str | None:
    """``None`` when every output matches within tolerance, else why not (one line).

    A returned tuple is compared element by element (nested tuples too), so its arrays
    may differ in shape; a difference is labelled like ``return value[1]``.
    """
    for got, want, label in zip(actual, expected, labels, strict=True):
        name = "return value" if label == RETURN else f"argument {label}"
        why = _compare(got, want, name, rtol, atol)
        if why is not None:
            return why
    return None


def _compare(got: Any, want: Any, name: str, rtol: float, atol: float) -> str | None:
    if not isinstance(want, tuple) and not isinstance(got, tuple):
        return _compare_arrays(got, want, name, rtol, atol)
    if not isinstance(want, tuple) or not isinstance(got, tuple):
        return f"{name}: {_described(got)} != expected {_described(want)}"
    if len(got) != len(want):
        return f"{name}: a tuple of {len(got)} elements != expected {len(want)}"
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        why = _compare(g, w, f"{name}[{i}]", rtol, atol)
        if why is not None:
            return why
    return None


def _described(value: Any) -> str:
    if isinstance(value, tuple):
        return f"a tuple of {len(value)} elements"
    return f"a {type(value).__name__}"


def _compare_arrays(got: Any, want: Any, name: str, rtol: float, atol: float) -> str | None:
    try:
        got_arr, want_arr = np.asarray(got), np.asarray(want)
    except ValueError as exc:  # e.g. a ragged list
        return f"{name}: cannot be compared as an array: {exc}"
    if got_arr.shape != want_arr.shape:
        return f"{name}: shape {got_arr.shape} != expected {want_arr.shape}"
    if want_arr.dtype.kind in "biuSUO" and got_arr.dtype.kind in "biuSUO":
        bad = np.asarray(got_arr != want_arr)
    else:
        try:
            bad = ~np.isclose(got_arr, want_arr, rtol=rtol, atol=atol, equal_nan=True)
        except TypeError:
            return f"{name}: {got_arr.dtype} values cannot be compared with {want_arr.dtype}"
    if not np.any(bad):
        return None
    index = tuple(int(i) for i in np.argwhere(bad)[0]) if bad.ndim else ()
    g, w = got_arr[index].tolist(), want_arr[index].tolist()
    return (
        f"{name}: {int(np.sum(bad))} of {bad.size} elements differ beyond "
        f"rtol={rtol:g}, atol={atol:g}; first at {index}: {g!r} != expected {w!r}"
    )
