"""Declaring a tunable CUDA kernel: its source, launch geometry, inputs, outputs,
reference, tunable parameters and NVRTC options.

Nothing here compiles or launches anything: a declaration only says what to build and
how, so that it can be loaded, checked and searched without a GPU (and without CuPy).
"""

from __future__ import annotations

import inspect
import math
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from autotune.errors import InputError
from autotune.kernels._checks import perturb_problem, tolerance_problem
from autotune.kernels._decl import KernelDecl
from autotune.kernels._expr import Expr
from autotune.kernels._inputs import argument_tuple, identical_input_sets, perturbed
from autotune.kernels._options import check_baseline_kind
from autotune.space import BaseParam, Choice

InputFactory = Callable[..., Sequence[Any]]
ExprLike = Expr | str | int | float

#: How parameters reach the kernel: ``-DNAME=value`` macros, or template arguments.
INJECTS = ("define", "template")
ROOFLINES = ("gemm", "copy")
#: Tunable NVRTC options and their flags, in the order :meth:`nvrtc_options` emits them.
COMPILER_FLAGS: dict[str, str] = {
    "fast_math": "--use_fast_math",
    "maxrregcount": "--maxrregcount",
    "ftz": "--ftz",
    "prec_div": "--prec-div",
    "prec_sqrt": "--prec-sqrt",
    "fmad": "--fmad",
    "extra_device_vectorization": "--extra-device-vectorization",
}
#: Options given as ``--flag=true|false``; the others are present or absent.
_VALUED_FLAGS = frozenset({"ftz", "prec_div", "prec_sqrt", "fmad"})
#: Limits of every CUDA device since compute capability 3.0.
MAX_THREADS_PER_BLOCK = 1024
MAX_BLOCK = (1024, 1024, 64)
MAX_GRID = (2**31 - 1, 65535, 65535)

_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
#: What a parameter value may look like in a macro or a template argument: a number, a
#: name or a type such as ``unsigned int`` or ``cuda::std::int8_t``.
_TOKEN = re.compile(r"[\w.:+\-]+( [\w.:+\-]+)*")
_COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)
#: A parameter declaration: a type, then the name (after a space, ``*`` or ``&``).
_PARAMETER = re.compile(r".*[\s*&]([A-Za-z_]\w*)\s*(\[[^\]]*\]\s*)*", re.DOTALL)


