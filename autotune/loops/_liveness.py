"""Whether a scalar's value after a loop nest may still be read (conservatively)."""

from __future__ import annotations

import ast
from collections.abc import Sequence


def mentions(node: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node))


def live_after(name: str, following: Sequence[ast.stmt]) -> bool:
    """Whether the value ``name`` has after the nest may be read by ``following``."""
    return _reads_before_kill(following, name)[0]


def _reads_before_kill(stmts: Sequence[ast.stmt], name: str) -> tuple[bool, bool]:
    """(may read the incoming value of ``name``, surely assigns it) for a statement list.

    Conservative: a loop may run zero times, so it never kills; a ``for name in ...``
    loop body sees only the loop's own values.
    """
    for stmt in stmts:
        if not mentions(stmt, name):
            continue
        if isinstance(stmt, ast.Assign):
            plain = len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
            if mentions(stmt.value, name) or not plain:
                return True, False
            if stmt.targets[0].id == name:  # type: ignore[attr-defined]
                return False, True
            return True, False
        if isinstance(stmt, ast.For):
            if mentions(stmt.iter, name):
                return True, False
            own = isinstance(stmt.target, ast.Name) and stmt.target.id == name
            if not own and (mentions(stmt.target, name) or _reads_before_kill(stmt.body, name)[0]):
                return True, False
            if stmt.orelse:
                return True, False
            continue
        if isinstance(stmt, ast.If):
            if mentions(stmt.test, name):
                return True, False
            body, orelse = (_reads_before_kill(b, name) for b in (stmt.body, stmt.orelse))
            if body[0] or orelse[0]:
                return True, False
            if body[1] and orelse[1]:
                return False, True
            continue
        return True, False
    return False, False
