"""Out-of-place matrix transpose, ``B = A.T`` (pure data movement, no arithmetic)."""

import numpy as np

import autotune


def _inputs(rng, n):
    return rng.random((n, n)), np.zeros((n, n))


def _reference(A, B):
    B[:, :] = A.T


@autotune.kernel(
    inputs=_inputs,
    sizes={"small": {"n": 400}, "medium": {"n": 2000}},
    outputs=[1],
    reference=_reference,
    rtol=0.0,
)
def transpose(A, B):
    n, m = A.shape
    for i in range(n):
        for j in range(m):
            B[j, i] = A[i, j]
