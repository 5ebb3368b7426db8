"""What a compiled kernel uses (from the ptxas report) and what a GPU allows.

Everything here is pure arithmetic on the compiler's report and a table of device
limits, so it runs without a GPU: a config that cannot launch is rejected before it is
ever loaded, and the theoretical occupancy is a feature for cost models.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from typing import Any

_ENTRY_HEADER = re.compile(r"Compiling entry function '([^']+)'")
_USED_LINE = re.compile(r"Used (\d+) registers([^\n]*)")
_SMEM = re.compile(r"(\d+) bytes smem")
_CMEM = re.compile(r"(\d+) bytes cmem\[\d+\]")
_STACK = re.compile(r"(\d+) bytes stack frame")
_SPILL_STORES = re.compile(r"(\d+) bytes spill stores")
_SPILL_LOADS = re.compile(r"(\d+) bytes spill loads")


@dataclass(frozen=True, slots=True)
class Resources:
    """Per-kernel resources from ptxas: registers per thread, spills, stack frame,
    static shared memory and constant banks (all in bytes but ``registers``)."""

    registers: int
    spill_store_bytes: int = 0
    spill_load_bytes: int = 0
    stack_bytes: int = 0
    shared_static_bytes: int = 0
    #: Sum of the constant banks ptxas lists (``cmem[N]``); recent ptxas lists none.
    const_bytes: int = 0

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Resources:
        return cls(**{name: int(data[name]) for name in cls.__dataclass_fields__ if name in data})


def entry_names(log: str) -> list[str]:
    """The (lowered) names of every kernel the ptxas report lists, in report order."""
    return _ENTRY_HEADER.findall(log)


def parse_ptxas(log: str, lowered_name: str) -> Resources | None:
    """The resources of entry ``lowered_name`` in a ``-v`` ptxas report, or None when the
    report does not list that entry (no ``-v``, a failed compile, another name).

    The report is read block by block, so the other kernels of the same module never
    leak into the result. Numbers ptxas leaves out (no spills line, no ``smem``) are 0.
    """
    block = _entry_block(log, lowered_name)
    if block is None:
        return None
    used = _USED_LINE.search(block)
    if used is None:
        return None
    usage = used.group(2)
    properties = _properties_text(block, lowered_name)
    return Resources(
        registers=int(used.group(1)),
        spill_store_bytes=_first_int(_SPILL_STORES, properties),
        spill_load_bytes=_first_int(_SPILL_LOADS, properties),
        stack_bytes=_first_int(_STACK, properties),
        shared_static_bytes=_first_int(_SMEM, usage),
        const_bytes=sum(int(size) for size in _CMEM.findall(usage)),
    )


def _entry_block(log: str, lowered_name: str) -> str | None:
    """The report text from the entry's ``Compiling entry function`` line to the next."""
    headers = list(_ENTRY_HEADER.finditer(log))
    for index, header in enumerate(headers):
        if header.group(1) != lowered_name:
            continue
        end = headers[index + 1].start() if index + 1 < len(headers) else len(log)
        return log[header.start() : end]
    return None


def _properties_text(block: str, lowered_name: str) -> str:
    """The ``Function properties for NAME`` line of the entry and the line after it
    (NVRTC writes the numbers on the next line). Device functions that were not inlined
    get their own properties lines, which must not be read as the entry's."""
    marker = f"Function properties for {lowered_name}"
    start = block.find(marker)
    if start < 0:
        return ""
    lines = block[start:].splitlines()
    return "\n".join(lines[:2])


def _first_int(pattern: re.Pattern[str], text: str) -> int:
    found = pattern.search(text)
    return int(found.group(1)) if found else 0


@dataclass(frozen=True, slots=True)
class DeviceLimits:
    """The per-block and per-SM limits that decide whether a launch runs and how many
    blocks share an SM. Shared memory sizes are in bytes."""

    max_threads_per_block: int
    max_registers_per_thread: int
    registers_per_sm: int
    registers_per_block: int
    #: Registers are allocated per warp in units of this many.
    register_allocation_unit: int
    #: The register file is split among this many SM sub-partitions (warp schedulers);
    #: a warp's registers come from one of them, so warps fit per sub-partition.
    register_sub_partitions: int
    max_static_shared_per_block: int
    max_shared_per_block_optin: int
    shared_per_sm: int
    #: Shared memory the driver reserves for itself in every block.
    reserved_shared_per_block: int
    shared_allocation_unit: int
    max_threads_per_sm: int
    max_blocks_per_sm: int
    warp_size: int

    @property
    def max_warps_per_sm(self) -> int:
        return self.max_threads_per_sm // self.warp_size


# Compute capability 9.0 (H100). Source: NVIDIA's CUDA C++ Programming Guide, table
# "Technical Specifications per Compute Capability" (threads, registers, shared memory,
# resident blocks and warps); the allocation units, the 4 sub-partitions and the 1 KiB
# reserved per block are those of the CUDA Occupancy Calculator (cuda_occupancy.h).
SM90 = DeviceLimits(
    max_threads_per_block=1024,
    max_registers_per_thread=255,
    registers_per_sm=65536,
    registers_per_block=65536,
    register_allocation_unit=256,
    register_sub_partitions=4,
    max_static_shared_per_block=48 * 1024,
    max_shared_per_block_optin=227 * 1024,
    shared_per_sm=228 * 1024,
    reserved_shared_per_block=1024,
    shared_allocation_unit=128,
    max_threads_per_sm=2048,
    max_blocks_per_sm=32,
    warp_size=32,
)


