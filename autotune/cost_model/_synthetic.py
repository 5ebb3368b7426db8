"""Synthetic training programs for a cross-program cost model: a seeded generator of
small, valid Numba kernels, each a module that declares one kernel with
``@autotune.kernel``. They are for training only, never for evaluation; their families,
``synthetic-<kind>``, are no hand-written family (see ``_families``).

Kinds (:data:`KINDS`), whose turns alternate:

- ``loopnest``: affine nests of depth 1-3 in a random loop order with rectangular,
  descending or triangular bounds, accumulating (or max-plus, or damped) products of
  arrays read row-wise, transposed or with stride 2, in C or Fortran order, into an
  output directly or through a scalar, sometimes scaled at an outer level.
- ``stencil``: 1-D or 2-D star or box stencils of radius 1-2 in a time loop: Jacobi
  ping-pong, update-then-copy or in-place Gauss-Seidel, in row or column order.
- ``reduction``: sums, dots and maxima of vectors or matrices into a returned scalar,
  or along rows or columns with the reduced loop inside or outside.
- ``elementwise``: chains of 1-3 stages of arithmetic and math functions over 1-D or
  2-D arrays, fused in one loop or one loop per stage through scratch arrays.

Dtypes are float64, float32 and int64 (stencils are float only). Each module has an
input factory ``_inputs(rng, **size)``, sizes ``small`` and ``medium`` (aiming at the
corpus's 0.05-2 ms and 2-20 ms per compiled call), outputs and a tolerance; Numba's
default build of the kernel is its reference. Kernel ``index`` of ``seed`` depends on
nothing else: ``generate(s, 10)[:5] == generate(s, 5)``.

Command line: ``python -m autotune.cost_model._synthetic --seed S --count N --out DIR``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import numpy as np

from autotune.cost_model._families import SYNTHETIC_PREFIX

KINDS = ("loopnest", "stencil", "reduction", "elementwise")
DTYPES = ("float64", "float32", "int64")

# Executions of the innermost statement per call, by size: "check" runs uncompiled in a
# few milliseconds; "small" and "medium" aim at the corpus's times per compiled call.
_WORK = {"check": 300, "small": 150_000, "medium": 3_000_000}

# (rtol, atol) by dtype and by whether long sums make results depend on their order.
# float64: reassociating up to ~1e7 terms stays far below 1e-9, as in the corpus.
# float32: Numba widens float32 by float64 constants and accumulators, NumPy does not.
_TOLERANCE = {
    ("float64", True): ("1e-9", "1e-12"),
    ("float64", False): ("1e-10", "1e-12"),
    ("float32", True): ("1e-3", "1e-5"),
    ("float32", False): ("1e-4", "1e-4"),
    ("int64", True): ("0.0", "0.0"),
    ("int64", False): ("0.0", "0.0"),
}
_LINE = 100  # the longest line a generated module may have (the project's line length)
_IJ = {"i": "n", "j": "m"}  # loop variable -> extent, for stencils, reductions, chains


@dataclass(frozen=True, slots=True)
class SyntheticKernel:
    """A generated kernel: ``source`` is a complete module declaring the kernel ``name``;
    ``check_sizes`` are keyword arguments of its input factory small enough to run the
    kernel uncompiled (a few hundred iterations)."""

    name: str
    family: str
    source: str
    check_sizes: dict[str, int] = field(hash=False)

    @property
    def kind(self) -> str:
        return self.family.removeprefix(SYNTHETIC_PREFIX)

    def write(self, folder: Path) -> Path:
        """Write the module to ``folder/<name>.py`` (creating ``folder``) and return it."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.name}.py"
        path.write_text(self.source, encoding="utf-8")
        return path


def generate(seed: int, count: int) -> list[SyntheticKernel]:
    """``count`` kernels, the same ones for the same ``seed``.

    Raises ValueError for a negative or non-integer ``seed`` or ``count``.
    """
    for label, value in (("seed", seed), ("count", count)):
        if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{label} must be a non-negative integer, got {value!r}")
    return [_kernel(int(seed), index) for index in range(int(count))]


