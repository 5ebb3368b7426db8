"""Synthetic elementwise kernel 11 of seed 0 (float32): 2 stages, fused, loops i. Generated
by autotune.cost_model._synthetic to train cost models, never to evaluate them; Numba's
default build of the kernel is its reference.
"""

import numpy as np

import autotune


def _inputs(rng, n):
    x = (rng.random((n,)) + 0.5).astype(np.float32)
    y = (rng.random((n,)) + 0.5).astype(np.float32)
    out = np.zeros((n,), dtype=np.float32)
    return x, y, out


@autotune.kernel(
    inputs=_inputs,
    sizes={
        "small": {"n": 17717},
        "medium": {"n": 354339},
    },
    outputs=[2],
    rtol=1e-4,
    atol=1e-4,
)
def syn_s0_ew1d_0011(x, y, out):
    n = x.shape[0]
    for i in range(n):
        t0 = np.sin(0.87 / (1.0 + abs(x[i] * 1.05)))
        out[i] = t0 + (min(y[i], 1.89) * (1.08 / (1.0 + abs(y[i]))))
