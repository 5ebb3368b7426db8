"""Normalizing a nest before scheduling: accumulator expansion, then loop distribution.

Both are legality-checked rewrites that keep every statement instance and the order of
every dependence, so they change no result (bit for bit):

* **Accumulator expansion.** ``s = e0; for k ...: s += e; X[f] = s`` (``s`` private to
  the enclosing iteration, ``X`` untouched in between) becomes ``X[f] = e0; for k ...:
  X[f] += e``. The accumulation then lives in the array, so the ``k`` loop can move.
* **Distribution.** A loop whose body has several items is split into one loop per
  strongly connected component of the items' dependence graph, in a topological order
  (bottom-up, so perfect nests appear wherever the dependences allow).
"""

from __future__ import annotations

import ast
import copy
import heapq
import itertools
from collections.abc import Iterator, Sequence
from typing import Any

from autotune.loops._deps import classify_scalars, dependences
from autotune.loops._ir import Loop, Nest, Node, Stmt, loop_vars, statements
from autotune.loops._lift import describe_statement


def normalize(nest: Nest) -> Nest:
    """``nest`` with accumulators expanded and loops distributed as far as legal."""
    ids = itertools.count(_max_id(nest.roots) + 1)
    roots = tuple(_expand(root, nest, ids, ()) for root in nest.roots)
    expanded = Nest(nest.index, nest.line, roots, nest.live_out, nest.names)
    scalars = _nest_scalars(expanded.roots)
    distributed: list[Loop] = []
    for root in expanded.roots:
        distributed.extend(_distribute(root, (), scalars, ids))
    return Nest(nest.index, nest.line, tuple(distributed), nest.live_out, nest.names)


def _max_id(nodes: Sequence[Node]) -> int:
    best = 0
    for node in nodes:
        best = max(best, node.id)
        if isinstance(node, Loop):
            best = max(best, _max_id(node.body))
    return best


def _nest_scalars(roots: Sequence[Node]) -> frozenset[str]:
    writes = {w for s, _ in statements(tuple(roots)) for w in s.writes}
    return frozenset(writes - loop_vars(tuple(roots)))


# --- accumulator expansion -------------------------------------------------------------


def _expand(loop: Loop, nest: Nest, ids: Iterator[int], outer: tuple[str, ...]) -> Loop:
    path = (*outer, loop.var)
    body = tuple(
        _expand(item, nest, ids, path) if isinstance(item, Loop) else item for item in loop.body
    )
    loop = Loop(loop.id, loop.var, loop.lower, loop.upper, loop.step, body, loop.line)
    while True:
        rewritten = _expand_one(loop, nest, ids, path)
        if rewritten is None:
            return loop
        loop = rewritten


def _expand_one(loop: Loop, nest: Nest, ids: Iterator[int], path: tuple[str, ...]) -> Loop | None:
    scalars = classify_scalars(nest.roots, nest.live_out)
    body = loop.body
    for p, init in enumerate(body):
        name = _plain_assign_name(init)
        info = scalars.get(name) if name else None
        if info is None or info.kind != "private" or info.path[-1].id != loop.id:
            continue
        match = _find_pattern(body, p, str(name))
        if match is None:
            continue
        q, r, target = match
        new_body = list(body)
        store = target  # ``X[f]`` of the final store
        init_node = ast.Assign([copy.deepcopy(store)], copy.deepcopy(init.node.value))  # type: ignore[union-attr]
        ast.copy_location(init_node, init.node if isinstance(init, Stmt) else store)
        new_body[p] = describe_statement(init_node, path, ids)
        new_body[q] = _replace_updates(body[q], str(name), store, path, ids)  # type: ignore[arg-type]
        del new_body[r]
        return Loop(
            loop.id, loop.var, loop.lower, loop.upper, loop.step, tuple(new_body), loop.line
        )
    return None


def _plain_assign_name(node: Node) -> str | None:
    if isinstance(node, Stmt) and isinstance(node.node, ast.Assign):
        target = node.node.targets[0]
        if isinstance(target, ast.Name):
            return target.id
    return None


def _touches(node: Node, name: str) -> bool:
    return any(name in s.reads or name in s.writes for s, _ in statements((node,)))


def _touches_array(node: Node, array: str) -> bool:
    return any(a.array == array for s, _ in statements((node,)) for a in s.accesses)


def _find_pattern(body: Sequence[Node], p: int, name: str) -> tuple[int, int, ast.Subscript] | None:
    """Positions of the accumulating loop and the final store ``X[f] = name``."""
    users = [k for k in range(p + 1, len(body)) if _touches(body[k], name)]
    if len(users) != 2:
        return None
    q, r = users
    loop, store = body[q], body[r]
    if not isinstance(loop, Loop) or not isinstance(store, Stmt):
        return None
    node = store.node
    if not (
        isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Subscript)
        and isinstance(node.targets[0].value, ast.Name)
        and isinstance(node.value, ast.Name)
        and node.value.id == name
    ):
        return None
    array = node.targets[0].value.id
    if any(_touches_array(body[k], array) for k in range(p, r)):
        return None
    inner = loop_vars((loop,))
    if any(inner & a.names for acc in store.accesses for a in acc.index):
        return None
    if not all(_is_update(s, name) for s, _ in statements((loop,)) if _touches(s, name)):
        return None
    return q, r, node.targets[0]