@dataclass
class _Draft:
    """A kernel before rendering. ``args``: (name, its expression in ``_inputs``, or the
    name itself for a size passed through); ``sizes``: check/small/medium -> keywords."""

    variant: str
    summary: str
    dtype: str
    args: list[tuple[str, str]]
    body: list[str]
    outputs: list[int | str]
    sizes: dict[str, dict[str, int]]
    sums: bool = False


def _kernel(seed: int, index: int) -> SyntheticKernel:
    rng = np.random.default_rng([seed, index])
    kind = KINDS[index % len(KINDS)]
    draft = _BUILDERS[kind](rng)
    name = f"syn_s{seed}_{draft.variant}_{index:04d}"
    source = _render(name, f"{kind} kernel {index} of seed {seed}", draft)
    return SyntheticKernel(name, SYNTHETIC_PREFIX + kind, source, draft.sizes["check"])


def _render(name: str, what: str, draft: _Draft) -> str:
    rtol, atol = _TOLERANCE[draft.dtype, draft.sums]
    names = [arg for arg, _ in draft.args]
    code = [
        f"def _inputs(rng, {', '.join(draft.sizes['small'])}):",
        *(f"    {arg} = {expr}" for arg, expr in draft.args if arg != expr),
        f"    return {', '.join(names) if len(names) > 1 else f'({names[0]},)'}",
        "",
        "",
        "@autotune.kernel(",
        "    inputs=_inputs,",
        "    sizes={",
        *(f'        "{s}": {json.dumps(draft.sizes[s])},' for s in ("small", "medium")),
        "    },",
        f"    outputs={json.dumps(draft.outputs)},",
        f"    rtol={rtol},",
        f"    atol={atol},",
        ")",
        f"def {name}({', '.join(names)}):",
        *(f"    {line}" for line in draft.body),
    ]
    about = (
        f"Synthetic {what} ({draft.dtype}): {draft.summary}. Generated by "
        "autotune.cost_model._synthetic to train cost models, never to evaluate them; "
        "Numba's default build of the kernel is its reference."
    )
    imports = "import autotune"
    if any("np." in line for line in code):
        imports = "import numpy as np\n\n" + imports
    # Wrap at spaces outside subscripts, so that ``C[k, j]`` stays on one line.
    about = re.sub(r"\[[^\]]*\]", lambda m: m[0].replace(" ", "\0"), about)
    docstring = textwrap.fill(about, 88).replace("\0", " ")
    return f'"""{docstring}\n"""\n\n{imports}\n\n\n' + "\n".join(code) + "\n"


# ---------------------------------------------------------------- shared pieces


def _pick(rng: np.random.Generator, options: Sequence[str], p: Sequence[float] = ()) -> str:
    return options[int(rng.choice(len(options), p=list(p) if p else None))]


def _array(shape: Sequence[str], dtype: str, fill: str = "random", fortran: bool = False) -> str:
    dims = f"({shape[0]},)" if len(shape) == 1 else f"({', '.join(shape)})"
    if fill == "zeros":
        expr = f"np.zeros({dims}, dtype=np.{dtype})"
    elif dtype == "int64":
        expr = f"rng.integers(0, 10, {dims})"
    elif dtype == "float32":
        expr = f"(rng.random({dims}) + 0.5).astype(np.float32)"
    else:
        expr = f"rng.random({dims}) + 0.5"
    return f"np.asfortranarray({expr})" if fortran and len(shape) > 1 else expr


def _extents(
    rng: np.random.Generator,
    symbols: Sequence[str],
    loops: int,
    cost: Callable[[str], float] = lambda size: 1.0,
    minimum: int = 2,
) -> dict[str, dict[str, int]]:
    """Extents of ``symbols`` by size such that ``loops`` loops over them run the
    innermost statement about ``_WORK[size] / cost(size)`` times."""
    aspect = {s: float(rng.uniform(0.6, 1.6)) for s in dict.fromkeys(symbols)}
    return {
        size: {
            s: max(minimum, round(a * (work / cost(size)) ** (1.0 / loops)))
            for s, a in aspect.items()
        }
        for size, work in _WORK.items()
    }


