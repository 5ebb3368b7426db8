"""A kernel's loop nests end to end: lift, normalize, find bands, apply choices, lower.

:func:`analyze` is pure analysis (it never compiles). :func:`transformed_source` and
:func:`compile_transformed` turn a set of :class:`BandChoice` into Python source and a
function object that Numba compiles as usual.
"""

from __future__ import annotations

import ast
import copy
import functools
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from autotune.loops._bounds import identity
from autotune.loops._deps import Dependence, dependences
from autotune.loops._fuse import fuse
from autotune.loops._ir import Loop, Nest, Node, Stmt, band_of, statements
from autotune.loops._lift import KernelLoops, lift_function
from autotune.loops._lower import Lowering, NameGen, lower_nodes
from autotune.loops._normalize import normalize
from autotune.loops._schedule import (
    Band,
    BandDep,
    Illegal,
    Schedule,
    make_permutable,
    parallelize,
    permute,
    tile,
    unroll_and_jam,
)


@dataclass(frozen=True, slots=True)
class NestPlan:
    """A lifted nest, its normalized form and the bands of that form; ``fused`` is the
    lifted nest with its same-range sibling loops fused (``None``: nothing fuses) and
    ``fused_bands`` that form's bands, which run as they are."""

    nest: Nest
    normalized: Nest
    bands: tuple[Band, ...]
    fused: Nest | None = None
    fused_bands: tuple[Band, ...] = ()


@dataclass(frozen=True, slots=True)
class LoopAnalysis:
    """Everything known about a kernel's loop nests (by top-level statement index)."""

    kernel: KernelLoops = field(repr=False)
    plans: Mapping[int, NestPlan]
    reassociate: bool


#: Argument ranks: (parameter name, number of dimensions; 0 for a scalar).
Ranks = tuple[tuple[str, int], ...]


@functools.lru_cache(maxsize=64)
def analyze(
    pyfunc: Callable[..., Any], reassociate: bool = False, ranks: Ranks = ()
) -> LoopAnalysis:
    """Lift ``pyfunc``'s nests and compute their bands and dependences.

    ``reassociate`` lets reductions into scalars be reordered (and run with prange,
    where Numba combines per-thread partial results). ``ranks`` (see
    :func:`argument_ranks`) tells scalarization which arguments are arrays; every
    caller that must agree on a kernel's nests (its search space and its builds) has
    to pass the same.
    """
    return analyze_kernel(lift_function(pyfunc, dict(ranks)), reassociate)


def argument_ranks(pyfunc: Callable[..., Any], args: tuple[Any, ...]) -> Ranks:
    """The ranks of ``pyfunc``'s arguments ``args``: arrays by their dimensions,
    numbers 0; anything else is left out."""
    import numbers

    import numpy as np

    names = list(inspect.signature(pyfunc).parameters)
    out = []
    for name, arg in zip(names, args, strict=False):
        if isinstance(arg, np.ndarray):
            out.append((name, arg.ndim))
        elif isinstance(arg, numbers.Number | np.generic):
            out.append((name, 0))
    return tuple(out)


def declared_ranks(decl: Any) -> Ranks:
    """The argument ranks of a declared kernel (a ``KernelDecl``), from one set of
    its inputs at its default size (ranks do not depend on sizes)."""
    return _declared_ranks(decl)


@functools.lru_cache(maxsize=256)
def _declared_ranks(decl: Any) -> Ranks:
    try:
        args = decl.make_inputs(0)
    except Exception:  # inputs that fail are reported where the kernel is measured
        return ()
    return argument_ranks(decl.pyfunc, args)


def analyze_kernel(kernel: KernelLoops, reassociate: bool = False) -> LoopAnalysis:
    """Normalize every lifted nest of ``kernel`` and compute its bands."""
    plans = {}
    for nest in kernel.transformable:
        normalized = normalize(nest)
        bands = extract_bands(normalized, reassociate)
        fused, count = fuse(nest)
        if count:
            plans[nest.index] = NestPlan(nest, normalized, bands, fused, extract_bands(fused))
        else:
            plans[nest.index] = NestPlan(nest, normalized, bands)
    return LoopAnalysis(kernel, plans, reassociate)


def extract_bands(nest: Nest, reassociate: bool = False) -> tuple[Band, ...]:
    """The bands of a (normalized) nest in pre-order, each with identity schedule."""
    deps = dependences(nest.roots, nest.live_out)
    out: list[Band] = []

    def visit(nodes: tuple[Node, ...], context: tuple[Loop, ...]) -> None:
        for node in nodes:
            if not isinstance(node, Loop):
                continue
            chain = tuple(band_of(node))
            leaf = all(isinstance(x, Stmt) for x in chain[-1].body)
            band_deps = _band_deps(deps, node, context, chain)
            names = tuple(loop.var for loop in chain)
            schedule = Schedule(identity(len(chain)), names)
            out.append(Band(len(out), chain, context, leaf, band_deps, schedule, reassociate))
            visit(chain[-1].body, (*context, *chain))

    visit(nest.roots, ())
    return tuple(out)


