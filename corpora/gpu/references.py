"""NumPy references of the CUDA kernels in this folder.

Each function takes NumPy copies of its kernel's arguments, in the kernel's order (arrays
as arrays, scalars as NumPy scalars), and writes the kernel's outputs in place. Sums are
taken in float64 and rounded once to float32 on assignment, so the reference is as exact
as a float32 result can be.
"""

import numpy as np


def sgemm(A, B, C, M, N, K):
    """C = A @ B (float32 M x K times K x N)."""
    C[...] = A.astype(np.float64) @ B.astype(np.float64)


def reduce_sum(x, out, partials, accum, count, n):
    """out[0] = sum of the n values of x. partials, accum and count are scratch buffers of
    the kernel, not outputs."""
    out[0] = np.sum(x[:n], dtype=np.float64)


def transpose(inp, out, n, m):
    """out (m x n) = inp (n x m) transposed."""
    out[...] = inp.T


def conv2d(img, w, out, H, W):
    """out[y, x] = sum_{i, j < 5} w[i, j] * img[y + i, x + j] (valid correlation)."""
    fh, fw = w.shape
    acc = np.zeros((H, W), dtype=np.float64)
    src = img.astype(np.float64)
    for i in range(fh):
        for j in range(fw):
            acc += float(w[i, j]) * src[i : i + H, j : j + W]
    out[...] = acc


def softmax(x, y, rows, cols):
    """y = row-wise softmax of x (rows x cols), max-subtracted."""
    z = x.astype(np.float64)
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    y[...] = z
