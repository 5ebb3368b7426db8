"""Dependence analysis on affine subscripts: direction vectors with distance bounds.

For every pair of accesses to the same array (one of them a write), the conflict
equations ``f(I) = g(J)`` and both iteration domains form an integer system. Each sign
pattern of the distances ``J - I`` over the common loops is tested with the GCD test
and Fourier-Motzkin elimination (a Banerjee-style bounds test that is exact over the
rationals); patterns that survive are dependences, each with bounds on its distances.
When a test is unsure the dependence is kept: the analysis errs towards "depends".

Scalars assigned inside a nest are accesses to pseudo-arrays named ``$name``:
* private to a loop ``L`` (every iteration of ``L`` assigns it before reading it, and
  its value is dead afterwards): subscripted by the loops down to ``L``, as if expanded;
* a reduction (only ``s += e`` / ``s -= e`` or only ``s *= e``): no subscript, flagged so
  that a reordering that reassociates it can be allowed;
* otherwise shared: no subscript, so every pair of accesses conflicts.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from autotune.loops._affine import Affine
from autotune.loops._ir import Access, Loop, Node, Stmt, statements
from autotune.loops._polyhedra import bounds_of, feasible


@dataclass(frozen=True, slots=True)
class Interval:
    """Integer bounds, ``None`` for unbounded."""

    lo: int | None
    hi: int | None

    def __add__(self, other: Interval) -> Interval:
        lo = None if self.lo is None or other.lo is None else self.lo + other.lo
        hi = None if self.hi is None or other.hi is None else self.hi + other.hi
        return Interval(lo, hi)

    def scale(self, k: int) -> Interval:
        if k == 0:
            return ZERO
        lo = None if self.lo is None else self.lo * k
        hi = None if self.hi is None else self.hi * k
        return Interval(lo, hi) if k > 0 else Interval(hi, lo)

    @property
    def is_zero(self) -> bool:
        return self.lo == 0 and self.hi == 0

    @property
    def positive(self) -> bool:
        """Surely >= 1."""
        return self.lo is not None and self.lo >= 1

    @property
    def nonnegative(self) -> bool:
        return self.lo is not None and self.lo >= 0

    def __str__(self) -> str:
        if self.lo is not None and self.lo == self.hi:
            return str(self.lo)
        if self.nonnegative:
            return "+" if self.hi is None else f"{self.lo}..{self.hi}"
        if self.hi is not None and self.hi <= 0:
            return "-" if self.lo is None else f"{self.lo}..{self.hi}"
        return "*"


ZERO = Interval(0, 0)


@dataclass(frozen=True, slots=True)
class Dependence:
    """``sink`` must run after ``source``; ``vector`` (over ``loops``, the loops both
    statements share, outermost first) is lexicographically non-negative."""

    source: int
    sink: int
    kind: str  # "flow" | "anti" | "output"
    array: str
    loops: tuple[int, ...]
    vector: tuple[Interval, ...]
    reduction: bool = False

    def describe(self) -> str:
        vec = "(" + ", ".join(str(v) for v in self.vector) + ")"
        what = self.array[1:] if self.array.startswith("$") else self.array
        extra = " reduction" if self.reduction else ""
        return f"{self.kind}{extra} on {what} {vec}"


@dataclass(frozen=True, slots=True)
class ScalarInfo:
    """How a scalar assigned inside a nest behaves (see the module docstring)."""

    name: str
    kind: str  # "private" | "reduction" | "shared"
    path: tuple[Loop, ...] = ()  # for private scalars: the loops down to where it lives


def classify_scalars(roots: Sequence[Node], live_out: frozenset[str]) -> dict[str, ScalarInfo]:
    loop_vars = {n.var for n, _ in _all_loops(roots)}
    stmts = list(statements(tuple(roots)))
    names = sorted({w for s, _ in stmts for w in s.writes} - loop_vars)
    out = {}
    for name in names:
        users = [(s, path) for s, path in stmts if name in s.reads or name in s.writes]
        out[name] = _classify(name, users, live_out)
    return out


def _all_loops(roots: Sequence[Node]) -> Iterator[tuple[Loop, None]]:
    for node, _ in _walk_nodes(roots):
        if isinstance(node, Loop):
            yield node, None


def _walk_nodes(roots: Sequence[Node]) -> Iterator[tuple[Node, None]]:
    for node in roots:
        yield node, None
        if isinstance(node, Loop):
            yield from _walk_nodes(node.body)


def _classify(
    name: str, users: list[tuple[Stmt, tuple[Loop, ...]]], live_out: frozenset[str]
) -> ScalarInfo:
    if name not in live_out:
        common = _common_prefix([path for _, path in users])
        if common and _assigned_first(common[-1].body, name):
            return ScalarInfo(name, "private", common)
    if _is_reduction(name, [s for s, _ in users]):
        return ScalarInfo(name, "reduction")
    return ScalarInfo(name, "shared")


def _common_prefix(paths: list[tuple[Loop, ...]]) -> tuple[Loop, ...]:
    prefix: list[Loop] = []
    for level in zip(*paths, strict=False):
        if all(loop is level[0] for loop in level):
            prefix.append(level[0])
        else:
            break
    return tuple(prefix)


def _assigned_first(body: Sequence[Node], name: str) -> bool:
    for node in body:
        touched = [s for s, _ in statements((node,)) if name in s.reads or name in s.writes]
        if not touched:
            continue
        if not isinstance(node, Stmt):
            return False
        stmt = node.node
        return (
            isinstance(stmt, ast.Assign)
            and isinstance(stmt.targets[0], ast.Name)
            and stmt.targets[0].id == name
            and name not in node.reads
        )
    return False


def _is_reduction(name: str, users: list[Stmt]) -> bool:
    families = set()
    for stmt in users:
        node = stmt.node
        if not (
            isinstance(node, ast.AugAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id == name
        ):
            return False
        if any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node.value)):
            return False
        if isinstance(node.op, ast.Add | ast.Sub):
            families.add("+")
        elif isinstance(node.op, ast.Mult):
            families.add("*")
        else:
            return False
    return len(families) == 1


def accesses_with_scalars(
    roots: Sequence[Node], scalars: dict[str, ScalarInfo]
) -> list[tuple[Stmt, tuple[Loop, ...], list[Access]]]:
    """Every statement with its array accesses and scalar pseudo-accesses."""
    out = []
    for stmt, path in statements(tuple(roots)):
        accesses = list(stmt.accesses)
        for name in sorted(stmt.reads | stmt.writes):
            info = scalars.get(name)
            if info is None:
                continue
            index = tuple(Affine.var(loop.var) for loop in info.path)
            if name in stmt.reads:
                accesses.append(Access("$" + name, index, False))
            if name in stmt.writes:
                accesses.append(Access("$" + name, index, True))
        out.append((stmt, path, accesses))
    return out


def dependences(
    roots: Sequence[Node], live_out: frozenset[str], arrays_only: bool = False
) -> list[Dependence]:
    """Every dependence between statements of ``roots`` (a nest, maybe distributed);
    with ``arrays_only``, scalars are left out (the caller handles them)."""
    scalars = {} if arrays_only else classify_scalars(roots, live_out)
    reductions = {"$" + s.name for s in scalars.values() if s.kind == "reduction"}
    items = accesses_with_scalars(roots, scalars)
    found: dict[Dependence, None] = {}
    for (p, (s1, path1, acc1)), (q, (s2, path2, acc2)) in itertools.combinations_with_replacement(
        enumerate(items), 2
    ):
        for i, a in enumerate(acc1):
            for j, b in enumerate(acc2):
                if p == q and j < i:
                    continue
                if a.array != b.array or not (a.write or b.write):
                    continue
                for dep in _test_pair(s1, path1, a, s2, path2, b, p == q):
                    found[_flag(dep, reductions)] = None
    return list(found)


def _flag(dep: Dependence, reductions: set[str]) -> Dependence:
    if dep.array not in reductions:
        return dep
    return Dependence(
        dep.source, dep.sink, dep.kind, dep.array, dep.loops, dep.vector, reduction=True
    )


def _instance(path: tuple[Loop, ...], tag: str, common: int) -> dict[str, Affine]:
    """Variables of one statement instance; common loops of the second instance are the
    first instance's plus a distance (minus for descending loops)."""
    out = {}
    for k, loop in enumerate(path):
        base = Affine.var(f"%{'i' if k < common else tag}{loop.id}")
        if tag == "j" and k < common:
            dist = Affine.var(f"%d{loop.id}")
            base = base + (dist if loop.step > 0 else -dist)
        out[loop.var] = base
    return out


