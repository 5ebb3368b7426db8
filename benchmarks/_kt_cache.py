"""Autotune space files as Kernel Tuner cache files, for Kernel Tuner's simulation mode.

Kernel Tuner (checked against kernel_tuner 1.5.0) replays a *cache file* when
``tune_kernel(..., cache=PATH, simulation_mode=True)`` is called. Where it reads it:

* ``kernel_tuner/util.py`` ``process_cache`` checks the header keys: ``device_name``
  (taken over as the simulated device's name), ``kernel_name`` (must equal the
  ``kernel_name`` given to ``tune_kernel``), ``problem_size`` (optional; must equal the
  given ``problem_size``), ``tune_params_keys`` (must equal ``list(tune_params)``, in
  order) and returns ``cache``. ``tune_params`` and ``objective`` are written by Kernel
  Tuner itself when it creates a cache; they are not checked on reading.
* ``kernel_tuner/util.py`` ``read_cache`` -> ``correct_open_cache`` (with
  ``open_cache=False`` in simulation mode the file is only read) then ``json.loads``;
  in every entry, any *value* that is one of the strings ``"ErrorConfig"``,
  ``"InvalidConfig"``, ``"CompilationFailedConfig"``, ``"RuntimeFailedConfig"`` marks the
  entry as failed (``entry["__error__"]`` is set to that ``ErrorConfig`` instance).
  ``store_cache`` writes failures as ``"__error__": "<name>"``, so that is what we write.
* ``kernel_tuner/runners/simulation.py`` ``SimulationRunner.run``: an entry is looked up
  by ``",".join(str(v) for v in config)`` (the values in ``tune_params_keys`` order); a
  config missing from the cache that passes the restrictions raises ``ValueError``, so
  every point of the Cartesian product must be present (unrecorded points are written
  as ``InvalidConfig``). The first visit of a key counts one evaluation against
  ``max_fevals``, failed entries included; revisits are free. ``compile_time``,
  ``verification_time`` and ``benchmark_time`` (ms) are summed into the simulated time.
* ``kernel_tuner/util.py`` ``get_result_cost``: the objective (default ``"time"``,
  lower is better, ms per ``core.py``/``observers``: ``time = mean(times)``) is read
  from non-failed entries; failed ones cost ``sys.float_info.max``.

One entry, as Kernel Tuner's sequential runner writes it: the parameter values, then
``time``, ``times``, ``compile_time``, ``verification_time``, ``benchmark_time``,
``strategy_time``, ``framework_time`` (all ms) and ``timestamp``
(``str(datetime.now(timezone.utc))``).

Mapping used here:

* one tune parameter per autotune dimension; names become identifiers
  (``pipeline.speed_level`` -> ``pipeline_speed_level``); values: booleans -> 0/1, ints
  and floats unchanged, strings unchanged, permutations -> ``"i-j-k"``. Numeric value
  lists are sorted ascending (Kernel Tuner's neighbourhoods follow list order);
  string lists keep the space's order.
* ``time`` = ``reference_ms / speedup``: the recorded baseline-relative speedup put on
  one common scale (``reference_ms`` = median of the baseline times recorded next to
  the OK configs), so noise drift between configs does not leak in; the ranking is
  exactly that of the speedups. ``times`` = ``reference_ms / ratio`` per timing round.
* statuses: ``build_failed`` -> ``CompilationFailedConfig``; ``run_failed``, ``timeout``,
  ``wrong_result`` (Kernel Tuner aborts on verification failures; it has no class for
  them) and an OK without a positive speedup -> ``RuntimeFailedConfig``; ``invalid``,
  ``skipped`` and configs absent from the recording -> ``InvalidConfig``.

    python benchmarks/_kt_cache.py SPACE.json [...] [--out out/kt_caches]
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from autotune.candidate import Candidate
from autotune.measure._record import space_from_definition
from autotune.measure._replay import ReplayData, ReplayKernel
from autotune.measure._stats import round_ratios
from autotune.records import Status

ROOT = Path(__file__).resolve().parents[1]

#: Kernel Tuner's error classes (kernel_tuner/util.py: ErrorConfig and subclasses).
COMPILATION_FAILED = "CompilationFailedConfig"
RUNTIME_FAILED = "RuntimeFailedConfig"
INVALID = "InvalidConfig"

ERROR_FOR_STATUS = {
    Status.BUILD_FAILED: COMPILATION_FAILED,
    Status.RUN_FAILED: RUNTIME_FAILED,
    Status.TIMEOUT: RUNTIME_FAILED,
    Status.WRONG_RESULT: RUNTIME_FAILED,
    Status.INVALID: INVALID,
    Status.SKIPPED: INVALID,
}

#: kernel_tuner/util.py check_tune_params_list refuses these names.
_FORBIDDEN = {"grid_size_x", "grid_size_y", "grid_size_z", "time"}
#: Entry keys that a tune parameter must not shadow.
_ENTRY_KEYS = {
    "time", "times", "compile_time", "verification_time", "benchmark_time",
    "strategy_time", "framework_time", "timestamp", "speedup", "autotune_status",
    "__error__",
}  # fmt: skip


@dataclass
class KTDimension:
    name: str  #: autotune name
    ident: str  #: Kernel Tuner tune parameter name
    values: list[Any]  #: Kernel Tuner values, in Kernel Tuner order
    original: list[Any]  #: the autotune value of each entry of ``values``


@dataclass
class KTCache:
    """One written cache file and what the comparison needs to score runs on it."""

    path: Path
    kernel_name: str
    problem_size: list[int]
    dimensions: list[KTDimension]
    #: cache key -> recorded speedup, for OK configs
    speedups: dict[str, float]
    #: number of entries (the full Cartesian product) and of recorded configs in it
    entries: int
    recorded: int
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def tune_params(self) -> dict[str, list[Any]]:
        return {d.ident: list(d.values) for d in self.dimensions}

    @property
    def best(self) -> float:
        return max(self.speedups.values())


def identifier(name: str, taken: set[str]) -> str:
    ident = re.sub(r"\W", "_", name)
    if not ident or ident[0].isdigit():
        ident = "p_" + ident
    if ident in _FORBIDDEN or ident in _ENTRY_KEYS:
        ident = "param_" + ident
    base, n = ident, 2
    while ident in taken:
        ident, n = f"{base}_{n}", n + 1
    taken.add(ident)
    return ident


def encode(value: Any) -> Any:
    """An autotune value as a Kernel Tuner value (int, float or comma-free string)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        text = value
    elif isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        text = "-".join(value)
    else:
        text = json.dumps(value, sort_keys=True, separators=(";", ":"))
    # A comma would break the cache key; an error-class name would mark the entry failed.
    text = text.replace(",", ";")
    return (
        f"value_{text}"
        if text in ("ErrorConfig", INVALID, COMPILATION_FAILED, RUNTIME_FAILED)
        else text
    )


