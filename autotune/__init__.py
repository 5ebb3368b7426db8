"""autotune: find how to compile a program fastest, and prove it.

Declare kernels with :func:`kernel`, give them parameters with :class:`Int`,
:class:`Pow2`, :class:`Bool`, :class:`Choice` and :class:`Permutation`, and tune them
with ``autotune tune FILE`` (see ``autotune --help``) or, from Python, with
:func:`tune`, which returns one :class:`TuningResult` per kernel::

    results = autotune.tune("kernels.py", budget=60)
    fast = results[0].compile()  # the kernel built with its best config

Code that should simply run tuned uses :func:`jit` (``@autotune.jit`` in place of
``@numba.njit``): each signature is built with its tuned config from the database or
a bundle, or with Numba's default build (and one warning) when none is known.
``python -m autotune build`` tunes what a package is missing.
"""

from typing import TYPE_CHECKING, Any

from autotune.kernels import CudaKernelDecl, KernelDecl, cuda_kernel, kernel
from autotune.result import ResultStatus, TuningResult
from autotune.space import Bool, Choice, Int, Permutation, Pow2

if TYPE_CHECKING:
    from autotune.api import tune
    from autotune.deploy import jit

__version__ = "0.1.0"

__all__ = [
    "Bool",
    "Choice",
    "CudaKernelDecl",
    "Int",
    "KernelDecl",
    "Permutation",
    "Pow2",
    "ResultStatus",
    "TuningResult",
    "__version__",
    "cuda_kernel",
    "jit",
    "kernel",
    "tune",
]


def __getattr__(name: str) -> Any:
    # The tuning machinery (databases, strategies) takes most of a second to import;
    # worker processes, the command line and `import autotune` alone never need it.
    if name == "tune":
        from autotune.api import tune

        return tune
    if name == "jit":  # the build machinery (loops, passes, llvmlite) comes with it
        from autotune.deploy import jit

        return jit
    raise AttributeError(f"module 'autotune' has no attribute {name!r}")
