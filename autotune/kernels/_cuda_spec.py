"""CUDA kernels in spec files: a ``[[kernel]]`` table with ``source`` (a CUDA file)
instead of ``function`` (a Python function). A spec may hold CUDA tables only, CPU
tables only, or both; its Python module is imported only when a table needs it.

Schema (``sgemm.autotune.toml`` beside ``sgemm.cu``; every path relative to the spec)::

    [[kernel]]
    source = "sgemm.cu"              # required: the CUDA C++ file
    name = "sgemm"                   # required: the __global__ function
    label = "sgemm_f32"              # optional: the kernel's name in autotune (default: name)
    inject = "define"                # or "template", with template_params = ["BM", "BN"]
    outputs = [2]                    # required: argument indices or names (arrays only)
    rtol = 1e-5                      # optional (default 1e-5)
    atol = 1e-6                      # optional (default 1e-6)
    perturb = 0.0                    # optional, in [0, 0.1]: see KernelDecl.perturb
    reference = "refs.py:sgemm"      # optional: "file.py:function", "package.module:function"
                                     # or a function of the spec's module; it writes the
                                     # outputs in place, or returns them (see CudaKernelDecl)
    grid = ["ceil_div(N, BN)", "ceil_div(M, BM)"]    # required: 1 to 3 expressions
    block = ["(BM // TM) * (BN // TN)"]              # required: 1 to 3 expressions
    shared_mem = 0                   # optional: dynamic shared memory, bytes (expression)
    restrictions = ["BM % TM == 0"]  # optional: each must be true for a valid config
    options = ["--std=c++17"]        # optional: NVRTC options always passed
    flops = "2 * M * N * K"          # optional performance model of one launch
    bytes = "4 * (M * K + K * N + M * N)"
    roofline = "gemm"                # optional: "gemm" or "copy"
    inputs = [                       # required: one table per argument, in order
      { name = "A", shape = ["M", "K"], dtype = "float32", fill = "random" },
      { name = "C", shape = ["M", "N"], dtype = "float32", fill = "zeros" },
      { name = "M", value = "M", dtype = "int32" },   # a scalar
    ]
    [kernel.sizes]                   # required: named problem sizes; the first is the default
    small = { M = 256, N = 256, K = 256 }
    [kernel.params]                  # optional: as in CPU specs (pow2/int/choices + default)
    BM = { choices = [64, 128, 256] }
    [kernel.compiler]                # optional: tunable NVRTC options, the same tables
    fast_math = { choices = [false, true] }          # also: maxrregcount (0: no limit),
                                                     # ftz, prec_div, prec_sqrt, fmad,
                                                     # extra_device_vectorization

Expressions (see :mod:`autotune.kernels._expr`) are text or numbers. Those of ``grid``,
``block``, ``shared_mem``, ``restrictions``, ``flops`` and ``bytes`` read parameters
and the keys every size has; an argument's ``shape`` and ``value`` read size keys only.
An argument table holds ``name`` (default: the kernel's parameter name), ``dtype``
(required), and either ``shape`` with ``fill`` (random, normal, zeros, ones, arange,
randint), ``low`` and ``high`` as in CPU specs, or ``value``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from autotune.errors import InputError
from autotune.kernels._cuda_decl import (
    AnyKernelDecl,
    CudaKernelDecl,
    InputFactory,
    is_identifier,
    kernel_parameters,
    sizes_problem,
)
from autotune.kernels._expr import Expr
from autotune.kernels._source import import_source
from autotune.kernels._spec import (
    kernel_from_table,
    kernel_tables,
    params_from_spec,
    spec_module_path,
    spec_number,
    spec_value,
)
from autotune.kernels._spec_inputs import (
    argument_dtype,
    array_shape,
    check_fits_in_memory,
    fill_of,
    filled_array,
    referenced_function,
    scalar_value,
)

_CUDA_KEYS = {
    "source",
    "name",
    "label",
    "inject",
    "template_params",
    "outputs",
    "rtol",
    "atol",
    "perturb",
    "reference",
    "grid",
    "block",
    "shared_mem",
    "restrictions",
    "options",
    "flops",
    "bytes",
    "roofline",
    "inputs",
    "sizes",
    "params",
    "compiler",
}
_ARG_KEYS = {"name", "shape", "dtype", "fill", "low", "high", "value"}
_TAKER = "CUDA kernels"


def is_cuda_table(table: object) -> bool:
    """Whether a ``[[kernel]]`` table declares a CUDA kernel (it has ``source``)."""
    return isinstance(table, dict) and "source" in table


def spec_kernels(path: Path, data: dict[str, Any]) -> list[AnyKernelDecl]:
    """The kernels of every ``[[kernel]]`` table of the spec ``path`` (parsed as
    ``data``): CPU tables (``function``) and CUDA tables (``source``). The spec's Python
    module is imported first when a CPU table needs it, else only when a reference does.
    CPU declarations get the module's path as their ``source``."""
    module = _SpecModule(spec_module_path(path, data))
    raw = data.get("kernel")
    for i, table in enumerate(raw if isinstance(raw, list) else []):
        if isinstance(table, dict) and "function" not in table and "source" not in table:
            raise InputError(
                f"{path}: kernel[{i}]: 'function' is required (or 'source' for a CUDA kernel)"
            )
    if not (isinstance(raw, list) and raw and all(is_cuda_table(t) for t in raw)):
        module()  # first, as it always was for specs of CPU kernels
    decls: list[AnyKernelDecl] = []
    for where, table in kernel_tables(path, data):
        if is_cuda_table(table):
            decls.append(cuda_kernel_from_table(where, table, path.parent, module))
            continue
        decl = kernel_from_table(where, table, module(), path.parent)
        decl.source = str(module.path.resolve())
        decls.append(decl)
    return decls


