"""A tuned config compiled for calling: :class:`TunedDispatcher` and :func:`compile_config`.

Numba compiles a new signature lazily with its default pipeline. A tuned build must
never silently do that, so each Numba dispatcher we own has its lazy compile replaced
by :func:`refuse_lazy_compile`: a call with a signature it lacks raises
:class:`NewSignature`, and the :class:`TunedDispatcher` catches it, compiles that
signature through the tuned pipeline and calls again.

Why not ``dispatcher.disable_compile()``: with compilation disabled, Numba's C
dispatcher also accepts *unsafe* conversions to an existing signature, so after
``f(3.0)`` a call ``f(3)`` would run the float64 build (``3 // 2`` gives ``1.0``)
instead of compiling an int64 one. Refusing the lazy compile keeps Numba's own
matching rules exactly.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from autotune.backends._numba import (
    ConfigSource,
    build_code_hash,
    compile_in_pipeline,
    config_njit_options,
    config_source,
)
from autotune.deploy import _disk
from autotune.deploy._warn import warn_once
from autotune.errors import InputError
from autotune.kernels import KernelDecl, author_njit_options
from autotune.passes import BuildOptions


class NewSignature(TypeError):
    """Raised by a Numba dispatcher of ours instead of compiling a signature itself.

    ``args`` are the call's arguments as Numba folded them (keywords placed,
    ``OmittedArg`` for defaults). A ``TypeError`` so that code catching what an
    uncompilable call raises still does.
    """

    def __init__(self, folded: tuple[Any, ...]) -> None:
        super().__init__("signature not compiled yet (autotune compiles it)")
        self.folded = folded


def refuse_lazy_compile(dispatcher: Any) -> Any:
    """Make ``dispatcher`` raise :class:`NewSignature` where Numba would compile.

    Numba's C dispatcher calls the ``_compile_for_args`` attribute when no compiled
    signature matches a call; an instance attribute shadows the method.
    """

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise NewSignature(args)

    dispatcher._compile_for_args = refuse
    return dispatcher


def numba_signature(folded: tuple[Any, ...]) -> tuple[Any, ...]:
    """The signature Numba would compile for the folded arguments of a call (as
    ``Dispatcher._compile_for_args`` types them)."""
    from numba.core import types
    from numba.core.dispatcher import OmittedArg

    return tuple(
        types.Omitted(a.value) if isinstance(a, OmittedArg) else _argument_type(a) for a in folded
    )


def _argument_type(value: Any) -> Any:
    from numba.core import errors, types
    from numba.core.typing.typeof import Purpose, typeof

    try:
        found = typeof(value, Purpose.argument)
    except (errors.NumbaValueError, ValueError):
        found = None
    return types.pyobject if found is None else found


def plain_args(folded: tuple[Any, ...]) -> tuple[Any, ...]:
    """Folded arguments with the values of omitted defaults filled in."""
    from numba.core.dispatcher import OmittedArg

    return tuple(a.value if isinstance(a, OmittedArg) else a for a in folded)


@dataclass(frozen=True, slots=True)
class _Variant:
    """One Numba dispatcher of a tuned build. Loop-transformed source depends on
    which array arguments are float64, so one config may compile several functions."""

    dispatcher: Any
    source: ConfigSource
    tag: str | None  # disk-cache tag; None when not cached
    call: Callable[..., Any]  # the dispatcher, or it wrapped to run with its thread count


class TunedDispatcher:
    """One tuned config of one kernel, callable like a Numba dispatcher.

    Every signature is compiled lazily on its first call through the config's build:
    kernel parameters as frozen globals, loop-transformed source, the config's Numba
    flags over the author's ``njit_options`` (default: the declaration's), the LLVM
    pipeline, ``parallel`` and the thread count. A call is one ``try`` around the
    last-used Numba dispatcher.

    Attributes:
        config: the config (read-only copy).
        py_func: the kernel's Python function as written.
        compiles: signatures this object compiled; loads from Numba's disk cache
            (``cache=True``) do not count.
        cache_loads: signatures loaded from Numba's disk cache.

    Thread safety: calls may come from several threads; compiles are serialized.
    """

    def __init__(
        self,
        decl: KernelDecl,
        config: Mapping[str, Any],
        njit_options: Mapping[str, Any] | None = None,
        cache: bool = False,
    ) -> None:
        self.config: Mapping[str, Any] = dict(config)
        self.py_func = decl.pyfunc
        self.compiles = 0
        self.cache_loads = 0
        self._decl = decl
        self._options = BuildOptions.from_config(self.config)
        # Caching is ours to set up: Numba's own cache would mix configs (see _disk).
        written = decl.njit_options if njit_options is None else njit_options
        self._author_options = {k: v for k, v in written.items() if k != "cache"}
        self._cache = cache
        self._variants: dict[str | None, _Variant] = {}
        self._by_signature: dict[tuple[Any, ...], _Variant] = {}
        self._lock = threading.RLock()
        # Until the first call, a dispatcher of the source as written folds the
        # arguments of a call into a signature (it compiles nothing itself).
        probe = config_source(decl, _AS_WRITTEN, ())
        assert not isinstance(probe, str)  # the source as written always builds
        self._last: Callable[..., Any] = self._new_dispatcher(probe, self._author_options)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return self._last(*args, **kwargs)
        except NewSignature as new:
            return self._call_new(new.folded, args, kwargs)

    def __repr__(self) -> str:
        return f"<TunedDispatcher {self.py_func.__qualname__} config={dict(self.config)!r}>"

    @property
    def signatures(self) -> list[tuple[Any, ...]]:
        """The signatures compiled so far, in order."""
        return list(self._by_signature)

    @property
    def dispatchers(self) -> list[Any]:
        """The Numba dispatchers holding the compiled signatures."""
        return [v.dispatcher for v in self._variants.values()]

    def njit_options(self, signature: tuple[Any, ...]) -> dict[str, Any]:
        """The ``numba.njit`` options ``signature`` was compiled with."""
        return dict(self._variant_of(signature).dispatcher.targetoptions)

    def inspect_llvm(self, signature: tuple[Any, ...]) -> str:
        """The optimized LLVM IR of a compiled signature (empty for one loaded from
        Numba's disk cache, whose IR Numba does not keep)."""
        dispatcher = self._variant_of(signature).dispatcher
        if signature in dispatcher.stats.cache_hits:
            return ""
        return str(dispatcher.inspect_llvm(signature))

    def code_hash(self, signature: tuple[Any, ...]) -> str | None:
        """:func:`autotune.program.code_hash` of a compiled signature's build, as the
        tuner records it; ``None`` when it cannot be known (loaded from disk without
        its recorded hash)."""
        variant = self._variant_of(signature)
        if signature in variant.dispatcher.stats.cache_hits:
            return _disk.recall_code_hash(self._code_hash_path(variant, signature))
        ir = variant.dispatcher.inspect_llvm(signature)
        return build_code_hash(ir, variant.source.lowered)

    def compiled_call(self, folded: tuple[Any, ...]) -> tuple[tuple[Any, ...], Callable[..., Any]]:
        """Compile (when needed) the signature of a call's folded arguments; return it
        and the callable that runs it. Raises what Numba raises for bad arguments."""
        with self._lock:
            signature = numba_signature(folded)
            known = self._by_signature.get(signature)
            if known is None:
                variant = self._variant_for(folded)
                self._compile(variant, signature)
                self._by_signature[signature] = known = variant
            return signature, known.call

    def _call_new(self, folded: tuple[Any, ...], args: Any, kwargs: Any) -> Any:
        _, call = self.compiled_call(folded)
        self._last = call
        return call(*args, **kwargs)

    def _variant_of(self, signature: tuple[Any, ...]) -> _Variant:
        variant = self._by_signature.get(tuple(signature))
        if variant is None:
            raise KeyError(f"{self.py_func.__qualname__} has no compiled signature {signature}")
        return variant

    def _variant_for(self, folded: tuple[Any, ...]) -> _Variant:
        """The dispatcher that compiles a call with these arguments (made on first use)."""
        source = config_source(self._decl, self._options, plain_args(folded))
        if isinstance(source, str):
            raise InputError(f"{self.py_func.__qualname__}: config cannot be built: {source}")
        key = source.lowered.source if source.lowered is not None else None
        variant = self._variants.get(key)
        if variant is None:
            variant = self._variants[key] = self._make_variant(source)
        return variant

    def _make_variant(self, source: ConfigSource) -> _Variant:
        options = self._merged_options(source)
        tag = None
        if self._cache:
            text = source.lowered.source if source.lowered is not None else None
            from autotune.cache import program_fingerprint

            program = program_fingerprint(self.py_func)
            tag = _disk.config_tag(self.config, options, text, program)
            source = self._cacheable(source)
        dispatcher = self._new_dispatcher(source, options)
        if tag is not None and not _disk.enable_config_cache(dispatcher, tag):
            tag = None
        threads = self._options.loops.threads if source.parallel else None
        call = dispatcher if threads is None else _WithThreads(dispatcher, threads)
        return _Variant(dispatcher, source, tag, call)

    def _cacheable(self, source: ConfigSource) -> ConfigSource:
        """``source`` compiled from a real file where it was compiled from a string."""
        if source.lowered is None:
            return source
        import inspect

        try:
            origin = inspect.getsourcefile(self.py_func)
            pyfunc = _disk.file_backed(source.pyfunc, source.lowered.source, origin)
        except (OSError, TypeError) as exc:
            name = self.py_func.__qualname__
            warn_once(f"nocache:{name}", f"autotune: cannot cache {name}: {exc}")
            return source
        return ConfigSource(pyfunc, source.lowered)

    def _merged_options(self, source: ConfigSource) -> dict[str, Any]:
        """The author's ``njit`` options under the config's flags where it names them
        (a config always names all it was tuned over; ``{}`` names none), as the
        tuner built it (see :func:`config_njit_options`)."""
        return config_njit_options(self._options, source, self._author_options)

    @staticmethod
    def _new_dispatcher(source: ConfigSource, options: Mapping[str, Any]) -> Any:
        import numba

        return refuse_lazy_compile(numba.njit(**options)(source.pyfunc))

    def _compile(self, variant: _Variant, signature: tuple[Any, ...]) -> None:
        dispatcher = variant.dispatcher
        compile_in_pipeline(dispatcher, self._options.pipeline, signature)
        if signature in dispatcher.stats.cache_hits:
            self.cache_loads += 1
            return
        self.compiles += 1
        if variant.tag is not None:
            built = build_code_hash(dispatcher.inspect_llvm(signature), variant.source.lowered)
            _disk.remember_code_hash(self._code_hash_path(variant, signature), built)

    def _code_hash_path(self, variant: _Variant, signature: tuple[Any, ...]) -> Any:
        magic = variant.dispatcher.targetctx.codegen().magic_tuple()
        return _disk.code_hash_path(variant.tag or "", signature, magic)


_AS_WRITTEN = BuildOptions.from_config({})


class _WithThreads:
    """A parallel build run with the thread count its config chose, restoring the
    caller's count afterwards (Numba's count is per thread and global to its code)."""

    def __init__(self, dispatcher: Any, threads: int) -> None:
        self.dispatcher = dispatcher
        self.threads = threads

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        import numba

        before = numba.get_num_threads()
        numba.set_num_threads(min(self.threads, numba.config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]
        try:
            return self.dispatcher(*args, **kwargs)
        finally:
            numba.set_num_threads(before)


def compile_config(
    decl_or_func: KernelDecl | Callable[..., Any],
    config: Mapping[str, Any],
    *,
    njit_options: Mapping[str, Any] | None = None,
    cache: bool = False,
) -> TunedDispatcher:
    """The kernel ``decl_or_func`` built with a tuning ``config`` (as stored in the
    database; ``{}`` is the author's own build), compiled lazily per signature.

    ``decl_or_func`` is a :class:`KernelDecl`, a Python function or an ``@njit``
    dispatcher. ``njit_options`` are the author's ``numba.njit`` options (default:
    the declaration's ``njit_options``, or the dispatcher's own options); the
    config's flags win where it names them. With ``cache``, builds are kept in
    Numba's disk cache under names that carry a hash of the config, so a later
    process loads instead of compiling (a ``cache`` among ``njit_options`` asks the
    same).

    Raises :class:`InputError` for something that is not a function, and
    ``ValueError`` for a config the pipeline rejects (an unknown pass, say).
    """
    options = None if njit_options is None else dict(njit_options)
    if options is not None:
        cache = bool(options.pop("cache", False)) or cache
    return TunedDispatcher(as_decl(decl_or_func), config, options, cache)


def as_decl(decl_or_func: KernelDecl | Callable[..., Any]) -> KernelDecl:
    """``decl_or_func`` as a declaration: a plain function or dispatcher gets one that
    only builds (it declares no inputs to tune with), with a dispatcher's options."""
    import types

    if isinstance(decl_or_func, KernelDecl):
        return decl_or_func
    pyfunc = getattr(decl_or_func, "py_func", decl_or_func)
    if not isinstance(pyfunc, types.FunctionType):
        raise InputError(f"expected a kernel declaration or a Python function, got {pyfunc!r}")
    return KernelDecl(
        name=pyfunc.__name__,
        pyfunc=pyfunc,
        inputs=_no_inputs,
        outputs=("return",),
        njit_options=author_njit_options(decl_or_func),
    )


def _no_inputs(rng: Any) -> tuple[Any, ...]:
    raise InputError("this kernel was declared for building only; it has no inputs")
