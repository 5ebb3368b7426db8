"""Sparse matrix-vector product y = A @ x with A (n x n) in CSR format.

The factory draws about ``density * n * n`` distinct random positions, so rows hold a
binomially distributed number of nonzeros (columns sorted within each row) and the
gathers ``x[indices[p]]`` are irregular. Values and ``x`` are standard normal.
"""

import numpy as np

import autotune


def _inputs(rng, n, density):
    pos = np.unique(rng.integers(0, n * n, int(density * n * n)))  # sorted, distinct
    rows, cols = np.divmod(pos, n)
    indptr = np.zeros(n + 1, dtype=np.int64)
    indptr[1:] = np.cumsum(np.bincount(rows, minlength=n))
    data = rng.standard_normal(pos.size)
    x = rng.standard_normal(n)
    return indptr, cols.astype(np.int64), data, x, np.zeros(n)


def _reference(indptr, indices, data, x, y):
    n = y.shape[0]
    rows = np.repeat(np.arange(n), np.diff(indptr))
    y[:] = np.bincount(rows, weights=data * x[indices], minlength=n)


@autotune.kernel(
    inputs=_inputs,
    sizes={
        "small": {"n": 4000, "density": 0.01},
        "medium": {"n": 20_000, "density": 0.01},
    },
    outputs=[4],
    reference=_reference,
    rtol=1e-9,
    atol=1e-10,
)
def spmv_csr(indptr, indices, data, x, y):
    n = y.shape[0]
    for i in range(n):
        s = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            s += data[p] * x[indices[p]]
        y[i] = s
