"""In-place Cholesky with dot products of row slices (twin: ``cpu/cholesky.py``).

``A[i, :j] @ A[j, :j]`` replaces the twin's innermost loop; both operands are
contiguous row slices, so Numba calls BLAS ``ddot``, which sums in another order than
the twin's left-to-right loop. The reference is LAPACK, a third order; the twin's
atol 1e-11 already covers the small off-diagonal entries and the matrix is well
conditioned, so the tolerance holds unchanged.
"""

import numpy as np
from _twins import same_problem_as

import autotune


@autotune.kernel(**same_problem_as("cholesky"))
def cholesky_np(A):
    n = A.shape[0]
    for i in range(n):
        for j in range(i):
            A[i, j] = (A[i, j] - A[i, :j] @ A[j, :j]) / A[j, j]
        A[i, i] = np.sqrt(A[i, i] - A[i, :i] @ A[i, :i])
