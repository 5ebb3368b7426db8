"""Program families of the hand-written corpora (``corpora/cpu``, ``corpora/numpy``).

A cross-program cost model is evaluated leave-one-family-out: it is trained on every
family but one and scored on the one left out, so a family groups the kernels whose loop
structure and memory behaviour are alike enough that seeing one would flatter the model
on another. Families therefore follow computational shape, not application domain:

- ``dense-la``: products of dense matrices and vectors (rectangular or triangular
  nests that sum products, with reuse across an outer loop). ``covariance`` and
  ``correlation`` are here: their cost is a ``data.T @ data`` nest, shaped like ``syrk``.
- ``dense-solver``: factorizations and substitutions whose steps depend on earlier ones
  (loop-carried dependences across shrinking triangular nests).
- ``stencil``: neighbourhood updates of grids, in time loops, and sliding-window
  convolutions.
- ``reduction``: whole arrays or rows folded to scalars, and the running sum.
- ``irregular``: data-dependent addresses (scatter into bins, CSR gathers).
- ``graph-dp``: min/max-plus dynamic programming over a table.
- ``data-movement``: copies and streaming updates with no reuse (bandwidth-bound).
- ``n-body``: all-pairs interactions, compute-bound.

A NumPy-style kernel (``<name>_np``) solves the problem of its loop-written twin and has
its twin's family, so leaving a family out leaves both forms out. Generated training
programs carry families of their own that start with :data:`SYNTHETIC_PREFIX`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

#: Families of generated training programs start with this; no hand-written one does.
SYNTHETIC_PREFIX = "synthetic-"

_LOOP_WRITTEN: dict[str, tuple[str, ...]] = {
    "dense-la": (
        "matmul",
        "matmul_tiled",
        "gemm",
        "two_mm",
        "three_mm",
        "atax",
        "bicg",
        "mvt",
        "gesummv",
        "gemver",
        "syrk",
        "syr2k",
        "symm",
        "trmm",
        "covariance",
        "correlation",
    ),
    "dense-solver": ("lu", "cholesky", "trisolv", "durbin", "gramschmidt"),
    "stencil": (
        "jacobi1d",
        "jacobi2d",
        "jacobi2d_tiled",
        "seidel2d",
        "heat3d",
        "fdtd2d",
        "adi",
        "conv1d",
        "conv2d",
    ),
    "reduction": ("dot", "dot_unrolled", "rowsum", "prefix_scan"),
    "irregular": ("histogram", "histogram_private", "byte_count", "spmv_csr"),
    "graph-dp": ("floyd_warshall", "nussinov"),
    "data-movement": ("transpose", "transpose_blocked", "saxpy"),
    "n-body": ("nbody",),
}

#: Loop-written kernels with a NumPy-style twin ``<name>_np`` in ``corpora/numpy``.
_NUMPY_TWINS = (
    "adi",
    "atax",
    "bicg",
    "cholesky",
    "correlation",
    "covariance",
    "durbin",
    "fdtd2d",
    "floyd_warshall",
    "gemm",
    "gemver",
    "gesummv",
    "gramschmidt",
    "heat3d",
    "jacobi1d",
    "jacobi2d",
    "lu",
    "mvt",
    "syrk",
    "trisolv",
)


def _families() -> dict[str, str]:
    table = {name: family for family, names in _LOOP_WRITTEN.items() for name in names}
    table.update({f"{name}_np": table[name] for name in _NUMPY_TWINS})
    return dict(sorted(table.items()))


#: Kernel name -> family, for every kernel of ``corpora/cpu`` and ``corpora/numpy``.
FAMILIES: Mapping[str, str] = MappingProxyType(_families())


def family_of(kernel_name: str) -> str:
    """The family of the hand-written kernel ``kernel_name``.

    Raises KeyError, naming the kernel and the known families, for a name that is not a
    kernel of the hand-written corpora (a generated kernel carries its own ``family``).
    """
    try:
        return FAMILIES[kernel_name]
    except KeyError:
        known = ", ".join(sorted(set(FAMILIES.values())))
        raise KeyError(
            f"no family for kernel {kernel_name!r}: not a kernel of corpora/cpu or "
            f"corpora/numpy (add it to autotune/cost_model/_families.py; families: {known})"
        ) from None
