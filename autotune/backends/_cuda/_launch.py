"""Loading a cubin and launching its kernel on the GPU, through CuPy (GPU only).

CuPy is imported when a kernel is loaded, never at import time, so this module can be
imported (and :func:`sticky_error` used) on any machine.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from typing import Any

#: Dynamic shared memory above this needs the kernel's opt-in attribute.
DEFAULT_DYNAMIC_SHARED_LIMIT = 48 * 1024

# CUDA error codes after which the context is unusable: every later call fails with the
# same error, so the process that owns the context must be replaced. The runtime
# (cudaError_t) and driver (CUresult) enumerations share these numbers.
_STICKY_STATUS = {
    214: "uncorrectable ECC error",
    700: "illegal address",
    702: "launch timeout",
    709: "context is destroyed",
    710: "device-side assert",
    714: "hardware stack error",
    715: "illegal instruction",
    716: "misaligned address",
    717: "invalid address space",
    718: "invalid program counter",
    719: "launch failure",
    999: "unknown error",
}
# The same errors as CUDA words them, for exceptions that carry no status code.
_STICKY_TEXT = (
    "illegal memory access",
    "illegal address",
    "misaligned address",
    "illegal instruction",
    "unspecified launch failure",
    "hardware stack error",
    "invalid program counter",
    "device-side assert",
    "uncorrectable ecc",
    "context is destroyed",
    "launch timed out",
)


def sticky_error(exc: BaseException) -> bool:
    """Whether ``exc`` is a CUDA error that leaves the context unusable (an illegal
    address, a launch failure, ...), so the worker process must be replaced. Launch
    configuration errors (too many resources, an invalid value) are not sticky."""
    status = getattr(exc, "status", None)
    if isinstance(status, int) and status in _STICKY_STATUS:
        return True
    text = str(exc).lower()
    return any(marker in text for marker in _STICKY_TEXT)


class LoadedKernel:
    """One kernel of a cubin, loaded into the current device's context. GPU only.

    The cubin is written to a private temporary file, which ``cupy.RawModule(path=...)``
    loads; the file lives as long as this object, since CuPy loads a module per device
    on first use. Loading happens in the constructor, so a bad cubin or a missing
    ``lowered_name`` raises here rather than at the first launch.
    """

    def __init__(self, cubin: bytes, lowered_name: str) -> None:
        import cupy

        self.lowered_name = lowered_name
        self._folder = tempfile.TemporaryDirectory(prefix="autotune-cubin-")
        path = os.path.join(self._folder.name, "kernel.cubin")
        with open(path, "wb") as stream:
            stream.write(cubin)
        self._module = cupy.RawModule(path=path)
        self._function = self._module.get_function(lowered_name)
        self._dynamic_shared_allowed = DEFAULT_DYNAMIC_SHARED_LIMIT
        self.attributes()  # loads the module now

    def attributes(self) -> dict[str, int]:
        """What the loaded function uses, as the driver reports it."""
        function = self._function
        return {
            "registers": int(function.num_regs),
            "shared_static_bytes": int(function.shared_size_bytes),
            "local_bytes": int(function.local_size_bytes),
            "const_bytes": int(function.const_size_bytes),
            "max_threads_per_block": int(function.max_threads_per_block),
        }

    def launch(
        self,
        grid: Sequence[int],
        block: Sequence[int],
        args: Sequence[Any],
        shared_mem: int = 0,
    ) -> None:
        """Queue one launch on the current stream. ``args`` are CuPy arrays and NumPy
        scalars of the kernel's parameter types (a Python int would be passed as a
        64-bit integer whatever the parameter). Raises CuPy's CUDA errors."""
        if shared_mem > self._dynamic_shared_allowed:
            # Opt in once per size: the attribute is a per-function driver call.
            self._function.max_dynamic_shared_size_bytes = shared_mem
            self._dynamic_shared_allowed = shared_mem
        self._function(tuple(grid), tuple(block), tuple(args), shared_mem=shared_mem)
