"""Symmetric matrix multiply (PolyBench symm): C = alpha * S @ B + beta * C, in place on C.

``S`` is the symmetric matrix whose lower triangle (diagonal included) is stored in
``A``; the strict upper triangle of ``A`` is never read. PolyBench's loop nest updates
rows k < i of ``C`` while it finishes row i.
"""

import numpy as np

import autotune


def _inputs(rng, m, n):
    return 1.5, 1.2, rng.random((m, n)), rng.random((m, m)), rng.random((m, n))


def _reference(alpha, beta, C, A, B):
    S = np.tril(A) + np.tril(A, -1).T
    C[:, :] = alpha * (S @ B) + beta * C


@autotune.kernel(
    inputs=_inputs,
    sizes={"small": {"m": 64, "n": 80}, "medium": {"m": 220, "n": 260}},
    outputs=[2],
    reference=_reference,
    rtol=1e-9,
    atol=1e-9,
)
def symm(alpha, beta, C, A, B):
    m, n = C.shape
    for i in range(m):
        for j in range(n):
            temp2 = 0.0
            for k in range(i):
                C[k, j] += alpha * B[i, j] * A[i, k]
                temp2 += B[k, j] * A[i, k]
            C[i, j] = beta * C[i, j] + alpha * B[i, j] * A[i, i] + alpha * temp2
