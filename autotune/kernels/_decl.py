"""Declaring a tunable CPU kernel: inputs, outputs, reference, tolerance, parameters."""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from autotune.errors import InputError
from autotune.kernels._checks import check_constraints, perturb_problem, tolerance_problem
from autotune.kernels._inputs import argument_tuple, identical_input_sets, perturbed
from autotune.kernels._options import applied_njit_options, author_njit_options, baseline_options
from autotune.space import BaseParam

InputFactory = Callable[..., Sequence[Any]]
RETURN = "return"


@dataclass(eq=False)
class KernelDecl:
    """A kernel declared for tuning: what to build, how to feed it and how to check it.
    Calling it runs it as ``@autotune.jit`` would (see :meth:`__call__`).

    Attributes:
        name: the kernel's name (its function name unless given).
        pyfunc: the pure-Python function Numba compiles.
        inputs: ``inputs(rng, **sizes[size])`` returns the argument tuple; it must
            depend only on ``rng`` and the size keywords.
        outputs: argument indices written by the kernel, and/or ``"return"``.
        reference: called like the kernel on fresh inputs; ``None`` means Numba's
            default build of the kernel is the reference.
        rtol, atol: tolerance of ``numpy.allclose`` on every output; finite and
            non-negative, and ``rtol`` below 1 (one or more accepts any value of the
            right sign).
        params: kernel parameters; each reaches the kernel as a global constant.
        sizes: named problem sizes (keyword arguments for ``inputs``); the first one is
            the default.
        allow_fastmath: whether fastmath flags may be tried (still only within tolerance).
        constraints: ``(name, check)`` pairs; ``check(params)`` is true for valid
            combinations of kernel parameters. Invalid ones are never built. A check
            that raises on the default parameters is refused when declared; one that
            raises on another combination makes that combination invalid.
        perturb: in [0, 0.1]. Results are verified on two input sets (see
            :meth:`input_sets`); when ``inputs`` ignores its ``rng`` the two are
            identical and the second check proves nothing. With ``perturb > 0`` the
            held-back set's floating-point arrays are then multiplied elementwise by
            ``1 + perturb * u``, ``u`` uniform in [-1, 1]: shapes, dtypes, zeros and
            integer (index) data are kept, so the problem stays the same one.
        njit_options: the author's ``numba.njit`` options (an ``@njit`` dispatcher's
            ``targetoptions``), the base of the baseline and of every candidate; ``{}``
            for a plain function. Normalized by :func:`applied_njit_options`: never
            ``cache`` (tuned builds must not write Numba's disk cache).
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
    perturb: float = 0.0
    njit_options: dict[str, Any] = field(default_factory=dict)
    _tuned: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.njit_options, Mapping):
            raise InputError(
                f"kernel {self.name!r}: njit_options must map option names to values, "
                f"got {self.njit_options!r}"
            )
        self.njit_options = applied_njit_options(self.njit_options)
        self._validate()

    def as_baseline(self, kind: str) -> KernelDecl:
        """This declaration as tuned against the baseline ``kind``: itself for
        ``as-written``; for ``numba-default`` a copy without the author's options, so
        that the baseline and every candidate build on plain ``numba.njit``.

        Raises ValueError for an unknown kind.
        """
        options = baseline_options(self.njit_options, kind)
        if options == self.njit_options:
            return self
        return replace(self, njit_options=options, _tuned=None)

    def _validate(self) -> None:
        """Raise :class:`InputError` (one line) for anything that cannot be tuned."""
        where = f"kernel {self.name!r}"
        if not callable(self.inputs):
            raise InputError(f"{where}: inputs must be a callable input factory")
        if self.reference is not None and not callable(self.reference):
            raise InputError(f"{where}: reference must be a function, got {self.reference!r}")
        self._validate_outputs(where)
        for problem in (
            tolerance_problem("rtol", self.rtol, relative=True),
            tolerance_problem("atol", self.atol, relative=False),
            perturb_problem("perturb", self.perturb),
        ):
            if problem is not None:
                raise InputError(f"{where}: {problem}")
        self._validate_sizes(where)
        used = set(_global_names(self.pyfunc.__code__))
        for pname, param in self.params.items():
            if not isinstance(param, BaseParam):
                raise InputError(f"{where}: parameter {pname!r} must be an autotune parameter")
            if pname not in used:
                raise InputError(f"{where}: parameter {pname!r} is never read by the kernel")
        check_constraints(where, self.constraints, self.default_params())

    def _validate_outputs(self, where: str) -> None:
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

    def _validate_sizes(self, where: str) -> None:
        if not self.sizes or not all(
            isinstance(name, str) and isinstance(kw, dict) and all(isinstance(k, str) for k in kw)
            for name, kw in self.sizes.items()
        ):
            raise InputError(
                f"{where}: sizes must map at least one size name to keyword arguments, "
                f"got {self.sizes!r}"
            )
        signature = _signature(self.inputs)
        if signature is None:
            return  # a callable without a signature is only checked when called
        for size, kwargs in self.sizes.items():
            try:
                signature.bind(None, **kwargs)
            except TypeError as exc:
                raise InputError(
                    f"{where}: inputs cannot be called as inputs(rng, **sizes[{size!r}]): {exc}"
                ) from None

    @property
    def loaded_from(self) -> str:
        """The file a worker process loads this kernel from (:attr:`source`)."""
        return self.source

    @property
    def default_size(self) -> str:
        return next(iter(self.sizes))

    def make_inputs(self, seed: int, size: str | None = None) -> tuple[Any, ...]:
        """The argument tuple for input set ``seed`` at problem size ``size``.

        Raises :class:`InputError` when ``size`` is unknown, or when ``inputs`` returns
        something other than a tuple or list of as many arguments as the kernel takes.
        """
        size = size or self.default_size
        if size not in self.sizes:
            raise InputError(
                f"kernel {self.name!r} has no size {size!r}; known: {list(self.sizes)}"
            )
        made = self.inputs(np.random.default_rng(seed), **self.sizes[size])
        args = argument_tuple(f"the inputs of kernel {self.name!r}", made)
        try:
            inspect.signature(self.pyfunc).bind(*args)
        except TypeError as exc:
            raise InputError(
                f"kernel {self.name!r}: its inputs give {len(args)} arguments: {exc}"
            ) from None
        return args

    def input_sets(self, seed: int, size: str | None) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        """The timed input set (made with ``seed``) and the held-back one (``seed + 1``)
        on which results are verified as well.

        When the two are identical (see :func:`identical_input_sets`) and ``perturb`` is
        set, the held-back set is :func:`perturbed` with a generator seeded ``seed + 1``.
        """
        timed = self.make_inputs(seed, size)
        held_back = self.make_inputs(seed + 1, size)
        if self.perturb > 0 and identical_input_sets(timed, held_back):
            held_back = perturbed(held_back, float(self.perturb), seed + 1)
        return timed, held_back

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
        """Run the kernel, each argument signature built with its tuned config from
        the config cache (the per-user database, or ``$AUTOTUNE_DB``), else with the
        default parameters under Numba's default build and one warning saying how to
        tune it: exactly as :func:`autotune.jit` would. Nothing is tuned here."""
        if self._tuned is None:
            from autotune.deploy import jit

            self._tuned = jit(self)
        return self._tuned(*args)


def _signature(func: Callable[..., Any]) -> inspect.Signature | None:
    """``func``'s signature, or ``None`` for callables that do not expose one."""
    try:
        return inspect.signature(func)
    except (TypeError, ValueError):
        return None


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
    perturb: float = 0.0,
) -> Callable[[Callable[..., Any]], KernelDecl]:
    """Declare a tunable kernel (see :class:`KernelDecl` for what each argument means).
    Applied over ``@numba.njit(...)``, the dispatcher's options are the author's
    ``njit_options``: the baseline is the kernel as written.

    Bad arguments raise :class:`InputError`; loading the file reports it at the
    decorator's line. Example::

        @autotune.kernel(
            inputs=lambda rng, n: (rng.random((n, n)), rng.random((n, n)), np.zeros((n, n))),
            sizes={"small": {"n": 64}, "medium": {"n": 256}},
            outputs=[2], rtol=1e-9, params={"ORDER": autotune.Permutation(("i", "j", "k"))},
        )
        def matmul(A, B, C): ...
    """

    def wrap(func: Callable[..., Any]) -> KernelDecl:
        # An @njit dispatcher works too; its options are kept as the author's.
        pyfunc = getattr(func, "py_func", func)
        if not isinstance(pyfunc, types.FunctionType):
            raise InputError(f"@autotune.kernel needs a Python function, got {func!r}")
        kname = pyfunc.__name__ if name is None else name
        where = f"kernel {kname!r}"
        _check_decorator_types(where, kname, params, sizes, fastmath, constraints)
        outs = outputs if isinstance(outputs, list | tuple) else (outputs,)
        return KernelDecl(
            name=kname,
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
            perturb=perturb,
            njit_options=author_njit_options(func),
        )

    return wrap


def _check_decorator_types(
    where: str,
    name: object,
    params: object,
    sizes: object,
    fastmath: object,
    constraints: object,
) -> None:
    """Raise :class:`InputError` for decorator arguments of the wrong type: what
    :class:`KernelDecl` receives is converted from them first."""
    if not isinstance(name, str) or not name.isprintable() or not name.strip():
        raise InputError(f"{where}: name must be a non-empty one-line string")
    if params is not None and not (
        isinstance(params, Mapping) and all(isinstance(k, str) for k in params)
    ):
        raise InputError(f"{where}: params must map names to autotune parameters, got {params!r}")
    if sizes is not None and not (
        isinstance(sizes, Mapping) and all(isinstance(v, Mapping) for v in sizes.values())
    ):
        raise InputError(f"{where}: sizes must map size names to keyword arguments, got {sizes!r}")
    if not isinstance(fastmath, bool):
        raise InputError(f"{where}: fastmath must be True or False, got {fastmath!r}")
    if not isinstance(constraints, list | tuple):
        raise InputError(f"{where}: constraints must be a list of functions, got {constraints!r}")
