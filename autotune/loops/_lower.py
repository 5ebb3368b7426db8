"""Lowering scheduled bands back to Python source that Numba compiles as usual.

Statements keep their own AST; loop variables are substituted by what they are in the
new coordinates (``x = T^-1 y``, negated for a loop that counts down, plus the copy
offset under unroll-and-jam). Loop bounds come from :mod:`autotune.loops._bounds`.
Innermost loops then get their invariant array elements kept in local variables
(:mod:`autotune.loops._promote`), which LLVM cannot do itself when it cannot prove that
Numba's arrays do not overlap.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from autotune.loops._affine import Affine, NotAffine, from_ast, to_ast
from autotune.loops._bounds import Bound, LoopBounds, inverse, tile_bounds, y_name
from autotune.loops._ir import Loop, Node, Stmt
from autotune.loops._promote import promote_innermost
from autotune.loops._schedule import Band, band_bounds, new_domain


class NameGen:
    """Fresh names that collide with nothing the function already uses."""

    def __init__(self, used: frozenset[str] | set[str]) -> None:
        self._used = set(used)

    def fresh(self, base: str) -> str:
        name, n = base, 1
        while name in self._used:
            name = f"{base}{n}"
            n += 1
        self._used.add(name)
        return name


@dataclass
class Lowering:
    """State of one nest's lowering."""

    bands: Mapping[int, Band]  # by the id of the band's outermost loop
    names: NameGen
    prange: str
    writable: frozenset[str] = frozenset()  # arrays whose elements may live in locals
    subst: dict[str, Affine] = field(default_factory=dict)
    in_parallel: bool = False
    used_prange: bool = False


def lower_nodes(nodes: Sequence[Node], state: Lowering) -> list[ast.stmt]:
    out: list[ast.stmt] = []
    for node in nodes:
        if isinstance(node, Stmt):
            out.append(_substituted(node.node, state.subst))
        else:
            out.extend(lower_band(state.bands[node.id], state))
    return out


class _Substitute(ast.NodeTransformer):
    def __init__(self, mapping: Mapping[str, Affine]) -> None:
        self.mapping = mapping

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if isinstance(node.ctx, ast.Load) and node.id in self.mapping:
            expr = self.mapping[node.id]
            if expr == Affine.var(node.id):
                return node
            return to_ast(expr)
        return node


def _substituted(node: ast.stmt, mapping: Mapping[str, Affine]) -> ast.stmt:
    return _Substitute(mapping).visit(copy.deepcopy(node))


def render(expr: Affine, subst: Mapping[str, Affine]) -> ast.expr:
    return to_ast(expr.substitute(subst))


def _bound_ast(bound: Bound, lower: bool, subst: Mapping[str, Affine]) -> ast.expr:
    expr = bound.expr.substitute(subst)
    if bound.div == 1:
        return to_ast(expr)
    if lower:  # ceil(e / d) == -((-e) // d)
        inner = ast.BinOp(to_ast(-expr), ast.FloorDiv(), ast.Constant(bound.div))
        return ast.UnaryOp(ast.USub(), inner)
    return ast.BinOp(to_ast(expr), ast.FloorDiv(), ast.Constant(bound.div))


def _exclusive(bound: Bound, subst: Mapping[str, Affine]) -> ast.expr:
    """One past an upper bound."""
    if bound.div == 1:
        return to_ast(bound.expr.substitute(subst) + 1)
    return _plus(_bound_ast(bound, False, subst), 1)


def _combine(func: str, args: list[ast.expr]) -> ast.expr:
    if len(args) == 1:
        return args[0]
    return ast.Call(ast.Name(func, ast.Load()), args, [])


def _plus(node: ast.expr, k: int) -> ast.expr:
    if k == 0:
        return node
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return ast.Constant(node.value + k)
    return ast.BinOp(node, ast.Add() if k > 0 else ast.Sub(), ast.Constant(abs(k)))


