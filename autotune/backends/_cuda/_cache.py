"""A disk cache of compiled cubins, shared by processes and runs.

Each entry is two files named by its key: ``<key>.cubin`` and ``<key>.json`` (the rest of
the :class:`CompileOutput` and the cubin's sha256). Both are written to a temporary file
and renamed into place, cubin first, so a reader sees either no entry or a whole one;
the JSON is the entry's commit record. An entry whose files do not agree (a torn or
edited file, another format) is treated as missing and later overwritten.

Only successful compiles are stored: a failure is cheap to reproduce, and it may come
from the machine (no NVRTC, a dead worker) rather than from the kernel.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autotune.backends._cuda._nvrtc import CompileOutput

#: Overrides the cache directory.
CUBIN_CACHE_ENV = "AUTOTUNE_CUBIN_CACHE"
#: The per-user cache root shared with the other caches of autotune.
CACHE_DIR_ENV = "AUTOTUNE_CACHE_DIR"
_FORMAT = "autotune-cubin/1"


def default_cache_dir() -> Path:
    """``$AUTOTUNE_CUBIN_CACHE``, else ``$AUTOTUNE_CACHE_DIR/cubin``, else ``cubin`` in the
    per-user cache directory (``$XDG_CACHE_HOME/autotune`` or ``~/.cache/autotune`` on
    Linux). Nothing is created."""
    explicit = os.environ.get(CUBIN_CACHE_ENV)
    if explicit:
        return Path(explicit)
    root = os.environ.get(CACHE_DIR_ENV)
    if root:
        return Path(root) / "cubin"
    from platformdirs import user_cache_path

    return user_cache_path("autotune", appauthor=False) / "cubin"


def cache_key(
    source: str,
    entry: str,
    options: Sequence[str],
    arch: str,
    name_expression: str | None,
    nvrtc_version: str,
) -> str:
    """The sha256 (hex) of everything that decides a compile's output. Options keep
    their order: NVRTC reads them in order, and a later ``-D`` can redefine an earlier."""
    text = json.dumps(
        [_FORMAT, source, entry, name_expression, list(options), arch, nvrtc_version],
        separators=(",", ":"),
    )
    return hashlib.sha256(text.encode()).hexdigest()


class BinaryCache:
    """Cubins on disk by :func:`cache_key`. Safe for concurrent readers and writers
    (processes or threads): writes are atomic renames, and two writers of one key write
    the same bytes. ``get`` and ``put`` never raise for a missing, unreadable or
    corrupted entry, or for a directory that cannot be written."""

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_dir()
        self.hits = 0
        self.misses = 0

    def _paths(self, key: str) -> tuple[Path, Path]:
        # Two-character shards keep directories small for spaces of many thousand configs.
        folder = self.directory / key[:2]
        return folder / f"{key}.cubin", folder / f"{key}.json"

    def get(self, key: str) -> CompileOutput | None:
        """The stored output (``from_cache`` set), or None for a miss or a bad entry."""
        output = self._read(key)
        if output is None:
            self.misses += 1
        else:
            self.hits += 1
        return output

    def _read(self, key: str) -> CompileOutput | None:
        cubin_path, meta_path = self._paths(key)
        try:
            meta = json.loads(meta_path.read_text())
            cubin = cubin_path.read_bytes()
        except (OSError, ValueError):
            return None
        if not _entry_matches(meta, key, cubin):
            return None
        try:
            return CompileOutput.from_metadata(meta["output"], cubin, from_cache=True)
        except (KeyError, TypeError, ValueError, AttributeError):
            return None

    def put(self, key: str, output: CompileOutput) -> bool:
        """Store a successful output; False when it was not stored (a failed compile, or
        an unwritable directory)."""
        if output.cubin is None or output.error:
            return False
        cubin_path, meta_path = self._paths(key)
        meta = {
            "format": _FORMAT,
            "key": key,
            "cubin_sha256": hashlib.sha256(output.cubin).hexdigest(),
            "output": output.metadata(),
        }
        try:
            cubin_path.parent.mkdir(parents=True, exist_ok=True)
            _write_atomic(cubin_path, output.cubin)
            _write_atomic(meta_path, json.dumps(meta).encode())
        except OSError:
            return False
        return True


def _entry_matches(meta: Any, key: str, cubin: bytes) -> bool:
    """Whether a read entry is whole and belongs to ``key``."""
    return (
        isinstance(meta, dict)
        and meta.get("format") == _FORMAT
        and meta.get("key") == key
        and isinstance(meta.get("output"), dict)
        and meta.get("cubin_sha256") == hashlib.sha256(cubin).hexdigest()
    )


def _write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory and a
    rename, so no reader ever sees part of it."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
