"""Loop bounds for a band after a unimodular change of coordinates.

A band's iteration domain is a set of affine constraints on its variables ``x`` (its
outer context and symbols stay free). With new coordinates ``y = T x`` (``T``
unimodular: permutations, reversals, skews), the constraints become rows over ``y``
through ``x = T^-1 y``. Fourier-Motzkin projection then gives, for each ``y_k``, lower
and upper bounds over ``y_1 .. y_k-1``. Every original constraint is enforced at the
level of its innermost variable, so the generated loops visit exactly the domain's
integer points.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from autotune.loops._affine import Affine
from autotune.loops._polyhedra import Infeasible, TooComplex, eliminate, implied, project

Matrix = tuple[tuple[int, ...], ...]


def identity(n: int) -> Matrix:
    return tuple(tuple(int(i == j) for j in range(n)) for i in range(n))


def inverse(matrix: Matrix) -> Matrix:
    """The inverse of a unimodular integer matrix (raises ValueError otherwise)."""
    n = len(matrix)
    aug = [
        [Fraction(v) for v in row] + [Fraction(int(i == j)) for j in range(n)]
        for i, row in enumerate(matrix)
    ]
    for col in range(n):
        pivot = next((r for r in range(col, n) if aug[r][col] != 0), None)
        if pivot is None:
            raise ValueError("singular matrix")
        aug[col], aug[pivot] = aug[pivot], aug[col]
        p = aug[col][col]
        aug[col] = [v / p for v in aug[col]]
        for r in range(n):
            if r != col and aug[r][col] != 0:
                f = aug[r][col]
                aug[r] = [a - f * b for a, b in zip(aug[r], aug[col], strict=True)]
    out = tuple(tuple(aug[i][n + j] for j in range(n)) for i in range(n))
    if any(v.denominator != 1 for row in out for v in row):
        raise ValueError("matrix is not unimodular")
    return tuple(tuple(int(v) for v in row) for row in out)


@dataclass(frozen=True, slots=True)
class Bound:
    """``ceil(expr / div)`` (a lower bound) or ``floor(expr / div)`` (an upper bound)."""

    expr: Affine
    div: int = 1


@dataclass(frozen=True, slots=True)
class LoopBounds:
    """Inclusive bounds of one new loop: ``max(lowers) <= y <= min(uppers)``."""

    lowers: tuple[Bound, ...]
    uppers: tuple[Bound, ...]

    @property
    def names(self) -> frozenset[str]:
        return frozenset(n for b in (*self.lowers, *self.uppers) for n in b.expr.names)


def y_name(k: int) -> str:
    return f"%y{k}"


def to_new_coordinates(domain: Sequence[Affine], xs: Sequence[str], matrix: Matrix) -> list[Affine]:
    """``domain`` over ``xs`` rewritten over ``%y0 ..`` with ``y = matrix x``."""
    inv = inverse(matrix)
    sub = {
        x: sum((Affine.var(y_name(k), inv[j][k]) for k in range(len(xs))), Affine())
        for j, x in enumerate(xs)
    }
    return [row.substitute(sub) for row in domain]


def loop_bounds(
    rows: Sequence[Affine], depth: int, assumptions: Sequence[Affine] = ()
) -> list[LoopBounds]:
    """Bounds of ``%y0 .. %y{depth-1}`` (outermost first) for the domain ``rows``.

    ``assumptions`` (context loop constraints) only serve to drop redundant bounds.
    Raises :class:`TooComplex` or :class:`Infeasible`.
    """
    levels: list[list[Affine]] = [list(rows)]
    for k in range(depth - 1, 0, -1):
        levels.insert(0, eliminate(levels[0], y_name(k)))
    out = []
    for k in range(depth):
        name = y_name(k)
        here = [r for r in levels[k] if r.coeff(name) != 0]
        outer = [r for r in (levels[k - 1] if k else []) if _mentions_y(r)]
        here = _drop_redundant(here, [*outer, *assumptions])
        lowers = tuple(Bound(-r.drop(name), r.coeff(name)) for r in here if r.coeff(name) > 0)
        uppers = tuple(Bound(r.drop(name), -r.coeff(name)) for r in here if r.coeff(name) < 0)
        if not lowers or not uppers:
            raise TooComplex  # an unbounded loop: the domain was not a polytope
        out.append(LoopBounds(lowers, uppers))
    return out


def tile_bounds(rows: Sequence[Affine], first: int, k: int, depth: int) -> LoopBounds:
    """Bounds of ``%y{k}`` over the loops before position ``first`` only: the range a
    tile loop for ``y_k`` placed at ``first`` must cover."""
    keep = [y_name(j) for j in range(first)] + [y_name(k)]
    drop = {y_name(j) for j in range(depth)} - set(keep)
    projected = list(rows)
    for name in sorted(drop):
        projected = eliminate(projected, name)
    name = y_name(k)
    here = [r for r in projected if r.coeff(name) != 0]
    lowers = tuple(Bound(-r.drop(name), r.coeff(name)) for r in here if r.coeff(name) > 0)
    uppers = tuple(Bound(r.drop(name), -r.coeff(name)) for r in here if r.coeff(name) < 0)
    if not lowers or not uppers:
        raise TooComplex
    return LoopBounds(lowers, uppers)


def _mentions_y(row: Affine) -> bool:
    return any(n.startswith("%y") for n in row.names)


def _drop_redundant(rows: list[Affine], assumptions: list[Affine]) -> list[Affine]:
    """``rows`` without those implied by the others and the assumptions."""
    kept = list(rows)
    for row in sorted(rows, key=lambda r: (len(r.terms), r.terms, r.const), reverse=True):
        others = [r for r in kept if r is not row]
        if (
            len(others) < len(kept)
            and _has_same_direction(row, others)
            and implied([*others, *assumptions], row)
        ):
            kept = others
    return kept


def _has_same_direction(row: Affine, others: list[Affine]) -> bool:
    """A bound can only be implied by another bound of the same kind on that variable."""
    ys = [n for n in row.names if n.startswith("%y")]
    last = max(ys, key=lambda n: int(n[2:]))
    sign = row.coeff(last) > 0
    return any((r.coeff(last) > 0) == sign and r.coeff(last) != 0 for r in others)


def rectangular_domain(rows: Sequence[Affine]) -> bool:
    """Whether each row involves at most one ``y`` variable."""
    return all(sum(1 for n in r.names if n.startswith("%y")) <= 1 for r in rows)


__all__ = [
    "Bound",
    "Infeasible",
    "LoopBounds",
    "Matrix",
    "TooComplex",
    "identity",
    "inverse",
    "loop_bounds",
    "project",
    "tile_bounds",
    "to_new_coordinates",
    "y_name",
]
