"""The config-source extension point: where tuned configs are read from."""

from __future__ import annotations

from abc import ABC, abstractmethod

from autotune.cache._entry import CacheEntry


class BaseConfigSource(ABC):
    """A read-only collection of config-cache entries (a database or a bundle file).

    Contract:
        * Reading never changes the source.
        * ``entries(digest)`` returns every entry stored under ``digest``, for every
          target and bucket: choosing among them is :func:`autotune.cache.lookup`'s job.
        * Entries returned are values; changing them changes nothing stored.
        * ``problems`` lists what could not be read (a corrupt file, a foreign
          format); a source with problems behaves as one with fewer entries.
    """

    problems: tuple[str, ...] = ()

    @abstractmethod
    def entries(self, digest: str) -> list[CacheEntry]: ...

    @abstractmethod
    def all_entries(self) -> list[CacheEntry]: ...

    @property
    @abstractmethod
    def description(self) -> str:
        """Where the entries come from, as messages name it."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release what the source holds open."""

    def __enter__(self) -> BaseConfigSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