@dataclass(eq=False)
class CudaKernelDecl:
    """A CUDA kernel declared for tuning: what to compile, how to launch it, how to feed
    it and how to check it. Built by :func:`cuda_kernel` or from a spec file.

    Attributes:
        name: the kernel's name in autotune.
        entry: the ``__global__`` function.
        code: the CUDA C++ source text, read when declared.
        inputs: ``inputs(rng, **sizes[size])`` returns the argument tuple: NumPy arrays
            (copied to the device) and NumPy scalars, in the kernel's parameter order.
        arg_names: the name of each argument.
        outputs: indices of the (array) arguments the kernel writes.
        grid, block: 1 to 3 expressions each: the number of blocks and the threads per
            block, of size keys and parameters.
        sizes: named problem sizes (keywords of ``inputs``); the first is the default.
        source: the path of the ``.cu`` file (absolute once loaded); empty for code
            given as text.
        arg_dtypes: the dtype of each argument; empty when unknown.
        reference: called on NumPy copies of the arguments like the kernel. It writes
            the outputs in place and returns ``None``, or returns them: one array for one
            output, a tuple in ``outputs`` order for several. Stored wrapped so that
            calling ``reference`` always leaves the outputs in the arguments.
        rtol, atol: tolerance of ``numpy.allclose`` on every output.
        params: tunable kernel parameters; numbers, booleans or names (types).
        compiler: tunable NVRTC options, among :data:`COMPILER_FLAGS`.
        options: NVRTC options always passed (``--std=c++17``).
        inject: ``"define"`` (``-DNAME=value``, booleans 0/1) or ``"template"``
            (template arguments in the order of ``template_params``).
        shared_mem: bytes of dynamic shared memory per block.
        restrictions: expressions that must all be true for a valid config.
        flops, bytes_moved: the performance model of one launch, or ``None``.
        roofline: ``"gemm"``, ``"copy"`` or ``None``: which roofline bounds the kernel.
        perturb: see :attr:`autotune.kernels.KernelDecl.perturb`.
        declared_in: the Python module that declared it (empty for spec files).
        declared_file: the Python file that declared it, once loaded from that file
            (empty for spec files): worker processes load the kernel from
            :attr:`loaded_from`.
    """

    name: str
    entry: str
    code: str
    inputs: InputFactory
    arg_names: tuple[str, ...]
    outputs: tuple[int, ...]
    grid: tuple[Expr, ...]
    block: tuple[Expr, ...]
    sizes: dict[str, dict[str, int]]
    source: str = ""
    arg_dtypes: tuple[np.dtype[Any], ...] = ()
    reference: Callable[..., Any] | None = None
    rtol: float = 1e-5
    atol: float = 1e-6
    params: dict[str, BaseParam] = field(default_factory=dict)
    compiler: dict[str, BaseParam] = field(default_factory=dict)
    options: tuple[str, ...] = ()
    inject: str = "define"
    template_params: tuple[str, ...] = ()
    shared_mem: Expr = field(default_factory=lambda: Expr(0))
    restrictions: tuple[Expr, ...] = ()
    flops: Expr | None = None
    bytes_moved: Expr | None = None
    roofline: str | None = None
    perturb: float = 0.0
    declared_in: str = ""
    declared_file: str = ""
    backend: ClassVar[str] = "cuda"

    @property
    def loaded_from(self) -> str:
        """The file a worker process loads this kernel from: the declaring Python file,
        or the ``.cu`` file whose spec declares it."""
        return self.declared_file or self.source

    def __post_init__(self) -> None:
        _validate(self)
        if self.reference is not None and not isinstance(self.reference, _OutputsInPlace):
            self.reference = _OutputsInPlace(self.reference, self.outputs)

    @property
    def njit_options(self) -> dict[str, Any]:
        """Always empty: a CUDA kernel has no Numba options (the worker reads this)."""
        return {}

    def as_baseline(self, kind: str) -> CudaKernelDecl:
        """Itself, for every baseline kind: the kernel as written is compiled with its
        fixed options and default parameters either way. Raises ValueError for an
        unknown kind, as :meth:`KernelDecl.as_baseline` does."""
        check_baseline_kind(kind)
        return self

    @property
    def default_size(self) -> str:
        return next(iter(self.sizes))

    def default_params(self) -> dict[str, Any]:
        return {name: p.default for name, p in self.params.items()}

    def default_compiler(self) -> dict[str, Any]:
        return {name: p.default for name, p in self.compiler.items()}

    # --- inputs ------------------------------------------------------------------------

    def make_inputs(self, seed: int, size: str | None = None) -> tuple[Any, ...]:
        """The argument tuple for input set ``seed`` at problem size ``size``.

        Raises :class:`InputError` for an unknown size, or when ``inputs`` returns other
        than one value per argument, of the declared dtypes, with arrays as outputs.
        """
        size = self._size(size)
        made = self.inputs(np.random.default_rng(seed), **self.sizes[size])
        args = argument_tuple(f"the inputs of kernel {self.name!r}", made)
        self._check_arguments(args)
        return args

    def input_sets(self, seed: int, size: str | None) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        """The timed input set (``seed``) and the held-back one (``seed + 1``), the
        latter perturbed when the two are identical (see :meth:`KernelDecl.input_sets`)."""
        timed = self.make_inputs(seed, size)
        held_back = self.make_inputs(seed + 1, size)
        if self.perturb > 0 and identical_input_sets(timed, held_back):
            held_back = perturbed(held_back, float(self.perturb), seed + 1)
        return timed, held_back

    def _check_arguments(self, args: tuple[Any, ...]) -> None:
        where = f"kernel {self.name!r}"
        if len(args) != len(self.arg_names):
            raise InputError(
                f"{where}: its inputs give {len(args)} arguments for the "
                f"{len(self.arg_names)} of {self.entry}({', '.join(self.arg_names)})"
            )
        for i, (arg, dtype) in enumerate(zip(args, self.arg_dtypes, strict=False)):
            if not isinstance(arg, np.ndarray | np.generic) or arg.dtype != dtype:
                got = getattr(arg, "dtype", type(arg).__name__)
                raise InputError(
                    f"{where}: argument {i} ({self.arg_names[i]}) must be a NumPy array or "
                    f"scalar of dtype {dtype}, got {got}"
                )
        for out in self.outputs:
            if not isinstance(args[out], np.ndarray):
                raise InputError(
                    f"{where}: output {out} ({self.arg_names[out]}) must be a NumPy array, "
                    f"got {type(args[out]).__name__}"
                )

    def _size(self, size: str | None) -> str:
        size = size or self.default_size
        if size not in self.sizes:
            raise InputError(
                f"kernel {self.name!r} has no size {size!r}; known: {list(self.sizes)}"
            )
        return size

    # --- launch ------------------------------------------------------------------------

    def environment(self, params: Mapping[str, Any], size: str | None = None) -> dict[str, Any]:
        """The names expressions read: the keys of size ``size`` and the kernel
        parameters in ``params`` (other keys, such as compiler options, are ignored)."""
        env: dict[str, Any] = dict(self.sizes[self._size(size)])
        env.update((k, v) for k, v in params.items() if k in self.params)
        return env

    def geometry(
        self, params: Mapping[str, Any], size: str | None = None
    ) -> tuple[tuple[int, int, int], tuple[int, int, int], int]:
        """The grid (blocks) and block (threads) of a launch, padded to 3 dimensions with
        1s, and its dynamic shared memory in bytes.

        Raises :class:`InputError` when an expression fails, or gives other than a
        positive integer (at least 0 for the shared memory).
        """
        env = self.environment(params, size)
        grid = tuple(self._integer(f"grid[{i}]", e, env, 1) for i, e in enumerate(self.grid))
        block = tuple(self._integer(f"block[{i}]", e, env, 1) for i, e in enumerate(self.block))
        shared = self._integer("shared_mem", self.shared_mem, env, 0)
        return _padded(grid), _padded(block), shared

    def _integer(self, what: str, expr: Expr, env: Mapping[str, Any], least: int) -> int:
        try:
            value = expr.evaluate(env)
        except InputError as exc:
            raise InputError(f"kernel {self.name!r}: {what}: {exc}") from None
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise InputError(
                f"kernel {self.name!r}: {what} = {expr.text!r} gives {value!r}; it must be "
                f"an integer of at least {least}"
            )
        return value

    def violated(self, params: Mapping[str, Any], size: str | None = None) -> str | None:
        """Why ``params`` is not a valid config at ``size``, or ``None``: the text of the
        first restriction that is false, why one cannot be evaluated, or a launch the
        device cannot make (see :meth:`geometry`, :data:`MAX_BLOCK`, :data:`MAX_GRID`)."""
        env = self.environment(params, size)
        for restriction in self.restrictions:
            try:
                holds = restriction.evaluate(env)
            except InputError as exc:
                return f"restriction {restriction.text!r} cannot be evaluated: {exc}"
            if not holds:
                return restriction.text
        try:
            grid, block, _ = self.geometry(params, size)
        except InputError as exc:
            return str(exc).removeprefix(f"kernel {self.name!r}: ")
        return _launch_problem(grid, block)

    def performance(
        self, size: str | None, params: Mapping[str, Any]
    ) -> tuple[float | None, float | None]:
        """Floating-point operations and bytes moved by one launch, per the performance
        model (``None`` where it has none). Raises :class:`InputError` when an
        expression fails or gives other than a finite non-negative number."""
        env = self.environment(params, size)
        return (
            self._amount("flops", self.flops, env),
            self._amount("bytes", self.bytes_moved, env),
        )

    def _amount(self, what: str, expr: Expr | None, env: Mapping[str, Any]) -> float | None:
        if expr is None:
            return None
        try:
            value = expr.evaluate(env)
        except InputError as exc:
            raise InputError(f"kernel {self.name!r}: {what}: {exc}") from None
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if isinstance(value, bool) or not math.isfinite(number) or number < 0:
            raise InputError(
                f"kernel {self.name!r}: {what} = {expr.text!r} gives {value!r}; it must be "
                "a finite non-negative number"
            )
        return number

    # --- compiling ---------------------------------------------------------------------

    def defines(self, params: Mapping[str, Any]) -> list[str]:
        """``-DNAME=value`` for every kernel parameter (booleans as 1/0) when
        ``inject`` is ``"define"``; otherwise none."""
        if self.inject != "define":
            return []
        return [f"-D{name}={self._literal(name, params, '1', '0')}" for name in self.params]

    def template_arguments(self, params: Mapping[str, Any]) -> list[str]:
        """The template arguments, in the order of ``template_params`` (booleans as
        ``true``/``false``), when ``inject`` is ``"template"``; otherwise none."""
        if self.inject != "template":
            return []
        return [self._literal(name, params, "true", "false") for name in self.template_params]

    def name_expression(self, params: Mapping[str, Any]) -> str:
        """The name NVRTC gets the kernel by: ``sgemm<64, 128>`` for a template,
        otherwise the entry."""
        if self.inject != "template":
            return self.entry
        return f"{self.entry}<{', '.join(self.template_arguments(params))}>"

    def _literal(self, name: str, params: Mapping[str, Any], true: str, false: str) -> str:
        if name not in params:
            raise InputError(f"kernel {self.name!r}: no value for the parameter {name!r}")
        value = params[name]
        if isinstance(value, bool):
            return true if value else false
        text = repr(value) if isinstance(value, float) else str(value)
        if not isinstance(value, int | float | str) or not _TOKEN.fullmatch(text):
            raise InputError(
                f"kernel {self.name!r}: parameter {name!r} = {value!r} cannot be passed "
                "to CUDA code (a number, boolean or name)"
            )
        return text

    def nvrtc_options(self, compiler_values: Mapping[str, Any]) -> list[str]:
        """The fixed ``options``, then a flag for each tunable option in the order of
        :data:`COMPILER_FLAGS` (none where the value is NVRTC's default and the flag has
        no ``=value`` form). Not the parameters: see :meth:`defines`.

        Raises :class:`InputError` for a tunable option without a value or with a value
        of the wrong type.
        """
        flags = list(self.options)
        for name, flag in COMPILER_FLAGS.items():
            if name not in self.compiler:
                continue
            if name not in compiler_values:
                raise InputError(f"kernel {self.name!r}: no value for compiler option {name!r}")
            value = compiler_values[name]
            problem = compiler_value_problem(name, value)
            if problem is not None:
                raise InputError(f"kernel {self.name!r}: compiler option {problem}")
            if name in _VALUED_FLAGS:
                flags.append(f"{flag}={'true' if value else 'false'}")
            elif name == "maxrregcount" and value:
                flags.append(f"{flag}={value}")
            elif name != "maxrregcount" and value:
                flags.append(flag)
        return flags


