"""Kernels for checking the timing protocol: one whose cost a parameter sets exactly."""

import numpy as np

import autotune

PASSES = 20


def _inputs(rng, n):
    return rng.random(n), np.zeros(n)


@autotune.kernel(
    inputs=_inputs,
    sizes={"default": {"n": 20_000}},
    outputs=[1],
    rtol=1e-12,
    # 21 passes instead of 20 is 5% more work by construction; the result is the same.
    params={"PASSES": autotune.Choice((20, 21))},
)
def repeated_scale(x, out):
    for _ in range(PASSES):
        for i in range(x.shape[0]):
            out[i] = 2.0 * x[i] + 1.0
