"""Declaring a tunable CPU kernel: inputs, outputs, reference, tolerance, parameters."""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autotune.errors import InputError
from autotune.space import BaseParam

InputFactory = Callable[..., Sequence[Any]]
RETURN = "return"


@dataclass(eq=False)
class KernelDecl:
    """A kernel declared for tuning. Declaring is not applying: this object never
    looks up tuned configs; it says what to build, how to feed it and how to check it.

    Attributes:
        name: the kernel's name (its function name unless given).
        pyfunc: the pure-Python function Numba compiles.
        inputs: ``inputs(rng, **sizes[size])`` returns the argument tuple; it must
            depend only on ``rng`` and the size keywords.
        outputs: argument indices written by the kernel, and/or ``"return"``.
        reference: called like the kernel on fresh inputs; ``None`` means Numba's
            default build of the kernel is the reference.
        rtol, atol: tolerance of ``numpy.allclose`` on every output.
        params: kernel parameters; each reaches the kernel as a global constant.
        sizes: named problem sizes (keyword arguments for ``inputs``); the first one is
            the default.
        allow_fastmath: whether fastmath flags may be tried (still only within tolerance).
        constraints: ``(name, check)`` pairs; ``check(params)`` is true for valid
            combinations of kernel parameters. Invalid ones are never built.
    """

    name: str
    pyfunc: Callable[..., Any]
    inputs: InputFactory
    outputs: tuple[int | str, ...]
    reference: Callable[..., Any] | None = None
    rtol: float = 1e-7
    atol: float = 0.0
    params: dict[str, BaseParam] = field(default_factory=dict)
    sizes: dict[str, dict[str, Any]] = field(default_factory=lambda: {"default": {}})
    allow_fastmath: bool = True
    constraints: list[tuple[str, Callable[[dict[str, Any]], bool]]] = field(default_factory=list)
    source: str = ""
    _default_dispatcher: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._validate()

    def _validate(self) -> None:
        where = f"kernel {self.name!r}"
        if not callable(self.inputs):
            raise InputError(f"{where}: inputs must be a callable input factory")
        if not self.outputs:
            raise InputError(
                f"{where}: declare at least one output (an argument index or 'return')"
            )
        nargs = len(inspect.signature(self.pyfunc).parameters)
        for out in self.outputs:
            if out == RETURN:
                continue
            if not isinstance(out, int) or isinstance(out, bool) or not 0 <= out < nargs:
                raise InputError(
                    f"{where}: output {out!r} is not an argument index in [0, {nargs})"
                )
        if self.rtol < 0 or self.atol < 0:
            raise InputError(f"{where}: rtol and atol must be >= 0")
        if not self.sizes or not all(isinstance(v, dict) for v in self.sizes.values()):
            raise InputError(f"{where}: sizes must map at least one size name to keyword arguments")
        used = set(_global_names(self.pyfunc.__code__))
        for pname, param in self.params.items():
            if not isinstance(param, BaseParam):
                raise InputError(f"{where}: parameter {pname!r} must be an autotune parameter")
            if pname not in used:
                raise InputError(f"{where}: parameter {pname!r} is never read by the kernel")

    @property
    def default_size(self) -> str:
        return next(iter(self.sizes))

    def make_inputs(self, seed: int, size: str | None = None) -> tuple[Any, ...]:
        """The argument tuple for input set ``seed`` at problem size ``size``."""
        size = size or self.default_size
        if size not in self.sizes:
            raise InputError(
                f"kernel {self.name!r} has no size {size!r}; known: {list(self.sizes)}"
            )
        args = self.inputs(np.random.default_rng(seed), **self.sizes[size])
        return tuple(args)

    def default_params(self) -> dict[str, Any]:
        return {name: p.default for name, p in self.params.items()}

    def bind(self, params: Mapping[str, Any]) -> Callable[..., Any]:
        """A copy of the kernel function whose globals hold ``params``.

        Numba freezes globals at compile time, so each value becomes a constant.
        """
        func = self.pyfunc
        scope = dict(func.__globals__)
        scope.update(_as_constant(v) for v in params.items())
        bound = types.FunctionType(
            func.__code__, scope, func.__name__, func.__defaults__, func.__closure__
        )
        bound.__kwdefaults__ = func.__kwdefaults__
        bound.__qualname__ = func.__qualname__
        bound.__module__ = func.__module__
        return bound

    def __call__(self, *args: Any) -> Any:
        """Run the kernel with default parameters under Numba's default build."""
        if self._default_dispatcher is None:
            import numba

            self._default_dispatcher = numba.njit(self.bind(self.default_params()))
        return self._default_dispatcher(*args)


def _sizes_or_default(
    sizes: Mapping[str, Mapping[str, Any]] | None,
) -> Mapping[str, Mapping[str, Any]]:
    return {"default": {}} if sizes is None else sizes


def _as_constant(item: tuple[str, Any]) -> tuple[str, Any]:
    name, value = item
    # Lists (permutations) must be tuples to be Numba compile-time constants.
    return name, tuple(value) if isinstance(value, list) else value


def _global_names(code: types.CodeType) -> Iterator[str]:
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _global_names(const)


def kernel(
    *,
    inputs: InputFactory,
    outputs: Sequence[int | str] | int | str,
    reference: Callable[..., Any] | None = None,
    rtol: float = 1e-7,
    atol: float = 0.0,
    params: Mapping[str, BaseParam] | None = None,
    sizes: Mapping[str, Mapping[str, Any]] | None = None,
    fastmath: bool = True,
    constraints: Sequence[Callable[[dict[str, Any]], bool]] = (),
    name: str | None = None,
) -> Callable[[Callable[..., Any]], KernelDecl]:
    """Declare a tunable kernel.

    Example::

        @autotune.kernel(
            inputs=lambda rng, n: (rng.random((n, n)), rng.random((n, n)), np.zeros((n, n))),
            sizes={"small": {"n": 64}, "medium": {"n": 256}},
            outputs=[2], rtol=1e-9, params={"ORDER": autotune.Permutation(("i", "j", "k"))},
        )
        def matmul(A, B, C): ...
    """

    def wrap(func: Callable[..., Any]) -> KernelDecl:
        pyfunc = getattr(func, "py_func", func)  # accept an @njit dispatcher too
        if not isinstance(pyfunc, types.FunctionType):
            raise InputError(f"@autotune.kernel needs a Python function, got {func!r}")
        outs = outputs if isinstance(outputs, list | tuple) else (outputs,)
        return KernelDecl(
            name=name or pyfunc.__name__,
            pyfunc=pyfunc,
            inputs=inputs,
            outputs=tuple(outs),
            reference=reference,
            rtol=rtol,
            atol=atol,
            params=dict(params or {}),
            sizes={k: dict(v) for k, v in _sizes_or_default(sizes).items()},
            allow_fastmath=fastmath,
            constraints=[
                (getattr(c, "__name__", f"constraint{i}"), c) for i, c in enumerate(constraints)
            ],
        )

    return wrap
