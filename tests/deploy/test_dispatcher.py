"""compile_config and TunedDispatcher: the tuner's build, lazily per signature."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from autotune.backends._numba import NumbaBuilder
from autotune.deploy import TunedDispatcher, compile_config
from autotune.kernels import KernelDecl, load_kernels
from autotune.passes import cpu_search_space
from autotune.space import Pow2
from tests._helpers import FIXTURES

NO_VECTORS = {"pipeline.loop_vectorization": False, "flags.fastmath": "all"}


def _decl(func, inputs, outputs=("return",), **kw) -> KernelDecl:  # type: ignore[no-untyped-def]
    return KernelDecl(name=func.__name__, pyfunc=func, inputs=inputs, outputs=outputs, **kw)


def _signature(args):  # type: ignore[no-untyped-def]
    return tuple(numba.typeof(a) for a in args)


@pytest.fixture
def dot_args(global_random_seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(global_random_seed)
    return rng.random(257), rng.random(257)


@pytest.mark.parametrize(
    "config",
    [
        {},
        NO_VECTORS,
        {"pipeline.speed_level": 1, "flags.error_model": "numpy"},
        {"passes.mode": "after", "passes.sequence": ["loop_unroll", "instruction_combine"]},
    ],
    ids=["empty", "flags", "speed-level", "pass-sequence"],
)
def test_the_deployed_build_is_the_code_the_tuner_built(kernels, dot_args, config) -> None:  # type: ignore[no-untyped-def]
    decl = _decl(kernels.dot, lambda rng: dot_args)
    tuned = compile_config(decl, config)
    tuned(*dot_args)
    built = NumbaBuilder().build(decl, config, dot_args)
    assert built.error == ""
    assert tuned.code_hash(_signature(dot_args)) == built.code_hash


def test_full_default_config_and_kernel_parameters_build_as_the_tuner_does(kernels) -> None:  # type: ignore[no-untyped-def]
    args = (np.arange(64.0), np.zeros(64))
    decl = _decl(kernels.scale, lambda rng: args, outputs=(1,), params={"SCALE": Pow2(1, 8)})
    config = {**cpu_search_space(decl).default_config(), "kernel.SCALE": 4}
    tuned = compile_config(decl, config)
    assert tuned(*args) == 4 * np.arange(64.0).sum()
    assert tuned.code_hash(_signature(args)) == NumbaBuilder().build(decl, config, args).code_hash


@pytest.fixture(scope="module")
def matmul() -> KernelDecl:
    return {d.name: d for d in load_kernels(FIXTURES / "loops_kernels.py")}["matmul"]


def loop_config(decl: KernelDecl, **changes: object) -> dict[str, object]:
    """A valid config of ``decl``'s parallel loop space; keys by their last part."""
    space = cpu_search_space(decl, loops="parallel")
    names = {n.rsplit(".", 1)[-1] if ".b1." in n else n: n for n in space.names}
    config = space.with_defaults({names[k]: v for k, v in changes.items()})
    assert space.violation(config) is None, space.violation(config)
    return config


@pytest.mark.parametrize(
    "changes",
    [{"order": "i,k,j", "tile": 16, "unroll": 2}, {"loops.parallel": True, "parallel": True}],
    ids=["serial", "parallel"],
)
def test_a_loop_transformed_build_is_the_code_the_tuner_built(matmul, changes) -> None:  # type: ignore[no-untyped-def]
    config = loop_config(matmul, **changes)
    args = matmul.make_inputs(0)
    tuned = compile_config(matmul, config)
    numba.set_num_threads(1)
    out = np.zeros_like(args[2])
    tuned(args[0], args[1], out)
    np.testing.assert_allclose(out, args[0] @ args[1], rtol=1e-12)
    assert numba.get_num_threads() == 1  # a parallel build's thread count is its own
    built = NumbaBuilder().build(matmul, config, args)
    assert built.error == ""
    assert tuned.code_hash(_signature(args)) == built.code_hash


