"""Spec-file inputs: argument tables (shape, dtype, fill) and init functions.

Both become an input factory ``factory(rng) -> argument tuple``. Argument tables are
checked in full when the spec loads, their size included; an init function is only
known to run when the worker calls it.
"""

from __future__ import annotations

import importlib
import inspect
import math
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from autotune.errors import InputError
from autotune.kernels._inputs import argument_tuple
from autotune.kernels._source import import_source

FILLS = ("random", "normal", "zeros", "ones", "arange", "randint")
#: The worker holds about this many copies of the inputs at once: the timed and the
#: held-back input sets, plus the fresh copies each verification call writes into.
COPIES_HELD = 3
#: The most dimensions every supported NumPy version allows.
MAX_NDIM = 32
_ARG_KEYS = {"shape", "dtype", "fill", "low", "high", "value"}
_INT64 = (-(2**63), 2**63 - 1)
_NUMPY_MAX_BYTES = int(np.iinfo(np.intp).max)

Factory = Callable[..., tuple[Any, ...]]
Maker = Callable[[np.random.Generator], Any]


def input_factory(where: str, spec: Any, module: ModuleType, base: Path) -> Factory:
    """The input factory of a kernel table's ``inputs`` value; ``base`` is the spec's
    folder, against which ``init = "file.py:function"`` is resolved."""
    if isinstance(spec, dict):
        return _init_factory(f"{where}.inputs", spec, module, base)
    if isinstance(spec, list) and spec:
        made = [_arg_maker(f"{where}.inputs[{i}]", a) for i, a in enumerate(spec)]
        check_fits_in_memory(f"{where}.inputs", sum(nbytes for _, nbytes in made))
        makers = [make for make, _ in made]
        return lambda rng: tuple(make(rng) for make in makers)
    raise InputError(f"{where}: 'inputs' must be a list of argument tables or {{init = ...}}")


def module_function(where: str, module: ModuleType, name: str) -> Callable[..., Any]:
    """The callable ``name`` of ``module``; an :class:`InputError` naming both if absent."""
    func = getattr(module, name, None)
    if func is None or not callable(func):
        shown = getattr(module, "__file__", None) or module.__name__
        raise InputError(f"{where}: module {shown} has no function {name!r}")
    return func


# --- memory -----------------------------------------------------------------------------


