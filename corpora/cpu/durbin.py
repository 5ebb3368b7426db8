"""Levinson-Durbin recursion (PolyBench durbin): solve the Yule-Walker system T y = -r.

``T`` is the symmetric Toeplitz matrix with unit diagonal and ``T[i, j] = r[|i - j| - 1]``
off it. The inputs ``r[k] = u_k / (4 (k + 1)^2)`` with ``u_k`` uniform in [-1, 1) make
``T`` strictly diagonally dominant (off-diagonal row sums below pi^2 / 12 < 1), hence
positive definite with eigenvalues in (0.17, 1.83): every ``beta`` stays positive and
``|alpha| < 1``. ``z`` is the recursion's scratch vector (also compared).
"""

import numpy as np

import autotune


def _inputs(rng, n):
    k = np.arange(n)
    r = rng.uniform(-1.0, 1.0, n) / (4.0 * (k + 1.0) ** 2)
    return r, np.zeros(n), np.zeros(n)


def _reference(r, y, z):
    n = r.shape[0]
    y[0] = -r[0]
    beta = 1.0
    alpha = -r[0]
    for k in range(1, n):
        beta = (1.0 - alpha * alpha) * beta
        s = r[k - 1 :: -1] @ y[:k]
        alpha = -(r[k] + s) / beta
        z[:k] = y[:k] + alpha * y[k - 1 :: -1]
        y[:k] = z[:k]
        y[k] = alpha


@autotune.kernel(
    inputs=_inputs,
    sizes={"small": {"n": 600}, "medium": {"n": 3000}},
    outputs=[1, 2],
    reference=_reference,
    rtol=1e-9,
    atol=1e-12,
)
def durbin(r, y, z):
    n = r.shape[0]
    y[0] = -r[0]
    beta = 1.0
    alpha = -r[0]
    for k in range(1, n):
        beta = (1.0 - alpha * alpha) * beta
        s = 0.0
        for i in range(k):
            s += r[k - i - 1] * y[i]
        alpha = -(r[k] + s) / beta
        for i in range(k):
            z[i] = y[i] + alpha * y[k - i - 1]
        for i in range(k):
            y[i] = z[i]
        y[k] = alpha
