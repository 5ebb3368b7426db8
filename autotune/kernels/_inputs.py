"""Input sets of a kernel: the argument tuple, identical sets and perturbing them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from autotune.errors import InputError

#: Largest ``perturb`` a declaration may ask for: beyond it the held-back set is no
#: longer "the same problem, other values" but another problem.
MAX_PERTURB = 0.1


def argument_tuple(what: str, args: object) -> tuple[Any, ...]:
    """``args`` as a tuple; an :class:`InputError` naming ``what`` when it is not a tuple
    or list (a single array is the most common slip: ``return x`` for ``return (x,)``)."""
    if not isinstance(args, tuple | list):
        raise InputError(f"{what} must return the argument tuple, got {type(args).__name__}")
    return tuple(args)


def identical_input_sets(a: Sequence[Any], b: Sequence[Any]) -> bool:
    """Whether two argument tuples hold the same values.

    Arrays are equal when their dtype, shape and elements are (NaNs equal NaNs);
    nested tuples and lists are compared element by element; anything else with ``==``.
    """
    return len(a) == len(b) and all(_identical(x, y) for x, y in zip(a, b, strict=True))


def _identical(x: Any, y: Any) -> bool:
    if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
        return (
            isinstance(x, np.ndarray)
            and isinstance(y, np.ndarray)
            and x.dtype == y.dtype
            and x.shape == y.shape
            and bool(np.array_equal(x, y, equal_nan=x.dtype.kind in "fc"))
        )
    if isinstance(x, tuple | list) and isinstance(y, tuple | list):
        return identical_input_sets(x, y)
    try:
        return bool(x == y) or (_is_nan(x) and _is_nan(y))
    except Exception:  # == that does not give one truth value: not provably identical
        return False


def _is_nan(value: Any) -> bool:
    return isinstance(value, float | np.floating) and bool(np.isnan(value))


def perturbed(args: tuple[Any, ...], perturb: float, seed: int) -> tuple[Any, ...]:
    """``args`` with each floating-point array multiplied elementwise by
    ``1 + perturb * u``, ``u`` uniform in [-1, 1] from a generator seeded with ``seed``.

    Integer arrays (often indices) and scalars stay as they are; shapes and dtypes are
    kept, and so are zeros and signs (output buffers that start at zero stay zero).
    """
    rng = np.random.default_rng(seed)
    return tuple(_perturbed(a, perturb, rng) for a in args)


def _perturbed(arg: Any, perturb: float, rng: np.random.Generator) -> Any:
    if not isinstance(arg, np.ndarray) or arg.dtype.kind not in "fc":
        return arg
    out = arg.copy()
    out *= 1.0 + perturb * rng.uniform(-1.0, 1.0, arg.shape)
    return out
