"""Floyd-Warshall all-pairs shortest paths, in place on a distance matrix.

Edge weights are small integers stored as float64, and missing edges carry a large
finite sentinel (not ``inf``, which fastmath may assume away), so every sum is exact and
the result must match bit for bit.
"""

import numpy as np

import autotune

NO_EDGE = 1.0e9


def _inputs(rng, n):
    D = rng.integers(1, 100, size=(n, n)).astype(np.float64)
    D[rng.random((n, n)) < 0.7] = NO_EDGE  # sparse-ish graph
    np.fill_diagonal(D, 0.0)
    return (D,)


def _reference(D):
    for k in range(D.shape[0]):
        np.minimum(D, D[:, k : k + 1] + D[k : k + 1, :], out=D)


@autotune.kernel(
    inputs=_inputs,
    sizes={"small": {"n": 64}, "medium": {"n": 256}},
    outputs=[0],
    reference=_reference,
    rtol=0.0,
)
def floyd_warshall(D):
    n = D.shape[0]
    for k in range(n):
        for i in range(n):
            dik = D[i, k]
            for j in range(n):
                d = dik + D[k, j]
                if d < D[i, j]:
                    D[i, j] = d
