"""smoothing: a tiny package whose Numba kernels run with configs tuned at build time.

``make build`` tunes the kernels of :mod:`smoothing.kernels` into the bundle
``tuned.json`` beside them; importing the package only reads it.
"""

from smoothing.kernels import rowsum, smooth

__all__ = ["rowsum", "smooth"]