def physical_memory() -> int | None:
    """Bytes of physical memory of this machine, or ``None`` where it cannot be read."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None


def check_fits_in_memory(where: str, nbytes: int, memory: int | None = None) -> None:
    """Refuse inputs of ``nbytes`` that cannot be held: when 3 copies of them
    (:data:`COPIES_HELD`: two input sets plus the copies verification writes into) exceed
    ``memory`` (default: this machine's physical memory), or NumPy cannot address them."""
    memory = physical_memory() if memory is None else memory
    need = f"{where}: inputs need {human_bytes(nbytes)}"
    if nbytes > _NUMPY_MAX_BYTES:
        raise InputError(f"{need}, more than NumPy can address")
    if memory is not None and COPIES_HELD * nbytes > memory:
        raise InputError(
            f"{need}; this machine has {human_bytes(memory)} of memory "
            f"(the worker holds about {COPIES_HELD} copies of them)"
        )


def human_bytes(nbytes: int) -> str:
    """``nbytes`` in binary units: ``7.3 TiB``."""
    units = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")
    if nbytes >= 1024 ** len(units):
        return f"over 1024 {units[-1]}"
    value, exponent = float(nbytes), 0
    while value >= 1024:
        value, exponent = value / 1024, exponent + 1
    return f"{nbytes} B" if exponent == 0 else f"{value:.1f} {units[exponent]}"


# --- argument tables ----------------------------------------------------------------------


def _arg_maker(where: str, spec: Any) -> tuple[Maker, int]:
    """The maker of one argument and the bytes it needs."""
    if not isinstance(spec, dict):
        raise InputError(f"{where}: must be a table with shape/dtype/fill or value/dtype")
    unknown = set(spec) - _ARG_KEYS
    if unknown:
        raise InputError(f"{where}: unknown keys {sorted(unknown)} (known: {sorted(_ARG_KEYS)})")
    dtype = argument_dtype(where, spec.get("dtype", "float64"))
    if "value" in spec:
        value = scalar_value(where, spec["value"], dtype)
        return (lambda rng: value), dtype.itemsize
    shape = array_shape(where, spec.get("shape"), dtype)
    fill, low, high = fill_of(where, spec)

    def maker(rng: np.random.Generator) -> np.ndarray[Any, Any]:
        return filled_array(rng, shape, dtype, fill, low, high)

    return maker, math.prod(shape) * dtype.itemsize


def fill_of(where: str, spec: dict[str, Any]) -> tuple[str, int, int]:
    """The checked ``fill``, ``low`` and ``high`` of an argument table (defaults:
    ``random``, 0 and 100)."""
    fill = spec.get("fill", "random")
    if not isinstance(fill, str) or fill not in FILLS:
        raise InputError(f"{where}: 'fill' must be one of {FILLS}, got {fill!r}")
    low, high = spec.get("low", 0), spec.get("high", 100)
    for name, bound in (("low", low), ("high", high)):
        if isinstance(bound, bool) or not isinstance(bound, int):
            raise InputError(f"{where}: '{name}' must be an integer, got {bound!r}")
        if not _INT64[0] <= bound <= _INT64[1]:
            raise InputError(f"{where}: '{name}' must fit in 64 bits, got {bound!r}")
    if fill == "randint" and high <= low:
        raise InputError(f"{where}: 'high' must be greater than 'low'")
    return fill, low, high


def argument_dtype(where: str, name: Any, taker: str = "Numba kernels") -> np.dtype[Any]:
    """The dtype called ``name``; an :class:`InputError` unless it is a plain numeric
    dtype that ``taker`` can take (no extended precision)."""
    if not isinstance(name, str):
        raise InputError(f"{where}: 'dtype' must be a NumPy dtype name, got {name!r}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # deprecated aliases warn on stderr
            dtype = np.dtype(name)
    except Exception:
        raise InputError(f"{where}: unknown dtype {name!r}") from None
    numeric = dtype.kind in "biufc" and dtype.fields is None and not dtype.shape
    # Numba has no extended precision: float128/complex256 would fail in every build.
    if not numeric or dtype.itemsize > (16 if dtype.kind == "c" else 8):
        raise InputError(
            f"{where}: dtype {name!r} is not one {taker} take "
            "(bool, int, uint, float or complex of at most 64-bit parts)"
        )
    return dtype


def scalar_value(where: str, value: Any, dtype: np.dtype[Any]) -> Any:
    """``value`` (a number, not a bool) as a NumPy scalar of ``dtype`` that holds it."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{where}: 'value' must be a number, got {value!r}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # an overflowing cast only warns
            return dtype.type(value)
    except (Warning, OverflowError, ValueError, TypeError):
        raise InputError(f"{where}: 'value' {value!r} does not fit dtype {dtype.name}") from None


def array_shape(where: str, shape: Any, dtype: np.dtype[Any]) -> tuple[int, ...]:
    """``shape`` (a list of non-negative ints) as a tuple, checked against NumPy's
    limits on dimensions and addressable bytes."""
    if not isinstance(shape, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
    ):
        raise InputError(f"{where}: 'shape' must be a list of non-negative ints, got {shape!r}")
    if len(shape) > MAX_NDIM:
        raise InputError(f"{where}: 'shape' has {len(shape)} dimensions; at most {MAX_NDIM}")
    # An empty array needs no memory, yet NumPy still refuses sizes it cannot address.
    nonzero_bytes = math.prod(max(d, 1) for d in shape) * dtype.itemsize
    if math.prod(shape) == 0 and nonzero_bytes > _NUMPY_MAX_BYTES:
        raise InputError(f"{where}: 'shape' {shape!r} is beyond what NumPy can address")
    return tuple(shape)


def filled_array(
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
    with np.errstate(all="ignore"):  # wrapping into small dtypes is the user's choice
        if fill == "arange":
            return np.arange(math.prod(shape)).reshape(shape).astype(dtype)
        if fill == "randint":
            return rng.integers(low, high, size=shape).astype(dtype)
        if fill == "normal":
            return rng.standard_normal(shape).astype(dtype)
        return rng.random(shape).astype(dtype)


# --- init functions -----------------------------------------------------------------------


def _init_factory(where: str, spec: dict[str, Any], module: ModuleType, base: Path) -> Factory:
    ref = spec.get("init")
    if not isinstance(ref, str):
        raise InputError(f"{where}: 'init' is required: a function name or 'module:function'")
    init = _init_function(where, ref, module, base)
    kwargs = {k: v for k, v in spec.items() if k != "init"}
    random_arg = _random_argument(init)
    _check_call(where, ref, init, random_arg, kwargs)
    what = f"init function {ref!r}"

    def factory(rng: np.random.Generator) -> tuple[Any, ...]:
        if random_arg == "rng":
            return argument_tuple(what, init(rng=rng, **kwargs))
        if random_arg == "seed":
            return argument_tuple(what, init(seed=int(rng.integers(0, 2**31)), **kwargs))
        return argument_tuple(what, init(**kwargs))

    return factory


def _init_function(where: str, ref: str, module: ModuleType, base: Path) -> Callable[..., Any]:
    """``ref`` is a function of the spec's module, ``file.py:function`` (relative to the
    spec's folder) or ``dotted.module:function`` (importable)."""
    return referenced_function(where, ref, base, lambda: module, what="init")


def referenced_function(
    where: str,
    ref: str,
    base: Path,
    module: Callable[[], ModuleType],
    what: str = "reference",
) -> Callable[..., Any]:
    """The function ``ref`` names: ``function`` of the spec's own module (``module()``
    imports it, only when needed), ``file.py:function`` (relative to the spec's folder
    ``base``) or ``dotted.module:function`` (importable). ``what`` is the key that holds
    ``ref``, as messages name it."""
    if ":" not in ref:
        return module_function(where, module(), ref)
    module_ref, _, name = ref.rpartition(":")
    if not module_ref or not name:
        raise InputError(f"{where}: {what} {ref!r} must be 'function' or 'module:function'")
    return module_function(where, _referenced_module(where, module_ref, base, what), name)


def _referenced_module(where: str, ref: str, base: Path, what: str) -> ModuleType:
    if ref.endswith(".py") or "/" in ref or "\\" in ref:
        path = base / ref
        if not path.is_file():
            raise InputError(f"{where}: {what} module {ref!r} not found: no file {path}")
        return import_source(path)
    try:
        return importlib.import_module(ref)
    except ModuleNotFoundError as exc:
        raise InputError(f"{where}: cannot import {what} module {ref!r}: {exc}") from None
    except Exception as exc:
        raise InputError(
            f"{where}: importing {what} module {ref!r} failed: {type(exc).__name__}: {exc}"
        ) from None


def _random_argument(init: Callable[..., Any]) -> str | None:
    """``"rng"`` or ``"seed"``, the random argument ``init`` takes, if any."""
    try:
        accepted = inspect.signature(init).parameters
    except (TypeError, ValueError):
        return None
    return next((name for name in ("rng", "seed") if name in accepted), None)


def _check_call(
    where: str,
    ref: str,
    init: Callable[..., Any],
    random_arg: str | None,
    kwargs: dict[str, Any],
) -> None:
    """Refuse keywords that ``init`` cannot be called with, before any worker starts."""
    if random_arg is not None and random_arg in kwargs:
        raise InputError(f"{where}: {random_arg!r} is passed by autotune; remove it")
    try:
        signature = inspect.signature(init)
    except (TypeError, ValueError):
        return
    try:
        signature.bind(**({random_arg: None} if random_arg else {}), **kwargs)
    except TypeError as exc:
        raise InputError(f"{where}: init function {ref!r} cannot take {kwargs}: {exc}") from None
