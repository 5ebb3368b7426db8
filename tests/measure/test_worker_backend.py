"""The worker asks each kernel's backend whether an error leaves the process unfit
(a lost CUDA context), and the pool replaces a worker that says so."""

from __future__ import annotations

from typing import Any

import pytest

from autotune.backends import BaseBackend
from autotune.measure import KernelRef
from autotune.measure import _worker as worker_module
from autotune.measure._lock import DEFAULT_LOCK_PATH, scoped_lock_path


class _Poisoning(BaseBackend):
    name = "poisoning"

    def target(self) -> Any: ...
    def search_space(self, decl: Any, options: Any) -> Any: ...
    def builder(self) -> Any: ...
    def time_paired(self, *args: Any) -> Any: ...

    def poisoned(self, exc: BaseException) -> bool:
        return isinstance(exc, RuntimeError)


def test_an_error_poisons_only_where_the_kernels_backend_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(worker_module, "get_backend", lambda name: _Poisoning())
    request = {"op": "measure", "kernel": KernelRef("k.cu", None, "k", builder="poisoning")}
    assert worker_module._poisons(request, RuntimeError("illegal address"))
    assert not worker_module._poisons(request, ValueError("wrong result"))
    assert not worker_module._poisons({"op": "ping"}, RuntimeError("no kernel"))


def test_an_unknown_backend_poisons_nothing() -> None:
    request = {"op": "measure", "kernel": KernelRef("k.cu", None, "k", builder="no-such")}
    assert not worker_module._poisons(request, RuntimeError("x"))


def test_each_gpu_times_under_its_own_lock_beside_the_hosts() -> None:
    path = scoped_lock_path("cuda:0")
    assert path.parent == DEFAULT_LOCK_PATH.parent and path != DEFAULT_LOCK_PATH
    assert scoped_lock_path("cuda:1") != path
