"""Spec files: declare kernels of unmodified code in a TOML file beside it.

Schema (``foo.autotune.toml`` beside ``foo.py``)::

    module = "foo.py"            # optional; default: the spec's name without .autotune.toml

    [[kernel]]
    function = "saxpy"           # required: a function (or @njit dispatcher, whose
                                 # options are kept: the baseline is the code as written)
    outputs = [2]                # argument indices and/or "return"
    rtol = 1e-7                  # optional (default 1e-7)
    atol = 0.0                   # optional (default 0)
    reference = "saxpy_ref"      # optional: a function of the module
    fastmath = true              # optional: whether fastmath flags may be tried
    perturb = 0.0                # optional, in [0, 0.1]: see KernelDecl.perturb
    inputs = [                   # either one table per argument ...
      { shape = [1000], dtype = "float64", fill = "random" },
      { value = 2.5, dtype = "float64" },
    ]
    # ... or an init function returning the argument tuple, called with `rng` or `seed`
    # if it takes one, plus the other keys as keywords. It is a function of the module,
    # "file.py:function" (relative to the spec's folder) or "package.module:function":
    # inputs = { init = "make_inputs", n = 1000 }

    [kernel.params]              # optional kernel parameters (module globals)
    BLOCK = { pow2 = [8, 64] }   # also: int = [lo, hi] (+ step), choices = [...],
                                 #       permutation = [...]; default = value

A table with ``source`` (a CUDA file) instead of ``function`` declares a CUDA kernel:
see :mod:`autotune.kernels._cuda_spec` for its keys.
"""

from __future__ import annotations

import tomllib
import types
from pathlib import Path
from types import ModuleType
from typing import Any

from autotune.errors import InputError
from autotune.kernels._checks import perturb_problem, tolerance_problem
from autotune.kernels._decl import RETURN, KernelDecl
from autotune.kernels._options import author_njit_options
from autotune.kernels._spec_inputs import input_factory, module_function
from autotune.space import BaseParam, Choice, Int, Permutation, Pow2

SPEC_SUFFIX = ".autotune.toml"
#: Deeper nesting than the schema needs (a choice of lists sits 7 levels deep).
MAX_NESTING = 16


def spec_path_for(source: Path) -> Path:
    """The spec file that is found automatically beside ``source``."""
    return source.with_name(source.stem + SPEC_SUFFIX)


def read_spec(path: Path) -> dict[str, Any]:
    """The parsed spec file; an :class:`InputError` naming ``path`` when it cannot be read,
    is not UTF-8 text, is not valid TOML or nests deeper than :data:`MAX_NESTING`."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"spec file not found: {path}") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the spec file: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            f"{path}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x}); "
            "save the spec file as UTF-8"
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: invalid TOML: {exc}") from None
    except RecursionError:  # tomllib parses nested arrays recursively
        raise InputError(f"{path}: invalid TOML: values nested too deeply") from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise InputError(f"{path}: invalid TOML: {exc}") from None
    if _nesting(data) > MAX_NESTING:
        raise InputError(f"{path}: values nested deeper than {MAX_NESTING} levels")
    return data


def _nesting(value: Any) -> int:
    """How deeply lists and tables nest in ``value`` (without recursing)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return deepest


def spec_module_path(path: Path, data: dict[str, Any]) -> Path:
    module = data.get("module")
    if module is None:
        name = path.name.removesuffix(SPEC_SUFFIX).removesuffix(".toml")
        return path.with_name(name + ".py")
    if not isinstance(module, str) or not module or "\0" in module:
        raise InputError(f"{path}: 'module' must be a file name string, got {module!r}")
    resolved = (path.parent / module).resolve()
    if not resolved.is_file():
        raise InputError(f"{path}: module {module!r}: no such file: {resolved}")
    return resolved


def kernels_from_spec(path: Path, data: dict[str, Any], module: ModuleType) -> list[KernelDecl]:
    """Build declarations for every ``[[kernel]]`` table; raise InputError on bad input."""
    base = path.parent
    return [kernel_from_table(where, t, module, base) for where, t in kernel_tables(path, data)]


def kernel_tables(path: Path, data: dict[str, Any]) -> list[tuple[str, Any]]:
    """The ``[[kernel]]`` tables of the spec file ``path``, each with the label its
    messages start with (``path: kernel[0]``); raise InputError for a spec without
    kernel tables or with unknown top-level keys."""
    tables = data.get("kernel")
    if not isinstance(tables, list) or not tables:
        raise InputError(f"{path}: no [[kernel]] tables")
    unknown = set(data) - {"module", "kernel"}
    if unknown:
        raise InputError(f"{path}: unknown top-level keys {sorted(unknown)}")
    return [(f"{path}: kernel[{i}]", table) for i, table in enumerate(tables)]


