"""Dot product with ``ACC`` independent partial sums and an ``UNROLL``-fold unrolled loop.

A single running sum is one long chain of dependent floating-point additions: without
fastmath the compiler may not reassociate it, so each addition waits for the previous
one. ``ACC`` partial sums (``s0`` ... ``s15``; element ``k`` of a group of ``ACC`` goes
to sum ``k``) form independent chains the CPU can overlap, and that the compiler may
pack into SIMD registers; they are added pairwise at the end. ``UNROLL`` groups of
``ACC`` elements are handled per iteration of the main loop (a constant trip count the
compiler unrolls completely). Elements left over after the last full ``ACC * UNROLL``
block go to ``s0``. Both are kernel parameters, frozen as constants at compile time.

Under fastmath the compiler vectorizes the single-sum loop itself, and for larger
``ACC * UNROLL`` it vectorizes across iterations of the main loop with gather
instructions (seen with AVX-512), which is several times slower: the best parameters
differ between the default and the fastmath build.
"""

import numpy as np

import autotune

# Defaults for calling the plain function; the tuner rebinds these per candidate.
ACC = 1
UNROLL = 1


def _inputs(rng, n):
    return rng.random(n), rng.random(n)


def _reference(x, y):
    return float(np.dot(x, y))


@autotune.kernel(
    inputs=_inputs,
    sizes={"small": {"n": 300_007}, "medium": {"n": 4_500_007}},
    outputs=["return"],
    reference=_reference,
    rtol=1e-9,
    params={
        "ACC": autotune.Pow2(1, 16, default_value=1),
        "UNROLL": autotune.Choice((1, 2, 4)),
    },
)
def dot_unrolled(x, y):
    n = x.shape[0]
    step = ACC * UNROLL
    nb = n - n % step
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    s4 = 0.0
    s5 = 0.0
    s6 = 0.0
    s7 = 0.0
    s8 = 0.0
    s9 = 0.0
    s10 = 0.0
    s11 = 0.0
    s12 = 0.0
    s13 = 0.0
    s14 = 0.0
    s15 = 0.0
    for i in range(0, nb, step):
        for u in range(UNROLL):
            k = i + u * ACC
            s0 += x[k] * y[k]
            if ACC >= 2:
                s1 += x[k + 1] * y[k + 1]
            if ACC >= 4:
                s2 += x[k + 2] * y[k + 2]
                s3 += x[k + 3] * y[k + 3]
            if ACC >= 8:
                s4 += x[k + 4] * y[k + 4]
                s5 += x[k + 5] * y[k + 5]
                s6 += x[k + 6] * y[k + 6]
                s7 += x[k + 7] * y[k + 7]
            if ACC >= 16:
                s8 += x[k + 8] * y[k + 8]
                s9 += x[k + 9] * y[k + 9]
                s10 += x[k + 10] * y[k + 10]
                s11 += x[k + 11] * y[k + 11]
                s12 += x[k + 12] * y[k + 12]
                s13 += x[k + 13] * y[k + 13]
                s14 += x[k + 14] * y[k + 14]
                s15 += x[k + 15] * y[k + 15]
    for i in range(nb, n):
        s0 += x[i] * y[i]
    low = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
    high = ((s8 + s9) + (s10 + s11)) + ((s12 + s13) + (s14 + s15))
    return low + high
