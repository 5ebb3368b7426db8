"""The author's ``@njit`` options: read from the dispatcher, kept by declarations and
spec files, never ``cache``; and the two baselines."""

from __future__ import annotations

import numba
import pytest

from autotune.errors import InputError
from autotune.kernels import (
    AS_WRITTEN,
    NUMBA_DEFAULT,
    KernelDecl,
    author_njit_options,
    describe_baseline,
    load_kernels,
    njit_options_from_json,
    njit_options_json,
)
from autotune.kernels._options import applied_njit_options, baseline_options
from tests._helpers import FIXTURES


def _copy(x, out):  # type: ignore[no-untyped-def]
    for i in range(x.shape[0]):
        out[i] = x[i]


def test_a_dispatchers_options_are_read_and_numbas_defaults_dropped() -> None:
    written = numba.njit(fastmath=True, error_model="numpy", nogil=True, boundscheck=False)(_copy)
    assert author_njit_options(written) == {
        "boundscheck": False,
        "error_model": "numpy",
        "fastmath": True,
        "nogil": True,
    }
    assert author_njit_options(numba.njit(_copy)) == {}
    assert author_njit_options(numba.njit(fastmath=False, parallel=False)(_copy)) == {}
    assert author_njit_options(_copy) == {}


def test_cache_is_never_applied() -> None:
    assert applied_njit_options({"cache": True, "fastmath": True}) == {"fastmath": True}
    decl = KernelDecl(
        name="copy",
        pyfunc=_copy,
        inputs=lambda rng: (),
        outputs=(1,),
        njit_options={"cache": True, "parallel": True},
    )
    assert decl.njit_options == {"parallel": True}


def test_njit_options_must_be_a_mapping() -> None:
    with pytest.raises(InputError, match="njit_options must map"):
        KernelDecl(name="copy", pyfunc=_copy, inputs=lambda rng: (), outputs=(1,), njit_options=1)  # type: ignore[arg-type]


def test_a_declared_dispatcher_keeps_its_options_and_a_plain_function_has_none() -> None:
    decls = {d.name: d for d in load_kernels(FIXTURES / "author_options.py")}
    assert decls["dot_fastmath"].njit_options == {"fastmath": True}
    assert decls["running_sum"].njit_options == {"parallel": True}
    plain = {d.name: d for d in load_kernels(FIXTURES / "planted.py")}
    assert plain["scale"].njit_options == {}


def test_spec_declared_unmodified_code_keeps_its_options() -> None:
    (decl,) = load_kernels(FIXTURES / "author_lib.py")
    assert decl.njit_options == {"error_model": "numpy", "fastmath": True}


def test_numba_default_drops_the_authors_options_and_as_written_keeps_them() -> None:
    decl = next(d for d in load_kernels(FIXTURES / "author_options.py") if d.name == "dot_fastmath")
    assert decl.as_baseline(AS_WRITTEN) is decl
    plain = decl.as_baseline(NUMBA_DEFAULT)
    assert plain.njit_options == {} and plain.pyfunc is decl.pyfunc
    assert decl.njit_options == {"fastmath": True}  # the declaration is not changed
    with pytest.raises(ValueError, match="unknown baseline 'fast'"):
        decl.as_baseline("fast")
    assert baseline_options({"fastmath": True}, NUMBA_DEFAULT) == {}


def test_options_round_trip_through_json_and_are_described() -> None:
    options = {"fastmath": {"nnan", "contract"}, "parallel": True}
    data = njit_options_json(options)
    assert data == {"fastmath": ["contract", "nnan"], "parallel": True}
    assert njit_options_from_json(data) == options
    assert describe_baseline(AS_WRITTEN, {"fastmath": True}) == (
        "the kernel as written, njit(fastmath=True)"
    )
    assert describe_baseline(AS_WRITTEN, {}) == "Numba's default build"
    assert describe_baseline(NUMBA_DEFAULT, {}) == "Numba's default build"
