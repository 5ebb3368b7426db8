"""Scalarization: NumPy slice statements and array expressions rewritten as explicit loops.

``u[i, 1:-1] += 0.25 * (u[i - 1, :-2] + u[i + 1, 1:-1])`` becomes a ``for`` loop over
the written elements, and ``y[i] = (c[i] - M[i, :i] @ y[:i]) / M[i, i]`` first
accumulates the dot product into a fresh scalar. The rewritten statements are then
ordinary affine loop nests that every loop transformation can take, and Numba no
longer allocates a temporary array for each expression.

NumPy's semantics are kept: an assignment reads its whole right-hand side before it
writes. The loop form is used only where a dependence test shows that no element is
read after the loop has written it (reading the loop backwards when that is what it
takes); element reads of the written array are read once, before the loop. Anything
else is left as written, with the reason.

Assumptions, as for the loop-nest IR: distinct array arguments do not share memory;
the slices of one statement have the shapes NumPy would broadcast (equal extents);
slice bounds that involve sizes or arguments are not negative. Every candidate is
verified against the reference, which catches a kernel that breaks them.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from autotune.loops._affine import Affine, NotAffine, from_ast, shape_dim, to_ast

#: Elementwise NumPy functions a scalarized statement may call on elements.
UFUNCS = frozenset(
    {
        "abs", "absolute", "fabs", "sqrt", "exp", "exp2", "expm1", "log", "log2", "log10",
        "log1p", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh",
        "floor", "ceil", "trunc", "sign", "square", "negative", "minimum", "maximum",
        "fmin", "fmax", "power", "hypot", "arctan2", "copysign",
    }
)  # fmt: skip
#: Reductions to a scalar: NumPy function or method name -> accumulation kind.
REDUCTIONS = {"sum": "sum", "dot": "dot", "vdot": "dot", "max": "max", "amax": "max",
              "min": "min", "amin": "min"}  # fmt: skip
_ALLOCATORS = frozenset({"zeros", "empty", "ones", "full", "zeros_like", "empty_like",
                         "ones_like", "full_like"})  # fmt: skip
_NUMPY = frozenset({"np", "numpy"})
_ELEMENTWISE_OPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow)
_BOOLEAN_OPS = (ast.BitAnd, ast.BitOr, ast.BitXor)


class _Leave(Exception):
    """A statement that stays as written; the message says why."""


@dataclass(frozen=True, slots=True)
class ArrayStatement:
    """A statement with array operations, scalarized or left alone.

    ``how`` says what was done (``loops``, ``loops, reversed``, ``reduction``); an empty
    ``how`` means left as written, for ``reason``.
    """

    line: int
    text: str
    top: int  # index of the top-level statement holding it
    how: str = ""
    reason: str = ""

    @property
    def scalarized(self) -> bool:
        return bool(self.how)


@dataclass(frozen=True, slots=True)
class Scalarized:
    """A function with its array statements rewritten as loops.

    ``func`` has exactly the original's top-level statements, each maybe rewritten;
    ``preludes[k]`` holds statements that go right before top-level statement ``k``
    (accumulators of reductions it needs). ``rewritten`` lists the top-level statements
    that changed, ``numpy_name`` the global the rewritten code calls NumPy by.
    """

    func: ast.FunctionDef = field(repr=False, compare=False)
    preludes: dict[int, list[ast.stmt]] = field(repr=False, compare=False)
    rewritten: frozenset[int]
    statements: tuple[ArrayStatement, ...]
    numpy_name: str

    def body(self) -> Iterator[tuple[int, ast.stmt]]:
        """Every top-level statement with its prelude, as (top-level index, statement)."""
        for index, stmt in enumerate(self.func.body):
            for extra in self.preludes.get(index, []):
                yield index, extra
            yield index, stmt


def scalarize(func: ast.FunctionDef, ranks: Mapping[str, int] | None = None) -> Scalarized:
    """``func`` (not modified) with every array statement that can be rewritten as
    explicit loops rewritten; see the module docstring for what is kept.

    ``ranks`` gives the number of dimensions of arguments (0 for scalars) where the
    arguments are known; otherwise ranks are read from how the code subscripts names,
    and a parameter it never subscripts is taken for a scalar.
    """
    new = copy.deepcopy(func)
    inlined = _inline_views(new)
    known = _known_ranks(new, ranks or {})
    inlined += _inline_temporaries(new, _array_names(new, known)[0], known)
    rewriter = _Rewriter(new, ranks or {})
    rewriter.notes.extend(inlined)
    preludes: dict[int, list[ast.stmt]] = {}
    rewritten = set()
    body: list[ast.stmt] = []
    for index, stmt in enumerate(new.body):
        rewriter.top = index
        rewriter.top_stored = _stored_names(stmt)
        rewriter.hoisted = []
        before = ast.dump(stmt)
        out = rewriter.block([stmt], {})
        out = [*rewriter.hoisted, *out]
        if len(out) > 1:
            preludes[index] = out[:-1]
        body.append(out[-1])
        if len(out) > 1 or ast.dump(out[-1]) != before:
            rewritten.add(index)
    new.body = body
    rewriter.sizes.aliases = _size_aliases(new)
    for index, stmt in enumerate(body):
        for each in (*preludes.get(index, ()), stmt):
            rewriter.sizes.canonicalize(each, rewriter.loop_vars, index)
    ast.fix_missing_locations(new)
    notes = tuple(sorted(rewriter.notes, key=lambda n: n.line))
    return Scalarized(new, preludes, frozenset(rewritten), notes, rewriter.numpy_name)


# --- views used as operands ------------------------------------------------------------


def _inline_views(func: ast.FunctionDef) -> list[ArrayStatement]:
    """Replace, in place, every view ``c = X[slices]`` whose every use is as a whole
    operand before ``c`` is bound again, with the slice itself. A view reads the array
    when it is used, as the slice does, so nothing changes; the slice can then be
    scalarized. Returns a note per inlined view."""
    defs: dict[str, list[tuple[list[ast.stmt], int]]] = {}
    for block in _blocks(func.body):
        for index, stmt in enumerate(block):
            name = _view_name(stmt)
            if name is not None:
                defs.setdefault(name, []).append((block, index))
    notes: list[ArrayStatement] = []
    for name, places in defs.items():
        ranges = [(block, index, _next_store(block, index, name)) for block, index in places]
        if _inlinable(func, name, ranges):
            notes.extend(_inline(func, name, ranges, "view inlined"))
    return notes


def _inline(
    func: ast.FunctionDef, name: str, ranges: list[tuple[list[ast.stmt], int, int]], how: str
) -> list[ArrayStatement]:
    """Put each definition's value in place of ``name`` in its range, then drop the
    definitions (a top-level one becomes ``pass``: nests are keyed by position)."""
    notes = []
    for block, index, end in ranges:
        definition = block[index]
        assert isinstance(definition, ast.Assign)
        for later in block[index + 1 : end]:
            _replace_loads(later, name, definition.value)
        text = ast.unparse(definition)
        notes.append(ArrayStatement(definition.lineno, text, _top_of(func, definition), how))
    for block, index, _ in sorted(ranges, key=lambda r: -r[1]):
        if block is func.body:
            block[index] = ast.copy_location(ast.Pass(), block[index])
        else:
            del block[index]
    return notes


def _inline_temporaries(
    func: ast.FunctionDef, arrays: set[str], ranks: dict[str, int]
) -> list[ArrayStatement]:
    """Replace, in place, every temporary ``t = <array expression>`` whose uses are all
    whole operands before ``t`` is bound again, with the expression itself, where
    nothing the expression reads is written in between (arrays: only at provably other
    elements). The expression then gives at each use the values it had at the
    definition, and no temporary array is made."""
    defs: dict[str, list[tuple[list[ast.stmt], int]]] = {}
    for block in _blocks(func.body):
        for index, stmt in enumerate(block):
            if (
                isinstance(stmt, ast.Assign)
                and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)
                and _view_name(stmt) is None
                and _pure_expression(stmt.value)
                and _array_valued(stmt.value, arrays, ranks)
            ):
                defs.setdefault(stmt.targets[0].id, []).append((block, index))
    notes: list[ArrayStatement] = []
    for name, places in defs.items():
        ranges = [(block, index, _next_store(block, index, name)) for block, index in places]
        if not _inlinable(func, name, ranges, writes_ok=_writes_elsewhere):
            continue
        notes.extend(_inline(func, name, ranges, "temporary inlined"))
    return notes


def _pure_expression(node: ast.expr) -> bool:
    """Arithmetic on names, constants, subscripts and NumPy functions only."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            owner = sub.func.value if isinstance(sub.func, ast.Attribute) else None
            if not (isinstance(owner, ast.Name) and owner.id in _NUMPY):
                return False
        elif isinstance(sub, ast.Lambda | ast.NamedExpr | ast.IfExp | ast.comprehension):
            return False
    return True


