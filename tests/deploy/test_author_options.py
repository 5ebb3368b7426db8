"""Deployed builds on the author's ``@njit`` options: taken from a dispatcher or a
declaration by default, and a config tuned against other options is not used."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numba
import numpy as np
import pytest

from autotune.cache import kernel_key, make_entry, write_bundle
from autotune.deploy import compile_config, jit
from autotune.kernels import KernelDecl

NO_VECTORS = {"pipeline.loop_vectorization": False}


def _args(n: int = 64) -> tuple[np.ndarray, np.ndarray]:
    return np.arange(1.0, n + 1.0), np.ones(n)


def _signature(args: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(numba.typeof(a) for a in args)


def _bundle(path: Path, func: Any, tuned_on: dict[str, Any]) -> Path:
    """A bundle whose entry for ``func`` was tuned against the options ``tuned_on``."""
    baseline = {"kind": "as-written", "options": tuned_on}
    entry = make_entry(kernel_key(func, _args()), _host(), NO_VECTORS, extra={"baseline": baseline})
    write_bundle(path, [entry])
    return path


def _host() -> Any:
    from autotune.program import host_target

    return host_target()


def test_a_dispatchers_options_are_the_default_base(kernels) -> None:  # type: ignore[no-untyped-def]
    written = numba.njit(fastmath=True)(kernels.dot)
    built = compile_config(written, NO_VECTORS)
    built(*_args())
    assert built.njit_options(_signature(_args()))["fastmath"] is True
    assert jit(written).njit_options == {"fastmath": True}
    assert jit(written, boundscheck=True).njit_options == {"fastmath": True, "boundscheck": True}


def test_a_declarations_options_reach_its_jit(kernels) -> None:  # type: ignore[no-untyped-def]
    decl = KernelDecl(
        name="dot",
        pyfunc=kernels.dot,
        inputs=lambda rng: _args(),
        outputs=("return",),
        njit_options={"fastmath": True},
    )
    assert jit(decl).njit_options == {"fastmath": True}
    built = compile_config(decl, {})
    built(*_args())
    assert built.njit_options(_signature(_args()))["fastmath"] is True


def test_an_entry_tuned_against_the_same_options_is_used(tmp_path, kernels) -> None:  # type: ignore[no-untyped-def]
    bundle = _bundle(tmp_path / "b.json", kernels.dot, {"fastmath": True})
    dot = jit(bundle=bundle, fastmath=True)(kernels.dot)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dot(*_args())
    assert dot.info(_args()).outcome == "hit"


def test_an_entry_tuned_against_other_options_is_stale(tmp_path, kernels) -> None:  # type: ignore[no-untyped-def]
    bundle = _bundle(tmp_path / "b.json", kernels.dot, {})
    dot = jit(bundle=bundle, fastmath=True)(kernels.dot)
    with pytest.warns(UserWarning, match=r"tuned against njit, but .* njit\(fastmath=True\)"):
        assert dot(*_args()) == pytest.approx(float(_args()[0].sum()))
    info = dot.info(_args())
    assert (info.outcome, info.config) == ("stale", None)
