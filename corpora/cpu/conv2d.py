"""2-D convolution (cross-correlation form) with a small square filter, valid region.

``out[i, j] = sum_{p, q} img[i + p, j + q] * w[p, q]``.
"""

import numpy as np

import autotune


def _inputs(rng, n, k):
    img = rng.standard_normal((n, n))
    w = rng.standard_normal((k, k))
    return img, w, np.zeros((n - k + 1, n - k + 1))


def _reference(img, w, out):
    windows = np.lib.stride_tricks.sliding_window_view(img, w.shape)
    out[:, :] = np.einsum("ijpq,pq->ij", windows, w)


@autotune.kernel(
    inputs=_inputs,
    sizes={"small": {"n": 80, "k": 5}, "medium": {"n": 768, "k": 5}},
    outputs=[2],
    reference=_reference,
    rtol=1e-9,
    atol=1e-12,
)
def conv2d(img, w, out):
    kh, kw = w.shape
    m, p = out.shape
    for i in range(m):
        for j in range(p):
            s = 0.0
            for a in range(kh):
                for b in range(kw):
                    s += img[i + a, j + b] * w[a, b]
            out[i, j] = s