def _writes_elsewhere(value: ast.expr, later: ast.stmt) -> bool:
    """Whether ``later`` writes no array element that ``value`` reads: every element it
    stores differs from every one read in some index by a non-zero constant."""
    reads = [
        s for s in ast.walk(value) if isinstance(s, ast.Subscript) and isinstance(s.value, ast.Name)
    ]
    for node in ast.walk(later):
        if isinstance(node, ast.Call):
            passed = {a.id for a in node.args if isinstance(a, ast.Name)}
            if passed & {r.value.id for r in reads}:  # type: ignore[attr-defined]
                return False  # a call may write any array it is given
        if not isinstance(node, ast.Assign | ast.AugAssign):
            continue
        for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
            name = target.value if isinstance(target, ast.Subscript) else target
            if not isinstance(name, ast.Name):
                continue
            for read in reads:
                if read.value.id == name.id and not _apart(target, read):  # type: ignore[attr-defined]
                    return False
    return True


def _apart(write: ast.expr, read: ast.Subscript) -> bool:
    """Whether two subscripts of one array surely touch different elements."""
    if not isinstance(write, ast.Subscript):
        return False  # the whole array
    w = write.slice.elts if isinstance(write.slice, ast.Tuple) else [write.slice]
    r = read.slice.elts if isinstance(read.slice, ast.Tuple) else [read.slice]
    for a, b in zip(w, r, strict=False):
        if isinstance(a, ast.Slice) or isinstance(b, ast.Slice):
            continue
        try:
            diff = from_ast(a) - from_ast(b)
        except NotAffine:
            continue
        if diff.is_constant() and diff.const != 0:
            return True
    return False


def _blocks(body: list[ast.stmt]) -> Iterator[list[ast.stmt]]:
    """``body`` and every statement list nested in it."""
    yield body
    for stmt in body:
        for attr in ("body", "orelse", "finalbody"):
            inner = getattr(stmt, attr, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                yield from _blocks(inner)


def _view_name(stmt: ast.stmt) -> str | None:
    """``c`` for ``c = X[...]`` with a slice among the subscripts (a NumPy view)."""
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1):
        return None
    target, value = stmt.targets[0], stmt.value
    if not (isinstance(target, ast.Name) and isinstance(value, ast.Subscript)):
        return None
    if not isinstance(value.value, ast.Name) or value.value.id == target.id:
        return None
    elts = value.slice.elts if isinstance(value.slice, ast.Tuple) else [value.slice]
    return target.id if any(isinstance(e, ast.Slice) for e in elts) else None


def _next_store(block: list[ast.stmt], index: int, name: str) -> int:
    for j in range(index + 1, len(block)):
        if name in _stored_names(block[j]):
            return j
    return len(block)


def _stored_names(node: ast.AST) -> set[str]:
    return {
        n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    }


def _name_uses(node: ast.AST, name: str, ctx: type) -> list[ast.Name]:
    return [
        n
        for n in ast.walk(node)
        if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ctx)
    ]


def _inlinable(
    func: ast.FunctionDef,
    name: str,
    ranges: list[tuple[list[ast.stmt], int, int]],
    writes_ok: Callable[[ast.expr, ast.stmt], bool] | None = None,
) -> bool:
    """Whether every store of ``name`` is one of the definitions and every load lies
    in a definition's range, as a whole operand, with no name the definition reads
    rebound there (and, with ``writes_ok``, no statement there failing it)."""
    if len(_name_uses(func, name, ast.Store)) != len(ranges):
        return False
    if name in {a.arg for a in func.args.args}:
        return False
    covered = 0
    for block, index, end in ranges:
        view = block[index]
        assert isinstance(view, ast.Assign)
        reads = {n.id for n in ast.walk(view.value) if isinstance(n, ast.Name)}
        for later in block[index + 1 : end]:
            if reads & _stored_names(later):
                return False
            if writes_ok is not None and not writes_ok(view.value, later):
                return False
            for use in _name_uses(later, name, ast.Load):
                if _is_base_of_subscript_or_attr(use, later):
                    return False
                covered += 1
    loads = len(_name_uses(func, name, ast.Load))
    return covered == loads and loads > 0


def _replace_loads(node: ast.stmt, name: str, value: ast.expr) -> None:
    class _Replace(ast.NodeTransformer):
        def visit_Name(self, sub: ast.Name) -> ast.expr:
            if sub.id == name and isinstance(sub.ctx, ast.Load):
                return ast.copy_location(copy.deepcopy(value), sub)
            return sub

    _Replace().visit(node)


def _top_of(func: ast.FunctionDef, node: ast.AST) -> int:
    for index, stmt in enumerate(func.body):
        if any(sub is node for sub in ast.walk(stmt)):
            return index
    return 0


# --- what the function tells about its arrays ----------------------------------------


def _ranks(func: ast.FunctionDef) -> dict[str, int]:
    """A lower bound on the rank of every array name, from how the code uses it."""
    ranks: dict[str, int] = {}

    def at_least(name: str, rank: int) -> None:
        ranks[name] = max(ranks.get(name, 0), rank)

    for node in ast.walk(func):
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
            elts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            at_least(node.value.id, len(elts))
        elif _shape_of(node) is not None:
            at_least(*_shape_of(node))  # type: ignore[misc]
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
            if (
                isinstance(target, ast.Tuple)
                and isinstance(value, ast.Attribute)
                and value.attr == "shape"
                and isinstance(value.value, ast.Name)
            ):
                at_least(value.value.id, len(target.elts))
            if isinstance(target, ast.Name) and _allocation(value):
                rank = _allocation_rank(value, ranks)  # type: ignore[arg-type]
                if rank:
                    at_least(target.id, rank)
    return ranks


def _known_ranks(func: ast.FunctionDef, known: Mapping[str, int]) -> dict[str, int]:
    """Ranks read from the code, overridden by the ``known`` ranks of arguments."""
    ranks = {**_ranks(func), **{k: v for k, v in known.items() if v > 0}}
    for name, rank in known.items():
        if rank == 0:
            ranks.pop(name, None)
    return ranks


def _shape_of(node: ast.AST) -> tuple[str, int] | None:
    """``(X, c + 1)`` for ``X.shape[c]``: ``X`` has at least ``c + 1`` dimensions."""
    found = shape_dim(node)
    return None if found is None else (found[0], found[1] + 1)


