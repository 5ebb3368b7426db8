"""Loop fusion: adjacent sibling loops over the same range become one loop.

Scalarized NumPy code is a sequence of loops, one per statement, each sweeping the same
array region; fusing them reads every element once while it is in cache (what
dropping NumPy's temporaries starts, fusion finishes). Two loops ``L1; L2`` fuse when
their ranges are equal and no dependence runs from an instance of ``L2``'s body to a
later-numbered instance of ``L1``'s body in the fused loop, which is exactly when every
pair of conflicting accesses keeps its order. Fusion works on a nest as lifted (before
normalization, which distributes loops, the opposite rewrite), greedily from the first
sibling, and then inside the fused bodies.
"""

from __future__ import annotations

import ast
import copy
import itertools
from collections.abc import Iterator, Sequence

from autotune.loops._affine import Affine
from autotune.loops._deps import Interval, dependences
from autotune.loops._ir import Loop, Nest, Node, Stmt, statements
from autotune.loops._lift import describe_statement
from autotune.loops._lower import _substituted
from autotune.loops._normalize import _max_id


def fuse(nest: Nest) -> tuple[Nest, int]:
    """``nest`` with every legal fusion of adjacent same-range sibling loops done, and
    how many fusions that took (0: ``nest`` itself)."""
    ids = itertools.count(_max_id(nest.roots) + 1)
    roots = nest.roots
    refused: set[tuple[int, int]] = set()
    count = 0
    while True:
        step = _fuse_one(roots, nest.live_out, ids, refused)
        if step is None:
            break
        roots, count = step, count + 1
    if not count:
        return nest, 0
    return Nest(nest.index, nest.line, roots, nest.live_out, nest.names), count


def _fuse_one(
    roots: tuple[Loop, ...],
    live_out: frozenset[str],
    ids: Iterator[int],
    refused: set[tuple[int, int]],
) -> tuple[Loop, ...] | None:
    """``roots`` with the first legal fusion done (pre-order), or ``None`` when no pair
    is left to try. Pairs found illegal go into ``refused``."""
    for loop, path in _loops(roots, ()):
        body = loop.body
        for i in range(len(body) - 1):
            first, second = body[i], body[i + 1]
            if not isinstance(first, Loop) or not isinstance(second, Loop):
                continue
            if (first.id, second.id) in refused:
                continue
            fused = _fused_pair(first, second, (*path, loop.var), ids)
            if fused is None:
                refused.add((first.id, second.id))
                continue
            trial = _replace_in(roots, loop.id, [*body[:i], fused, *body[i + 2 :]])
            if _legal(trial, fused, first, live_out):
                return trial
            refused.add((first.id, second.id))
    return None


def _loops(nodes: Sequence[Node], outer: tuple[str, ...]) -> Iterator[tuple[Loop, tuple[str, ...]]]:
    for node in nodes:
        if isinstance(node, Loop):
            yield node, outer
            yield from _loops(node.body, (*outer, node.var))


def _replace_in(roots: tuple[Loop, ...], loop_id: int, body: list[Node]) -> tuple[Loop, ...]:
    """``roots`` with the body of the loop ``loop_id`` replaced."""

    def visit(node: Node) -> Node:
        if not isinstance(node, Loop):
            return node
        inner = body if node.id == loop_id else [visit(n) for n in node.body]
        return Loop(node.id, node.var, node.lower, node.upper, node.step, tuple(inner), node.line)

    return tuple(visit(r) for r in roots)  # type: ignore[misc]


def _fused_pair(
    first: Loop, second: Loop, path: tuple[str, ...], ids: Iterator[int]
) -> Loop | None:
    """``first`` and ``second`` as one loop (``second``'s variable renamed), or ``None``
    when they are not two loops over the same range."""
    same = first.step == second.step and first.lower == second.lower and first.upper == second.upper
    if not same:
        return None
    if first.var != second.var and first.var in _names(second.body):
        return None  # the second body already uses the first loop's variable
    rename = {second.var: Affine.var(first.var)}
    body = (*first.body, *(_renamed(n, rename, (*path, first.var), ids) for n in second.body))
    return Loop(next(ids), first.var, first.lower, first.upper, first.step, body, first.line)


def _names(nodes: Sequence[Node]) -> set[str]:
    out: set[str] = set()
    for node in nodes:
        if isinstance(node, Stmt):
            out |= {n.id for n in ast.walk(node.node) if isinstance(n, ast.Name)}
        else:
            out |= {node.var} | node.lower.names | node.upper.names | _names(node.body)
    return out


def _renamed(
    node: Node, rename: dict[str, Affine], path: tuple[str, ...], ids: Iterator[int]
) -> Node:
    if isinstance(node, Stmt):
        new = _substituted(copy.deepcopy(node.node), rename)
        return describe_statement(new, path, ids)
    body = tuple(_renamed(n, rename, (*path, node.var), ids) for n in node.body)
    lower, upper = node.lower.substitute(rename), node.upper.substitute(rename)
    return Loop(next(ids), node.var, lower, upper, node.step, body, node.line)


def _legal(roots: tuple[Loop, ...], fused: Loop, first: Loop, live_out: frozenset[str]) -> bool:
    """Whether, in the nest ``roots`` holding ``fused``, no dependence runs from a
    statement of the second loop back to one of the first within one iteration of the
    loops around them (the order fusing would reverse)."""
    early = {s.id for s, _ in statements((first,))}
    late = {s.id for s, _ in statements((fused,))} - early
    for dep in dependences(roots, live_out):
        if dep.source not in late or dep.sink not in early or fused.id not in dep.loops:
            continue
        outer = dep.vector[: dep.loops.index(fused.id)]
        if all(_may_be_zero(v) for v in outer):
            return False
    return True


def _may_be_zero(v: Interval) -> bool:
    return (v.lo is None or v.lo <= 0) and (v.hi is None or v.hi >= 0)
