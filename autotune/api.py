"""Library entry points: tune kernels, estimate a search, export replay data."""

from __future__ import annotations

import inspect
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from autotune.backends import BaseBackend, backend_for
from autotune.callbacks import BaseCallback
from autotune.db import BaseDatabase, open_database
from autotune.errors import InputError
from autotune.kernels import (
    AS_WRITTEN,
    CudaKernelDecl,
    KernelDecl,
    declares_kernels,
    import_source,
    load_kernels,
    spec_path_for,
)
from autotune.kernels._options import check_baseline_kind
from autotune.loops import (
    Illegal,
    analyze,
    argument_ranks,
    declared_ranks,
    explain_kernel,
    transformed_source,
    why_nothing_to_transform,
    widest_float_arrays,
)
from autotune.loops._explain import KernelReport
from autotune.loops._space import MODES as LOOP_MODES
from autotune.measure import BaseRunner, KernelRef, LocalRunner, MeasureRequest
from autotune.measure._replay import ReplayData, ReplayRunner
from autotune.passes import BuildOptions
from autotune.passes._space import SCOPES
from autotune.program import host_target
from autotune.records import TIMINGS, Status, TimingSettings
from autotune.result import TuningResult
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


def tune(
    target: str | os.PathLike[str] | KernelDecl | CudaKernelDecl | Callable[..., Any],
    *,
    budget: int | None = None,
    db: str | os.PathLike[str] | BaseDatabase | None = None,
    strategy: str = "auto",
    seed: int = 0,
    loops: str = "off",
    size: str | None = None,
    spec: str | os.PathLike[str] | None = None,
    kernel: str | Sequence[str] | None = None,
    time_limit: float | None = None,
    timing: TimingSettings | str = "standard",
    callbacks: Sequence[BaseCallback] = (),
    replay: str | None = None,
    baseline: str = AS_WRITTEN,
    **options: Any,
) -> list[TuningResult]:
    r"""Tune kernels and return one :class:`~autotune.result.TuningResult` each.

    ``target`` is a kernel file or spec file (``*.autotune.toml``; ``kernel`` picks
    kernels of it by name), a kernel declared with :func:`autotune.kernel` at the top
    level of a file, or a plain function together with the ``spec`` file that declares
    it. Worker processes import the kernel's file, so a script that calls ``tune``
    must do so under ``if __name__ == "__main__":``.

    Every trial and result is recorded in ``db``: a database URL or SQLite file path
    (default: :func:`autotune.db.default_url`), opened and closed here, or an open
    :class:`~autotune.db.BaseDatabase`, which is left open. ``budget``, ``strategy``,
    ``seed``, ``loops``, ``size`` and ``time_limit`` (seconds of search per kernel)
    mean what ``autotune tune``'s options do; ``timing`` is a
    :class:`~autotune.records.TimingSettings` or a preset's name (``standard``,
    ``lean``); further keywords are fields of :class:`~autotune.tuner.TuneOptions`
    (``confirm_top``, ``simplify``, ``allow_fastmath``, ...). ``callbacks`` see every
    trial; ``replay`` answers from recorded measurements (a replay file or database
    URL) instead of measuring, into an in-memory database unless ``db`` is given.

    ``baseline`` is what speedups are measured against: ``"as-written"`` (default),
    the kernel with its author's own ``@njit`` options, which are also the base of
    every candidate; or ``"numba-default"``, plain ``numba.njit`` (the author's
    options ignored). Each result records it in ``baseline``.

    Raises:
        InputError: a bad target, option or size, before anything is measured.
        TypeError: a keyword that is not a tuning option.

    Example (a tiny budget: a real search wants 60 configs or more)::

        >>> import pathlib, tempfile
        >>> import autotune
        >>> source = pathlib.Path(tempfile.mkdtemp()) / "scale.py"
        >>> _ = source.write_text(
        ...     "import numpy as np\n"
        ...     "import autotune\n"
        ...     "@autotune.kernel(inputs=lambda rng: (rng.random(4096), np.zeros(4096)),\n"
        ...     "                 outputs=[1])\n"
        ...     "def scale(x, out):\n"
        ...     "    for i in range(x.size):\n"
        ...     "        out[i] = 2.0 * x[i]\n"
        ... )
        >>> [result] = autotune.tune(source, budget=2, db="sqlite://", confirm_top=1)
        >>> print(result.kernel, result.status, result.trials)
        scale tuned 2
        >>> result.speedup >= 1.0
        True
    """
    from autotune._compat import check_toolchain

    check_toolchain()
    decls, spec_path = kernels_to_tune(target, spec, kernel)
    if isinstance(timing, str):
        timing = _timing_preset(timing)
    tune_options = TuneOptions(
        budget=default_budget(budget, strategy),
        time_limit_s=time_limit,
        seed=seed,
        size=size,
        strategy=strategy,
        loops=loops,
        timing=timing,
        baseline=baseline,
        **options,
    )
    check_options(tune_options)
    check_sizes(decls, size)
    if db is None and replay is not None:
        db = "sqlite://"  # a replay must not mix recorded answers into the real database
    database = db if isinstance(db, BaseDatabase) else open_database(_url(db))
    try:
        return tune_kernels(decls, tune_options, database, spec_path, replay, callbacks).results
    finally:
        if database is not db:
            database.close()


