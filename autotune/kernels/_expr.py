"""A small, safe expression language for problem sizes and kernel parameters.

Spec files describe launch geometry, restrictions and performance models as text such
as ``"ceil_div(N, BN)"`` or ``"(BM // TM) * (BN // TN) <= 1024"``. :class:`Expr` parses
such text once with :mod:`ast` and evaluates it by walking the tree, never with
``eval``. Only this subset of Python is allowed:

* constants: ``int``, ``float``, ``bool``; names (bound when evaluated);
* arithmetic ``+ - * / // % **``, unary ``- +`` and ``not``;
* comparisons (chained, as in Python), ``and``, ``or``, ``x if c else y``;
* calls of :data:`FUNCTIONS`: ``min``, ``max``, ``abs``, ``int``, ``round``,
  ``log2`` (:func:`math.log2`) and ``ceil_div(a, b)`` (``a`` divided by ``b``, rounded
  up).

Everything else (attributes, subscripts, strings, lambdas, other calls, keyword
arguments) is refused when parsed. Results follow Python's own rules; integers are
capped at :data:`MAX_INT_BITS` bits, so that ``2 ** 10 ** 9`` is an error instead of an
hour of work. Every failure is an :class:`InputError` of one line naming the text.
"""

from __future__ import annotations

import ast
import math
import numbers
import operator
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from autotune.errors import InputError

Number = int | float | bool

#: Longest expression text accepted.
MAX_LENGTH = 2000
#: Deepest nesting of operations accepted (``1+1+...`` nests once per ``+``).
MAX_DEPTH = 100
#: Largest integer magnitude, in bits, that evaluation may produce.
MAX_INT_BITS = 4096
#: Largest ``ndigits`` of ``round``: beyond it ``round`` of an int computes huge powers.
MAX_ROUND_DIGITS = 400


def _ceil_div(a: Number, b: Number) -> Number:
    return -(-a // b)


def _round(x: Number, ndigits: Number | None = None) -> Number:
    if ndigits is None:
        return round(x)
    if isinstance(ndigits, float) or abs(ndigits) > MAX_ROUND_DIGITS:
        raise ValueError(f"round's ndigits must be an integer within ±{MAX_ROUND_DIGITS}")
    return round(x, int(ndigits))


#: The callable functions: name -> (function, fewest arguments, most arguments).
FUNCTIONS: dict[str, tuple[Callable[..., Number], int, int]] = {
    "min": (min, 2, 64),
    "max": (max, 2, 64),
    "abs": (abs, 1, 1),
    "int": (int, 1, 1),
    "round": (_round, 1, 2),
    "log2": (math.log2, 1, 1),
    "ceil_div": (_ceil_div, 2, 2),
}

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
    ast.Not: operator.not_,
}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_ALLOWED: tuple[type[ast.AST], ...] = (
    ast.Expression,
    ast.Load,
    ast.Constant,
    ast.Name,
    ast.BinOp,
    ast.UnaryOp,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.Compare,
    ast.IfExp,
    ast.Call,
    *_BINARY,
    *_UNARY,
    *_COMPARE,
)


@dataclass(frozen=True, init=False)
class Expr:
    """An expression, parsed and checked once; immutable and hashable by its text.

    ``Expr("ceil_div(N, BN)")``; ``Expr(256)`` for a number. Raises :class:`InputError`
    (one line) for text that is too long, not valid Python, or uses anything outside
    the allowed subset (see the module docstring).

    Attributes:
        text: the expression as written (numbers as Python writes them).
        names: every name it reads.
    """

    text: str
    names: frozenset[str] = field(compare=False)
    _tree: ast.expr = field(compare=False, repr=False)

    def __init__(self, source: str | int | float | bool) -> None:
        text = _text_of(source)
        tree = _parsed(text)
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "_tree", tree)
        object.__setattr__(self, "names", frozenset(_names(tree)))

    def __str__(self) -> str:
        return self.text

    def evaluate(self, env: Mapping[str, Any]) -> Number:
        """The value of the expression with its names bound by ``env``.

        Raises :class:`InputError` naming the text for a name ``env`` lacks or binds to
        something other than a real number, and for any arithmetic failure (division by
        zero, overflow, a complex or too large result, ``log2`` of a non-positive
        number).
        """
        try:
            return _Evaluator(self.text, env).value(self._tree)
        except InputError:
            raise
        except RecursionError:
            raise InputError(f"expression {_shown(self.text)}: nested too deeply") from None
        except (ArithmeticError, ValueError, TypeError) as exc:
            reason = " ".join(str(exc).split())
            raise InputError(
                f"expression {_shown(self.text)}: {type(exc).__name__}: {reason}"
            ) from None