def _constant(rng: np.random.Generator, dtype: str) -> str:
    if dtype == "int64":
        return str(int(rng.integers(1, 6)))
    return f"{rng.uniform(0.25, 2.0):.2f}"


def _loops(order: Sequence[str], bounds: dict[str, str], depth: int = 0) -> list[str]:
    return [f"{'    ' * (depth + d)}for {v} in range({bounds[v]}):" for d, v in enumerate(order)]


# ---------------------------------------------------------------- loop nests

_VARS = ("i", "j", "k")


@dataclass
class _Ref:
    """An array of a loop nest, indexed by loop variables (times 1 or 2)."""

    array: str
    vars: list[str]
    strides: list[int]
    fortran: bool = False

    def text(self) -> str:
        index = (v if s == 1 else f"{s} * {v}" for v, s in self.indices())
        return f"{self.array}[{', '.join(index)}]"

    def shape(self, symbol: dict[str, str]) -> list[str]:
        return [f"{s} * {symbol[v]}" if s > 1 else symbol[v] for v, s in self.indices()]

    def indices(self) -> list[tuple[str, int]]:
        return list(zip(self.vars, self.strides, strict=True))


@dataclass
class _Nest:
    order: list[str]
    symbol: dict[str, str]
    bounds: dict[str, str]
    triangular: bool


def _loopnest(rng: np.random.Generator) -> _Draft:
    dtype = _pick(rng, DTYPES, (0.5, 0.25, 0.25))
    nest = _nest_bounds(rng, [str(v) for v in rng.permutation(_VARS[: rng.integers(1, 4)])])
    refs = _nest_refs(rng, nest.order)
    out, depth = refs[-1], len(nest.order)
    form = _pick(rng, ("accumulate", "maxplus", "damp"), (0.6, 0.2, 0.2))
    scalar = nest.order[-1] not in out.vars and rng.random() < 0.6
    acc = "s" if scalar else out.text()
    terms = [r.text() for r in refs[:-1]]
    if len(terms) == 1:
        terms.insert(0, _constant(rng, dtype))
    product = " * ".join(terms)
    update = {
        "accumulate": f"{acc} += {product}",
        "maxplus": f"{acc} = max({acc}, {' + '.join(terms)})",
        "damp": f"{acc} = {rng.uniform(0.25, 0.75):.2f} * {acc} + {product}",
    }[form]
    if form == "damp" and dtype == "int64":
        update = f"{acc} = (3 * {acc} + {product}) % 1009"
    shape = "triangular" if nest.triangular else "rectangular"
    via = " through a scalar" if scalar else ""
    return _Draft(
        variant=f"nest{depth}{'tri' if nest.triangular else ''}",
        summary=f"{shape} nest {'-'.join(nest.order)}, {form} into {out.text()}{via}",
        dtype=dtype,
        args=[(r.array, _array(r.shape(nest.symbol), dtype, fortran=r.fortran)) for r in refs],
        body=_extent_lines(refs, nest) + _nest_loops(rng, nest, out, dtype, scalar, update),
        outputs=[len(refs) - 1],
        # Nests of depth 1-2 stream their arrays: fewer iterations keep medium inputs small.
        sizes=_extents(rng, [nest.symbol[v] for v in nest.order], depth, lambda _: 4 - depth),
        sums=form != "maxplus" and any(v not in out.vars for v in nest.order),
    )


def _nest_bounds(rng: np.random.Generator, order: list[str]) -> _Nest:
    """Each loop's extent symbol and ``range`` arguments: a triangular loop shares the
    symbol of the outer loop its bound depends on."""
    symbol = dict(zip(_VARS, ("n", "m", "p"), strict=True))
    bounds: dict[str, str] = {}
    triangular = False
    for level, var in enumerate(order):
        if level and rng.random() < 0.35:
            outer = order[int(rng.integers(level))]
            symbol[var] = symbol[outer]
            bounds[var] = f"{outer} + 1" if rng.random() < 0.5 else f"{outer}, {symbol[var]}"
            triangular = True
        elif rng.random() < 0.15:
            bounds[var] = f"{symbol[var]} - 1, -1, -1"
        else:
            bounds[var] = symbol[var]
    return _Nest(order, symbol, bounds, triangular)


