"""Keeping loop-invariant array elements of an innermost loop in local variables.

``for k: C[i, j] += A[i, k] * B[k, j]`` becomes ``c = C[i, j]; for k: c += ...;
C[i, j] = c``. Numba cannot tell LLVM that arrays do not overlap, so LLVM reloads and
stores ``C[i, j]`` every iteration; after accumulator expansion and interchange this is
what makes or breaks the transformed code.

It is done only when it provably changes nothing:
* every other reference to the same array in the loop is to an element that differs by
  a non-zero constant in some subscript (or the array is only read in the loop);
* the element is touched by an unconditional statement, so the loop, when it runs at
  all, reads or writes it anyway (the load and store are guarded by a non-empty loop);
* a written element is kept in a local only for arrays whose dtype is the widest of its
  kind (``float64``/``complex128``), so that a local holding the element has the
  array's own type and rounds the same way.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable
from dataclasses import dataclass, field

from autotune.loops._affine import Affine, NotAffine, from_ast


@dataclass
class _Use:
    node: ast.Subscript
    store: bool
    unconditional: bool


@dataclass
class _Array:
    groups: dict[tuple[Affine, ...], list[_Use]] = field(default_factory=dict)
    affine: bool = True

    @property
    def written(self) -> bool:
        return any(u.store for uses in self.groups.values() for u in uses)


def promote_innermost(
    loop: ast.For, fresh: Callable[[str], str], writable: frozenset[str] = frozenset()
) -> list[ast.stmt]:
    """``loop`` with invariant elements kept in locals (or ``[loop]`` unchanged).

    ``fresh`` makes new names; ``writable`` names the arrays whose written elements may
    be kept in locals (see the module docstring).
    """
    make = fresh
    if not (isinstance(loop.target, ast.Name) and _range_args(loop) is not None):
        return [loop]
    var = loop.target.id
    assigned = {
        n.id for n in ast.walk(loop) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    }
    arrays = _collect(loop)
    chosen: dict[int, str] = {}  # id(subscript node) -> local name
    loads: list[ast.stmt] = []
    stores: list[ast.stmt] = []
    for name, info in sorted(arrays.items()):
        if not info.affine:
            continue
        written = info.written
        if written and (name not in writable or not _all_distinct(info)):
            continue
        for index, uses in info.groups.items():
            names = {n for a in index for n in a.names}
            if names & ({var} | assigned) or not any(u.unconditional for u in uses):
                continue
            local = make(f"{name.lower()}_{''.join(_short(a) for a in index)}")
            for use in uses:
                chosen[id(use.node)] = local
            loads.append(_load(local, uses[0].node))
            if any(u.store for u in uses):
                stores.append(_store(copy.deepcopy(uses[0].node), local))
    if not chosen:
        return [loop]
    new_loop = _Replace(chosen).visit(loop)
    guard = _non_empty(loop)
    return [ast.If(guard, [*loads, new_loop, *stores], [])]


def _short(expr: Affine) -> str:
    return "".join(ch for ch in str(expr) if ch.isalnum()) or "0"


def _range_args(loop: ast.For) -> tuple[ast.expr, ast.expr, int] | None:
    call = loop.iter
    if not (
        isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "range"
    ):
        return None
    args = call.args
    if len(args) == 1:
        return ast.Constant(0), args[0], 1
    if len(args) == 2:
        return args[0], args[1], 1
    step = args[2]
    if len(args) == 3 and isinstance(step, ast.Constant) and isinstance(step.value, int):
        return args[0], args[1], step.value
    if (
        len(args) == 3
        and isinstance(step, ast.UnaryOp)
        and isinstance(step.op, ast.USub)
        and isinstance(step.operand, ast.Constant)
    ):
        return args[0], args[1], -int(step.operand.value)  # type: ignore[arg-type]
    return None


def _non_empty(loop: ast.For) -> ast.expr:
    args = _range_args(loop)
    assert args is not None
    lo, hi, step = args
    left, right = (hi, lo) if step > 0 else (lo, hi)
    return ast.Compare(copy.deepcopy(left), [ast.Gt()], [copy.deepcopy(right)])


def _collect(loop: ast.For) -> dict[str, _Array]:
    arrays: dict[str, _Array] = {}
    for stmt in loop.body:
        unconditional = isinstance(stmt, ast.Assign | ast.AugAssign)
        for node in ast.walk(stmt):
            if not (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name)):
                continue
            info = arrays.setdefault(node.value.id, _Array())
            try:
                elts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
                index = tuple(from_ast(e) for e in elts)
            except NotAffine:
                info.affine = False
                continue
            store = isinstance(node.ctx, ast.Store)
            info.groups.setdefault(index, []).append(_Use(node, store, unconditional))
    for node in ast.walk(loop):
        if isinstance(node, ast.Name) and node.id in arrays:
            parent_ok = any(
                isinstance(p, ast.Subscript) and p.value is node for p in ast.walk(loop)
            )
            if not parent_ok:
                arrays[node.id].affine = False  # used whole: leave it alone
    return arrays


def _all_distinct(info: _Array) -> bool:
    keys = list(info.groups)
    for a in range(len(keys)):
        for b in range(a + 1, len(keys)):
            if len(keys[a]) != len(keys[b]):
                return False
            diffs = [x - y for x, y in zip(keys[a], keys[b], strict=True)]
            if not any(d.is_constant() and d.const != 0 for d in diffs):
                return False
    return True


def _load(name: str, element: ast.Subscript) -> ast.Assign:
    value = copy.deepcopy(element)
    value.ctx = ast.Load()
    return ast.Assign([ast.Name(name, ast.Store())], value, lineno=0)


def _store(target: ast.Subscript, name: str) -> ast.Assign:
    target.ctx = ast.Store()
    return ast.Assign([target], ast.Name(name, ast.Load()), lineno=0)


class _Replace(ast.NodeTransformer):
    def __init__(self, chosen: dict[int, str]) -> None:
        self.chosen = chosen

    def visit_Subscript(self, node: ast.Subscript) -> ast.expr:
        local = self.chosen.get(id(node))
        if local is not None:
            return ast.Name(local, type(node.ctx)())
        self.generic_visit(node)
        return node
