"""3-D heat equation with whole-grid shifted slices inside the time loop (twin:
``cpu/heat3d.py``).

Each half step is one array expression over 3-D views of the interior and its six
neighbours; ``c``, the interior view, is read three times. Terms are combined in the
twin's order, so the result equals the twin's and the reference's bit for bit in the
default build.
"""

from _twins import same_problem_as

import autotune


@autotune.kernel(**same_problem_as("heat3d"))
def heat3d_np(A, B, tsteps):
    for _ in range(tsteps):
        c = A[1:-1, 1:-1, 1:-1]
        B[1:-1, 1:-1, 1:-1] = (
            0.125 * (A[2:, 1:-1, 1:-1] - 2.0 * c + A[:-2, 1:-1, 1:-1])
            + 0.125 * (A[1:-1, 2:, 1:-1] - 2.0 * c + A[1:-1, :-2, 1:-1])
            + 0.125 * (A[1:-1, 1:-1, 2:] - 2.0 * c + A[1:-1, 1:-1, :-2])
            + c
        )
        c = B[1:-1, 1:-1, 1:-1]
        A[1:-1, 1:-1, 1:-1] = (
            0.125 * (B[2:, 1:-1, 1:-1] - 2.0 * c + B[:-2, 1:-1, 1:-1])
            + 0.125 * (B[1:-1, 2:, 1:-1] - 2.0 * c + B[1:-1, :-2, 1:-1])
            + 0.125 * (B[1:-1, 1:-1, 2:] - 2.0 * c + B[1:-1, 1:-1, :-2])
            + c
        )
