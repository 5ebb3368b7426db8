"""Nussinov RNA folding (PolyBench nussinov): the maximum number of base pairs, by
dynamic programming over an integer table.

``seq`` holds bases 0..3 (A, C, G, U); two bases pair when their codes add up to 3.
``table[i, j]`` (j > i) becomes the best score for the subsequence i..j; rows are
filled from the bottom up, each from left to right. The entries below the diagonal stay
0. Integer arithmetic only, so results are exact.
"""

import numpy as np

import autotune


def _inputs(rng, n):
    return rng.integers(0, 4, n).astype(np.int8), np.zeros((n, n), dtype=np.int32)


def _reference(seq, table):
    n = seq.shape[0]
    for i in range(n - 1, -1, -1):
        for j in range(i + 1, n):
            best = max(table[i, j], table[i, j - 1], table[i + 1, j])
            if i < j - 1:
                best = max(best, table[i + 1, j - 1] + int(seq[i] + seq[j] == 3))
                best = max(best, (table[i, i + 1 : j] + table[i + 2 : j + 1, j]).max())
            else:
                best = max(best, table[i + 1, j - 1])
            table[i, j] = best


@autotune.kernel(
    inputs=_inputs,
    sizes={"small": {"n": 120}, "medium": {"n": 380}},
    outputs=[1],
    reference=_reference,
    rtol=0.0,
)
def nussinov(seq, table):
    n = seq.shape[0]
    for i in range(n - 1, -1, -1):
        for j in range(i + 1, n):
            if j - 1 >= 0:
                table[i, j] = max(table[i, j], table[i, j - 1])
            if i + 1 < n:
                table[i, j] = max(table[i, j], table[i + 1, j])
            if j - 1 >= 0 and i + 1 < n:
                if i < j - 1:
                    match = 1 if seq[i] + seq[j] == 3 else 0
                    table[i, j] = max(table[i, j], table[i + 1, j - 1] + match)
                else:
                    table[i, j] = max(table[i, j], table[i + 1, j - 1])
            for k in range(i + 1, j):
                table[i, j] = max(table[i, j], table[i, k] + table[k + 1, j])
