"""Which transformations are legal for each band of a kernel, and why the others are not."""

from __future__ import annotations

import ast
import itertools
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from autotune.loops._ir import Loop, Nest, Node, Untransformable, walk
from autotune.loops._kernel import LoopAnalysis, Ranks, analyze
from autotune.loops._scalarize import ArrayStatement
from autotune.loops._schedule import (
    Band,
    Illegal,
    is_fully_permutable,
    make_permutable,
    parallelize,
    permute,
    tile,
    unroll_and_jam,
)
from autotune.loops._space import add_loop_dimensions, band_config_keys, band_name
from autotune.loops._stride import memory_order
from autotune.space import SearchSpace

#: Bands deeper than this list a sample of orders, not all of them.
MAX_LISTED_ORDERS = 24

ASSUMPTION = (
    "distinct array arguments are assumed not to overlap in memory; every candidate is "
    "still verified against the reference"
)


SLICE_ASSUMPTION = (
    "the slices of one statement have the extents NumPy would broadcast, and slice bounds "
    "that involve sizes or arguments are not negative"
)


@dataclass(frozen=True, slots=True)
class Verdict:
    transform: str
    legal: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class BandReport:
    """One band. ``name`` is the band's config-key stem (``n2.b1``: band 1 of the nest
    that is top-level statement 2); ``keys`` are the config keys ``--loops serial``
    offers for it and ``parallel_keys`` the ones ``--loops parallel`` adds."""

    band: int
    loops: tuple[str, ...]
    context: tuple[str, ...]
    dependences: tuple[str, ...]
    verdicts: tuple[Verdict, ...]
    name: str = ""
    keys: tuple[str, ...] = ()
    parallel_keys: tuple[str, ...] = ()
    scalar_reduction: bool = False  # a dependence is a reduction into a scalar
    #: The memory order (stride-1 loop innermost) and the one whose innermost loop
    #: carries fewest dependences alone (see autotune.loops._stride), outermost first.
    memory_orders: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True, slots=True)
class NestReport:
    """One top-level statement with loops; ``index`` is its position in the function
    body, which config keys name as ``n<index>``; ``line`` is its line in the file."""

    line: int
    transformable: bool
    reason: str
    bands: tuple[BandReport, ...]
    normalized: bool = False  # accumulators expanded or loops distributed first
    index: int = 0
    scalarized: bool = False  # the nest exists as such only with loops.scalarize on
    fusions: int = 0  # sibling loops that loops.n<index>.fuse merges

    @property
    def name(self) -> str:
        return f"n{self.index}"


@dataclass(frozen=True, slots=True)
class KernelReport:
    kernel: str
    error: str
    nests: tuple[NestReport, ...]
    reassociate: bool
    statements: tuple[ArrayStatement, ...] = ()  # array statements, scalarized or not

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def explain_kernel(
    pyfunc: Callable[..., Any],
    reassociate: bool = False,
    name: str | None = None,
    ranks: Ranks = (),
) -> KernelReport:
    """What can be done to each loop nest of ``pyfunc``, and why not the rest; the
    report is headed ``name`` (the kernel's declared name), else the function's name.
    ``ranks``: see :func:`autotune.loops.analyze`."""
    return explain_analysis(analyze(pyfunc, reassociate, ranks), name)


def explain_analysis(analysis: LoopAnalysis, name: str | None = None) -> KernelReport:
    """The report of an analysed kernel (see :func:`explain_kernel`)."""
    serial_keys = band_config_keys(analysis, parallel=False)
    parallel_keys = band_config_keys(analysis, parallel=True)
    nests = []
    rewritten = analysis.kernel.rewritten
    for entry in analysis.kernel.nests:
        scalar = entry.index in rewritten
        if isinstance(entry, Untransformable):
            nests.append(
                NestReport(
                    entry.line, False, entry.reason, (), index=entry.index, scalarized=scalar
                )
            )
            continue
        assert isinstance(entry, Nest)
        plan = analysis.plans[entry.index]
        bands = []
        for band in plan.bands:
            keys = serial_keys[(entry.index, band.index)]
            extra = tuple(k for k in parallel_keys[(entry.index, band.index)] if k not in keys)
            bands.append(_band_report(band, band_name(entry.index, band.index), keys, extra))
        normalized = _shape(plan.nest.roots) != _shape(plan.normalized.roots)
        fusions = (
            len(_loop_ids(plan.nest.roots)) - len(_loop_ids(plan.fused.roots)) if plan.fused else 0
        )
        nests.append(
            NestReport(entry.line, True, "", tuple(bands), normalized, entry.index, scalar, fusions)
        )
    scalarized = analysis.kernel.scalarized
    return KernelReport(
        name or analysis.kernel.name,
        analysis.kernel.error,
        tuple(nests),
        analysis.reassociate,
        scalarized.statements if scalarized else (),
    )