def dimensions(kernel: ReplayKernel) -> list[KTDimension]:
    if not kernel.space:
        raise ValueError(f"{kernel.workload.kernel}: not a space file (no 'space' table)")
    space = space_from_definition(kernel.space)
    taken: set[str] = set()
    dims = []
    for name in space.names:
        original = list(space[name].values())
        pairs = [(encode(v), v) for v in original]
        values = [p[0] for p in pairs]
        if len({(type(v).__name__, v) for v in values}) != len(values) or len(
            set(map(str, values))
        ) != len(values):
            raise ValueError(
                f"{name}: values {original!r} do not map to distinct Kernel Tuner values"
            )
        if all(isinstance(v, int | float) for v in values):
            pairs.sort(key=lambda p: p[0])
        dims.append(
            KTDimension(name, identifier(name, taken), [p[0] for p in pairs], [p[1] for p in pairs])
        )
    return dims


def cache_key(values: list[Any] | tuple[Any, ...]) -> str:
    """Kernel Tuner's cache key (runners/simulation.py): the values, comma-joined."""
    return ",".join(str(v) for v in values)


def reference_ms(kernel: ReplayKernel) -> float:
    baselines = [
        r.timing.baseline_s
        for _, r in kernel.results.values()
        if r.status is Status.OK and r.timing
    ]
    if baselines:
        return 1000 * statistics.median(baselines)
    if kernel.baseline is not None and kernel.baseline.timing is not None:
        return 1000 * kernel.baseline.timing.candidate_s
    return 1.0


