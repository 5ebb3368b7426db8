"""1-D Jacobi relaxation written with shifted slices inside the time loop (twin:
``cpu/jacobi1d.py``).

Each step is one array expression per sweep. Numba fuses the expression into one loop
that fills a temporary, then copies it into the slice; every element is summed in the
twin's order (left, centre, right), so the result equals the twin's and the reference's
bit for bit in the default build.
"""

from _twins import same_problem_as

import autotune


@autotune.kernel(**same_problem_as("jacobi1d"))
def jacobi1d_np(A, B, tsteps):
    for _ in range(tsteps):
        B[1:-1] = 0.33333 * (A[:-2] + A[1:-1] + A[2:])
        A[1:-1] = 0.33333 * (B[:-2] + B[1:-1] + B[2:])
