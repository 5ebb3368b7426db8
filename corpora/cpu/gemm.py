"""General matrix multiply as in PolyBench: C = alpha * A @ B + beta * C, in place on C.

PolyBench's loop order: for each row i, scale the row of C by beta, then accumulate
alpha * A[i, k] * B[k, j] with k outside j.
"""

import autotune


def _inputs(rng, ni, nj, nk):
    return 1.5, 1.2, rng.random((ni, nj)), rng.random((ni, nk)), rng.random((nk, nj))


def _reference(alpha, beta, C, A, B):
    C[:, :] = alpha * (A @ B) + beta * C


@autotune.kernel(
    inputs=_inputs,
    sizes={
        "small": {"ni": 100, "nj": 110, "nk": 120},
        "medium": {"ni": 400, "nj": 420, "nk": 440},
    },
    outputs=[2],
    reference=_reference,
    rtol=1e-9,
    atol=1e-9,
)
def gemm(alpha, beta, C, A, B):
    ni, nk = A.shape
    nj = B.shape[1]
    for i in range(ni):
        for j in range(nj):
            C[i, j] *= beta
        for k in range(nk):
            for j in range(nj):
                C[i, j] += alpha * A[i, k] * B[k, j]
