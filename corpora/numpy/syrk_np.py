"""SYRK on the lower triangle with row dot products (twin: ``cpu/syrk.py``).

``C[i, j] = beta * C[i, j] + alpha * (A[i, :] @ A[j, :])``: each entry is one BLAS
``ddot`` of two contiguous rows, scaled once, where the twin adds
``alpha * A[i, k] * A[j, k]`` term by term to the scaled entry. Positive terms: a few
ulp, far inside rtol 1e-9.
"""

from _twins import same_problem_as

import autotune


@autotune.kernel(**same_problem_as("syrk"))
def syrk_np(alpha, beta, C, A):
    for i in range(A.shape[0]):
        for j in range(i + 1):
            C[i, j] = beta * C[i, j] + alpha * (A[i, :] @ A[j, :])