class _SpecModule:
    """The spec's Python module, imported on first use."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._module: ModuleType | None = None

    def __call__(self) -> ModuleType:
        if self._module is None:
            self._module = import_source(self.path)
        return self._module


def cuda_kernel_from_table(
    where: str, table: dict[str, Any], base: Path, module: _SpecModule
) -> CudaKernelDecl:
    """The declaration of one CUDA ``[[kernel]]`` table of a spec in the folder ``base``."""
    if "function" in table:
        raise InputError(
            f"{where}: give 'function' (a Python kernel) or 'source' (a CUDA kernel), not both"
        )
    unknown = set(table) - _CUDA_KEYS
    if unknown:
        raise InputError(f"{where}: unknown keys {sorted(unknown)}")
    source = spec_value(where, table, "source", str, required=True)
    entry = spec_value(where, table, "name", str, required=True)
    label = spec_value(where, table, "label", str)
    label = entry if label is None else label
    if not is_identifier(entry):
        raise InputError(
            f"{where}: 'name' must be the name of a __global__ function, got {entry!r}"
        )
    if not label.strip() or not label.isprintable():
        raise InputError(f"{where}: 'label' must be a non-empty one-line string, got {label!r}")
    where = f"{where} ({label})"
    for key in ("outputs", "inputs", "sizes", "grid", "block"):
        if key not in table:
            raise InputError(f"{where}: '{key}' is required")
    path = _source_path(where, base, source)
    fields = {
        "rtol": spec_number(where, table, "rtol", 1e-5),
        "atol": spec_number(where, table, "atol", 1e-6),
        "perturb": spec_number(where, table, "perturb", 0.0),
        "reference": _reference(where, table, base, module),
        "params": params_from_spec(where, table.get("params", {})),
        "compiler": params_from_spec(where, table.get("compiler", {}), key="compiler"),
        "inject": spec_value(where, table, "inject", str) or "define",
        "roofline": spec_value(where, table, "roofline", str),
    }
    try:
        return declare_cuda_kernel(
            name=label,
            entry=entry,
            source=str(path),
            code=read_cuda_source(where, path),
            inputs=table["inputs"],
            outputs=table["outputs"],
            grid=table["grid"],
            block=table["block"],
            sizes=table["sizes"],
            shared_mem=table.get("shared_mem", 0),
            restrictions=table.get("restrictions", ()),
            flops=table.get("flops"),
            bytes_moved=table.get("bytes"),
            options=table.get("options", ()),
            template_params=table.get("template_params", ()),
            **fields,
        )
    except InputError as exc:  # the declaration's own checks: name the spec, not the kernel
        message, prefix = str(exc), f"kernel {label!r}"
        raise InputError(where + message.removeprefix(prefix)) from None


def _source_path(where: str, base: Path, source: str) -> Path:
    if not source.strip():
        raise InputError(f"{where}: 'source' must name a CUDA file")
    try:
        return (base / source).resolve()
    except (OSError, ValueError):
        raise InputError(f"{where}: 'source' {source!r} is not a valid path") from None


def _reference(where: str, table: dict[str, Any], base: Path, module: _SpecModule) -> Any:
    ref = spec_value(where, table, "reference", str)
    if ref is None:
        return None
    if ":" not in ref and not module.path.is_file():
        raise InputError(
            f"{where}: reference {ref!r} would be a function of {module.path.name}, which "
            "does not exist; write 'file.py:function'"
        )
    return referenced_function(where, ref, base, module, what="reference")


# --- from the values users write to a declaration ------------------------------------------


def declare_cuda_kernel(
    *,
    name: str,
    entry: str,
    source: str,
    code: str,
    inputs: Any,
    outputs: Any,
    grid: Any,
    block: Any,
    sizes: Any,
    arg_names: Sequence[str] | None = None,
    arg_dtypes: Sequence[Any] | None = None,
    shared_mem: Any = 0,
    restrictions: Any = (),
    flops: Any = None,
    bytes_moved: Any = None,
    params: Any = None,
    compiler: Any = None,
    options: Any = (),
    template_params: Any = (),
    **fields: Any,
) -> CudaKernelDecl:
    """A :class:`CudaKernelDecl` from values as users write them: expressions as text or
    numbers, outputs as indices or names, inputs as argument tables or a factory. The
    back end of :func:`~autotune.kernels.cuda_kernel` and of spec files; raises
    :class:`InputError` starting ``kernel '<name>'``."""
    where = f"kernel {name!r}"
    problem = sizes_problem(sizes)
    if problem is not None:
        raise InputError(f"{where}: {problem}")
    factory, names, dtypes = _arguments(where, inputs, sizes, code, entry, arg_names, arg_dtypes)
    indices = output_indices(where, outputs, names)
    if isinstance(factory, ArgumentTables):
        factory.check_outputs(indices)
    return CudaKernelDecl(
        name=name,
        entry=entry,
        code=code,
        source=source,
        inputs=factory,
        arg_names=names,
        arg_dtypes=dtypes,
        outputs=indices,
        grid=expressions(where, "grid", grid),
        block=expressions(where, "block", block),
        shared_mem=expression(where, "shared_mem", shared_mem),
        restrictions=expressions(where, "restrictions", restrictions),
        flops=None if flops is None else expression(where, "flops", flops),
        bytes_moved=None if bytes_moved is None else expression(where, "bytes", bytes_moved),
        sizes={size: dict(keys) for size, keys in sizes.items()},
        params=_parameters(where, "params", params),
        compiler=_parameters(where, "compiler", compiler),
        options=strings(where, "options", options),
        template_params=strings(where, "template_params", template_params),
        **fields,
    )


def source_and_code(
    where: str, source: str | Path, code: str | None, folder: Path
) -> tuple[str, str]:
    """The absolute path of ``source`` (relative to ``folder``; empty without one) and
    the CUDA code: ``code`` when given, else the text of ``source``."""
    if not isinstance(source, str | Path) or (code is not None and not isinstance(code, str)):
        raise InputError(f"{where}: source must be a path and code a string")
    if code is None and not str(source):
        raise InputError(f"{where}: give the CUDA source file, or its code as text")
    path = (folder / source).resolve() if str(source) else None
    if code is not None:
        return str(path or ""), code
    assert path is not None
    return str(path), read_cuda_source(where, path)


def read_cuda_source(where: str, path: Path) -> str:
    """The text of the CUDA source ``path``; :class:`InputError` naming it if unreadable."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{where}: no such CUDA source: {path}") from None
    except UnicodeDecodeError:
        raise InputError(f"{where}: {path} is not UTF-8 text") from None
    except (OSError, ValueError) as exc:
        raise InputError(f"{where}: cannot read {path}: {exc}") from None


