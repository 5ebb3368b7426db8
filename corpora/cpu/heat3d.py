"""3-D heat equation (PolyBench heat-3d): a 7-point stencil, ping-ponging between two
grids.

Each time step computes B from A on the interior, then A from B; boundary cells are
never written. Every update is a convex combination of the old values, so they stay in
[0, 1).
"""

import autotune


def _inputs(rng, n, tsteps):
    A = rng.random((n, n, n))
    return A, A.copy(), tsteps


def _step(src, dst):
    c = src[1:-1, 1:-1, 1:-1]
    dst[1:-1, 1:-1, 1:-1] = (
        0.125 * (src[2:, 1:-1, 1:-1] - 2.0 * c + src[:-2, 1:-1, 1:-1])
        + 0.125 * (src[1:-1, 2:, 1:-1] - 2.0 * c + src[1:-1, :-2, 1:-1])
        + 0.125 * (src[1:-1, 1:-1, 2:] - 2.0 * c + src[1:-1, 1:-1, :-2])
        + c
    )


def _reference(A, B, tsteps):
    for _ in range(tsteps):
        _step(A, B)
        _step(B, A)


@autotune.kernel(
    inputs=_inputs,
    sizes={"small": {"n": 20, "tsteps": 10}, "medium": {"n": 64, "tsteps": 20}},
    outputs=[0, 1],
    reference=_reference,
    rtol=1e-10,
    atol=1e-12,
)
def heat3d(A, B, tsteps):
    n = A.shape[0]
    for _ in range(tsteps):
        for i in range(1, n - 1):
            for j in range(1, n - 1):
                for k in range(1, n - 1):
                    B[i, j, k] = (
                        0.125 * (A[i + 1, j, k] - 2.0 * A[i, j, k] + A[i - 1, j, k])
                        + 0.125 * (A[i, j + 1, k] - 2.0 * A[i, j, k] + A[i, j - 1, k])
                        + 0.125 * (A[i, j, k + 1] - 2.0 * A[i, j, k] + A[i, j, k - 1])
                        + A[i, j, k]
                    )
        for i in range(1, n - 1):
            for j in range(1, n - 1):
                for k in range(1, n - 1):
                    A[i, j, k] = (
                        0.125 * (B[i + 1, j, k] - 2.0 * B[i, j, k] + B[i - 1, j, k])
                        + 0.125 * (B[i, j + 1, k] - 2.0 * B[i, j, k] + B[i, j - 1, k])
                        + 0.125 * (B[i, j, k + 1] - 2.0 * B[i, j, k] + B[i, j, k - 1])
                        + B[i, j, k]
                    )
