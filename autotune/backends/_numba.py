"""CPU builder: every candidate is a real Numba dispatcher compiled with the
candidate's LLVM pipeline (the codegen pass-manager hook).

Why a dispatcher and not llvmlite + MCJIT on extracted IR: a dispatcher takes NumPy
arrays, keyword-free Python calls, exceptions and NRT allocation exactly as the user's
code does, so what we time is what the user will run. The MCJIT path compiles faster
(about 30 ms against 75-90 ms for matmul), but only works for C-ABI ``cfunc``
signatures, which ordinary kernels with array arguments do not have.
"""

from __future__ import annotations

import re
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from autotune.backends._base import BaseBuilder, BuildResult
from autotune.kernels import KernelDecl
from autotune.kernels._options import describe_njit_options
from autotune.loops import (
    Illegal,
    Transformed,
    analyze,
    argument_ranks,
    compile_transformed,
    transformed_source,
    widest_float_arrays,
)
from autotune.loops._space import LoopOptions
from autotune.passes import BuildOptions, PipelineConfig, numba_pipeline
from autotune.program import Workload, code_hash, normalize_ir

# Modules Numba adds for every library; they describe the calling convention, not the kernel.
_NOT_KERNEL_IR = {"wrapper", "cfunc_wrapper", "nrt_module"}
_captured: weakref.WeakKeyDictionary[Any, list[str]] = weakref.WeakKeyDictionary()
_capture_installed = False
# Printing a module costs milliseconds; candidates never need their IR recorded.
_capture_paused = False


def install_ir_capture() -> None:
    """Record the unoptimized IR of every library Numba compiles from now on.

    Must run before the first compile in the process, so that callees compiled by an
    earlier kernel still have their unoptimized IR on record.
    """
    global _capture_installed
    if _capture_installed:
        return
    from numba.core import codegen as nb_codegen

    original = nb_codegen.CPUCodeLibrary.add_ir_module

    def add_ir_module(self: Any, ir_module: Any) -> None:
        if not _capture_paused and ir_module.name not in _NOT_KERNEL_IR:
            _captured.setdefault(self, []).append(str(ir_module))
        original(self, ir_module)

    nb_codegen.CPUCodeLibrary.add_ir_module = add_ir_module  # type: ignore[method-assign]
    _capture_installed = True


def _library_ir(library: Any, seen: set[int]) -> Iterator[str]:
    if id(library) in seen:
        return
    seen.add(id(library))
    yield from _captured.get(library, [])
    for dep in getattr(library, "_linking_libraries", []):
        yield from _library_ir(dep, seen)


def describe_inputs(args: tuple[Any, ...]) -> str:
    """Array shapes and scalar values: what makes one problem instance of a kernel."""
    parts = []
    for arg in args:
        shape = getattr(arg, "shape", None)
        parts.append("x".join(map(str, shape)) if shape is not None else repr(arg))
    return "(" + ", ".join(parts) + ")"


def signature_of(args: tuple[Any, ...]) -> tuple[Any, ...]:
    import numba

    return tuple(numba.typeof(a) for a in args)


