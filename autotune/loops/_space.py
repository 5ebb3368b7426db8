"""Loop transformations as search-space dimensions, and configs read back as choices.

Per band of each transformable nest (prefix ``loops.n<statement>.b<band>.``):

* ``enable``: ``none`` or ``permutable`` (reverse/skew first), offered only when that
  makes a difference; ``order`` / ``order_permutable``: the legal loop orders under each;
* ``tile`` (loops but the innermost) and ``tile_inner`` (the innermost, active with
  ``tile``); ``unroll`` (unroll-and-jam of the loop around the innermost);
* ``parallel`` (prange on the outermost legal loop), active while ``loops.parallel`` is
  on; ``loops.threads`` is then the thread count.

Every default is the untransformed code, so the default config is still Numba's own
build. A dimension is offered only when some value other than its default is legal in
some reachable schedule, and a constraint rejects every illegal combination before
anything is built (with the reason), so no strategy ever proposes one for measuring.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from autotune.loops._kernel import BandChoice, LoopAnalysis, Ranks, analyze, apply_choice
from autotune.loops._schedule import Band, Illegal, is_fully_permutable, make_permutable
from autotune.loops._stride import carried_alone, innermost_cost, memory_order
from autotune.params import Bool, Choice
from autotune.space import Condition, SearchSpace

PREFIX = "loops."
MODES = ("off", "serial", "parallel")
TILE_SIZES = (0, 16, 32, 64, 128)
INNER_TILE_SIZES = (0, 128, 512)
UNROLL_FACTORS = (1, 2, 4)
#: Bands deeper than this offer no interchange (too many orders to check).
MAX_ORDER_DEPTH = 4
PARALLEL = PREFIX + "parallel"
THREADS = PREFIX + "threads"
#: Whether the kernel's array statements are scalarized (rewritten as loops).
SCALARIZE = PREFIX + "scalarize"
_KEY = re.compile(r"^loops\.n(\d+)\.b(\d+)\.(\w+)$")
_FUSE = re.compile(r"^loops\.n(\d+)\.fuse$")


def thread_counts(cpus: int | None = None) -> tuple[int, ...]:
    """Thread counts worth trying, most first: all cores, then halvings down to 2."""
    cpus = cpus or os.cpu_count() or 1
    counts = {cpus}
    n = cpus
    while n > 2:
        n //= 2
        counts.add(max(n, 2))
    return tuple(sorted((c for c in counts if c >= 2), reverse=True))


def add_loop_dimensions(
    space: SearchSpace,
    pyfunc: Callable[..., Any],
    mode: str,
    reassociate: bool = False,
    threads: tuple[int, ...] | None = None,
    ranks: Ranks = (),
) -> None:
    """Add the loop-transformation dimensions of ``pyfunc`` to ``space`` (``ranks``:
    see :func:`autotune.loops.analyze`)."""
    if mode not in MODES:
        raise ValueError(f"loops mode must be one of {MODES}, got {mode!r}")
    if mode == "off":
        return
    analysis = analyze(pyfunc, reassociate, ranks)
    threads = thread_counts() if threads is None else threads
    parallel = mode == "parallel" and bool(threads)
    offered = [
        (index, band, _options(band, parallel))
        for index, plan in sorted(analysis.plans.items())
        for band in plan.bands
    ]
    rewritten = analysis.kernel.rewritten
    if rewritten:
        space.add(SCALARIZE, Bool(False))
        space.add_landmark({SCALARIZE: True})  # dropping temporaries alone often pays
    if parallel and any(o.parallel for _, _, o in offered):
        space.add(PARALLEL, Bool(False))
        space.add(THREADS, Choice(threads), Condition(PARALLEL, (True,)))
    fusible = [i for i, plan in sorted(analysis.plans.items()) if plan.fused is not None]
    for index in fusible:
        gate = Condition(SCALARIZE, (True,)) if index in rewritten else None
        space.add(fuse_key(index), Bool(False), gate)
    for index, band, options in offered:
        gate = _band_gate(analysis, index)
        _add_band(space, band_prefix(index, band.index), band, options, gate)
    if offered or fusible:
        space.add_constraint("legal loop transformations", _legality(analysis))
    for landmark in _memory_order_landmarks(analysis, offered):
        space.add_landmark(landmark)


def _memory_order_landmarks(
    analysis: LoopAnalysis, offered: list[tuple[int, Band, _Offer]]
) -> list[dict[str, Any]]:
    """Landmarks that put each band in its memory order (the stride-1 loop innermost,
    :func:`autotune.loops._stride.memory_order`), and in the memory order that also
    keeps recurrences out of the innermost loop where that differs, wherever such an
    order is legal and not the written one. Scalarized nests go in a landmark of their
    own with the kernel scalarized."""
    out: list[dict[str, Any]] = []
    for recurrences in (False, True):
        written: dict[str, Any] = {}
        scalarized: dict[str, Any] = {}
        for index, band, offer in offered:
            order = _legal_memory_order(band, offer, recurrences)
            if order is not None:
                key = band_prefix(index, band.index) + "order"
                (scalarized if index in analysis.kernel.rewritten else written)[key] = order
        for landmark in ([written] if written else []) + (
            [{SCALARIZE: True, **written, **scalarized}] if scalarized else []
        ):
            if landmark not in out:
                out.append(landmark)
    return out


def _legal_memory_order(band: Band, offer: _Offer, recurrences: bool) -> str | None:
    """The legal order nearest the band's memory order with its innermost loop, or
    ``None`` when that is the written order or no legal order has it innermost."""
    if len(offer.orders) < 2:
        return None
    wanted = memory_order(band, recurrences)
    same_inner = [o for o in offer.orders if o.rsplit(",", 1)[-1] == wanted[-1]]
    if not same_inner:
        return None
    # Nearest: most loops at the memory order's positions; ties to the first legal order.
    best = max(
        same_inner, key=lambda o: sum(a == b for a, b in zip(o.split(","), wanted, strict=True))
    )
    return None if best == offer.orders[0] else best


def order_facts(band: Band) -> dict[str, float]:
    """What each loop of ``band`` would cost its references as the innermost one
    (``cost:<var>``, :func:`autotune.loops._stride.innermost_cost`) and how many of the
    band's dependences it carries alone (``carried:<var>``): the facts a cost model
    needs to tell a stride-1 innermost loop from a strided one in any program."""
    facts: dict[str, float] = {}
    for var in band.vars:
        facts[f"cost:{var}"] = innermost_cost(band, var)
        facts[f"carried:{var}"] = float(carried_alone(band, var))
    return facts


def fuse_key(nest: int) -> str:
    """The config key that fuses the sibling loops of nest ``nest``."""
    return f"{PREFIX}n{nest}.fuse"


def _band_gate(analysis: LoopAnalysis, index: int) -> Condition | None:
    """On what the bands of nest ``index`` exist: not fused, and scalarized when only
    the scalarized kernel has the nest."""
    if analysis.plans[index].fused is not None:
        return Condition(fuse_key(index), (False,))
    if index in analysis.kernel.rewritten:
        return Condition(SCALARIZE, (True,))
    return None


def band_name(nest: int, band: int) -> str:
    """How config keys, ``explain`` and legality reasons name band ``band`` of the nest
    that is top-level statement ``nest`` of the kernel: ``n2.b1``."""
    return f"n{nest}.b{band}"


def band_prefix(nest: int, band: int) -> str:
    """The config-key prefix of a band's dimensions, e.g. ``loops.n2.b1.``."""
    return f"{PREFIX}{band_name(nest, band)}."


