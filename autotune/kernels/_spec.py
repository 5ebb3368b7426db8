"""Spec files: declare kernels of unmodified code in a TOML file beside it.

Schema (``foo.autotune.toml`` beside ``foo.py``)::

    module = "foo.py"            # optional; default: the spec's name without .autotune.toml

    [[kernel]]
    function = "saxpy"           # required: a function (or @njit dispatcher) of the module
    outputs = [2]                # argument indices and/or "return"
    rtol = 1e-7                  # optional (default 1e-7)
    atol = 0.0                   # optional (default 0)
    reference = "saxpy_ref"      # optional: a function of the module
    fastmath = true              # optional: whether fastmath flags may be tried
    inputs = [                   # either one table per argument ...
      { shape = [1000], dtype = "float64", fill = "random" },
      { value = 2.5, dtype = "float64" },
    ]
    # ... or an init function of the module, taking `rng` or `seed`, plus keywords:
    # inputs = { init = "make_inputs", n = 1000 }

    [kernel.params]              # optional kernel parameters (module globals)
    BLOCK = { pow2 = [8, 64] }   # also: int = [lo, hi] (+ step), choices = [...],
                                 #       permutation = [...]; default = value
"""

from __future__ import annotations

import inspect
import tomllib
import types
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from autotune.errors import InputError
from autotune.kernels._decl import RETURN, KernelDecl
from autotune.space import BaseParam, Choice, Int, Permutation, Pow2

FILLS = ("random", "normal", "zeros", "ones", "arange", "randint")
SPEC_SUFFIX = ".autotune.toml"


def spec_path_for(source: Path) -> Path:
    """The spec file that is found automatically beside ``source``."""
    return source.with_name(source.stem + SPEC_SUFFIX)


