"""Histogram of values in [0, 1) into ``nbins`` integer bins, counted in ``COPIES``
private sub-histograms that are merged at the end, with an ``UNROLL``-fold main loop.

Consecutive elements that fall into the same bin make a chain of dependent
read-modify-write updates of one counter. Element ``i`` is counted in sub-histogram
``i % COPIES`` (``COPIES`` is a power of two, so this is ``i & (COPIES - 1)``), so
neighbouring elements update different counters and the chains interleave; the price is
a ``COPIES x nbins`` scratch table to clear and merge. ``UNROLL == 4`` handles four
elements per iteration of the main loop (the remainder in a scalar loop). The data are
skewed (``u ** 8`` for uniform ``u``: 60 % of them land in bin 0 of 64, 50 % in bin 0 of
256), so runs of the same bin are common. Integer counts: every combination gives exactly the same
result.
"""

import numpy as np

import autotune

# Defaults for calling the plain function; the tuner rebinds these per candidate.
COPIES = 1
UNROLL = 1


def _inputs(rng, n, nbins):
    return rng.random(n) ** 8, np.zeros(nbins, dtype=np.int64)


def _reference(x, counts):
    nbins = counts.shape[0]
    idx = np.minimum((x * nbins).astype(np.int64), nbins - 1)
    counts += np.bincount(idx, minlength=nbins)


@autotune.kernel(
    inputs=_inputs,
    sizes={"small": {"n": 100_003, "nbins": 64}, "medium": {"n": 4_000_001, "nbins": 256}},
    outputs=[1],
    reference=_reference,
    rtol=0.0,
    params={
        "COPIES": autotune.Pow2(1, 8, default_value=1),
        "UNROLL": autotune.Choice((1, 4)),
    },
)
def histogram_private(x, counts):
    n = x.shape[0]
    nbins = counts.shape[0]
    mask = COPIES - 1
    priv = np.zeros((COPIES, nbins), dtype=np.int64)
    start = 0
    if UNROLL == 4:
        start = n - n % 4
        for i in range(0, start, 4):
            b0 = int(x[i] * nbins)
            b1 = int(x[i + 1] * nbins)
            b2 = int(x[i + 2] * nbins)
            b3 = int(x[i + 3] * nbins)
            if b0 >= nbins:
                b0 = nbins - 1
            if b1 >= nbins:
                b1 = nbins - 1
            if b2 >= nbins:
                b2 = nbins - 1
            if b3 >= nbins:
                b3 = nbins - 1
            priv[i & mask, b0] += 1
            priv[(i + 1) & mask, b1] += 1
            priv[(i + 2) & mask, b2] += 1
            priv[(i + 3) & mask, b3] += 1
    for i in range(start, n):
        b = int(x[i] * nbins)
        if b >= nbins:
            b = nbins - 1
        priv[i & mask, b] += 1
    for c in range(COPIES):
        for b in range(nbins):
            counts[b] += priv[c, b]