def band_config_keys(
    analysis: LoopAnalysis, parallel: bool
) -> dict[tuple[int, int], tuple[str, ...]]:
    """The config keys that :func:`add_loop_dimensions` adds for each band, by (nest,
    band) index: ``--loops parallel`` when ``parallel``, else ``serial``. A band with
    nothing to choose has none. The global ``loops.parallel``/``loops.threads`` are not
    listed."""
    keys = {}
    for index, plan in sorted(analysis.plans.items()):
        for band in plan.bands:
            scratch = SearchSpace()
            if parallel:  # the parent of each band's prange switch
                scratch.add(PARALLEL, Bool(False))
            scratch.add(SCALARIZE, Bool(False))
            if plan.fused is not None:
                scratch.add(fuse_key(index), Bool(False))
            gate = _band_gate(analysis, index)
            offer = _options(band, parallel)
            _add_band(scratch, band_prefix(index, band.index), band, offer, gate)
            keys[(index, band.index)] = tuple(
                n for n in scratch.names if n not in (PARALLEL, SCALARIZE, fuse_key(index))
            )
    return keys


@dataclass(frozen=True, slots=True)
class _Offer:
    """What a band offers; each feature is ``""`` (not offered), ``"any"`` or
    ``"permutable"`` (legal only after the enabling step)."""

    orders: tuple[str, ...]
    permutable: bool
    tile: str
    unroll: str
    parallel: str