def expression(where: str, what: str, value: Any) -> Expr:
    """``value`` (text, a number or an :class:`Expr`) as an :class:`Expr`."""
    if isinstance(value, Expr):
        return value
    if not isinstance(value, str | int | float):
        raise InputError(f"{where}: {what} must be an expression (text or a number), got {value!r}")
    try:
        return Expr(value)
    except InputError as exc:
        raise InputError(f"{where}: {what}: {exc}") from None


def expressions(where: str, what: str, values: Any) -> tuple[Expr, ...]:
    """``values`` (a list of expressions, or one) as a tuple of :class:`Expr`."""
    if not isinstance(values, list | tuple):
        return (expression(where, what, values),)
    return tuple(expression(where, f"{what}[{i}]", v) for i, v in enumerate(values))


def strings(where: str, what: str, values: Any) -> tuple[str, ...]:
    if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
        raise InputError(f"{where}: {what} must be a list of strings, got {values!r}")
    return tuple(values)


def output_indices(where: str, outputs: Any, names: tuple[str, ...]) -> tuple[int, ...]:
    """``outputs`` (indices and/or argument names, or one of them) as indices."""
    items = outputs if isinstance(outputs, list | tuple) else [outputs]
    if outputs is None or not items:
        raise InputError(f"{where}: 'outputs' is required (argument indices or names)")
    indices = []
    for item in items:
        if isinstance(item, str) and item in names:
            item = names.index(item)
        if isinstance(item, bool) or not isinstance(item, int):
            raise InputError(
                f"{where}: output {item!r} must be an argument index or one of {list(names)}"
            )
        indices.append(item)
    if len(set(indices)) != len(indices):
        raise InputError(f"{where}: outputs {items!r} name an argument twice")
    return tuple(indices)


