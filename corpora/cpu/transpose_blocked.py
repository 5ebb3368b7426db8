"""Out-of-place transpose ``B = A.T`` in ``BLOCK`` x ``BLOCK`` tiles, loop order ``ORDER``.

``ORDER == "row"`` walks the source by rows (contiguous reads of ``A``, strided writes to
``B``), both across tiles and inside a tile; ``"col"`` walks it by columns (strided
reads, contiguous writes). ``BLOCK == 1`` is the untiled transpose in that order (a
separate plain loop nest, without per-element tile bookkeeping). Edge
tiles are clipped, so any shape works with any ``BLOCK``; the sizes are deliberately
not multiples of the larger blocks. Pure data movement, no arithmetic.
"""

import numpy as np

import autotune

# Defaults for calling the plain function; the tuner rebinds these per candidate.
BLOCK = 1
ORDER = "row"


def _inputs(rng, n, m):
    return rng.random((n, m)), np.zeros((m, n))


def _reference(A, B):
    B[:, :] = A.T


@autotune.kernel(
    inputs=_inputs,
    sizes={"small": {"n": 410, "m": 395}, "medium": {"n": 1470, "m": 1450}},
    outputs=[1],
    reference=_reference,
    rtol=0.0,
    params={
        "BLOCK": autotune.Pow2(1, 64, default_value=1),
        "ORDER": autotune.Choice(("row", "col")),
    },
)
def transpose_blocked(A, B):
    n, m = A.shape
    if BLOCK == 1:  # untiled: no tile loops at all
        if ORDER == "col":
            for j in range(m):
                for i in range(n):
                    B[j, i] = A[i, j]
        else:
            for i in range(n):
                for j in range(m):
                    B[j, i] = A[i, j]
    elif ORDER == "col":
        for jj in range(0, m, BLOCK):
            j_end = min(jj + BLOCK, m)
            for ii in range(0, n, BLOCK):
                i_end = min(ii + BLOCK, n)
                for j in range(jj, j_end):
                    for i in range(ii, i_end):
                        B[j, i] = A[i, j]
    else:  # "row"
        for ii in range(0, n, BLOCK):
            i_end = min(ii + BLOCK, n)
            for jj in range(0, m, BLOCK):
                j_end = min(jj + BLOCK, m)
                for i in range(ii, i_end):
                    for j in range(jj, j_end):
                        B[j, i] = A[i, j]
