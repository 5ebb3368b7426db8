"""Exceptions that reach the user. Failures inside the tuning loop are values instead."""

from __future__ import annotations


class AutotuneError(Exception):
    """Base class for errors that are reported to the user as one line."""


class InputError(AutotuneError):
    """Bad invocation or input, found before tuning started (exit code 2)."""


class ToolchainError(AutotuneError):
    """The installed numba/llvmlite are not the versions this release supports."""


class DatabaseError(AutotuneError):
    """The tuning database cannot be opened, or its schema is not one we can use."""