AnyKernelDecl = KernelDecl | CudaKernelDecl


def compiler_value_problem(name: str, value: object) -> str | None:
    """Why ``value`` is not a value of the tunable NVRTC option ``name``, or ``None``:
    ``maxrregcount`` takes a non-negative integer (0: no limit), the others a bool."""
    if name == "maxrregcount":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            return f"'maxrregcount' takes integers of at least 0 (0: no limit), got {value!r}"
        return None
    if not isinstance(value, bool):
        return f"{name!r} takes true or false, got {value!r}"
    return None


def _padded(dims: tuple[int, ...]) -> tuple[int, int, int]:
    x, y, z = dims + (1,) * (3 - len(dims))
    return x, y, z


def _launch_problem(grid: tuple[int, int, int], block: tuple[int, int, int]) -> str | None:
    """Why a device cannot launch ``grid`` blocks of ``block`` threads, or ``None``."""
    threads = math.prod(block)
    if threads > MAX_THREADS_PER_BLOCK:
        return f"a block of {block} has {threads} threads; at most {MAX_THREADS_PER_BLOCK}"
    for what, dims, limits in (("block", block, MAX_BLOCK), ("grid", grid, MAX_GRID)):
        for axis, dim, limit in zip("xyz", dims, limits, strict=True):
            if dim > limit:
                return f"{what} dimension {axis} is {dim}; at most {limit}"
    return None


