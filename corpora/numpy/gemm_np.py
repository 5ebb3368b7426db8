"""GEMM as a whole-array scaling and row updates (twin: ``cpu/gemm.py``).

``C *= beta`` scales the matrix at once; then each row of ``C`` accumulates
``alpha * A[i, k] * B[k, :]`` over k (an axpy on row slices, PolyBench's i-k-j order).
Each element gets the twin's operations in the twin's order, so the default build
equals the twin; the reference (BLAS) differs by a few ulp, as for the twin.
"""

from _twins import same_problem_as

import autotune


@autotune.kernel(**same_problem_as("gemm"))
def gemm_np(alpha, beta, C, A, B):
    C *= beta
    for i in range(A.shape[0]):
        for k in range(A.shape[1]):
            C[i, :] += alpha * A[i, k] * B[k, :]
