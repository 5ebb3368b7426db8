"""The cheap kernel key: what a config-cache lookup is keyed by, computed without
compiling anything.

Numba's own cache keys a function by its bytecode, closure and signature, and misses
two things that change the code it compiles: the values of the globals it binds
(frozen as constants) and the ``@njit`` functions it calls from other files. This key
hashes both. Anything it still misses (say, a callee reached through an object
attribute) is caught later: the entry's code hash is compared with the code actually
built, and a mismatch makes the entry stale.
"""

from __future__ import annotations

import hashlib
import inspect
import linecache
import math
import operator
import sys
import types
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

#: Bumped whenever the key or the entry format changes meaning: old entries then miss.
CACHE_FORMAT = 1
#: Modules whose attributes are library code, not the user's callees.
_LIBRARY_MODULES = ("numpy", "math", "cmath", "numba", "builtins", "operator")
#: Global arrays bigger than this are hashed by a sample, which bounds a lookup's cost.
_ARRAY_HASH_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class KernelKey:
    """What a kernel's tuned config is looked up by.

    Attributes:
        kernel: the function's name.
        program: hash of the function's source (without decorators) and bytecode, the
            sources of the ``@njit`` functions it calls (recursively), and the values
            of the globals and closure cells it reads.
        arg_types: Numba's types of the arguments, as ``Workload.arg_types`` writes them.
        bucket: the problem-size bucket: ``ceil(log2)`` of every array dimension and of
            every integer argument, in argument order.
        toolchain: Numba, llvmlite and Python versions and the cache format.
    """

    kernel: str
    program: str
    arg_types: str
    bucket: tuple[int, ...]
    toolchain: str

    @property
    def digest(self) -> str:
        """Hash of everything but the bucket: entries of one kernel at other sizes
        share it, so that the nearest bucket can stand in for a missing one."""
        text = "|".join((self.kernel, self.program, self.arg_types, self.toolchain))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def bucket_text(self) -> str:
        return bucket_text(self.bucket)


def bucket_text(bucket: tuple[int, ...]) -> str:
    """The bucket as stored: ``"10,10,4"``."""
    return ",".join(map(str, bucket))


def parse_bucket(text: str) -> tuple[int, ...]:
    """Inverse of :func:`bucket_text`; raises ValueError for anything else."""
    return tuple(int(part) for part in text.split(",")) if text else ()


def kernel_key(
    pyfunc: Callable[..., Any], args: tuple[Any, ...], params: Mapping[str, Any] | None = None
) -> KernelKey:
    """The key of ``pyfunc`` called with ``args``; nothing is compiled.

    ``params``, when given, are kernel parameter values bound as globals; they join
    the program hash (a kernel declared with other defaults is another program).
    """
    program = program_fingerprint(pyfunc)
    if params:
        extra = "|".join(f"{k}={_value_text(v)}" for k, v in sorted(params.items()))
        program = _hash(program + "|params|" + extra)
    return KernelKey(
        kernel=pyfunc.__name__,
        program=program,
        arg_types=argument_types(args),
        bucket=size_bucket(args),
        toolchain=toolchain(),
    )


def argument_types(args: tuple[Any, ...]) -> str:
    """Numba's types of ``args``, written as the workload key writes them."""
    import numba

    return "(" + ", ".join(str(numba.typeof(a)) for a in args) + ")"


def size_bucket(args: tuple[Any, ...]) -> tuple[int, ...]:
    """``ceil(log2(n))`` of every array dimension and every integer argument (``n``
    below 1 counts as 1): problems whose sizes round to the same powers of two share
    a tuned config."""
    bucket: list[int] = []
    for arg in args:
        shape = getattr(arg, "shape", None)
        if isinstance(arg, int | _numpy_integer()) and not isinstance(arg, bool):
            bucket.append(_log2_ceil(abs(operator.index(arg))))  # type: ignore[arg-type]
        elif isinstance(shape, tuple):
            bucket.extend(_log2_ceil(int(d)) for d in shape)
    return tuple(bucket)