# Earlier Ampere and Ada chips, from the same table: fewer resident warps and blocks and
# less shared memory per SM than Hopper.
SM80 = replace(SM90, shared_per_sm=164 * 1024, max_shared_per_block_optin=163 * 1024)  # A100
SM86 = replace(
    SM90,
    shared_per_sm=100 * 1024,
    max_shared_per_block_optin=99 * 1024,
    max_threads_per_sm=1536,
    max_blocks_per_sm=16,
)
SM89 = replace(SM86, max_blocks_per_sm=24)

_LIMITS_BY_ARCH = {"sm_80": SM80, "sm_86": SM86, "sm_89": SM89, "sm_90": SM90}


def limits_for(arch: str) -> DeviceLimits:
    """The limits of a real architecture (``"sm_90"``; an ``a``/``f`` suffix is the same
    chip). Raises KeyError for an architecture without a table here; on a GPU,
    :func:`~autotune.backends._cuda.device_limits` reads the device itself."""
    base = arch.rstrip("af") if arch.startswith("sm_") else arch
    if base not in _LIMITS_BY_ARCH:
        raise KeyError(f"no device limits for {arch!r}; known: {sorted(_LIMITS_BY_ARCH)}")
    return _LIMITS_BY_ARCH[base]


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _round_up(value: int, unit: int) -> int:
    return _ceil_div(value, unit) * unit


def _registers_per_warp(registers: int, limits: DeviceLimits) -> int:
    return _round_up(registers * limits.warp_size, limits.register_allocation_unit)


def limits_violation(
    resources: Resources | None,
    threads_per_block: int,
    dynamic_shared_bytes: int,
    limits: DeviceLimits = SM90,
) -> str | None:
    """Why a block of ``threads_per_block`` threads with this much dynamic shared
    memory cannot launch on a device with ``limits``, or None when it can.

    Without ``resources`` (no ptxas report) only the thread count and the dynamic
    shared memory are checked. Dynamic shared memory above the static limit needs the
    kernel's opt-in attribute, which the launcher sets; only the opt-in maximum is a
    hard limit here.
    """
    if threads_per_block < 1:
        return f"threads per block must be positive, got {threads_per_block}"
    if threads_per_block > limits.max_threads_per_block:
        return f"{threads_per_block} threads per block > {limits.max_threads_per_block}"
    if dynamic_shared_bytes < 0:
        return f"dynamic shared memory must not be negative, got {dynamic_shared_bytes}"
    res = resources or Resources(registers=0)
    if res.registers > limits.max_registers_per_thread:
        return f"{res.registers} registers per thread > {limits.max_registers_per_thread}"
    block_registers = _registers_per_block_checked(res.registers, threads_per_block, limits)
    if block_registers > limits.registers_per_block:
        return (
            f"{res.registers} registers x {threads_per_block} threads need {block_registers} "
            f"registers per block > {limits.registers_per_block}"
        )
    if res.shared_static_bytes > limits.max_static_shared_per_block:
        return (
            f"{res.shared_static_bytes} bytes of static shared memory > "
            f"{limits.max_static_shared_per_block}"
        )
    shared = res.shared_static_bytes + dynamic_shared_bytes
    if shared > limits.max_shared_per_block_optin:
        return (
            f"{res.shared_static_bytes} static + {dynamic_shared_bytes} dynamic bytes of "
            f"shared memory > {limits.max_shared_per_block_optin} per block"
        )
    return None


def _registers_per_block_checked(registers: int, threads: int, limits: DeviceLimits) -> int:
    """The registers the hardware's launch check charges a block: per-warp allocation,
    with the warp count rounded up to the sub-partitions (the check assumes a block
    takes registers in all sub-partitions at once)."""
    warps = _ceil_div(threads, limits.warp_size)
    charged_warps = _round_up(warps, limits.register_sub_partitions)
    return _registers_per_warp(registers, limits) * charged_warps


def occupancy(
    resources: Resources | None,
    threads_per_block: int,
    dynamic_shared_bytes: int,
    limits: DeviceLimits = SM90,
) -> float:
    """Theoretical occupancy: resident warps per SM / the SM's maximum warps, in [0, 1].

    The resident blocks per SM are the fewest that the warp slots, the block slots, the
    registers (allocated per warp, per sub-partition) and the shared memory (the whole
    SM as carve-out, with the driver's reserve per block) allow. 0.0 when the launch
    violates a limit (:func:`limits_violation`).
    """
    if limits_violation(resources, threads_per_block, dynamic_shared_bytes, limits):
        return 0.0
    res = resources or Resources(registers=0)
    warps = _ceil_div(threads_per_block, limits.warp_size)
    blocks = min(
        limits.max_warps_per_sm // warps,
        limits.max_blocks_per_sm,
        _blocks_by_registers(res.registers, warps, limits),
        _blocks_by_shared(res.shared_static_bytes + dynamic_shared_bytes, limits),
    )
    return blocks * warps / limits.max_warps_per_sm


def _blocks_by_registers(registers: int, warps: int, limits: DeviceLimits) -> int:
    if registers == 0:
        return limits.max_blocks_per_sm
    per_partition = limits.registers_per_sm // limits.register_sub_partitions
    warps_per_partition = per_partition // _registers_per_warp(registers, limits)
    return warps_per_partition * limits.register_sub_partitions // warps


def _blocks_by_shared(shared_bytes: int, limits: DeviceLimits) -> int:
    per_block = _round_up(
        shared_bytes + limits.reserved_shared_per_block, limits.shared_allocation_unit
    )
    return limits.shared_per_sm // per_block if per_block else limits.max_blocks_per_sm
