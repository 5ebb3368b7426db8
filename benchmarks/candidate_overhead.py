"""Per-candidate overhead of the tuning loop: build + verify, excluding the kernel's own
run time, measured inside one worker-like process.

For each corpus kernel (small size) it builds ``--candidates`` random configs of its
search space with the Numba builder, verifies each on both input sets the way the
worker does, and subtracts the time of the two kernel calls verification makes (each
call timed separately, after verification). Prints the median and p90 per kernel and
over all candidates.

    python benchmarks/candidate_overhead.py [--candidates 20] [--size small]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--candidates", type=int, default=20)
    parser.add_argument("--size", default="small")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from autotune.backends._numba import NumbaBuilder
    from autotune.kernels import load_kernels
    from autotune.measure._verify import collect_outputs, compare_outputs, fresh_copy
    from autotune.passes import cpu_search_space

    builder = NumbaBuilder()
    everything: list[float] = []
    builds: list[float] = []
    for path in sorted((ROOT / "corpora" / "cpu").glob("*.py")):
        for decl in load_kernels(path):
            inputs = [decl.make_inputs(args.seed + i, args.size) for i in (0, 1)]
            baseline = builder.build_baseline(decl, inputs[0]).artifact
            expected = [collect_outputs(baseline, a, decl.outputs) for a in inputs]
            space = cpu_search_space(decl)
            rng = np.random.default_rng(args.seed)
            overheads = []
            for _ in range(args.candidates):
                config = space.sample(rng)
                started = time.perf_counter()
                built = builder.build(decl, config, inputs[0])
                build_s = time.perf_counter() - started
                if built.artifact is None:
                    continue
                for a, want in zip(inputs, expected, strict=True):
                    compare_outputs(
                        collect_outputs(built.artifact, a, decl.outputs),
                        want,
                        decl.outputs,
                        decl.rtol,
                        decl.atol,
                    )
                total = time.perf_counter() - started
                runs = 0.0
                for a in inputs:
                    call_args = fresh_copy(a)
                    t = time.perf_counter()
                    built.artifact(*call_args)
                    runs += time.perf_counter() - t
                overheads.append(total - runs)
                builds.append(build_s)
            everything.extend(overheads)
            print(
                f"{decl.name:16s} median {statistics.median(overheads) * 1e3:6.1f} ms  "
                f"p90 {sorted(overheads)[int(0.9 * len(overheads))] * 1e3:6.1f} ms  (n={len(overheads)})"
            )
    print(
        f"ALL              median {statistics.median(everything) * 1e3:6.1f} ms  "
        f"p90 {sorted(everything)[int(0.9 * len(everything))] * 1e3:6.1f} ms  (n={len(everything)}); "
        f"build alone median {statistics.median(builds) * 1e3:.1f} ms"
    )


if __name__ == "__main__":
    main()
