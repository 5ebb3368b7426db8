"""Correlation with reductions, ``np.sqrt``, a mask and dots of columns (twin:
``cpu/correlation.py``).

Means and standard deviations are axis reductions (rows added in order, as in the
twin). Small standard deviations are replaced through a boolean mask, the data
standardized by broadcasting. The upper triangle of ``corr`` is filled by dots of
columns, taken as rows of the contiguous copy ``cols = data.T.copy()`` (a strided
column would make Numba copy it for every product); BLAS ``ddot`` blocks the sums
where the twin sums left to right. Correlations cancel towards zero, where the twin's
atol 1e-12 applies.
"""

import numpy as np
from _twins import same_problem_as

import autotune


@autotune.kernel(**same_problem_as("correlation"))
def correlation_np(data, corr, mean, stddev):
    n, m = data.shape
    mean[:] = data.sum(axis=0) / n
    stddev[:] = np.sqrt(((data - mean) ** 2).sum(axis=0) / n)
    stddev[stddev <= 0.1] = 1.0
    data -= mean
    data /= np.sqrt(n) * stddev
    cols = data.T.copy()
    for i in range(m):
        corr[i, i] = 1.0
        for j in range(i + 1, m):
            corr[i, j] = cols[i] @ cols[j]
            corr[j, i] = corr[i, j]
