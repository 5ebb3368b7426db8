"""@autotune.jit: lookup on the first call of a signature, hit/miss/stale/verified."""

from __future__ import annotations

import logging
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import numba
import numpy as np
import pytest

from autotune.cache import kernel_key, make_entry, write_bundle
from autotune.deploy import TunedFunction, compile_config, jit
from autotune.errors import InputError
from autotune.program import Target, host_target

THREE = {"kernel.SCALE": 3.0}
NO_VECTORS = {"pipeline.loop_vectorization": False}


def _args(n: int = 64) -> tuple[np.ndarray, np.ndarray]:
    return np.arange(1.0, n + 1.0), np.zeros(n)


def _signature(args: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(numba.typeof(a) for a in args)


def _code_hash(func, config, args) -> str:  # type: ignore[no-untyped-def]
    built = compile_config(func, config)
    built(*args)
    code_hash = built.code_hash(_signature(args))
    assert code_hash is not None
    return code_hash


def _bundle(path: Path, func, args, config, *, target: Target | None = None, **fields) -> Path:  # type: ignore[no-untyped-def]
    key = kernel_key(func, args)
    if "bucket" in fields:
        key = replace(key, bucket=fields.pop("bucket"))
    fields.setdefault("code_hash", _code_hash(func, config, args))
    write_bundle(path, [make_entry(key, target or host_target(), config, **fields)])
    return path


def _other_cpu(features: bool) -> Target:
    """The host with other CPU features (same CPU name), or another CPU name."""
    host = host_target()
    if features:
        return replace(host, cpu_features=host.cpu_features + ",+madeup")
    return replace(host, cpu_name=host.cpu_name + "-other")


def _scale_sum(n: int = 64, factor: float = 2.0) -> float:
    return factor * sum(range(1, n + 1))


def test_a_hit_is_built_with_its_config(tmp_path, kernels) -> None:  # type: ignore[no-untyped-def]
    bundle = _bundle(tmp_path / "b.json", kernels.scale, _args(), THREE)
    scale = jit(bundle=bundle)(kernels.scale)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert scale(*_args()) == _scale_sum(factor=3.0)
    info = scale.info(_args())
    assert (info.outcome, info.config, info.level, info.nearest) == ("hit", THREE, "exact", False)
    assert list(scale.dispatchers) == ["default", '{"kernel.SCALE": 3.0}']


def test_calls_after_the_first_never_reach_the_slow_path(tmp_path, kernels, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    scale = jit(bundle=_bundle(tmp_path / "b.json", kernels.scale, _args(), THREE))(kernels.scale)
    scale(*_args())
    monkeypatch.setattr(scale, "_call_new", lambda *a: pytest.fail("slow path"))
    assert scale(*_args()) == _scale_sum(factor=3.0)


def test_another_size_stands_in_with_a_log_line_not_a_warning(tmp_path, kernels, caplog) -> None:  # type: ignore[no-untyped-def]
    bundle = _bundle(tmp_path / "b.json", kernels.scale, _args(), THREE, bucket=(12, 12))
    scale = jit(bundle=bundle)(kernels.scale)
    with warnings.catch_warnings(), caplog.at_level(logging.DEBUG, "autotune.deploy"):
        warnings.simplefilter("error")
        assert scale(*_args()) == _scale_sum(factor=3.0)
    assert scale.info(_args()).nearest
    assert "nearest size bucket" in caplog.text


def test_a_stale_entry_warns_once_and_runs_the_default_build(tmp_path, kernels) -> None:  # type: ignore[no-untyped-def]
    bundle = _bundle(
        tmp_path / "b.json", kernels.scale, _args(), THREE, code_hash="0123456789abcdef"
    )
    scale = jit(bundle=bundle)(kernels.scale)
    with pytest.warns(UserWarning, match="stale") as caught:
        assert scale(*_args()) == _scale_sum()
        assert scale(*_args()) == _scale_sum()
    assert len(caught) == 1
    info = scale.info(_args())
    assert (info.outcome, info.config) == ("stale", None)


@pytest.mark.parametrize("features", [True, False], ids=["same-cpu", "same-isa"])
def test_a_config_tuned_on_another_cpu_is_verified_once(tmp_path, kernels, features) -> None:  # type: ignore[no-untyped-def]
    target = _other_cpu(features)
    good = _bundle(tmp_path / "good.json", kernels.dot, _args(), NO_VECTORS, target=target)
    dot = jit(bundle=good)(kernels.dot)
    x, y = _args()
    y += 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert dot(x, y) == float(x @ y)
    assert dot.info((x, y)).outcome == "hit"
    assert dot.info((x, y)).level == ("same CPU" if features else "same ISA level")


def test_a_config_giving_other_results_on_this_cpu_is_rejected(tmp_path, kernels) -> None:  # type: ignore[no-untyped-def]
    target = _other_cpu(features=True)
    bad = _bundle(tmp_path / "bad.json", kernels.scale, _args(), THREE, target=target)
    scale = jit(bundle=bad)(kernels.scale)
    x, out = _args()
    with pytest.warns(UserWarning, match="other results"):
        assert scale(x, out) == _scale_sum()
    np.testing.assert_array_equal(out, 2.0 * x)  # the verification ran on copies
    assert scale.info((x, out)).outcome == "rejected"


def test_a_miss_warns_once_per_function_and_runs_numbas_default(kernels) -> None:  # type: ignore[no-untyped-def]
    dot = jit(kernels.dot)
    x, y = _args()
    with pytest.warns(
        UserWarning, match=r"no tuned config for dot.*autotune build .*kernels\.py"
    ) as caught:
        assert dot(x, y) == 0.0
        assert dot(x.astype(np.float32), y.astype(np.float32)) == 0.0
    assert len(caught) == 1
    assert caught[0].filename == __file__  # the user's call, not autotune's code
    assert [i.outcome for i in dot.info().values()] == ["miss", "miss"]
    assert dot.compiles == 2


def test_a_corrupt_bundle_is_one_warning_and_the_default_build(tmp_path, kernels) -> None:  # type: ignore[no-untyped-def]
    bundle = tmp_path / "corrupt.json"
    bundle.write_text('{"format": "autotune-bundle", "entr')
    dot, scale = jit(bundle=bundle)(kernels.dot), jit(bundle=bundle)(kernels.scale)
    with pytest.warns(UserWarning, match="corrupt") as caught:
        assert dot(*_args()) == 0.0
        assert scale(*_args()) == _scale_sum()
    assert len(caught) == 1


def test_an_unreadable_database_is_one_warning_and_the_default_build(tmp_path, kernels) -> None:  # type: ignore[no-untyped-def]
    garbage = tmp_path / "not-a-database.db"
    garbage.write_bytes(b"\x00garbage" * 100)
    dot = jit(db=f"sqlite:///{garbage}")(kernels.dot)
    with pytest.warns(UserWarning) as caught:
        assert dot(*_args()) == 0.0
    assert len(caught) == 1


def test_the_decorator_works_bare_with_options_keywords_and_defaults(kernels) -> None:  # type: ignore[no-untyped-def]
    halve = jit(kernels.halve)
    assert isinstance(halve, TunedFunction) and halve.py_func is kernels.halve
    assert halve.__name__ == "halve"
    with pytest.warns(UserWarning, match="no tuned config"):
        assert halve(7) == 3
    assert halve(7, d=3) == 2
    assert halve(3.0) == 1.0 and isinstance(halve(3), int)
    checked = jit(boundscheck=True, error_model="numpy")(kernels.dot)
    assert checked.njit_options == {"boundscheck": True, "error_model": "numpy"}
    with pytest.warns(UserWarning, match="no tuned config"), pytest.raises(IndexError):
        checked(np.ones(3), np.ones(2))


def test_tuning_on_a_miss_needs_a_function_workers_can_import(monkeypatch, caches) -> None:  # type: ignore[no-untyped-def]
    def local(x):  # type: ignore[no-untyped-def]
        return x

    with pytest.raises(InputError, match="top level"):
        jit(tune="on-miss")(local)
    with pytest.raises(InputError, match="tune must be one of"):
        jit(tune="always")(local)
    monkeypatch.setenv("AUTOTUNE_TUNE", "on-miss")
    env_driven = jit(local)  # a build-wide switch never breaks an import or a call
    with pytest.warns(UserWarning, match="cannot tune"):
        assert env_driven(2.0) == 2.0


@pytest.mark.slow
def test_tuning_on_a_miss_runs_the_tuner_and_builds_its_choice(tmp_path, kernels) -> None:  # type: ignore[no-untyped-def]
    db = f"sqlite:///{tmp_path / 'tuned.db'}"
    dot = jit(tune="on-miss", budget=2, db=db)(kernels.dot)
    x, y = _args(4096)
    y += 1.0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert dot(x, y) == pytest.approx(float(x @ y))
    info = dot.info((x, y))
    # The tuner shares this machine's timing lock with every other tuning process: say
    # why when it skipped the kernel.
    assert info.outcome == "tuned", [str(w.message) for w in caught]
    assert info.config is not None
    # The result is in the database's config cache: the next build finds it.
    again = jit(db=db)(kernels.dot)
    assert again(x, y) == pytest.approx(float(x @ y))
    assert again.info((x, y)).outcome == "hit"


def test_jitted_code_calls_a_decorated_function_like_an_njit_one(kernels) -> None:  # type: ignore[no-untyped-def]
    halve = jit(kernels.halve)

    @numba.njit
    def caller(n):  # type: ignore[no-untyped-def]
        return halve(n) + 1

    assert caller(7) == 4
    assert halve.signatures == []  # the caller's build is not the function's own
    with pytest.warns(UserWarning, match="no tuned config"):
        assert halve(7) == 3
    assert [i.outcome for i in halve.info().values()] == ["miss"]
