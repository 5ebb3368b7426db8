"""Calling a declared kernel runs its tuned config for the call's signature, like
``@autotune.jit``; without one, its default parameters and one warning."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

import autotune
from autotune.cache import kernel_key, make_entry, remember
from autotune.db import SQLDatabase
from autotune.program import host_target


def _scaled() -> autotune.KernelDecl:
    def scale(x, out):  # type: ignore[no-untyped-def]
        for i in range(x.shape[0]):
            out[i] = x[i] * T  # noqa: F821 - T is the kernel parameter

    return autotune.kernel(
        inputs=lambda rng, n: (rng.random(n), np.zeros(n)),
        sizes={"small": {"n": 64}},
        outputs=[1],
        params={"T": autotune.Pow2(1, 8)},
    )(scale)


def test_a_declared_kernel_without_an_entry_runs_its_defaults_and_warns_once() -> None:
    decl, x = _scaled(), np.arange(4.0)
    out = np.zeros(4)
    with pytest.warns(UserWarning, match="no tuned config for scale"):
        decl(x, out)
    assert list(out) == [0.0, 1.0, 2.0, 3.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        decl(x, out)  # no second warning


def test_a_declared_kernel_runs_its_tuned_parameters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'tuned.db'}"
    monkeypatch.setenv("AUTOTUNE_DB", url)
    decl, x = _scaled(), np.arange(4.0)
    db = SQLDatabase(url)
    remember(
        db, make_entry(kernel_key(decl.pyfunc, (x, np.zeros(4))), host_target(), {"kernel.T": 8})
    )
    db.close()
    out = np.zeros(4)
    decl(x, out)
    assert list(out) == [0.0, 8.0, 16.0, 24.0]
