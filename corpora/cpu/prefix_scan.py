"""Inclusive prefix sum: ``out[i] = x[0] + ... + x[i]`` (a loop-carried scan)."""

import numpy as np

import autotune


def _inputs(rng, n):
    return rng.random(n), np.zeros(n)


def _reference(x, out):
    np.cumsum(x, out=out)


@autotune.kernel(
    inputs=_inputs,
    sizes={"small": {"n": 100_000}, "medium": {"n": 4_000_000}},
    outputs=[1],
    reference=_reference,
    rtol=1e-9,
)
def prefix_scan(x, out):
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i]
        out[i] = s