def _nest_refs(rng: np.random.Generator, order: list[str]) -> list[_Ref]:
    """Inputs ``X`` (and ``Y``) and the output ``C``, each of one or two dimensions in a
    random order; ``X`` reads every loop variable that ``C`` is not indexed by."""

    def dims(first: Sequence[str] = ()) -> list[str]:
        count = max(len(first), int(rng.integers(1, min(2, len(order)) + 1)))
        rest = [str(v) for v in rng.permutation([v for v in order if v not in first])]
        return [str(v) for v in rng.permutation([*first, *rest][:count])]

    out_vars = dims()
    x_vars = dims([v for v in order if v not in out_vars])
    y_vars = dims() if rng.random() < 0.7 else []
    refs = []
    for name, vars_ in (("X", x_vars), ("Y", y_vars), ("C", out_vars)):
        if vars_:
            strides = [1 if name == "C" or rng.random() < 0.85 else 2 for _ in vars_]
            refs.append(_Ref(name, vars_, strides, len(vars_) == 2 and rng.random() < 0.2))
    return refs


def _extent_lines(refs: list[_Ref], nest: _Nest) -> list[str]:
    """``n = X.shape[1]`` and the like, from a dimension indexed with stride 1 if any."""
    found: dict[str, str] = {}
    for stride in (1, 2):
        for ref in refs:
            for dim, (var, s) in enumerate(ref.indices()):
                if s == stride and nest.symbol[var] not in found:
                    tail = "" if s == 1 else f" // {s}"
                    found[nest.symbol[var]] = f"{ref.array}.shape[{dim}]{tail}"
    used = dict.fromkeys(nest.symbol[v] for v in nest.order)
    return [f"{s} = {found[s]}" for s in used]


def _nest_loops(
    rng: np.random.Generator, nest: _Nest, out: _Ref, dtype: str, scalar: bool, update: str
) -> list[str]:
    """The loops around ``update``; the accumulator ``s`` is loaded before the innermost
    loop and stored after it, and ``out`` may be scaled where its index is bound."""
    depth = len(nest.order)
    bound_at = max(nest.order.index(v) for v in out.vars)
    scale = bound_at < depth - 1 and rng.random() < 0.3
    lines = []
    for level, header in enumerate(_loops(nest.order, nest.bounds)):
        pad = "    " * level
        if scalar and level == depth - 1:
            lines.append(f"{pad}s = {out.text()}")
        lines.append(header)
        if scale and level == bound_at:
            factor = "// 2" if dtype == "int64" else "* 0.5"
            lines.append(f"{pad}    {out.text()} = {out.text()} {factor}")
    lines.append("    " * depth + update)
    if scalar:
        lines.append("    " * (depth - 1) + f"{out.text()} = s")
    return lines


# ---------------------------------------------------------------- stencils


def _stencil(rng: np.random.Generator) -> _Draft:
    dtype = _pick(rng, ("float64", "float32"), (0.7, 0.3))
    dims, radius = (1 if rng.random() < 0.4 else 2), int(rng.integers(1, 3))
    box = dims == 2 and rng.random() < 0.4
    offsets, weights = _neighbourhood(rng, dims, radius, box)
    mode = _pick(rng, ("pingpong", "copy", "inplace"))
    order = ["i", "j"][:dims] if rng.random() < 0.7 else ["j", "i"][-dims:]
    here = ", ".join(["i", "j"][:dims])
    bounds = {v: f"{radius}, {_IJ[v]} - {radius}" for v in order}

    def sweep(dst: str, src: str) -> list[str]:
        pad = "    " * (dims + 1)
        if src == "B" and mode == "copy":
            return [*_loops(order, bounds, 1), f"{pad}A[{here}] = B[{here}]"]
        terms = [f"{w:.4f} * {src}[{_shifted(o)}]" for w, o in zip(weights, offsets, strict=True)]
        return _loops(order, bounds, 1) + _sum_statement(f"{dst}[{here}]", terms, pad)

    symbols = [_IJ[v] for v in ["i", "j"][:dims]]
    body = [f"{', '.join(symbols)} = A.shape" if dims == 2 else "n = A.shape[0]"]
    body += ["for _ in range(tsteps):", *sweep("A" if mode == "inplace" else "B", "A")]
    args = [("A", _array(symbols, dtype))]
    if mode != "inplace":
        body += sweep("A", "B")
        args.append(("B", "A.copy()"))
    steps = {"check": 2, "small": int(rng.integers(4, 11)), "medium": int(rng.integers(16, 41))}
    cost = len(offsets) / 4 * (1 if mode == "inplace" else 2)
    sizes = _extents(rng, symbols, dims, lambda size: steps[size] * cost, 2 * radius + 2)
    for size, keywords in sizes.items():
        keywords["tsteps"] = steps[size]
    return _Draft(
        variant=f"stencil{dims}d",
        summary=f"{len(offsets)}-point {'box' if box else 'star'} stencil of radius {radius}, "
        f"{mode}, loops {'-'.join(order)}",
        dtype=dtype,
        args=[*args, ("tsteps", "tsteps")],
        body=body,
        outputs=[0, 1] if mode == "pingpong" else [0],
        sizes=sizes,
    )


