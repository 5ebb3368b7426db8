"""Triangular matrix multiply (PolyBench trmm): B = alpha * L.T @ B, in place on B.

``L`` is the unit lower triangular matrix given by the strict lower triangle of ``A``
(the diagonal and upper triangle of ``A`` are never read). Row i of the result needs
rows k > i of the old ``B``, which the ascending i loop has not overwritten yet.
"""

import numpy as np

import autotune


def _inputs(rng, m, n):
    return 1.5, rng.random((m, m)), rng.random((m, n))


def _reference(alpha, A, B):
    L = np.tril(A, -1) + np.eye(A.shape[0])
    B[:, :] = alpha * (L.T @ B)


@autotune.kernel(
    inputs=_inputs,
    sizes={"small": {"m": 80, "n": 96}, "medium": {"m": 210, "n": 250}},
    outputs=[2],
    reference=_reference,
    rtol=1e-9,
    atol=1e-9,
)
def trmm(alpha, A, B):
    m, n = B.shape
    for i in range(m):
        for j in range(n):
            for k in range(i + 1, m):
                B[i, j] += A[k, i] * B[k, j]
            B[i, j] = alpha * B[i, j]