def _parameters(where: str, what: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise InputError(f"{where}: {what} must map names to autotune parameters, got {value!r}")
    return dict(value)


def _arguments(
    where: str,
    inputs: Any,
    sizes: dict[str, dict[str, int]],
    code: str,
    entry: str,
    arg_names: Sequence[str] | None,
    arg_dtypes: Sequence[Any] | None,
) -> tuple[InputFactory, tuple[str, ...], tuple[np.dtype[Any], ...]]:
    """The input factory, argument names and dtypes, from argument tables or from a
    factory with ``arg_names`` (default: the kernel's parameter names) and
    ``arg_dtypes`` (default: unknown)."""
    declared = kernel_parameters(code, entry) if isinstance(code, str) else None
    if not callable(inputs):
        if arg_names is not None or arg_dtypes is not None:
            raise InputError(f"{where}: argument tables name their arguments and dtypes")
        tables = argument_tables(where, inputs, sizes, declared or ())
        return tables, tables.names, tables.dtypes
    names = declared if arg_names is None else arg_names
    if names is None:
        raise InputError(
            f"{where}: give arg_names: the parameters of {entry!r} cannot be read from its code"
        )
    if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
        raise InputError(f"{where}: arg_names must be a list of names, got {names!r}")
    dtypes = () if arg_dtypes is None else tuple(_dtype(where, d) for d in arg_dtypes)
    return inputs, tuple(names), dtypes


def _dtype(where: str, value: Any) -> np.dtype[Any]:
    try:
        name = np.dtype(value).name
    except (TypeError, ValueError):
        raise InputError(f"{where}: unknown dtype {value!r}") from None
    return argument_dtype(where, name, _TAKER)


# --- argument tables ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Argument:
    """One argument table: an array (``shape`` set) or a scalar (``value`` set)."""

    where: str
    name: str
    dtype: np.dtype[Any]
    shape: tuple[Expr, ...] | None
    value: Expr | None
    fill: str
    low: int
    high: int

    def make(self, rng: np.random.Generator, size: Mapping[str, int], where: str = "") -> Any:
        """The argument at the size keys ``size``."""
        where = where or self.where
        if self.value is not None:
            return scalar_value(
                where, self._evaluated(where, "value", self.value, size), self.dtype
            )
        shape = self.shape_at(size, where)
        return filled_array(rng, shape, self.dtype, self.fill, self.low, self.high)

    def shape_at(self, size: Mapping[str, int], where: str) -> tuple[int, ...]:
        assert self.shape is not None
        dims = [self._evaluated(where, "shape", d, size) for d in self.shape]
        return array_shape(where, dims, self.dtype)

    def nbytes(self, size: Mapping[str, int], where: str) -> int:
        """Bytes the argument takes at ``size``; raises InputError for a bad shape/value."""
        if self.shape is None:
            self.make(np.random.default_rng(0), size, where)
            return self.dtype.itemsize
        return math.prod(self.shape_at(size, where)) * self.dtype.itemsize

    @staticmethod
    def _evaluated(where: str, what: str, expr: Expr, size: Mapping[str, int]) -> Any:
        try:
            return expr.evaluate(size)
        except InputError as exc:
            raise InputError(f"{where}: '{what}': {exc}") from None


class ArgumentTables:
    """The input factory of argument tables: ``tables(rng, **size_keys)`` makes each
    argument in order from the one generator, so the result depends only on its seed."""

    def __init__(self, where: str, arguments: tuple[_Argument, ...]) -> None:
        self.where = where
        self.arguments = arguments
        self.names = tuple(a.name for a in arguments)
        self.dtypes = tuple(a.dtype for a in arguments)

    def __call__(self, rng: np.random.Generator, **size: int) -> tuple[Any, ...]:
        return tuple(a.make(rng, size) for a in self.arguments)

    def check_sizes(self, sizes: Mapping[str, Mapping[str, int]]) -> None:
        """Refuse a shape or value that fails at some size, and inputs larger than
        this machine can hold (see :func:`check_fits_in_memory`)."""
        for size, keys in sizes.items():
            total = sum(a.nbytes(keys, f"{a.where} at size {size!r}") for a in self.arguments)
            check_fits_in_memory(f"{self.where} at size {size!r}", total)

    def check_outputs(self, outputs: tuple[int, ...]) -> None:
        for out in outputs:
            if 0 <= out < len(self.arguments) and self.arguments[out].shape is None:
                raise InputError(
                    f"{self.arguments[out].where}: output {out} ({self.names[out]}) is a "
                    "scalar; outputs are arrays the kernel writes"
                )


def argument_tables(
    where: str,
    specs: Any,
    sizes: dict[str, dict[str, int]],
    declared: Sequence[str] = (),
) -> ArgumentTables:
    """The input factory of a list of argument tables, checked at every size.
    ``declared`` are the kernel's parameter names: the default argument names."""
    if not isinstance(specs, list | tuple) or not specs:
        raise InputError(
            f"{where}: 'inputs' must be a list of argument tables "
            "({ name = ..., shape = [...], dtype = ... } or { value = ..., dtype = ... })"
        )
    arguments = tuple(
        _argument(f"{where}.inputs[{i}]", spec, declared[i] if i < len(declared) else f"arg{i}")
        for i, spec in enumerate(specs)
    )
    tables = ArgumentTables(f"{where}.inputs", arguments)
    if len(set(tables.names)) != len(tables.names):
        raise InputError(f"{where}: argument names must be distinct, got {list(tables.names)}")
    tables.check_sizes(sizes)
    return tables


def _argument(where: str, spec: Any, default_name: str) -> _Argument:
    if not isinstance(spec, Mapping):
        raise InputError(f"{where}: must be a table with name/shape/dtype or name/value/dtype")
    unknown = set(spec) - _ARG_KEYS
    if unknown:
        raise InputError(f"{where}: unknown keys {sorted(unknown)} (known: {sorted(_ARG_KEYS)})")
    name = spec.get("name", default_name)
    if not is_identifier(name):
        raise InputError(f"{where}: 'name' must be named like a C variable, got {name!r}")
    if "dtype" not in spec:
        raise InputError(f"{where}: 'dtype' is required (CUDA kernels take exact types)")
    dtype = argument_dtype(where, spec["dtype"], _TAKER)
    if ("shape" in spec) == ("value" in spec):
        raise InputError(f"{where}: give 'shape' (an array) or 'value' (a scalar)")
    if "value" in spec:
        if set(spec) & {"fill", "low", "high"}:
            raise InputError(f"{where}: 'fill', 'low' and 'high' are for arrays, not a 'value'")
        value = expression(where, "'value'", spec["value"])
        return _Argument(where, name, dtype, None, value, "zeros", 0, 0)
    shape = spec["shape"]
    if not isinstance(shape, list | tuple):
        raise InputError(f"{where}: 'shape' must be a list of sizes, got {shape!r}")
    dims = expressions(where, "'shape'", list(shape))
    fill, low, high = fill_of(where, dict(spec))
    return _Argument(where, name, dtype, dims, None, fill, low, high)