def _allocation(value: ast.expr | None) -> bool:
    """Whether ``value`` makes a fresh array: a NumPy allocator or ``.copy()``."""
    if (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Attribute)
        and value.func.attr == "copy"
        and not value.args
    ):
        return True
    return (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Attribute)
        and value.func.attr in _ALLOCATORS
        and isinstance(value.func.value, ast.Name)
        and value.func.value.id in _NUMPY
    )


def _allocation_rank(call: ast.Call, ranks: dict[str, int]) -> int:
    assert isinstance(call.func, ast.Attribute)
    if call.func.attr == "copy":  # ``x.copy()``, ``x.T.copy()``: the rank of ``x``
        base = call.func.value
        if isinstance(base, ast.Attribute) and base.attr == "T":
            base = base.value
        return ranks.get(base.id, 0) if isinstance(base, ast.Name) else 0
    if not call.args:
        return 0
    first = call.args[0]
    if call.func.attr.endswith("_like"):
        return ranks.get(first.id, 0) if isinstance(first, ast.Name) else 0
    return len(first.elts) if isinstance(first, ast.Tuple) else 1


def _array_names(func: ast.FunctionDef, ranks: dict[str, int]) -> tuple[set[str], set[str]]:
    """(arrays, views): names known to be arrays, and those of them that may share
    memory with another array (locals bound to anything but a fresh allocation)."""
    params = {a.arg for a in func.args.args}
    arrays = set(ranks)
    while True:  # names bound to array values (views, aliases) are arrays too
        more = {
            node.targets[0].id
            for node in ast.walk(func)
            if isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id not in arrays
            and _array_valued(node.value, arrays, ranks)
        }
        if not more:
            break
        arrays |= more
    views = set()
    for node in ast.walk(func):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign | ast.For | ast.With):
            targets = [node.target] if not isinstance(node, ast.With) else []
        for target in targets:
            for name in ast.walk(target):
                if not (isinstance(name, ast.Name) and isinstance(name.ctx, ast.Store)):
                    continue
                value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
                if name.id in arrays and not (name is target and _allocation(value)):
                    views.add(name.id)
    return arrays, views - (params - _stored(func))


def _array_valued(value: ast.expr, arrays: set[str], ranks: dict[str, int]) -> bool:
    """Whether ``value`` may be an array: it uses a known array whole, sliced, or
    through an attribute other than its shape."""
    return any(_array_part(sub, value, arrays, ranks) for sub in _outside_reductions(value))


def _outside_reductions(node: ast.AST) -> Iterator[ast.AST]:
    """``ast.walk`` that does not enter reductions (their values are scalars)."""
    yield node
    matmul = isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult)
    reduction = (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and (node.func.attr in REDUCTIONS or node.func.attr == "norm")
    )
    if matmul or reduction:
        return
    for child in ast.iter_child_nodes(node):
        yield from _outside_reductions(child)


def _array_part(sub: ast.AST, root: ast.expr, arrays: set[str], ranks: dict[str, int]) -> bool:
    if isinstance(sub, ast.Subscript) and isinstance(sub.value, ast.Name):
        elts = sub.slice.elts if isinstance(sub.slice, ast.Tuple) else [sub.slice]
        sliced = any(isinstance(e, ast.Slice) for e in elts)
        return sub.value.id in arrays and (sliced or len(elts) < ranks.get(sub.value.id, 0))
    if isinstance(sub, ast.Name):
        return sub.id in arrays and not _is_base_of_subscript_or_attr(sub, root)
    if isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name):
        return sub.value.id in arrays and sub.attr not in ("shape", "size", "ndim")
    return False


def _why_not_alone(name: str, func: ast.FunctionDef) -> str:
    """Why a statement using the local array ``name`` stays as written."""
    for node in ast.walk(func):
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
            and _view_name(node) is None
            and not isinstance(node.value, ast.Name | ast.Attribute)
        ):
            return f"{name} is an array computed by another statement (a NumPy temporary)"
    return f"{name} may be a view that shares memory with another array"


def _escapes(func: ast.FunctionDef, name: str) -> bool:
    """Whether ``name`` is ever used other than subscripted or through an attribute
    (returned, passed on, bound to another name): a buffer that escapes cannot be
    reused across iterations."""
    operands = {
        id(sub)
        for stmt in ast.walk(func)
        if isinstance(stmt, ast.Assign | ast.AugAssign)
        and isinstance(
            stmt.targets[0] if isinstance(stmt, ast.Assign) else stmt.target, ast.Subscript
        )
        for sub in _outside_calls(stmt.value)
    }
    return any(
        not _is_base_of_subscript_or_attr(use, func) and id(use) not in operands
        for use in _name_uses(func, name, ast.Load)
    )


def _outside_calls(node: ast.AST) -> Iterator[ast.AST]:
    """``ast.walk`` that does not enter the arguments of calls other than NumPy's."""
    yield node
    if isinstance(node, ast.Call):
        owner = node.func.value if isinstance(node.func, ast.Attribute) else None
        if not (isinstance(owner, ast.Name) and owner.id in _NUMPY):
            return
    for child in ast.iter_child_nodes(node):
        yield from _outside_calls(child)


def _stored(func: ast.FunctionDef) -> set[str]:
    return {
        n.id for n in ast.walk(func) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    }


# --- slices and operands --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Dim:
    """One dimension of an array reference: an index (``lo`` only, ``node`` its AST),
    or a slice ``lo:hi:step`` (``step`` 1 or -1; ``lo`` is the first element visited,
    ``hi`` one past the last, in the direction of ``step``)."""

    sliced: bool
    lo: Affine | None  # None: an index that is not affine
    hi: Affine | None = None
    node: ast.expr | None = None
    step: int = 1

    @property
    def extent(self) -> Affine:
        assert self.lo is not None and self.hi is not None
        return self.hi - self.lo if self.step > 0 else self.lo - self.hi


@dataclass(frozen=True, slots=True)
class _Ref:
    """``array[dims]`` with every dimension of the array listed."""

    array: str
    dims: tuple[_Dim, ...]

    @property
    def sliced(self) -> list[_Dim]:
        return [d for d in self.dims if d.sliced]

    def los(self) -> list[Affine]:
        """Where loops over each sliced dimension start: its first index, or 0 for a
        reversed one (the loops themselves always count up)."""
        return [d.lo if d.lo is not None and d.step > 0 else Affine() for d in self.sliced]

    def extents(self) -> list[Affine]:
        """The length of each sliced dimension."""
        return [d.extent for d in self.sliced]


@dataclass
class _Frame:
    """The loops a scalarized expression runs in: variable and first value per sliced
    dimension, outermost first."""

    vars: list[str]
    los: list[Affine]
    extents: list[Affine]
    reads: list[tuple[_Ref, list[str]]] = field(default_factory=list)  # refs to the target
    pre: list[ast.stmt] = field(default_factory=list)  # run at each point, before its body


