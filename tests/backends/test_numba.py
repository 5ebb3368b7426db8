"""The Numba builder: workload keys, the pipeline hook and kernel parameters."""

import numpy as np
import pytest
from numba import njit

import autotune
from autotune.backends._numba import NumbaBuilder, signature_of
from autotune.passes import cpu_search_space

ALPHA = 2.0


@njit
def _twice(v):
    return 2.0 * v


def _inputs(rng, n=64):
    return rng.random(n), np.zeros(n)


@autotune.kernel(inputs=_inputs, outputs=[1], params={"ALPHA": autotune.Choice((2.0, 3.0))})
def axpy(x, out):
    for i in range(x.shape[0]):
        out[i] = ALPHA * x[i]


@autotune.kernel(inputs=_inputs, outputs=[1])
def calls_helper(x, out):
    for i in range(x.shape[0]):
        out[i] = _twice(x[i])


@pytest.fixture(scope="module")
def builder():
    return NumbaBuilder()


def test_workload_key_is_stable_and_ignores_parameter_values(builder):
    args = axpy.make_inputs(0)
    first, second = builder.lower(axpy, args), builder.lower(axpy, args)
    assert first.key == second.key
    assert "B2v" not in first.ir_text  # Numba's per-compile uids are normalized away


def test_workload_key_depends_on_argument_types(builder):
    f64 = builder.lower(axpy, axpy.make_inputs(0))
    f32 = builder.lower(axpy, tuple(a.astype(np.float32) for a in axpy.make_inputs(0)))
    assert f64.key != f32.key


def test_problem_size_is_part_of_the_workload_key_but_not_of_the_ir_hash(builder):
    small = builder.lower(axpy, _inputs(np.random.default_rng(0), n=64))
    large = builder.lower(axpy, _inputs(np.random.default_rng(0), n=128))
    assert small.ir_hash == large.ir_hash
    assert small.key != large.key
    assert small.inputs == "(64, 64)"


def test_workload_includes_the_ir_of_called_njit_functions(builder):
    workload = builder.lower(calls_helper, calls_helper.make_inputs(0))
    assert "_twice" in workload.ir_text


def test_code_hash_says_whether_two_builds_made_the_same_code(builder):
    args = axpy.make_inputs(0)
    space = cpu_search_space(axpy)
    baseline = builder.build_baseline(axpy, args)
    default = builder.build(axpy, space.default_config(), args)
    o0 = builder.build(axpy, {**space.default_config(), "pipeline.speed_level": 0}, args)
    # error_model only changes code that can raise; this kernel cannot, but the flag
    # changes every mangled name.
    numpy_errors = builder.build(
        axpy, {**space.default_config(), "flags.error_model": "numpy"}, args
    )
    assert baseline.code_hash == default.code_hash == numpy_errors.code_hash
    assert o0.code_hash != baseline.code_hash


def test_pipeline_options_change_the_code(builder):
    args = axpy.make_inputs(0)
    sig = signature_of(args)
    space = cpu_search_space(axpy)
    o0 = {**space.default_config(), "pipeline.speed_level": 0}
    built = builder.build(axpy, o0, args)
    default = builder.build(axpy, space.default_config(), args)
    assert built.artifact.inspect_llvm(sig) != default.artifact.inspect_llvm(sig)


def test_every_pass_mode_builds_a_correct_kernel(builder):
    x, out = axpy.make_inputs(0)
    space = cpu_search_space(axpy)
    for mode in ("before", "after", "replace"):
        config = {
            **space.default_config(),
            "passes.mode": mode,
            "passes.sequence": ["sroa", "loop_simplify", "loop_rotate", "new_gvn"],
        }
        if mode == "replace":
            config = {k: v for k, v in config.items() if not k.startswith("pipeline.")}
        assert space.violation(config) is None
        built = builder.build(axpy, config, (x, out))
        assert built.error == "", built.error
        out[:] = 0
        built.artifact(x, out)
        np.testing.assert_allclose(out, 2.0 * x)
