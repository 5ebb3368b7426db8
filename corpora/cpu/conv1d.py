"""1-D convolution (cross-correlation form) over the valid region.

``out[i] = sum_k x[i + k] * w[k]`` for ``i`` in ``[0, n - K]``.
"""

import numpy as np

import autotune


def _inputs(rng, n, k):
    x = rng.standard_normal(n)
    w = rng.standard_normal(k)
    return x, w, np.zeros(n - k + 1)


def _reference(x, w, out):
    out[:] = np.lib.stride_tricks.sliding_window_view(x, w.shape[0]) @ w


@autotune.kernel(
    inputs=_inputs,
    sizes={"small": {"n": 20_000, "k": 16}, "medium": {"n": 1_000_000, "k": 16}},
    outputs=[2],
    reference=_reference,
    rtol=1e-9,
    atol=1e-12,
)
def conv1d(x, w, out):
    k = w.shape[0]
    m = x.shape[0] - k + 1
    for i in range(m):
        s = 0.0
        for t in range(k):
            s += x[i + t] * w[t]
        out[i] = s
