"""2-D Jacobi relaxation updated row by row with slices (twin: ``cpu/jacobi2d.py``).

Inside the time loop, each interior row is one array expression over 1-D row slices of
the row itself and its neighbours above and below. The five terms are added in the
twin's order (centre, left, right, below, above), so the result equals the twin's and
the reference's bit for bit in the default build.
"""

from _twins import same_problem_as

import autotune


@autotune.kernel(**same_problem_as("jacobi2d"))
def jacobi2d_np(A, B, tsteps):
    n = A.shape[0]
    for _ in range(tsteps):
        for i in range(1, n - 1):
            B[i, 1:-1] = 0.2 * (A[i, 1:-1] + A[i, :-2] + A[i, 2:] + A[i + 1, 1:-1] + A[i - 1, 1:-1])
        for i in range(1, n - 1):
            A[i, 1:-1] = 0.2 * (B[i, 1:-1] + B[i, :-2] + B[i, 2:] + B[i + 1, 1:-1] + B[i - 1, 1:-1])