class _Rewriter:
    def __init__(self, func: ast.FunctionDef, known: Mapping[str, int]) -> None:
        self.func = func
        self.ranks = _known_ranks(func, known)
        self.arrays, self.views = _array_names(func, self.ranks)
        used = {n.id for n in ast.walk(func) if isinstance(n, ast.Name)}
        used |= {a.arg for a in func.args.args}
        self.used = used
        self.numpy_name = self.fresh("_np")
        self.notes: list[ArrayStatement] = []
        self.top = 0
        self.depth = 0  # loops around the statement being rewritten
        self.top_stored: set[str] = set()  # names the current top-level statement stores
        self.hoisted: list[ast.stmt] = []  # allocations moved before it
        self.pending: list[tuple[Affine, Affine]] = []  # extents the statement equates
        self.sizes = _Sizes()
        self.loop_vars: set[str] = set()
        self.loop_lows: dict[str, int | None] = {}

    def loop_var(self, base: str) -> str:
        name = self.fresh(base)
        self.loop_vars.add(name)
        return name

    def fresh(self, base: str) -> str:
        name, n = base, 1
        while name in self.used:
            name, n = f"{base}{n}", n + 1
        self.used.add(name)
        return name

    # statements ---------------------------------------------------------------------

    def block(self, stmts: list[ast.stmt], lows: dict[str, int | None]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for stmt in stmts:
            out.extend(self.statement(stmt, lows))
        return out

    def statement(self, stmt: ast.stmt, lows: dict[str, int | None]) -> list[ast.stmt]:
        if isinstance(stmt, ast.For):
            inner = dict(lows)
            if isinstance(stmt.target, ast.Name):
                inner[stmt.target.id] = _range_low(stmt)
            self.depth += 1
            stmt.body = self.block(stmt.body, inner) or [ast.Pass()]
            self.depth -= 1
            stmt.orelse = self.block(stmt.orelse, lows)
            return [stmt]
        if isinstance(stmt, ast.While | ast.If | ast.With):
            self.depth += isinstance(stmt, ast.While)
            stmt.body = self.block(stmt.body, lows) or [ast.Pass()]
            self.depth -= isinstance(stmt, ast.While)
            if not isinstance(stmt, ast.With):
                stmt.orelse = self.block(stmt.orelse, lows)
            return [stmt]
        if isinstance(stmt, ast.Assign) and _allocation(stmt.value):
            left = self._hoist_allocation(stmt, lows)
            return [stmt] if left is None else left
        if not isinstance(stmt, ast.Assign | ast.AugAssign) or not self._is_array_statement(stmt):
            return [stmt]
        self.loop_lows = lows
        self.pending = []
        text = ast.unparse(stmt)
        try:
            out, how = self._rewrite(stmt)
        except _Leave as exc:
            self.notes.append(ArrayStatement(stmt.lineno, text, self.top, reason=str(exc)))
            return [stmt]
        for a, b in self.pending:
            self.sizes.equate(a, b)
        self.notes.append(ArrayStatement(stmt.lineno, text, self.top, how=how))
        for node in out:
            ast.copy_location(node, stmt)
            ast.fix_missing_locations(node)
            for sub in ast.walk(node):  # every generated node reports the statement's line
                if hasattr(sub, "lineno"):
                    sub.lineno = sub.end_lineno = stmt.lineno  # type: ignore[attr-defined]
        return out

    def _hoist_allocation(
        self, stmt: ast.Assign, lows: dict[str, int | None]
    ) -> list[ast.stmt] | None:
        """An allocation inside a loop, moved before the top-level statement when every
        iteration may reuse one buffer: the result is the statements left in its place
        (a fill for ``zeros``/``ones``/``full``), or ``None`` when it must stay."""
        call = stmt.value
        assert isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
        kind = call.func.attr
        target = stmt.targets[0] if len(stmt.targets) == 1 else None
        if self.depth == 0 or kind == "copy" or not isinstance(target, ast.Name):
            return None
        name = target.id
        if not call.args or name not in self.ranks or _escapes(self.func, name):
            return None
        if len(_name_uses(self.func, name, ast.Store)) != 1:
            return None
        shape_args = [call.args[0], *(k.value for k in call.keywords if k.arg == "dtype")]
        reads = {n.id for a in shape_args for n in ast.walk(a) if isinstance(n, ast.Name)}
        if reads & self.top_stored:  # the shape changes inside the statement
            return None
        dtype = [k for k in call.keywords if k.arg == "dtype"]
        if kind in ("full", "full_like") and len(call.args) > 2:
            dtype = [ast.keyword("dtype", call.args[2])]
        empty = "empty_like" if kind.endswith("_like") else "empty"
        alloc = ast.Assign(
            [ast.Name(name, ast.Store())],
            ast.Call(ast.Attribute(call.func.value, empty, ast.Load()), [call.args[0]], dtype),
        )
        self.hoisted.append(ast.copy_location(alloc, stmt))
        self.notes.append(
            ArrayStatement(stmt.lineno, ast.unparse(stmt), self.top, "allocation hoisted")
        )
        fill = {"zeros": 0, "ones": 1}.get(kind.removesuffix("_like"))
        value: ast.expr | None = ast.Constant(fill) if fill is not None else None
        if kind.startswith("full"):
            value = call.args[1] if len(call.args) > 1 else None
            if value is None:
                return None
        if value is None:
            return []
        whole: list[ast.expr] = [ast.Slice(None, None, None) for _ in range(self.ranks[name])]
        key: ast.expr = whole[0] if len(whole) == 1 else ast.Tuple(whole, ast.Load())
        store = ast.Subscript(ast.Name(name, ast.Load()), key, ast.Store())
        filling = ast.copy_location(ast.Assign([store], value), stmt)
        ast.fix_missing_locations(filling)
        noted = len(self.notes)
        out = self.statement(filling, lows)
        del self.notes[noted:]  # the fill is part of the hoisting, not the user's statement
        return out

    def _is_array_statement(self, stmt: ast.Assign | ast.AugAssign) -> bool:
        return any(
            self._is_array_operand(node, stmt) or self._reduction_kind(node) is not None
            for node in ast.walk(stmt)
        )

    def _is_array_operand(self, node: ast.AST, root: ast.AST) -> bool:
        """Whether ``node`` (within ``root``) stands for several elements: a sliced
        subscript of an array, or an array's name used as a whole."""
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
            return node.value.id in self.arrays and self._is_sliced(node)
        return (
            isinstance(node, ast.Name)
            and node.id in self.arrays
            and not _is_base_of_subscript_or_attr(node, root)
        )

    def _operands(self, root: ast.expr) -> list[_Ref]:
        """The array operands in ``root``."""
        return [
            self._ref(sub)  # type: ignore[arg-type]
            for sub in ast.walk(root)
            if self._is_array_operand(sub, root)
        ]

    def _is_sliced(self, node: ast.Subscript) -> bool:
        elts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        name = node.value.id if isinstance(node.value, ast.Name) else ""
        return any(isinstance(e, ast.Slice) for e in elts) or len(elts) < self.ranks.get(name, 0)

    def _rewrite(self, stmt: ast.Assign | ast.AugAssign) -> tuple[list[ast.stmt], str]:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        if len(targets) != 1:
            raise _Leave("a chained assignment")
        target = targets[0]
        name = target.id if isinstance(target, ast.Name) else ""
        if isinstance(stmt, ast.Assign) and name in self.arrays:
            raise _Leave(self._why_array_value(stmt.value, f"it binds {name} to an array"))
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and node.id in self.views:
                raise _Leave(_why_not_alone(node.id, self.func))
        for node in ast.walk(stmt.value):
            if isinstance(node, ast.IfExp | ast.BoolOp | ast.Compare | ast.Lambda | ast.NamedExpr):
                raise _Leave(f"a `{type(node).__name__}` expression")
        prelude: list[ast.stmt] = []
        value = self._hoist_reductions(stmt.value, prelude)
        in_place = isinstance(stmt, ast.AugAssign) and isinstance(target, ast.Name)
        if isinstance(target, ast.Name) and not (in_place and target.id in self.arrays):
            if target.id in self.arrays or self._has_array_operand(value):
                raise _Leave(self._why_array_value(value, f"it binds {target.id} to an array"))
            new = copy.copy(stmt)
            new.value = value
            return [*prelude, new], "reduction"
        mask = self._mask(target)
        if mask is not None:
            return self._masked(stmt, mask, value, prelude)
        ref = self._target_ref(target)
        if not ref.sliced:
            if self._has_array_operand(value):
                raise _Leave(self._why_array_value(value, "an array is stored into one element"))
            new = copy.copy(stmt)
            new.value = value
            return [*prelude, new], "reduction"
        frame = self._frame_of(ref)
        value = self._hoist_element_reads(value, ref, prelude)
        element = self._elementwise(value, frame, ref.array)
        order = self._order(ref, frame)
        inner = _store_like(stmt, self._element_ref(ref, frame, ast.Store()), element)
        loops = _nest(frame, [*frame.pre, inner], reverse=order < 0)
        return [*prelude, loops], "loops, reversed" if order < 0 else "loops"

    def _frame_of(self, ref: _Ref) -> _Frame:
        """Fresh loops over the sliced dimensions of ``ref``."""
        names = [self.loop_var(f"_{ref.array}{k}") for k in range(len(ref.sliced))]
        return _Frame(names, ref.los(), ref.extents())

    def _why_array_value(self, value: ast.expr, otherwise: str) -> str:
        for sub in ast.walk(value):
            known = not isinstance(sub, ast.Call) or self._is_ufunc(sub) or _is_scalar_query(sub)
            if not known and self._reduction_kind(sub) is None:
                return f"a call to {ast.unparse(sub.func)}, which is not an elementwise ufunc"  # type: ignore[attr-defined]
        return otherwise

    def _target_ref(self, target: ast.expr) -> _Ref:
        """The written elements; ``C *= beta`` writes all of ``C`` in place."""
        if isinstance(target, ast.Name) or (
            isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name)
        ):
            ref = self._ref(target)
            if any(d.step < 0 for d in ref.sliced):
                raise _Leave(f"it writes {ref.array} through a reversed slice")
            return ref
        raise _Leave(f"an assignment to {ast.unparse(target)}")

    # array references -----------------------------------------------------------------

    def _ref(self, node: ast.Subscript | ast.Name) -> _Ref:
        if isinstance(node, ast.Name):
            if node.id not in self.ranks:
                raise _Leave(f"the rank of {node.id} is not known from the code")
            full = ast.Slice(None, None, None)
            dims = (self._dim(node.id, k, full) for k in range(self.ranks[node.id]))
            return _Ref(node.id, tuple(dims))
        assert isinstance(node.value, ast.Name)
        name = node.value.id
        elts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        rank = max(self.ranks.get(name, 0), len(elts))
        padded = [*elts, *(ast.Slice(None, None, None) for _ in range(rank - len(elts)))]
        return _Ref(name, tuple(self._dim(name, k, e) for k, e in enumerate(padded)))

    def _dim(self, array: str, k: int, elt: ast.expr) -> _Dim:
        if isinstance(elt, ast.Starred) or (isinstance(elt, ast.Constant) and elt.value is ...):
            raise _Leave(f"an unsupported subscript of {array}")
        if not isinstance(elt, ast.Slice):
            if self._has_array_operand(elt):
                raise _Leave(f"boolean or fancy indexing of {array}")
            try:
                return _Dim(False, from_ast(elt), node=elt)
            except NotAffine:
                return _Dim(False, None, node=elt)
        step = 1 if elt.step is None else _constant(elt.step)
        if step not in (1, -1):
            raise _Leave(f"a slice of {array} with a step")
        size = Affine.var(f"{array}.shape[{k}]")
        if step == 1:
            lo = self._bound(elt.lower, size, Affine.constant(0), array)
            hi = self._bound(elt.upper, size, size, array)
            return _Dim(True, lo, hi)
        first = self._bound(elt.lower, size, size - 1, array)
        # ``None`` runs down to index 0, which no bound can write (-1 counts from the end)
        stop = (
            Affine.constant(-1) if elt.upper is None else self._bound(elt.upper, size, size, array)
        )
        return _Dim(True, first, stop, step=-1)

    def _bound(self, node: ast.expr | None, size: Affine, default: Affine, array: str) -> Affine:
        if node is None:
            return default
        try:
            expr = from_ast(node)
        except NotAffine:
            raise _Leave(f"the slice bound {ast.unparse(node)} of {array} is not affine") from None
        if expr.is_constant():
            return size + expr.const if expr.const < 0 else expr
        if not self._nonnegative(expr):
            raise _Leave(
                f"the slice bound {ast.unparse(node)} of {array} may be negative, where "
                "NumPy counts from the end"
            )
        return expr

    def _nonnegative(self, expr: Affine) -> bool:
        """Whether ``expr`` cannot be negative: loop variables take their first value,
        any other name (a size, an argument) is assumed large enough."""
        low = expr.const
        for name, coeff in expr.terms:
            if name in self.loop_lows:
                first = self.loop_lows[name]
                if coeff < 0 or first is None:
                    return False
                low += coeff * first
            else:
                return coeff > 0  # a size or an argument, assumed large enough
        return low >= 0

    def _element_ref(self, ref: _Ref, frame: _Frame, ctx: ast.expr_context) -> ast.Subscript:
        """``ref`` at the frame's current point (its sliced dimensions aligned with the
        frame's innermost loops, as NumPy broadcasts)."""
        sliced = ref.sliced
        if len(sliced) > len(frame.vars):
            raise _Leave(
                f"{ref.array} has {len(sliced)} sliced dimensions where the statement has "
                f"{len(frame.vars)}"
            )
        offset = len(frame.vars) - len(sliced)
        index: list[ast.expr] = []
        k = 0
        for dim in ref.dims:
            if dim.sliced:
                assert dim.lo is not None
                self.pending.append((dim.extent, frame.extents[offset + k]))
                moved = Affine.var(frame.vars[offset + k]) - frame.los[offset + k]
                at = dim.lo + moved.scale(dim.step)
                index.append(to_ast(at))
                k += 1
            else:
                assert dim.node is not None
                index.append(copy.deepcopy(dim.node))
        key: ast.expr = index[0] if len(index) == 1 else ast.Tuple(index, ast.Load())
        return ast.Subscript(ast.Name(ref.array, ast.Load()), key, ctx)

    # expressions ----------------------------------------------------------------------

    def _has_array_operand(self, node: ast.expr) -> bool:
        return any(self._is_array_operand(sub, node) for sub in ast.walk(node))

    def _elementwise(self, node: ast.expr, frame: _Frame, target: str | None) -> ast.expr:
        """``node`` evaluated at one point of ``frame``."""
        if isinstance(node, ast.Constant):
            return node
        if isinstance(node, ast.Name):
            if node.id in self.arrays:
                return self._operand(self._ref(node), frame, target)
            return node
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
            if node.value.id in self.arrays and self._is_sliced(node):
                return self._operand(self._ref(node), frame, target)
            return node  # an element: a scalar
        if _is_scalar_query(node):
            return node
        if isinstance(node, ast.BinOp) and isinstance(node.op, _ELEMENTWISE_OPS):
            return ast.BinOp(
                self._elementwise(node.left, frame, target),
                node.op,
                self._elementwise(node.right, frame, target),
            )
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            return ast.UnaryOp(node.op, self._elementwise(node.operand, frame, target))
        if isinstance(node, ast.Call) and self._is_ufunc(node):
            args = [self._elementwise(a, frame, target) for a in node.args]
            return ast.Call(node.func, args, [])
        along = self._axis_reduction(node)
        if along is not None:
            return self._reduce_along(*along, frame, target)
        if isinstance(node, ast.Call):
            raise _Leave(f"a call to {ast.unparse(node.func)}, which is not an elementwise ufunc")
        raise _Leave(f"the expression {ast.unparse(node)} is not elementwise arithmetic")

    def _operand(self, ref: _Ref, frame: _Frame, target: str | None) -> ast.expr:
        if not ref.sliced:
            return self._element_ref(ref, frame, ast.Load())
        if ref.array == target:
            frame.reads.append((ref, frame.vars[len(frame.vars) - len(ref.sliced) :]))
        return self._element_ref(ref, frame, ast.Load())

    def _is_ufunc(self, node: ast.Call) -> bool:
        func = node.func
        if node.keywords:
            return False
        if isinstance(func, ast.Name) and func.id == "abs":
            return True
        return (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id in _NUMPY | {"math"}
            and func.attr in UFUNCS
        )

    # reductions -----------------------------------------------------------------------

    def _reduction_kind(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
            return "dot"
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            return None
        func = node.func
        if (  # np.linalg.norm(x) of a vector: the square root of a sum of squares
            func.attr == "norm"
            and isinstance(func.value, ast.Attribute)
            and func.value.attr == "linalg"
            and isinstance(func.value.value, ast.Name)
            and func.value.value.id in _NUMPY
        ):
            return "norm"
        kind = REDUCTIONS.get(func.attr)
        if kind is None:
            return None
        if isinstance(func.value, ast.Name) and func.value.id in _NUMPY:
            return kind
        # a method: ``x[1:].sum()``, ``a.max()`` on an array operand
        if func.attr in ("sum", "max", "min", "dot") and self._has_array_operand(func.value):
            return kind
        return None

    def _hoist_reductions(self, node: ast.expr, prelude: list[ast.stmt]) -> ast.expr:
        """``node`` with every reduction replaced by a fresh scalar that ``prelude``
        computes (innermost reductions first)."""
        hoister = self

        class _Hoist(ast.NodeTransformer):
            def generic_visit(self, sub: ast.AST) -> ast.AST:
                super().generic_visit(sub)
                kind = hoister._reduction_kind(sub)
                if kind is None or hoister._axis_reduction(sub) is not None:
                    return sub  # an axis reduction is computed per element
                return hoister._reduce(sub, kind, prelude)  # type: ignore[arg-type]

        return _Hoist().visit(copy.deepcopy(node))

    def _reduce(self, node: ast.expr, kind: str, prelude: list[ast.stmt]) -> ast.expr:
        operands, keywords = _reduction_operands(node)
        if keywords:
            raise _Leave(f"{ast.unparse(node)} has keyword arguments (an axis?)")
        frame_ref = self._leading_ref(operands)
        frame = self._frame_of(frame_ref)
        elems = [self._elementwise(op, frame, None) for op in operands]
        if kind == "dot":
            if len(operands) != 2 or any(self._rank_of(op) != 1 for op in operands):
                raise _Leave(f"{ast.unparse(node)} is not a dot product of 1-D operands")
            elem: ast.expr = ast.BinOp(elems[0], ast.Mult(), elems[1])
        elif len(operands) != 1:
            raise _Leave(f"{ast.unparse(node)} reduces more than one operand")
        elif kind == "norm":
            if self._rank_of(operands[0]) != 1:
                raise _Leave(f"{ast.unparse(node)} is not the norm of a vector")
            elem = ast.BinOp(elems[0], ast.Mult(), copy.deepcopy(elems[0]))
        else:
            elem = elems[0]
        acc = self.fresh("_acc")
        if kind == "norm":
            prelude.append(_assign(acc, ast.Constant(0)))
            prelude.append(
                _nest(frame, [ast.AugAssign(ast.Name(acc, ast.Store()), ast.Add(), elem)])
            )
            root = ast.Attribute(ast.Name(self.numpy_name, ast.Load()), "sqrt", ast.Load())
            return ast.Call(root, [ast.Name(acc, ast.Load())], [])
        if kind in ("sum", "dot"):
            prelude.append(_assign(acc, ast.Constant(0)))
            step: ast.stmt = ast.AugAssign(ast.Name(acc, ast.Store()), ast.Add(), elem)
            prelude.append(_nest(frame, [*frame.pre, step]))
            return ast.Name(acc, ast.Load())
        if len(frame.vars) != 1 or frame.pre:
            raise _Leave(f"{ast.unparse(node)} is a maximum or minimum over several dimensions")
        var, lo = frame.vars[0], frame.los[0]
        first = _replace_name(copy.deepcopy(elem), var, to_ast(lo))
        prelude.append(_assign(acc, first))
        pick = "maximum" if kind == "max" else "minimum"
        call = ast.Call(
            ast.Attribute(ast.Name(self.numpy_name, ast.Load()), pick, ast.Load()),
            [ast.Name(acc, ast.Load()), elem],
            [],
        )
        rest = _Frame([var], [lo + 1], [frame.extents[0] - 1])
        prelude.append(_nest(rest, [_assign(acc, call)]))
        return ast.Name(acc, ast.Load())

    def _leading_ref(self, operands: list[ast.expr]) -> _Ref:
        """The array reference with the most sliced dimensions: its loops are the
        reduction's."""
        refs = [ref for op in operands for ref in self._operands(op)]
        if not refs:
            raise _Leave("a reduction of something that is not an array")
        return max(refs, key=lambda ref: len(ref.sliced))  # the first of the widest

    def _rank_of(self, node: ast.expr) -> int:
        """How many sliced dimensions ``node``'s value has."""
        return max((len(ref.sliced) for ref in self._operands(node)), default=0)

    # reductions along an axis, inside an elementwise statement -------------------------

    def _axis_reduction(self, node: ast.AST) -> tuple[str, ast.expr, int] | None:
        """``(kind, operand, axis)`` for ``E.sum(axis=k)`` or ``np.sum(E, axis=k)`` (also
        ``max``/``min``) with a constant ``k``."""
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            return None
        kind = REDUCTIONS.get(node.func.attr)
        if kind not in ("sum", "max", "min") or [k.arg for k in node.keywords] != ["axis"]:
            return None
        owner = node.func.value
        numpy = isinstance(owner, ast.Name) and owner.id in _NUMPY
        args = list(node.args) if numpy else [owner, *node.args]
        axis = _constant(node.keywords[0].value)
        if len(args) != 1 or axis is None:
            return None
        return kind, args[0], axis

    def _reduce_along(
        self, kind: str, operand: ast.expr, axis: int, frame: _Frame, target: str | None
    ) -> ast.expr:
        """The reduction of ``operand`` along ``axis`` at the frame's current point: a
        loop over that axis, run before the statement inside the frame's loops."""
        rank = self._rank_of(operand)
        axis = axis + rank if axis < 0 else axis
        if not 0 <= axis < rank or rank - 1 > len(frame.vars):
            raise _Leave(f"the axis of {ast.unparse(operand)} does not fit the statement")
        if any(ref.array == target for ref in self._operands(operand)):
            raise _Leave(f"it reduces {target} along an axis while writing it")
        extent = self._leading_ref([operand]).extents()[axis]
        var = self.loop_var("_axis")
        outer = len(frame.vars) - (rank - 1)
        vars_, los, extents = frame.vars[outer:], frame.los[outer:], frame.extents[outer:]
        inner = _Frame(
            [*vars_[:axis], var, *vars_[axis:]],
            [*los[:axis], Affine(), *los[axis:]],
            [*extents[:axis], extent, *extents[axis:]],
        )
        elem = self._elementwise(operand, inner, None)
        if inner.pre:
            raise _Leave(f"{ast.unparse(operand)} nests reductions along axes")
        acc = self.fresh("_acc")
        if kind == "sum":
            frame.pre.append(_assign(acc, ast.Constant(0)))
            step: ast.stmt = ast.AugAssign(ast.Name(acc, ast.Store()), ast.Add(), elem)
            frame.pre.append(_nest(_Frame([var], [Affine()], [extent]), [step]))
        else:
            frame.pre.append(_assign(acc, _replace_name(copy.deepcopy(elem), var, ast.Constant(0))))
            pick = self._numpy_call("maximum" if kind == "max" else "minimum", acc, elem)
            rest = _Frame([var], [Affine.constant(1)], [extent - 1])
            frame.pre.append(_nest(rest, [_assign(acc, pick)]))
        return ast.Name(acc, ast.Load())

    def _numpy_call(self, function: str, acc: str, elem: ast.expr) -> ast.Call:
        root = ast.Attribute(ast.Name(self.numpy_name, ast.Load()), function, ast.Load())
        return ast.Call(root, [ast.Name(acc, ast.Load()), elem], [])

    # masked assignments ---------------------------------------------------------------

    def _mask(self, target: ast.expr) -> ast.expr | None:
        """The condition of ``X[cond] = ...`` with ``cond`` a comparison on arrays."""
        if not (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name)):
            return None
        cond = target.slice
        return cond if _boolean(cond) and self._has_array_operand(cond) else None

    def _masked(
        self, stmt: ast.Assign | ast.AugAssign, cond: ast.expr, value: ast.expr,
        prelude: list[ast.stmt],
    ) -> tuple[list[ast.stmt], str]:  # fmt: skip
        """``X[cond] = value`` (a scalar ``value``) as a loop over ``X`` with an ``if``."""
        target = stmt.targets[0] if isinstance(stmt, ast.Assign) else stmt.target
        assert isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name)
        name = target.value.id
        if self._has_array_operand(value):
            raise _Leave("a masked assignment of an array value")
        ref = self._ref(ast.Name(name, ast.Load()))
        frame = self._frame_of(ref)
        value = self._hoist_element_reads(value, ref, prelude)
        test = self._condition(cond, frame, name)
        order = self._order(ref, frame)
        inner = _store_like(stmt, self._element_ref(ref, frame, ast.Store()), value)
        body = [*frame.pre, ast.If(test, [inner], [])]
        return [*prelude, _nest(frame, body, reverse=order < 0)], "loops, masked"

    def _condition(self, node: ast.expr, frame: _Frame, target: str) -> ast.expr:
        if isinstance(node, ast.Compare):
            left = self._elementwise(node.left, frame, target)
            rest = [self._elementwise(c, frame, target) for c in node.comparators]
            return ast.Compare(left, node.ops, rest)
        if isinstance(node, ast.BoolOp):
            return ast.BoolOp(node.op, [self._condition(v, frame, target) for v in node.values])
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not | ast.Invert):
            return ast.UnaryOp(ast.Not(), self._condition(node.operand, frame, target))
        if isinstance(node, ast.BinOp) and isinstance(node.op, _BOOLEAN_OPS):
            left = self._condition(node.left, frame, target)
            return ast.BinOp(left, node.op, self._condition(node.right, frame, target))
        return self._elementwise(node, frame, target)

    # NumPy's read-before-write semantics ------------------------------------------------

    def _hoist_element_reads(
        self, node: ast.expr, target: _Ref, prelude: list[ast.stmt]
    ) -> ast.expr:
        """Reads of single elements of the written array moved into scalars read
        before the loop, as NumPy reads them before it writes (those the statement
        surely never writes stay where they are)."""
        hoister = self
        array = target.array
        cache: dict[str, str] = {}

        class _Hoist(ast.NodeTransformer):
            def visit_Subscript(self, sub: ast.Subscript) -> ast.expr:
                if (
                    isinstance(sub.value, ast.Name)
                    and sub.value.id == array
                    and not hoister._is_sliced(sub)
                    and not _outside(hoister._ref(sub), target)
                ):
                    text = ast.unparse(sub)
                    if text not in cache:
                        cache[text] = hoister.fresh(f"_{array}_elt")
                        prelude.append(_assign(cache[text], copy.deepcopy(sub)))
                    return ast.Name(cache[text], ast.Load())
                self.generic_visit(sub)
                return sub

        return _Hoist().visit(node)

    def _order(self, target: _Ref, frame: _Frame) -> int:
        """+1: the loops may run forwards; -1: only backwards keeps NumPy's semantics.
        Raises _Leave when neither does."""
        signs = set()
        for ref, vars_ in frame.reads:
            distance = _distance(target, frame, ref, vars_)
            if distance is None:
                continue  # never the same element
            sign = next((1 if d > 0 else -1 for d in distance if d), 0)
            signs.add(sign)
        if 1 in signs and -1 in signs:
            raise _Leave(
                f"it reads {target.array} both ahead of and behind where it writes, so "
                "NumPy's temporary is needed"
            )
        return -1 if -1 in signs else 1


