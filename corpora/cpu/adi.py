"""Alternating direction implicit solver of the 2-D heat equation (PolyBench adi).

Each time step is two half steps. The column sweep solves, for every column ``i`` of the
interior, a tridiagonal system along ``j`` (Thomas algorithm: forward coefficients
``p``, ``q``, then back substitution into ``v[:, i]``) whose right-hand side is an
explicit step of ``u`` along ``i``; the row sweep does the same with the roles of ``u``
and ``v`` and of rows and columns swapped, writing ``u[i, :]``. Boundaries are held at
1.0 (row 0 and n - 1 of ``v``, column 0 and n - 1 of ``u``). ``p`` and ``q`` are the
sweeps' scratch arrays (also compared).

PolyBench derives the coefficients from DX = DY = 1 / n and DT = 1 / tsteps, giving
``mul1 = 2 n^2 / tsteps`` (1000 at n = 100, tsteps = 20): the explicit half of every
step then multiplies high-frequency components by ~1000 before the implicit half divides
them back, amplifying rounding errors as much. Here DT = DX^2 / 2, so ``mul1 = 1`` and
``mul2 = 0.5``: the tridiagonal systems have diagonal ``1 + mul`` against off-diagonal
``mul / 2`` (strictly diagonally dominant; Thomas denominators stay above 1.4), the explicit
operator has norm 1, and the values stay in [0, 1].
"""

import numpy as np

import autotune


def _inputs(rng, n, tsteps):
    u = rng.random((n, n))
    return u, np.zeros((n, n)), np.zeros((n, n)), np.zeros((n, n)), tsteps


def _reference(u, v, p, q, tsteps):
    a, b, c, d, e, f = _coefficients()
    n = u.shape[0]
    inner = slice(1, n - 1)
    for _ in range(tsteps):
        v[0, inner] = 1.0
        p[inner, 0] = 0.0
        q[inner, 0] = v[0, inner]
        for j in range(1, n - 1):
            den = a * p[inner, j - 1] + b
            p[inner, j] = -c / den
            q[inner, j] = (
                -d * u[j, :-2] + (1.0 + 2.0 * d) * u[j, 1:-1] - f * u[j, 2:] - a * q[inner, j - 1]
            ) / den
        v[n - 1, inner] = 1.0
        for j in range(n - 2, 0, -1):
            v[j, inner] = p[inner, j] * v[j + 1, inner] + q[inner, j]
        u[inner, 0] = 1.0
        p[inner, 0] = 0.0
        q[inner, 0] = u[inner, 0]
        for j in range(1, n - 1):
            den = d * p[inner, j - 1] + e
            p[inner, j] = -f / den
            q[inner, j] = (
                -a * v[:-2, j] + (1.0 + 2.0 * a) * v[1:-1, j] - c * v[2:, j] - d * q[inner, j - 1]
            ) / den
        u[inner, n - 1] = 1.0
        for j in range(n - 2, 0, -1):
            u[inner, j] = p[inner, j] * u[inner, j + 1] + q[inner, j]


def _coefficients():
    mul1, mul2 = 1.0, 0.5  # B1 * DT / DX^2 and B2 * DT / DY^2, with B1 = 2, B2 = 1
    a, d = -mul1 / 2.0, -mul2 / 2.0
    return a, 1.0 + mul1, a, d, 1.0 + mul2, d


@autotune.kernel(
    inputs=_inputs,
    sizes={"small": {"n": 60, "tsteps": 10}, "medium": {"n": 200, "tsteps": 20}},
    outputs=[0, 1, 2, 3],
    reference=_reference,
    rtol=1e-10,
    atol=1e-12,
)
def adi(u, v, p, q, tsteps):
    n = u.shape[0]
    mul1 = 1.0  # B1 * DT / DX^2 with B1 = 2 and DT = DX^2 / 2 (see the module docstring)
    mul2 = 0.5  # B2 * DT / DY^2 with B2 = 1
    a = -mul1 / 2.0
    b = 1.0 + mul1
    c = a
    d = -mul2 / 2.0
    e = 1.0 + mul2
    f = d
    for _ in range(tsteps):
        # Column sweep
        for i in range(1, n - 1):
            v[0, i] = 1.0
            p[i, 0] = 0.0
            q[i, 0] = v[0, i]
            for j in range(1, n - 1):
                p[i, j] = -c / (a * p[i, j - 1] + b)
                q[i, j] = (
                    -d * u[j, i - 1] + (1.0 + 2.0 * d) * u[j, i] - f * u[j, i + 1] - a * q[i, j - 1]
                ) / (a * p[i, j - 1] + b)
            v[n - 1, i] = 1.0
            for j in range(n - 2, 0, -1):
                v[j, i] = p[i, j] * v[j + 1, i] + q[i, j]
        # Row sweep
        for i in range(1, n - 1):
            u[i, 0] = 1.0
            p[i, 0] = 0.0
            q[i, 0] = u[i, 0]
            for j in range(1, n - 1):
                p[i, j] = -f / (d * p[i, j - 1] + e)
                q[i, j] = (
                    -a * v[i - 1, j] + (1.0 + 2.0 * a) * v[i, j] - c * v[i + 1, j] - d * q[i, j - 1]
                ) / (d * p[i, j - 1] + e)
            u[i, n - 1] = 1.0
            for j in range(n - 2, 0, -1):
                u[i, j] = p[i, j] * u[i, j + 1] + q[i, j]
