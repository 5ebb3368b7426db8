"""Modified Gram-Schmidt on column slices (twin: ``cpu/gramschmidt.py``).

The textbook NumPy form: a column norm, a column scaling, then for each later column a
dot product with ``Q[:, k]`` and an axpy. Columns of C-ordered arrays are strided
views, so Numba copies both operands of ``np.dot`` to contiguous buffers before
calling BLAS (and warns once, at compile time, with ``NumbaPerformanceWarning``); BLAS
sums in another order than the twin's loop. ``np.linalg.norm`` of a vector is a plain
loop in Numba. The matrix is well conditioned (about 10), so the reordered sums change
results by a few ulp, far inside the twin's tolerance.
"""

import numpy as np
from _twins import same_problem_as

import autotune


@autotune.kernel(**same_problem_as("gramschmidt"))
def gramschmidt_np(A, R, Q):
    n = A.shape[1]
    for k in range(n):
        R[k, k] = np.linalg.norm(A[:, k])
        Q[:, k] = A[:, k] / R[k, k]
        for j in range(k + 1, n):
            R[k, j] = np.dot(Q[:, k], A[:, j])
            A[:, j] -= Q[:, k] * R[k, j]