def _test_pair(
    s1: Stmt,
    path1: tuple[Loop, ...],
    a: Access,
    s2: Stmt,
    path2: tuple[Loop, ...],
    b: Access,
    same_stmt: bool,
) -> list[Dependence]:
    common = len(_common_prefix([path1, path2]))
    m1, m2 = _instance(path1, "a", common), _instance(path2, "j", common)
    ineqs = [c.substitute(m1) for loop in path1 for c in loop.domain()]
    ineqs += [c.substitute(m2) for loop in path2[common:] for c in loop.domain()]
    ineqs += [c.substitute(m2) for loop in path2[:common] for c in loop.domain()]
    eqs = []
    if len(a.index) == len(b.index):
        eqs = [
            fa.substitute(m1) - fb.substitute(m2) for fa, fb in zip(a.index, b.index, strict=True)
        ]
    if not feasible(ineqs, eqs):
        return []
    dists = [f"%d{loop.id}" for loop in path1[:common]]
    loops = tuple(loop.id for loop in path1[:common])
    out = []
    for signs in _sign_patterns(ineqs, eqs, dists):
        first = next((s for s in signs if s), 0)
        if first == 0 and same_stmt:
            continue  # the same instance of one statement: reads precede its write
        flip = first < 0
        cons, cons_eqs = _with_signs(ineqs, eqs, dists, signs)
        vector = []
        for d, s in zip(dists, signs, strict=True):
            if s == 0:
                vector.append(ZERO)
                continue
            lo, hi = bounds_of(cons, d, cons_eqs) or (None, None)
            vector.append(Interval(lo, hi).scale(-1 if flip else 1))
        src, snk, src_acc, snk_acc = (s2, s1, b, a) if flip else (s1, s2, a, b)
        kind = (
            "output" if src_acc.write and snk_acc.write else ("flow" if src_acc.write else "anti")
        )
        out.append(Dependence(src.id, snk.id, kind, a.array, loops, tuple(vector)))
    return out


def _with_signs(
    ineqs: list[Affine], eqs: list[Affine], dists: list[str], signs: tuple[int, ...]
) -> tuple[list[Affine], list[Affine]]:
    """The system with ``d >= 1``, ``d == 0`` or ``d <= -1`` for the leading distances."""
    extra_i = [Affine.var(d, s) - 1 for d, s in zip(dists, signs, strict=False) if s]
    extra_e = [Affine.var(d) for d, s in zip(dists, signs, strict=False) if not s]
    return ineqs + extra_i, eqs + extra_e


def _sign_patterns(
    ineqs: list[Affine], eqs: list[Affine], dists: list[str]
) -> Iterator[tuple[int, ...]]:
    """Feasible sign vectors of the distances, refined one level at a time."""

    def refine(prefix: tuple[int, ...]) -> Iterator[tuple[int, ...]]:
        if len(prefix) == len(dists):
            yield prefix
            return
        for sign in (1, 0, -1):
            candidate = (*prefix, sign)
            if feasible(*_with_signs(ineqs, eqs, dists, candidate)):
                yield from refine(candidate)

    yield from refine(())
