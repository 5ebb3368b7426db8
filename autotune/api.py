"""Library entry points: tune a file, estimate a search, export replay data."""

from __future__ import annotations

import inspect
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autotune.callbacks import BaseCallback
from autotune.db import BaseDatabase, open_database
from autotune.errors import InputError
from autotune.kernels import KernelDecl, declares_kernels, import_source, load_kernels
from autotune.loops import (
    Illegal,
    analyze,
    explain_kernel,
    transformed_source,
    why_nothing_to_transform,
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
    """Every trial in ``db_url`` measured on this host's target, as replay data.

    The database is only read: it must exist with a readable schema, and is neither
    created nor migrated (:class:`~autotune.errors.DatabaseError` otherwise)."""
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
    protocol), which costs about one candidate; nothing is written anywhere. ``error``
    says why the kernel cannot be tuned (which step failed), and ``identical_inputs``
    whether its two input sets are equal.
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
    estimate: dict[str, Any] = {"error": None, "identical_inputs": False}
    with LocalRunner() as runner:
        lowered = runner.lower(ref)
        if lowered.workload is None:
            estimate["error"] = lowered.error
        else:
            estimate["identical_inputs"] = lowered.identical_inputs
            started = time.perf_counter()
            result = runner.measure(ref, [MeasureRequest(None, options.timing)])[0]
            per_candidate = time.perf_counter() - started
            if result.status is not Status.OK:
                estimate["error"] = f"baseline {result.status}: {result.error}"
    if estimate["error"] is None:
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
    return [explain_kernel(d.pyfunc, d.allow_fastmath, d.name) for d in decls]


def explain_source(
    source: Path, spec: Path | None = None, names: Sequence[str] = ()
) -> list[KernelReport]:
    """:func:`explain_loops` for the kernels of ``source`` (all, or those ``names``).

    Explaining is static analysis and needs no inputs, so a file that declares no
    kernels (no ``@autotune.kernel``, no spec file) still works: then every Numba
    dispatcher defined in it is explained (reassociating where it was compiled with
    fastmath), and a plain function too where ``names`` names it. Raises InputError
    for an unknown name or a file with nothing to explain.
    """
    source = Path(source)
    if spec is not None or source.suffix == ".toml" or declares_kernels(source):
        return explain_loops(select_kernels(source, spec, names))
    functions = _numba_functions(source, names)
    return [explain_kernel(func, fastmath, name) for name, (func, fastmath) in functions.items()]


def _numba_functions(
    source: Path, names: Sequence[str]
) -> dict[str, tuple[Callable[..., Any], bool]]:
    """The functions of ``source`` to explain, by name: its Numba dispatchers (with
    whether they use fastmath) and the plain functions named in ``names``."""
    module = import_source(source)
    found: dict[str, tuple[Callable[..., Any], bool]] = {}
    for name, value in vars(module).items():
        pyfunc = getattr(value, "py_func", None)
        if inspect.isfunction(pyfunc) and pyfunc.__module__ == module.__name__:
            options = getattr(value, "targetoptions", {})
            found[name] = (pyfunc, bool(options.get("fastmath", False)))
        elif name in names and inspect.isfunction(value) and value.__module__ == module.__name__:
            found[name] = (value, False)
    if not names and not found:
        raise InputError(
            f"{source}: nothing to explain: no kernels declared and no Numba functions (@njit)"
        )
    unknown = [n for n in names if n not in found]
    if unknown:
        raise InputError(
            f"{source}: no kernel or function named {', '.join(unknown)}; "
            f"Numba functions: {', '.join(sorted(found)) or 'none'}"
        )
    return {n: found[n] for n in names} if names else found


def loops_adding_nothing(
    decls: Sequence[KernelDecl], mode: str, allow_fastmath: bool = True
) -> list[str]:
    """One line per kernel whose search space ``--loops mode`` leaves unchanged (no loop
    nest has anything to choose), with the first reason ``explain`` gives."""
    lines = []
    for decl in decls:
        reassociate = allow_fastmath and decl.allow_fastmath
        why = why_nothing_to_transform(decl.pyfunc, reassociate, mode)
        if why is not None:
            lines.append(f"{decl.name}: --loops {mode} adds nothing: {why}")
    return lines


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
