"""Builders: compile a kernel with a candidate's config (CPU: Numba)."""

from autotune.backends._base import BaseBuilder, BuildResult

__all__ = ["BUILDERS", "BaseBuilder", "BuildResult", "get_builder"]

#: Builder name -> "module:class", imported only when used.
BUILDERS = {"numba": "autotune.backends._numba:NumbaBuilder"}


def get_builder(name: str) -> BaseBuilder:
    """Instantiate the builder registered under ``name``."""
    import importlib

    if name not in BUILDERS:
        raise KeyError(f"unknown builder {name!r}; known: {sorted(BUILDERS)}")
    module, cls = BUILDERS[name].split(":")
    return getattr(importlib.import_module(module), cls)()
