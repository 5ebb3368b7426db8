"""``A.T @ (A @ x)`` row by row with a dot and an axpy (twin: ``cpu/atax.py``).

``tmp[i] = A[i, :] @ x`` is a BLAS ``ddot`` on a contiguous row (blocked partial sums,
not the twin's left-to-right sum); ``y += A[i, :] * tmp[i]`` accumulates in the twin's
order. All terms are positive, so the reordered sum differs by a few ulp, far inside
the twin's rtol 1e-9.
"""

from _twins import same_problem_as

import autotune


@autotune.kernel(**same_problem_as("atax"))
def atax_np(A, x, y, tmp):
    y[:] = 0.0
    for i in range(A.shape[0]):
        tmp[i] = A[i, :] @ x
        y += A[i, :] * tmp[i]
