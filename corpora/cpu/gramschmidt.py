"""QR factorization by modified Gram-Schmidt (PolyBench gramschmidt): A = Q R.

For each column k: ``R[k, k]`` is the norm of column k of ``A``, ``Q[:, k]`` that column
normalized, and every later column j of ``A`` loses its component along ``Q[:, k]``
(``R[k, j]``). Afterwards ``Q`` (m x n) has orthonormal columns, ``R`` (n x n) is upper
triangular (its strict lower triangle is left as it was) and column k of ``A`` holds
``Q[:, k] * R[k, k]``. All columns are read top to bottom (``i`` innermost), as in
PolyBench.

The input is uniform in [-1, 1) with m = 1.5 n rows: a tall matrix of independent
zero-mean entries has singular values near ``0.58 (sqrt(m) +- sqrt(n))``, a condition
number of about 10, so every ``R[k, k]`` stays well away from zero and Gram-Schmidt
loses no accuracy (PolyBench's deterministic ``(i * j % m) / m`` matrix is
rank-deficient in floating point).
"""

import numpy as np

import autotune


def _inputs(rng, m, n):
    return rng.uniform(-1.0, 1.0, (m, n)), np.zeros((n, n)), np.zeros((m, n))


def _reference(A, R, Q):
    n = A.shape[1]
    for k in range(n):
        R[k, k] = np.sqrt(A[:, k] @ A[:, k])
        Q[:, k] = A[:, k] / R[k, k]
        R[k, k + 1 :] = Q[:, k] @ A[:, k + 1 :]
        A[:, k + 1 :] -= np.outer(Q[:, k], R[k, k + 1 :])


@autotune.kernel(
    inputs=_inputs,
    sizes={"small": {"m": 120, "n": 80}, "medium": {"m": 300, "n": 200}},
    outputs=[0, 1, 2],
    reference=_reference,
    rtol=1e-9,
    atol=1e-12,
)
def gramschmidt(A, R, Q):
    m, n = A.shape
    for k in range(n):
        nrm = 0.0
        for i in range(m):
            nrm += A[i, k] * A[i, k]
        R[k, k] = np.sqrt(nrm)
        for i in range(m):
            Q[i, k] = A[i, k] / R[k, k]
        for j in range(k + 1, n):
            R[k, j] = 0.0
            for i in range(m):
                R[k, j] += Q[i, k] * A[i, j]
            for i in range(m):
                A[i, j] = A[i, j] - Q[i, k] * R[k, j]
