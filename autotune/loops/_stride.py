"""Memory order: which loop of a band should run innermost for contiguous accesses.

Numba's arrays are row-major (C order), so consecutive iterations of the innermost loop
touch consecutive memory only when its variable indexes the last dimension. The
*memory order* of a band sorts its loops by what each would cost as the innermost one,
in the manner of Kennedy and McKinley's loop cost ("Optimizing for parallelism and
data locality", ICS 1992), simplified to the band's distinct array references:

* a reference that does not depend on the loop costs nothing (the element is reused);
* one whose last subscript moves with the loop by ``s`` elements, and no other
  subscript does, costs ``min(s, LINE) / LINE`` (one cache line serves ``LINE / s``
  iterations);
* any other reference that moves with the loop costs 1 (a new line each iteration).

A loop that alone carries one of the band's dependences (a recurrence, or a reduction
LLVM may not reorder) serializes its iterations on the latency of the dependence chain
and keeps them from being vectorized when it runs innermost. How that compares with
strided references depends on where the data lives (a strided reference that hits L1
costs about a cycle, one that misses every cache hundreds), so there are two memory
orders: by references alone, and, with ``recurrences``, with the innermost loop chosen
first among the loops that carry fewest dependences alone, then by references.

The cheapest loop goes innermost and the dearest outermost; ties keep the written order,
so a band already in memory order is left as it is. Whether the order is legal is not
decided here: :func:`autotune.loops._space.add_loop_dimensions` offers it only where
the band's dependences allow it.
"""

from __future__ import annotations

from autotune.loops._affine import Affine
from autotune.loops._ir import Stmt, statements
from autotune.loops._schedule import Band

#: Elements of a cache line, in the cost's units (64-byte lines of float64).
LINE = 8


def references(band: Band) -> list[tuple[str, tuple[Affine, ...]]]:
    """The band's distinct array references, ``(array, subscripts)``, in program order."""
    seen: dict[tuple[str, tuple[Affine, ...]], None] = {}
    for stmt, _ in statements((band.loops[0],)):
        if isinstance(stmt, Stmt):
            for access in stmt.accesses:
                seen.setdefault((access.array, access.index), None)
    return list(seen)


def carried_alone(band: Band, var: str) -> int:
    """How many of the band's dependences loop ``var`` carries alone: their distance is
    zero on every other loop of the band, so they stay with ``var`` wherever it goes."""
    position = band.vars.index(var)
    return sum(
        1
        for dep in band.deps
        if not dep.vector[position].is_zero
        and all(d.is_zero for k, d in enumerate(dep.vector) if k != position)
    )


def innermost_cost(band: Band, var: str) -> float:
    """What running loop ``var`` of ``band`` innermost costs its references (see the
    module's text)."""
    cost = 0.0
    for _, index in references(band):
        moving = [d for d, sub in enumerate(index) if sub.coeff(var)]
        if not moving:
            continue
        last = len(index) - 1
        if moving == [last]:
            step = abs(index[last].coeff(var))
            cost += min(step, LINE) / LINE
        else:
            cost += 1.0
    return cost


def memory_order(band: Band, recurrences: bool = False) -> tuple[str, ...]:
    """The band's loop variables, dearest innermost cost first (outermost): the order
    in which the band's references run most contiguously. With ``recurrences`` the
    innermost loop is, among those carrying fewest dependences alone, the cheapest, and
    the others keep their memory order. Ties keep the written order."""
    memory = {var: innermost_cost(band, var) for var in band.vars}
    order = sorted(band.vars, key=lambda v: -memory[v])
    if recurrences:
        # reversed: among equals, the loop the memory order already puts innermost
        inner = min(reversed(order), key=lambda v: (carried_alone(band, v), memory[v]))
        order = [v for v in order if v != inner] + [inner]
    return tuple(order)


__all__ = ["LINE", "carried_alone", "innermost_cost", "memory_order", "references"]
