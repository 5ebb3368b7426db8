"""Command line: ``autotune tune | sweep | show | explain | report | export | bundle |
build`` (also ``python -m autotune``). Thin: parse, call the library, print."""

from __future__ import annotations

import functools
import json
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.table import Table

from autotune._interrupt import keeping_interrupts
from autotune.errors import AutotuneError, DatabaseError, InputError, ToolchainError

if TYPE_CHECKING:
    from autotune.result import TuningResult

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

console = Console(stderr=True)
# Piped output has no width; tables read better with a little more than 80 columns.
out = Console(width=None if sys.stdout.isatty() else 110)


#: What an interrupted command says by default: tuning commands keep every trial.
_RESUMES = "every finished trial is saved; run the same command again to resume"


def _writes_nothing_partial(func: Callable[..., int]) -> Callable[..., int]:
    """Mark a command whose interruption leaves nothing half-written to resume (below
    :func:`_guarded`)."""
    func.on_interrupt = "no model, export or JSON was written"  # type: ignore[attr-defined]
    return func


def _guarded(func: Callable[..., int]) -> Callable[..., None]:
    """Turn errors into one line and an exit code; ``--debug`` shows the traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, debug: bool = False, **kwargs: Any) -> None:
        try:
            with keeping_interrupts():
                code = func(*args, **kwargs)
        except (InputError, DatabaseError, ToolchainError) as exc:
            _fail(exc, debug)
            code = EXIT_USAGE
        except KeyboardInterrupt:
            click.echo(f"interrupted: {getattr(func, 'on_interrupt', _RESUMES)}", err=True)
            code = EXIT_INTERRUPTED
        except AutotuneError as exc:
            _fail(exc, debug)
            code = EXIT_FAILED
        sys.exit(code)

    return click.option("--debug", is_flag=True, help="Show tracebacks.")(wrapper)


def _fail(exc: BaseException, debug: bool) -> None:
    if debug:
        click.echo(traceback.format_exc(), err=True)
    click.echo(f"error: {' '.join(str(exc).split())}", err=True)


@click.group()
@click.version_option(package_name="autotune")
def main() -> None:
    """Find how to compile your kernels fastest: verified, measured, recorded."""


def _db_help() -> str:
    from autotune.db import ENV_VAR, user_default_url

    # The default is a file in the user's data directory: it has no secret to hide.
    return (
        "Database URL (any SQLAlchemy URL, or a file path for SQLite). "
        f"[env var: {ENV_VAR}; default: {user_default_url()}]"
    )


def _user_default_db() -> str:
    from autotune.db import user_default_url

    return user_default_url()


def _db_not_named() -> bool:
    """Whether this command's database is the default: named by neither --db nor
    $AUTOTUNE_DB."""
    source = click.get_current_context().get_parameter_source("db_url")
    return source is click.core.ParameterSource.DEFAULT


def _shown(db_url: str) -> str:
    """``db_url`` as messages show it: a full URL, any password or secret hidden."""
    from autotune.db import display_url, normalize_url

    return display_url(normalize_url(db_url))


def _say_where_results_are(db_url: str) -> None:
    """One line on stderr naming the database written, its secrets hidden; nothing
    for an in-memory one, which is gone."""
    from autotune.db import normalize_url
    from autotune.db._location import is_memory_url

    if not is_memory_url(normalize_url(db_url)):
        click.echo(f"results in {_shown(db_url)}", err=True)  # unwrapped, whatever its length


# The default is resolved when a command runs, and --help shows it; a replay treats a
# URL given neither by --db nor by $AUTOTUNE_DB as no database at all (see tune).
_db_option = click.option(
    "--db", "db_url", default=_user_default_db, envvar="AUTOTUNE_DB", help=_db_help()
)


_time_limit_option = click.option(
    "--time-limit", type=click.FloatRange(min=0), help="Seconds of search per kernel."
)
_no_fastmath_option = click.option("--no-fastmath", is_flag=True, help="Never try fastmath flags.")
_confirm_top_option = click.option(
    "--confirm-top",
    default=3,
    show_default=True,
    type=click.IntRange(min=1),
    help="Best candidates re-measured, each in two fresh processes.",
)
_timing_option = click.option(
    "--timing",
    type=click.Choice(["standard", "lean"]),
    default="standard",
    show_default=True,
    help="lean cuts hopeless candidates short and refines with fewer rounds; "
    "confirmation is the same.",
)
# A plain string checked by the library, so that a bad value is one line and exit 2.
_baseline_option = click.option(
    "--baseline",
    default="as-written",
    show_default=True,
    metavar="[as-written|numba-default]",
    help="What speedups are measured against: the kernel as written, with its own "
    "@njit options (fastmath, parallel, ...; also the base of every candidate), or "
    "plain numba.njit with the author's options ignored.",
)
_json_option = click.option(
    "--json", "json_path", type=click.Path(path_type=Path), help="Write per-kernel results as JSON."
)
_seed_option = click.option(
    "--seed", default=0, show_default=True, type=int, help="Seed for search and inputs."
)


@main.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--kernel", "kernels", multiple=True, help="Tune only this kernel (repeatable).")
@click.option(
    "--spec", type=click.Path(path_type=Path), help="Spec file (default: SOURCE's .autotune.toml)."
)
@click.option(
    "--budget",
    default=None,
    type=click.IntRange(min=0),
    help="Unique configs to build and measure per kernel. [default: 60; 10 with "
    "--strategy zero-shot]",
)
@_time_limit_option
@_db_option
@_seed_option
@click.option("--size", help="Problem size name declared by the kernel (default: its first).")
@click.option(
    "--strategy",
    default="auto",
    show_default=True,
    help=(
        "Search strategy: auto (a bandit sharing the budget among a model-guided search, "
        "mutation, TPE, random and evolutionary search, plus known-good configs from the "
        "database), bandit, model, tpe, gp (needs torch), mutation, evolution, random or "
        "exhaustive."
    ),
)
@_no_fastmath_option
@click.option(
    "--no-simplify",
    is_flag=True,
    help="Report the winner as found, without dropping options that do not matter.",
)
@click.option(
    "--space",
    "scope",
    type=click.Choice(["all", "compiler", "params", "loops"]),
    default="all",
    show_default=True,
    help="Tune compiler options, kernel parameters, or both; loops: only the loop "
    "transformations (with --loops), on Numba's default build.",
)
@click.option(
    "--loops",
    type=click.Choice(["off", "serial", "parallel"]),
    default="off",
    show_default=True,
    help="Also tune loop transformations of the kernel source (interchange, tiling, "
    "unroll-and-jam); parallel adds prange and a thread count.",
)
@click.option(
    "--max-threads",
    type=click.IntRange(min=2),
    help="With --loops parallel: the most threads to try (default: every core).",
)
@click.option(
    "--no-halving",
    is_flag=True,
    help="Time every candidate fully instead of screening cheaply and re-timing contenders.",
)
@_confirm_top_option
@_timing_option
@_baseline_option
@_json_option
@click.option(
    "--dry-run", is_flag=True, help="Show each kernel's search space and a time estimate."
)
@click.option("--replay", help="Answer from recorded measurements (replay file or database URL).")
@_guarded
def tune(
    source: Path,
    kernels: tuple[str, ...],
    spec: Path | None,
    budget: int | None,
    time_limit: float | None,
    db_url: str,
    seed: int,
    size: str | None,
    strategy: str,
    no_fastmath: bool,
    no_simplify: bool,
    scope: str,
    no_halving: bool,
    loops: str,
    max_threads: int | None,
    confirm_top: int,
    timing: str,
    baseline: str,
    json_path: Path | None,
    dry_run: bool,
    replay: str | None,
) -> int:
    """Tune the kernels declared in SOURCE (a Python file or a spec file)."""
    from autotune import api
    from autotune._compat import check_toolchain
    from autotune.records import TIMINGS
    from autotune.tuner import TuneOptions

    check_toolchain()
    options = TuneOptions(
        budget=api.default_budget(budget, strategy),
        time_limit_s=time_limit,
        seed=seed,
        size=size,
        strategy=strategy,
        allow_fastmath=not no_fastmath,
        scope=scope,
        confirm_top=confirm_top,
        simplify=not no_simplify,
        halving=not no_halving,
        loops=loops,
        max_threads=max_threads,
        timing=TIMINGS[timing],
        baseline=baseline,
    )
    api.check_options(options)
    decls, spec = api.kernels_to_tune(source, spec, kernels)
    api.check_sizes(decls, size)
    if loops != "off" and scope != "params":
        for note in api.loops_adding_nothing(decls, loops, allow_fastmath=not no_fastmath):
            console.print(note, markup=False, highlight=False, soft_wrap=True)
    if dry_run:
        infos = [api.dry_run(decl, options, spec) for decl in decls]
        for info in infos:
            _print_dry_run(info, options)
        return EXIT_FAILED if any(info["error"] for info in infos) else EXIT_OK
    if replay is not None and _db_not_named():
        db_url = "sqlite://"  # a replay must not mix recorded answers into the real database
    from autotune._progress import ProgressCallback
    from autotune.db import open_database

    db = open_database(db_url)
    try:
        with ProgressCallback(console) as progress:
            run = api.tune_kernels(decls, options, db, spec, replay, [progress])
    finally:
        db.close()
    _print_results(run.results, "Tuning results")
    if json_path is not None:
        _write_json(json_path, run.results)
    _say_where_results_are(db_url)
    return run.exit_code


def _print_results(results: Sequence[TuningResult], title: str) -> None:
    """The results table, then one note per kernel (and what it was timed against)."""
    from autotune._display import result_notes, results_table

    out.print(results_table(results, title=title))
    for line in result_notes(results):
        out.print(line, markup=False, highlight=False)


def _write_json(path: Path, results: Sequence[TuningResult]) -> None:
    """Write ``results`` (:class:`~autotune.result.TuningResult`) as a JSON list."""
    path.write_text(json.dumps([r.to_dict() for r in results], indent=2) + "\n")


@main.command()
@click.argument("corpus", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--budget",
    default=None,
    type=click.IntRange(min=0),
    help="Unique configs to build and measure per kernel, in all runs of this sweep. "
    "[default: 60; 10 with --strategy zero-shot]",
)
@_time_limit_option
@_db_option
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    metavar="N",
    help="Start a local Dask cluster of N workers.",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Use the Dask cluster whose scheduler is at ADDRESS (tcp://host:port).",
)
@click.option(
    "--report",
    "report_dir",
    type=click.Path(path_type=Path),
    metavar="DIR",
    help="Write DIR/index.html and DIR/summary.md afterwards.",
)
@_json_option
@click.option("--size", help="Problem size name (default: each kernel's first).")
@_seed_option
@click.option("--strategy", default="auto", show_default=True, help="Search strategy (see tune).")
@_no_fastmath_option
@_confirm_top_option
@click.option(
    "--no-simplify",
    is_flag=True,
    help="Report each winner as found, without dropping options that do not matter.",
)
@_timing_option
@_baseline_option
@click.option(
    "--train-model/--no-train-model",
    default=True,
    show_default=True,
    help="Afterwards, retrain the cost model of each target the sweep measured on from "
    "the whole database (as 'model train' does; needs 5 programs or more).",
)
@_guarded
def sweep(
    corpus: tuple[Path, ...],
    budget: int | None,
    time_limit: float | None,
    db_url: str,
    workers: int | None,
    scheduler: str | None,
    report_dir: Path | None,
    json_path: Path | None,
    size: str | None,
    seed: int,
    strategy: str,
    no_fastmath: bool,
    confirm_top: int,
    no_simplify: bool,
    timing: str,
    baseline: str,
    train_model: bool,
) -> int:
    """Tune every kernel in CORPUS (files and directories); run it again to resume."""
    from autotune._compat import check_toolchain
    from autotune._progress import SweepProgress
    from autotune.api import check_baseline, check_strategy
    from autotune.records import TIMINGS
    from autotune.sweep import find_kernels, make_executor, run_sweep
    from autotune.tuner import TuneOptions

    check_toolchain()
    check_strategy(strategy)
    check_baseline(baseline)
    from autotune.api import default_budget

    found = find_kernels(corpus)
    options = TuneOptions(
        budget=default_budget(budget, strategy),
        time_limit_s=time_limit,
        seed=seed,
        size=size,
        strategy=strategy,
        allow_fastmath=not no_fastmath,
        confirm_top=confirm_top,
        simplify=not no_simplify,
        timing=TIMINGS[timing],
        baseline=baseline,
    )
    executor = make_executor(workers, scheduler)
    total = len(found.jobs) + len(found.unloadable)
    with SweepProgress(console, total, executor.describe()) as progress:
        run = run_sweep(found, options, db_url, executor, progress.on_event, " ".join(sys.argv))
    _print_results(run.results, f"Sweep results ({run.run_id})")
    if json_path is not None:
        _write_json(json_path, run.results)
    _say_where_results_are(db_url)
    if train_model:
        _refit_models(db_url, [r.target_key for r in run.results if r.measured_this_run])
    if report_dir is not None:
        _write_report(db_url, report_dir, "autotune sweep")
    return run.exit_code


def _refit_models(db_url: str, targets: list[str | None]) -> None:
    """Retrain the cost model of each target a sweep measured something new on."""
    from autotune.cost_model._train import refit_after_sweep
    from autotune.db import open_database

    measured = [t for t in targets if t]
    if not measured:
        return
    db = open_database(db_url)
    try:
        outcomes = refit_after_sweep(db, measured)
    finally:
        db.close()
    for done in outcomes:
        what = f"cost model for target {done.target_key[:12]}"
        if done.model is None:
            out.print(f"{what}: not retrained ({done.reason})", markup=False, highlight=False)
        else:
            out.print(
                f"{what}: retrained on {done.rows} rows of {done.programs} programs in "
                f"{done.seconds:.1f} s (model id {done.model.id})",
                markup=False,
                highlight=False,
            )


def _write_report(db_url: str, output: Path, title: str) -> Path:
    from autotune.db import open_database
    from autotune.report import write_report

    db = open_database(db_url, must_exist=True)
    try:
        page = write_report(db, output, title)
    finally:
        db.close()
    console.print(f"wrote {page} and {output / 'summary.md'}")
    return page


def _print_dry_run(info: dict[str, Any], options: Any) -> None:
    from autotune._display import human_seconds
    from autotune.tuner import IDENTICAL_INPUTS

    table = Table(title=f"{info['kernel']}: search space")
    table.add_column("parameter")
    table.add_column("domain")
    table.add_column("active")
    for name, domain, cond in info["dimensions"]:
        table.add_row(name, domain, cond or "always")
    out.print(table)
    out.print(f"  configs: {info['size']:.3g}   invalid share: {info['invalid_share']:.1%}")
    if info.get("identical_inputs"):
        out.print(f"  warning: {info['kernel']}: {IDENTICAL_INPUTS}", markup=False)
    if info.get("error"):
        out.print(f"  {info['kernel']} cannot be tuned: {info['error']}", markup=False)
    else:
        out.print(
            f"  baseline ({info['baseline']}): {human_seconds(info.get('baseline_s'))} per "
            "call; estimated "
            f"{human_seconds(info['per_candidate_s'])} per candidate, "
            f"{human_seconds(info['total_s'])} for budget {options.budget} with confirmation",
            markup=False,
        )


@main.command()
@click.option("--kernel", help="Only this kernel.")
@_db_option
@click.option(
    "--json", "json_path", type=click.Path(path_type=Path), help="Write the summaries as JSON."
)
@click.option(
    "--source", "with_source", is_flag=True, help="Print the transformed source of each winner."
)
@click.option(
    "--from",
    "bundle_path",
    type=click.Path(path_type=Path),
    help="Show the tuned configs of this bundle file instead of a database's results.",
)
@click.option(
    "--stale",
    is_flag=True,
    help="List tuned configs that are stale: their kernel, a callee, the toolchain or "
    "the search space changed since tuning.",
)
@_guarded
def show(
    kernel: str | None,
    db_url: str,
    json_path: Path | None,
    with_source: bool,
    bundle_path: Path | None,
    stale: bool,
) -> int:
    """List the best known config per kernel."""
    from autotune._display import result_notes, results_table
    from autotune.db import open_database

    if stale or bundle_path is not None:
        return _show_configs(kernel, db_url, bundle_path, stale, json_path)
    db = open_database(db_url, must_exist=True)
    try:
        results = db.latest_results(kernel)
    finally:
        db.close()
    if not results:
        which = f" for kernel {kernel!r}" if kernel else ""
        click.echo(f"no tuning results in {_shown(db_url)}{which}", err=True)
        return EXIT_FAILED if kernel else EXIT_OK
    out.print(results_table(results, title=f"Best known configs ({_shown(db_url)})"))
    for line in result_notes(results):
        out.print(line, markup=False, highlight=False)
    if with_source:
        _print_sources(results)
    if json_path is not None:
        _write_json(json_path, results)
    return EXIT_OK


def _show_configs(
    kernel: str | None, db_url: str, bundle_path: Path | None, stale: bool, json_path: Path | None
) -> int:
    """``show --from FILE`` and ``show --stale``: the config cache's entries."""
    from autotune.build import stale_entries
    from autotune.cache import BundleError, open_source
    from autotune.program import host_target

    try:
        with open_source(db=db_url, bundle=bundle_path, strict=True) as source:
            where = source.description
            if stale:
                found = [s for s in stale_entries(source) if kernel in (None, s.entry.kernel)]
                rows = [{**s.entry.to_json(), "stale": s.reason} for s in found]
                for item in found:
                    click.echo(item.describe())
                click.echo(f"{len(found)} stale tuned config(s) in {where}", err=True)
            else:
                entries = [e for e in source.all_entries() if kernel in (None, e.kernel)]
                rows = [e.to_json() for e in entries]
                out.print(_entries_table(entries, where, host_target()))
    except BundleError as exc:
        raise InputError(str(exc)) from None
    if json_path is not None:
        json_path.write_text(json.dumps(rows, indent=2) + "\n")
    return EXIT_OK


