"""The package's kernels: plain Numba loops, each built with its tuned config.

``tuned.json`` beside this file is the bundle that ``make build`` writes (``python -m
autotune build``). Importing this module never tunes: a call whose config is not in
the bundle runs Numba's default build, and a missing bundle is one warning.
The inputs the build step tunes them on are declared in ``kernels.autotune.toml``.
"""

from pathlib import Path

import numpy as np

import autotune

#: The bundle of tuned configs, shipped inside the package.
TUNED = Path(__file__).with_name("tuned.json")


@autotune.jit(bundle=TUNED)
def smooth(x, out):
    """A 3-point smoothing stencil (weights 1/4, 1/2, 1/4); the ends are copied."""
    n = x.shape[0]
    out[0] = x[0]
    out[n - 1] = x[n - 1]
    for i in range(1, n - 1):
        out[i] = 0.25 * x[i - 1] + 0.5 * x[i] + 0.25 * x[i + 1]


@autotune.jit(bundle=TUNED)
def rowsum(m):
    """The sum of each row of a 2-D array, as a new 1-D array."""
    rows, cols = m.shape
    out = np.empty(rows)
    for i in range(rows):
        total = 0.0
        for j in range(cols):
            total += m[i, j]
        out[i] = total
    return out


def smooth_numpy(x, out):
    """NumPy's :func:`smooth`: the reference the build step checks configs against."""
    out[0], out[-1] = x[0], x[-1]
    out[1:-1] = 0.25 * x[:-2] + 0.5 * x[1:-1] + 0.25 * x[2:]
