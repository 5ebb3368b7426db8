"""Sample covariance matrix (PolyBench covariance) of ``n`` observations of ``m`` variables.

``data`` (n x m) is centered in place by the column means (``mean``), then
``cov = data.T @ data / (n - 1)``, computing the upper triangle and mirroring it.
"""

import numpy as np

import autotune


def _inputs(rng, n, m):
    return rng.random((n, m)), np.zeros((m, m)), np.zeros(m)


def _reference(data, cov, mean):
    n = data.shape[0]
    mean[:] = data.sum(axis=0) / n
    data -= mean
    cov[:, :] = (data.T @ data) / (n - 1.0)


@autotune.kernel(
    inputs=_inputs,
    sizes={"small": {"n": 90, "m": 80}, "medium": {"n": 300, "m": 270}},
    outputs=[0, 1, 2],
    reference=_reference,
    rtol=1e-9,
    atol=1e-12,
)
def covariance(data, cov, mean):
    n, m = data.shape
    float_n = float(n)
    for j in range(m):
        mean[j] = 0.0
        for i in range(n):
            mean[j] += data[i, j]
        mean[j] /= float_n
    for i in range(n):
        for j in range(m):
            data[i, j] -= mean[j]
    for i in range(m):
        for j in range(i, m):
            cov[i, j] = 0.0
            for k in range(n):
                cov[i, j] += data[k, i] * data[k, j]
            cov[i, j] /= float_n - 1.0
            cov[j, i] = cov[i, j]