def _outside(element: _Ref, target: _Ref) -> bool:
    """Whether the element surely lies outside the region ``target`` writes: in some
    dimension it differs from a written index by a constant, or lies before or after
    a written slice."""
    for e, t in zip(element.dims, target.dims, strict=False):
        if e.lo is None or t.lo is None:
            continue
        if not t.sliced:
            diff = e.lo - t.lo
            if diff.is_constant() and diff.const != 0:
                return True
        elif t.step > 0 and t.hi is not None:
            before, after = t.lo - e.lo, e.lo - t.hi
            if (before.is_constant() and before.const > 0) or (
                after.is_constant() and after.const >= 0
            ):
                return True
    return False


def _distance(target: _Ref, frame: _Frame, ref: _Ref, vars_: list[str]) -> list[int] | None:
    """Per frame loop, how far ahead of the writing iteration ``ref`` reads the element
    it writes (``None``: never the same element); raises _Leave when unknown."""
    read_var = dict(zip([i for i, d in enumerate(ref.dims) if d.sliced], vars_, strict=True))
    write_var = dict(
        zip([i for i, d in enumerate(target.dims) if d.sliced], frame.vars, strict=True)
    )
    pairs = list(zip(target.dims, ref.dims, strict=True))
    for w, r in pairs:
        if not w.sliced and not r.sliced and w.lo is not None and r.lo is not None:
            diff = r.lo - w.lo
            if diff.is_constant() and diff.const != 0:
                return None
    distance = dict.fromkeys(frame.vars, 0)
    for k, (w, r) in enumerate(pairs):
        if not w.sliced and not r.sliced:
            continue
        if w.step < 0 or r.step < 0:
            raise _Leave(f"it reads {target.array} through a reversed slice")
        if w.sliced and r.sliced and write_var[k] == read_var[k]:
            assert w.lo is not None and r.lo is not None
            diff = r.lo - w.lo
            if not diff.is_constant():
                raise _Leave(
                    f"it reads {target.array} at an offset ({diff}) the dependence test "
                    "cannot order"
                )
            distance[write_var[k]] = diff.const
            continue
        raise _Leave(
            f"it reads {target.array} along other dimensions than it writes, so NumPy's "
            "temporary is needed"
        )
    return [distance[v] for v in frame.vars]


