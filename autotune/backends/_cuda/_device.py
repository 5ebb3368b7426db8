"""Whether a CUDA GPU can be used here, and what it is (through CuPy, imported lazily).

:func:`gpu_unavailable_reason` is safe everywhere (no CuPy, no driver, no device): it
never raises and is computed once per process. The other functions need a GPU.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from autotune.backends._cuda._resources import SM90, DeviceLimits

INSTALL_HINT = "pip install 'autotune[gpu]'"


@cache
def gpu_unavailable_reason() -> str | None:
    """Why no CUDA GPU can be used in this process (no CuPy, no driver, no device), or
    None when device 0 can be used. Never raises; cached for the process.

    Asking the runtime for the device count initializes the driver but creates no
    context, so a process that asks may still start workers that use the GPU.
    """
    try:
        import cupy
    except ImportError as exc:
        return f"CuPy is not installed ({INSTALL_HINT}): {exc}"
    except Exception as exc:  # a broken install fails in many ways; all mean "no GPU"
        return f"CuPy failed to import: {type(exc).__name__}: {exc}"
    try:
        count = int(cupy.cuda.runtime.getDeviceCount())
    except Exception as exc:
        return f"no usable CUDA driver or device: {exc}"
    if count < 1:
        return "no CUDA device is visible"
    return None


def _version(encoded: int) -> str:
    """CUDA's integer versions (13000, 12080) as ``"13.0"``, ``"12.8"``."""
    return f"{encoded // 1000}.{encoded % 1000 // 10}"


def _attribute(device: int, name: str) -> int | None:
    """A device attribute by its ``cudaDevAttr*`` name; None where this CuPy or driver
    lacks it (attributes come and go between CUDA releases)."""
    from cupy.cuda import runtime

    try:
        return int(runtime.deviceGetAttribute(getattr(runtime, name), device))
    except Exception:
        return None


def _megahertz(kilohertz: int | None) -> float | None:
    return None if kilohertz is None else kilohertz / 1000.0


def device_facts(device: int = 0) -> dict[str, Any]:
    """The provenance of measurements on ``device``: name, compute capability (``"9.0"``),
    SM count, memory and L2 in bytes, clocks in MHz, driver and runtime versions, CuPy's
    version and the PCI bus id. GPU only."""
    import cupy
    from cupy.cuda import runtime

    props = runtime.getDeviceProperties(device)
    name = props["name"]
    return {
        "name": name.decode() if isinstance(name, bytes) else str(name),
        "compute_capability": f"{props['major']}.{props['minor']}",
        "arch": f"sm_{props['major']}{props['minor']}",
        "sm_count": int(props["multiProcessorCount"]),
        "memory_bytes": int(props["totalGlobalMem"]),
        "l2_bytes": _attribute(device, "cudaDevAttrL2CacheSize"),
        "sm_clock_mhz": _megahertz(_attribute(device, "cudaDevAttrClockRate")),
        "memory_clock_mhz": _megahertz(_attribute(device, "cudaDevAttrMemoryClockRate")),
        "memory_bus_bits": _attribute(device, "cudaDevAttrGlobalMemoryBusWidth"),
        "driver_version": _version(runtime.driverGetVersion()),
        "runtime_version": _version(runtime.runtimeGetVersion()),
        "cupy_version": cupy.__version__,
        "pci_bus_id": runtime.deviceGetPCIBusId(device),
    }


def device_arch(device: int = 0) -> str:
    """The real architecture to compile for, e.g. ``"sm_90"``. GPU only."""
    from cupy.cuda import runtime

    props = runtime.getDeviceProperties(device)
    return f"sm_{props['major']}{props['minor']}"


def device_limits(device: int = 0) -> DeviceLimits:
    """The device's launch and occupancy limits, read from its attributes. The register
    allocation unit, the sub-partitions and the register cap per thread are not
    attributes; they are taken from :data:`SM90` (the same on every GPU since Volta).
    GPU only."""

    def read(name: str, default: int) -> int:
        value = _attribute(device, name)
        return default if value is None else value

    return DeviceLimits(
        max_threads_per_block=read("cudaDevAttrMaxThreadsPerBlock", SM90.max_threads_per_block),
        max_registers_per_thread=SM90.max_registers_per_thread,
        registers_per_sm=read("cudaDevAttrMaxRegistersPerMultiprocessor", SM90.registers_per_sm),
        registers_per_block=read("cudaDevAttrMaxRegistersPerBlock", SM90.registers_per_block),
        register_allocation_unit=SM90.register_allocation_unit,
        register_sub_partitions=SM90.register_sub_partitions,
        max_static_shared_per_block=read(
            "cudaDevAttrMaxSharedMemoryPerBlock", SM90.max_static_shared_per_block
        ),
        max_shared_per_block_optin=read(
            "cudaDevAttrMaxSharedMemoryPerBlockOptin", SM90.max_shared_per_block_optin
        ),
        shared_per_sm=read("cudaDevAttrMaxSharedMemoryPerMultiprocessor", SM90.shared_per_sm),
        reserved_shared_per_block=read(
            "cudaDevAttrReservedSharedMemoryPerBlock", SM90.reserved_shared_per_block
        ),
        shared_allocation_unit=SM90.shared_allocation_unit,
        max_threads_per_sm=read("cudaDevAttrMaxThreadsPerMultiProcessor", SM90.max_threads_per_sm),
        max_blocks_per_sm=read("cudaDevAttrMaxBlocksPerMultiprocessor", SM90.max_blocks_per_sm),
        warp_size=read("cudaDevAttrWarpSize", SM90.warp_size),
    )