def _loop_ids(nodes: tuple[Node, ...]) -> list[int]:
    return [n.id for n, _ in walk(nodes) if isinstance(n, Loop)]


def _shape(nodes: tuple[Node, ...]) -> tuple[Any, ...]:
    return tuple(
        (n.var, _shape(n.body)) if isinstance(n, Loop) else ast.dump(n.node) for n in nodes
    )


def _band_report(
    band: Band, name: str, keys: tuple[str, ...], parallel_keys: tuple[str, ...]
) -> BandReport:
    verdicts: list[Verdict] = []
    if band.depth > 1:
        verdicts.extend(_orders(band))
        verdicts.append(_verdict("tiling every loop", tile(band, [32] * band.depth)))
        if not is_fully_permutable(band):
            made = make_permutable(band)
            verdicts.append(_enabling(made))
        for var in band.vars[:-1]:
            verdicts.append(_verdict(f"unroll-and-jam {var}", unroll_and_jam(band, var, 2)))
    for var in band.vars:
        verdicts.append(_verdict(f"prange {var}", parallelize(band, var)))
    return BandReport(
        band.index,
        band.vars,
        tuple(loop.var for loop in band.context),
        tuple(d.text for d in band.deps),
        tuple(verdicts),
        name,
        keys,
        parallel_keys,
        any(d.reduction for d in band.deps),
        (memory_order(band), memory_order(band, recurrences=True)) if band.depth > 1 else (),
    )


def _orders(band: Band) -> list[Verdict]:
    out = []
    orders = itertools.islice(itertools.permutations(band.vars), 1, MAX_LISTED_ORDERS + 1)
    for order in orders:
        out.append(_verdict(f"interchange to ({', '.join(order)})", permute(band, order)))
    return out


def _enabling(made: Band | Illegal) -> Verdict:
    what = "skewing/reversal to make the band permutable"
    if isinstance(made, Illegal):
        return Verdict(what, False, made.reason)
    rows = []
    for name, row in zip(made.schedule.names, made.schedule.matrix, strict=True):
        coeffs = [c * made.sign(j) for j, c in enumerate(row)]  # over the loop variables
        terms = [
            f"{c}*{v}" if c not in (1, -1) else ("-" if c < 0 else "") + v
            for c, v in zip(coeffs, made.vars, strict=True)
            if c
        ]
        rows.append(f"{name} -> {' + '.join(terms).replace('+ -', '- ')}")
    return Verdict(what, True, "then any order and tiling is legal: " + "; ".join(rows))


def _verdict(what: str, result: Band | Illegal) -> Verdict:
    if isinstance(result, Illegal):
        return Verdict(what, False, result.reason)
    return Verdict(what, True)


def format_report(report: KernelReport) -> list[str]:
    """Plain text lines for a terminal. Nests and bands carry the names that config
    keys use (``n2``, ``n2.b1``)."""
    lines = [f"kernel {report.kernel}"]
    if report.error:
        return [*lines, f"  not transformable: {report.error}"]
    if not report.nests:
        return [*lines, "  no top-level loop nests", *_statement_lines(report.statements)]
    for nest in report.nests:
        where = f"nest {nest.name} (line {nest.line})"
        if nest.scalarized:
            where += " with its array statements scalarized (loops.scalarize)"
        if not nest.transformable:
            lines.append(f"  {where}: not transformable, because {nest.reason}")
            continue
        how = " (after expanding accumulators and distributing loops)" if nest.normalized else ""
        lines.append(f"  {where}: {len(nest.bands)} band(s){how}")
        if nest.fusions:
            lines.append(
                f"    fusion: loops.{nest.name}.fuse merges {nest.fusions} loop(s) into the "
                "sibling loop before them; a fused nest takes no band choices"
            )
        for band in nest.bands:
            lines.extend(_band_lines(band))
    lines.extend(_statement_lines(report.statements))
    lines.append(f"  assumption: {ASSUMPTION}")
    if any(s.scalarized for s in report.statements):
        lines.append(f"  assumption: {SLICE_ASSUMPTION}")
    reassociated = [b.name for n in report.nests for b in n.bands if b.scalar_reduction]
    if report.reassociate and reassociated:
        lines.append(
            "  reductions into scalars may be reassociated (the kernel allows fastmath): "
            + ", ".join(f"band {name}" for name in reassociated)
        )
    return lines