def _url(db: str | os.PathLike[str] | None) -> str | None:
    return None if db is None else os.fspath(db)


def _timing_preset(name: str) -> TimingSettings:
    if name not in TIMINGS:
        raise InputError(f"unknown timing {name!r}; known: {', '.join(TIMINGS)}")
    return TIMINGS[name]


def kernels_to_tune(
    target: str | os.PathLike[str] | KernelDecl | CudaKernelDecl | Callable[..., Any],
    spec: str | os.PathLike[str] | None = None,
    names: str | Sequence[str] | None = None,
) -> tuple[list[KernelDecl], Path | None]:
    """The kernels :func:`tune` tunes for ``target``, and the spec file the worker
    processes load them with (``None``: the kernel file's own declarations)."""
    spec_path = None if spec is None else Path(spec)
    wanted = [names] if isinstance(names, str) else list(names or ())
    if isinstance(target, KernelDecl):
        return [_loadable(target)], spec_path
    if isinstance(target, CudaKernelDecl):
        return [_loadable_cuda(target)], spec_path
    if isinstance(target, str | os.PathLike):
        source = Path(target)
        if spec_path is None and source.suffix == ".toml":
            spec_path = source  # the workers load the kernels from this spec
        return select_kernels(source, spec_path, wanted), spec_path
    if callable(target):
        return _declared_by_spec(target, spec_path, wanted), spec_path
    raise InputError(
        f"cannot tune {target!r}: give a kernel file, a kernel declared with "
        "@autotune.kernel, or a function and the spec file that declares it"
    )


def _loadable(decl: KernelDecl) -> KernelDecl:
    """``decl``, naming the file the worker processes load it from."""
    module = sys.modules.get(decl.pyfunc.__module__)
    path = getattr(module, "__file__", None)
    if path is None or not any(value is decl for value in vars(module).values()):
        raise InputError(
            f"kernel {decl.name!r}: declare it at the top level of a Python file; "
            "worker processes load it from there"
        )
    return decl if decl.source else replace(decl, source=str(Path(path).resolve()))


def _loadable_cuda(decl: CudaKernelDecl) -> Any:
    """``decl`` naming the file the worker processes load it from: the Python file that
    declared it with :func:`autotune.cuda_kernel`, or its ``.cu`` file's spec."""
    if decl.loaded_from.endswith(".py"):
        return decl
    module = sys.modules.get(decl.declared_in)
    path = getattr(module, "__file__", None)
    if path is not None and any(value is decl for value in vars(module).values()):
        return replace(decl, declared_file=str(Path(path).resolve()))
    if decl.source and spec_path_for(Path(decl.source)).is_file():
        return decl
    raise InputError(
        f"kernel {decl.name!r}: declare it at the top level of a Python file, or in a "
        "spec file beside its .cu file; worker processes load it from there"
    )


