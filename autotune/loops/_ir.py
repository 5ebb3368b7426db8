"""The loop-nest IR: loops over ``range`` with affine bounds, and statements whose array
subscripts are affine. Statements keep their Python AST; the IR records what they access.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field

from autotune.loops._affine import Affine


@dataclass(frozen=True, slots=True)
class Access:
    """One array element read or written: ``array[index]``."""

    array: str
    index: tuple[Affine, ...]
    write: bool


@dataclass(frozen=True, slots=True, eq=False)
class Stmt:
    """A statement inside a loop nest (assignment, augmented assignment or ``if``).

    ``reads``/``writes`` are the plain names it loads/stores (scalars, loop variables,
    invariants); ``accesses`` its array element accesses. Writes under an ``if`` count
    as writes (they may happen).
    """

    id: int
    node: ast.stmt = field(repr=False)
    accesses: tuple[Access, ...]
    reads: frozenset[str]
    writes: frozenset[str]
    line: int


@dataclass(frozen=True, slots=True, eq=False)
class Loop:
    """``for var in range(lower, upper, step)``; ``upper`` is exclusive."""

    id: int
    var: str
    lower: Affine
    upper: Affine
    step: int
    body: tuple[Node, ...]
    line: int

    def domain(self) -> list[Affine]:
        """Constraints (``row >= 0``) on ``var`` given the outer variables. A step other
        than +-1 is relaxed to the hull of the visited values (a superset)."""
        x = Affine.var(self.var)
        if self.step > 0:
            return [x - self.lower, self.upper - 1 - x]
        return [self.lower - x, x - self.upper - 1]


Node = Stmt | Loop


@dataclass(frozen=True, slots=True)
class Nest:
    """A top-level ``for`` statement of a kernel, lifted (maybe distributed: a forest).

    ``live_out`` holds the scalars assigned in the nest whose value is read after it.
    """

    index: int
    line: int
    roots: tuple[Loop, ...]
    live_out: frozenset[str]
    names: frozenset[str]  # every name the function uses; new names must avoid them


@dataclass(frozen=True, slots=True)
class Untransformable:
    """A top-level statement with loops that lies outside the affine subset."""

    index: int
    line: int
    reason: str


def walk(nodes: tuple[Node, ...]) -> Iterator[tuple[Node, tuple[Loop, ...]]]:
    """Every node in program order, with the loops enclosing it (outermost first)."""
    yield from _walk(nodes, ())


def _walk(
    nodes: tuple[Node, ...], outer: tuple[Loop, ...]
) -> Iterator[tuple[Node, tuple[Loop, ...]]]:
    for node in nodes:
        yield node, outer
        if isinstance(node, Loop):
            yield from _walk(node.body, (*outer, node))


def statements(nodes: tuple[Node, ...]) -> Iterator[tuple[Stmt, tuple[Loop, ...]]]:
    """Every statement in program order with its enclosing loops."""
    for node, outer in walk(nodes):
        if isinstance(node, Stmt):
            yield node, outer


def loop_vars(nodes: tuple[Node, ...]) -> set[str]:
    return {n.var for n, _ in walk(nodes) if isinstance(n, Loop)}


def band_of(loop: Loop) -> list[Loop]:
    """The perfectly nested chain starting at ``loop``."""
    band = [loop]
    while len(band[-1].body) == 1 and isinstance(band[-1].body[0], Loop):
        band.append(band[-1].body[0])
    return band
