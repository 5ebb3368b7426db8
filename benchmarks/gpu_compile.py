"""Compile throughput of CUDA kernel configs without a GPU: a pool of P workers against 1.

Compiles the same ``--configs`` configurations of a small register-blocked SGEMM
(parameters BM, BN, BK, TM, TN as ``-D`` defines) for ``--arch`` with NVRTC, once with a
``CompilePool`` of 1 process and once with ``--processes``, each on a cold (temporary)
cubin cache. Worker start-up is excluded: each pool first compiles one warm-up job per
process. Each pool runs ``--repeats`` times, the two alternating; prints the median
configs/second of each pool, their ratio and the machine's load.

``--source FILE --entry NAME`` compiles your own kernel instead; it receives the same
``-D`` defines (unused ones are harmless, but each config is still a distinct compile).

    python benchmarks/gpu_compile.py [--configs 24] [--processes 2] [--repeats 3] [--json PATH]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

SGEMM = r"""
// C = A @ B for row-major float32 matrices whose sizes are multiples of the tiles.
// A block computes a BM x BN tile of C; each thread a TM x TN sub-tile, from BK-deep
// slices of A (stored transposed) and B staged in shared memory.
extern "C" __global__ void __launch_bounds__((BM / TM) * (BN / TN))
sgemm(const float* __restrict__ A, const float* __restrict__ B, float* __restrict__ C,
      int M, int N, int K)
{
    __shared__ float a_tile[BK][BM];
    __shared__ float b_tile[BK][BN];
    const int threads = (BM / TM) * (BN / TN);
    const int col = threadIdx.x % (BN / TN);
    const int row = threadIdx.x / (BN / TN);
    const float* a = A + blockIdx.y * BM * K;
    const float* b = B + blockIdx.x * BN;
    float acc[TM][TN] = {};
    for (int k0 = 0; k0 < K; k0 += BK) {
        for (int i = threadIdx.x; i < BM * BK; i += threads)
            a_tile[i % BK][i / BK] = a[(i / BK) * K + k0 + i % BK];
        for (int i = threadIdx.x; i < BK * BN; i += threads)
            b_tile[i / BN][i % BN] = b[(k0 + i / BN) * N + i % BN];
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < BK; ++kk) {
            float a_reg[TM], b_reg[TN];
#pragma unroll
            for (int m = 0; m < TM; ++m) a_reg[m] = a_tile[kk][row * TM + m];
#pragma unroll
            for (int n = 0; n < TN; ++n) b_reg[n] = b_tile[kk][col * TN + n];
#pragma unroll
            for (int m = 0; m < TM; ++m)
#pragma unroll
                for (int n = 0; n < TN; ++n) acc[m][n] += a_reg[m] * b_reg[n];
        }
        __syncthreads();
    }
    float* c = C + (blockIdx.y * BM + row * TM) * N + blockIdx.x * BN + col * TN;
    for (int m = 0; m < TM; ++m)
        for (int n = 0; n < TN; ++n) c[m * N + n] = acc[m][n];
}
"""


def sgemm_configs(count: int) -> list[dict[str, int]]:
    """``count`` valid configs (threads per block in [32, 1024], static shared memory
    within 48 KiB), the same ones on every run."""
    valid = []
    for bm, bn, bk, tm, tn in itertools.product(
        (32, 64, 128), (32, 64, 128), (8, 16), (4, 8), (4, 8)
    ):
        threads = (bm // tm) * (bn // tn)
        shared = bk * (bm + bn) * 4
        if 32 <= threads <= 1024 and shared <= 48 * 1024:
            valid.append({"BM": bm, "BN": bn, "BK": bk, "TM": tm, "TN": tn})
    # A fixed shuffle, so a short run is not all small tiles.
    random.Random(0).shuffle(valid)
    return valid[:count]


def measure_pool(
    processes: int, source: str, entry: str, configs: list[dict[str, int]], arch: str
) -> dict[str, Any]:
    """Compile every config with a fresh pool and a cold cache; seconds and rates."""
    from autotune.backends._cuda import BinaryCache, CompileJob, CompilePool

    jobs = [
        CompileJob(source, entry, ["-std=c++17", *(f"-D{k}={v}" for k, v in c.items())], arch)
        for c in configs
    ]
    warmups = [
        CompileJob(source, entry, ["-std=c++17", f"-DWARMUP={i}", *jobs[0].options[1:]], arch)
        for i in range(processes)
    ]
    with tempfile.TemporaryDirectory(prefix="gpu-compile-cache-") as folder:
        cache = BinaryCache(folder)
        started = time.perf_counter()
        with CompilePool(processes, cache) as pool:
            pool.compile_many(warmups)
            ready = time.perf_counter()
            outputs = pool.compile_many(jobs)
            wall_s = time.perf_counter() - ready
    errors = [o.error for o in outputs if o.error]
    return {
        "processes": processes,
        "startup_s": round(ready - started, 3),
        "wall_s": round(wall_s, 3),
        "configs_per_s": round(len(jobs) / wall_s, 3),
        "compile_s_sum": round(sum(o.compile_s for o in outputs), 3),
        "cache_hits": sum(o.from_cache for o in outputs),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", type=int, default=24, help="configs to compile")
    parser.add_argument("--processes", type=int, default=2, help="workers of the larger pool")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each pool, alternated")
    parser.add_argument("--arch", default="sm_90")
    parser.add_argument("--source", type=Path, help="a .cu file instead of the built-in SGEMM")
    parser.add_argument("--entry", default="sgemm", help="the kernel's name in --source")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()

    from autotune.backends._cuda import nvrtc_library, nvrtc_unavailable, nvrtc_version

    reason = nvrtc_unavailable()
    if reason:
        raise SystemExit(f"cannot compile: {reason}")
    source = args.source.read_text() if args.source else SGEMM
    configs = sgemm_configs(args.configs)
    sizes = (1, args.processes)
    load_before = os.getloadavg()
    runs: dict[int, list[dict[str, Any]]] = {size: [] for size in sizes}
    for repeat in range(args.repeats):
        # Alternate which pool goes first, so drift in the machine's load hits both.
        for size in sizes if repeat % 2 == 0 else sizes[::-1]:
            runs[size].append(measure_pool(size, source, args.entry, configs, args.arch))
    load_after = os.getloadavg()
    rates = {size: statistics.median(r["configs_per_s"] for r in runs[size]) for size in sizes}
    ratio = rates[args.processes] / rates[1]
    for size in sizes:
        each = ", ".join(f"{r['configs_per_s']:.2f}" for r in runs[size])
        errors = sum(r["errors"] for r in runs[size])
        print(
            f"pool of {size}: median {rates[size]:.2f} configs/s over {args.repeats} runs of "
            f"{len(configs)} configs ({each}; errors {errors})"
        )
    print(f"pool of {args.processes} / pool of 1 (medians): {ratio:.2f}x")
    print(
        f"NVRTC {nvrtc_version()}, {args.arch}, {os.cpu_count()} CPUs, load average "
        f"{load_before[0]:.2f} before, {load_after[0]:.2f} after"
    )
    if args.json:
        report = {
            "configs": len(configs),
            "arch": args.arch,
            "nvrtc_version": nvrtc_version(),
            "nvrtc_library": nvrtc_library(),
            "cpus": os.cpu_count(),
            "loadavg_before": load_before,
            "loadavg_after": load_after,
            "median_configs_per_s": {str(size): rates[size] for size in sizes},
            "speedup": round(ratio, 3),
            "runs": {str(size): runs[size] for size in sizes},
        }
        args.json.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
