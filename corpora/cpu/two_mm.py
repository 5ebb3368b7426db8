"""Two chained matrix multiplies (PolyBench 2mm): D = alpha * A @ B @ C + beta * D.

``tmp = alpha * A @ B`` is computed first (into the ``tmp`` argument), then
``D = tmp @ C + beta * D``, both as i-j-k loop nests.
"""

import numpy as np

import autotune


def _inputs(rng, ni, nj, nk, nl):
    return (
        1.5,
        1.2,
        np.zeros((ni, nj)),
        rng.random((ni, nk)),
        rng.random((nk, nj)),
        rng.random((nj, nl)),
        rng.random((ni, nl)),
    )


def _reference(alpha, beta, tmp, A, B, C, D):
    tmp[:, :] = alpha * (A @ B)
    D[:, :] = tmp @ C + beta * D


@autotune.kernel(
    inputs=_inputs,
    sizes={
        "small": {"ni": 40, "nj": 50, "nk": 60, "nl": 70},
        "medium": {"ni": 160, "nj": 180, "nk": 200, "nl": 220},
    },
    outputs=[2, 6],
    reference=_reference,
    rtol=1e-9,
    atol=1e-9,
)
def two_mm(alpha, beta, tmp, A, B, C, D):
    ni, nk = A.shape
    nj = B.shape[1]
    nl = C.shape[1]
    for i in range(ni):
        for j in range(nj):
            tmp[i, j] = 0.0
            for k in range(nk):
                tmp[i, j] += alpha * A[i, k] * B[k, j]
    for i in range(ni):
        for j in range(nl):
            D[i, j] *= beta
            for k in range(nj):
                D[i, j] += tmp[i, k] * C[k, j]