def _band_deps(
    deps: list[Dependence], head: Loop, context: tuple[Loop, ...], chain: tuple[Loop, ...]
) -> tuple[BandDep, ...]:
    inside = {s.id for s, _ in statements((head,))}
    prefix = tuple(loop.id for loop in (*context, *chain))
    c, d = len(context), len(chain)
    out: dict[BandDep, None] = {}
    for dep in deps:
        if dep.source not in inside or dep.sink not in inside or dep.loops[: c + d] != prefix:
            continue
        if any(not v.is_zero for v in dep.vector[:c]):
            continue  # carried by a loop outside the band
        part = dep.vector[c : c + d]
        if all(v.is_zero for v in part):
            continue  # within one iteration of the band: its body keeps its order
        what = dep.array[1:] if dep.array.startswith("$") else dep.array
        dist = ", ".join(f"{loop.var}: {v}" for loop, v in zip(chain, part, strict=True))
        kind = f"{dep.kind} reduction" if dep.reduction else dep.kind
        out[BandDep(part, dep.reduction, f"{kind} on {what} ({dist})")] = None
    return tuple(out)


@dataclass(frozen=True, slots=True)
class BandChoice:
    """The transformation sequence of one band, as the search space describes it.

    Applied in this order: ``enable`` ("permutable": reverse/skew loops so that every
    order and tiling is legal), ``order`` (loop names, outermost first), ``tile`` (edge
    of the tiles of every loop but the innermost; 0: none) and ``tile_inner`` (of the
    innermost), ``unroll`` (unroll-and-jam factor of the loop around the innermost one)
    and ``parallel`` (prange on the outermost loop that carries no dependence).
    """

    enable: str = "none"
    order: tuple[str, ...] | None = None
    tile: int = 0
    tile_inner: int = 0
    unroll: int = 1
    parallel: bool = False

    @property
    def is_default(self) -> bool:
        return self == BandChoice()


@functools.lru_cache(maxsize=4096)
def apply_choice(band: Band, choice: BandChoice) -> Band | Illegal:
    """``band`` scheduled by ``choice``, or why that sequence is illegal."""
    result: Band | Illegal = band
    if choice.enable == "permutable":
        result = make_permutable(band)
    elif choice.enable != "none":
        return Illegal(f"unknown enabling step {choice.enable!r}")
    if choice.order is not None and isinstance(result, Band):
        result = permute(result, choice.order)
    if (choice.tile or choice.tile_inner) and isinstance(result, Band):
        d = result.depth
        sizes = [choice.tile] * (d - 1) + [choice.tile_inner]
        result = tile(result, sizes)
    if choice.unroll > 1 and isinstance(result, Band):
        if result.depth < 2:
            return Illegal("unroll-and-jam needs two loops")
        result = unroll_and_jam(result, result.schedule.names[-2], choice.unroll)
    if choice.parallel and isinstance(result, Band):
        result = _parallel_outermost(result)
    return result


def _parallel_outermost(band: Band) -> Band | Illegal:
    reasons = []
    for name in band.schedule.names:
        result = parallelize(band, name)
        if isinstance(result, Band):
            return result
        reasons.append(result.reason)
    return Illegal("no loop can run in parallel: " + "; ".join(reasons))


@dataclass(frozen=True, slots=True)
class Transformed:
    """Lowered source of a kernel under some band choices."""

    source: str
    func: ast.FunctionDef = field(repr=False, compare=False)
    parallel: bool
    prange_name: str
    changed: bool = True
    numpy_name: str = ""  # the global scalarized code calls NumPy by ("": none)


def transformed_source(
    analysis: LoopAnalysis,
    choices: Mapping[tuple[int, int], BandChoice],
    writable: frozenset[str] = frozenset(),
    scalarize: bool = False,
    fused: frozenset[int] = frozenset(),
) -> Transformed | Illegal:
    """The kernel's source with the nests named in ``choices`` (keys: nest index, band
    index) transformed; every other nest is left exactly as written. So is a nest whose
    choices change nothing (``changed`` tells whether any nest was rewritten).

    With ``scalarize`` the kernel's array statements are scalarized first; nests that
    only the scalarized kernel has (``analysis.kernel.rewritten``) need it. The nests in
    ``fused`` run with their sibling loops fused, and take no band choices.
    """
    scheduled: dict[tuple[int, int], Band] = {}
    for index in sorted(fused):
        plan = analysis.plans.get(index)
        if plan is None or plan.fused is None:
            return Illegal(f"nest n{index} has no loops to fuse")
        if not scalarize and index in analysis.kernel.rewritten:
            return Illegal(f"nest n{index} exists only in the scalarized kernel")
        if any(not c.is_default for (n, _b), c in choices.items() if n == index):
            return Illegal(f"nest n{index} is fused; its bands run as they are")
        scheduled.update({(index, b.index): b for b in plan.fused_bands})
    for index in sorted({n for n, _ in choices} - set(fused)):
        plan = analysis.plans.get(index)
        if plan is None:
            return Illegal(f"statement {index} is not a transformable loop nest")
        if not scalarize and index in analysis.kernel.rewritten:
            return Illegal(f"nest n{index} exists only in the scalarized kernel")
        picked = {b: c for (n, b), c in choices.items() if n == index}
        nest_bands = {}
        for band in plan.bands:
            result = apply_choice(band, picked.get(band.index, BandChoice()))
            if isinstance(result, Illegal):
                where = f"band n{index}.b{band.index} (nest at line {plan.nest.line})"
                return Illegal(f"{where}: {result.reason}")
            nest_bands[(index, band.index)] = result
        if any(not b.schedule.is_identity for b in nest_bands.values()):
            scheduled.update(nest_bands)
    return lower_bands(analysis, scheduled, writable, scalarize, fused)


