"""Blocked dense matrix multiply, C = A @ B, with a tunable tile size and loop order.

``TILE`` is the edge of the square tiles the i, j and k loops are blocked by; ``ORDER`` is
the order of the three loops inside a tile. Both are kernel parameters: the tuner binds
them as global constants, which Numba freezes at compile time. Edge tiles are clipped, so
any ``n`` works with any ``TILE``.
"""

import numpy as np

import autotune

# Defaults for calling the plain function; the tuner rebinds these per candidate.
TILE = 32
ORDER = "ijk"


def _inputs(rng, n):
    return rng.random((n, n)), rng.random((n, n)), np.zeros((n, n))


def _reference(A, B, C):
    C[:, :] = A @ B


@autotune.kernel(
    inputs=_inputs,
    sizes={"small": {"n": 72}, "medium": {"n": 250}},
    outputs=[2],
    reference=_reference,
    rtol=1e-9,
    atol=1e-9,
    params={
        "TILE": autotune.Pow2(8, 128, default_value=32),
        "ORDER": autotune.Choice(("ijk", "ikj", "jik")),
    },
)
def matmul_tiled(A, B, C):
    n, m = A.shape
    p = B.shape[1]
    for i in range(n):
        for j in range(p):
            C[i, j] = 0.0
    for ii in range(0, n, TILE):
        i_end = min(ii + TILE, n)
        for jj in range(0, p, TILE):
            j_end = min(jj + TILE, p)
            for kk in range(0, m, TILE):
                k_end = min(kk + TILE, m)
                if ORDER == "ikj":
                    for i in range(ii, i_end):
                        for k in range(kk, k_end):
                            a = A[i, k]
                            for j in range(jj, j_end):
                                C[i, j] += a * B[k, j]
                elif ORDER == "jik":
                    for j in range(jj, j_end):
                        for i in range(ii, i_end):
                            s = C[i, j]
                            for k in range(kk, k_end):
                                s += A[i, k] * B[k, j]
                            C[i, j] = s
                else:  # "ijk"
                    for i in range(ii, i_end):
                        for j in range(jj, j_end):
                            s = C[i, j]
                            for k in range(kk, k_end):
                                s += A[i, k] * B[k, j]
                            C[i, j] = s