def _entries_table(entries: Sequence[Any], where: str, host: Any) -> Table:
    from autotune.cache import match_level

    table = Table(title=f"Tuned configs ({where})")
    for column in ("kernel", "size", "bucket", "tuned on", "here", "speedup", "changes"):
        table.add_column(column)
    for entry in sorted(entries, key=lambda e: (e.kernel, e.bucket)):
        shown = entry.extra.get("changes", entry.config)
        changes = ", ".join(f"{k}={v}" for k, v in sorted(shown.items())) or "default"
        table.add_row(
            entry.kernel,
            entry.size or "",
            entry.bucket_text,
            entry.target.get("cpu_name", "?"),
            match_level(entry.target, host).label,
            f"{entry.speedup:.2f}x",
            changes if len(changes) < 60 else changes[:57] + "...",
        )
    return table


def _print_sources(results: Sequence[TuningResult]) -> None:
    from autotune.api import best_source

    for result in results:
        if not result.tuned:
            continue
        text = best_source(result)
        if text is None:
            out.print(f"\n# {result.kernel}: the best config transforms no loops")
        else:
            out.print("")
            out.print(text, markup=False, highlight=False, end="")


@main.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--kernel", "kernels", multiple=True, help="Only this kernel (repeatable).")
@click.option(
    "--spec", type=click.Path(path_type=Path), help="Spec file (default: SOURCE's .autotune.toml)."
)
@click.option(
    "--json", "json_path", type=click.Path(path_type=Path), help="Write the reports as JSON."
)
@_guarded
def explain(
    source: Path, kernels: tuple[str, ...], spec: Path | None, json_path: Path | None
) -> int:
    """List, per kernel and loop nest, which loop transformations are legal and why the
    others are not. Any Numba source works: a file without declared kernels has each of
    its @njit functions explained (and a plain function named with --kernel)."""
    from autotune import api
    from autotune.loops._explain import format_report

    reports = api.explain_source(source, spec, kernels)
    for report in reports:
        for line in format_report(report):
            click.echo(line)
    if json_path is not None:
        json_path.write_text(json.dumps([r.as_dict() for r in reports], indent=2) + "\n")
    return EXIT_OK


