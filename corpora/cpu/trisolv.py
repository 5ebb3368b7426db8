"""Forward substitution (PolyBench trisolv): solve L x = b for lower triangular L.

Only the lower triangle of ``L`` (diagonal included) is read. ``L`` has off-diagonal
entries in [0, 1) and diagonal ``n + 1``, so every row is diagonally dominant and the
solve is well conditioned.
"""

import numpy as np

import autotune


def _inputs(rng, n):
    L = rng.random((n, n)) + (n + 1.0) * np.eye(n)
    return L, np.zeros(n), rng.random(n)


def _reference(L, x, b):
    for i in range(L.shape[0]):
        x[i] = (b[i] - L[i, :i] @ x[:i]) / L[i, i]


@autotune.kernel(
    inputs=_inputs,
    sizes={"small": {"n": 600}, "medium": {"n": 3000}},
    outputs=[1],
    reference=_reference,
    rtol=1e-9,
    atol=1e-12,
)
def trisolv(L, x, b):
    n = L.shape[0]
    for i in range(n):
        x[i] = b[i]
        for j in range(i):
            x[i] -= L[i, j] * x[j]
        x[i] = x[i] / L[i, i]