# --- sizes that NumPy's broadcasting proves equal -------------------------------------


class _Sizes:
    """Classes of array sizes (``x.shape[0]``) that a scalarized statement's operands
    must share, as NumPy broadcasts them: loops over one class all get the same bound,
    so that loop fusion can see that their ranges are equal."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        # ``n = A.shape[0]`` at the top level: the size's text -> (name, statement index)
        self.aliases: dict[str, tuple[str, int]] = {}

    def find(self, name: str) -> str:
        while self.parent.get(name, name) != name:
            name = self.parent[name]
        return name

    def equate(self, a: Affine, b: Affine) -> None:
        diff = a - b
        if diff.const or len(diff.terms) != 2:
            return
        (x, cx), (y, cy) = diff.terms
        if cx + cy != 0 or not (_is_size(x) and _is_size(y)):
            return
        rx, ry = self.find(x), self.find(y)
        if rx != ry:  # the smaller text represents the class, so the choice is stable
            low, high = sorted((rx, ry))
            self.parent[high] = low

    def canonicalize(self, stmt: ast.stmt, loop_vars: set[str], top: int) -> None:
        """Rewrite the bounds of the generated loops in ``stmt`` (part of the top-level
        statement ``top``) by class, naming a size by the variable the code binds it to
        where one is bound before, so that the bounds equal the author's loops' bounds."""
        for node in ast.walk(stmt):
            if not (
                isinstance(node, ast.For)
                and isinstance(node.target, ast.Name)
                and node.target.id in loop_vars
                and isinstance(node.iter, ast.Call)
            ):
                continue
            node.iter.args = [self._replaced(a, top) for a in node.iter.args]

    def _named(self, text: str, top: int) -> str:
        """The text of the size ``text`` as written: its class's representative, or a
        name bound to a member of its class before the statement ``top``."""
        root = self.find(text)
        members = sorted({root, text, *(m for m in self.parent if self.find(m) == root)})
        for member in members:
            alias = self.aliases.get(member)
            if alias is not None and alias[1] < top:
                return alias[0]
        return root

    def _replaced(self, node: ast.expr, top: int) -> ast.expr:
        sizes = self

        class _Replace(ast.NodeTransformer):
            def visit_Subscript(self, sub: ast.Subscript) -> ast.expr:
                text = ast.unparse(sub)
                rep = sizes._named(text, top)
                return ast.parse(rep, mode="eval").body if rep != text else sub

        return _Replace().visit(node)


def _size_aliases(func: ast.FunctionDef) -> dict[str, tuple[str, int]]:
    """Names bound once, at the top level, to an array size (``n = A.shape[0]``,
    ``n, m = A.shape``) of an array that is never bound again: the size's text ->
    (name, index of the binding statement)."""
    stores: dict[str, int] = {}
    for node in ast.walk(func):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            stores[node.id] = stores.get(node.id, 0) + 1
    params = {a.arg for a in func.args.args}
    aliases: dict[str, tuple[str, int]] = {}
    for index, stmt in enumerate(func.body):
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1):
            continue
        for name, size in _size_bindings(stmt.targets[0], stmt.value):
            array = size.split(".shape[")[0]
            if stores.get(name) == 1 and array in params and not stores.get(array):
                aliases.setdefault(size, (name, index))
    return aliases


def _size_bindings(target: ast.expr, value: ast.expr) -> list[tuple[str, str]]:
    """(name, size text) pairs that ``target = value`` binds."""
    if isinstance(target, ast.Name) and isinstance(value, ast.Subscript):
        text = ast.unparse(value)
        array = value.value.value if isinstance(value.value, ast.Attribute) else None
        if _is_size(text) and isinstance(array, ast.Name):
            return [(target.id, text)]
    if (
        isinstance(target, ast.Tuple)
        and isinstance(value, ast.Attribute)
        and value.attr == "shape"
        and isinstance(value.value, ast.Name)
    ):
        return [
            (elt.id, f"{value.value.id}.shape[{i}]")
            for i, elt in enumerate(target.elts)
            if isinstance(elt, ast.Name)
        ]
    return []


def _is_size(name: str) -> bool:
    return name.endswith("]") and ".shape[" in name


# --- small AST helpers ----------------------------------------------------------------


def _nest(frame: _Frame, body: list[ast.stmt], reverse: bool = False) -> ast.stmt:
    """The loops of ``frame`` around ``body`` (every loop counting down if ``reverse``)."""
    stmt = body
    for var, lo, extent in reversed(list(zip(frame.vars, frame.los, frame.extents, strict=True))):
        hi = lo + extent
        if reverse:
            args = [to_ast(hi - 1), to_ast(lo - 1), ast.Constant(-1)]
        elif lo == Affine.constant(0):
            args = [to_ast(hi)]
        else:
            args = [to_ast(lo), to_ast(hi)]
        call = ast.Call(ast.Name("range", ast.Load()), args, [])
        stmt = [ast.For(ast.Name(var, ast.Store()), call, stmt, [])]
    return stmt[0]


def _store_like(
    stmt: ast.Assign | ast.AugAssign, store: ast.Subscript, value: ast.expr
) -> ast.stmt:
    """``store = value``, or ``store op= value`` when ``stmt`` is an augmented one."""
    if isinstance(stmt, ast.AugAssign):
        return ast.AugAssign(store, stmt.op, value)
    return ast.Assign([store], value)


def _assign(name: str, value: ast.expr) -> ast.Assign:
    return ast.Assign([ast.Name(name, ast.Store())], value)


def _range_low(loop: ast.For) -> int | None:
    """The smallest value a ``range`` loop's variable takes, when it is a constant."""
    call = loop.iter
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)):
        return None
    if call.func.id not in ("range", "prange") or not call.args or call.keywords:
        return None
    if len(call.args) == 1:
        return 0
    step = _constant(call.args[2]) if len(call.args) == 3 else 1
    if step == 1:
        return _constant(call.args[0])
    stop = _constant(call.args[1])
    if step == -1 and stop is not None:
        return stop + 1
    return None