@main.command()
@_db_option
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    required=True,
    help="Directory for index.html and summary.md.",
)
@click.option("--title", default="autotune report", show_default=True, help="Page title.")
@_guarded
def report(db_url: str, output: Path, title: str) -> int:
    """Write an HTML report (with plots) and a markdown summary of a tuning database."""
    from autotune.db import open_database
    from autotune.report import write_report

    db = open_database(db_url, must_exist=True)
    try:
        if not db.latest_results():
            raise InputError(f"no tuning results in {_shown(db_url)}")
        page = write_report(db, output, title)
    finally:
        db.close()
    console.print(f"wrote {page} and {output / 'summary.md'}")
    return EXIT_OK


@main.command()
@_db_option
@click.option("--kernel", help="Only this kernel.")
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), required=True, help="Replay file to write."
)
@_guarded
def export(db_url: str, kernel: str | None, output: Path) -> int:
    """Write recorded measurements as a replay file (for tune --replay)."""
    from autotune.api import export_replay

    data = export_replay(db_url, kernel)
    if not data["kernels"]:
        raise InputError(f"no measurements for this machine in {_shown(db_url)}")
    output.write_text(json.dumps(data) + "\n")
    console.print(f"wrote {len(data['kernels'])} kernel(s) to {output}")
    return EXIT_OK


