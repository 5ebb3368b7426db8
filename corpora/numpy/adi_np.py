"""ADI sweeps vectorized across lines (twin: ``cpu/adi.py``).

The twin solves one tridiagonal system per column (then per row) at a time; here the
loop over ``j`` runs the Thomas recursion for all interior lines at once, each step an
array expression over a column of ``p``/``q`` and a row (column sweep) or column (row
sweep) of the grid. Every element gets the twin's operations in the twin's order
(the shared denominator is computed once, with the same value), so the default build
equals the twin and the reference bit for bit.
"""

from _twins import same_problem_as

import autotune


@autotune.kernel(**same_problem_as("adi"))
def adi_np(u, v, p, q, tsteps):
    n = u.shape[0]
    mul1 = 1.0
    mul2 = 0.5
    a, b, c = -mul1 / 2.0, 1.0 + mul1, -mul1 / 2.0
    d, e, f = -mul2 / 2.0, 1.0 + mul2, -mul2 / 2.0
    for _ in range(tsteps):
        # Column sweep: one system along j per interior column, for all columns at once.
        v[0, 1:-1] = 1.0
        p[1:-1, 0] = 0.0
        q[1:-1, 0] = v[0, 1:-1]
        for j in range(1, n - 1):
            den = a * p[1:-1, j - 1] + b
            p[1:-1, j] = -c / den
            q[1:-1, j] = (
                -d * u[j, :-2] + (1.0 + 2.0 * d) * u[j, 1:-1] - f * u[j, 2:] - a * q[1:-1, j - 1]
            ) / den
        v[n - 1, 1:-1] = 1.0
        for j in range(n - 2, 0, -1):
            v[j, 1:-1] = p[1:-1, j] * v[j + 1, 1:-1] + q[1:-1, j]
        # Row sweep: one system along j per interior row.
        u[1:-1, 0] = 1.0
        p[1:-1, 0] = 0.0
        q[1:-1, 0] = u[1:-1, 0]
        for j in range(1, n - 1):
            den = d * p[1:-1, j - 1] + e
            p[1:-1, j] = -f / den
            q[1:-1, j] = (
                -a * v[:-2, j] + (1.0 + 2.0 * a) * v[1:-1, j] - c * v[2:, j] - d * q[1:-1, j - 1]
            ) / den
        u[1:-1, n - 1] = 1.0
        for j in range(n - 2, 0, -1):
            u[1:-1, j] = p[1:-1, j] * u[1:-1, j + 1] + q[1:-1, j]
