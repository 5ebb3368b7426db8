"""Histogram of values in [0, 1) into ``nbins`` equal-width integer bins."""

import numpy as np

import autotune


def _inputs(rng, n, nbins):
    return rng.random(n), np.zeros(nbins, dtype=np.int64)


def _reference(x, counts):
    nbins = counts.shape[0]
    idx = np.minimum((x * nbins).astype(np.int64), nbins - 1)
    counts += np.bincount(idx, minlength=nbins)


@autotune.kernel(
    inputs=_inputs,
    sizes={"small": {"n": 100_000, "nbins": 64}, "medium": {"n": 4_000_000, "nbins": 256}},
    outputs=[1],
    reference=_reference,
    rtol=0.0,
)
def histogram(x, counts):
    nbins = counts.shape[0]
    for i in range(x.shape[0]):
        b = int(x[i] * nbins)
        if b >= nbins:
            b = nbins - 1
        counts[b] += 1
