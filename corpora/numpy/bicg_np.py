"""BiCG sub-kernel in one sweep over the rows of ``A`` (twin: ``cpu/bicg.py``).

``s += r[i] * A[i, :]`` accumulates ``A.T @ r`` in the twin's order; ``q[i]`` is a
BLAS ``ddot`` of a contiguous row with ``p`` (blocked partial sums instead of the
twin's left-to-right sum; positive terms, a few ulp, far inside rtol 1e-9).
"""

from _twins import same_problem_as

import autotune


@autotune.kernel(**same_problem_as("bicg"))
def bicg_np(A, s, q, p, r):
    s[:] = 0.0
    for i in range(A.shape[0]):
        s += r[i] * A[i, :]
        q[i] = A[i, :] @ p