def read_spec(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise InputError(f"spec file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: invalid TOML: {exc}") from None


def spec_module_path(path: Path, data: dict[str, Any]) -> Path:
    module = data.get("module")
    if module is None:
        name = path.name.removesuffix(SPEC_SUFFIX).removesuffix(".toml")
        return path.with_name(name + ".py")
    if not isinstance(module, str):
        raise InputError(f"{path}: 'module' must be a file name string")
    return (path.parent / module).resolve()


def kernels_from_spec(path: Path, data: dict[str, Any], module: ModuleType) -> list[KernelDecl]:
    """Build declarations for every ``[[kernel]]`` table; raise InputError on bad input."""
    tables = data.get("kernel")
    if not isinstance(tables, list) or not tables:
        raise InputError(f"{path}: no [[kernel]] tables")
    unknown = set(data) - {"module", "kernel"}
    if unknown:
        raise InputError(f"{path}: unknown top-level keys {sorted(unknown)}")
    return [_kernel(f"{path}: kernel[{i}]", t, module) for i, t in enumerate(tables)]


_KERNEL_KEYS = {"function", "outputs", "rtol", "atol", "reference", "fastmath", "inputs", "params"}


def _kernel(where: str, table: Any, module: ModuleType) -> KernelDecl:
    if not isinstance(table, dict):
        raise InputError(f"{where}: must be a table")
    unknown = set(table) - _KERNEL_KEYS
    if unknown:
        raise InputError(f"{where}: unknown keys {sorted(unknown)}")
    fname = _typed(where, table, "function", str, required=True)
    func = _module_function(where, module, fname)
    if isinstance(func, KernelDecl):
        raise InputError(f"{where}: {fname!r} is already declared with @autotune.kernel")
    if not isinstance(getattr(func, "py_func", func), types.FunctionType):
        raise InputError(f"{where}: {fname!r} is not a Python function or @njit dispatcher")
    where = f"{where} ({fname})"
    ref_name = _typed(where, table, "reference", str)
    reference = _module_function(where, module, ref_name) if ref_name else None
    if "inputs" not in table:
        raise InputError(f"{where}: 'inputs' is required")
    return KernelDecl(
        name=fname,
        pyfunc=getattr(func, "py_func", func),
        inputs=_input_factory(where, table["inputs"], module),
        outputs=_outputs(where, table.get("outputs")),
        reference=reference,
        rtol=_number(where, table, "rtol", 1e-7),
        atol=_number(where, table, "atol", 0.0),
        params=_params(where, table.get("params", {})),
        allow_fastmath=_typed(where, table, "fastmath", bool) is not False,
    )


def _typed(where: str, table: dict[str, Any], key: str, typ: type, required: bool = False) -> Any:
    if key not in table:
        if required:
            raise InputError(f"{where}: '{key}' is required")
        return None
    value = table[key]
    if not isinstance(value, typ):
        raise InputError(f"{where}: '{key}' must be a {typ.__name__}, got {value!r}")
    return value


def _number(where: str, table: dict[str, Any], key: str, default: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise InputError(f"{where}: '{key}' must be a non-negative number, got {value!r}")
    return float(value)


def _module_function(where: str, module: ModuleType, name: str) -> Callable[..., Any]:
    func = getattr(module, name, None)
    if func is None or not callable(func):
        raise InputError(f"{where}: module {module.__file__} has no function {name!r}")
    return func


def _outputs(where: str, value: Any) -> tuple[int | str, ...]:
    items = value if isinstance(value, list) else [value]
    if value is None or not items:
        raise InputError(f"{where}: 'outputs' is required (argument indices and/or \"return\")")
    for item in items:
        if item != RETURN and (not isinstance(item, int) or isinstance(item, bool)):
            raise InputError(f'{where}: output {item!r} must be an argument index or "return"')
    return tuple(items)


def _input_factory(where: str, spec: Any, module: ModuleType) -> Callable[..., tuple[Any, ...]]:
    if isinstance(spec, dict):
        return _init_factory(f"{where}.inputs", spec, module)
    if isinstance(spec, list) and spec:
        makers = [_arg_maker(f"{where}.inputs[{i}]", a) for i, a in enumerate(spec)]
        return lambda rng: tuple(make(rng) for make in makers)
    raise InputError(f"{where}: 'inputs' must be a list of argument tables or {{init = ...}}")


def _init_factory(where: str, spec: dict[str, Any], module: ModuleType) -> Callable[..., Any]:
    name = _typed(where, spec, "init", str, required=True)
    init = _module_function(where, module, name)
    kwargs = {k: v for k, v in spec.items() if k != "init"}
    accepted = inspect.signature(init).parameters
    if "rng" not in accepted and "seed" not in accepted:
        raise InputError(f"{where}: init function {name!r} must take an 'rng' or 'seed' argument")

    def factory(rng: np.random.Generator) -> tuple[Any, ...]:
        if "rng" in accepted:
            args = init(rng=rng, **kwargs)
        else:
            args = init(seed=int(rng.integers(0, 2**31)), **kwargs)
        return tuple(args)

    return factory


_ARG_KEYS = {"shape", "dtype", "fill", "low", "high", "value"}


def _arg_maker(where: str, spec: Any) -> Callable[[np.random.Generator], Any]:
    if not isinstance(spec, dict):
        raise InputError(f"{where}: must be a table with shape/dtype/fill or value/dtype")
    unknown = set(spec) - _ARG_KEYS
    if unknown:
        raise InputError(f"{where}: unknown keys {sorted(unknown)} (known: {sorted(_ARG_KEYS)})")
    dtype_name = spec.get("dtype", "float64")
    if not isinstance(dtype_name, str):
        raise InputError(f"{where}: 'dtype' must be a NumPy dtype name, got {dtype_name!r}")
    try:
        dtype = np.dtype(dtype_name)
    except TypeError:
        raise InputError(f"{where}: unknown dtype {dtype_name!r}") from None
    if "value" in spec:
        value = spec["value"]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError(f"{where}: 'value' must be a number, got {value!r}")
        return lambda rng: dtype.type(value)
    shape = spec.get("shape")
    if not isinstance(shape, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
    ):
        raise InputError(f"{where}: 'shape' must be a list of non-negative ints, got {shape!r}")
    fill = spec.get("fill", "random")
    if fill not in FILLS:
        raise InputError(f"{where}: 'fill' must be one of {FILLS}, got {fill!r}")
    low, high = spec.get("low", 0), spec.get("high", 100)
    for name, bound in (("low", low), ("high", high)):
        if isinstance(bound, bool) or not isinstance(bound, int):
            raise InputError(f"{where}: '{name}' must be an integer, got {bound!r}")
    if fill == "randint" and high <= low:
        raise InputError(f"{where}: 'high' must be greater than 'low'")
    return lambda rng: _fill(rng, tuple(shape), dtype, fill, low, high)


def _fill(
    rng: np.random.Generator,
    shape: tuple[int, ...],
    dtype: np.dtype[Any],
    fill: str,
    low: int,
    high: int,
) -> np.ndarray[Any, Any]:
    if fill == "zeros":
        return np.zeros(shape, dtype)
    if fill == "ones":
        return np.ones(shape, dtype)
    if fill == "arange":
        return np.arange(int(np.prod(shape)), dtype=dtype).reshape(shape)
    if fill == "randint":
        return rng.integers(low, high, size=shape).astype(dtype)
    if fill == "normal":
        return rng.standard_normal(shape).astype(dtype)
    return rng.random(shape).astype(dtype)


_PARAM_KINDS = ("int", "pow2", "choices", "permutation")


def _default_first(where: str, values: list[Any], default: Any) -> list[Any]:
    """``values`` with ``default`` moved to the front (the first choice is the default)."""
    if default is None:
        return values
    same = [v for v in values if type(v) is type(default) and v == default]
    if not same:
        raise InputError(f"{where}: default {default!r} is not one of {values!r}")
    return [default] + [v for v in values if not (type(v) is type(default) and v == default)]


def _params(where: str, table: Any) -> dict[str, BaseParam]:
    if not isinstance(table, dict):
        raise InputError(f"{where}: 'params' must be a table")
    return {name: _param(f"{where}.params.{name}", spec) for name, spec in table.items()}


def param_to_spec(param: BaseParam) -> dict[str, Any]:
    """The spec-file table of ``param`` (the inverse of :func:`param_from_spec`)."""
    if isinstance(param, Int):
        return {"int": [param.low, param.high], "step": param.step, "default": param.default}
    if isinstance(param, Pow2):
        return {"pow2": [param.low, param.high], "default": param.default}
    if isinstance(param, Choice):
        return {"choices": list(param.choices)}
    if isinstance(param, Permutation):
        return {"permutation": list(param.items)}
    raise TypeError(f"{type(param).__name__} has no spec-file form")


def param_from_spec(where: str, spec: Any) -> BaseParam:
    """A parameter from its spec-file table; raises InputError naming ``where``."""
    return _param(where, spec)


def _param(where: str, spec: Any) -> BaseParam:
    kinds = [k for k in _PARAM_KINDS if isinstance(spec, dict) and k in spec]
    if len(kinds) != 1:
        raise InputError(f"{where}: give exactly one of {_PARAM_KINDS}")
    kind, value, default = kinds[0], spec[kinds[0]], spec.get("default")
    try:
        if kind in ("int", "pow2"):
            if not (isinstance(value, list) and len(value) == 2):
                raise InputError(f"{where}: '{kind}' must be [low, high]")
            if kind == "int":
                return Int(value[0], value[1], spec.get("step", 1), default)
            return Pow2(value[0], value[1], default)
        if not isinstance(value, list) or not value:
            raise InputError(f"{where}: '{kind}' must be a non-empty list")
        if kind == "choices":
            return Choice(tuple(_default_first(where, value, default)))
        items = Permutation(tuple(str(v) for v in value))
        if default is None:
            return items
        if not items.validate(default):
            raise InputError(f"{where}: default {default!r} is not a permutation of {value!r}")
        return Permutation(tuple(default))
    except (ValueError, TypeError) as exc:
        raise InputError(f"{where}: {exc}") from None