def _neighbourhood(
    rng: np.random.Generator, dims: int, radius: int, box: bool
) -> tuple[list[tuple[int, ...]], list[float]]:
    """The offsets of a box, or of a star (the centre and the points along each axis),
    and random positive weights summing to 0.99, so values stay bounded over time."""
    offsets = [tuple(int(c) - radius for c in o) for o in np.ndindex(*[2 * radius + 1] * dims)]
    if not box:
        offsets = [o for o in offsets if sum(c != 0 for c in o) <= 1]
    weights = rng.uniform(0.5, 1.5, len(offsets))
    return offsets, [float(w) for w in weights * 0.99 / weights.sum()]


def _shifted(offset: Sequence[int]) -> str:
    """``i - 1, j + 2`` for the offset ``(-1, 2)``."""
    index = zip("ij"[: len(offset)], offset, strict=True)
    return ", ".join(v if c == 0 else f"{v} {'+' if c > 0 else '-'} {abs(c)}" for v, c in index)


def _sum_statement(target: str, terms: Sequence[str], pad: str) -> list[str]:
    """``target = t0 + t1 + ...`` on one line if it fits, else one term per line."""
    line = f"{pad}{target} = {' + '.join(terms)}"
    if len(line) <= _LINE:
        return [line]
    rest = [f"{pad}    + {t}" for t in terms[1:]]
    return [f"{pad}{target} = (", f"{pad}    {terms[0]}", *rest, f"{pad})"]


# ---------------------------------------------------------------- reductions


def _reduction(rng: np.random.Generator) -> _Draft:
    dtype = _pick(rng, DTYPES, (0.45, 0.3, 0.25))
    op = "max" if rng.random() < 0.3 else "sum"
    shape = _pick(rng, ("1d", "2d", "rows", "cols"))
    order = ["i"] if shape == "1d" else ["i", "j"] if rng.random() < 0.5 else ["j", "i"]
    symbols = [_IJ[v] for v in sorted(order)]
    if shape == "1d":
        term = _pick(rng, ("x[i]", "x[i] * x[i]", "x[i] * y[i]", "abs(x[i] - y[i])"))
        args = [(v, _array(["n"], dtype)) for v in "xy" if f"{v}[" in term]
        described = "a vector"
    else:
        term = _pick(rng, ("M[i, j]", "M[i, j] * M[i, j]"))
        args = [("M", _array(["n", "m"], dtype, fortran=rng.random() < 0.3))]
        described = f"{'the matrix' if shape == '2d' else shape}, loops {'-'.join(order)}"
    loops, first = _loops(order, _IJ), term.replace("i", "0").replace("j", "0")
    pad = "    " * len(loops)
    if shape in ("1d", "2d"):
        body = [f"s = {_start(op, dtype, first)}", *loops, f"{pad}{_fold(op, 's', term)}"]
        body.append("return s")
        outputs: list[int | str] = ["return"]
    else:
        keep = "i" if shape == "rows" else "j"
        body = _along_axis(op, dtype, term, keep, inner=order[1])
        args.append(("out", _array([_IJ[keep]], dtype, "zeros")))
        outputs = [1]
    shapes = "n = x.shape[0]" if shape == "1d" else "n, m = M.shape"
    return _Draft(
        variant=f"reduce{shape}",
        summary=f"{op} of {term} over {described}",
        dtype=dtype,
        args=args,
        body=[shapes, *body],
        outputs=outputs,
        sizes=_extents(rng, symbols, len(order), lambda _: 2.0 if shape == "1d" else 1.0),
        sums=op == "sum" and dtype != "int64",
    )


