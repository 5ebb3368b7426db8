"""Scalar, vector and matrix multiplication (PolyBench gesummv):
y = alpha * A @ x + beta * B @ x, with ``tmp = A @ x`` kept in its own argument."""

import numpy as np

import autotune


def _inputs(rng, n):
    return (
        1.5,
        1.2,
        rng.random((n, n)),
        rng.random((n, n)),
        np.zeros(n),
        rng.random(n),
        np.zeros(n),
    )


def _reference(alpha, beta, A, B, tmp, x, y):
    tmp[:] = A @ x
    y[:] = alpha * tmp + beta * (B @ x)


@autotune.kernel(
    inputs=_inputs,
    sizes={"small": {"n": 300}, "medium": {"n": 1200}},
    outputs=[4, 6],
    reference=_reference,
    rtol=1e-9,
    atol=1e-9,
)
def gesummv(alpha, beta, A, B, tmp, x, y):
    n = A.shape[0]
    for i in range(n):
        tmp[i] = 0.0
        y[i] = 0.0
        for j in range(n):
            tmp[i] = A[i, j] * x[j] + tmp[i]
            y[i] = B[i, j] * x[j] + y[i]
        y[i] = alpha * tmp[i] + beta * y[i]