def lower_bands(
    analysis: LoopAnalysis,
    scheduled: Mapping[tuple[int, int], Band],
    writable: frozenset[str] = frozenset(),
    scalarize: bool = False,
    fused: frozenset[int] = frozenset(),
) -> Transformed:
    """The kernel's source with every nest that has a band in ``scheduled`` lowered
    from its normalized form (bands not named keep their original order), its array
    statements scalarized when ``scalarize``."""
    kernel = analysis.kernel
    scalar = kernel.scalarized if scalarize and kernel.rewritten else None
    base = kernel.func if scalar is not None or kernel.original is None else kernel.original
    func = copy.deepcopy(base)
    func.decorator_list = []
    used = set(analysis.plans[next(iter(analysis.plans))].nest.names) if analysis.plans else set()
    if kernel.scalarized is not None:
        used.add(kernel.scalarized.numpy_name)
    names = NameGen(used)
    prange = names.fresh("prange")
    replaced: dict[int, list[ast.stmt]] = {}
    parallel = False
    for index in sorted({n for n, _ in scheduled}):
        plan = analysis.plans[index]
        if index in fused:  # the fused nest's own bands, as they are
            assert plan.fused is not None
            bands = {band.loops[0].id: band for band in plan.fused_bands}
            roots = plan.fused.roots
        else:
            bands = {b.loops[0].id: scheduled.get((index, b.index), b) for b in plan.bands}
            roots = plan.normalized.roots
        state = Lowering(bands, names, prange, writable)
        replaced[index] = lower_nodes(roots, state)
        parallel = parallel or state.used_prange
    body: list[ast.stmt] = []
    for index, stmt in enumerate(func.body):
        if scalar is not None:
            body.extend(copy.deepcopy(scalar.preludes.get(index, [])))
        body.extend(replaced.get(index, [stmt]))
    func.body = body
    module = ast.Module([func], [])
    ast.fix_missing_locations(module)
    changed = bool(replaced) or scalar is not None
    numpy_name = scalar.numpy_name if scalar is not None else ""
    return Transformed(ast.unparse(module), func, parallel, prange, changed, numpy_name)


def widest_float_arrays(pyfunc: Callable[..., Any], args: tuple[Any, ...]) -> frozenset[str]:
    """Array arguments whose dtype is float64 or complex128: an element of theirs can
    live in a local variable with the same rounding (see ``autotune.loops._promote``)."""
    import numpy as np

    names = inspect.signature(pyfunc).parameters
    return frozenset(
        name
        for name, arg in zip(names, args, strict=False)
        if isinstance(arg, np.ndarray) and arg.dtype in (np.float64, np.complex128)
    )


def compile_transformed(
    pyfunc: Callable[..., Any], transformed: Transformed, params: Mapping[str, Any]
) -> Callable[..., Any]:
    """A Python function built from ``transformed.source`` with ``pyfunc``'s globals,
    ``params`` as extra globals and ``numba.prange`` bound where the source uses it.

    Raises ValueError when the kernel's module rebinds ``min``, ``max`` or ``range``,
    which the generated loop bounds use as the builtins.
    """
    import builtins

    import numba

    for name in ("min", "max", "range"):
        bound = pyfunc.__globals__.get(name, getattr(builtins, name))
        if bound is not getattr(builtins, name):
            raise ValueError(f"the kernel's module rebinds {name}(), which loop bounds need")
    scope = dict(pyfunc.__globals__)
    scope.update(params)
    scope[transformed.prange_name] = numba.prange
    if transformed.numpy_name:
        import numpy

        scope[transformed.numpy_name] = numpy
    code = compile(transformed.source, f"<autotune loops: {pyfunc.__name__}>", "exec")
    exec(code, scope)
    func = scope[pyfunc.__name__]
    func.__module__ = pyfunc.__module__
    func.__qualname__ = pyfunc.__qualname__
    func.__defaults__ = pyfunc.__defaults__
    func.__kwdefaults__ = pyfunc.__kwdefaults__
    return func