def _fold(op: str, acc: str, term: str) -> str:
    return f"{acc} += {term}" if op == "sum" else f"{acc} = max({acc}, {term})"


def _start(op: str, dtype: str, first: str) -> str:
    """The initial accumulator: zero for a sum, the first term for a maximum."""
    if op == "max":
        return first
    return "0" if dtype == "int64" else "0.0"


def _along_axis(op: str, dtype: str, term: str, keep: str, inner: str) -> list[str]:
    """``out[keep]`` = ``op`` of ``term`` over the other index, whose loop is ``inner``
    (a scalar accumulator) or outer (accumulating in ``out``)."""
    gone = "j" if keep == "i" else "i"
    start = _start(op, dtype, term.replace(gone, "0"))
    if inner == gone:
        return [
            *_loops([keep], _IJ),
            f"    s = {start}",
            *_loops([gone], _IJ, 1),
            f"        {_fold(op, 's', term)}",
            f"    out[{keep}] = s",
        ]
    return [
        *_loops([keep], _IJ),
        f"    out[{keep}] = {start}",
        *_loops([gone, keep], _IJ),
        f"        {_fold(op, f'out[{keep}]', term)}",
    ]


# ---------------------------------------------------------------- elementwise chains

_UNARY = {
    "float": ("np.sqrt(abs({}))", "np.exp(-abs({}))", "np.log1p(abs({}))", "np.sin({})"),
    "int": ("abs({})", "({} % 7)", "({} // 3)"),
}
_BINARY = ("({} + {})", "({} - {})", "({} * {})", "max({}, {})", "min({}, {})")
_DIVIDE = "({} / (1.0 + abs({})))"


def _elementwise(rng: np.random.Generator) -> _Draft:
    dtype = _pick(rng, DTYPES, (0.5, 0.3, 0.2))
    dims = 1 if rng.random() < 0.5 else 2
    symbols, fortran = ["n", "m"][:dims], dims == 2 and rng.random() < 0.25
    inputs = ["x", "y", "z"][: rng.integers(1, 4)]
    stages = int(rng.integers(1, 4))
    fused = stages > 1 and rng.random() < 0.5
    order = ["i", "j"][:dims] if rng.random() < 0.7 else ["j", "i"][-dims:]
    here = ", ".join(["i", "j"][:dims])
    targets = [f"t{s}" for s in range(stages - 1)] + ["out"]
    statements: list[str] = []
    leaves, previous, pad = [f"{v}[{here}]" for v in inputs], "", "    " * dims
    for target in targets:
        stored = target if fused and target != "out" else f"{target}[{here}]"
        statements.append(_stage(rng, stored, leaves, dtype, previous, 4 + len(pad)))
        previous = stored
    if fused:
        body = _loops(order, _IJ) + [pad + s for s in statements]
    else:
        body = [line for s in statements for line in (*_loops(order, _IJ), pad + s)]
    args = [(v, _array(symbols, dtype, fortran=fortran)) for v in inputs]
    scratch = [] if fused else targets[:-1]
    args += [(t, _array(symbols, dtype, "zeros", fortran)) for t in [*scratch, "out"]]
    calls = sum(s.count("np.") for s in statements)  # math functions cost ~10 additions
    chain = "1 stage" if stages == 1 else f"{stages} stages, {'' if fused else 'un'}fused"
    return _Draft(
        variant=f"ew{dims}d",
        summary=f"{chain}, loops {'-'.join(order)}{', Fortran order' if fortran else ''}",
        dtype=dtype,
        args=args,
        body=[f"{', '.join(symbols)} = x.shape" if dims == 2 else "n = x.shape[0]", *body],
        outputs=[len(args) - 1],
        sizes=_extents(rng, symbols, dims, lambda _: len(args) + 10 * calls),
    )


