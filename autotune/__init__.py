"""autotune: find how to compile a program fastest, and prove it.

Declare kernels with :func:`kernel`, give them parameters with :class:`Int`,
:class:`Pow2`, :class:`Bool`, :class:`Choice` and :class:`Permutation`, and tune them
with ``autotune tune FILE`` (see ``autotune --help``) or, from Python, load them with
:func:`autotune.api.select_kernels` and tune them with :func:`autotune.api.tune_kernels`.
"""

from autotune.kernels import KernelDecl, kernel
from autotune.space import Bool, Choice, Int, Permutation, Pow2

__version__ = "0.1.0"

__all__ = ["Bool", "Choice", "Int", "KernelDecl", "Permutation", "Pow2", "__version__", "kernel"]