_KERNEL_KEYS = {
    "function",
    "outputs",
    "rtol",
    "atol",
    "reference",
    "fastmath",
    "inputs",
    "params",
    "perturb",
}


def kernel_from_table(where: str, table: Any, module: ModuleType, base: Path) -> KernelDecl:
    """The declaration of one CPU ``[[kernel]]`` table of a spec in the folder ``base``
    whose kernels are functions of ``module``."""
    if not isinstance(table, dict):
        raise InputError(f"{where}: must be a table")
    unknown = set(table) - _KERNEL_KEYS
    if unknown:
        raise InputError(f"{where}: unknown keys {sorted(unknown)}")
    fname = spec_value(where, table, "function", str, required=True)
    func = module_function(where, module, fname)
    if isinstance(func, KernelDecl):
        raise InputError(f"{where}: {fname!r} is already declared with @autotune.kernel")
    if not isinstance(getattr(func, "py_func", func), types.FunctionType):
        raise InputError(f"{where}: {fname!r} is not a Python function or @njit dispatcher")
    where = f"{where} ({fname})"
    ref_name = spec_value(where, table, "reference", str)
    reference = module_function(where, module, ref_name) if ref_name else None
    if "inputs" not in table:
        raise InputError(f"{where}: 'inputs' is required")
    arguments: dict[str, Any] = {
        "inputs": input_factory(where, table["inputs"], module, base),
        "outputs": _outputs(where, table.get("outputs")),
        "rtol": spec_number(where, table, "rtol", 1e-7),
        "atol": spec_number(where, table, "atol", 0.0),
        "params": params_from_spec(where, table.get("params", {})),
        "allow_fastmath": spec_value(where, table, "fastmath", bool) is not False,
        "perturb": spec_number(where, table, "perturb", 0.0),
    }
    try:
        return KernelDecl(
            name=fname,
            pyfunc=getattr(func, "py_func", func),
            reference=reference,
            # The module's own @njit options: the kernel as written is the baseline.
            njit_options=author_njit_options(func),
            **arguments,
        )
    except InputError as exc:  # the declaration's own checks: name the spec, not the kernel
        raise InputError(f"{where}: {str(exc).removeprefix(f'kernel {fname!r}: ')}") from None


def spec_value(
    where: str, table: dict[str, Any], key: str, typ: type, required: bool = False
) -> Any:
    """``table[key]``, which must be a ``typ``; ``None`` when absent and not required."""
    if key not in table:
        if required:
            raise InputError(f"{where}: '{key}' is required")
        return None
    value = table[key]
    if not isinstance(value, typ):
        raise InputError(f"{where}: '{key}' must be a {typ.__name__}, got {value!r}")
    return value


def spec_number(where: str, table: dict[str, Any], key: str, default: float) -> float:
    """The tolerance or perturbation ``key`` of ``table``, checked as the decorator does."""
    value = table.get(key, default)
    if key == "perturb":
        problem = perturb_problem(f"'{key}'", value)
    else:
        problem = tolerance_problem(f"'{key}'", value, relative=key == "rtol")
    if problem is not None:
        raise InputError(f"{where}: {problem}")
    return float(value)


def _outputs(where: str, value: Any) -> tuple[int | str, ...]:
    items = value if isinstance(value, list) else [value]
    if value is None or not items:
        raise InputError(f"{where}: 'outputs' is required (argument indices and/or \"return\")")
    for item in items:
        if item != RETURN and (not isinstance(item, int) or isinstance(item, bool)):
            raise InputError(f'{where}: output {item!r} must be an argument index or "return"')
    return tuple(items)


_PARAM_KINDS = ("int", "pow2", "choices", "permutation")


def _default_first(where: str, values: list[Any], default: Any) -> list[Any]:
    """``values`` with ``default`` moved to the front (the first choice is the default)."""
    if default is None:
        return values
    same = [v for v in values if type(v) is type(default) and v == default]
    if not same:
        raise InputError(f"{where}: default {default!r} is not one of {values!r}")
    return [default] + [v for v in values if not (type(v) is type(default) and v == default)]


def params_from_spec(where: str, table: Any, key: str = "params") -> dict[str, BaseParam]:
    """The parameters of the ``[kernel.<key>]`` table ``table``; raises InputError."""
    if not isinstance(table, dict):
        raise InputError(f"{where}: '{key}' must be a table")
    return {name: _param(f"{where}.{key}.{name}", spec) for name, spec in table.items()}


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
