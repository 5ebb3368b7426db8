"""Covariance with axis reductions, broadcasting and a matrix product (twin:
``cpu/covariance.py``).

``data.sum(axis=0)`` adds rows in order, like the twin; ``data -= mean`` broadcasts the
row of means. ``data.T @ data`` is one BLAS ``dgemm`` on a transposed (Fortran-ordered)
view, computing both triangles (the twin computes the upper one and mirrors it). BLAS
blocks the sums; covariances cancel towards zero, where the twin's atol 1e-12 applies,
as it does to the reference (the same expressions in NumPy).
"""

from _twins import same_problem_as

import autotune


@autotune.kernel(**same_problem_as("covariance"))
def covariance_np(data, cov, mean):
    n = data.shape[0]
    mean[:] = data.sum(axis=0) / n
    data -= mean
    cov[:, :] = data.T @ data / (n - 1.0)
