"""In-place LU decomposition without pivoting (Doolittle), on a diagonally dominant matrix.

Afterwards the strict lower triangle holds L (unit diagonal implied) and the upper
triangle holds U, so that ``(tril(A, -1) + I) @ triu(A)`` equals the input.
"""

import numpy as np

import autotune


def _inputs(rng, n):
    A = rng.random((n, n))
    A += n * np.eye(n)  # strictly diagonally dominant: no pivoting needed
    return (A,)


def _reference(A):
    n = A.shape[0]
    for k in range(n - 1):
        A[k + 1 :, k] /= A[k, k]
        A[k + 1 :, k + 1 :] -= np.outer(A[k + 1 :, k], A[k, k + 1 :])


@autotune.kernel(
    inputs=_inputs,
    sizes={"small": {"n": 80}, "medium": {"n": 320}},
    outputs=[0],
    reference=_reference,
    rtol=1e-9,
    atol=1e-12,
)
def lu(A):
    n = A.shape[0]
    for k in range(n):
        pivot = A[k, k]
        for i in range(k + 1, n):
            A[i, k] /= pivot
        for i in range(k + 1, n):
            lik = A[i, k]
            for j in range(k + 1, n):
                A[i, j] -= lik * A[k, j]