def _for(var: str, args: list[ast.expr], body: list[ast.stmt], func: str = "range") -> ast.For:
    if len(args) == 2 and isinstance(args[0], ast.Constant) and args[0].value == 0:
        args = args[1:]
    call = ast.Call(ast.Name(func, ast.Load()), args, [])
    return ast.For(ast.Name(var, ast.Store()), call, body or [ast.Pass()], [])


def _assign(name: str, value: ast.expr) -> ast.Assign:
    return ast.Assign([ast.Name(name, ast.Store())], value, lineno=0)


# --- one band ---------------------------------------------------------------------------


def lower_band(band: Band, state: Lowering) -> list[ast.stmt]:
    if band.schedule.is_identity:
        return _lower_original(band, state)
    return _BandLowering(band, state).emit()


def _lower_original(band: Band, state: Lowering) -> list[ast.stmt]:
    inner = lower_nodes(band.loops[-1].body, state)
    innermost = _original_for(band.loops[-1], inner, state)
    loops: list[ast.stmt] = [innermost]
    if band.leaf:
        loops = _innermost(innermost, state)
    for loop in reversed(band.loops[:-1]):
        loops = [_original_for(loop, loops, state)]
    return loops


def _innermost(loop: ast.For, state: Lowering) -> list[ast.stmt]:
    """An innermost loop counted from zero, with invariant elements kept in locals."""
    *before, counted = _counted(loop, state.names)
    assert isinstance(counted, ast.For)
    return [*before, *promote_innermost(counted, state.names.fresh, state.writable)]


def _counted(loop: ast.For, names: NameGen) -> list[ast.stmt]:
    """``loop`` over a count from zero when its start is not a constant >= 0.

    Numba wraps negative indices around, so LLVM vectorizes an inner loop only when it
    can prove its indices non-negative, which it fails to do for a variable start (a
    tiled stencil ran 8x slower); ``v = start + k`` with ``k`` from zero keeps the proof.
    """
    call = loop.iter
    assert isinstance(call, ast.Call) and isinstance(loop.target, ast.Name)
    args = list(call.args)
    step = 1
    if len(args) == 3:
        step = -1 if isinstance(args[2], ast.Constant) and args[2].value == -1 else 0
    if len(args) == 1 or step == 0:
        return [loop]
    lo, hi = args[0], args[1]
    if step == 1 and isinstance(lo, ast.Constant) and isinstance(lo.value, int) and lo.value >= 0:
        return [loop]
    var = loop.target.id
    before: list[ast.stmt] = []
    if not isinstance(lo, ast.Name | ast.Constant):
        start = names.fresh(f"{var}_lo")
        before.append(_assign(start, lo))
        lo = ast.Name(start, ast.Load())
    k = names.fresh(f"{var}_k")
    op: ast.operator = ast.Add() if step == 1 else ast.Sub()
    count = ast.BinOp(hi, ast.Sub(), lo) if step == 1 else ast.BinOp(lo, ast.Sub(), hi)
    head = _assign(var, ast.BinOp(copy.deepcopy(lo), op, ast.Name(k, ast.Load())))
    return [*before, _for(k, [count], [head, *loop.body])]


def _original_for(loop: Loop, body: list[ast.stmt], state: Lowering) -> ast.For:
    args = [render(loop.lower, state.subst), render(loop.upper, state.subst)]
    if loop.step != 1:
        args.append(ast.Constant(loop.step))
    return _for(loop.var, args, body)


@dataclass
class _Spec:
    """One emitted loop: ``var`` over ``[lo, hi)`` (or downwards), maybe parallel."""

    var: str
    lo: ast.expr
    hi: ast.expr
    step: int = 1
    parallel: bool = False
    unroll: int = 1
    position: int = -1


