"""GEMVER with row updates, a row-accumulated ``A.T @ y`` and dots (twin:
``cpu/gemver.py``).

The rank-2 update and ``x += beta * A.T @ y`` (accumulated row by row, reading ``A`` by
rows where the twin reads columns) keep the twin's order per element. ``w[i]`` takes
one BLAS ``ddot`` per row, ``alpha * (A[i, :] @ x)``: the sum is blocked and ``alpha``
multiplies it once instead of every term. Positive terms (w reaches ~1e6): a few ulp,
far inside rtol 1e-9.
"""

from _twins import same_problem_as

import autotune


@autotune.kernel(**same_problem_as("gemver"))
def gemver_np(alpha, beta, A, u1, v1, u2, v2, w, x, y, z):
    n = A.shape[0]
    for i in range(n):
        A[i, :] += u1[i] * v1 + u2[i] * v2
    for j in range(n):
        x += beta * A[j, :] * y[j]
    x += z
    for i in range(n):
        w[i] += alpha * (A[i, :] @ x)
