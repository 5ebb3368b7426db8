"""Writing spec files and Python sources for kernel-declaration tests."""

from __future__ import annotations

import contextlib
import json
import math
import re
import sys
from collections.abc import Iterator
from typing import Any

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_value(value: Any) -> str:
    """Inline TOML for JSON-like values (floats may be nan or infinite)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, int | float | str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        items = (f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items())
        return "{ " + ", ".join(items) + " }"
    raise TypeError(f"cannot write {value!r} as TOML")


def toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key)


def kernel_toml(table: dict[str, Any]) -> str:
    """One ``[[kernel]]`` table; a ``params`` dict becomes its ``[kernel.params]``."""
    lines = ["[[kernel]]"]
    params = table.pop("params") if isinstance(table.get("params"), dict) else None
    lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in table.items()]
    if params is not None:
        lines.append("[kernel.params]")
        lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in params.items()]
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def restored_import_state() -> Iterator[None]:
    """Loading a kernel file imports it and puts its folder on sys.path: undo both."""
    path, before = list(sys.path), set(sys.modules)
    try:
        yield
    finally:
        sys.path[:] = path
        for name in set(sys.modules) - before:
            if name.startswith("autotune_src_"):
                del sys.modules[name]