class _OutputsInPlace:
    """A reference function that may return its outputs instead of writing them: what it
    returns is copied into the output arguments, so that after a call they hold the
    outputs either way (the worker reads them there)."""

    def __init__(self, func: Callable[..., Any], outputs: tuple[int, ...]) -> None:
        self.func = func
        self.outputs = outputs
        self.__wrapped__ = func
        self.__name__ = getattr(func, "__name__", "reference")

    def __repr__(self) -> str:
        return repr(self.func)

    def __call__(self, *args: Any) -> None:
        returned = self.func(*args)
        if returned is None:
            return
        values = (returned,) if len(self.outputs) == 1 else returned
        if not isinstance(values, tuple | list) or len(values) != len(self.outputs):
            raise ValueError(
                f"the reference returned a {type(returned).__name__}; with "
                f"{len(self.outputs)} outputs it must return None or a tuple of them"
            )
        # Copies first: a returned array may be an argument that another output overwrites.
        arrays = [np.array(value) for value in values]
        for out, array in zip(self.outputs, arrays, strict=True):
            if array.shape != np.shape(args[out]):
                raise ValueError(
                    f"the reference returned shape {array.shape} for output {out}, "
                    f"whose shape is {np.shape(args[out])}"
                )
        for out, array in zip(self.outputs, arrays, strict=True):
            args[out][...] = array