def _text_of(source: object) -> str:
    """The text of ``source``: a string, or a finite number written as Python writes it
    (``inf`` would read as a name)."""
    if isinstance(source, bool):
        return repr(source)
    if isinstance(source, numbers.Integral):
        return repr(int(source))
    if isinstance(source, numbers.Real):
        if not math.isfinite(source):
            raise InputError(f"an expression must be a finite number, got {source!r}")
        return repr(float(source))
    if not isinstance(source, str):
        raise InputError(f"an expression must be a string or a number, got {source!r}")
    if len(source) > MAX_LENGTH:
        raise InputError(f"expression {_shown(source)}: longer than {MAX_LENGTH} characters")
    return source


def _shown(text: str, limit: int = 80) -> str:
    """``text`` quoted for a message, cut to ``limit`` characters (a message is one
    line, and an expression may be thousands of characters long)."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "..."


def _parsed(text: str) -> ast.expr:
    """The checked tree of ``text``; :class:`InputError` for anything not allowed."""
    shown = f"expression {_shown(text)}"
    if not text.strip():
        raise InputError(f"{shown}: empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. "invalid decimal literal": refused anyway
            tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise InputError(f"{shown}: invalid syntax: {exc.msg}") from None
    except (ValueError, RecursionError, MemoryError, OverflowError) as exc:
        # null bytes, integer literals too long to convert, the parser's own limits
        reason = " ".join(str(exc).split())
        raise InputError(f"{shown}: cannot be parsed: {type(exc).__name__}: {reason}") from None
    _check(shown, tree)
    return tree.body


def _check(shown: str, tree: ast.Expression) -> None:
    """Refuse any node outside the subset, nesting beyond :data:`MAX_DEPTH`, and calls
    that are not of :data:`FUNCTIONS` with their number of arguments. Iterative, so that
    no tree is too deep to be checked."""
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise InputError(f"{shown}: nested more than {MAX_DEPTH} levels deep")
        problem = _node_problem(node)
        if problem is not None:
            raise InputError(f"{shown}: {problem}")
        children = ast.iter_child_nodes(node)
        if isinstance(node, ast.Call):
            children = iter(node.args)  # the function's name is not a variable
        stack.extend((child, depth + 1) for child in children)


def _node_problem(node: ast.AST) -> str | None:
    """What in ``node`` itself is outside the subset, or ``None``."""
    if not isinstance(node, _ALLOWED):
        return f"{_described(node)} not allowed"
    if isinstance(node, ast.Constant):
        value = node.value
        if not isinstance(value, bool | int | float):
            return f"a {type(value).__name__} constant is not allowed (only numbers and booleans)"
        if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
            return f"an integer of over {MAX_INT_BITS} bits is not allowed"
    if isinstance(node, ast.Name) and node.id in FUNCTIONS:
        return f"the function {node.id!r} must be called"
    if isinstance(node, ast.Call):
        return _call_problem(node)
    return None


def _call_problem(node: ast.Call) -> str | None:
    if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
        what = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
        return f"calling {_shown(what)} is not allowed (functions: {', '.join(FUNCTIONS)})"
    if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
        return f"keyword or starred arguments to {node.func.id!r} are not allowed"
    _, fewest, most = FUNCTIONS[node.func.id]
    if not fewest <= len(node.args) <= most:
        count = str(fewest) if fewest == most else f"{fewest} to {most}"
        return f"{node.func.id!r} takes {count} arguments, got {len(node.args)}"
    return None


def _described(node: ast.AST) -> str:
    kinds = {
        ast.Attribute: "attribute access is",
        ast.Subscript: "subscripts are",
        ast.Lambda: "lambda is",
        ast.Starred: "starred arguments are",
        ast.NamedExpr: "assignment is",
    }
    for kind, words in kinds.items():
        if isinstance(node, kind):
            return words
    return f"the syntax {type(node).__name__} is"


def _names(tree: ast.expr) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in FUNCTIONS:
            yield node.id


class _Evaluator:
    """Evaluation of one checked tree with the names of ``env``."""

    def __init__(self, text: str, env: Mapping[str, Any]) -> None:
        self.text = text
        self.env = env

    def fail(self, why: str) -> InputError:
        return InputError(f"expression {_shown(self.text)}: {why}")

    def value(self, node: ast.expr) -> Number:
        if isinstance(node, ast.Constant):
            return self.checked(node.value)  # numbers only, as parsing made sure
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.BinOp):
            return self.binary(node)
        if isinstance(node, ast.UnaryOp):
            return self.checked(_UNARY[type(node.op)](self.value(node.operand)))
        if isinstance(node, ast.BoolOp):
            return self.boolean(node)
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.IfExp):
            chosen = node.body if self.value(node.test) else node.orelse
            return self.value(chosen)
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        function = FUNCTIONS[node.func.id][0]
        return self.checked(function(*(self.value(a) for a in node.args)))

    def name(self, name: str) -> Number:
        if name not in self.env:
            known = ", ".join(sorted(self.env)) or "none"
            raise self.fail(f"unknown name {name!r} (known: {known})")
        value = self.env[name]
        if isinstance(value, bool | int | float):
            return value
        if isinstance(value, numbers.Integral):  # NumPy integers
            return int(value)
        if isinstance(value, numbers.Real):
            return float(value)
        raise self.fail(f"{name!r} is {value!r}, not a number")

    def binary(self, node: ast.BinOp) -> Number:
        left, right = self.value(node.left), self.value(node.right)
        if isinstance(node.op, ast.Pow):
            self.check_power(left, right)
        return self.checked(_BINARY[type(node.op)](left, right))

    def check_power(self, base: Number, exponent: Number) -> None:
        """Refuse integer powers whose result would exceed :data:`MAX_INT_BITS`, before
        computing them."""
        if isinstance(base, float) or isinstance(exponent, float) or exponent <= 0:
            return  # float powers overflow with an error of their own
        if abs(base) > 1 and exponent * math.log2(abs(base)) > MAX_INT_BITS:
            raise self.fail(f"{base} ** {exponent} is over {MAX_INT_BITS} bits")

    def boolean(self, node: ast.BoolOp) -> Number:
        result = self.value(node.values[0])
        for operand in node.values[1:]:
            if (not result) if isinstance(node.op, ast.And) else result:
                return result  # short circuit, as Python does
            result = self.value(operand)
        return result

    def compare(self, node: ast.Compare) -> bool:
        left = self.value(node.left)
        for op, operand in zip(node.ops, node.comparators, strict=True):
            right = self.value(operand)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True

    def checked(self, result: Any) -> Number:
        """``result``, unless it is complex or an integer beyond :data:`MAX_INT_BITS`."""
        if isinstance(result, int) and result.bit_length() > MAX_INT_BITS:
            raise self.fail(f"a result is over {MAX_INT_BITS} bits")
        if not isinstance(result, bool | int | float):
            raise self.fail(f"a result is {type(result).__name__}, not a real number")
        return result
