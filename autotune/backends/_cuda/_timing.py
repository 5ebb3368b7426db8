"""Timing kernels on the GPU with CUDA events, and the device's reference speeds.

GPU only; CuPy (and NVML, optionally) are imported inside the functions.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable, Sequence
from typing import Any

Run = Callable[[], None]


class _L2Flusher:
    """Evicts the L2 cache by writing a buffer twice its size (read from the device)."""

    def __init__(self) -> None:
        import cupy
        from cupy.cuda import runtime

        device = cupy.cuda.Device().id
        l2_bytes = int(runtime.deviceGetAttribute(runtime.cudaDevAttrL2CacheSize, device))
        self.nbytes = max(2 * l2_bytes, 1 << 20)
        self.buffer = cupy.empty(self.nbytes, dtype=cupy.uint8)
        self._value = 0

    def flush(self) -> None:
        # A new value each time, so no layer can skip a write of unchanged bytes.
        self._value = (self._value + 1) % 256
        self.buffer.data.memset_async(self._value, self.nbytes)


def time_paired_events(
    run_a: Run,
    run_b: Run,
    warmup: int,
    rounds: int,
    reps: int,
    flush_l2: bool,
) -> tuple[list[list[float]], list[list[float]]]:
    """Time ``run_a`` and ``run_b`` (each queues one launch on the current stream)
    interleaved, in seconds per call: ``rounds`` lists of ``reps`` times for each.

    Within a round the calls alternate (ABAB...), and which one goes first alternates
    from round to round, so clock and thermal drift fall on both alike. Each call is
    bracketed by its own pair of CUDA events; with ``flush_l2`` a buffer larger than the
    L2 cache is written before every call, outside the events. ``warmup`` untimed calls
    of each come first. Every round ends with a device synchronization, so a failed
    launch raises CuPy's CUDA error here rather than in a later call.
    """
    import cupy

    flusher = _L2Flusher() if flush_l2 else None
    device = cupy.cuda.Device()
    for _ in range(warmup):
        run_a()
        run_b()
    device.synchronize()
    events = [(cupy.cuda.Event(), cupy.cuda.Event()) for _ in range(2 * reps)]
    times_a: list[list[float]] = []
    times_b: list[list[float]] = []
    for round_index in range(rounds):
        order = (run_a, run_b) if round_index % 2 == 0 else (run_b, run_a)
        for rep in range(reps):
            for slot, run in enumerate(order):
                if flusher is not None:
                    flusher.flush()
                start, end = events[2 * rep + slot]
                start.record()
                run()
                end.record()
        device.synchronize()
        first = [_elapsed_s(*events[2 * rep]) for rep in range(reps)]
        second = [_elapsed_s(*events[2 * rep + 1]) for rep in range(reps)]
        a, b = (first, second) if round_index % 2 == 0 else (second, first)
        times_a.append(a)
        times_b.append(b)
    return times_a, times_b


def _elapsed_s(start: Any, end: Any) -> float:
    import cupy

    return float(cupy.cuda.get_elapsed_time(start, end)) / 1e3


def nvml_sample(device: int = 0) -> dict[str, float] | None:
    """The device's SM clock (MHz), temperature (C) and power draw (W) now, read with
    NVML (``nvidia-ml-py``); None when NVML is not installed or does not answer.

    The device is found by its PCI bus id, since NVML numbers devices without regard to
    ``CUDA_VISIBLE_DEVICES``."""
    try:
        import pynvml
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
        handle = _nvml_handle(pynvml, device)
        return {
            "sm_clock_mhz": float(pynvml.nvmlDeviceGetClockInfo(handle, pynvml.NVML_CLOCK_SM)),
            "temperature_c": float(
                pynvml.nvmlDeviceGetTemperature(handle, pynvml.NVML_TEMPERATURE_GPU)
            ),
            "power_w": pynvml.nvmlDeviceGetPowerUsage(handle) / 1000.0,
        }
    except Exception:  # NVMLError, or no driver at all: no sample, not a failure
        return None


def _nvml_handle(pynvml: Any, device: int) -> Any:
    try:
        from cupy.cuda import runtime

        bus_id = runtime.deviceGetPCIBusId(device)
    except Exception:
        return pynvml.nvmlDeviceGetHandleByIndex(device)
    return pynvml.nvmlDeviceGetHandleByPciBusId(bus_id)


def _summary(samples: Sequence[float]) -> dict[str, float]:
    median = statistics.median(samples)
    return {
        "median": median,
        "min": min(samples),
        "max": max(samples),
        "spread": (max(samples) - min(samples)) / median if median else 0.0,
        "samples": float(len(samples)),
    }


def _time_calls(run: Run, warmup: int, repeats: int) -> list[float]:
    """Seconds per call of ``run``, one event pair per call, after ``warmup`` calls."""
    import cupy

    for _ in range(warmup):
        run()
    cupy.cuda.Device().synchronize()
    times = []
    for _ in range(repeats):
        start, end = cupy.cuda.Event(), cupy.cuda.Event()
        start.record()
        run()
        end.record()
        end.synchronize()
        times.append(_elapsed_s(start, end))
    return times


def roofline_references(
    copy_bytes: int = 1 << 30, gemm_n: int = 4096, repeats: int = 10
) -> dict[str, Any]:
    """The device's measured ceilings, to put kernel speeds in proportion:
    device-to-device copy bandwidth (GB/s, counting the bytes read and written, of a
    ``copy_bytes`` array) and cuBLAS SGEMM through ``cupy.matmul`` on float32
    ``gemm_n``-cubed (TFLOP/s at 2n^3 flops), each as median, min, max and relative
    spread of ``repeats`` timed calls. GPU only; frees what it allocated."""
    import cupy

    count = copy_bytes // 4
    copy_s = _copy_seconds(count, repeats)
    gemm_s = _sgemm_seconds(gemm_n, repeats)
    cupy.get_default_memory_pool().free_all_blocks()
    return {
        "copy_gbps": _summary([2 * count * 4 / t / 1e9 for t in copy_s]),
        "copy_bytes": count * 4,
        "sgemm_tflops": _summary([2 * gemm_n**3 / t / 1e12 for t in gemm_s]),
        "sgemm_n": gemm_n,
        # CuPy runs float32 matmul on TF32 tensor cores when CUPY_TF32 is set.
        "sgemm_tf32": os.environ.get("CUPY_TF32", "0") not in ("", "0"),
    }


def _copy_seconds(count: int, repeats: int) -> list[float]:
    """Seconds per device-to-device copy of ``count`` float32 values."""
    import cupy

    source = cupy.ones(count, dtype=cupy.float32)
    target = cupy.empty_like(source)
    return _time_calls(lambda: cupy.copyto(target, source), 2, repeats)


def _sgemm_seconds(n: int, repeats: int) -> list[float]:
    """Seconds per float32 ``n``-cubed product through ``cupy.matmul`` (cuBLAS)."""
    import cupy

    a = cupy.random.random((n, n), dtype=cupy.float32)
    b = cupy.random.random((n, n), dtype=cupy.float32)
    c = cupy.empty_like(a)
    return _time_calls(lambda: cupy.matmul(a, b, out=c), 2, repeats)