# --- declaring ---------------------------------------------------------------------------


def cuda_kernel(
    *,
    entry: str,
    inputs: InputFactory | Sequence[Mapping[str, Any]],
    outputs: Sequence[int | str] | int | str,
    grid: Sequence[ExprLike] | ExprLike,
    block: Sequence[ExprLike] | ExprLike,
    sizes: Mapping[str, Mapping[str, int]],
    source: str | Path = "",
    code: str | None = None,
    name: str | None = None,
    arg_names: Sequence[str] | None = None,
    arg_dtypes: Sequence[Any] | None = None,
    reference: Callable[..., Any] | None = None,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    params: Mapping[str, BaseParam] | None = None,
    compiler: Mapping[str, BaseParam] | None = None,
    options: Sequence[str] = (),
    inject: str = "define",
    template_params: Sequence[str] = (),
    shared_mem: ExprLike = 0,
    restrictions: Sequence[ExprLike] = (),
    flops: ExprLike | None = None,
    bytes_moved: ExprLike | None = None,
    roofline: str | None = None,
    perturb: float = 0.0,
) -> CudaKernelDecl:
    """Declare a tunable CUDA kernel (see :class:`CudaKernelDecl` for each field).

    ``source`` is a ``.cu`` file (relative to the calling file's folder), read now;
    ``code`` gives the text instead. ``inputs`` is a factory, or a list of argument tables
    as spec files write them (``{"name": "x", "shape": ["N"], "dtype": "float32"}``).
    ``outputs`` are argument indices or names; expressions are strings or numbers.
    ``arg_names`` defaults to the names of the tables, else of the kernel's parameters.
    Bad arguments raise :class:`InputError` (one line). Example::

        scale = cuda_kernel(
            entry="scale", source="scale.cu", sizes={"small": {"N": 1 << 20}},
            inputs=[{"name": "x", "shape": ["N"], "dtype": "float32"},
                    {"name": "a", "value": 2, "dtype": "float32"},
                    {"name": "n", "value": "N", "dtype": "int32"}],
            outputs=["x"], grid=["ceil_div(N, BLOCK)"], block=["BLOCK"],
            params={"BLOCK": Pow2(32, 1024, 256)},
        )
    """
    from autotune.kernels._cuda_spec import declare_cuda_kernel, source_and_code

    caller = sys._getframe(1).f_globals  # relative paths are relative to the caller's file
    folder = Path(caller.get("__file__") or ".").resolve().parent
    label = entry if name is None else name
    path, text = source_and_code(f"kernel {label!r}", source, code, folder)
    return declare_cuda_kernel(
        name=label,
        entry=entry,
        source=path,
        code=text,
        inputs=inputs,
        outputs=outputs,
        grid=grid,
        block=block,
        sizes=sizes,
        arg_names=arg_names,
        arg_dtypes=arg_dtypes,
        reference=reference,
        rtol=rtol,
        atol=atol,
        params=params,
        compiler=compiler,
        options=options,
        inject=inject,
        template_params=template_params,
        shared_mem=shared_mem,
        restrictions=restrictions,
        flops=flops,
        bytes_moved=bytes_moved,
        roofline=roofline,
        perturb=perturb,
        declared_in=str(caller.get("__name__", "")),
    )


