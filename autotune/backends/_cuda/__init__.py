"""The CUDA toolchain of the GPU backend, on primitive values (strings, bytes, ints).

* Compiling (no GPU needed): :func:`compile_cubin` with NVRTC, :class:`CompilePool` for
  many configs in worker processes, :class:`BinaryCache` for cubins on disk.
* Static checks (no GPU needed): :func:`parse_ptxas` reads the compiler's resource
  report, :func:`limits_violation` and :func:`occupancy` compare it with
  :class:`DeviceLimits` (:data:`SM90` for the H100).
* On a GPU (CuPy, imported lazily): :func:`gpu_unavailable_reason`, :func:`device_facts`,
  :class:`LoadedKernel`, :func:`time_paired_events`, :func:`roofline_references`.
"""

from __future__ import annotations

from autotune.backends._cuda._cache import BinaryCache, cache_key, default_cache_dir
from autotune.backends._cuda._device import (
    device_arch,
    device_facts,
    device_limits,
    gpu_unavailable_reason,
)
from autotune.backends._cuda._launch import LoadedKernel, sticky_error
from autotune.backends._cuda._nvrtc import (
    CompileOutput,
    compile_cubin,
    nvrtc_library,
    nvrtc_unavailable,
    nvrtc_version,
)
from autotune.backends._cuda._pool import CompileJob, CompilePool, compile_job
from autotune.backends._cuda._resources import (
    SM90,
    DeviceLimits,
    Resources,
    limits_for,
    limits_violation,
    occupancy,
    parse_ptxas,
)
from autotune.backends._cuda._timing import nvml_sample, roofline_references, time_paired_events

__all__ = [
    "SM90",
    "BinaryCache",
    "CompileJob",
    "CompileOutput",
    "CompilePool",
    "DeviceLimits",
    "LoadedKernel",
    "Resources",
    "cache_key",
    "compile_cubin",
    "compile_job",
    "default_cache_dir",
    "device_arch",
    "device_facts",
    "device_limits",
    "gpu_unavailable_reason",
    "limits_for",
    "limits_violation",
    "nvml_sample",
    "nvrtc_library",
    "nvrtc_unavailable",
    "nvrtc_version",
    "occupancy",
    "parse_ptxas",
    "roofline_references",
    "sticky_error",
    "time_paired_events",
]
