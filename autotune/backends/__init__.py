"""Backends (CPU/Numba, CUDA) and their builders: a backend supplies the target, search
space, builder, verification and timer of the kernels declared for it."""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

from autotune.backends._base import BaseBackend, BaseBuilder, BuildResult

__all__ = [
    "BACKENDS",
    "BaseBackend",
    "BaseBuilder",
    "BuildResult",
    "backend_for",
    "get_backend",
    "get_builder",
]

#: Backend name -> "module:class", imported only when used.
BACKENDS = {
    "numba": "autotune.backends._cpu:NumbaBackend",
    "cuda": "autotune.backends._cupy:CudaBackend",
}


@cache
def get_backend(name: str) -> BaseBackend:
    """The backend registered under ``name`` (one instance per process)."""
    if name not in BACKENDS:
        raise KeyError(f"unknown backend {name!r}; known: {sorted(BACKENDS)}")
    module, cls = BACKENDS[name].split(":")
    backend = getattr(importlib.import_module(module), cls)()
    assert isinstance(backend, BaseBackend)
    return backend


def backend_for(decl: Any) -> BaseBackend:
    """The backend of a kernel declaration (its ``backend`` attribute; Numba if none)."""
    return get_backend(getattr(decl, "backend", "numba"))


def get_builder(name: str) -> BaseBuilder:
    """A fresh builder of the backend registered under ``name``."""
    return get_backend(name).builder()
