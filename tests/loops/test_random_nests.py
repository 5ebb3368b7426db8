"""Random legal transformation sequences on random small affine nests give the same
result as the original program.

Programs compute with integers modulo a prime, so any reordering of dependent updates
shows up as a different value; ``prange`` visits its iterations in a shuffled order, so
a parallel loop that carries a dependence shows up too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autotune.loops import (
    Band,
    Illegal,
    lower_bands,
    make_permutable,
    parallelize,
    permute,
    reverse,
    skew,
    tile,
    unroll_and_jam,
)
from tests.loops._programs import analysis_of, run_source

VARS = ("i", "j", "k")
ARRAYS = ("A", "B", "C")


@st.composite
def subscripts(draw: st.DrawFn, live: tuple[str, ...]) -> str:
    dims = []
    for _ in range(2):
        kind = draw(st.sampled_from(("var", "var", "var", "sum", "const")))
        offset = draw(st.integers(-1, 1)) + 2
        if kind == "const" or not live:
            dims.append(str(offset))
        elif kind == "sum" and len(live) > 1:
            a, b = draw(st.permutations(live))[:2]
            dims.append(f"{a} + {b} + {offset}")
        else:
            dims.append(f"{draw(st.sampled_from(live))} + {offset}")
    return ", ".join(dims)


@st.composite
def statements(draw: st.DrawFn, live: tuple[str, ...]) -> str:
    target = draw(st.sampled_from(ARRAYS))
    source = draw(st.sampled_from(ARRAYS))
    other = draw(st.sampled_from(ARRAYS))
    w, r1, r2 = (draw(subscripts(live)) for _ in range(3))
    c = draw(st.integers(1, 9))
    form = draw(st.sampled_from(("assign", "update")))
    if form == "update":
        return f"{target}[{w}] = ({target}[{w}] * 3 + {source}[{r1}] + {c}) % 1009"
    return f"{target}[{w}] = ({source}[{r1}] * 7 + {other}[{r2}] * 2 + {c}) % 1009"


@st.composite
def loop_header(draw: st.DrawFn, var: str, outer: tuple[str, ...]) -> str:
    lower = draw(st.sampled_from(("0", "1", *outer)))
    upper = draw(st.sampled_from(("n", "n - 1", *(f"{o} + 2" for o in outer))))
    if draw(st.booleans()):  # the same values, counting down
        return f"for {var} in range({upper} - 1, {lower} - 1, -1):"
    return f"for {var} in range({lower}, {upper}):"


@st.composite
def programs(draw: st.DrawFn) -> str:
    depth = draw(st.integers(1, 3))
    lines = ["def kernel(A, B, C, n):"]
    indent = "    "
    for level in range(depth):
        var = VARS[level]
        lines.append(indent + draw(loop_header(var, VARS[:level])))
        indent += "    "
        live = VARS[: level + 1]
        if level < depth - 1 and draw(st.booleans()):
            lines.append(indent + draw(statements(live)))  # an imperfect nest
    if depth >= 2 and draw(st.booleans()):
        lines.append(indent + "s = 0")
        lines.append(indent + f"for q in range({draw(st.sampled_from(('0', '1')))}, n):")
        lines.append(indent + f"    s = s + A[{draw(subscripts(VARS[:depth]))}] * B[q + 2, 2]")
        lines.append(indent + f"C[{draw(subscripts(VARS[:depth]))}] = s % 1009")
    for _ in range(draw(st.integers(1, 2))):
        lines.append(indent + draw(statements(VARS[:depth])))
    return "\n".join(lines) + "\n"


@st.composite
def steps(draw: st.DrawFn) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(("permute", "reverse", "skew", "permutable")))
        out.append((kind, draw(st.randoms(use_true_random=False))))
    if draw(st.booleans()):
        out.append(("tile", draw(st.lists(st.sampled_from((0, 2, 3)), min_size=4, max_size=4))))
    if draw(st.booleans()):
        out.append(("unroll", draw(st.integers(0, 2)), draw(st.integers(2, 3))))
    if draw(st.booleans()):
        out.append(("parallel", draw(st.integers(0, 2))))
    return out


def _apply(band: Band, step: tuple[Any, ...]) -> Band | Illegal:
    kind = step[0]
    names = band.schedule.names
    if kind == "permute":
        order = list(names)
        step[1].shuffle(order)
        return permute(band, order)
    if kind == "reverse":
        return reverse(band, step[1].choice(names))
    if kind == "skew":
        if len(names) < 2:
            return Illegal("one loop")
        a, b = sorted(step[1].sample(range(len(names)), 2))
        return skew(band, names[b], names[a], step[1].choice((1, 2, -1)))
    if kind == "permutable":
        return make_permutable(band)
    if kind == "tile":
        return tile(band, step[1][: band.depth])
    if kind == "unroll":
        return unroll_and_jam(band, names[min(step[1], len(names) - 1)], step[2])
    return parallelize(band, names[min(step[1], len(names) - 1)])


def _inputs(seed: int, n: int) -> tuple[Any, ...]:
    rng = np.random.default_rng(seed)
    size = 2 * n + 8
    arrays = [rng.integers(0, 1009, (size, size)) for _ in ARRAYS]
    return (*arrays, n)


@pytest.mark.slow  # 100 generated programs, each interpreted before and after
@settings(max_examples=100)
@given(programs(), st.lists(steps(), min_size=1, max_size=4), st.integers(0, 3), st.integers(4, 7))
def test_legal_sequences_keep_the_result(
    source: str, band_steps: list[list[tuple[Any, ...]]], seed: int, n: int
) -> None:
    analysis = analysis_of(source)
    (plan,) = analysis.plans.values()
    scheduled = {}
    for band in plan.bands:
        current = band
        for step in band_steps[band.index % len(band_steps)]:
            result = _apply(current, step)
            if isinstance(result, Band):
                current = result
        scheduled[(plan.nest.index, band.index)] = current
    lowered = lower_bands(analysis, scheduled)
    args = _inputs(seed, n)
    want = run_source(source, "kernel", args)
    got = run_source(lowered.source, "kernel", args, lowered.prange_name)
    for w, g in zip(want, got, strict=True):
        assert np.array_equal(w, g), lowered.source