class NumbaBuilder(BaseBuilder):
    """Builds ``@njit`` dispatchers; kernel parameters become frozen globals."""

    name = "numba"

    def __init__(self) -> None:
        from autotune._compat import check_toolchain

        check_toolchain()
        install_ir_capture()

    def lower(self, decl: KernelDecl, args: tuple[Any, ...]) -> Workload:
        """The workload of the baseline's build: compiled with ``decl.njit_options``,
        whose IR (and a first line naming them, when there are any) sets it apart
        from the same kernel tuned against another baseline."""
        import numba

        sig = signature_of(args)
        dispatcher = numba.njit(**decl.njit_options)(decl.bind(decl.default_params()))
        dispatcher.compile(sig)
        library = dispatcher.overloads[sig].library
        # Callee IR is sorted so the key does not depend on compile order.
        own = _captured.get(library, [])
        callees = [t for t in _library_ir(library, set()) if t not in own]
        texts = [normalize_ir(t) for t in own] + sorted(normalize_ir(t) for t in callees)
        if decl.njit_options:
            # Options need not change the unoptimized IR (nogil), but they change what
            # the baseline and every candidate are: measurements must not be shared.
            texts.insert(0, f"; autotune baseline: {describe_njit_options(decl.njit_options)}")
        return Workload(
            kernel=decl.name,
            arg_types="(" + ", ".join(str(t) for t in sig) + ")",
            ir_text="\n".join(texts),
            inputs=describe_inputs(args),
        )

    def build_baseline(self, decl: KernelDecl, args: tuple[Any, ...]) -> BuildResult:
        """The kernel as ``decl`` writes it: default parameters, the author's options."""
        import numba

        start = time.perf_counter()
        try:
            dispatcher = numba.njit(**decl.njit_options)(decl.bind(decl.default_params()))
            dispatcher.compile(signature_of(args))
        except Exception as exc:
            return BuildResult(None, time.perf_counter() - start, _one_line(exc))
        return _with_threads(_built(dispatcher, args, time.perf_counter() - start), None)

    def build(self, decl: KernelDecl, config: dict[str, Any], args: tuple[Any, ...]) -> BuildResult:
        import numba

        global _capture_paused
        start = time.perf_counter()
        _capture_paused = True
        try:
            options = BuildOptions.from_config(config)
            source = config_source(decl, options, args)
            if isinstance(source, str):
                return BuildResult(None, time.perf_counter() - start, source)
            njit_options = config_njit_options(options, source, decl.njit_options)
            dispatcher = numba.njit(**njit_options)(source.pyfunc)
            compile_in_pipeline(dispatcher, options.pipeline, signature_of(args))
        except Exception as exc:
            return BuildResult(None, time.perf_counter() - start, _one_line(exc))
        finally:
            _capture_paused = False
        built = _built(dispatcher, args, time.perf_counter() - start, source.lowered)
        return _with_threads(built, options.loops.threads if source.parallel else None)


@dataclass(frozen=True, slots=True)
class ConfigSource:
    """The Python function a config compiles: the kernel with the config's parameter
    values as frozen globals, rewritten by its loop choices when it has any.

    ``lowered`` is the loop-transformed source (``None`` when the code is as written).
    """

    pyfunc: Callable[..., Any]
    lowered: Transformed | None = None

    @property
    def parallel(self) -> bool:
        """Whether the source uses ``prange`` and must be compiled with ``parallel=True``."""
        return self.lowered is not None and self.lowered.parallel


def config_source(
    decl: KernelDecl, options: BuildOptions, args: tuple[Any, ...]
) -> ConfigSource | str:
    """What ``options`` compiles for arguments ``args`` (their float64 arrays decide
    how loop transformations promote temporaries), or why it cannot be built.

    This and :func:`config_njit_options` and :func:`compile_in_pipeline` are the one
    way a config becomes code: the tuner's builder and ``autotune.deploy`` both use
    them, so a deployed build is the code that was measured.
    """
    params = {**decl.default_params(), **options.params}
    source = transformed_kernel(decl, options.loops, params, args)
    if isinstance(source, str):
        return source
    if source is None:
        return ConfigSource(decl.bind(params))
    return ConfigSource(*source)


def config_njit_options(
    options: BuildOptions, source: ConfigSource, author: Mapping[str, Any]
) -> dict[str, Any]:
    """The ``numba.njit`` keyword arguments of a config's build on top of the
    ``author``'s options (see :meth:`BuildOptions.njit_options`)."""
    return options.njit_options(author, source.parallel)


