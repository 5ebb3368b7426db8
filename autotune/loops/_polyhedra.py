"""Integer constraint systems solved by Fourier-Motzkin elimination.

Constraints are :class:`Affine` rows read as ``row >= 0`` (inequalities) or ``row == 0``
(equalities). Elimination is exact over the rationals; each derived row is tightened
for integers (divide by the gcd, round the constant down), which keeps every integer
solution. So "infeasible" is always right, and "feasible" may be wrong only in the safe
direction (a rational solution without an integer one). A system that grows past
:data:`MAX_ROWS` rows is reported as feasible: unknown counts as "may depend".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from autotune.loops._affine import Affine

MAX_ROWS = 600


class TooComplex(Exception):
    """Elimination grew past :data:`MAX_ROWS` rows."""


class Infeasible(Exception):
    """A contradiction was derived."""


def _simplify(rows: Iterable[Affine]) -> list[Affine]:
    """Tighten, drop trivially true rows, keep the tightest of parallel rows."""
    best: dict[tuple[tuple[str, int], ...], int] = {}
    for row in rows:
        row = row.tightened()
        if not row.terms:
            if row.const < 0:
                raise Infeasible
            continue
        known = best.get(row.terms)
        if known is None or row.const < known:
            best[row.terms] = row.const
    return [Affine(terms, const) for terms, const in best.items()]


def _substitute_equalities(
    eqs: Sequence[Affine], ineqs: Sequence[Affine], protect: frozenset[str]
) -> list[Affine]:
    """Inequalities equivalent to ``eqs`` and ``ineqs``: an equality with a unit
    coefficient on an unprotected variable is substituted away, any other equality
    becomes a pair of inequalities. Raises :class:`Infeasible` on a GCD conflict."""
    pending = list(eqs)
    rows = list(ineqs)
    while pending:
        eq = pending.pop()
        if not eq.terms:
            if eq.const != 0:
                raise Infeasible
            continue
        g = math.gcd(*(abs(c) for _, c in eq.terms))
        if eq.const % g:
            raise Infeasible  # the GCD test: no integer solution
        eq = Affine(tuple((n, c // g) for n, c in eq.terms), eq.const // g)
        pivot = next((n for n, c in eq.terms if abs(c) == 1 and n not in protect), None)
        if pivot is None:
            rows.extend((eq, -eq))
            continue
        c = eq.coeff(pivot)
        value = eq.drop(pivot).scale(-c)  # pivot = -(rest) / c with c = +-1
        sub = {pivot: value}
        pending = [e.substitute(sub) for e in pending]
        rows = [r.substitute(sub) for r in rows]
    return rows


def eliminate(rows: Sequence[Affine], name: str) -> list[Affine]:
    """Rows over the other variables whose solutions are the projection of ``rows``."""
    pos = [r for r in rows if r.coeff(name) > 0]
    neg = [r for r in rows if r.coeff(name) < 0]
    out = [r for r in rows if r.coeff(name) == 0]
    if len(out) + len(pos) * len(neg) > MAX_ROWS:
        raise TooComplex
    for p in pos:
        a = p.coeff(name)
        for n in neg:
            b = -n.coeff(name)
            out.append(p.scale(b) + n.scale(a))
    return _simplify(out)


def _cost(rows: Sequence[Affine], name: str) -> int:
    pos = sum(1 for r in rows if r.coeff(name) > 0)
    neg = sum(1 for r in rows if r.coeff(name) < 0)
    return pos * neg - pos - neg


def project(
    ineqs: Sequence[Affine],
    keep: Iterable[str],
    eqs: Sequence[Affine] = (),
) -> list[Affine]:
    """Rows over ``keep`` only whose solutions contain the projection of the system.

    Raises :class:`Infeasible` or :class:`TooComplex`.
    """
    kept = frozenset(keep)
    rows = _simplify(_substitute_equalities(eqs, ineqs, kept))
    while True:
        names = {n for r in rows for n in r.names} - kept
        if not names:
            return rows
        name = min(sorted(names), key=lambda n: _cost(rows, n))
        rows = eliminate(rows, name)


def feasible(ineqs: Sequence[Affine], eqs: Sequence[Affine] = ()) -> bool:
    """Whether the system may have an integer solution (``True`` when unsure)."""
    try:
        project(ineqs, (), eqs)
    except Infeasible:
        return False
    except TooComplex:
        return True
    return True


def bounds_of(
    ineqs: Sequence[Affine], name: str, eqs: Sequence[Affine] = ()
) -> tuple[int | None, int | None] | None:
    """Constant integer bounds (``None`` for unbounded) of ``name`` over the system's
    integer solutions, or ``None`` when the system is infeasible. Bounds may be loose."""
    try:
        rows = project(ineqs, (name,), eqs)
    except Infeasible:
        return None
    except TooComplex:
        return (None, None)
    lo: int | None = None
    hi: int | None = None
    for row in rows:
        a = row.coeff(name)
        if a > 0:  # a x + c >= 0  ->  x >= ceil(-c / a)
            v = -(row.const // a)
            lo = v if lo is None else max(lo, v)
        elif a < 0:  # x <= floor(c / -a)
            v = row.const // -a
            hi = v if hi is None else min(hi, v)
    if lo is not None and hi is not None and lo > hi:
        return None
    return lo, hi


def implied(assumptions: Sequence[Affine], row: Affine) -> bool:
    """Whether every integer solution of ``assumptions`` satisfies ``row >= 0``."""
    return not feasible([*assumptions, -row - 1])
