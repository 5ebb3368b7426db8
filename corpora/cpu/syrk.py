"""Symmetric rank-k update (PolyBench syrk): C = alpha * A @ A.T + beta * C, lower triangle.

Only the lower triangle of ``C`` (diagonal included) is computed; the strict upper
triangle is left as it was.
"""

import numpy as np

import autotune


def _inputs(rng, n, m):
    return 1.5, 1.2, rng.random((n, n)), rng.random((n, m))


def _reference(alpha, beta, C, A):
    lower = np.tril(np.ones(C.shape, dtype=bool))
    C[lower] = (alpha * (A @ A.T) + beta * C)[lower]


@autotune.kernel(
    inputs=_inputs,
    sizes={"small": {"n": 80, "m": 64}, "medium": {"n": 300, "m": 250}},
    outputs=[2],
    reference=_reference,
    rtol=1e-9,
    atol=1e-9,
)
def syrk(alpha, beta, C, A):
    n, m = A.shape
    for i in range(n):
        for j in range(i + 1):
            C[i, j] *= beta
        for k in range(m):
            for j in range(i + 1):
                C[i, j] += alpha * A[i, k] * A[j, k]
