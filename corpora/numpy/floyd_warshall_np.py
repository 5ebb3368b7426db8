"""Floyd-Warshall with one ``np.minimum`` per row (twin: ``cpu/floyd_warshall.py``).

Row ``i`` becomes the elementwise minimum of itself and ``D[i, k] + D[k, :]``. The row
``k`` is read while row ``i`` is written; when ``i == k`` the candidate is
``0 + D[k, :]`` (the diagonal stays 0), so nothing changes, as in the twin. All sums are
integers below 2^53: exact, like the twin.
"""

import numpy as np
from _twins import same_problem_as

import autotune


@autotune.kernel(**same_problem_as("floyd_warshall"))
def floyd_warshall_np(D):
    n = D.shape[0]
    for k in range(n):
        for i in range(n):
            D[i, :] = np.minimum(D[i, :], D[i, k] + D[k, :])
