"""Bundles: tuned configs in a small, versioned, human-readable JSON file that a
package ships beside its code.

Format (``version`` 1)::

    {
      "format": "autotune-tuned-configs",
      "version": 1,
      "created_by": "autotune 0.1.0",
      "created_at": 1765000000.0,
      "entries": [ {CacheEntry.to_json()}, ... ]
    }

Entries for every target are kept: a reader ignores those that do not match its
machine, and a writer merging into an existing bundle keeps them.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from autotune.cache._base import BaseConfigSource
from autotune.cache._entry import CacheEntry

FORMAT = "autotune-tuned-configs"
VERSION = 1


class BundleError(ValueError):
    """A file that is not a bundle this release can read; the message says why."""


class BundleSource(BaseConfigSource):
    """The entries of a bundle file, read once.

    With ``strict=False`` (imports, decorators), a missing, corrupt, foreign or newer
    file gives no entries and one line in ``problems``; with ``strict=True`` it raises
    :class:`BundleError`. With ``missing_ok`` a missing file is an empty bundle (one
    that a build is about to write).
    """

    def __init__(self, path: str | Path, *, strict: bool = False, missing_ok: bool = False) -> None:
        self.path = Path(path)
        try:
            missing = missing_ok and not self.path.exists()
            self._entries = [] if missing else read_bundle(self.path)
        except BundleError as exc:
            if strict:
                raise
            self._entries = []
            self.problems = (str(exc),)
        self._by_digest: dict[str, list[CacheEntry]] = {}
        for entry in self._entries:
            self._by_digest.setdefault(entry.digest, []).append(entry)

    @property
    def description(self) -> str:
        return f"bundle {self.path}"

    def entries(self, digest: str) -> list[CacheEntry]:
        return list(self._by_digest.get(digest, []))

    def all_entries(self) -> list[CacheEntry]:
        return list(self._entries)


def read_bundle(path: Path) -> list[CacheEntry]:
    """The entries of the bundle at ``path``.

    Raises:
        BundleError: the file is missing or unreadable, is not JSON, is not a bundle,
            is a newer version than this release reads, or holds a malformed entry.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BundleError(f"cannot read bundle {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"bundle {path} is corrupt: not JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BundleError(f'{path} is not an autotune bundle (no "format": "{FORMAT}")')
    version = data.get("version")
    if not isinstance(version, int) or version < 1:
        raise BundleError(f"bundle {path} has no valid version")
    if version > VERSION:
        raise BundleError(
            f"bundle {path} is version {version}, newer than this autotune reads ({VERSION}); "
            "upgrade autotune to use it"
        )
    raw = data.get("entries")
    if not isinstance(raw, list):
        raise BundleError(f'bundle {path} is corrupt: "entries" is not a list')
    entries = []
    for index, item in enumerate(raw):
        try:
            entries.append(CacheEntry.from_json(item))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BundleError(f"bundle {path} is corrupt: entry {index}: {exc!r}") from None
    return entries


def write_bundle(path: Path, entries: Iterable[CacheEntry], *, merge: bool = True) -> int:
    """Write ``entries`` to the bundle at ``path``, atomically (a temporary file in the
    same directory, then a rename): a reader sees the old file or the new one, never a
    part. With ``merge``, the entries of an existing bundle at ``path`` are kept unless
    a new entry replaces them (same digest, bucket and target). Returns how many
    entries the file holds.

    Raises:
        BundleError: ``merge`` and ``path`` exists but is not a readable bundle (it is
            left as it is rather than overwritten).
    """
    merged: dict[tuple[str, str, str], CacheEntry] = {}
    if merge and path.exists():
        for old in read_bundle(path):
            merged[_identity(old)] = old
    for entry in entries:
        merged[_identity(entry)] = entry
    ordered = sorted(merged.values(), key=lambda e: (e.kernel, e.digest, e.bucket, e.target_key))
    _atomic_write(path, _document(ordered))
    return len(ordered)


def _identity(entry: CacheEntry) -> tuple[str, str, str]:
    return entry.digest, entry.bucket_text, entry.target_key


def _document(entries: list[CacheEntry]) -> str:
    from autotune import __version__

    data: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "created_by": f"autotune {__version__}",
        "created_at": time.time(),
        "entries": [e.to_json() for e in entries],
    }
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        # mkstemp makes the file private (0600); a shipped bundle must be readable as
        # any file the user writes would be, or other users silently get default builds.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