def bucket_distance(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """How far apart two buckets are (sum of log2 differences); infinite when they do
    not describe the same arguments."""
    if len(a) != len(b):
        return math.inf
    return float(sum(abs(x - y) for x, y in zip(a, b, strict=True)))


def toolchain() -> str:
    """The versions a tuned config is only valid for."""
    import llvmlite
    import numba

    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    return f"numba {numba.__version__}|llvmlite {llvmlite.__version__}|py {python}|f{CACHE_FORMAT}"


def program_fingerprint(pyfunc: Callable[..., Any]) -> str:
    """Hash of what decides the code Numba compiles for ``pyfunc``: see
    :attr:`KernelKey.program`."""
    return _Fingerprint().of(pyfunc)


class _Fingerprint:
    """Walks a function and the ``@njit`` functions it calls, each once."""

    def __init__(self) -> None:
        self.seen: dict[int, str] = {}

    def of(self, pyfunc: Callable[..., Any]) -> str:
        ident = id(pyfunc)
        if ident in self.seen:
            return self.seen[ident]
        self.seen[ident] = "<recursive>"  # a recursive call hashes as a back edge
        code = pyfunc.__code__
        parts = [function_source(pyfunc), _code_text(code)]
        for name in sorted(set(_names(code))):
            parts.append(f"{name}={self._global(pyfunc, name, code)}")
        for cell_name, cell in zip(code.co_freevars, pyfunc.__closure__ or (), strict=False):
            parts.append(f"cell {cell_name}={self._value(_cell_contents(cell))}")
        digest = _hash("\n".join(parts))
        self.seen[ident] = digest
        return digest

    def _global(self, pyfunc: Callable[..., Any], name: str, code: types.CodeType) -> str:
        scope = pyfunc.__globals__
        if name in scope:
            return self._value(scope[name], attributes=set(_names(code)))
        builtins = scope.get("__builtins__")
        table = builtins if isinstance(builtins, dict) else vars(builtins or __builtins__)
        return "<builtin>" if name in table else "<unbound>"

    def _value(self, value: Any, attributes: set[str] | None = None) -> str:
        pyfunc = getattr(value, "py_func", None)
        if inspect.isfunction(pyfunc):  # a Numba dispatcher: its source is compiled in
            options = getattr(value, "targetoptions", {})
            return f"njit {sorted(options.items())!r} {self.of(pyfunc)}"
        if isinstance(value, types.ModuleType):
            return self._module(value, attributes or set())
        return _value_text(value)

    def _module(self, module: types.ModuleType, attributes: set[str]) -> str:
        name = module.__name__
        if name.split(".")[0] in _LIBRARY_MODULES:
            return f"module {name}"
        # A user module: the callees read as module.attr are part of the program.
        callees = []
        for attr in sorted(attributes):
            target = getattr(module, attr, None)
            if target is not None and inspect.isfunction(getattr(target, "py_func", None)):
                callees.append(f"{attr}:{self._value(target)}")
        return f"module {name} " + " ".join(callees)


def function_source(pyfunc: Callable[..., Any]) -> str:
    """``pyfunc``'s source from its ``def`` line to its last line, without the
    decorators above it (decorator arguments declare how to tune, not what to
    compute); its qualified name when the source cannot be read.

    The lines are read from the file the code was compiled from (as the interpreter's
    tracebacks are), which is much cheaper than :func:`inspect.getsource`'s
    tokenizing: a build looks up every kernel of a package.
    """
    code = pyfunc.__code__
    lines = linecache.getlines(code.co_filename, pyfunc.__globals__)
    numbers = [n for _, _, n in code.co_lines() if n is not None]
    if not lines or not numbers:
        return f"<no source: {pyfunc.__qualname__}>"
    first = code.co_firstlineno - 1
    last = max(max(numbers), code.co_firstlineno)
    body = lines[first:last]
    for index, line in enumerate(body):
        if line.lstrip().startswith(("def ", "async def ")):
            return "".join(body[index:])
    return "".join(body)


def _code_text(code: types.CodeType) -> str:
    consts = [_code_text(c) if isinstance(c, types.CodeType) else repr(c) for c in code.co_consts]
    return f"{code.co_code.hex()}|{consts}|{code.co_names}|{code.co_varnames}"


def _names(code: types.CodeType) -> Iterator[str]:
    """Global and attribute names read by ``code`` and the code objects inside it."""
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _names(const)


def _value_text(value: Any) -> str:
    """A stable text of a global's value as Numba would freeze it."""
    if value is None or isinstance(value, bool | int | float | complex | str | bytes):
        return repr(value)
    if isinstance(value, tuple):
        return "(" + ",".join(_value_text(v) for v in value) + ")"
    import numpy as np

    if isinstance(value, np.ndarray):
        data = value.tobytes()
        if len(data) > _ARRAY_HASH_BYTES:
            data = data[:_ARRAY_HASH_BYTES] + data[-_ARRAY_HASH_BYTES:]
        return f"array {value.dtype} {value.shape} {hashlib.sha256(data).hexdigest()[:16]}"
    if isinstance(value, np.generic):
        return f"{value.dtype} {value!r}"
    if isinstance(value, type):
        return f"type {value.__module__}.{value.__qualname__}"
    if callable(value):
        module = getattr(value, "__module__", None) or ""
        return f"callable {module}.{getattr(value, '__qualname__', type(value).__name__)}"
    return f"object {type(value).__module__}.{type(value).__qualname__}"


def _cell_contents(cell: Any) -> Any:
    try:
        return cell.cell_contents
    except ValueError:  # an empty cell
        return None


def _log2_ceil(n: int) -> int:
    return max(0, (max(n, 1) - 1).bit_length())


def _numpy_integer() -> type:
    import numpy as np

    return np.integer


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]
