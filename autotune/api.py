"""Library entry points: tune a file, estimate a search, export replay data."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autotune.callbacks import BaseCallback
from autotune.db import BaseDatabase, open_database
from autotune.errors import InputError
from autotune.kernels import KernelDecl, load_kernels
from autotune.loops import (
    Illegal,
    analyze,
    explain_kernel,
    transformed_source,
    widest_float_arrays,
)
from autotune.loops._explain import KernelReport
from autotune.measure import BaseRunner, KernelRef, LocalRunner, MeasureRequest
from autotune.measure._replay import ReplayData, ReplayRunner
from autotune.passes import BuildOptions, cpu_search_space
from autotune.program import host_target
from autotune.records import Status
from autotune.tuner import TuneOptions, Tuner

#: Sampled configs used to estimate the invalid share of a space.
INVALID_SHARE_SAMPLES = 2000


def select_kernels(source: Path, spec: Path | None, names: Sequence[str] = ()) -> list[KernelDecl]:
    """Load the kernels of ``source`` and keep those named (all when none are named)."""
    decls = load_kernels(source, spec)
    if names:
        known = {d.name for d in decls}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise InputError(
                f"{source}: no kernel named {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        decls = [d for d in decls if d.name in names]
    return decls


@dataclass
class TuneRun:
    summaries: list[dict[str, Any]]
    run_id: str

    @property
    def exit_code(self) -> int:
        return 1 if any(s["status"] != "tuned" for s in self.summaries) else 0


def tune_kernels(
    decls: Sequence[KernelDecl],
    options: TuneOptions,
    db: BaseDatabase,
    spec: Path | None = None,
    replay: str | None = None,
    callbacks: Sequence[BaseCallback] = (),
) -> TuneRun:
    """Tune ``decls`` and record every trial in ``db``, which is closed afterwards."""
    runner: BaseRunner
    if replay is not None:
        data = _replay_data(replay)
        runner, target = ReplayRunner(data), data.target
    else:
        runner, target = LocalRunner(), host_target()
    tuner = Tuner(runner, db, target, options, callbacks)
    db.start_run(
        tuner.run_id, " ".join(sys.argv), {"target": target.as_dict(), "options": repr(options)}
    )
    summaries: list[dict[str, Any]] = []
    try:
        for decl in decls:
            summaries.append(tuner.tune(decl, str(spec) if spec else None))
    finally:
        runner.close()
        db.finish_run(tuner.run_id, summaries)
        db.close()
    return TuneRun(summaries, tuner.run_id)


def _replay_data(replay: str) -> ReplayData:
    if "://" in replay:
        return recorded_on_this_host(replay)
    return ReplayData.load(Path(replay))


def recorded_on_this_host(db_url: str, kernel: str | None = None) -> ReplayData:
    """Every trial in ``db_url`` measured on this host's target, as replay data."""
    db = open_database(db_url, must_exist=True)
    try:
        target = host_target()
        records = [r for r in db.all_trials(kernel) if r.target_key == target.key]
        keys = {r.workload_key for r in records}
        workloads = [w for w in db.workloads(kernel) if w.key in keys]
        return ReplayData.from_records(target, workloads, records)
    finally:
        db.close()


def export_replay(db_url: str, kernel: str | None = None) -> dict[str, Any]:
    """The replay JSON of every trial in ``db_url`` measured on this host's target."""
    return recorded_on_this_host(db_url, kernel).to_json()


def dry_run(decl: KernelDecl, options: TuneOptions, spec: Path | None = None) -> dict[str, Any]:
    """Describe ``decl``'s search space and estimate the cost of tuning it.

    The estimate measures the baseline once in a worker (build, verify and the timing
    protocol), which costs about one candidate; nothing is written anywhere.
    """
    import numpy as np

    space = cpu_search_space(
        decl,
        allow_fastmath=options.allow_fastmath,
        scope=options.scope,
        loops=options.loops,
        max_threads=options.max_threads,
    )
    rng = np.random.default_rng(options.seed)
    invalid = sum(
        space.violation(space.sample(rng)) is not None for _ in range(INVALID_SHARE_SAMPLES)
    )
    ref = KernelRef(decl.source, str(spec) if spec else None, decl.name, options.size, options.seed)
    with LocalRunner() as runner:
        started = time.perf_counter()
        result = runner.measure(ref, [MeasureRequest(None, options.timing)])[0]
        per_candidate = time.perf_counter() - started
    estimate: dict[str, Any] = {"error": None}
    if result.status is not Status.OK:
        estimate["error"] = f"baseline {result.status}: {result.error}"
    else:
        # Confirmation takes about 2.5 search measurements in each of two processes.
        confirm_factor = 5.0
        total = per_candidate * (options.budget + confirm_factor * options.confirm_top)
        estimate.update(per_candidate_s=per_candidate, total_s=total)
        if result.timing is not None:
            estimate["baseline_s"] = result.timing.baseline_s
    return {
        "kernel": decl.name,
        "dimensions": space.describe(),
        "size": space.size(),
        "invalid_share": invalid / INVALID_SHARE_SAMPLES,
        **estimate,
    }


def explain_loops(decls: Sequence[KernelDecl]) -> list[KernelReport]:
    """Per kernel and loop nest: which loop transformations are legal, and why the
    others are not. Reductions into scalars count as reorderable where the kernel
    allows fastmath."""
    return [explain_kernel(d.pyfunc, d.allow_fastmath) for d in decls]


def best_source(summary: dict[str, Any]) -> str | None:
    """The kernel source that a tuning summary's best config compiles (its loop
    transformations applied), or ``None`` when that config transforms no loops."""
    config = summary.get("best_config") or {}
    loops = BuildOptions.from_config(config).loops
    if loops.is_default:
        return None
    if not summary.get("source"):
        raise InputError(f"kernel {summary['kernel']!r}: the summary does not name its source")
    spec = summary.get("spec")
    (decl,) = select_kernels(
        Path(summary["source"]), Path(spec) if spec else None, [summary["kernel"]]
    )
    analysis = analyze(decl.pyfunc, decl.allow_fastmath)
    writable = widest_float_arrays(decl.pyfunc, decl.make_inputs(0))
    lowered = transformed_source(analysis, loops.choices, writable)
    if isinstance(lowered, Illegal):
        raise InputError(f"kernel {decl.name!r}: {lowered.reason}")
    if not lowered.changed:
        return None
    header = [f"# {decl.name}: loop transformations of the best config"]
    if lowered.parallel:
        header.append(
            f"# {lowered.prange_name} is numba.prange; compile with numba.njit(parallel=True)"
            + (f" and numba.set_num_threads({loops.threads})" if loops.threads else "")
        )
    return "\n".join(header) + "\n" + lowered.source + "\n"