def _order_text(order: tuple[str, ...]) -> str:
    return ",".join(order)


def _options(band: Band, parallel: bool) -> _Offer:
    deep = 1 < band.depth <= MAX_ORDER_DEPTH
    orders = list(itertools.permutations(band.vars)) if deep else [band.vars]
    legal = [o for o in orders if isinstance(apply_choice(band, BandChoice(order=o)), Band)]
    permutable = deep and not is_fully_permutable(band) and isinstance(make_permutable(band), Band)
    plain = [BandChoice(order=o) for o in legal]
    skewed = [BandChoice(enable="permutable", order=o) for o in orders] if permutable else []

    def where(**extra: Any) -> str:
        if any(isinstance(apply_choice(band, _with(c, **extra)), Band) for c in plain):
            return "any"
        if any(isinstance(apply_choice(band, _with(c, **extra)), Band) for c in skewed):
            return "permutable"
        return ""

    return _Offer(
        orders=tuple(_order_text(o) for o in legal),
        permutable=permutable,
        tile=where(tile=TILE_SIZES[1]) if band.depth > 1 else "",
        unroll=where(unroll=UNROLL_FACTORS[1]) if band.depth > 1 and band.leaf else "",
        parallel=where(parallel=True) if parallel else "",
    )


def _with(choice: BandChoice, **extra: Any) -> BandChoice:
    fields = {f: getattr(choice, f) for f in BandChoice.__dataclass_fields__}
    return BandChoice(**{**fields, **extra})


def _add_band(
    space: SearchSpace, prefix: str, band: Band, offer: _Offer, gate: Condition | None = None
) -> None:
    """Add a band's dimensions; ``gate`` is the condition on which the band exists at
    all (the scalarized kernel), if any."""
    none_only: Condition | None = gate
    if offer.permutable:
        space.add(prefix + "enable", Choice(("none", "permutable")), gate)
        none_only = Condition(prefix + "enable", ("none",))
        all_orders = tuple(_order_text(o) for o in itertools.permutations(band.vars))
        space.add(
            prefix + "order_permutable",
            Choice(all_orders),
            Condition(prefix + "enable", ("permutable",)),
        )
    if len(offer.orders) > 1:
        space.add(prefix + "order", Choice(offer.orders), none_only)
        space.annotate(prefix + "order", order_facts(band))
    skewed = Condition(prefix + "enable", ("permutable",))
    if offer.tile:
        space.add(prefix + "tile", Choice(TILE_SIZES), skewed if offer.tile != "any" else gate)
        space.add(
            prefix + "tile_inner",
            Choice(INNER_TILE_SIZES),
            Condition(prefix + "tile", TILE_SIZES[1:]),
        )
    if offer.unroll:
        condition = skewed if offer.unroll != "any" else gate
        space.add(prefix + "unroll", Choice(UNROLL_FACTORS), condition)
    if offer.parallel:
        # Legal only after skewing is rare (skewing moves dependences outward); the
        # constraint rejects the other combinations. A gated band hangs off its gate (a
        # condition has one parent), and the constraint ties it to loops.parallel.
        space.add(prefix + "parallel", Bool(False), gate or Condition(PARALLEL, (True,)))


