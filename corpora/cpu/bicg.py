"""BiCG sub-kernel (PolyBench bicg): s = A.T @ r and q = A @ p in one sweep over A."""

import numpy as np

import autotune


def _inputs(rng, n, m):
    return rng.random((n, m)), np.zeros(m), np.zeros(n), rng.random(m), rng.random(n)


def _reference(A, s, q, p, r):
    s[:] = A.T @ r
    q[:] = A @ p


@autotune.kernel(
    inputs=_inputs,
    sizes={"small": {"n": 420, "m": 380}, "medium": {"n": 1500, "m": 1400}},
    outputs=[1, 2],
    reference=_reference,
    rtol=1e-9,
    atol=1e-9,
)
def bicg(A, s, q, p, r):
    n, m = A.shape
    for i in range(m):
        s[i] = 0.0
    for i in range(n):
        q[i] = 0.0
        for j in range(m):
            s[j] += r[i] * A[i, j]
            q[i] += A[i, j] * p[j]
