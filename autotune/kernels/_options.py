"""The kernel author's ``numba.njit`` options, and the two baselines a kernel can be
tuned against.

A kernel written ``@njit(fastmath=True)`` already has fastmath: a speedup measured
against plain ``numba.njit`` would credit the tuner with what the author had. So the
baseline is the kernel *as written* (its own options) unless a run asks for
``numba-default`` (plain ``numba.njit``, the author's options ignored), kept for
comparisons with earlier releases.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

AS_WRITTEN = "as-written"
NUMBA_DEFAULT = "numba-default"
#: Baseline kinds, the default first.
BASELINES = (AS_WRITTEN, NUMBA_DEFAULT)

#: Options never applied to a build of ours: Numba's disk cache would mix configs (and
#: a tuning run must not write the author's cache files).
NOT_APPLIED = frozenset({"cache"})
#: Values that are what ``numba.njit`` does anyway: dropped, so that ``@njit`` and
#: ``@njit(fastmath=False)`` are the same (empty) options, and identify the same
#: workload as a plain function.
_NUMBA_DEFAULTS: dict[str, Any] = {
    "nopython": True,
    "boundscheck": None,
    "fastmath": False,
    "parallel": False,
    "nogil": False,
    "error_model": "python",
    "inline": "never",
}


def applied_njit_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` as a build of ours applies them: without :data:`NOT_APPLIED` and
    without values that are Numba's defaults; keys sorted (a stable identity)."""
    return {
        key: value
        for key, value in sorted(options.items())
        if key not in NOT_APPLIED
        and not (key in _NUMBA_DEFAULTS and _same(value, _NUMBA_DEFAULTS[key]))
    }


def _same(value: Any, default: Any) -> bool:
    # True == 1 in Python; an option set to 1 is not the default False.
    return type(value) is type(default) and value == default


def author_njit_options(func: Any) -> dict[str, Any]:
    """The ``numba.njit`` options ``func`` was written with (see
    :func:`applied_njit_options`): a Numba dispatcher's ``targetoptions``, or the
    ``njit_options`` mapping of an ``@autotune.jit`` function or a kernel declaration.
    A plain Python function has none (``{}``)."""
    options = getattr(func, "targetoptions", None)
    if not isinstance(options, Mapping):
        options = getattr(func, "njit_options", None)
    return applied_njit_options(options) if isinstance(options, Mapping) else {}


def baseline_options(options: Mapping[str, Any], kind: str) -> dict[str, Any]:
    """The ``numba.njit`` options of the baseline of ``kind`` for a kernel written with
    ``options``. Raises ValueError for an unknown kind."""
    check_baseline_kind(kind)
    return applied_njit_options(options) if kind == AS_WRITTEN else {}


def check_baseline_kind(kind: object) -> None:
    """Raise ValueError (one line) unless ``kind`` is one of :data:`BASELINES`."""
    if kind not in BASELINES:
        raise ValueError(f"unknown baseline {kind!r}; known: {', '.join(BASELINES)}")


def njit_options_json(options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` as JSON holds them: sets (a fastmath flag set) become sorted lists."""
    return {
        key: sorted(value) if isinstance(value, set | frozenset) else value
        for key, value in sorted(options.items())
    }


def njit_options_from_json(data: Mapping[str, Any]) -> dict[str, Any]:
    """The inverse of :func:`njit_options_json`: Numba takes a fastmath flag set, not a
    list."""
    return {
        key: set(value) if key == "fastmath" and isinstance(value, list) else value
        for key, value in data.items()
    }


def describe_njit_options(options: Mapping[str, Any]) -> str:
    """``njit(fastmath=True, parallel=True)``; plain ``njit`` without options."""
    if not options:
        return "njit"
    shown = njit_options_json(options)
    return "njit(" + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"


def describe_baseline(kind: str, options: Mapping[str, Any]) -> str:
    """What a baseline is, in a few words: ``the kernel as written,
    njit(fastmath=True)``, or ``Numba's default build`` where it is plain ``njit``
    (a kernel written without options, or ``numba-default``)."""
    if kind == AS_WRITTEN and options:
        return f"the kernel as written, {describe_njit_options(options)}"
    return "Numba's default build"