def kernel_parameters(code: str, entry: str) -> tuple[str, ...] | None:
    """The parameter names of the ``__global__`` function ``entry`` in ``code``, or
    ``None`` when it is absent or its parameter list is not plain declarations (a
    macro, an unnamed parameter)."""
    text = _COMMENTS.sub(" ", code)
    match = _entry_pattern(entry).search(text)
    listed = None if match is None else _parenthesized(text, match.end())
    if listed is None:
        return None
    if listed.strip() in ("", "void"):
        return ()
    names = []
    for piece in _top_level_pieces(listed):
        declared = _PARAMETER.fullmatch(piece.split("=")[0])
        if declared is None:
            return None
        names.append(declared.group(1))
    return tuple(names)


def declares_entry(code: str, entry: str) -> bool:
    """Whether ``code`` declares ``entry`` as a ``__global__`` function (comments aside)."""
    return _entry_pattern(entry).search(_COMMENTS.sub(" ", code)) is not None


def _entry_pattern(entry: str) -> re.Pattern[str]:
    # Between __global__ and the name: the return type, maybe __launch_bounds__(...).
    return re.compile(r"__global__\b[^;{}]*?\b" + re.escape(entry) + r"\s*\(")


def _parenthesized(text: str, start: int) -> str | None:
    """The text from ``start`` to the parenthesis that closes the one before it."""
    depth = 1
    for i in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return text[start:i]
    return None


def _top_level_pieces(listed: str) -> list[str]:
    """``listed`` split at commas outside brackets (``Tile<8, 8> t`` stays whole)."""
    pieces: list[str] = []
    current: list[str] = []
    depth = 0
    for char in listed:
        depth += {"(": 1, "<": 1, "[": 1, ")": -1, ">": -1, "]": -1}.get(char, 0)
        if char == "," and depth == 0:
            pieces.append("".join(current))
            current = []
        else:
            current.append(char)
    pieces.append("".join(current))
    return [p.strip() for p in pieces]


def is_identifier(name: object) -> bool:
    return isinstance(name, str) and _IDENTIFIER.fullmatch(name) is not None


def param_values(param: BaseParam) -> list[Any]:
    """The values of ``param`` worth checking for their type: every choice of a
    :class:`Choice`, else the default (ranges hold integers only)."""
    return list(param.choices) if isinstance(param, Choice) else [param.default]


def signature_problem(inputs: InputFactory, sizes: Mapping[str, Mapping[str, Any]]) -> str | None:
    """Why ``inputs`` cannot be called as ``inputs(rng, **sizes[size])``, or ``None``."""
    try:
        signature = inspect.signature(inputs)
    except (TypeError, ValueError):
        return None  # only checked when called
    for size, kwargs in sizes.items():
        try:
            signature.bind(None, **kwargs)
        except TypeError as exc:
            return f"inputs cannot be called as inputs(rng, **sizes[{size!r}]): {exc}"
    return None


# --- validation --------------------------------------------------------------------------


