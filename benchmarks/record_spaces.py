"""Record exhaustive CPU search spaces as space files for replay.

Each recipe crosses a corpus kernel's own parameters with a few pipeline options and
flags (200 to 1,000 configs), measured at a size where one config costs well under a
second, every config verified and timed against the interleaved baseline. Files go to
``corpora/spaces/cpu/<name>.json``; an interrupted recording resumes.

    python benchmarks/record_spaces.py [NAME ...]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from autotune.measure._record import SpaceRecipe, record_space
from autotune.records import TimingSettings

ROOT = Path(__file__).resolve().parents[1]
CPU = ROOT / "corpora" / "cpu"
OUT = ROOT / "corpora" / "spaces" / "cpu"

PIPELINE = {
    "pipeline.speed_level": {"choices": [3, 2, 1]},
    "pipeline.loop_vectorization": {"choices": [True, False]},
    "pipeline.slp_vectorization": {"choices": [False, True]},
}
FASTMATH = {"flags.fastmath": {"choices": ["off", "all"]}}
WHOLE_PIPELINE = {
    "pipeline.speed_level": {"choices": [3, 2, 1, 0]},
    "pipeline.loop_vectorization": {"choices": [True, False]},
    "pipeline.slp_vectorization": {"choices": [False, True]},
    "pipeline.loop_interleaving": {"choices": [True, False]},
    "pipeline.loop_unrolling": {"choices": [True, False]},
    **FASTMATH,
    "flags.error_model": {"choices": ["python", "numpy"]},
}

RECIPES = {
    "matmul_tiled": SpaceRecipe(
        str(CPU / "matmul_tiled.py"), "matmul_tiled", "small", {**PIPELINE, **FASTMATH}
    ),
    "dot_unrolled": SpaceRecipe(
        str(CPU / "dot_unrolled.py"), "dot_unrolled", "small", {**PIPELINE, **FASTMATH}
    ),
    "transpose_blocked": SpaceRecipe(
        str(CPU / "transpose_blocked.py"),
        "transpose_blocked",
        "small",
        {**PIPELINE, "pipeline.loop_unrolling": {"choices": [True, False]}},
    ),
    "jacobi2d_tiled": SpaceRecipe(
        str(CPU / "jacobi2d_tiled.py"), "jacobi2d_tiled", "small", {**PIPELINE, **FASTMATH}
    ),
    "histogram_private": SpaceRecipe(
        str(CPU / "histogram_private.py"),
        "histogram_private",
        "small",
        {
            **PIPELINE,
            "pipeline.loop_unrolling": {"choices": [True, False]},
            "flags.error_model": {"choices": ["python", "numpy"]},
        },
    ),
    # Kernels without parameters of their own: every pipeline switch and flag. These
    # two were recorded after the default strategy was chosen, to check it on spaces
    # it was not tuned on.
    "conv1d": SpaceRecipe(str(CPU / "conv1d.py"), "conv1d", "small", WHOLE_PIPELINE),
    "conv2d": SpaceRecipe(str(CPU / "conv2d.py"), "conv2d", "small", WHOLE_PIPELINE),
}

#: Search-phase settings, a little lighter: every config is measured once, for replay.
SETTINGS = TimingSettings(
    min_rounds=3, max_rounds=5, samples_per_round=3, min_sample_s=0.005, max_time_s=0.6
)


def main(names: list[str]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name in names or list(RECIPES):
        started = time.perf_counter()

        def progress(i: int, n: int, result, name=name, started=started) -> None:
            if i % 25 == 0 or i == n:
                print(f"{name}: {i}/{n} configs, {time.perf_counter() - started:.0f} s", flush=True)

        data = record_space(RECIPES[name], OUT / f"{name}.json", SETTINGS, progress)
        kernel = data.kernels[RECIPES[name].kernel]
        ok = [r for _, r in kernel.results.values() if r.speedup]
        best = max((r.speedup for r in ok), default=float("nan"))
        print(
            f"{name}: {len(kernel.results)} configs recorded in {time.perf_counter() - started:.0f} s; "
            f"best speedup {best:.3f}x"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
