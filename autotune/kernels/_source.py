"""Importing the user's Python files, with errors that point into them."""

from __future__ import annotations

import importlib.util
import re
import sys
import traceback
from pathlib import Path
from types import ModuleType, TracebackType

from autotune.errors import InputError


def import_source(path: Path) -> ModuleType:
    """Import ``path`` as a module named after its stem.

    The module name appears in Numba's mangled symbols, so it is derived from the file
    name only: moving a file does not change its workload keys. Any failure becomes an
    :class:`InputError` of one line that names ``path`` and the line of ``path`` where
    it happened (the deepest frame in that file), never a line of autotune's own code.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"no such file: {path}")
    name = "autotune_src_" + re.sub(r"\W", "_", path.stem)
    existing = sys.modules.get(name)
    if existing is not None and Path(getattr(existing, "__file__", "")) == path.resolve():
        return existing
    spec = importlib.util.spec_from_file_location(name, path.resolve())
    if spec is None or spec.loader is None:
        raise InputError(f"cannot import {path}: not a Python source file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    parent = str(path.resolve().parent)
    if parent not in sys.path:
        sys.path.insert(0, parent)  # sibling imports of the user's file
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:
        del sys.modules[name]
        raise InputError(import_failure(path, exc)) from None
    return module


def import_failure(path: Path, exc: BaseException) -> str:
    """The one-line reason why importing ``path`` raised ``exc``."""
    if isinstance(exc, SyntaxError) and _same_file(exc.filename, path):
        return f"{path}:{exc.lineno}: syntax error: {exc.msg}"
    line = deepest_line(exc.__traceback__, path)
    where = f"{path}:{line}" if line is not None else str(path)
    if isinstance(exc, InputError):
        return f"{where}: {exc}"  # our own validation, e.g. inside @autotune.kernel
    if isinstance(exc, SystemExit):
        return f"{where}: importing failed: the module calls sys.exit({exc.code!r})"
    if isinstance(exc, SyntaxError):  # in a module the user's file imports
        return f"{where}: importing failed: {exc.filename}:{exc.lineno}: syntax error: {exc.msg}"
    return f"{where}: importing failed: {type(exc).__name__}: {exc}"


def deepest_line(tb: TracebackType | None, path: Path | str) -> int | None:
    """The line of the deepest traceback frame that runs code of the file ``path``."""
    lines = [f.lineno for f in traceback.extract_tb(tb) if _same_file(f.filename, path)]
    return lines[-1] if lines else None


def _same_file(filename: str | None, path: Path | str) -> bool:
    if not filename:
        return False
    try:
        return Path(filename).resolve() == Path(path).resolve()
    except (OSError, ValueError):
        return False
