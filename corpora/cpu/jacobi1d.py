"""1-D Jacobi relaxation (PolyBench jacobi-1d): a 3-point stencil, ping-ponging between
two arrays.

Each time step computes B from A on the interior, then A from B; the end points are
never written.
"""

import autotune


def _inputs(rng, n, tsteps):
    A = rng.random(n)
    return A, A.copy(), tsteps


def _reference(A, B, tsteps):
    for _ in range(tsteps):
        B[1:-1] = 0.33333 * (A[:-2] + A[1:-1] + A[2:])
        A[1:-1] = 0.33333 * (B[:-2] + B[1:-1] + B[2:])


@autotune.kernel(
    inputs=_inputs,
    sizes={"small": {"n": 4000, "tsteps": 40}, "medium": {"n": 100_000, "tsteps": 100}},
    outputs=[0, 1],
    reference=_reference,
    rtol=1e-10,
    atol=1e-12,
)
def jacobi1d(A, B, tsteps):
    n = A.shape[0]
    for _ in range(tsteps):
        for i in range(1, n - 1):
            B[i] = 0.33333 * (A[i - 1] + A[i] + A[i + 1])
        for i in range(1, n - 1):
            A[i] = 0.33333 * (B[i - 1] + B[i] + B[i + 1])
