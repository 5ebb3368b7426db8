"""GESUMMV as two matrix-vector products (twin: ``cpu/gesummv.py``).

``A @ x`` with a 2-D ``A`` is one BLAS ``dgemv`` call in Numba; the result is scaled
and combined in one array expression. BLAS blocks the sums where the twin sums left to
right; positive terms, so a few ulp, far inside rtol 1e-9 (the reference is the same
expression in NumPy).
"""

from _twins import same_problem_as

import autotune


@autotune.kernel(**same_problem_as("gesummv"))
def gesummv_np(alpha, beta, A, B, tmp, x, y):
    tmp[:] = A @ x
    y[:] = alpha * tmp + beta * (B @ x)
