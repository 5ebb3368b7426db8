"""Which transformations are legal for each band of a kernel, and why the others are not."""

from __future__ import annotations

import ast
import itertools
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from autotune.loops._ir import Loop, Nest, Node, Untransformable
from autotune.loops._kernel import LoopAnalysis, analyze
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

#: Bands deeper than this list a sample of orders, not all of them.
MAX_LISTED_ORDERS = 24

ASSUMPTION = (
    "distinct array arguments are assumed not to overlap in memory; every candidate is "
    "still verified against the reference"
)


@dataclass(frozen=True, slots=True)
class Verdict:
    transform: str
    legal: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class BandReport:
    band: int
    loops: tuple[str, ...]
    context: tuple[str, ...]
    dependences: tuple[str, ...]
    verdicts: tuple[Verdict, ...]


@dataclass(frozen=True, slots=True)
class NestReport:
    line: int
    transformable: bool
    reason: str
    bands: tuple[BandReport, ...]
    normalized: bool = False  # accumulators expanded or loops distributed first


@dataclass(frozen=True, slots=True)
class KernelReport:
    kernel: str
    error: str
    nests: tuple[NestReport, ...]
    reassociate: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def explain_kernel(pyfunc: Callable[..., Any], reassociate: bool = False) -> KernelReport:
    """What can be done to each loop nest of ``pyfunc``, and why not the rest."""
    return explain_analysis(analyze(pyfunc, reassociate))


def explain_analysis(analysis: LoopAnalysis) -> KernelReport:
    nests = []
    for entry in analysis.kernel.nests:
        if isinstance(entry, Untransformable):
            nests.append(NestReport(entry.line, False, entry.reason, ()))
            continue
        assert isinstance(entry, Nest)
        plan = analysis.plans[entry.index]
        bands = tuple(_band_report(b) for b in plan.bands)
        normalized = _shape(plan.nest.roots) != _shape(plan.normalized.roots)
        nests.append(NestReport(entry.line, True, "", bands, normalized))
    return KernelReport(
        analysis.kernel.name, analysis.kernel.error, tuple(nests), analysis.reassociate
    )


def _shape(nodes: tuple[Node, ...]) -> tuple[Any, ...]:
    return tuple(
        (n.var, _shape(n.body)) if isinstance(n, Loop) else ast.dump(n.node) for n in nodes
    )


def _band_report(band: Band) -> BandReport:
    verdicts: list[Verdict] = []
    if band.depth > 1:
        verdicts.extend(_orders(band))
        verdicts.append(_verdict("tiling every loop", tile(band, [32] * band.depth)))
        if not is_fully_permutable(band):
            made = make_permutable(band)
            verdicts.append(_enabling(made))
        for name in band.vars[:-1]:
            verdicts.append(_verdict(f"unroll-and-jam {name}", unroll_and_jam(band, name, 2)))
    for name in band.vars:
        verdicts.append(_verdict(f"prange {name}", parallelize(band, name)))
    return BandReport(
        band.index,
        band.vars,
        tuple(loop.var for loop in band.context),
        tuple(d.text for d in band.deps),
        tuple(verdicts),
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
        terms = [
            f"{c}*{v}" if c not in (1, -1) else ("-" if c < 0 else "") + v
            for c, v in zip(row, made.vars, strict=True)
            if c
        ]
        rows.append(f"{name} -> {' + '.join(terms).replace('+ -', '- ')}")
    return Verdict(what, True, "then any order and tiling is legal: " + "; ".join(rows))


def _verdict(what: str, result: Band | Illegal) -> Verdict:
    if isinstance(result, Illegal):
        return Verdict(what, False, result.reason)
    return Verdict(what, True)


def format_report(report: KernelReport) -> list[str]:
    """Plain text lines for a terminal."""
    lines = [f"kernel {report.kernel}"]
    if report.error:
        return [*lines, f"  not transformable: {report.error}"]
    if not report.nests:
        return [*lines, "  no top-level loop nests"]
    for nest in report.nests:
        if not nest.transformable:
            lines.append(f"  nest at line {nest.line}: not transformable, because {nest.reason}")
            continue
        how = " (after expanding accumulators and distributing loops)" if nest.normalized else ""
        lines.append(f"  nest at line {nest.line}: {len(nest.bands)} band(s){how}")
        for band in nest.bands:
            inside = f" inside ({', '.join(band.context)})" if band.context else ""
            lines.append(f"    band {band.band}: loops ({', '.join(band.loops)}){inside}")
            deps = band.dependences or ("none carried by these loops",)
            lines.extend(f"      dependence: {d}" for d in deps)
            for v in band.verdicts:
                mark = "legal" if v.legal else "illegal"
                lines.append(
                    f"      {mark:8s}{v.transform}" + (f": {v.reason}" if v.reason else "")
                )
    lines.append(f"  assumption: {ASSUMPTION}")
    if report.reassociate:
        lines.append("  reductions into scalars may be reassociated (the kernel allows fastmath)")
    return lines
