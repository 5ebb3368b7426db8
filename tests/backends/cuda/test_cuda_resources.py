"""The ptxas report parser and the launch-limit and occupancy arithmetic (no GPU, no
NVRTC): fixed example reports and hand-computed H100 cases."""

from __future__ import annotations

import pytest

from autotune.backends._cuda import (
    SM90,
    Resources,
    limits_for,
    limits_violation,
    occupancy,
    parse_ptxas,
)
from autotune.backends._cuda._resources import entry_names

# NVRTC 13.x, two kernels; the first with a template's mangled name.
NVRTC_13_TWO_KERNELS = """\
ptxas info    : 0 bytes gmem
ptxas info    : Compiling entry function '_Z5sgemmILi64ELi128EEvPf' for 'sm_90'
ptxas info    : Function properties for _Z5sgemmILi64ELi128EEvPf
ptxas         .     0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Used 10 registers, used 1 barriers, 512 bytes smem
ptxas info    : Compile time = 3.862 ms
ptxas info    : Compiling entry function '_Z5otherPf' for 'sm_90'
ptxas info    : Function properties for _Z5otherPf
ptxas         .     0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Used 8 registers, used 0 barriers
ptxas info    : Compile time = 1.565 ms
"""

# A spilling kernel that calls a device function that was not inlined: the helper's
# properties come first in the entry's block and must not be read as the entry's.
NVRTC_13_SPILLS = """\
ptxas info    : 0 bytes gmem
ptxas info    : Compiling entry function 'sgemm' for 'sm_90'
ptxas info    : Function properties for _Z6helperPf
ptxas         .     48 bytes stack frame, 8 bytes spill stores, 12 bytes spill loads
ptxas info    : Function properties for sgemm
ptxas         .     784 bytes stack frame, 2796 bytes spill stores, 2632 bytes spill loads
ptxas info    : Used 64 registers, used 1 barriers, 784 bytes cumulative stack size, 32768 bytes smem
ptxas info    : Compile time = 512.000 ms
ptxas info    : Compiling entry function 'reduce_final' for 'sm_90'
ptxas info    : Function properties for reduce_final
ptxas         .     0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Used 16 registers, used 1 barriers, 4096 bytes smem
ptxas info    : Compile time = 2.000 ms
"""

# The format of earlier ptxas releases (nvcc -Xptxas -v): numbers on an indented line,
# constant banks listed on the registers line.
OLDER_PTXAS = """\
ptxas info    : 0 bytes gmem, 72 bytes cmem[3]
ptxas info    : Compiling entry function '_Z6kernelPfS_i' for 'sm_80'
ptxas info    : Function properties for _Z6kernelPfS_i
    16 bytes stack frame, 4 bytes spill stores, 8 bytes spill loads
ptxas info    : Used 32 registers, 2048 bytes smem, 372 bytes cmem[0], 8 bytes cmem[2]
"""


def test_parses_the_named_entry_of_two():
    assert entry_names(NVRTC_13_TWO_KERNELS) == ["_Z5sgemmILi64ELi128EEvPf", "_Z5otherPf"]
    assert parse_ptxas(NVRTC_13_TWO_KERNELS, "_Z5sgemmILi64ELi128EEvPf") == Resources(
        registers=10, shared_static_bytes=512
    )
    assert parse_ptxas(NVRTC_13_TWO_KERNELS, "_Z5otherPf") == Resources(registers=8)


def test_parses_spills_of_the_entry_not_of_its_helper():
    assert parse_ptxas(NVRTC_13_SPILLS, "sgemm") == Resources(
        registers=64,
        spill_store_bytes=2796,
        spill_load_bytes=2632,
        stack_bytes=784,
        shared_static_bytes=32768,
    )
    assert parse_ptxas(NVRTC_13_SPILLS, "reduce_final") == Resources(
        registers=16, shared_static_bytes=4096
    )


def test_parses_the_older_format_with_constant_banks():
    assert parse_ptxas(OLDER_PTXAS, "_Z6kernelPfS_i") == Resources(
        registers=32,
        spill_store_bytes=4,
        spill_load_bytes=8,
        stack_bytes=16,
        shared_static_bytes=2048,
        const_bytes=380,
    )


