"""Affine integer expressions over named variables, read from and written to Python ASTs.

A name is either a loop variable, a loop-invariant scalar (an argument such as ``n``) or
an opaque invariant expression such as ``x.shape[0]``, named by its source text.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Affine:
    """``sum(coeff * name) + const`` with integer coefficients; no zero coefficients.

    Also used for constraints, read as ``self >= 0``.
    """

    terms: tuple[tuple[str, int], ...] = ()
    const: int = 0

    @staticmethod
    def of(mapping: Mapping[str, int], const: int = 0) -> Affine:
        return Affine(tuple(sorted((k, v) for k, v in mapping.items() if v)), const)

    @staticmethod
    def var(name: str, coeff: int = 1) -> Affine:
        return Affine(((name, coeff),) if coeff else (), 0)

    @staticmethod
    def constant(value: int) -> Affine:
        return Affine((), value)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(name for name, _ in self.terms)

    def coeff(self, name: str) -> int:
        for n, c in self.terms:
            if n == name:
                return c
        return 0

    def is_constant(self) -> bool:
        return not self.terms

    def __add__(self, other: Affine | int) -> Affine:
        if isinstance(other, int):
            return Affine(self.terms, self.const + other)
        merged = dict(self.terms)
        for name, c in other.terms:
            merged[name] = merged.get(name, 0) + c
        return Affine.of(merged, self.const + other.const)

    def __neg__(self) -> Affine:
        return Affine(tuple((n, -c) for n, c in self.terms), -self.const)

    def __sub__(self, other: Affine | int) -> Affine:
        return self + (-other)

    def scale(self, factor: int) -> Affine:
        if factor == 0:
            return Affine()
        return Affine(tuple((n, c * factor) for n, c in self.terms), self.const * factor)

    def substitute(self, mapping: Mapping[str, Affine]) -> Affine:
        out = Affine((), self.const)
        for name, c in self.terms:
            out = out + (mapping[name].scale(c) if name in mapping else Affine.var(name, c))
        return out

    def drop(self, name: str) -> Affine:
        """This expression without its ``name`` term."""
        return Affine(tuple((n, c) for n, c in self.terms if n != name), self.const)

    def tightened(self) -> Affine:
        """As a constraint ``self >= 0`` over integers: divided by the gcd of its
        coefficients, the constant rounded down (keeps every integer solution)."""
        if not self.terms:
            return self
        g = math.gcd(*(abs(c) for _, c in self.terms))
        if g == 1:
            return self
        return Affine(tuple((n, c // g) for n, c in self.terms), self.const // g)

    def __str__(self) -> str:
        return ast.unparse(to_ast(self))


def to_ast(expr: Affine) -> ast.expr:
    """A Python expression computing ``expr`` (names with dots/brackets are re-parsed)."""
    node: ast.expr | None = None
    for name, c in expr.terms:
        term = _name_ast(name)
        mag = abs(c)
        if mag != 1:
            term = ast.BinOp(ast.Constant(mag), ast.Mult(), term)
        if node is None:
            node = term if c > 0 else ast.UnaryOp(ast.USub(), term)
        else:
            node = ast.BinOp(node, ast.Add() if c > 0 else ast.Sub(), term)
    if node is None:
        return ast.Constant(expr.const)
    if expr.const:
        op: ast.operator = ast.Add() if expr.const > 0 else ast.Sub()
        node = ast.BinOp(node, op, ast.Constant(abs(expr.const)))
    return node


def _name_ast(name: str) -> ast.expr:
    if name.isidentifier():
        return ast.Name(name, ast.Load())
    return ast.parse(name, mode="eval").body


class NotAffine(Exception):
    """Raised inside :func:`from_ast` only; callers turn it into a reason string."""


def from_ast(node: ast.expr) -> Affine:
    """Read ``node`` as an affine expression; raises :class:`NotAffine` with a reason.

    Names become variables; ``X.shape[c]`` and ``len(X)`` become opaque symbols named by
    their text. Products need a constant factor.
    """
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return Affine.constant(node.value)
    if isinstance(node, ast.Name):
        return Affine.var(node.id)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = from_ast(node.operand)
        return -inner if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
        left, right = from_ast(node.left), from_ast(node.right)
        return left + right if isinstance(node.op, ast.Add) else left - right
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        left, right = from_ast(node.left), from_ast(node.right)
        if left.is_constant():
            return right.scale(left.const)
        if right.is_constant():
            return left.scale(right.const)
        raise NotAffine(f"{ast.unparse(node)} multiplies two variables")
    if _is_shape_symbol(node):
        return Affine.var(ast.unparse(node))
    raise NotAffine(f"{ast.unparse(node)} is not an affine integer expression")


def shape_dim(node: ast.AST) -> tuple[str, int] | None:
    """``(X, c)`` for ``X.shape[c]`` with ``X`` a plain name and ``c >= 0``."""
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "shape"
        and isinstance(node.value.value, ast.Name)
        and isinstance(node.slice, ast.Constant)
        and type(node.slice.value) is int
        and node.slice.value >= 0
    ):
        return node.value.value.id, node.slice.value
    return None


def _is_shape_symbol(node: ast.expr) -> bool:
    """``X.shape[c]``, ``X.size`` or ``len(X)`` with ``X`` a plain name."""
    if shape_dim(node) is not None:
        return True
    if (
        isinstance(node, ast.Attribute)
        and node.attr in ("size", "ndim")
        and isinstance(node.value, ast.Name)
    ):
        return True
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "len"
        and len(node.args) == 1
        and not node.keywords
        and isinstance(node.args[0], ast.Name)
    )


def symbol_base(name: str) -> str:
    """The plain variable an opaque symbol reads (``x`` for ``x.shape[0]``)."""
    if name.isidentifier():
        return name
    for node in ast.walk(ast.parse(name, mode="eval")):
        if isinstance(node, ast.Name) and node.id != "len":
            return node.id
    return name
