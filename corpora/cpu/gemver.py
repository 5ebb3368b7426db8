"""Vector multiplication and matrix addition (PolyBench gemver).

``A += u1 v1^T + u2 v2^T`` (in place), ``x += beta * A.T @ y + z``, then
``w += alpha * A @ x``. The second loop nest reads ``A`` column by column.
"""

import numpy as np

import autotune


def _inputs(rng, n):
    return (
        1.5,
        1.2,
        rng.random((n, n)),
        rng.random(n),
        rng.random(n),
        rng.random(n),
        rng.random(n),
        np.zeros(n),
        np.zeros(n),
        rng.random(n),
        rng.random(n),
    )


def _reference(alpha, beta, A, u1, v1, u2, v2, w, x, y, z):
    A += np.outer(u1, v1) + np.outer(u2, v2)
    x += beta * (A.T @ y)
    x += z
    w += alpha * (A @ x)


@autotune.kernel(
    inputs=_inputs,
    sizes={"small": {"n": 300}, "medium": {"n": 1500}},
    outputs=[2, 7, 8],
    reference=_reference,
    rtol=1e-9,
    atol=1e-9,
)
def gemver(alpha, beta, A, u1, v1, u2, v2, w, x, y, z):
    n = A.shape[0]
    for i in range(n):
        for j in range(n):
            A[i, j] = A[i, j] + u1[i] * v1[j] + u2[i] * v2[j]
    for i in range(n):
        for j in range(n):
            x[i] = x[i] + beta * A[j, i] * y[j]
    for i in range(n):
        x[i] = x[i] + z[i]
    for i in range(n):
        for j in range(n):
            w[i] = w[i] + alpha * A[i, j] * x[j]
