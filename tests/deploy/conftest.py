"""Fixtures: kernel files in a temporary folder, and every cache kept inside it."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

from autotune.deploy import _lookup
from autotune.kernels import import_source

#: The kernels the tests build, written to a file so that Numba can cache them and
#: worker processes can import them.
KERNELS = """
import numpy as np

SCALE = 2.0


def scale(x, out):
    for i in range(x.shape[0]):
        out[i] = SCALE * x[i]
    return out.sum()


def dot(x, y):
    acc = 0.0
    for i in range(x.shape[0]):
        acc += x[i] * y[i]
    return acc


def halve(n, d=2):
    return n // d


def matmul(A, B, C):
    n, m = A.shape
    p = B.shape[1]
    for i in range(n):
        for j in range(p):
            for k in range(m):
                C[i, j] += A[i, k] * B[k, j]
"""


@pytest.fixture
def caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Numba's and autotune's caches in ``tmp_path``; no config source stays open."""
    import numba

    root = tmp_path / "caches"
    monkeypatch.setenv("AUTOTUNE_CACHE_DIR", str(root / "autotune"))
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(root / "numba"))
    monkeypatch.setattr(numba.config, "CACHE_DIR", str(root / "numba"))
    monkeypatch.delenv("AUTOTUNE_TUNE", raising=False)
    return root


@pytest.fixture(autouse=True)
def _fresh_sources() -> Iterator[None]:
    _lookup.reset()
    yield
    _lookup.reset()


@pytest.fixture
def write_module(tmp_path: Path, caches: Path) -> Callable[[str, str], tuple[Path, ModuleType]]:
    """``write_module(name, source)`` writes ``source`` to ``<tmp>/<name>.py`` and
    imports it."""

    def write(name: str, source: str = KERNELS) -> tuple[Path, ModuleType]:
        path = tmp_path / f"{name}.py"
        path.write_text(textwrap.dedent(source))
        return path, import_source(path)

    return write


@pytest.fixture
def kernels(write_module: Callable[[str, str], tuple[Path, ModuleType]]) -> ModuleType:
    return write_module("kernels", KERNELS)[1]
