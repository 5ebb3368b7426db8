"""Conformance suite for builders (:class:`autotune.backends.BaseBuilder`).

A builder's test module subclasses :class:`BuilderConformance`, says how to make the
builder and gives the default config of a kernel's space::

    class TestMyBuilder(BuilderConformance):
        def make_builder(self):
            return MyBuilder()

        def default_config(self, decl):
            return my_search_space(decl).default_config()
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autotune
from autotune.backends import BaseBuilder
from autotune.kernels import KernelDecl
from autotune.measure._verify import collect_outputs

SCALE = 2.0


def _inputs(rng: np.random.Generator, n: int = 64) -> tuple[Any, ...]:
    return rng.random(n), np.zeros(n)


@autotune.kernel(inputs=_inputs, outputs=[1], params={"SCALE": autotune.Choice((2.0, 3.0))})
def scaled_copy(x: np.ndarray, out: np.ndarray) -> None:
    for i in range(x.shape[0]):
        out[i] = SCALE * x[i]


@autotune.kernel(inputs=_inputs, outputs=[1])
def does_not_compile(x: np.ndarray, out: np.ndarray) -> None:
    out[0] = x.no_such_attribute  # type: ignore[attr-defined]


class BuilderConformance:
    """Checks every builder must pass."""

    def make_builder(self) -> BaseBuilder:
        raise NotImplementedError

    def default_config(self, decl: KernelDecl) -> dict[str, Any]:
        raise NotImplementedError

    def test_lowering_is_deterministic(self) -> None:
        builder = self.make_builder()
        args = scaled_copy.make_inputs(0)
        first, second = builder.lower(scaled_copy, args), builder.lower(scaled_copy, args)
        assert first.ir_text and first.key == second.key

    def test_baseline_computes_the_kernel(self) -> None:
        args = scaled_copy.make_inputs(0)
        built = self.make_builder().build_baseline(scaled_copy, args)
        assert built.artifact is not None and built.error == ""
        [out] = collect_outputs(built.artifact, args, scaled_copy.outputs)
        np.testing.assert_allclose(out, 2.0 * args[0])

    def test_default_config_builds_the_baseline_code(self) -> None:
        builder = self.make_builder()
        args = scaled_copy.make_inputs(0)
        baseline = builder.build_baseline(scaled_copy, args)
        default = builder.build(scaled_copy, self.default_config(scaled_copy), args)
        assert baseline.code_hash is not None and baseline.code_hash == default.code_hash

    def test_kernel_parameters_reach_the_kernel(self) -> None:
        args = scaled_copy.make_inputs(0)
        config = {**self.default_config(scaled_copy), "kernel.SCALE": 3.0}
        built = self.make_builder().build(scaled_copy, config, args)
        assert built.artifact is not None, built.error
        [out] = collect_outputs(built.artifact, args, scaled_copy.outputs)
        np.testing.assert_allclose(out, 3.0 * args[0])

    def test_compile_errors_are_values(self) -> None:
        builder = self.make_builder()
        args = does_not_compile.make_inputs(0)
        for built in (
            builder.build_baseline(does_not_compile, args),
            builder.build(does_not_compile, self.default_config(does_not_compile), args),
        ):
            assert built.artifact is None and "no_such_attribute" in built.error
