"""Warnings that reach the user once, pointing at the user's own line."""

from __future__ import annotations

import sys
import warnings

_warned: set[str] = set()


def warn_once(key: str, message: str, seen: set[str] | None = None) -> None:
    """``warnings.warn(message)`` the first time ``key`` is in ``seen`` (default: this
    process's), attributed to the first caller outside autotune (the user's call)."""
    seen = _warned if seen is None else seen
    if key in seen:
        return
    seen.add(key)
    warnings.warn(message, stacklevel=_outside_autotune())


def _outside_autotune() -> int:
    """The ``stacklevel`` of the innermost frame that is not autotune's own code."""
    # Frame 1 is warn_once, which warnings.warn counts as stacklevel 1.
    frame, level = sys._getframe(1), 1
    while frame.f_back is not None and frame.f_globals.get("__name__", "").startswith("autotune."):
        frame, level = frame.f_back, level + 1
    return level


def forget_warnings() -> None:
    """Forget which process-wide warnings were given (tests)."""
    _warned.clear()
