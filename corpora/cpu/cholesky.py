"""In-place Cholesky factorization (PolyBench cholesky) of a symmetric positive definite
matrix.

Afterwards the lower triangle of ``A`` (diagonal included) holds L with ``L @ L.T`` equal
to the input; the strict upper triangle is left as it was.
"""

import numpy as np

import autotune


def _inputs(rng, n):
    R = rng.random((n, n))
    # Symmetric, strictly diagonally dominant with a positive diagonal: SPD and well
    # conditioned.
    A = 0.5 * (R + R.T) + n * np.eye(n)
    return (A,)


def _reference(A):
    lower = np.tril(np.ones(A.shape, dtype=bool))
    A[lower] = np.linalg.cholesky(A)[lower]


@autotune.kernel(
    inputs=_inputs,
    sizes={"small": {"n": 100}, "medium": {"n": 400}},
    outputs=[0],
    reference=_reference,
    rtol=1e-9,
    atol=1e-11,
)
def cholesky(A):
    n = A.shape[0]
    for i in range(n):
        for j in range(i):
            for k in range(j):
                A[i, j] -= A[i, k] * A[j, k]
            A[i, j] /= A[j, j]
        for k in range(i):
            A[i, i] -= A[i, k] * A[i, k]
        A[i, i] = np.sqrt(A[i, i])