def compile_in_pipeline(dispatcher: Any, pipeline: PipelineConfig, sig: tuple[Any, ...]) -> None:
    """Compile ``sig`` into ``dispatcher`` with ``pipeline`` (see :func:`numba_pipeline`).

    Numba's compiler lock is taken before the hook goes in: the hook is process-wide,
    and another thread's compile must not run under it.
    """
    from numba.core.compiler_lock import global_compiler_lock

    with global_compiler_lock, numba_pipeline(pipeline):
        dispatcher.compile(sig)


def transformed_kernel(
    decl: KernelDecl, loops: LoopOptions, params: dict[str, Any], args: tuple[Any, ...]
) -> tuple[Any, Transformed] | str | None:
    """The kernel function rewritten by the loop choices of a config (``None`` when it
    has none), or why that failed."""
    if loops.is_default:
        return None
    analysis = analyze(decl.pyfunc, decl.allow_fastmath, argument_ranks(decl.pyfunc, args))
    writable = widest_float_arrays(decl.pyfunc, args)
    lowered = transformed_source(analysis, loops.choices, writable, loops.scalarize, loops.fused)
    if isinstance(lowered, Illegal):
        return f"illegal loop transformation: {lowered.reason}"
    if not lowered.changed:
        return None
    # bind() turns parameter values into the constants Numba freezes (lists to tuples).
    return compile_transformed(decl.bind(params), lowered, {}), lowered


class WithThreads:
    """A parallel build called with its own thread count (Numba's setting is global
    to the process, and candidates with other counts run in the same worker)."""

    def __init__(self, dispatcher: Any, threads: int) -> None:
        self.dispatcher = dispatcher
        self.threads = threads

    def __call__(self, *args: Any) -> Any:
        import numba

        numba.set_num_threads(self.threads)
        return self.dispatcher(*args)


def _with_threads(built: BuildResult, threads: int | None) -> BuildResult:
    """``built`` called with its own thread count where it is a parallel build:
    ``threads``, or all of Numba's (an author's ``parallel=True``). Without it, a
    parallel baseline would run with whatever count the last candidate set."""
    import numba

    dispatcher = built.artifact
    if dispatcher is None or not getattr(dispatcher, "targetoptions", {}).get("parallel"):
        return built
    threads = threads or numba.config.NUMBA_NUM_THREADS  # type: ignore[attr-defined]
    return replace(built, artifact=WithThreads(dispatcher, threads))


def _built(
    dispatcher: Any, args: tuple[Any, ...], compile_s: float, lowered: Transformed | None = None
) -> BuildResult:
    built_hash = build_code_hash(dispatcher.inspect_llvm(signature_of(args)), lowered)
    return BuildResult(dispatcher, compile_s, code_hash=built_hash)


def build_code_hash(optimized_ir: str, lowered: Transformed | None = None) -> str:
    """The code hash of a build: its optimized IR (``dispatcher.inspect_llvm(sig)``) and,
    for a loop-transformed build, the lowered source.

    Named local values are renamed in order of first appearance: Numba names them
    after IR variables whose numbering is global to the process (a parfor's ``_m_21``
    in one compile is ``_m_121`` in the next), and names are not code.
    """
    names: dict[str, str] = {}
    optimized_ir = _LOCAL_NAME.sub(
        lambda m: names.setdefault(m.group(0), f"%v{len(names)}"), optimized_ir
    )
    if lowered is not None:
        # A parallel region is compiled into a library of its own that the main
        # function's IR does not show: the lowered source tells the builds apart.
        optimized_ir += "\n" + lowered.source
    return code_hash(optimized_ir)


#: LLVM local identifiers with a name (``%x``, ``%"a b"``); numbered ones (``%0``) stay.
_LOCAL_NAME = re.compile(r'%(?:"[^"]*"|[-a-zA-Z$._][-a-zA-Z$._0-9]*)')
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _one_line(exc: BaseException) -> str:
    text = " ".join(_ANSI.sub("", str(exc)).split())
    return f"{type(exc).__name__}: {text[:500]}"
