"""Occurrences of each byte value (0..255) in a byte string (a ``uint8`` array).

The input is text-like: byte values follow a Zipf distribution (a randomly permuted
ranking, probability of rank r proportional to 1/r), so a few counters are hit most of
the time, as with spaces and common letters in text. Integer outputs, compared exactly.
"""

import numpy as np

import autotune


def _inputs(rng, n):
    p = 1.0 / np.arange(1.0, 257.0)
    ranking = rng.permutation(256).astype(np.uint8)
    data = ranking[rng.choice(256, size=n, p=p / p.sum())]
    return data, np.zeros(256, dtype=np.int64)


def _reference(data, counts):
    counts += np.bincount(data, minlength=256)


@autotune.kernel(
    inputs=_inputs,
    sizes={"small": {"n": 200_000}, "medium": {"n": 12_000_000}},
    outputs=[1],
    reference=_reference,
    rtol=0.0,
)
def byte_count(data, counts):
    for i in range(data.shape[0]):
        counts[data[i]] += 1