def _is_update(stmt: Stmt, name: str) -> bool:
    """``name op= e`` with ``e`` not reading ``name``, possibly under an ``if``."""
    uses = [n for n in ast.walk(stmt.node) if isinstance(n, ast.Name) and n.id == name]
    updates = [
        n
        for n in ast.walk(stmt.node)
        if isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name) and n.target.id == name
    ]
    return len(uses) == 1 and len(updates) == 1


class _Retarget(ast.NodeTransformer):
    def __init__(self, name: str, store: ast.Subscript) -> None:
        self.name = name
        self.store = store

    def visit_AugAssign(self, node: ast.AugAssign) -> Any:
        if isinstance(node.target, ast.Name) and node.target.id == self.name:
            target = copy.deepcopy(self.store)
            target.ctx = ast.Store()
            return ast.copy_location(ast.AugAssign(target, node.op, node.value), node)
        return node


def _replace_updates(
    loop: Loop, name: str, store: ast.Subscript, outer: tuple[str, ...], ids: Iterator[int]
) -> Loop:
    path = (*outer, loop.var)
    body: list[Node] = []
    for item in loop.body:
        if isinstance(item, Loop):
            body.append(_replace_updates(item, name, store, path, ids))
        elif _touches(item, name):
            node = _Retarget(name, store).visit(copy.deepcopy(item.node))
            body.append(describe_statement(node, path, ids))
        else:
            body.append(item)
    return Loop(loop.id, loop.var, loop.lower, loop.upper, loop.step, tuple(body), loop.line)


# --- distribution ----------------------------------------------------------------------


def _distribute(
    loop: Loop, outer: tuple[Loop, ...], scalars: frozenset[str], ids: Iterator[int]
) -> list[Loop]:
    body: list[Node] = []
    for item in loop.body:
        if isinstance(item, Loop):
            body.extend(_distribute(item, (*outer, loop), scalars, ids))
        else:
            body.append(item)
    loop = Loop(loop.id, loop.var, loop.lower, loop.upper, loop.step, tuple(body), loop.line)
    groups = _groups(loop, outer, scalars)
    if len(groups) == 1:
        return [loop]
    out = []
    for n, group in enumerate(groups):
        loop_id = loop.id if n == 0 else next(ids)
        items = tuple(body[k] for k in group)
        out.append(Loop(loop_id, loop.var, loop.lower, loop.upper, loop.step, items, loop.line))
    return out


def _groups(loop: Loop, outer: tuple[Loop, ...], scalars: frozenset[str]) -> list[list[int]]:
    """Items of ``loop``'s body grouped into strongly connected components, in a
    topological order that keeps the textual one where it can."""
    n = len(loop.body)
    if n == 1:
        return [[0]]
    owner = {s.id: k for k, item in enumerate(loop.body) for s, _ in statements((item,))}
    edges: set[tuple[int, int]] = set()
    wrapped: Node = loop
    for enclosing in reversed(outer):
        wrapped = Loop(
            enclosing.id,
            enclosing.var,
            enclosing.lower,
            enclosing.upper,
            enclosing.step,
            (wrapped,),
            enclosing.line,
        )
    depth = len(outer)
    for dep in dependences((wrapped,), frozenset(), arrays_only=True):
        a, b = owner[dep.source], owner[dep.sink]
        if a == b or any(not v.is_zero for v in dep.vector[:depth]):
            continue  # inside one item, or carried by an enclosing loop
        edges.add((a, b))
    touched = [
        {name for s, _ in statements((item,)) for name in (s.reads | s.writes) & scalars}
        for item in loop.body
    ]
    for a, b in itertools.combinations(range(n), 2):
        if touched[a] & touched[b]:
            edges.update({(a, b), (b, a)})  # items sharing a scalar stay together
    return _ordered_components(n, edges)


def _ordered_components(n: int, edges: set[tuple[int, int]]) -> list[list[int]]:
    comp = _scc(n, edges)
    members: dict[int, list[int]] = {}
    for node in range(n):
        members.setdefault(comp[node], []).append(node)
    succ: dict[int, set[int]] = {c: set() for c in members}
    indeg = dict.fromkeys(members, 0)
    for a, b in edges:
        ca, cb = comp[a], comp[b]
        if ca != cb and cb not in succ[ca]:
            succ[ca].add(cb)
            indeg[cb] += 1
    ready = [(min(members[c]), c) for c in members if indeg[c] == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, c = heapq.heappop(ready)
        order.append(sorted(members[c]))
        for d in succ[c]:
            indeg[d] -= 1
            if indeg[d] == 0:
                heapq.heappush(ready, (min(members[d]), d))
    return order


def _scc(n: int, edges: set[tuple[int, int]]) -> list[int]:
    """Component number of every node (Tarjan's algorithm; graphs here are tiny)."""
    adj: dict[int, list[int]] = {k: [] for k in range(n)}
    for a, b in edges:
        adj[a].append(b)
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    stack: list[int] = []
    on_stack: set[int] = set()
    comp = [-1] * n
    counter = itertools.count()
    ncomp = itertools.count()

    def visit(v: int) -> None:
        index[v] = low[v] = next(counter)
        stack.append(v)
        on_stack.add(v)
        for w in adj[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            c = next(ncomp)
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp[w] = c
                if w == v:
                    break

    for v in range(n):
        if v not in index:
            visit(v)
    return comp
