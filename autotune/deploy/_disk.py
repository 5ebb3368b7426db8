"""Numba's disk cache for tuned builds, keyed by the config.

Numba names a function's cache files by module, qualname and first line, and keys the
entries in them by signature, CPU and bytecode. It ignores the globals a build freezes
(our kernel parameters) and the process-wide pipeline hook (our LLVM options), so two
configs of one function would load each other's binary. Every tuned build therefore
gets a *tag* (a hash of everything that decides its code) in its cache file names.

Loop-transformed source is compiled from a string, which Numba cannot cache, so it is
written to a content-addressed file under :func:`deploy_dir` and compiled from there.
"""

from __future__ import annotations

import hashlib
import json
import os
import types
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from autotune.deploy._warn import warn_once

#: Overrides the per-user cache root (``platformdirs.user_cache_path("autotune")``).
CACHE_DIR_ENV = "AUTOTUNE_CACHE_DIR"
_TAG_ATTRIBUTE = "_autotune_cache_tag"


def deploy_dir() -> Path:
    """Where deployed builds keep their files: ``$AUTOTUNE_CACHE_DIR/deploy``, else
    ``deploy`` in the platform's per-user cache directory. Nothing is created."""
    root = os.environ.get(CACHE_DIR_ENV)
    if root:
        return Path(root) / "deploy"
    from platformdirs import user_cache_path

    return user_cache_path("autotune", appauthor=False) / "deploy"


def config_tag(
    config: Mapping[str, Any],
    njit_options: Mapping[str, Any],
    source_text: str | None,
    program: str = "",
) -> str:
    """A short hash of what decides a tuned build's code besides its bytecode: the
    config, the ``numba.njit`` options, the loop-transformed source (if any) and the
    ``program`` fingerprint (:func:`autotune.cache.program_fingerprint`: callee
    sources and bound globals, which Numba's own cache index does not check, so an
    edited callee in another file never loads a stale binary)."""
    from autotune import __version__

    text = json.dumps(
        [dict(config), sorted(njit_options.items()), source_text, program, __version__],
        sort_keys=True,
        default=_stable,
    )
    return "at" + hashlib.sha256(text.encode()).hexdigest()[:16]


def _stable(value: Any) -> Any:
    """JSON for what ``json`` cannot write. A set (Numba's fastmath flags) is sorted:
    its iteration order changes from process to process with string hashing, and a
    tag that changed would never find its cached build again."""
    if isinstance(value, set | frozenset):
        return sorted(map(repr, value))
    return repr(value)


def enable_config_cache(dispatcher: Any, tag: str) -> bool:
    """Give ``dispatcher`` Numba's disk cache under file names carrying ``tag``.

    Returns False (with one warning) where Numba cannot cache the function, e.g. one
    defined interactively: the build then compiles in every process, as Numba's own
    ``cache=True`` would refuse to.
    """
    py_func = dispatcher.py_func
    setattr(py_func, _TAG_ATTRIBUTE, tag)
    try:
        dispatcher._cache = _config_cache_class()(py_func)
    except (RuntimeError, OSError) as exc:
        name = py_func.__qualname__
        warn_once(f"nocache:{name}", f"autotune: cannot cache {name} on disk: {exc}")
        return False
    return True


def _config_cache_class() -> type:
    """Numba's ``FunctionCache`` whose file names carry the function's config tag.

    Built on first use so that importing autotune.deploy does not import Numba.
    """
    global _ConfigFunctionCache
    if _ConfigFunctionCache is None:
        from numba.core.caching import CompileResultCacheImpl, FunctionCache

        class _ConfigCacheImpl(CompileResultCacheImpl):
            def __init__(self, py_func: Callable[..., Any]) -> None:
                # get_filename_base runs inside the base __init__: set the tag first.
                self._autotune_tag = getattr(py_func, _TAG_ATTRIBUTE)
                super().__init__(py_func)

            def get_filename_base(self, fullname: str, abiflags: str) -> str:
                return super().get_filename_base(f"{fullname}.{self._autotune_tag}", abiflags)

        class _Cache(FunctionCache):
            _impl_class = _ConfigCacheImpl

        _ConfigFunctionCache = _Cache
    return _ConfigFunctionCache


_ConfigFunctionCache: type | None = None


def file_backed(pyfunc: Callable[..., Any], source_text: str, origin: str | None) -> Any:
    """``pyfunc`` (compiled from ``source_text``) re-pointed at a real file holding
    that text, so that Numba can cache it.

    The file is named by a hash of its content and of the kernel's own source file
    ``origin``: a kernel whose module changed (a global, a callee) gets a new file and
    so a fresh cache, as Numba's own cache does for a changed module.
    """
    origin_hash = _file_hash(origin) if origin else ""
    # The origin goes in a trailing comment: lines above the code would shift its
    # line numbers away from those the code object carries.
    text = f"{source_text.rstrip()}\n\n# autotune: transformed from {origin} {origin_hash}\n"
    digest = hashlib.sha256(text.encode()).hexdigest()[:20]
    path = deploy_dir() / f"{pyfunc.__name__}_{digest}.py"
    _write_once(path, text)
    func = types.FunctionType(
        _with_filename(pyfunc.__code__, str(path)),
        pyfunc.__globals__,
        pyfunc.__name__,
        pyfunc.__defaults__,
        pyfunc.__closure__,
    )
    func.__kwdefaults__ = pyfunc.__kwdefaults__
    func.__qualname__ = pyfunc.__qualname__
    func.__module__ = pyfunc.__module__
    return func


def _with_filename(code: types.CodeType, filename: str) -> types.CodeType:
    consts = tuple(
        _with_filename(c, filename) if isinstance(c, types.CodeType) else c for c in code.co_consts
    )
    return code.replace(co_filename=filename, co_consts=consts)


def _file_hash(path: str) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]
    except OSError:
        return "unreadable"


def _write_once(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` unless it is there already; atomic, so that a process
    reading the file (Numba hashes it as the source stamp) never sees half of it."""
    if path.is_file():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def code_hash_path(tag: str, signature: tuple[Any, ...], magic: Any) -> Path:
    """Where the code hash of a cached build is kept: the IR of a build Numba loads
    from disk cannot be inspected, so its hash is written when it is compiled.
    ``magic`` is Numba's codegen magic tuple (target triple, CPU, features): one cache
    directory may serve several machines."""
    key = hashlib.sha256(repr((signature, magic)).encode()).hexdigest()[:16]
    return deploy_dir() / "code_hashes" / f"{tag}-{key}.txt"


def remember_code_hash(path: Path, value: str) -> None:
    """Record ``value`` at ``path``; a cache directory we cannot write is not an error."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(value)
        os.replace(tmp, path)
    except OSError:
        pass


def recall_code_hash(path: Path) -> str | None:
    try:
        return path.read_text().strip() or None
    except OSError:
        return None
