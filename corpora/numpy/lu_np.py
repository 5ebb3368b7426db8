"""In-place LU (Doolittle, no pivoting) with a column scaling and row updates (twin:
``cpu/lu.py``).

For each pivot the column below it is divided in one slice expression, then every row
below the pivot row loses a multiple of it (an axpy on row slices). Each element gets
the same operations in the same order as in the twin, so the default build is exact
against the twin and the reference.
"""

from _twins import same_problem_as

import autotune


@autotune.kernel(**same_problem_as("lu"))
def lu_np(A):
    n = A.shape[0]
    for k in range(n):
        A[k + 1 :, k] /= A[k, k]
        for i in range(k + 1, n):
            A[i, k + 1 :] -= A[i, k] * A[k, k + 1 :]