@main.command()
@_db_option
@click.option("--kernel", help="Only this kernel.")
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), required=True, help="Bundle file to write."
)
@_guarded
def bundle(db_url: str, kernel: str | None, output: Path) -> int:
    """Write the tuned configs of a database to a bundle file to ship with a package.

    The file is small, versioned JSON; entries for every machine are kept (a reader
    uses those that match it). An existing bundle at OUTPUT is merged into, not
    replaced; the file is written atomically."""
    from autotune.cache import BundleError, open_source, write_bundle

    with open_source(db=db_url, strict=True) as source:
        entries = [e for e in source.all_entries() if kernel in (None, e.kernel)]
    if not entries:
        which = f" for kernel {kernel!r}" if kernel else ""
        raise InputError(f"no tuned configs in {_shown(db_url)}{which}: run autotune tune first")
    try:
        total = write_bundle(output, entries)
    except BundleError as exc:
        raise InputError(f"{exc}; not overwritten") from None
    except OSError as exc:
        raise InputError(f"cannot write {output}: {exc.strerror or exc}") from None
    console.print(f"wrote {len(entries)} tuned config(s) to {output} ({total} in the file)")
    return EXIT_OK


@main.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--db",
    "db_url",
    default=None,
    help="Database to read and record into. [default: $AUTOTUNE_DB, else the per-user one]",
)
@click.option(
    "--from",
    "bundle_path",
    type=click.Path(path_type=Path),
    help="Read tuned configs from this bundle instead of a database; tuned misses are "
    "merged into it.",
)
@click.option(
    "--budget",
    default=40,
    show_default=True,
    type=click.IntRange(min=1),
    help="Budget per missing kernel.",
)
@click.option("--size", help="Problem size name (default: each kernel's first).")
@click.option(
    "--loops",
    type=click.Choice(["off", "serial", "parallel"]),
    default="off",
    show_default=True,
    help="Loop transformations when tuning a miss (see tune).",
)
@click.option("--check", "check_only", is_flag=True, help="Never tune: exit 1 listing each miss.")
@_guarded
def build(
    sources: tuple[Path, ...],
    db_url: str | None,
    bundle_path: Path | None,
    budget: int,
    size: str | None,
    loops: str,
    check_only: bool,
) -> int:
    """Make sure every kernel of SOURCES (files, spec files, directories) has a tuned
    config: exit 0 when all are cached, tune the ones that are not. With --check,
    tune nothing and exit 1 if any is missing (for reproducible CI)."""
    from autotune.build import build as run_build
    from autotune.cache import BundleError

    if db_url is not None and bundle_path is not None:
        raise InputError("give --db or --from, not both")
    try:
        report = run_build(
            list(sources),
            db=db_url,
            bundle=bundle_path,
            budget=budget,
            size=size,
            loops=loops,
            check_only=check_only,
        )
    except BundleError as exc:
        raise InputError(str(exc)) from None
    final = report.after or report.before
    for item in final:
        click.echo(item.describe())
    if report.tuned:
        console.print(f"tuned {len(report.tuned)} kernel(s): {', '.join(report.tuned)}")
    if report.misses:
        hint = "" if not check_only else "; run the same command without --check to tune them"
        click.echo(f"{len(report.misses)} of {len(final)} kernel(s) not tuned{hint}", err=True)
    return report.exit_code


