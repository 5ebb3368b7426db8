"""Hand-optimized versions of naive corpus kernels, to compare the tuner's best
transformed version with what a person would write: the cache-friendly loop order,
scalar replacement, blocking where it pays, and ``prange`` on an outer loop that
carries no dependence (``prange`` is a plain ``range`` unless compiled with
``parallel=True``). Each has its corpus kernel's signature and semantics; summation
order may differ only where the kernel's tolerance admits it.
"""

from __future__ import annotations

from numba import prange

KB = 64  # k-block: a block of B's rows stays in L1/L2 while a row of C is updated


def matmul(A, B, C):
    n, m = A.shape
    p = B.shape[1]
    for i in prange(n):
        for j in range(p):
            C[i, j] = 0.0
        for kk in range(0, m, KB):
            for k in range(kk, min(kk + KB, m)):
                a = A[i, k]
                for j in range(p):
                    C[i, j] += a * B[k, j]


def gemm(alpha, beta, C, A, B):
    ni, nk = A.shape
    nj = B.shape[1]
    for i in prange(ni):
        for j in range(nj):
            C[i, j] *= beta
        for kk in range(0, nk, KB):
            for k in range(kk, min(kk + KB, nk)):
                a = alpha * A[i, k]
                for j in range(nj):
                    C[i, j] += a * B[k, j]


def two_mm(alpha, beta, tmp, A, B, C, D):
    ni, nk = A.shape
    nj = B.shape[1]
    nl = C.shape[1]
    for i in prange(ni):
        for j in range(nj):
            tmp[i, j] = 0.0
        for k in range(nk):
            a = alpha * A[i, k]
            for j in range(nj):
                tmp[i, j] += a * B[k, j]
    for i in prange(ni):
        for j in range(nl):
            D[i, j] *= beta
        for k in range(nj):
            t = tmp[i, k]
            for j in range(nl):
                D[i, j] += t * C[k, j]


def syrk(alpha, beta, C, A):
    n, m = A.shape
    for i in prange(n):
        for j in range(i + 1):
            s = 0.0
            for k in range(m):
                s += A[i, k] * A[j, k]
            C[i, j] = C[i, j] * beta + alpha * s


def atax(A, x, y, tmp):
    m, n = A.shape
    for j in range(n):
        y[j] = 0.0
    for i in range(m):
        t = 0.0
        for j in range(n):
            t += A[i, j] * x[j]
        tmp[i] = t
        for j in range(n):
            y[j] += A[i, j] * t


def bicg(A, s, q, p, r):
    n, m = A.shape
    for j in range(m):
        s[j] = 0.0
    for i in range(n):
        ri = r[i]
        t = 0.0
        for j in range(m):
            s[j] += ri * A[i, j]
            t += A[i, j] * p[j]
        q[i] = t


def mvt(x1, x2, y_1, y_2, A):
    n = A.shape[0]
    for i in prange(n):
        t = x1[i]
        for j in range(n):
            t += A[i, j] * y_1[j]
        x1[i] = t
    for j in range(n):
        y = y_2[j]
        for i in range(n):
            x2[i] += A[j, i] * y


def jacobi2d(A, B, tsteps):
    n = A.shape[0]
    for _ in range(tsteps):
        for i in prange(1, n - 1):
            for j in range(1, n - 1):
                B[i, j] = 0.2 * (A[i, j] + A[i, j - 1] + A[i, j + 1] + A[i + 1, j] + A[i - 1, j])
        for i in prange(1, n - 1):
            for j in range(1, n - 1):
                A[i, j] = 0.2 * (B[i, j] + B[i, j - 1] + B[i, j + 1] + B[i + 1, j] + B[i - 1, j])


def covariance(data, cov, mean):
    n, m = data.shape
    float_n = float(n)
    for j in range(m):
        mean[j] = 0.0
    for i in range(n):
        for j in range(m):
            mean[j] += data[i, j]
    for j in range(m):
        mean[j] /= float_n
    for i in prange(n):
        for j in range(m):
            data[i, j] -= mean[j]
    for i in range(m):
        for j in range(i, m):
            cov[i, j] = 0.0
    for k in range(n):
        for i in range(m):
            d = data[k, i]
            # Counted from zero: Numba's inner loop vectorizes only with provably
            # non-negative indices, and a loop starting at i hides that from LLVM.
            for jj in range(m - i):
                cov[i, i + jj] += d * data[k, i + jj]
    for i in prange(m):
        for j in range(i, m):
            cov[i, j] /= float_n - 1.0
            cov[j, i] = cov[i, j]


HAND = {f.__name__: f for f in (matmul, gemm, two_mm, syrk, atax, bicg, mvt, jacobi2d, covariance)}
