"""Symmetric rank-2k update (PolyBench syr2k):
C = alpha * (A @ B.T + B @ A.T) + beta * C, lower triangle.

Only the lower triangle of ``C`` (diagonal included) is computed; the strict upper
triangle is left as it was.
"""

import numpy as np

import autotune


def _inputs(rng, n, m):
    return 1.5, 1.2, rng.random((n, n)), rng.random((n, m)), rng.random((n, m))


def _reference(alpha, beta, C, A, B):
    lower = np.tril(np.ones(C.shape, dtype=bool))
    C[lower] = (alpha * (A @ B.T + B @ A.T) + beta * C)[lower]


@autotune.kernel(
    inputs=_inputs,
    sizes={"small": {"n": 64, "m": 48}, "medium": {"n": 256, "m": 200}},
    outputs=[2],
    reference=_reference,
    rtol=1e-9,
    atol=1e-9,
)
def syr2k(alpha, beta, C, A, B):
    n, m = A.shape
    for i in range(n):
        for j in range(i + 1):
            C[i, j] *= beta
        for k in range(m):
            for j in range(i + 1):
                C[i, j] += A[j, k] * alpha * B[i, k] + B[j, k] * alpha * A[i, k]
