"""2-D Jacobi 5-point stencil, ``tsteps`` time steps, row-blocked by ``TILE_I``, with the
second grid either copied back (``SWAP == "copy"``) or used in alternation ("pingpong").

One time step computes the interior of the new iterate from the old one (boundary cells
never change). ``A`` holds the result after ``tsteps`` steps; ``B`` is a work grid that
starts as a copy of ``A`` (so its boundary matches) and ends holding the last or the
second-to-last iterate, depending on ``SWAP``.

Each pass over the grid runs two sweeps fused row block by row block: the first sweep
writes ``B`` from ``A`` for the ``TILE_I`` rows of a block, then the second sweep
finishes every row of ``A`` it safely can, lagging one row behind (row ``r`` of ``A``
may be overwritten once rows ``r - 1 .. r + 1`` of ``B`` exist, because no later row of
``B`` reads it). The second sweep is

- ``"copy"``: copy the new rows of ``B`` back into ``A``: one time step per pass;
- ``"pingpong"``: compute ``A`` from ``B`` (the next time step): two time steps per
  pass; an odd last step is done as a "copy" pass.

Small ``TILE_I`` keeps the rows both sweeps touch in cache between them; a block of
``TILE_I >= n - 2`` rows (2048 at both sizes, everything from 256 up at the small size)
is the unfused two-sweep pass. ``n - 2`` is not a multiple of any tile, so the last row
block is always a partial one. Every combination computes each grid point from the same
values in the same order, so results are identical.
"""

import autotune

# Defaults for calling the plain function; the tuner rebinds these per candidate.
TILE_I = 128
SWAP = "copy"


def _inputs(rng, n, tsteps):
    A = rng.random((n, n))
    return A, A.copy(), tsteps


def _reference(A, B, tsteps):
    for _ in range(tsteps):
        B[1:-1, 1:-1] = 0.2 * (
            A[1:-1, 1:-1] + A[1:-1, :-2] + A[1:-1, 2:] + A[2:, 1:-1] + A[:-2, 1:-1]
        )
        A[1:-1, 1:-1] = B[1:-1, 1:-1]


@autotune.kernel(
    inputs=_inputs,
    sizes={"small": {"n": 131, "tsteps": 11}, "medium": {"n": 1500, "tsteps": 4}},
    outputs=[0],
    reference=_reference,
    rtol=1e-10,
    atol=1e-12,
    params={
        "TILE_I": autotune.Pow2(4, 2048, default_value=128),
        "SWAP": autotune.Choice(("copy", "pingpong")),
    },
)
def jacobi2d_tiled(A, B, tsteps):
    n = A.shape[0]
    pairs = tsteps // 2 if SWAP == "pingpong" else 0
    # Two time steps per pass: B from A, then A from B, fused by row blocks.
    for _ in range(pairs):
        done = 1  # first row of A not yet advanced
        for ii in range(1, n - 1, TILE_I):
            i_end = min(ii + TILE_I, n - 1)
            for i in range(ii, i_end):
                for j in range(1, n - 1):
                    B[i, j] = 0.2 * (
                        A[i, j] + A[i, j - 1] + A[i, j + 1] + A[i + 1, j] + A[i - 1, j]
                    )
            stop = i_end - 1 if i_end < n - 1 else n - 1
            for i in range(done, stop):
                for j in range(1, n - 1):
                    A[i, j] = 0.2 * (
                        B[i, j] + B[i, j - 1] + B[i, j + 1] + B[i + 1, j] + B[i - 1, j]
                    )
            done = stop
    # One time step per pass: B from A, then B copied back into A, fused by row blocks.
    for _ in range(tsteps - 2 * pairs):
        done = 1
        for ii in range(1, n - 1, TILE_I):
            i_end = min(ii + TILE_I, n - 1)
            for i in range(ii, i_end):
                for j in range(1, n - 1):
                    B[i, j] = 0.2 * (
                        A[i, j] + A[i, j - 1] + A[i, j + 1] + A[i + 1, j] + A[i - 1, j]
                    )
            stop = i_end - 1 if i_end < n - 1 else n - 1
            for i in range(done, stop):
                for j in range(1, n - 1):
                    A[i, j] = B[i, j]
            done = stop
