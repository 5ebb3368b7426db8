"""Reports: a self-contained HTML page and a markdown summary of a tuning database.

The page holds the per-kernel results table, what each kernel's speedup is measured
against (the kernel as written, or Numba's default build), a speedup bar chart,
best-so-far curves per kernel, how often each option appears in the winning configs,
and the hosts and toolchains the measurements come from. Plots are PNGs rendered with matplotlib and
embedded, so the page is one file that opens anywhere, without a network.

A database shared by several machines holds one result per kernel, workload and
target; such rows are told apart by their inputs and their CPU.
"""

from __future__ import annotations

import html
import platform
import time
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from autotune._charts import convergence_chart, options_chart, speedup_chart
from autotune._display import human_seconds, result_notes
from autotune.db import BaseDatabase
from autotune.records import Status, TrialRecord
from autotune.result import TuningResult

#: Provenance facts shown per target, in this order.
PROVENANCE_KEYS = ("hostname", "cpu_name", "cpu_count", "numba", "llvmlite", "llvm", "python")
HEADERS = ["kernel", "status", "baseline", "best", "speedup [95% CI]", "trials", "failed"]
HEADERS += ["wrong", "winning changes or reason"]


@dataclass(frozen=True, slots=True)
class KernelResult:
    """One row of the report: the newest result of a kernel on one workload and target."""

    label: str
    result: TuningResult
    curve: tuple[float, ...]

    @property
    def tuned(self) -> bool:
        return self.result.tuned

    @property
    def has_winner(self) -> bool:
        return self.result.has_winner


@dataclass(frozen=True, slots=True)
class ReportData:
    """What a report shows. ``provenance`` maps each target's name to its facts
    (hostname, CPU, toolchain versions), each fact to its values joined."""

    kernels: tuple[KernelResult, ...]
    provenance: Mapping[str, Mapping[str, str]]
    generated: str

    @property
    def results(self) -> list[TuningResult]:
        return [k.result for k in self.kernels]


def collect(db: BaseDatabase) -> ReportData:
    """The newest result per kernel, workload and target, its search curve and where it
    was measured."""
    results = [r for r in db.latest_results() if r.kernel]
    inputs = {w.key: w.inputs for w in db.workloads()}
    curves: list[tuple[float, ...]] = []
    facts: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for result in results:
        trials = _trials_of(db, result)
        curves.append(tuple(best_so_far([t for t in trials if t.phase == "search"])))
        for trial in trials:
            for key in PROVENANCE_KEYS:
                value = trial.result.provenance.get(key)
                if value is not None:
                    facts[trial.target_key][key].add(str(value))
    names = _target_names(facts)
    labels = _labels(results, inputs, names)
    kernels = sorted(
        (KernelResult(label, r, c) for label, r, c in zip(labels, results, curves, strict=True)),
        key=lambda k: k.label,
    )
    provenance = {
        names[target]: {key: ", ".join(sorted(v)) for key, v in values.items()}
        for target, values in sorted(facts.items(), key=lambda item: names[item[0]])
    }
    return ReportData(tuple(kernels), provenance, _generated())


def _trials_of(db: BaseDatabase, result: TuningResult) -> list[TrialRecord]:
    if not result.workload_key or not result.target_key:
        return []
    return db.trials(result.workload_key, result.target_key, phase=None)


def _target_names(facts: Mapping[str, Mapping[str, set[str]]]) -> dict[str, str]:
    """A readable, unique name per target key: its CPU and hosts."""
    names = {}
    for target, values in facts.items():
        cpu = ", ".join(sorted(values.get("cpu_name", {"unknown CPU"})))
        hosts = ", ".join(sorted(values.get("hostname", set())))
        names[target] = f"{cpu} ({hosts})" if hosts else cpu
    repeated = Counter(names.values())
    # One host with two toolchains is two targets under one name.
    return {t: f"{n} {t[:8]}" if repeated[n] > 1 else n for t, n in names.items()}


def _labels(
    results: Sequence[TuningResult], inputs: Mapping[str, str], targets: Mapping[str, str]
) -> list[str]:
    """Kernel names, with inputs and CPU added where one kernel has several rows."""
    rows: dict[str, list[TuningResult]] = defaultdict(list)
    for r in results:
        rows[r.kernel].append(r)
    labels = []
    for r in results:
        same = rows[r.kernel]
        parts = []
        if len({other.workload_key for other in same}) > 1:
            key = r.workload_key or ""
            parts.append(_shorten(inputs.get(key) or key[:8] or "not lowered", 40))
        if len({other.target_key for other in same}) > 1:
            key = r.target_key or ""
            parts.append(targets.get(key) or key[:8] or "unknown target")
        labels.append(f"{r.kernel} [{'; '.join(parts)}]" if parts else r.kernel)
    return labels


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _generated() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        autotune_version = version("autotune")
    except PackageNotFoundError:
        autotune_version = "unknown"
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return f"{stamp} by autotune {autotune_version} on Python {platform.python_version()}"


def best_so_far(trials: Sequence[TrialRecord]) -> list[float]:
    """Best search-phase speedup after each measured config, in the order measured.

    Invalid configs, which were never built, are left out: they cost nothing.
    """
    curve, best = [], 1.0
    for trial in sorted(trials, key=lambda t: t.created_at):
        if not trial.result.status.counts_against_budget:
            continue
        if trial.result.status is Status.OK and trial.result.speedup:
            best = max(best, trial.result.speedup)
        curve.append(best)
    return curve