@main.group()
def model() -> None:
    """Train and list the cross-program cost models stored in a database."""


def _load_data(paths: tuple[str, ...]) -> Any:
    """The merged dataset of export files ``paths`` (an error names a bad one)."""
    from pathlib import Path

    from autotune.cost_model._dataset import merge, read_export

    datasets = []
    for path in paths:
        try:
            datasets.append(read_export(Path(path)))
        except ValueError as exc:
            raise InputError(str(exc)) from None
    return merge(datasets)


@model.command("train")
@_db_option
@click.option(
    "--data",
    "data",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Train from these exports (repeatable) instead of the database's trials; the "
    "model is stored for this machine's target.",
)
@click.argument("exports", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--exclude-family",
    multiple=True,
    help="Leave out the workloads of this kernel family (repeatable; with exports).",
)
@click.option(
    "--exclude-kernel",
    multiple=True,
    help="Leave out the workloads of this kernel (repeatable; with exports).",
)
@_guarded
@_writes_nothing_partial
def model_train(
    db_url: str,
    data: tuple[str, ...],
    exports: tuple[str, ...],
    exclude_family: tuple[str, ...],
    exclude_kernel: tuple[str, ...],
) -> int:
    """Train one cost model per target from the database's measured trials, or from
    EXPORTS (and --data) for this machine's target, and store it in the database."""
    from autotune.cost_model._train import train, train_on
    from autotune.db import open_database

    data = (*data, *exports)
    if (exclude_family or exclude_kernel) and not data:
        raise InputError("--exclude-family and --exclude-kernel need exports (EXPORT or --data)")
    if not data:
        open_database(db_url, must_exist=True).close()  # a missing database is an error
    dataset = _load_data(data) if data else None
    db = open_database(db_url)
    try:
        if dataset is None:
            outcomes = train(db)
        else:
            from autotune.program import host_target

            target = host_target().key
            outcomes = [
                train_on(
                    db,
                    target,
                    dataset,
                    exclude_families=exclude_family,
                    exclude_kernels=exclude_kernel,
                    source="export",
                )
            ]
    finally:
        db.close()
    if not outcomes:
        click.echo(f"no usable trials in {_shown(db_url)}: nothing to train")
        return EXIT_OK
    for done in outcomes:
        what = f"target {done.target_key[:12]}: {done.rows} rows, {done.programs} programs"
        if done.model is None:
            click.echo(f"{what}; not trained ({done.reason})")
        else:
            click.echo(f"{what}; trained in {done.seconds:.1f} s, model id {done.model.id}")
    return EXIT_OK