def _constant(node: ast.expr) -> int | None:
    try:
        expr = from_ast(node)
    except NotAffine:
        return None
    return expr.const if expr.is_constant() else None


def _reduction_operands(node: ast.expr) -> tuple[list[ast.expr], list[ast.keyword]]:
    if isinstance(node, ast.BinOp):
        return [node.left, node.right], []
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    func = node.func
    if func.attr == "norm" or (isinstance(func.value, ast.Name) and func.value.id in _NUMPY):
        return list(node.args), node.keywords
    return [func.value, *node.args], node.keywords


def _replace_name(node: ast.expr, name: str, value: ast.expr) -> ast.expr:
    class _Replace(ast.NodeTransformer):
        def visit_Name(self, sub: ast.Name) -> ast.expr:
            return copy.deepcopy(value) if sub.id == name else sub

    return _Replace().visit(node)


def _boolean(node: ast.expr) -> bool:
    """Whether ``node`` is a mask: comparisons joined by ``&``, ``|``, ``^``, ``~``,
    ``and``, ``or``, ``not``."""
    if isinstance(node, ast.Compare):
        return True
    if isinstance(node, ast.BoolOp):
        return all(_boolean(v) for v in node.values)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not | ast.Invert):
        return _boolean(node.operand)
    if isinstance(node, ast.BinOp) and isinstance(node.op, _BOOLEAN_OPS):
        return _boolean(node.left) and _boolean(node.right)
    return False


def _is_scalar_query(node: ast.expr) -> bool:
    """``x.shape[0]``, ``x.size``, ``len(x)``: scalars about an array."""
    if _shape_of(node) is not None:
        return True
    if isinstance(node, ast.Attribute) and node.attr in ("size", "ndim"):
        return True
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "len"


def _is_base_of_subscript_or_attr(name: ast.Name, root: ast.AST) -> bool:
    """Whether ``name`` is subscripted, has an attribute taken, or is ``len``'s argument
    within ``root`` (so it is not used as a whole array)."""
    for sub in ast.walk(root):
        if isinstance(sub, ast.Subscript | ast.Attribute) and sub.value is name:
            return True
        if (
            isinstance(sub, ast.Call)
            and isinstance(sub.func, ast.Name)
            and sub.func.id == "len"
            and any(a is name for a in sub.args)
        ):
            return True
    return False