class _BandLowering:
    def __init__(self, band: Band, state: Lowering) -> None:
        self.band = band
        self.state = state
        self.sched = band.schedule
        bounds = band_bounds(band)
        if isinstance(bounds, str):
            raise ValueError(f"band {band.index}: {bounds}")
        self.bounds: list[LoopBounds] = bounds
        self.inverse = inverse(self.sched.matrix)
        self.parallel = self.sched.parallel if not state.in_parallel else None
        self.y: dict[str, Affine] = {}  # %y_k -> emitted expression
        self.descending: set[int] = set()
        self.pre: list[ast.stmt] = []  # temporaries computed before the band
        self._name_loops()

    def _name_loops(self) -> None:
        sched, band = self.sched, self.band
        unrolled = sched.unroll[0] if sched.unroll is not None else None
        for k, row in enumerate(sched.matrix):
            plain = [j for j, v in enumerate(row) if v]
            free = k not in sched.tiled and k not in (self.parallel, unrolled)
            # the coefficient of the loop variable itself (a coordinate may be minus it)
            coeff = row[plain[0]] * band.sign(plain[0]) if len(plain) == 1 else 0
            if coeff == 1:
                self.y[y_name(k)] = Affine.var(band.vars[plain[0]])
            elif coeff == -1 and free:
                self.y[y_name(k)] = Affine.var(band.vars[plain[0]], -1)
                self.descending.add(k)
            else:
                self.y[y_name(k)] = Affine.var(self.state.names.fresh(f"{sched.names[k]}_s"))

    def _subst(self, offset: int = 0) -> dict[str, Affine]:
        """Original variables in emitted terms (``offset`` added to the jammed loop)."""
        ys = dict(self.y)
        if offset and self.sched.unroll is not None:
            p = self.sched.unroll[0]
            ys[y_name(p)] = ys[y_name(p)] + offset
        out = dict(self.state.subst)
        for j, x in enumerate(self.band.vars):
            expr = sum(
                (ys[y_name(k)].scale(c) for k, c in enumerate(self.inverse[j]) if c), Affine()
            )
            out[x] = expr.scale(self.band.sign(j))
        return out

    def _var(self, k: int) -> str:
        ((name, _),) = self.y[y_name(k)].terms
        return name

    def _range(
        self, bounds: LoopBounds, extra_lo: list[ast.expr], extra_hi: list[ast.expr]
    ) -> tuple[ast.expr, ast.expr]:
        """``[lo, hi)`` of a loop; ``extra_hi`` are exclusive already."""
        subst = {**self.state.subst, **self.y}
        lows = [_bound_ast(b, True, subst) for b in bounds.lowers] + extra_lo
        highs = [_exclusive(b, subst) for b in bounds.uppers] + extra_hi
        return _combine("max", lows), _combine("min", highs)

    def specs(self) -> list[_Spec]:
        sched = self.sched
        first = sched.first_tiled
        out = [self._point(k) for k in range(first)]
        tile_vars = {}
        for k in sched.tiled:
            var = self.state.names.fresh(f"{sched.names[k]}_t")
            tile_vars[k] = var
            rows = new_domain(self.band)
            lo, hi = self._range(tile_bounds(rows, first, k, self.band.depth), [], [])
            out.append(_Spec(var, lo, hi, sched.tiles[k], k == self.parallel, position=k))
        for k in range(first, self.band.depth):
            out.append(self._point(k, tile_vars.get(k)))
        return out

    def _point(self, k: int, tile_var: str | None = None) -> _Spec:
        extra_lo: list[ast.expr] = []
        extra_hi: list[ast.expr] = []
        if tile_var is not None:
            size = self.sched.tiles[k]
            extra_lo = [ast.Name(tile_var, ast.Load())]
            extra_hi = [_plus(ast.Name(tile_var, ast.Load()), size)]
        lo, hi = self._range(self.bounds[k], extra_lo, extra_hi)
        unroll = self.sched.unroll[1] if self.sched.unroll and self.sched.unroll[0] == k else 1
        parallel = k == self.parallel and tile_var is None
        if k in self.descending:  # x = -y runs from -lo down to -(hi - 1)
            return _Spec(self._var(k), _negate(lo), _negate(hi), -1, position=k)
        return _Spec(self._var(k), lo, hi, 1, parallel, unroll, k)

    def emit(self) -> list[ast.stmt]:
        specs = self.specs()
        body = self._nest(specs, 0, 1)
        return self.pre + body

    def _nest(self, specs: list[_Spec], level: int, copies: int) -> list[ast.stmt]:
        if level == len(specs):
            return self._body(copies)
        spec = specs[level]
        if spec.unroll > 1:
            return self._jammed(specs, level)
        inner = self._nest(specs, level + 1, copies)
        loop = self._loop(spec, inner)
        if level == len(specs) - 1 and self.band.leaf and not spec.parallel:
            (single,) = loop
            assert isinstance(single, ast.For)
            return _innermost(single, self.state)
        return loop

    def _loop(self, spec: _Spec, body: list[ast.stmt]) -> list[ast.stmt]:
        if spec.step == -1:
            return [_for(spec.var, [spec.lo, spec.hi, ast.Constant(-1)], body)]
        if not spec.parallel:
            args = [spec.lo, spec.hi] + ([ast.Constant(spec.step)] if spec.step != 1 else [])
            return [_for(spec.var, args, body)]
        self.state.used_prange = True
        if spec.step == 1:
            return [_for(spec.var, [spec.lo, spec.hi], body, self.state.prange)]
        # prange only takes unit steps: count the tiles instead
        start = self.state.names.fresh(f"{spec.var}_lo")
        count = self.state.names.fresh(f"{spec.var}_n")
        n_tiles = ast.BinOp(
            _plus(ast.BinOp(spec.hi, ast.Sub(), ast.Name(start, ast.Load())), spec.step - 1),
            ast.FloorDiv(),
            ast.Constant(spec.step),
        )
        offset = ast.BinOp(ast.Name(count, ast.Load()), ast.Mult(), ast.Constant(spec.step))
        head = _assign(spec.var, ast.BinOp(ast.Name(start, ast.Load()), ast.Add(), offset))
        loop = _for(count, [n_tiles], [head, *body], self.state.prange)
        return [_assign(start, spec.lo), loop]

    def _jammed(self, specs: list[_Spec], level: int) -> list[ast.stmt]:
        spec = specs[level]
        u = spec.unroll
        lo = self.state.names.fresh(f"{spec.var}_lo")
        hi = self.state.names.fresh(f"{spec.var}_hi")
        mid = self.state.names.fresh(f"{spec.var}_mid")
        span = ast.Call(
            ast.Name("max", ast.Load()),
            [
                ast.Constant(0),
                ast.BinOp(ast.Name(hi, ast.Load()), ast.Sub(), ast.Name(lo, ast.Load())),
            ],
            [],
        )
        blocks = ast.BinOp(
            ast.BinOp(span, ast.FloorDiv(), ast.Constant(u)), ast.Mult(), ast.Constant(u)
        )
        main = _for(
            spec.var,
            [ast.Name(lo, ast.Load()), ast.Name(mid, ast.Load()), ast.Constant(u)],
            self._nest(specs, level + 1, u),
        )
        rest = _for(
            spec.var,
            [ast.Name(mid, ast.Load()), ast.Name(hi, ast.Load())],
            self._nest(specs, level + 1, 1),
        )
        return [
            _assign(lo, spec.lo),
            _assign(hi, spec.hi),
            _assign(mid, ast.BinOp(ast.Name(lo, ast.Load()), ast.Add(), blocks)),
            main,
            rest,
        ]

    def _body(self, copies: int) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        parallel = self.state.in_parallel or self.parallel is not None
        for r in range(copies):
            inner = replace(self.state, subst=self._subst(r), in_parallel=parallel)
            out.extend(lower_nodes(self.band.loops[-1].body, inner))
            self.state.used_prange = self.state.used_prange or inner.used_prange
        return out


def _negate(node: ast.expr) -> ast.expr:
    try:
        return to_ast(-from_ast(node))  # ``n - 1`` rather than ``-(-n + 1)``
    except NotAffine:  # min/max or a floor division
        return ast.UnaryOp(ast.USub(), node)