@pytest.mark.parametrize("log", ["", "error: something", NVRTC_13_TWO_KERNELS])
def test_unknown_entry_gives_none(log):
    assert parse_ptxas(log, "missing") is None


def test_resources_round_trip_through_a_dict():
    resources = parse_ptxas(NVRTC_13_SPILLS, "sgemm")
    assert resources is not None
    assert Resources.from_dict(resources.to_dict()) == resources


def regs(n: int, shared: int = 0) -> Resources:
    return Resources(registers=n, shared_static_bytes=shared)


# (registers, static shared, threads, dynamic shared, occupancy), by hand for SM90:
# registers per warp = ceil(regs * 32 / 256) * 256; warps per SM from registers =
# 4 * floor(16384 / registers per warp); blocks = min(64 // warps, 32, registers,
# 233472 // roundup(shared + 1024, 128)).
OCCUPANCY_CASES = [
    (32, 0, 256, 0, 1.0),  # 1024 regs/warp -> 64 warps: 8 blocks of 8 warps
    (64, 0, 256, 0, 0.5),  # 2048 regs/warp -> 32 warps: 4 blocks
    (120, 0, 128, 0, 0.25),  # 3840 regs/warp -> 4 per sub-partition -> 16 warps
    (64, 0, 1024, 0, 0.5),  # one block of 32 warps
    (255, 0, 256, 0, 0.125),  # 8192 regs/warp -> 8 warps: 1 block
    (16, 48 * 1024, 128, 0, 0.25),  # (49152 + 1024) -> 4 blocks of 4 warps
    (16, 0, 128, 100 * 1024, 0.125),  # (102400 + 1024) -> 2 blocks of 4 warps
    (16, 0, 32, 0, 0.5),  # 32 blocks of 1 warp: the block limit
    (16, 0, 96, 0, 63 / 64),  # 21 blocks of 3 warps
]


@pytest.mark.parametrize(("registers", "shared", "threads", "dynamic", "expected"), OCCUPANCY_CASES)
def test_occupancy_hand_computed(registers, shared, threads, dynamic, expected):
    assert occupancy(regs(registers, shared), threads, dynamic, SM90) == pytest.approx(expected)


def test_occupancy_without_resources_counts_threads_only():
    assert occupancy(None, 1024, 0) == 1.0
    assert occupancy(None, 1025, 0) == 0.0


@pytest.mark.parametrize(
    ("resources", "threads", "dynamic", "fragment"),
    [
        (regs(16), 0, 0, "must be positive"),
        (regs(16), 1025, 0, "1025 threads per block > 1024"),
        (regs(65), 1024, 0, "registers per block > 65536"),  # 2304 x 32 warps
        # 80 registers: 2560 per warp; 25 warps fit (64000) but the hardware check
        # rounds to 28 warps (71680).
        (regs(80), 800, 0, "registers per block > 65536"),
        (regs(16, 48 * 1024 + 1), 128, 0, "static shared memory > 49152"),
        (regs(16, 16 * 1024), 128, 220 * 1024, "dynamic bytes of shared memory > 232448"),
        (regs(16), 128, -1, "must not be negative"),
    ],
)
def test_limits_violation_reasons(resources, threads, dynamic, fragment):
    reason = limits_violation(resources, threads, dynamic, SM90)
    assert reason is not None and fragment in reason
    assert occupancy(resources, threads, dynamic, SM90) == 0.0


@pytest.mark.parametrize(
    ("resources", "threads", "dynamic"),
    [
        (regs(64), 1024, 0),
        (regs(255), 256, 0),
        (regs(16, 48 * 1024), 128, 0),
        (regs(16), 128, 200 * 1024),  # dynamic shared memory above 48 KiB is opt-in
        (None, 1024, 0),
    ],
)
def test_launches_within_limits(resources, threads, dynamic):
    assert limits_violation(resources, threads, dynamic, SM90) is None


def test_limits_by_architecture():
    assert limits_for("sm_90") is SM90 and limits_for("sm_90a") is SM90
    with pytest.raises(KeyError, match="sm_70"):
        limits_for("sm_70")
    # Ada: 48 warps per SM, so one 1024-thread block fills two thirds of it.
    assert occupancy(regs(32), 1024, 0, limits_for("sm_89")) == pytest.approx(32 / 48)
    assert occupancy(regs(32), 256, 0, limits_for("sm_86")) == 1.0