def _validate(decl: CudaKernelDecl) -> None:
    """Raise :class:`InputError` (one line, naming the kernel) for a declaration that
    cannot be tuned; see :func:`cuda_kernel` for what is checked."""
    where = f"kernel {decl.name!r}"
    _check_code(where, decl)
    _check_arguments(where, decl)
    for problem in (
        tolerance_problem("rtol", decl.rtol, relative=True),
        tolerance_problem("atol", decl.atol, relative=False),
        perturb_problem("perturb", decl.perturb),
    ):
        if problem is not None:
            raise InputError(f"{where}: {problem}")
    _check_sizes(where, decl)
    _check_params(where, decl)
    _check_compiler(where, decl)
    _check_expressions(where, decl)
    _check_defaults(where, decl)


def _check_code(where: str, decl: CudaKernelDecl) -> None:
    if not isinstance(decl.name, str) or not decl.name.strip() or not decl.name.isprintable():
        raise InputError(f"{where}: the name must be a non-empty one-line string")
    if not is_identifier(decl.entry):
        raise InputError(f"{where}: entry must be a C++ function name, got {decl.entry!r}")
    if not isinstance(decl.code, str) or not declares_entry(decl.code, decl.entry):
        shown = decl.source or "its code"
        raise InputError(f"{where}: {shown} has no __global__ function {decl.entry!r}")
    if decl.inject not in INJECTS:
        raise InputError(f"{where}: inject must be one of {INJECTS}, got {decl.inject!r}")
    if decl.inject != "template" and decl.template_params:
        raise InputError(f'{where}: template_params need inject = "template"')


def _check_arguments(where: str, decl: CudaKernelDecl) -> None:
    if not callable(decl.inputs):
        raise InputError(f"{where}: inputs must be a callable input factory")
    names = decl.arg_names
    if not isinstance(names, tuple) or not names or not all(is_identifier(n) for n in names):
        raise InputError(f"{where}: arg_names must be argument names, got {names!r}")
    if len(set(names)) != len(names):
        raise InputError(f"{where}: argument names must be distinct, got {list(names)}")
    declared = kernel_parameters(decl.code, decl.entry)
    if declared is not None and len(declared) != len(names):
        raise InputError(
            f"{where}: {len(names)} arguments ({', '.join(names)}) for the "
            f"{len(declared)} parameters of {decl.entry}({', '.join(declared)})"
        )
    dtypes = decl.arg_dtypes
    if dtypes and (len(dtypes) != len(names) or not all(isinstance(d, np.dtype) for d in dtypes)):
        raise InputError(f"{where}: arg_dtypes must be one NumPy dtype per argument")
    if not decl.outputs:
        raise InputError(f"{where}: declare at least one output (an argument index or name)")
    for out in decl.outputs:
        if isinstance(out, bool) or not isinstance(out, int) or not 0 <= out < len(names):
            raise InputError(
                f"{where}: output {out!r} is not an argument index in [0, {len(names)})"
            )
    if decl.reference is not None and not callable(decl.reference):
        raise InputError(f"{where}: reference must be a function, got {decl.reference!r}")


def _check_sizes(where: str, decl: CudaKernelDecl) -> None:
    problem = sizes_problem(decl.sizes) or signature_problem(decl.inputs, decl.sizes)
    if problem is not None:
        raise InputError(f"{where}: {problem}")


def sizes_problem(sizes: object) -> str | None:
    """Why ``sizes`` is not a non-empty dict of named sizes, each a dict of integer
    size keys named like C variables, or ``None``."""
    if not isinstance(sizes, dict) or not sizes:
        return f"sizes must map at least one size name to its keys, got {sizes!r}"
    for size, keys in sizes.items():
        if not isinstance(size, str) or not isinstance(keys, dict):
            return f"size {size!r} must map size keys to integers, got {keys!r}"
        for key, value in keys.items():
            if not is_identifier(key):
                return f"size {size!r}: the key {key!r} must be named like a C variable"
            if isinstance(value, bool) or not isinstance(value, int):
                return f"size {size!r}: {key} must be an integer, got {value!r}"
    return None


