"""Pearson correlation matrix (PolyBench correlation) of ``n`` observations of ``m``
variables.

Column means and (population) standard deviations go to ``mean`` and ``stddev``; a
standard deviation <= 0.1 is replaced by 1.0, as in PolyBench. ``data`` is standardized
in place (centered, divided by ``sqrt(n) * stddev``), then ``corr = data.T @ data`` with
a unit diagonal. Every 7th column is nearly constant (standard deviation ~0.003), so the
``<= 0.1`` branch is taken; the other columns are uniform in [0, 1) (about 0.29).
"""

import numpy as np

import autotune


def _inputs(rng, n, m):
    data = rng.random((n, m))
    data[:, ::7] = 0.5 + 0.01 * data[:, ::7]
    return data, np.zeros((m, m)), np.zeros(m), np.zeros(m)


def _reference(data, corr, mean, stddev):
    n = data.shape[0]
    eps = 0.1
    mean[:] = data.sum(axis=0) / n
    stddev[:] = np.sqrt(((data - mean) ** 2).sum(axis=0) / n)
    stddev[stddev <= eps] = 1.0
    data -= mean
    data /= np.sqrt(float(n)) * stddev
    corr[:, :] = data.T @ data
    np.fill_diagonal(corr, 1.0)


@autotune.kernel(
    inputs=_inputs,
    sizes={"small": {"n": 90, "m": 80}, "medium": {"n": 300, "m": 270}},
    outputs=[0, 1, 2, 3],
    reference=_reference,
    rtol=1e-9,
    atol=1e-12,
)
def correlation(data, corr, mean, stddev):
    n, m = data.shape
    float_n = float(n)
    eps = 0.1
    for j in range(m):
        mean[j] = 0.0
        for i in range(n):
            mean[j] += data[i, j]
        mean[j] /= float_n
    for j in range(m):
        stddev[j] = 0.0
        for i in range(n):
            stddev[j] += (data[i, j] - mean[j]) * (data[i, j] - mean[j])
        stddev[j] /= float_n
        stddev[j] = np.sqrt(stddev[j])
        if stddev[j] <= eps:
            stddev[j] = 1.0
    for i in range(n):
        for j in range(m):
            data[i, j] -= mean[j]
            data[i, j] /= np.sqrt(float_n) * stddev[j]
    for i in range(m - 1):
        corr[i, i] = 1.0
        for j in range(i + 1, m):
            corr[i, j] = 0.0
            for k in range(n):
                corr[i, j] += data[k, i] * data[k, j]
            corr[j, i] = corr[i, j]
    corr[m - 1, m - 1] = 1.0
