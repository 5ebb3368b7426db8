"""Levinson-Durbin recursion with a reversed slice, ``np.sum`` and a vector update (twin:
``cpu/durbin.py``).

``r[k - 1 :: -1]`` is a view with a negative stride. ``np.sum`` of its product with
``y[:k]`` adds left to right in Numba, the twin's order, so ``s`` and everything after
it equal the twin's bit for bit in the default build (the reference's ``@`` sums in
another order; the twin's tolerance already admits it). The temporary ``z[:k]`` is kept
because ``y[:k]`` cannot be updated from its own reverse in place.
"""

import numpy as np
from _twins import same_problem_as

import autotune


@autotune.kernel(**same_problem_as("durbin"))
def durbin_np(r, y, z):
    n = r.shape[0]
    y[0] = -r[0]
    beta = 1.0
    alpha = -r[0]
    for k in range(1, n):
        beta = (1.0 - alpha * alpha) * beta
        alpha = -(r[k] + np.sum(r[k - 1 :: -1] * y[:k])) / beta
        z[:k] = y[:k] + alpha * y[k - 1 :: -1]
        y[:k] = z[:k]
        y[k] = alpha