@model.command("export")
@_db_option
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False))
@click.option("--note", default="", help="How the data was made (commit, machine, load).")
@_guarded
@_writes_nothing_partial
def model_export(db_url: str, out_path: str, note: str) -> int:
    """Write the database's measured configs, with program features, as a compact
    export (gzip JSON lines) that "model train --data" and "model eval --data" read."""
    from pathlib import Path

    from autotune.cost_model._dataset import Dataset, write_export
    from autotune.db import open_database

    open_database(db_url, must_exist=True).close()  # a missing database is an error
    db = open_database(db_url)  # program features are cached into it
    try:
        dataset = Dataset.from_database(db)
    finally:
        db.close()
    made = {"database": _shown(db_url), "note": note}
    write_export(dataset, Path(out_path), made)
    trials = sum(len(w.trials) for w in dataset.workloads)
    click.echo(
        f"wrote {len(dataset)} workloads ({len(dataset.programs())} programs, "
        f"{trials} trials) to {out_path}"
    )
    return EXIT_OK


@model.command("eval")
@_db_option
@click.option(
    "--data",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Evaluate on these exports (repeatable) instead of the database.",
)
@click.argument("exports", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--by",
    "group_by",
    type=click.Choice(["program", "family", "both"]),
    default="both",
    show_default=True,
    help="Leave out one program (IR hash) or one family at a time.",
)
@click.option(
    "--k",
    type=click.IntRange(min=2),
    default=10,
    show_default=True,
    help="Measurements of zero-shot and the baselines, the default included.",
)
@click.option(
    "--json", "json_path", type=click.Path(dir_okay=False), help="Write the figures as JSON."
)
@_guarded
@_writes_nothing_partial
def model_eval(
    db_url: str,
    data: tuple[str, ...],
    exports: tuple[str, ...],
    group_by: str,
    k: int,
    json_path: str | None,
) -> int:
    """Leave-one-out evaluation of the cost model on the database's records, or on
    EXPORTS (and --data): Kendall tau,
    top-1/5 regret, a-peak@10, and the share of the full search's gain that
    zero-shot with K measurements reaches, against fixed-config, auto, portfolio and
    random baselines."""
    import json
    from pathlib import Path

    from autotune.cost_model._dataset import Dataset
    from autotune.cost_model._evaluate import evaluate
    from autotune.db import open_database

    data = (*data, *exports)
    if data:
        dataset = _load_data(data)
    else:
        open_database(db_url, must_exist=True).close()
        db = open_database(db_url)  # program features are cached into it
        try:
            dataset = Dataset.from_database(db)
        finally:
            db.close()
    groupings = ["program", "family"] if group_by == "both" else [group_by]
    report: dict[str, Any] = {}
    for grouping in groupings:
        evaluation = evaluate(dataset, grouping, k=k)
        summary = evaluation.summary()
        report[grouping] = summary
        _print_evaluation(summary)
    if json_path:
        Path(json_path).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return EXIT_OK