def option_frequencies(results: Sequence[TuningResult]) -> Counter[str]:
    """How many winning configs change each option (or use each pass)."""
    counts: Counter[str] = Counter()
    for result in results:
        for key, value in result.best_changes.items():
            if key == "passes.sequence":
                counts.update(f"pass {name}" for name in set(value))
            else:
                counts[
                    f"{key}={value if not isinstance(value, list) else ','.join(map(str, value))}"
                ] += 1
    return counts


def write_report(db: BaseDatabase, out_dir: Path, title: str = "autotune report") -> Path:
    """Write ``index.html`` and ``summary.md`` to ``out_dir``; returns the HTML path."""
    data = collect(db)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "summary.md").write_text(markdown(data, title))
    page = out_dir / "index.html"
    page.write_text(render_html(data, title))
    return page


def _table_rows(data: ReportData) -> list[list[str]]:
    rows = []
    for kernel in data.kernels:
        r = kernel.result
        # Only the first note: the table has one cell for it.
        note = result_notes([r], limit=200)[0]
        note = note.removeprefix(f"{r.kernel}: ").removeprefix("skipped: ")
        if not kernel.tuned:
            rows.append([kernel.label, str(r.status), *["-"] * 6, note])
            continue
        speedup = "none beyond noise"
        if kernel.has_winner:
            lo, hi = r.speedup_ci95
            speedup = f"{r.speedup:.3f}x [{lo:.3f}, {hi:.3f}]"
        counts = [str(n) for n in (r.trials, r.failed, r.rejected_wrong)]
        baseline, best = human_seconds(r.baseline_s), human_seconds(r.best_s)
        rows.append([kernel.label, "tuned", baseline, best, speedup, *counts, note])
    return rows


#: The heading of the section saying what each kernel was timed against.
BASELINES_HEADING = "What speedups are measured against"


def _baseline_rows(data: ReportData) -> list[list[str]]:
    """Per kernel: its baseline (see :meth:`TuningResult.describe_baseline`)."""
    return [[k.label, k.result.describe_baseline()] for k in data.kernels]


def _winners_heading(data: ReportData) -> str:
    winners = sum(1 for k in data.kernels if k.has_winner)
    tuned = sum(1 for k in data.kernels if k.tuned)
    return f"{winners} of {tuned} tuned kernels have a winning config."


def _provenance_rows(data: ReportData) -> tuple[list[str], list[list[str]]]:
    """A header of target names and one row per fact."""
    targets = list(data.provenance)
    rows = [
        [key, *(data.provenance[t].get(key, "-") for t in targets)]
        for key in PROVENANCE_KEYS
        if any(key in data.provenance[t] for t in targets)
    ]
    return ["", *targets], rows


def markdown(data: ReportData, title: str) -> str:
    """The summary as markdown: the results table, winning options and provenance."""
    lines = [f"# {title}", "", f"Generated {data.generated}.", ""]
    lines += _md_table(HEADERS, _table_rows(data))
    lines += ["", f"## {BASELINES_HEADING}", ""]
    lines += [f"- {label}: {baseline}" for label, baseline in _baseline_rows(data)]
    lines += ["", "## Options in winning configs", "", _winners_heading(data), ""]
    frequencies = option_frequencies(data.results).most_common()
    lines += [f"- {option}: {n}" for option, n in frequencies] or ["- none"]
    lines += ["", "## Hosts and toolchains", ""]
    header, rows = _provenance_rows(data)
    lines += _md_table(header, rows) if rows else ["- no measurements"]
    return "\n".join(lines) + "\n"


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    return [line(header), "|" + "---|" * len(header), *(line(row) for row in rows)]


def render_html(data: ReportData, title: str) -> str:
    """The report page: one HTML document with every image embedded as a data URI."""
    frequencies = option_frequencies(data.results).most_common()
    header, provenance = _provenance_rows(data)
    options = "<p>No winning configs.</p>"
    if frequencies:
        options = _html_table(["option", "winning configs"], [[o, str(n)] for o, n in frequencies])
        options += _figure("Options in winning configs", options_chart(frequencies))
    return _PAGE.format(
        title=html.escape(title),
        generated=html.escape(data.generated),
        results=_html_table(HEADERS, _table_rows(data)),
        baselines_heading=html.escape(BASELINES_HEADING),
        baselines=_html_table(["kernel", "baseline"], _baseline_rows(data)),
        speedups=_figure("Confirmed speedup per kernel, with 95% CI", speedup_chart(data.kernels)),
        curves=_figure("Best search-phase speedup so far", convergence_chart(data.kernels)),
        winners=_winners_heading(data),
        options=options,
        provenance=_html_table(header, provenance) if provenance else "<p>No measurements.</p>",
    )


def _figure(caption: str, png: str) -> str:
    if not png:
        return ""
    alt = html.escape(caption)
    return (
        f'<figure><img alt="{alt}" src="data:image/png;base64,{png}">'
        f"<figcaption>{alt}</figcaption></figure>"
    )


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


# The icon link stops browsers from requesting /favicon.ico, which would fail offline.
_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; }}
table {{ border-collapse: collapse; margin: 1rem 0; }}
th, td {{ border: 1px solid #ccc; padding: 0.3rem 0.6rem; text-align: right; }}
th:first-child, td:first-child, th:last-child, td:last-child {{ text-align: left; }}
figure {{ margin: 1.5rem 0; }}
img {{ max-width: 100%; }}
.generated {{ color: #666; }}
</style></head><body>
<h1>{title}</h1>
<p class="generated">Generated {generated}.</p>
<h2>Results</h2>{results}
<h2>{baselines_heading}</h2>{baselines}
{speedups}
{curves}
<h2>Options in winning configs</h2><p>{winners}</p>{options}
<h2>Hosts and toolchains</h2>{provenance}
</body></html>
"""
