"""Lifting a kernel's Python AST into the loop-nest IR, before Numba sees it.

Each top-level ``for`` statement of the function is one nest. A nest is lifted only when
everything in it is inside the affine subset: ``for v in range(...)`` loops with affine
bounds and constant steps, assignments/augmented assignments/``if`` statements, array
subscripts affine in loop variables and loop invariants, and calls that cannot touch
arrays. Anything else leaves the nest untouched, with the reason.

Assumption (as in Fortran): distinct array arguments do not share memory. Differential
verification of every candidate is the second line of defence.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import logging
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from autotune.loops._affine import Affine, NotAffine, from_ast, symbol_base
from autotune.loops._ir import Access, Loop, Nest, Node, Stmt, Untransformable
from autotune.loops._liveness import live_after
from autotune.loops._scalarize import Scalarized, scalarize

logger = logging.getLogger(__name__)

#: Calls known to be pure functions of scalars.
PURE_BUILTINS = frozenset({"abs", "min", "max", "int", "float", "bool", "round", "pow", "complex"})
PURE_MODULES = frozenset({"np", "numpy", "math", "cmath"})
ALLOCATORS = frozenset(
    {"zeros", "empty", "ones", "full", "zeros_like", "empty_like", "ones_like", "full_like"}
)


class _Reject(Exception):
    """A construct outside the affine subset; the message says which and why."""


@dataclass(frozen=True, slots=True)
class KernelLoops:
    """A kernel function and its top-level loop nests, lifted or with a reason.

    ``func`` is the function the nests were lifted from: ``original`` with its array
    statements scalarized (see :mod:`autotune.loops._scalarize`); ``scalarized`` says
    which top-level statements that changed. A nest whose index is in
    ``scalarized.rewritten`` exists only in the scalarized kernel.
    """

    name: str
    func: ast.FunctionDef = field(repr=False, compare=False)
    nests: tuple[Nest | Untransformable, ...]
    error: str = ""
    original: ast.FunctionDef | None = field(default=None, repr=False, compare=False)
    scalarized: Scalarized | None = field(default=None, compare=False)

    @property
    def rewritten(self) -> frozenset[int]:
        """Top-level statements that scalarizing changes."""
        return self.scalarized.rewritten if self.scalarized else frozenset()

    @property
    def transformable(self) -> list[Nest]:
        return [n for n in self.nests if isinstance(n, Nest)]


def lift_function(
    pyfunc: Callable[..., Any], ranks: Mapping[str, int] | None = None
) -> KernelLoops:
    """Lift every top-level loop nest of ``pyfunc`` (a plain Python function), its
    array statements scalarized (``ranks``: see :func:`scalarize`)."""
    name = getattr(pyfunc, "__name__", "?")
    try:
        lines, first = inspect.getsourcelines(pyfunc)
        tree = ast.parse(textwrap.dedent("".join(lines)))
    except (OSError, TypeError, SyntaxError) as exc:
        return KernelLoops(name, _empty_def(name), (), f"source not available: {exc}")
    funcs = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name]
    if not funcs:
        return KernelLoops(name, _empty_def(name), (), "function definition not found")
    func = funcs[0]
    # The parsed text starts at the first decorator, which is file line ``first``.
    ast.increment_lineno(func, first - 1)
    if pyfunc.__code__.co_freevars:
        return KernelLoops(name, func, (), "the function is a closure")
    return _lifted(name, func, ranks)


def _lifted(
    name: str, func: ast.FunctionDef, ranks: Mapping[str, int] | None = None
) -> KernelLoops:
    try:
        scalar = scalarize(func, ranks)
    except Exception as exc:  # a construct scalarization mishandles: lift the code as written
        logger.warning("%s: array statements left as written (scalarization failed: %r)", name, exc)
        return KernelLoops(name, func, lift_body(func), original=func)
    nests = lift_body(scalar.func, scalar.preludes, frozenset({scalar.numpy_name}))
    return KernelLoops(name, scalar.func, nests, original=func, scalarized=scalar)


def lift_source(source: str, name: str) -> KernelLoops:
    """Lift function ``name`` defined in ``source`` (module text)."""
    try:
        tree = ast.parse(textwrap.dedent(source))
    except SyntaxError as exc:
        return KernelLoops(name, _empty_def(name), (), f"syntax error: {exc}")
    funcs = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name]
    if not funcs:
        return KernelLoops(name, _empty_def(name), (), "function definition not found")
    return _lifted(name, funcs[0])


def _empty_def(name: str) -> ast.FunctionDef:
    return ast.FunctionDef(name, ast.arguments([], [], None, [], [], None, []), [], [])


def lift_body(
    func: ast.FunctionDef,
    preludes: dict[int, list[ast.stmt]] | None = None,
    modules: frozenset[str] = frozenset(),
) -> tuple[Nest | Untransformable, ...]:
    """The top-level nests of ``func``; ``preludes[k]`` are statements that run right
    before top-level statement ``k`` (they count for liveness and for fresh names), and
    ``modules`` more names of pure modules (NumPy under another name)."""
    preludes = preludes or {}
    extra = [s for stmts in preludes.values() for s in stmts]
    names = frozenset(
        n.id for root in (func, *extra) for n in ast.walk(root) if isinstance(n, ast.Name)
    ) | {a.arg for a in func.args.args}
    arrays = _arraymentions(func)
    params = {a.arg for a in func.args.args}
    out: list[Nest | Untransformable] = []
    for index, stmt in enumerate(func.body):
        if isinstance(stmt, ast.For):
            lifter = _Lifter(func, arrays, params, itertools.count(), PURE_MODULES | modules)
            following = [
                s
                for j in range(index + 1, len(func.body))
                for s in (*preludes.get(j, ()), func.body[j])
            ]
            try:
                out.append(lifter.nest(index, stmt, following, names))
            except _Reject as exc:
                out.append(Untransformable(index, stmt.lineno, str(exc)))
        elif any(isinstance(n, ast.For | ast.While) for n in ast.walk(stmt)):
            kind = type(stmt).__name__.lower()
            out.append(Untransformable(index, stmt.lineno, f"loops inside a top-level `{kind}`"))
    return tuple(out)


def _arraymentions(func: ast.FunctionDef) -> set[str]:
    """Names subscripted anywhere in the function (``x.shape[0]`` subscripts an
    attribute, not a name, so shapes do not count)."""
    return {
        n.value.id
        for n in ast.walk(func)
        if isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name)
    }


class _Lifter:
    def __init__(
        self,
        func: ast.FunctionDef | None,
        arrays: set[str],
        params: set[str],
        ids: Any,
        modules: frozenset[str] = PURE_MODULES,
    ) -> None:
        self.func = func
        self.modules = modules
        self.arrays = arrays
        self.params = params
        self.ids = ids
        self.assigned: set[str] = set()  # names stored by statements in the nest
        self.loop_targets: set[str] = set()
        self.calls_checked = False

    def nest(
        self, index: int, node: ast.For, following: Sequence[ast.stmt], names: frozenset[str]
    ) -> Nest:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                self.assigned.add(sub.id)
            if isinstance(sub, ast.For) and isinstance(sub.target, ast.Name):
                self.loop_targets.add(sub.target.id)
        stored_by_stmts = {
            t.id
            for sub in ast.walk(node)
            if isinstance(sub, ast.Assign | ast.AugAssign)
            for t in ast.walk(sub)
            if isinstance(t, ast.Name) and isinstance(t.ctx, ast.Store)
        }
        clash = sorted(stored_by_stmts & self.loop_targets)
        if clash:
            raise _Reject(f"loop variable {clash[0]} is assigned inside the nest")
        for var in sorted(self.loop_targets):
            if live_after(var, following):
                raise _Reject(f"loop variable {var} is used after the loop nest")
        for array in sorted(self._arrays_in(node)):
            self._check_array_origin(array)
        root = self.loop(node, ())
        scalars = self.assigned - self.loop_targets
        live = frozenset(s for s in scalars if live_after(s, following))
        return Nest(index, node.lineno, (root,), live, names)

    def _arrays_in(self, node: ast.AST) -> set[str]:
        return {
            n.value.id
            for n in ast.walk(node)
            if isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name)
        }

    def _check_array_origin(self, array: str) -> None:
        if array in self.assigned:
            raise _Reject(f"array {array} is assigned inside the nest")
        assert self.func is not None
        for stmt in ast.walk(self.func):
            if isinstance(stmt, ast.Assign | ast.AnnAssign | ast.AugAssign):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                stored = {
                    t.id
                    for tgt in targets
                    for t in ast.walk(tgt)
                    if isinstance(t, ast.Name) and isinstance(t.ctx, ast.Store)
                }
                if array in stored and not _is_allocation(stmt.value):
                    raise _Reject(
                        f"line {stmt.lineno}: array {array} is assigned from an expression "
                        "that may share memory with another array"
                    )

    def loop(self, node: ast.For, outer: tuple[str, ...]) -> Loop:
        where = f"line {node.lineno}"
        if not isinstance(node.target, ast.Name):
            raise _Reject(f"{where}: the loop target is not a plain name")
        var = node.target.id
        if var in outer:
            raise _Reject(f"{where}: loop variable {var} shadows an outer loop variable")
        if node.orelse:
            raise _Reject(f"{where}: for-else is not supported")
        lower, upper, step = self._range(node, outer)
        items = (self.item(s, (*outer, var)) for s in node.body)
        body = tuple(b for b in items if b is not None)
        return Loop(next(self.ids), var, lower, upper, step, body, node.lineno)

    def _range(self, node: ast.For, outer: tuple[str, ...]) -> tuple[Affine, Affine, int]:
        call = node.iter
        if not (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name)
            and call.func.id == "range"
            and not call.keywords
            and 1 <= len(call.args) <= 3
        ):
            raise _Reject(f"line {node.lineno}: only `for ... in range(...)` loops are lifted")
        args = [self._invariant_affine(a, outer, "loop bound") for a in call.args]
        if len(args) == 1:
            args.insert(0, Affine.constant(0))
        step = args[2] if len(args) == 3 else Affine.constant(1)
        if not step.is_constant() or step.const == 0:
            raise _Reject(f"line {node.lineno}: the loop step is not a non-zero constant")
        return args[0], args[1], step.const

    def _invariant_affine(self, node: ast.expr, loop_vars: tuple[str, ...], what: str) -> Affine:
        try:
            expr = from_ast(node)
        except NotAffine as exc:
            raise _Reject(f"line {node.lineno}: {what} {exc}") from None
        for name in expr.names:
            base = symbol_base(name)
            if name in loop_vars:
                continue
            if name in self.loop_targets:
                raise _Reject(
                    f"line {node.lineno}: {what} {ast.unparse(node)} reads loop variable "
                    f"{name} outside its loop"
                )
            if base in self.assigned or base in self.loop_targets:
                raise _Reject(
                    f"line {node.lineno}: {what} {ast.unparse(node)} is not affine: "
                    f"{base} is computed inside the nest"
                )
        return expr

    def item(self, node: ast.stmt, loops: tuple[str, ...]) -> Node | None:
        if isinstance(node, ast.For):
            return self.loop(node, loops)
        if isinstance(node, ast.Pass):
            return None
        if isinstance(node, ast.Assign | ast.AugAssign | ast.If):
            return self.statement(node, loops)
        kind = type(node).__name__
        raise _Reject(f"line {node.lineno}: a `{kind}` statement inside the nest")

    def statement(self, node: ast.stmt, loops: tuple[str, ...]) -> Stmt:
        accesses: list[Access] = []
        reads: set[str] = set()
        writes: set[str] = set()
        self._check_statement(node, loops, accesses, reads, writes)
        stray = sorted((reads | writes) & (self.loop_targets - set(loops)))
        if stray:
            raise _Reject(f"line {node.lineno}: loop variable {stray[0]} is used outside its loop")
        unique = tuple(dict.fromkeys(accesses))
        return Stmt(next(self.ids), node, unique, frozenset(reads), frozenset(writes), node.lineno)

    def _check_statement(
        self,
        node: ast.stmt,
        loops: tuple[str, ...],
        accesses: list[Access],
        reads: set[str],
        writes: set[str],
    ) -> None:
        where = f"line {node.lineno}"
        if isinstance(node, ast.If):
            self._expr(node.test, loops, accesses, reads)
            for sub in (*node.body, *node.orelse):
                if isinstance(sub, ast.Pass):
                    continue
                if not isinstance(sub, ast.Assign | ast.AugAssign | ast.If):
                    raise _Reject(f"line {sub.lineno}: a `{type(sub).__name__}` inside an `if`")
                self._check_statement(sub, loops, accesses, reads, writes)
            return
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]  # type: ignore[attr-defined]
        if len(targets) != 1:
            raise _Reject(f"{where}: chained assignment")
        target = targets[0]
        self._expr(node.value, loops, accesses, reads)  # type: ignore[attr-defined]
        if isinstance(target, ast.Name):
            writes.add(target.id)
            if isinstance(node, ast.AugAssign):
                reads.add(target.id)
        elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
            index = self._subscript(target, loops, node)
            accesses.append(Access(target.value.id, index, True))
            if isinstance(node, ast.AugAssign):
                accesses.append(Access(target.value.id, index, False))
        else:
            raise _Reject(f"{where}: assignment to {ast.unparse(target)}")

    def _subscript(
        self, node: ast.Subscript, loops: tuple[str, ...], stmt: ast.stmt | None = None
    ) -> tuple[Affine, ...]:
        elts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if any(isinstance(e, ast.Slice) for e in elts):
            raise _Reject(f"line {node.lineno}: slice {ast.unparse(node)}")
        try:
            return tuple(self._invariant_affine(e, loops, "subscript") for e in elts)
        except _Reject as exc:
            if isinstance(stmt, ast.AugAssign):
                raise _Reject(
                    f"line {node.lineno}: reduction {ast.unparse(node)} "
                    f"{_op_text(stmt.op)}= ... on an indirect subscript, which is not affine"
                ) from None
            raise _Reject(f"{exc}") from None

    def _expr(
        self, node: ast.expr, loops: tuple[str, ...], accesses: list[Access], reads: set[str]
    ) -> None:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Lambda | ast.NamedExpr | ast.comprehension | ast.Starred):
                raise _Reject(f"line {node.lineno}: `{type(sub).__name__}` inside the nest")
            if isinstance(sub, ast.Call):
                self._call(sub, loops)
            elif isinstance(sub, ast.Subscript):
                if isinstance(sub.value, ast.Name):
                    index = self._subscript(sub, loops)
                    accesses.append(Access(sub.value.id, index, False))
                elif not _is_shape_subscript(sub):
                    raise _Reject(f"line {sub.lineno}: subscript {ast.unparse(sub)}")
            elif isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load):
                reads.add(sub.id)
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and sub.id in self.arrays and not _subscripted(sub, node):
                raise _Reject(f"line {sub.lineno}: array {sub.id} is used as a whole")

    def _call(self, call: ast.Call, loops: tuple[str, ...]) -> None:
        func = call.func
        pure = (isinstance(func, ast.Name) and func.id in PURE_BUILTINS | {"len"}) or (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id in self.modules
        )
        if pure or self.calls_checked:
            return
        if not isinstance(func, ast.Name):
            raise _Reject(f"line {call.lineno}: call to {ast.unparse(func)} may touch arrays")
        scalars = (self.assigned | set(loops)) - self.arrays
        for arg in [*call.args, *(k.value for k in call.keywords)]:
            for sub in ast.walk(arg):
                if isinstance(sub, ast.Name) and sub.id not in scalars and sub is arg:
                    raise _Reject(
                        f"line {call.lineno}: call {ast.unparse(call)} may touch array {sub.id}"
                    )


def describe_statement(node: ast.stmt, loops: tuple[str, ...], ids: Any) -> Stmt:
    """The IR of a statement already known to be inside the affine subset (one that
    normalization rewrote)."""
    lifter = _Lifter(None, set(), set(), ids)
    lifter.calls_checked = True
    return lifter.statement(node, loops)


def _is_shape_subscript(node: ast.Subscript) -> bool:
    return (
        isinstance(node.value, ast.Attribute)
        and node.value.attr == "shape"
        and isinstance(node.value.value, ast.Name)
    )


def _subscripted(name: ast.Name, root: ast.expr) -> bool:
    """Whether ``name`` is the value of a subscript, or of ``.shape``/``len`` in ``root``."""
    for sub in ast.walk(root):
        if isinstance(sub, ast.Subscript) and sub.value is name:
            return True
        if isinstance(sub, ast.Attribute) and sub.value is name:
            return True
        if (
            isinstance(sub, ast.Call)
            and isinstance(sub.func, ast.Name)
            and sub.func.id == "len"
            and name in sub.args
        ):
            return True
    return False


def _op_text(op: ast.operator) -> str:
    return {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}.get(type(op), "?")


def _is_allocation(value: ast.expr | None) -> bool:
    if not isinstance(value, ast.Call):
        return False
    func = value.func
    if isinstance(func, ast.Attribute) and func.attr in ALLOCATORS:
        return isinstance(func.value, ast.Name) and func.value.id in PURE_MODULES
    return isinstance(func, ast.Attribute) and func.attr == "copy" and not value.args
