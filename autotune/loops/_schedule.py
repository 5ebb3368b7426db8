"""Bands, schedules and the transformations on them, each checked for legality.

A *band* is a chain of perfectly nested loops in a normalized nest. Its *schedule* says
how to run it: a unimodular matrix ``T`` (new loop ``k`` runs ``y_k = T[k] . x`` over
the band's iteration coordinates ``x``; permutation, reversal and skewing are rows
operations), then rectangular tiling of some new loops, unroll-and-jam of one loop, and
one loop run in parallel (``prange``).

A band's coordinate of a loop counting up is its variable ``v``; of a loop counting down
(``range(hi, lo, -1)``), it is ``-v``, so that every coordinate grows with time, as the
dependence distances do (:mod:`autotune.loops._deps` counts them in iterations). This
change of variables keeps the order of every iteration, so the identity schedule is
still the original code; :meth:`Band.sign` undoes it when lowering. Steps other than
``+-1`` make the domain a relaxation (:meth:`Loop.domain`), so such bands are never
transformed.

Every transformation is a pure function ``Band -> Band | Illegal``. Legality is decided
on the band's dependences only (those not carried by loops outside the band): after a
schedule, every dependence must still go forward in the new execution order, and a
parallel loop must carry none. Distances are intervals, so the check is conservative.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from autotune.loops._affine import Affine
from autotune.loops._bounds import (
    LoopBounds,
    Matrix,
    TooComplex,
    identity,
    loop_bounds,
    to_new_coordinates,
    y_name,
)
from autotune.loops._deps import ZERO, Interval
from autotune.loops._ir import Loop
from autotune.loops._polyhedra import Infeasible


@dataclass(frozen=True, slots=True)
class Illegal:
    """Why a transformation was refused."""

    reason: str


@dataclass(frozen=True, slots=True)
class BandDep:
    """A dependence seen from a band: distances over the band's loops, original order."""

    vector: tuple[Interval, ...]
    reduction: bool
    text: str


@dataclass(frozen=True, slots=True)
class Schedule:
    """How a band runs; the identity schedule is the original code."""

    matrix: Matrix
    names: tuple[str, ...]
    tiles: tuple[int, ...] = ()
    unroll: tuple[int, int] | None = None  # (position, factor)
    parallel: int | None = None  # position of the loop run with prange

    @property
    def is_identity(self) -> bool:
        return (
            self.matrix == identity(len(self.names))
            and not any(t > 1 for t in self.tiles)
            and self.unroll is None
            and self.parallel is None
        )

    @property
    def tiled(self) -> list[int]:
        return [k for k, t in enumerate(self.tiles) if t > 1]

    @property
    def first_tiled(self) -> int:
        tiled = self.tiled
        return tiled[0] if tiled else len(self.names)


@dataclass(frozen=True, slots=True)
class Band:
    """A perfectly nested band with its dependences and schedule."""

    index: int
    loops: tuple[Loop, ...]
    context: tuple[Loop, ...]
    leaf: bool
    deps: tuple[BandDep, ...]
    schedule: Schedule
    reassociate: bool = False

    @property
    def vars(self) -> tuple[str, ...]:
        return tuple(loop.var for loop in self.loops)

    @property
    def depth(self) -> int:
        return len(self.loops)

    def sign(self, position: int) -> int:
        """``-1`` when loop ``position`` counts down: its coordinate is minus its variable."""
        return -1 if self.loops[position].step < 0 else 1

    def domain(self) -> list[Affine]:
        """The iteration domain over the band's coordinates (which are named as the
        loop variables)."""
        flip = {loop.var: Affine.var(loop.var, -1) for loop in self.loops if loop.step < 0}
        rows = [row for loop in self.loops for row in loop.domain()]
        return [row.substitute(flip) for row in rows] if flip else rows

    def context_domain(self) -> list[Affine]:
        return [row for loop in self.context for row in loop.domain()]

    def active_deps(self) -> list[BandDep]:
        """Dependences that constrain the schedule (reductions may be reassociated)."""
        return [d for d in self.deps if not (self.reassociate and d.reduction)]


def with_schedule(band: Band, schedule: Schedule) -> Band:
    return replace(band, schedule=schedule)


# --- dependence vectors under a schedule ---------------------------------------------


def transformed(vector: Sequence[Interval], matrix: Matrix) -> list[Interval]:
    """``T d`` in interval arithmetic."""
    out = []
    for row in matrix:
        acc = ZERO
        for coeff, iv in zip(row, vector, strict=True):
            if coeff:
                acc = acc + iv.scale(coeff)
        out.append(acc)
    return out


