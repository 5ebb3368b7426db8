"""2-D Jacobi relaxation: a 5-point stencil, ping-ponging between two grids.

Each time step computes B from A on the interior, then A from B, so after ``tsteps``
steps both grids hold the latest two iterates. Boundary cells are never written.
"""

import autotune


def _inputs(rng, n, tsteps):
    A = rng.random((n, n))
    return A, A.copy(), tsteps


def _reference(A, B, tsteps):
    for _ in range(tsteps):
        B[1:-1, 1:-1] = 0.2 * (
            A[1:-1, 1:-1] + A[1:-1, :-2] + A[1:-1, 2:] + A[2:, 1:-1] + A[:-2, 1:-1]
        )
        A[1:-1, 1:-1] = 0.2 * (
            B[1:-1, 1:-1] + B[1:-1, :-2] + B[1:-1, 2:] + B[2:, 1:-1] + B[:-2, 1:-1]
        )


@autotune.kernel(
    inputs=_inputs,
    sizes={"small": {"n": 96, "tsteps": 10}, "medium": {"n": 512, "tsteps": 40}},
    outputs=[0, 1],
    reference=_reference,
    rtol=1e-10,
    atol=1e-12,
)
def jacobi2d(A, B, tsteps):
    n = A.shape[0]
    for _ in range(tsteps):
        for i in range(1, n - 1):
            for j in range(1, n - 1):
                B[i, j] = 0.2 * (A[i, j] + A[i, j - 1] + A[i, j + 1] + A[i + 1, j] + A[i - 1, j])
        for i in range(1, n - 1):
            for j in range(1, n - 1):
                A[i, j] = 0.2 * (B[i, j] + B[i, j - 1] + B[i, j + 1] + B[i + 1, j] + B[i - 1, j])
