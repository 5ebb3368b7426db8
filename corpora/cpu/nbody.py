"""One time step of an n-body simulation with softened gravity (G = 1), O(n^2) pairs.

For each body i the acceleration ``sum_j m_j d_ij / (|d_ij|^2 + eps2)^1.5`` with
``d_ij = pos[j] - pos[i]`` is accumulated over all j (the j = i term is zero), and
``vel[i]`` is advanced by ``dt`` times it; then every position is advanced by ``dt``
times its new velocity (semi-implicit Euler). Positions are uniform in the unit cube,
masses sum to about 0.5 and ``eps2 = 0.01`` bounds the pair forces.
"""

import numpy as np

import autotune


def _inputs(rng, n):
    pos = rng.random((n, 3))
    vel = 0.1 * rng.standard_normal((n, 3))
    mass = rng.random(n) / n
    return pos, vel, mass, 0.01, 0.01


def _reference(pos, vel, mass, dt, eps2):
    n = pos.shape[0]
    acc = np.empty_like(pos)
    for s in range(0, n, 256):  # blocks of bodies i keep the (b, n, 3) temporaries small
        d = pos[None, :, :] - pos[s : s + 256, None, :]
        r2 = (d * d).sum(axis=2) + eps2
        f = mass[None, :] / (r2 * np.sqrt(r2))
        acc[s : s + 256] = (f[:, :, None] * d).sum(axis=1)
    vel += dt * acc
    pos += dt * vel


@autotune.kernel(
    inputs=_inputs,
    sizes={"small": {"n": 256}, "medium": {"n": 1500}},
    outputs=[0, 1],
    reference=_reference,
    rtol=1e-9,
    atol=1e-12,
)
def nbody(pos, vel, mass, dt, eps2):
    n = pos.shape[0]
    for i in range(n):
        ax = 0.0
        ay = 0.0
        az = 0.0
        for j in range(n):
            dx = pos[j, 0] - pos[i, 0]
            dy = pos[j, 1] - pos[i, 1]
            dz = pos[j, 2] - pos[i, 2]
            r2 = dx * dx + dy * dy + dz * dz + eps2
            inv = 1.0 / (r2 * np.sqrt(r2))
            f = mass[j] * inv
            ax += f * dx
            ay += f * dy
            az += f * dz
        vel[i, 0] += dt * ax
        vel[i, 1] += dt * ay
        vel[i, 2] += dt * az
    for i in range(n):
        pos[i, 0] += dt * vel[i, 0]
        pos[i, 1] += dt * vel[i, 1]
        pos[i, 2] += dt * vel[i, 2]