def _stage(
    rng: np.random.Generator, stored: str, leaves: list[str], dtype: str, previous: str, pad: int
) -> str:
    """``stored = expression`` of the ``leaves`` and of the ``previous`` stage's value
    (none for the first stage), kept in range for the stages after it and short enough
    to fit on a line indented by ``pad`` characters."""
    depth = 2 if dtype != "float64" else 3  # int64 products and float32 rounding stay small
    for attempt in range(20):
        operands = [*leaves, previous] if previous else leaves
        expr = _expression(rng, operands, depth if attempt < 10 else 1, dtype)
        if previous and previous not in expr:
            expr = f"({previous} + {expr})"  # a chain: each stage reads the one before
        if dtype == "int64":
            expr = f"({_bare(expr)}) % 1009"
        elif not stored.startswith("out"):  # later stages get values in [-1, 1]
            expr = _pick(rng, ("np.tanh({})", "np.sin({})")).format(_bare(expr))
        if pad + len(f"{stored} = {_bare(expr)}") <= _LINE:
            break
    return f"{stored} = {_bare(expr)}"


def _expression(rng: np.random.Generator, leaves: Sequence[str], depth: int, dtype: str) -> str:
    """A random expression over ``leaves`` and constants, at most ``depth`` operations
    deep; every operation is parenthesized or a call."""
    if depth == 0 or rng.random() < 0.2:
        if rng.random() < 0.15:
            return _constant(rng, dtype)
        return leaves[int(rng.integers(len(leaves)))]
    kind = "int" if dtype == "int64" else "float"
    if rng.random() < 0.3:
        template, operand = _pick(rng, _UNARY[kind]), _expression(rng, leaves, depth - 1, dtype)
        return template.format(operand if template[0] == "(" else _bare(operand))
    a, b = (_expression(rng, leaves, depth - 1, dtype) for _ in range(2))
    if a == b:
        b = _constant(rng, dtype)
    template = _pick(rng, (*_BINARY, _DIVIDE) if kind == "float" else _BINARY)
    if template[0] != "(":  # a call: its arguments need no parentheses
        return template.format(_bare(a), _bare(b))
    return template.format(a, _bare(b) if template == _DIVIDE else b)


def _bare(expr: str) -> str:
    """``expr`` without a pair of parentheses around all of it."""
    if not (expr.startswith("(") and expr.endswith(")")):
        return expr
    depth = 0
    for char in expr[:-1]:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:  # the first parenthesis closes before the end
            return expr
    return expr[1:-1]


_BUILDERS: dict[str, Callable[[np.random.Generator], _Draft]] = {
    "loopnest": _loopnest,
    "stencil": _stencil,
    "reduction": _reduction,
    "elementwise": _elementwise,
}


# ---------------------------------------------------------------- command line


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message}\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Write ``--count`` kernels of ``--seed`` into ``--out``, one module each. Returns
    the exit status: 0, or 2 (after one line on stderr) for bad arguments."""
    parser = _Parser(
        prog="python -m autotune.cost_model._synthetic",
        description="Write seeded synthetic Numba kernels for training cost models.",
    )
    parser.add_argument("--seed", type=int, default=0, help="non-negative (default 0)")
    parser.add_argument("--count", type=int, required=True, help="how many kernels")
    parser.add_argument("--out", type=Path, required=True, help="folder for the modules")
    args = parser.parse_args(argv)
    problem = None
    if args.seed < 0 or args.count < 1:
        problem = f"--seed must be >= 0 and --count >= 1, got {args.seed} and {args.count}"
    elif args.out.exists() and not args.out.is_dir():
        problem = f"--out {args.out} is not a folder"
    else:
        try:
            for kernel in generate(args.seed, args.count):
                kernel.write(args.out)
        except OSError as exc:
            problem = f"cannot write to {args.out}: {exc.strerror or exc}"
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    print(f"wrote {args.count} kernels to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