def _declared_by_spec(
    func: Callable[..., Any], spec: Path | None, names: Sequence[str]
) -> list[KernelDecl]:
    """The kernels that ``spec`` declares for ``func`` (or those ``names``)."""
    pyfunc = getattr(func, "py_func", func)  # an @njit dispatcher works too
    name = getattr(pyfunc, "__name__", repr(func))
    if spec is None:
        raise InputError(
            f"function {name!r}: give spec= (a spec file declaring it), "
            "or declare it with @autotune.kernel"
        )
    decls = select_kernels(spec, None, names or [name])
    defined_in = inspect.getsourcefile(pyfunc)
    for decl in decls:
        if defined_in and Path(defined_in).resolve() != Path(decl.source).resolve():
            raise InputError(f"{spec}: declares {decl.name!r} of {decl.source}, not {defined_in}")
    return decls


def default_budget(budget: int | None, strategy: str) -> int:
    """``budget``, or the strategy's default when ``None``: 10 for zero-shot, else 60."""
    if budget is not None:
        return budget
    from autotune.strategies._zero_shot import DEFAULT_K

    return DEFAULT_K if strategy == "zero-shot" else 60


def check_strategy(strategy: str) -> None:
    """Raise :class:`InputError` unless ``strategy`` names a usable search strategy."""
    from autotune.strategies import STRATEGIES

    if strategy != "auto" and strategy not in STRATEGIES:
        raise InputError(
            f"unknown strategy {strategy!r}; known: auto, {', '.join(sorted(STRATEGIES))}"
        )
    if strategy == "gp":
        from autotune.strategies._optuna import gp_available

        if not gp_available():
            raise InputError(
                "strategy 'gp' needs PyTorch: pip install torch==2.13.0, "
                "then pip install 'autotune[gp]'"
            )


def check_baseline(baseline: str) -> None:
    """Raise :class:`InputError` unless ``baseline`` names a baseline kind."""
    try:
        check_baseline_kind(baseline)
    except ValueError as exc:
        raise InputError(str(exc)) from None


def check_options(options: TuneOptions) -> None:
    """Raise :class:`InputError` for options that cannot work together."""
    check_strategy(options.strategy)
    check_baseline(options.baseline)
    for name, value, known in (
        ("loops", options.loops, LOOP_MODES),
        ("scope", options.scope, SCOPES),
    ):
        if value not in known:
            raise InputError(f"unknown {name} {value!r}; known: {', '.join(known)}")
    if options.scope == "loops" and options.loops == "off":
        raise InputError("--space loops (scope='loops') needs --loops serial or --loops parallel")


def check_sizes(decls: Sequence[KernelDecl], size: str | None) -> None:
    """Raise :class:`InputError` unless every kernel of ``decls`` declares ``size``."""
    for decl in decls:
        if size is not None and size not in decl.sizes:
            raise InputError(
                f"kernel {decl.name!r} has no size {size!r}; known: {', '.join(decl.sizes)}"
            )


@dataclass(frozen=True, slots=True)
class TuneRun:
    results: list[TuningResult]
    run_id: str

    @property
    def exit_code(self) -> int:
        return 1 if any(not r.tuned for r in self.results) else 0