def _print_evaluation(summary: dict[str, Any]) -> None:
    table = Table(title=f"Leave one {summary['group_by']} out (K = {summary['k']})")
    columns = (
        "kernel",
        "best",
        "tau",
        "top-1 regret",
        "a-peak@10",
        "zero-shot",
        "fixed",
        "auto",
        "random",
    )
    for column in columns:
        table.add_column(column, justify="left" if column == "kernel" else "right")
    for row in summary["workloads"]:
        table.add_row(
            row["kernel"],
            f"{row['best_speedup']:.2f}x",
            _figure(row["kendall_tau"]),
            _figure(row["top1_regret"]),
            _figure(row["a_peak_at_10"]),
            _figure(row["zero_shot_share"]),
            _figure(row["fixed_config_share"]),
            _figure(row["auto_share"]),
            _figure(row["random_share"]),
        )
    out.print(table)
    keys = [k for k in summary if k.endswith("_median") or k.startswith("programs")]
    click.echo(", ".join(f"{k} {summary[k]}" for k in keys))


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


@model.command("show")
@_db_option
@_guarded
def model_show(db_url: str) -> int:
    """List the cost models stored in the database."""
    import datetime

    from autotune.db import open_database

    db = open_database(db_url, must_exist=True)
    try:
        models = db.models()
    finally:
        db.close()
    if not models:
        click.echo(f"no models in {_shown(db_url)}")
        return EXIT_OK
    table = Table(title=f"Cost models ({_shown(db_url)})")
    for column in ("id", "name", "family", "schema", "rows", "programs", "created", "toolchain"):
        right = column in ("id", "rows", "programs")
        table.add_column(column, justify="right" if right else "left")
    for record in models:
        created = datetime.datetime.fromtimestamp(record.created_at).strftime("%Y-%m-%d %H:%M")
        table.add_row(
            str(record.id),
            record.name,
            record.family,
            record.schema[:12],
            str(record.trained_on.get("rows", "")),
            str(record.trained_on.get("programs", "")),
            created,
            " ".join(f"{k} {v}" for k, v in sorted(record.toolchain.items())),
        )
    out.print(table)
    newest = models[0]
    importances = newest.trained_on.get("importances") or []
    if importances:
        click.echo(
            f"model {newest.id}: features that matter most (permutation, MSE of log speedup):"
        )
        for name, gain in importances:
            click.echo(f"  {name:<40} {gain}")
    coreset = newest.trained_on.get("coreset") or []
    click.echo(f"model {newest.id}: coreset of {len(coreset)} recipes for zero-shot search")
    return EXIT_OK


if __name__ == "__main__":
    main()