def test_a_new_signature_is_compiled_through_the_tuned_pipeline(kernels, dot_args) -> None:  # type: ignore[no-untyped-def]
    tuned = compile_config(kernels.dot, NO_VECTORS)
    tuned(*dot_args)
    x32, y32 = (a.astype(np.float32) for a in dot_args)
    tuned(x32, y32)
    second = _signature((x32, y32))
    assert tuned.signatures == [_signature(dot_args), second]
    ir = tuned.inspect_llvm(second)
    assert "fmul fast float" in ir  # the config's fastmath
    assert "<8 x float>" not in ir and "<4 x float>" not in ir  # no loop vectorization
    plain = numba.njit(kernels.dot)
    plain(x32, y32)
    assert "fmul fast" not in plain.inspect_llvm(second)  # Numba's default would differ


def test_calls_with_compiled_signatures_never_reach_the_slow_path(
    kernels, dot_args, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    tuned = compile_config(kernels.dot, {})
    expected = tuned(*dot_args)

    def fail(*args):  # type: ignore[no-untyped-def]
        raise AssertionError("slow path")

    monkeypatch.setattr(tuned, "_call_new", fail)
    assert tuned(*dot_args) == expected
    assert tuned.compiles == 1


def test_numbas_matching_rules_are_kept_no_unsafe_conversions(kernels) -> None:  # type: ignore[no-untyped-def]
    tuned = compile_config(kernels.halve, {})
    assert tuned(3.0) == 1.0
    result = tuned(3)  # a disabled Numba dispatcher would run the float64 build
    assert result == 1 and isinstance(result, int)
    assert tuned(7, d=3) == 2  # keywords and defaults fold as Numba folds them
    assert tuned.compiles == 3


def test_the_users_type_errors_pass_through_and_compile_nothing(kernels, dot_args) -> None:  # type: ignore[no-untyped-def]
    tuned = compile_config(kernels.dot, {})
    tuned(*dot_args)
    with pytest.raises(TypeError, match="not enough arguments"):
        tuned(dot_args[0])
    with pytest.raises(numba.core.errors.TypingError):
        tuned("not an array", dot_args[1])
    assert tuned.compiles == 1


def test_the_authors_options_are_the_base_and_the_configs_flags_win(kernels, dot_args) -> None:  # type: ignore[no-untyped-def]
    sig = _signature(dot_args)
    kept = compile_config(kernels.dot, {}, njit_options={"fastmath": True, "boundscheck": True})
    kept(*dot_args)
    assert kept.njit_options(sig)["fastmath"] is True
    assert kept.njit_options(sig)["boundscheck"] is True
    overruled = compile_config(
        kernels.dot, {"flags.fastmath": "off"}, njit_options={"fastmath": True, "boundscheck": True}
    )
    overruled(*dot_args)
    assert "fastmath" not in overruled.njit_options(sig)
    assert overruled.njit_options(sig)["boundscheck"] is True


def test_a_plain_function_or_a_dispatcher_is_accepted(kernels, dot_args) -> None:  # type: ignore[no-untyped-def]
    from_njit = compile_config(numba.njit(kernels.dot), {})
    assert isinstance(from_njit, TunedDispatcher)
    assert from_njit.py_func is kernels.dot
    assert from_njit(*dot_args) == pytest.approx(float(dot_args[0] @ dot_args[1]))
    with pytest.raises(Exception, match="Python function"):
        compile_config(42, {})  # type: ignore[arg-type]


def test_a_bad_config_is_refused_when_compiled(kernels) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="unknown passes"):
        compile_config(kernels.dot, {"passes.mode": "after", "passes.sequence": ["nonsense"]})


def test_concurrent_first_calls_compile_a_signature_once(kernels, dot_args) -> None:  # type: ignore[no-untyped-def]
    import threading

    tuned = compile_config(kernels.dot, NO_VECTORS)
    results: list[float] = []
    threads = [threading.Thread(target=lambda: results.append(tuned(*dot_args))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 4 and len(set(results)) == 1
    assert tuned.compiles == 1