def tune_kernels(
    decls: Sequence[KernelDecl],
    options: TuneOptions,
    db: BaseDatabase,
    spec: Path | None = None,
    replay: str | None = None,
    callbacks: Sequence[BaseCallback] = (),
) -> TuneRun:
    """Tune ``decls`` and record every trial and result in ``db``.

    ``db`` stays open: whoever opened it closes it. With ``replay`` (a replay file or
    database URL) measurements are answered from that record instead of measured.
    """
    runner: BaseRunner
    target: Any
    if replay is not None:
        data = _replay_data(replay)
        runner, target = ReplayRunner(data), data.target
        targets = [target]
    else:
        backends = _available_backends(decls)
        runner, target = LocalRunner(), None
        targets = [b.target() for b in backends]
    tuner = Tuner(runner, db, target, options, callbacks)
    info = targets[0].as_dict() if len(targets) == 1 else [t.as_dict() for t in targets]
    db.start_run(tuner.run_id, " ".join(sys.argv), {"target": info, "options": repr(options)})
    results: list[TuningResult] = []
    try:
        for decl in decls:
            results.append(tuner.tune(decl, str(spec) if spec else None))
    finally:
        runner.close()
        db.finish_run(tuner.run_id, results)
    return TuneRun(results, tuner.run_id)


def _available_backends(decls: Sequence[Any]) -> list[BaseBackend]:
    """The backends of ``decls``, in order of first use; an :class:`InputError` when
    this machine cannot measure one of them (a CUDA kernel without a GPU)."""
    backends: list[BaseBackend] = []
    for decl in decls:
        backend = backend_for(decl)
        if backend in backends:
            continue
        reason = backend.unavailable_reason()
        if reason is not None:
            raise InputError(f"kernel {decl.name!r} cannot be measured here: {reason}")
        backends.append(backend)
    return backends or [backend_for(None)]


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

    decl = decl.as_baseline(options.baseline)
    backend = backend_for(decl)
    space = backend.search_space(decl, options)
    rng = np.random.default_rng(options.seed)
    invalid = sum(
        space.violation(space.sample(rng)) is not None for _ in range(INVALID_SHARE_SAMPLES)
    )
    ref = KernelRef(
        decl.loaded_from,
        str(spec) if spec else None,
        decl.name,
        options.size,
        options.seed,
        builder=backend.name,
        baseline=options.baseline,
    )
    estimate: dict[str, Any] = {"error": None, "identical_inputs": False}
    unavailable = backend.unavailable_reason()
    if unavailable is not None:
        estimate["error"] = f"it cannot be measured here: {unavailable}"
        return _dry_run_summary(decl, options, space, invalid, estimate)
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
    return _dry_run_summary(decl, options, space, invalid, estimate)


def _dry_run_summary(
    decl: Any, options: TuneOptions, space: Any, invalid: int, estimate: dict[str, Any]
) -> dict[str, Any]:
    return {
        "kernel": decl.name,
        "baseline": backend_for(decl).baseline_name(decl, options.baseline),
        "dimensions": space.describe(),
        "size": space.size(),
        "invalid_share": invalid / INVALID_SHARE_SAMPLES,
        **estimate,
    }


def explain_loops(decls: Sequence[KernelDecl]) -> list[KernelReport]:
    """Per kernel and loop nest: which loop transformations are legal, and why the
    others are not. Reductions into scalars count as reorderable where the kernel
    allows fastmath."""
    return [explain_kernel(d.pyfunc, d.allow_fastmath, d.name, declared_ranks(d)) for d in decls]


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
        why = why_nothing_to_transform(decl.pyfunc, reassociate, mode, declared_ranks(decl))
        if why is not None:
            lines.append(f"{decl.name}: --loops {mode} adds nothing: {why}")
    return lines


def best_source(result: TuningResult) -> str | None:
    """The kernel source that a result's best config compiles (its loop
    transformations applied), or ``None`` when that config transforms no loops."""
    loops = BuildOptions.from_config(result.best_config or {}).loops
    if loops.is_default:
        return None
    decl = result.declaration()
    inputs = decl.make_inputs(0)
    analysis = analyze(decl.pyfunc, decl.allow_fastmath, argument_ranks(decl.pyfunc, inputs))
    writable = widest_float_arrays(decl.pyfunc, inputs)
    lowered = transformed_source(analysis, loops.choices, writable, loops.scalarize, loops.fused)
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
    if lowered.numpy_name:
        header.append(f"# {lowered.numpy_name} is numpy (import numpy as {lowered.numpy_name})")
    return "\n".join(header) + "\n" + lowered.source + "\n"