# --- reading configs ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoopOptions:
    """The loop part of a config: choices per (statement index, band index), threads."""

    choices: Mapping[tuple[int, int], BandChoice]
    threads: int | None = None
    scalarize: bool = False
    fused: frozenset[int] = frozenset()  # nests whose sibling loops are fused

    @property
    def is_default(self) -> bool:
        """Whether no band has a choice set and nothing is scalarized. A config with
        choices may still change nothing (orders as written), which
        ``transformed_source(...).changed`` tells."""
        return (
            not self.scalarize
            and not self.fused
            and all(c.is_default for c in self.choices.values())
        )

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> LoopOptions:
        fields: dict[tuple[int, int], dict[str, Any]] = {}
        for key, value in config.items():
            match = _KEY.match(key)
            if match is None:
                continue
            n, b, name = int(match.group(1)), int(match.group(2)), match.group(3)
            fields.setdefault((n, b), {})[name] = value
        choices = {key: _choice(values) for key, values in fields.items()}
        threads = config.get(THREADS) if config.get(PARALLEL) else None
        fused = frozenset(
            int(m.group(1)) for key, on in config.items() if on and (m := _FUSE.match(key))
        )
        return cls(choices, threads, bool(config.get(SCALARIZE, False)), fused)


def _choice(values: Mapping[str, Any]) -> BandChoice:
    enable = str(values.get("enable", "none"))
    order_text = values.get("order_permutable" if enable == "permutable" else "order")
    return BandChoice(
        enable=enable,
        order=tuple(order_text.split(",")) if order_text else None,
        tile=int(values.get("tile", 0)),
        tile_inner=int(values.get("tile_inner", 0)) if values.get("tile", 0) else 0,
        unroll=int(values.get("unroll", 1)),
        parallel=bool(values.get("parallel", False)),
    )


def _legality(analysis: LoopAnalysis) -> Callable[[Mapping[str, Any]], bool | str]:
    def check(config: Mapping[str, Any]) -> bool | str:
        options = LoopOptions.from_config(config)
        any_parallel = False
        for index in sorted(options.fused):
            if index in analysis.kernel.rewritten and not options.scalarize:
                return f"nest n{index} exists only in the scalarized kernel ({SCALARIZE})"
            if any(n == index for n, _ in options.choices):
                return f"nest n{index} is fused; its bands run as they are"
        for (index, b), choice in sorted(options.choices.items()):
            band = analysis.plans[index].bands[b]
            name = band_name(index, b)
            if index in analysis.kernel.rewritten and not options.scalarize:
                return f"band {name} exists only in the scalarized kernel ({SCALARIZE})"
            if choice.parallel and not config.get(PARALLEL):
                return f"band {name} runs in parallel but {PARALLEL} is off"
            if choice.enable == "permutable" and not (
                choice.tile or (choice.order and choice.order != band.vars)
            ):
                return f"band {name}: skewing without interchange or tiling changes nothing"
            result = apply_choice(band, choice)
            if isinstance(result, Illegal):
                line = analysis.plans[index].nest.line
                return f"band {name} (nest at line {line}): {result.reason}"
            any_parallel = any_parallel or choice.parallel
            nested = _nested_parallel(analysis, index, b, options)
            if choice.parallel and nested:
                return nested
        if config.get(PARALLEL) and not any_parallel:
            return "loops.parallel is on but no band runs in parallel"
        return True

    return check


def _nested_parallel(
    analysis: LoopAnalysis, index: int, b: int, options: LoopOptions
) -> str | None:
    """Why band ``b`` may not run in parallel: an enclosing band already does."""
    band = analysis.plans[index].bands[b]
    outer = {loop.id for loop in band.context}
    for other in analysis.plans[index].bands:
        choice = options.choices.get((index, other.index))
        if choice and choice.parallel and other.loops[0].id in outer:
            inner, outer_name = band_name(index, b), band_name(index, other.index)
            return f"band {inner} runs inside band {outer_name}, which already uses prange"
    return None
