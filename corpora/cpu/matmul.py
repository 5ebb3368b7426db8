"""Dense matrix multiply, C = A @ B, as a plain i-j-k loop nest."""

import numpy as np

import autotune


def _inputs(rng, n):
    return rng.random((n, n)), rng.random((n, n)), np.zeros((n, n))


def _reference(A, B, C):
    C[:, :] = A @ B


@autotune.kernel(
    inputs=_inputs,
    sizes={"small": {"n": 64}, "medium": {"n": 192}},
    outputs=[2],
    reference=_reference,
    rtol=1e-9,
    atol=1e-9,
)
def matmul(A, B, C):
    n, m = A.shape
    p = B.shape[1]
    for i in range(n):
        for j in range(p):
            s = 0.0
            for k in range(m):
                s += A[i, k] * B[k, j]
            C[i, j] = s