def _statement_lines(statements: tuple[ArrayStatement, ...]) -> list[str]:
    if not statements:
        return []
    lines = ["  array statements (NumPy slices and array expressions):"]
    for st in statements:
        text = st.text if len(st.text) <= 60 else st.text[:57] + "..."
        if st.scalarized:
            lines.append(f"    line {st.line}: scalarized ({st.how}): {text}")
        else:
            lines.append(f"    line {st.line}: left as written: {text}")
            lines.append(f"      because {st.reason}")
    return lines


def _band_lines(band: BandReport) -> list[str]:
    inside = f" inside ({', '.join(band.context)})" if band.context else ""
    lines = [f"    band {band.name}: loops ({', '.join(band.loops)}){inside}"]
    keys = ", ".join(band.keys)
    extra = ", ".join(band.parallel_keys)
    if keys and extra:
        keys += f"; with --loops parallel also {extra}"
    elif extra:
        keys = f"{extra} (with --loops parallel only)"
    elif not keys:
        keys = "none (nothing to choose)"
    lines.append(f"      config keys: {keys}")
    deps = band.dependences or ("none carried by these loops",)
    lines.extend(f"      dependence: {d}" for d in deps)
    if band.memory_orders:
        memory, inner_free = band.memory_orders
        text = f"({', '.join(memory)})"
        if inner_free != memory:
            text += f"; with fewest recurrences innermost ({', '.join(inner_free)})"
        lines.append(f"      memory order: {text}")
    for v in band.verdicts:
        mark = "legal" if v.legal else "illegal"
        lines.append(f"      {mark:8s}{v.transform}" + (f": {v.reason}" if v.reason else ""))
    return lines


def why_nothing_to_transform(
    pyfunc: Callable[..., Any], reassociate: bool = False, mode: str = "serial", ranks: Ranks = ()
) -> str | None:
    """Why ``--loops mode`` adds no dimension to ``pyfunc``'s search space (which is then
    exactly the compiler-options space), as one phrase with the first reason ``explain``
    gives; ``None`` when it adds some, or when ``mode`` is ``off``. Raises ValueError for
    an unknown mode."""
    space = SearchSpace()
    add_loop_dimensions(space, pyfunc, mode, reassociate, ranks=ranks)
    if mode == "off" or space.names:
        return None
    return _nothing_reason(explain_kernel(pyfunc, reassociate, ranks=ranks), mode == "parallel")


def _nothing_reason(report: KernelReport, parallel: bool) -> str:
    if report.error:
        return f"its loops cannot be analysed ({report.error})"
    if not report.nests:
        return "it has no top-level loop nest"
    first = report.nests[0]
    if all(not n.transformable for n in report.nests):
        return f"no loop nest can be transformed ({_located(first.line, first.reason)})"
    return f"no loop nest has a legal transformation to choose ({_first_reason(first, parallel)})"


def _first_reason(nest: NestReport, parallel: bool) -> str:
    """The first reason ``nest`` offers nothing under ``--loops serial`` (prange does not
    count) or ``parallel``."""
    if not nest.transformable:
        return _located(nest.line, nest.reason)
    for band in nest.bands:
        for v in band.verdicts:
            if not v.legal and (parallel or not v.transform.startswith("prange")):
                return f"line {nest.line}: {v.transform} is illegal: {v.reason}"
    if not parallel and all(len(b.loops) == 1 for b in nest.bands):
        return (
            f"line {nest.line}: only single loops; interchange, tiling and unroll-and-jam "
            "need nested ones"
        )
    return f"line {nest.line}: nothing to choose"


def _located(line: int, reason: str) -> str:
    """``reason`` starting with the line it concerns (``line`` when it names none)."""
    return reason if reason.startswith("line ") else f"line {line}: {reason}"
