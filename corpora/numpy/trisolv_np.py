"""Forward substitution with one dot product per row (twin: ``cpu/trisolv.py``).

``L[i, :i] @ x[:i]`` takes contiguous row slices, which Numba hands to BLAS ``ddot``
(the empty slice of row 0 gives 0.0). BLAS sums in blocks of several partial sums, not
left to right as the twin does; the reference also takes one NumPy dot per row. With
x ~ 1e-4 and positive terms the difference stays within rounding of a few hundred
terms, far inside the twin's rtol 1e-9.
"""

from _twins import same_problem_as

import autotune


@autotune.kernel(**same_problem_as("trisolv"))
def trisolv_np(L, x, b):
    for i in range(L.shape[0]):
        x[i] = (b[i] - L[i, :i] @ x[:i]) / L[i, i]
