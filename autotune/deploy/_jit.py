"""``@autotune.jit``: a Numba function that builds each signature with its tuned config.

On the first call with a signature, the function's cheap cache key is looked up in
the config source (a bundle file or the tuning database). A hit is built with its
config; a miss runs Numba's default build and warns once how to tune it. Nothing is
tuned unless asked (``tune="on-miss"`` or ``AUTOTUNE_TUNE=on-miss``), and nothing
that goes wrong with the lookup ever fails the call.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import threading
from collections.abc import Callable, Mapping
from typing import Any, overload

from autotune.deploy._dispatcher import (
    NewSignature,
    TunedDispatcher,
    compile_config,
    numba_signature,
    plain_args,
    refuse_lazy_compile,
)
from autotune.deploy._info import BuildInfo, disagreement, fallback
from autotune.deploy._lookup import Found, find_config
from autotune.deploy._warn import warn_once
from autotune.errors import AutotuneError, InputError

logger = logging.getLogger("autotune.deploy")

#: Environment variable that turns on tuning on a miss where ``tune`` is not given.
TUNE_ENV = "AUTOTUNE_TUNE"
TUNE_MODES = ("never", "on-miss")


class TunedFunction:
    """A function compiled per signature with its tuned config; call it like ``@njit``.

    Attributes:
        py_func: the Python function as written.
        njit_options: the author's ``numba.njit`` options (the base of every build):
            those given, over a kernel declaration's or an ``@njit`` dispatcher's own.
        default: the Numba dispatcher of the default build (the author's options).

    Thread safety: calls may come from several threads; builds are serialized.
    """

    def __init__(
        self,
        func: Callable[..., Any],
        *,
        db: str | None = None,
        bundle: str | None = None,
        tune: str | None = None,
        budget: int = 20,
        cache: bool = False,
        njit_options: Mapping[str, Any] | None = None,
    ) -> None:
        import numba

        # Imported when decorating, with Numba, rather than inside the first call.
        import autotune.cache  # noqa: F401
        from autotune.kernels import KernelDecl, author_njit_options

        self._warned: set[str] = set()
        # A declared kernel builds with its parameters bound (defaults when untuned).
        self._decl = func if isinstance(func, KernelDecl) else None
        self.py_func = self._decl.pyfunc if self._decl else getattr(func, "py_func", func)
        functools.update_wrapper(self, self.py_func)
        # A declaration's or a dispatcher's own options are the base; given ones win.
        self.njit_options = {**author_njit_options(func), **(njit_options or {})}
        self._db, self._bundle = db, None if bundle is None else os.fspath(bundle)
        self._tune = _tune_mode(tune)
        if tune == "on-miss":
            from autotune.deploy._ontune import tunable_file

            tunable_file(self.py_func)  # asked for explicitly: fail now, not at a call
        self._budget = budget
        self._cache = cache
        self.default = refuse_lazy_compile(self._default_dispatcher(numba.njit))
        self._last: Callable[..., Any] = self.default
        self._builds: dict[tuple[Any, ...], BuildInfo] = {}
        self._calls: dict[tuple[Any, ...], Callable[..., Any]] = {}
        self._tuned: dict[str, TunedDispatcher] = {}
        self._for_callers: Any = None
        self._lock = threading.RLock()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return self._last(*args, **kwargs)
        except NewSignature as new:
            return self._call_new(new.folded, args, kwargs)

    def __repr__(self) -> str:
        return f"<autotune.jit {self.py_func.__qualname__}>"

    def _warn(self, kind: str, message: str) -> None:
        """Warn about ``kind`` once for this function."""
        warn_once(kind, message, self._warned)

    def _default_dispatcher(self, njit: Callable[..., Any]) -> Any:
        target = self.py_func
        if self._decl is not None:
            target = self._decl.bind(self._decl.default_params())
        if self._cache:
            try:
                return njit(cache=True, **self.njit_options)(target)
            except RuntimeError as exc:  # Numba cannot cache it (interactive code)
                self._warn("nocache", f"autotune: {self.py_func.__name__}: {exc}")
                self._cache = False
        return njit(**self.njit_options)(target)

    @property
    def signatures(self) -> list[tuple[Any, ...]]:
        return list(self._builds)

    @property
    def for_jitted_callers(self) -> Any:
        """The Numba dispatcher that jitted code calling this function compiles in:
        Numba's default build with the author's options. A caller is typed before any
        argument values exist, so there is no size bucket to look up; and it is a
        dispatcher of its own, so that a signature it compiles is still looked up when
        called from Python."""
        if self._for_callers is None:
            import numba

            self._for_callers = self._default_dispatcher(numba.njit)
        return self._for_callers

    @property
    def _numba_type_(self) -> Any:
        # Numba types an object by this attribute: jitted code can call the function.
        return self.for_jitted_callers._numba_type_

    @property
    def dispatchers(self) -> dict[str, Any]:
        """Numba's default build (``"default"``) and the tuned builds
        (:class:`TunedDispatcher`, keyed by their config as JSON text)."""
        return {"default": self.default, **self._tuned}

    @property
    def compiles(self) -> int:
        """Signatures compiled in this process (disk-cache loads do not count)."""
        default = sum(self.default.stats.cache_misses.values())
        return default + sum(t.compiles for t in self._tuned.values())

    def info(self, signature_or_args: Any = None) -> BuildInfo | dict[tuple[Any, ...], BuildInfo]:
        """How a signature was built: given Numba's argument types, or a call's
        arguments (a tuple); every signature built so far when given nothing."""
        if signature_or_args is None:
            return dict(self._builds)
        return self._builds[self._signature(signature_or_args)]

    def _signature(self, given: Any) -> tuple[Any, ...]:
        from numba.core import types

        given = tuple(given)
        if all(isinstance(t, types.Type) for t in given) and given in self._builds:
            return given
        return numba_signature(given)

    def _call_new(self, folded: tuple[Any, ...], args: Any, kwargs: Any) -> Any:
        with self._lock:
            signature = numba_signature(folded)
            call = self._calls.get(signature)
            if call is None:
                info, call = self._build(signature, folded)
                self._builds[signature] = info
                self._calls[signature] = call
                logger.debug("%s%s: %s", self.py_func.__name__, signature, info.detail)
        self._last = call
        return call(*args, **kwargs)

    def _build(
        self, signature: tuple[Any, ...], folded: tuple[Any, ...]
    ) -> tuple[BuildInfo, Callable[..., Any]]:
        from autotune.cache import baseline_mismatch

        args = plain_args(folded)
        found = find_config(self.py_func, args, self._db, self._bundle)
        if found.hit is None:
            return self._on_miss(signature, folded, found)
        hit = found.hit
        info = BuildInfo(
            signature,
            "hit",
            dict(hit.entry.config),
            hit.level.label,
            hit.nearest,
            hit.describe(),
        )
        mismatch = baseline_mismatch(hit.entry, self.njit_options)
        if mismatch is not None:  # its flags were tuned over other options than ours
            why = f"its tuned config is stale ({mismatch}): tune it again"
            name = self.py_func.__name__
            self._warn("stale", f"autotune: {name}: {why}; using Numba's default build")
            return fallback(info, "stale", why), self._default_call(folded)
        return self._built(info, folded, hit.entry.code_hash, hit.level.needs_verification)

    def _on_miss(
        self, signature: tuple[Any, ...], folded: tuple[Any, ...], found: Found
    ) -> tuple[BuildInfo, Callable[..., Any]]:
        from autotune.deploy._ontune import tune_on_miss, tuning_in_progress

        name = self.py_func.__name__
        if self._tune == "on-miss" and not tuning_in_progress():
            try:
                result = tune_on_miss(
                    self.py_func,
                    plain_args(folded),
                    njit_options=self.njit_options,
                    db=self._db,
                    budget=self._budget,
                )
            except AutotuneError as exc:
                # Arguments that cannot be saved, a database that cannot be written, a
                # function $AUTOTUNE_TUNE cannot tune (an explicit tune= was checked
                # when decorating): the call still runs.
                self._warn("untunable", f"autotune: {exc}")
                return self._default_info(signature, folded, str(exc))
            if result.tuned:
                config = dict(result.best_config or {})
                detail = f"{name}: tuned on this miss, speedup {result.speedup:.2f}x"
                info = BuildInfo(signature, "tuned", config, "exact", False, detail)
                return self._built(info, folded, result.best_code_hash, False)
            self._warn("untunable", f"autotune: {name} was not tuned: {result.reason}")
        elif not found.failed:  # a source that failed was warned about instead
            self._warn("miss", self._miss_message())
        return self._default_info(signature, folded, "no tuned config")

    def _default_info(
        self, signature: tuple[Any, ...], folded: tuple[Any, ...], why: str
    ) -> tuple[BuildInfo, Callable[..., Any]]:
        detail = f"{self.py_func.__name__}: {why}; Numba's default build"
        return BuildInfo(signature, "miss", detail=detail), self._default_call(folded)

    def _miss_message(self) -> str:
        """The miss warning, naming the commands that would tune the function."""
        import inspect

        name = self.py_func.__name__
        try:
            where = inspect.getsourcefile(self.py_func) or "FILE"
        except TypeError:
            where = "FILE"
        source = f" --from {self._bundle}" if self._bundle else ""
        source = source or (f" --db {self._db}" if self._db else "")
        return (
            f"autotune: no tuned config for {name} on this machine; running Numba's default "
            f"build. To tune it, run once with {TUNE_ENV}=on-miss (tunes on the arguments "
            f"of its first call), or declare its inputs (a spec file) and run "
            f"`autotune build {where}{source}`"
        )

    def _built(
        self, info: BuildInfo, folded: tuple[Any, ...], expected_hash: str | None, verify: bool
    ) -> tuple[BuildInfo, Callable[..., Any]]:
        """The tuned build of ``info.config``, or the default build where it cannot be
        built, is stale or (``verify``) computes something else than the default."""
        name = self.py_func.__name__
        assert info.config is not None
        if not info.config:  # Numba's default build won
            return info, self._default_call(folded)
        try:
            tuned = self._tuned_dispatcher(info.config)
            signature, call = tuned.compiled_call(folded)
        except Exception as exc:
            # Arguments Numba cannot compile fail the default build too: raise that.
            default = self._default_call(folded)
            self._warn(
                "error",
                f"autotune: {name}: cannot build its tuned config ({exc}); "
                "using Numba's default build",
            )
            return fallback(info, "error", str(exc)), default
        refused = self._refusal(tuned, signature, call, folded, expected_hash, verify)
        if refused is None:
            return info, call
        outcome, why = refused
        self._warn(outcome, f"autotune: {name}: {why}; using Numba's default build")
        return fallback(info, outcome, why), self._default_call(folded)

    def _refusal(
        self,
        tuned: TunedDispatcher,
        signature: tuple[Any, ...],
        call: Callable[..., Any],
        folded: tuple[Any, ...],
        expected_hash: str | None,
        verify: bool,
    ) -> tuple[str, str] | None:
        """Why a tuned build must not be used (outcome, reason), or ``None``: its code
        is not the code that was tuned (a stale entry), or (``verify``) it computes
        something else than the default build here."""
        built = tuned.code_hash(signature) if expected_hash else None
        if expected_hash and built is not None and built != expected_hash:
            return "stale", (
                f"the tuned config's code differs from what was tuned (code hash {built}, "
                f"tuned {expected_hash}): the entry is stale, tune it again"
            )
        if verify:
            options = tuned.njit_options(signature)
            tolerant = bool(options.get("fastmath")) or bool(options.get("parallel"))
            why = disagreement(self._default_call(folded), call, plain_args(folded), tolerant)
            if why is not None:
                return "rejected", f"its config tuned on another CPU gives other results ({why})"
        return None

    def _tuned_dispatcher(self, config: Mapping[str, Any]) -> TunedDispatcher:
        """One dispatcher per config: signatures that share a config share it."""
        text = json.dumps(config, sort_keys=True, default=str)
        tuned = self._tuned.get(text)
        if tuned is None:
            tuned = compile_config(
                self._decl or self.py_func,
                config,
                njit_options=self.njit_options,
                cache=self._cache,
            )
            self._tuned[text] = tuned
        return tuned

    def _default_call(self, folded: tuple[Any, ...]) -> Callable[..., Any]:
        """Numba's default build of a call's signature (compiled as Numba would)."""
        from numba.core.dispatcher import Dispatcher

        Dispatcher._compile_for_args(self.default, *folded)  # type: ignore[attr-defined]
        return self.default


def _tune_mode(tune: str | None) -> str:
    """``tune``, else ``$AUTOTUNE_TUNE``, else never. A bad ``tune`` raises; a bad
    environment value warns (it must not break an import) and means never."""
    if tune is not None:
        if tune not in TUNE_MODES:
            raise InputError(f"tune must be one of {', '.join(TUNE_MODES)}, got {tune!r}")
        return tune
    mode = os.environ.get(TUNE_ENV) or "never"
    if mode not in TUNE_MODES:
        warn_once(
            f"env:{mode}",
            f"autotune: ${TUNE_ENV}={mode!r} is not one of {', '.join(TUNE_MODES)}; not tuning",
        )
        return "never"
    return mode


@overload
def jit(
    func: Callable[..., Any],
    *,
    db: str | None = ...,
    bundle: str | os.PathLike[str] | None = ...,
    tune: str | None = ...,
    budget: int = ...,
    cache: bool = ...,
    **njit_options: Any,
) -> TunedFunction: ...


@overload
def jit(
    func: None = ...,
    *,
    db: str | None = ...,
    bundle: str | os.PathLike[str] | None = ...,
    tune: str | None = ...,
    budget: int = ...,
    cache: bool = ...,
    **njit_options: Any,
) -> Callable[[Callable[..., Any]], TunedFunction]: ...


def jit(
    func: Callable[..., Any] | None = None,
    *,
    db: str | None = None,
    bundle: str | os.PathLike[str] | None = None,
    tune: str | None = None,
    budget: int = 20,
    cache: bool = False,
    **njit_options: Any,
) -> TunedFunction | Callable[[Callable[..., Any]], TunedFunction]:
    """Compile ``func`` like ``numba.njit``, each signature with its tuned config.

    Usable bare (``@autotune.jit``) or with arguments
    (``@autotune.jit(fastmath=True, bundle="tuned.json")``). Configs are read from
    ``bundle`` (a file written by ``autotune bundle``) when given, else from the
    database ``db`` (default: the per-user database or ``$AUTOTUNE_DB``); nothing is
    read until the first call. ``njit_options`` are Numba's options, the base of every
    build. ``cache`` keeps builds in Numba's disk cache, keyed by config.

    ``tune="on-miss"`` tunes a signature that has no entry with the real tuner
    (``budget`` configs; minutes), on the first call's arguments; ``"never"`` does
    not; left out, ``$AUTOTUNE_TUNE`` decides (default never).

    Example::

        @autotune.jit(fastmath=True)
        def saxpy(a, x, y):
            for i in range(x.size):
                y[i] += a * x[i]
    """

    def wrap(f: Callable[..., Any]) -> TunedFunction:
        return TunedFunction(
            f,
            db=db,
            bundle=None if bundle is None else os.fspath(bundle),
            tune=tune,
            budget=budget,
            cache=cache,
            njit_options=njit_options,
        )

    return wrap if func is None else wrap(func)