def _check_params(where: str, decl: CudaKernelDecl) -> None:
    size_keys = {key for keys in decl.sizes.values() for key in keys}
    for name, param in decl.params.items():
        if not is_identifier(name) or name in size_keys:
            raise InputError(
                f"{where}: parameter {name!r} must be named like a C macro, and not like a size key"
            )
        if not isinstance(param, BaseParam):
            raise InputError(f"{where}: parameter {name!r} must be an autotune parameter")
        for value in param_values(param):
            text = repr(value) if isinstance(value, float) else str(value)
            if not isinstance(value, bool | int | float | str) or not _TOKEN.fullmatch(text):
                raise InputError(
                    f"{where}: parameter {name!r} has the value {value!r}; CUDA code takes "
                    "numbers, booleans or names"
                )
    if decl.inject == "template" and set(decl.template_params) != set(decl.params):
        raise InputError(
            f"{where}: template_params {list(decl.template_params)} must name each "
            f"parameter once: {list(decl.params)}"
        )
    if len(set(decl.template_params)) != len(decl.template_params):
        raise InputError(f"{where}: template_params name a parameter twice")


def _check_compiler(where: str, decl: CudaKernelDecl) -> None:
    for name, param in decl.compiler.items():
        if name not in COMPILER_FLAGS:
            raise InputError(
                f"{where}: unknown compiler option {name!r}; known: {', '.join(COMPILER_FLAGS)}"
            )
        if not isinstance(param, BaseParam):
            raise InputError(f"{where}: compiler option {name!r} must be an autotune parameter")
        for value in param_values(param):
            problem = compiler_value_problem(name, value)
            if problem is not None:
                raise InputError(f"{where}: compiler option {problem}")
    # A fixed option that sets what is tuned would make every candidate the same build.
    tuned = {COMPILER_FLAGS[name] for name in decl.compiler}
    macros = {f"-D{name}" for name in decl.params} if decl.inject == "define" else set()
    for option in decl.options:
        if not isinstance(option, str) or not option.startswith("-") or not option.isprintable():
            raise InputError(
                f"{where}: options must be NVRTC flags such as '--std=c++17', got {option!r}"
            )
        head = option.split("=")[0]
        if "--" + head.lstrip("-") in tuned or head in macros:
            raise InputError(f"{where}: option {option!r} sets what is tuned; remove it")


def _check_expressions(where: str, decl: CudaKernelDecl) -> None:
    known = set(decl.params) | set.intersection(*(set(keys) for keys in decl.sizes.values()))
    for what, exprs, fewest, most in (
        ("grid", decl.grid, 1, 3),
        ("block", decl.block, 1, 3),
        ("shared_mem", (decl.shared_mem,), 1, 1),
        ("restrictions", decl.restrictions, 0, None),
        ("flops", (decl.flops,) if decl.flops is not None else (), 0, 1),
        ("bytes", (decl.bytes_moved,) if decl.bytes_moved is not None else (), 0, 1),
    ):
        if not isinstance(exprs, tuple) or not all(isinstance(e, Expr) for e in exprs):
            raise InputError(f"{where}: {what} must be expressions (autotune Expr)")
        if len(exprs) < fewest or (most is not None and len(exprs) > most):
            raise InputError(f"{where}: {what} takes {fewest} to {most} expressions")
        for expr in exprs:
            unknown = sorted(expr.names - known)
            if unknown:
                raise InputError(
                    f"{where}: {what} {expr.text!r} reads {', '.join(unknown)}: neither a "
                    f"parameter nor a key of every size (known: {', '.join(sorted(known))})"
                )
    if decl.roofline is not None and decl.roofline not in ROOFLINES:
        raise InputError(f"{where}: roofline must be one of {ROOFLINES}, got {decl.roofline!r}")


def _check_defaults(where: str, decl: CudaKernelDecl) -> None:
    """The default config must be valid at the default size, and the performance model
    must give numbers at every size."""
    defaults = decl.default_params()
    problem = decl.violated(defaults, decl.default_size)
    if problem is not None:
        raise InputError(
            f"{where}: the default parameters {defaults} are invalid at size "
            f"{decl.default_size!r}: {problem}"
        )
    for size in decl.sizes:
        decl.performance(size, defaults)
