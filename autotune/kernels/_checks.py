"""Checks shared by ``@autotune.kernel`` and spec files: tolerances, perturbation and
constraints. Each returns ``None`` for a valid value or the problem as one line."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from typing import Any

from autotune.errors import InputError
from autotune.kernels._inputs import MAX_PERTURB
from autotune.kernels._source import deepest_line

RTOL_REASON = "a relative tolerance of 1 or more accepts any value of the right sign"


def as_real(value: object) -> float | None:
    """``value`` as a float when it is a real number (not a bool) that a float can hold."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    try:
        return float(value)
    except (OverflowError, ValueError, TypeError):
        return None


def tolerance_problem(name: str, value: object, relative: bool) -> str | None:
    """Why ``value`` is not a valid tolerance called ``name``, or ``None``.

    Both tolerances must be finite and non-negative (``inf`` would switch verification
    off); a relative one must also be below 1 (see :data:`RTOL_REASON`).
    """
    number = as_real(value)
    if number is None or not math.isfinite(number) or number < 0:
        return f"{name} must be a non-negative finite number, got {value!r}"
    if relative and number >= 1:
        return f"{name} must be less than 1, got {value!r}: {RTOL_REASON}"
    return None


def perturb_problem(name: str, value: object) -> str | None:
    """Why ``value`` is not a valid ``perturb`` (a finite number in [0, 0.1]), or ``None``."""
    number = as_real(value)
    if number is None or not math.isfinite(number) or not 0 <= number <= MAX_PERTURB:
        return f"{name} must be a finite number in [0, {MAX_PERTURB}], got {value!r}"
    return None


Check = Callable[[dict[str, Any]], Any]


def check_constraints(
    where: str, constraints: list[tuple[str, Check]], defaults: Mapping[str, Any]
) -> None:
    """Raise :class:`InputError` for a constraint that is not callable or that raises on
    the default parameters, naming the constraint and the file and line where it raised.

    A constraint that raises on some other config only makes that config invalid (see
    :meth:`autotune.space.SearchSpace.violation`); on the defaults it is a bug in the
    declaration, found before anything is built or written.
    """
    for name, check in constraints:
        if not callable(check):
            raise InputError(f"{where}: constraint {name!r} is not callable, got {check!r}")
        try:
            bool(check(dict(defaults)))
        except Exception as exc:
            raise InputError(
                f"{where}: constraint {name!r}{_located(check, exc)} raised "
                f"{type(exc).__name__}: {exc} on the default parameters {dict(defaults)!r}"
            ) from None


def _located(check: Check, exc: BaseException) -> str:
    """`` (file:line)`` of the constraint's line that raised, else of its definition."""
    code = getattr(check, "__code__", None)
    if code is None:
        return ""
    line = deepest_line(exc.__traceback__, code.co_filename) or code.co_firstlineno
    return f" ({code.co_filename}:{line})"
