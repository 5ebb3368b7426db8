"""Three matrix multiplies (PolyBench 3mm): G = (A @ B) @ (C @ D).

``E = A @ B`` and ``F = C @ D`` are computed into their own arguments, then
``G = E @ F``, each as an i-j-k loop nest.
"""

import numpy as np

import autotune


def _inputs(rng, ni, nj, nk, nl, nm):
    return (
        np.zeros((ni, nj)),
        rng.random((ni, nk)),
        rng.random((nk, nj)),
        np.zeros((nj, nl)),
        rng.random((nj, nm)),
        rng.random((nm, nl)),
        np.zeros((ni, nl)),
    )


def _reference(E, A, B, F, C, D, G):
    E[:, :] = A @ B
    F[:, :] = C @ D
    G[:, :] = E @ F


@autotune.kernel(
    inputs=_inputs,
    sizes={
        "small": {"ni": 40, "nj": 45, "nk": 50, "nl": 55, "nm": 60},
        "medium": {"ni": 140, "nj": 150, "nk": 160, "nl": 170, "nm": 180},
    },
    outputs=[0, 3, 6],
    reference=_reference,
    rtol=1e-9,
    atol=1e-9,
)
def three_mm(E, A, B, F, C, D, G):
    ni, nk = A.shape
    nj = B.shape[1]
    nm, nl = D.shape
    for i in range(ni):
        for j in range(nj):
            E[i, j] = 0.0
            for k in range(nk):
                E[i, j] += A[i, k] * B[k, j]
    for i in range(nj):
        for j in range(nl):
            F[i, j] = 0.0
            for k in range(nm):
                F[i, j] += C[i, k] * D[k, j]
    for i in range(ni):
        for j in range(nl):
            G[i, j] = 0.0
            for k in range(nj):
                G[i, j] += E[i, k] * F[k, j]
