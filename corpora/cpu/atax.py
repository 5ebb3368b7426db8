"""Matrix transpose times matrix-vector product (PolyBench atax): y = A.T @ (A @ x).

Row by row: ``tmp[i] = A[i, :] @ x``, then ``y += A[i, :] * tmp[i]``.
"""

import numpy as np

import autotune


def _inputs(rng, m, n):
    return rng.random((m, n)), rng.random(n), np.zeros(n), np.zeros(m)


def _reference(A, x, y, tmp):
    tmp[:] = A @ x
    y[:] = A.T @ tmp


@autotune.kernel(
    inputs=_inputs,
    sizes={"small": {"m": 380, "n": 420}, "medium": {"m": 1900, "n": 2100}},
    outputs=[2, 3],
    reference=_reference,
    rtol=1e-9,
    atol=1e-9,
)
def atax(A, x, y, tmp):
    m, n = A.shape
    for i in range(n):
        y[i] = 0.0
    for i in range(m):
        tmp[i] = 0.0
        for j in range(n):
            tmp[i] += A[i, j] * x[j]
        for j in range(n):
            y[j] += A[i, j] * tmp[i]