def _tile_interval(iv: Interval, size: int) -> Interval:
    """Distance between the tiles of two points ``d`` apart: in
    ``[floor(d / size), ceil(d / size)]``."""
    lo = None if iv.lo is None else iv.lo // size
    hi = None if iv.hi is None else -(-iv.hi // size)
    return Interval(lo, hi)


def sequence(vector: Sequence[Interval], schedule: Schedule) -> list[Interval]:
    """Distances along the loops as finally emitted: outer point loops, tile loops,
    inner point loops (an unroll-and-jammed loop split into blocks and a copy index
    that runs innermost)."""
    y = transformed(vector, schedule.matrix)
    split = schedule.first_tiled if schedule.tiled else 0
    out = y[:split] + [_tile_interval(y[k], schedule.tiles[k]) for k in schedule.tiled]
    inner = list(y[split:])
    if schedule.unroll is not None:
        p, factor = schedule.unroll
        inner[p - split] = _tile_interval(y[p], factor)
        inner.append(y[p])
    return out + inner


def emitted_position(schedule: Schedule, position: int) -> int:
    """Where the loop for ``position`` lands in :func:`sequence` (its tile loop when
    tiled)."""
    tiled = schedule.tiled
    if not tiled:
        return position
    first = tiled[0]
    if position < first:
        return position
    if position in tiled:
        return first + tiled.index(position)
    return first + len(tiled) + (position - first)


def order_violation(band: Band, schedule: Schedule) -> BandDep | None:
    """A dependence that would run backwards under ``schedule``, if any."""
    for dep in band.active_deps():
        for iv in sequence(dep.vector, schedule):
            if iv.is_zero:
                continue
            if iv.positive:
                break
            if iv.nonnegative:
                continue  # zero or positive: the next loops decide when it is zero
            return dep
    return None


def carried_at(band: Band, schedule: Schedule, position: int) -> BandDep | None:
    """A dependence the emitted loop at ``position`` may carry, if any."""
    for dep in band.active_deps():
        seq = sequence(dep.vector, schedule)
        if any(iv.positive for iv in seq[:position]):
            continue
        if not seq[position].is_zero:
            return dep
    return None


# --- bounds -----------------------------------------------------------------------------


def new_domain(band: Band, matrix: Matrix | None = None) -> list[Affine]:
    return to_new_coordinates(band.domain(), band.vars, matrix or band.schedule.matrix)


def band_bounds(band: Band, matrix: Matrix | None = None) -> list[LoopBounds] | str:
    """Bounds of the band's new loops, or why they cannot be generated."""
    try:
        return loop_bounds(new_domain(band, matrix), band.depth, band.context_domain())
    except TooComplex:
        return "the loop bounds are too complex to rewrite"
    except Infeasible:
        return "the band never runs"


# --- transformations ---------------------------------------------------------------------


def _unimodular_step(
    band: Band, matrix: Matrix, names: tuple[str, ...], what: str
) -> Band | Illegal:
    sched = band.schedule
    if sched.tiled or sched.unroll is not None or sched.parallel is not None:
        return Illegal(f"{what} must come before tiling, unroll-and-jam and prange")
    unit = _non_unit_step(band)
    if unit:
        return Illegal(unit)
    new = replace(sched, matrix=matrix, names=names)
    bad = order_violation(band, new)
    if bad is not None:
        return Illegal(f"{what} would reverse the dependence {bad.text}")
    bounds = band_bounds(band, matrix)
    if isinstance(bounds, str):
        return Illegal(bounds)
    return with_schedule(band, new)


def _non_unit_step(band: Band) -> str | None:
    for loop in band.loops:
        if abs(loop.step) != 1:
            return (
                f"loop {loop.var} has step {loop.step}; only loops with step 1 or -1 "
                "are transformed"
            )
    return None


def permute(band: Band, order: Sequence[str]) -> Band | Illegal:
    """Loop interchange: run the band's loops in ``order`` (names of its loops)."""
    names = band.schedule.names
    if sorted(order) != sorted(names):
        return Illegal(f"{list(order)} is not an ordering of {list(names)}")
    rows = tuple(band.schedule.matrix[names.index(n)] for n in order)
    return _unimodular_step(band, rows, tuple(order), f"order ({', '.join(order)})")


def reverse(band: Band, name: str) -> Band | Illegal:
    """Loop reversal: run loop ``name`` backwards."""
    names = band.schedule.names
    if name not in names:
        return Illegal(f"no loop {name}")
    k = names.index(name)
    rows = list(band.schedule.matrix)
    rows[k] = tuple(-v for v in rows[k])
    return _unimodular_step(band, tuple(rows), names, f"reversing {name}")


def skew(band: Band, name: str, by: str, factor: int) -> Band | Illegal:
    """Loop skewing: loop ``name`` runs ``name + factor * by`` (``by`` is outer)."""
    names = band.schedule.names
    if name not in names or by not in names or names.index(by) >= names.index(name):
        return Illegal(f"{by} must be a loop outside {name}")
    k, outer = names.index(name), names.index(by)
    rows = list(band.schedule.matrix)
    rows[k] = tuple(a + factor * b for a, b in zip(rows[k], rows[outer], strict=True))
    return _unimodular_step(band, tuple(rows), names, f"skewing {name} by {factor}*{by}")


def is_fully_permutable(band: Band, matrix: Matrix | None = None) -> bool:
    matrix = matrix or band.schedule.matrix
    return all(
        iv.nonnegative for dep in band.active_deps() for iv in transformed(dep.vector, matrix)
    )


def make_permutable(band: Band) -> Band | Illegal:
    """Reverse or skew loops (outermost first) until every dependence distance is
    non-negative in every loop of the band, so that any order and any tiling is legal."""
    rows = [list(r) for r in band.schedule.matrix]
    for k in range(band.depth):
        ys = [transformed(d.vector, tuple(map(tuple, rows))) for d in band.active_deps()]
        bad = [y for y in ys if not y[k].nonnegative]
        if not bad:
            continue
        if all(_at_most_zero(y[k]) for y in ys):
            rows[k] = [-v for v in rows[k]]
            continue
        factors = _skew_factors(bad, k)
        if isinstance(factors, Illegal):
            return factors
        for outer, f in factors.items():
            rows[k] = [a + f * b for a, b in zip(rows[k], rows[outer], strict=True)]
    matrix = tuple(tuple(r) for r in rows)
    if not is_fully_permutable(band, matrix):
        return Illegal("skewing cannot make every distance non-negative")
    return _unimodular_step(band, matrix, band.schedule.names, "making the band permutable")


def _at_most_zero(iv: Interval) -> bool:
    return iv.hi is not None and iv.hi <= 0 and iv.lo is not None


def _skew_factors(bad: list[list[Interval]], k: int) -> dict[int, int] | Illegal:
    factors: dict[int, int] = {}
    for y in bad:
        lo = y[k].lo
        carrier = next((j for j in range(k) if y[j].positive), None)
        if lo is None or carrier is None:
            return Illegal("a dependence distance is unbounded; skewing cannot fix it")
        step = y[carrier].lo
        assert step is not None
        need = -(lo // step)  # ceil(-lo / step)
        factors[carrier] = max(factors.get(carrier, 0), need)
    return factors


def tile(band: Band, sizes: Sequence[int]) -> Band | Illegal:
    """Rectangular tiling: ``sizes[k]`` is the tile edge of new loop ``k`` (0 or 1:
    not tiled). Tile loops go just outside the outermost tiled loop."""
    sched = band.schedule
    if len(sizes) != band.depth or any(s < 0 for s in sizes):
        return Illegal(f"need {band.depth} non-negative tile sizes")
    if sched.unroll is not None or sched.parallel is not None:
        return Illegal("tiling must come before unroll-and-jam and prange")
    unit = _non_unit_step(band)
    if unit:
        return Illegal(unit)
    new = replace(sched, tiles=tuple(int(s) for s in sizes))
    bad = order_violation(band, new)
    if bad is not None:
        return Illegal(f"tiling needs non-negative distances; {bad.text} has a negative one")
    return with_schedule(band, new)


def unroll_and_jam(band: Band, name: str, factor: int) -> Band | Illegal:
    """Unroll loop ``name`` by ``factor`` and jam the copies into the innermost loop."""
    sched = band.schedule
    if name not in sched.names:
        return Illegal(f"no loop {name}")
    p = sched.names.index(name)
    if factor < 2:
        return Illegal("the unroll factor must be at least 2")
    if not band.leaf:
        return Illegal("the band's body holds other loops; only innermost bands are jammed")
    if p == band.depth - 1:
        return Illegal(f"{name} is the innermost loop (plain unrolling is LLVM's job)")
    if sched.parallel is not None:
        return Illegal("unroll-and-jam must come before prange")
    if p < sched.first_tiled and sched.tiled:
        return Illegal(f"{name} lies outside the tile loops")
    unit = _non_unit_step(band)
    if unit:
        return Illegal(unit)
    bounds = band_bounds(band)
    if isinstance(bounds, str):
        return Illegal(bounds)
    for q in range(p + 1, band.depth):
        if y_name(p) in bounds[q].names:
            return Illegal(f"the bounds of loop {sched.names[q]} depend on {name}")
    new = replace(sched, unroll=(p, factor))
    bad = order_violation(band, new)
    if bad is not None:
        return Illegal(f"jamming {name} would reverse the dependence {bad.text}")
    return with_schedule(band, new)


def parallelize(band: Band, name: str) -> Band | Illegal:
    """Run loop ``name`` (its tile loop when tiled) with ``prange``."""
    sched = band.schedule
    if name not in sched.names:
        return Illegal(f"no loop {name}")
    p = sched.names.index(name)
    if sched.parallel is not None:
        return Illegal("only one loop of a band runs in parallel")
    if sched.unroll is not None and sched.unroll[0] == p and p not in sched.tiled:
        return Illegal(f"{name} is unroll-and-jammed (prange needs unit steps)")
    unit = _non_unit_step(band)
    if unit:
        return Illegal(unit)
    dep = carried_at(band, sched, emitted_position(sched, p))
    if dep is not None:
        return Illegal(f"loop {name} carries the dependence {dep.text}")
    return with_schedule(band, replace(sched, parallel=p))