def convert(kernel: ReplayKernel, out: Path, device_name: str) -> KTCache:
    """Write ``kernel``'s recorded space as a Kernel Tuner cache file at ``out``."""
    dims = dimensions(kernel)
    ref = reference_ms(kernel)
    stamp = str(datetime.now(UTC))
    cache: dict[str, dict[str, Any]] = {}
    speedups: dict[str, float] = {}
    errors: dict[str, int] = {}
    recorded = 0
    for combo in itertools.product(*(range(len(d.values)) for d in dims)):
        values = [d.values[i] for d, i in zip(dims, combo, strict=True)]
        config = {d.name: d.original[i] for d, i in zip(dims, combo, strict=True)}
        key = cache_key(values)
        entry: dict[str, Any] = {d.ident: v for d, v in zip(dims, values, strict=True)}
        found = kernel.results.get(Candidate.from_config(config).key)
        error = INVALID
        timing = {"compile_time": 0.0, "verification_time": 0.0, "benchmark_time": 0.0}
        if found is not None:
            recorded += 1
            result = found[1]
            timing["compile_time"] = 1000 * (result.compile_s or 0.0)
            timing["verification_time"] = 1000 * (result.verify_s or 0.0)
            t = result.timing
            if t is not None:
                samples = sum(sum(r) for r in t.baseline_rounds + t.candidate_rounds)
                timing["benchmark_time"] = 1000 * samples * t.calls_per_sample
            if result.status is Status.OK and result.speedup and result.speedup > 0:
                error = None
                entry["time"] = ref / result.speedup
                entry["times"] = [
                    ref / r for r in round_ratios(t.baseline_rounds, t.candidate_rounds)
                ]
                speedups[key] = result.speedup
            else:
                error = ERROR_FOR_STATUS.get(result.status, RUNTIME_FAILED)
            entry["autotune_status"] = str(result.status)
        else:
            entry["autotune_status"] = "unrecorded"
        if error is not None:
            entry["__error__"] = error
            errors[entry["autotune_status"]] = errors.get(entry["autotune_status"], 0) + 1
        entry.update(timing)
        entry["strategy_time"] = 0
        entry["framework_time"] = 0
        entry["timestamp"] = stamp
        if key in speedups:
            entry["speedup"] = speedups[key]
        cache[key] = entry
    if not speedups:
        raise ValueError(f"{kernel.workload.kernel}: no OK config with a speedup")
    problem_size = [1]
    data = {
        "device_name": device_name,
        "kernel_name": kernel.workload.kernel,
        "problem_size": problem_size,
        "tune_params_keys": [d.ident for d in dims],
        "tune_params": {d.ident: d.values for d in dims},
        "objective": "time",
        "autotune": {
            "inputs": kernel.workload.inputs,
            "dimensions": {d.ident: d.name for d in dims},
            "reference_ms": ref,
            "time": "reference_ms / recorded speedup",
        },
        "cache": cache,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=1))
    return KTCache(
        out, kernel.workload.kernel, problem_size, dims, speedups, len(cache), recorded, errors
    )


def convert_file(space_file: Path, out_dir: Path) -> dict[str, KTCache]:
    """Every kernel of ``space_file`` as ``out_dir/<file stem>[.<kernel>].json``."""
    data = ReplayData.load(space_file)
    device = f"{data.target.cpu_name} (autotune replay)"
    caches = {}
    for name, kernel in data.kernels.items():
        stem = space_file.stem if len(data.kernels) == 1 else f"{space_file.stem}.{name}"
        caches[name] = convert(kernel, out_dir / f"{stem}.json", device)
    return caches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("spaces", type=Path, nargs="+")
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "kt_caches")
    args = parser.parse_args()
    for path in args.spaces:
        for name, kt in convert_file(path, args.out).items():
            print(
                f"{path.name}: {name} -> {kt.path} ({kt.entries} entries, {kt.recorded} recorded, "
                f"failures {kt.errors or 'none'}, best {kt.best:.3f}x)"
            )


if __name__ == "__main__":
    main()
