"""Dot product of two vectors, returned as a scalar (a pure reduction)."""

import numpy as np

import autotune


def _inputs(rng, n):
    return rng.random(n), rng.random(n)


def _reference(x, y):
    return float(np.dot(x, y))


@autotune.kernel(
    inputs=_inputs,
    sizes={"small": {"n": 300_000}, "medium": {"n": 5_000_000}},
    outputs=["return"],
    reference=_reference,
    rtol=1e-9,
)
def dot(x, y):
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i] * y[i]
    return s
