"""Two matrix-vector products on rows of ``A`` (twin: ``cpu/mvt.py``).

``x1[i] += A[i, :] @ y_1`` is a BLAS ``ddot`` per row (blocked partial sums, then
added to ``x1[i]``, where the twin adds each term to ``x1[i]`` in turn); ``A.T @ y_2``
is accumulated by rows, ``x2 += A[j, :] * y_2[j]``, in the twin's order but reading
``A`` by rows where the twin reads it by columns. Positive terms: a few ulp, far inside
rtol 1e-9.
"""

from _twins import same_problem_as

import autotune


@autotune.kernel(**same_problem_as("mvt"))
def mvt_np(x1, x2, y_1, y_2, A):
    n = A.shape[0]
    for i in range(n):
        x1[i] += A[i, :] @ y_1
    for j in range(n):
        x2 += A[j, :] * y_2[j]
