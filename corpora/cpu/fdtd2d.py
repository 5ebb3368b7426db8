"""2-D finite-difference time-domain kernel (PolyBench fdtd-2d).

Per time step t: the row ``ey[0, :]`` is set to the source value ``fict[t]``, then
``ey`` and ``ex`` are updated from differences of ``hz``, then ``hz`` from differences of
``ex`` and ``ey``. The coefficients (0.5, 0.7) satisfy the 2-D Courant condition
(0.5 * 0.7 <= 0.5), so the fields stay bounded.
"""

import autotune


def _inputs(rng, nx, ny, tmax):
    return rng.random((nx, ny)), rng.random((nx, ny)), rng.random((nx, ny)), rng.random(tmax)


def _reference(ex, ey, hz, fict):
    for t in range(fict.shape[0]):
        ey[0, :] = fict[t]
        ey[1:, :] = ey[1:, :] - 0.5 * (hz[1:, :] - hz[:-1, :])
        ex[:, 1:] = ex[:, 1:] - 0.5 * (hz[:, 1:] - hz[:, :-1])
        hz[:-1, :-1] = hz[:-1, :-1] - 0.7 * (
            ex[:-1, 1:] - ex[:-1, :-1] + ey[1:, :-1] - ey[:-1, :-1]
        )


@autotune.kernel(
    inputs=_inputs,
    sizes={
        "small": {"nx": 60, "ny": 80, "tmax": 20},
        "medium": {"nx": 400, "ny": 500, "tmax": 40},
    },
    outputs=[0, 1, 2],
    reference=_reference,
    rtol=1e-10,
    atol=1e-11,
)
def fdtd2d(ex, ey, hz, fict):
    nx, ny = ex.shape
    for t in range(fict.shape[0]):
        for j in range(ny):
            ey[0, j] = fict[t]
        for i in range(1, nx):
            for j in range(ny):
                ey[i, j] = ey[i, j] - 0.5 * (hz[i, j] - hz[i - 1, j])
        for i in range(nx):
            for j in range(1, ny):
                ex[i, j] = ex[i, j] - 0.5 * (hz[i, j] - hz[i, j - 1])
        for i in range(nx - 1):
            for j in range(ny - 1):
                hz[i, j] = hz[i, j] - 0.7 * (ex[i, j + 1] - ex[i, j] + ey[i + 1, j] - ey[i, j])
