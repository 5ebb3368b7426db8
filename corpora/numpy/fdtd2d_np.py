"""2-D FDTD with whole-array field updates inside the time loop (twin: ``cpu/fdtd2d.py``).

Per step: a row broadcast of the source value, then one array expression per field
over shifted 2-D slices. Each element is computed as in the twin, so the result equals
the twin's and the reference's bit for bit in the default build. The update of ``hz``
reads ``ex`` and ``ey`` as just written, as in the twin.
"""

from _twins import same_problem_as

import autotune


@autotune.kernel(**same_problem_as("fdtd2d"))
def fdtd2d_np(ex, ey, hz, fict):
    for t in range(fict.shape[0]):
        ey[0, :] = fict[t]
        ey[1:, :] -= 0.5 * (hz[1:, :] - hz[:-1, :])
        ex[:, 1:] -= 0.5 * (hz[:, 1:] - hz[:, :-1])
        hz[:-1, :-1] -= 0.7 * (ex[:-1, 1:] - ex[:-1, :-1] + ey[1:, :-1] - ey[:-1, :-1])
