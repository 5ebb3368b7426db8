"""Two matrix-vector products (PolyBench mvt): x1 += A @ y1 and x2 += A.T @ y2.

The second loop nest reads ``A`` column by column (``A[j, i]`` with j innermost).
"""

import autotune


def _inputs(rng, n):
    return rng.random(n), rng.random(n), rng.random(n), rng.random(n), rng.random((n, n))


def _reference(x1, x2, y_1, y_2, A):
    x1 += A @ y_1
    x2 += A.T @ y_2


@autotune.kernel(
    inputs=_inputs,
    sizes={"small": {"n": 400}, "medium": {"n": 2000}},
    outputs=[0, 1],
    reference=_reference,
    rtol=1e-9,
    atol=1e-9,
)
def mvt(x1, x2, y_1, y_2, A):
    n = A.shape[0]
    for i in range(n):
        for j in range(n):
            x1[i] = x1[i] + A[i, j] * y_1[j]
    for i in range(n):
        for j in range(n):
            x2[i] = x2[i] + A[j, i] * y_2[j]
