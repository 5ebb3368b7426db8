"""A small third-party numerical library, used as-is (it does not import autotune).

Its kernels are declared for tuning by the spec file beside it,
``saxpy_lib.autotune.toml``; nothing here was changed for the tuner.
"""

import numba
import numpy as np


@numba.njit
def saxpy(a, x, y, out):
    """out = a * x + y, elementwise."""
    for i in range(x.shape[0]):
        out[i] = a * x[i] + y[i]


def saxpy_numpy(a, x, y, out):
    """Pure-NumPy fallback of :func:`saxpy`."""
    np.add(a * x, y, out=out)


@numba.njit
def rowsum(M):
    """The sum of each row of a 2-D array, as a new 1-D array."""
    n, m = M.shape
    out = np.zeros(n)
    for i in range(n):
        s = 0.0
        for j in range(m):
            s += M[i, j]
        out[i] = s
    return out


def make_rowsum_inputs(rng, n):
    """Arguments for :func:`rowsum`: one ``n`` x ``n`` matrix of uniform [0, 1) values."""
    return (rng.random((n, n)),)
