"""2-D Gauss-Seidel relaxation (PolyBench seidel-2d): a 9-point stencil updated in place.

Each interior point becomes the mean of its 3x3 neighbourhood, reading the already
updated values of its left, upper-left, upper and upper-right neighbours: the loop nest
carries dependences along both i and j. Boundary cells are never written.
"""

import numpy as np

import autotune

# x_j = (c_j + x_{j-1}) / 9 unrolled: x_j = sum_d c_{j-d} 9^-(d+1). Terms beyond d = 18
# are below 1e-18 relative, far below the tolerance.
_DECAY = 9.0 ** -np.arange(1.0, 20.0)


def _inputs(rng, n, tsteps):
    return rng.random((n, n)), tsteps


def _reference(A, tsteps):
    n = A.shape[0]
    for _ in range(tsteps):
        for i in range(1, n - 1):
            up, row, down = A[i - 1], A[i], A[i + 1]  # ``up`` already holds this step's row
            c = (
                up[:-2]
                + up[1:-1]
                + up[2:]
                + row[1:-1]
                + row[2:]
                + down[:-2]
                + down[1:-1]
                + down[2:]
            )
            # The recurrence along j (left neighbour already updated), as a convolution;
            # the leading 9 * A[i, 0] term feeds in the fixed left boundary.
            c = np.concatenate(([9.0 * row[0]], c))
            A[i, 1:-1] = np.convolve(c, _DECAY)[1 : n - 1]


@autotune.kernel(
    inputs=_inputs,
    sizes={"small": {"n": 64, "tsteps": 4}, "medium": {"n": 300, "tsteps": 10}},
    outputs=[0],
    reference=_reference,
    rtol=1e-10,
    atol=1e-12,
)
def seidel2d(A, tsteps):
    n = A.shape[0]
    for _ in range(tsteps):
        for i in range(1, n - 1):
            for j in range(1, n - 1):
                A[i, j] = (
                    A[i - 1, j - 1]
                    + A[i - 1, j]
                    + A[i - 1, j + 1]
                    + A[i, j - 1]
                    + A[i, j]
                    + A[i, j + 1]
                    + A[i + 1, j - 1]
                    + A[i + 1, j]
                    + A[i + 1, j + 1]
                ) / 9.0
