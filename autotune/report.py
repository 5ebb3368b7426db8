"""Reports: a self-contained HTML page and a markdown summary of a tuning database.

The page holds the per-kernel results table, a speedup bar chart, best-so-far curves
per kernel, how often each option appears in the winning configs, and the host and
toolchain the measurements come from. Plots are PNGs rendered with matplotlib and
embedded, so the page is one file that opens anywhere.
"""

from __future__ import annotations

import base64
import html
import io
import platform
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autotune.db import BaseDatabase
from autotune.records import Status, TrialRecord


@dataclass
class ReportData:
    summaries: list[dict[str, Any]]
    curves: dict[str, list[float]]
    provenance: dict[str, set[str]]


def collect(db: BaseDatabase) -> ReportData:
    """The newest summary per kernel, its search curve and where it was measured."""
    summaries = [s for s in db.latest_summaries() if "kernel" in s]
    curves: dict[str, list[float]] = {}
    provenance: dict[str, set[str]] = {}
    for summary in summaries:
        if summary.get("status") != "tuned":
            continue
        trials = db.trials(summary["workload_key"], summary["target_key"], phase="search")
        curves[summary["kernel"]] = best_so_far(trials)
        for trial in trials:
            for key in ("hostname", "cpu_name", "numba", "llvmlite", "python"):
                value = trial.result.provenance.get(key)
                if value is not None:
                    provenance.setdefault(key, set()).add(str(value))
    return ReportData(summaries, curves, provenance)


def best_so_far(trials: list[TrialRecord]) -> list[float]:
    """Best search-phase speedup after each trial, in the order they were measured."""
    curve, best = [], 1.0
    for trial in sorted(trials, key=lambda t: t.created_at):
        if trial.result.status is Status.OK and trial.result.speedup:
            best = max(best, trial.result.speedup)
        curve.append(best)
    return curve


def option_frequencies(summaries: list[dict[str, Any]]) -> Counter[str]:
    """How many winning configs change each option (or use each pass)."""
    counts: Counter[str] = Counter()
    for summary in summaries:
        for key, value in (summary.get("best_changes") or {}).items():
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


def _table_rows(summaries: list[dict[str, Any]]) -> list[list[str]]:
    rows = []
    for s in sorted(summaries, key=lambda s: s["kernel"]):
        if s.get("status") != "tuned":
            rows.append([s["kernel"], "skipped", "-", "-", s.get("reason", ""), "-", "-", "-"])
            continue
        lo, hi = s["speedup_ci95"]
        rows.append(
            [
                s["kernel"],
                "tuned",
                f"{s['baseline_s'] * 1e3:.3f} ms",
                f"{s['best_s'] * 1e3:.3f} ms",
                f"{s['speedup']:.3f}x [{lo:.3f}, {hi:.3f}]",
                str(s["trials"]),
                str(s["failed"]),
                str(s["rejected_wrong"]),
            ]
        )
    return rows


HEADERS = ["kernel", "status", "baseline", "best", "speedup [95% CI]", "trials", "failed", "wrong"]


def markdown(data: ReportData, title: str) -> str:
    lines = [f"# {title}", "", "| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += ["| " + " | ".join(row) + " |" for row in _table_rows(data.summaries)]
    lines += ["", "## Options in winning configs", ""]
    lines += [f"- {option}: {n}" for option, n in option_frequencies(data.summaries).most_common()]
    lines += ["", "## Provenance", ""]
    lines += [
        f"- {key}: {', '.join(sorted(values))}" for key, values in sorted(data.provenance.items())
    ]
    return "\n".join(lines) + "\n"


def render_html(data: ReportData, title: str) -> str:
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>"
        for row in _table_rows(data.summaries)
    )
    head = "".join(f"<th>{h}</th>" for h in HEADERS)
    options = "".join(
        f"<tr><td>{html.escape(o)}</td><td>{n}</td></tr>"
        for o, n in option_frequencies(data.summaries).most_common()
    )
    provenance = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{html.escape(', '.join(sorted(v)))}</td></tr>"
        for k, v in sorted(data.provenance.items())
    )
    provenance += f"<tr><td>report python</td><td>{platform.python_version()}</td></tr>"
    images = "".join(
        f'<figure><img alt="{alt}" src="data:image/png;base64,{png}">'
        f"<figcaption>{alt}</figcaption></figure>"
        for alt, png in (
            ("Confirmed speedup per kernel", _speedup_chart(data)),
            ("Best speedup so far during search", _convergence_chart(data)),
        )
        if png
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; }}
table {{ border-collapse: collapse; margin: 1rem 0; }}
th, td {{ border: 1px solid #ccc; padding: 0.3rem 0.6rem; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }}
img {{ max-width: 100%; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<h2>Results</h2><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>
{images}
<h2>Options in winning configs</h2><table><tbody>{options}</tbody></table>
<h2>Provenance</h2><table><tbody>{provenance}</tbody></table>
</body></html>
"""


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _speedup_chart(data: ReportData) -> str:
    tuned = sorted(
        (s for s in data.summaries if s.get("status") == "tuned"), key=lambda s: s["kernel"]
    )
    if not tuned:
        return ""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(4, 0.5 * len(tuned) + 2), 3.2))
    names = [s["kernel"] for s in tuned]
    values = [s["speedup"] for s in tuned]
    errors = [
        [v - s["speedup_ci95"][0] for v, s in zip(values, tuned, strict=True)],
        [s["speedup_ci95"][1] - v for v, s in zip(values, tuned, strict=True)],
    ]
    ax.bar(names, values, yerr=errors, color="#4c78a8", capsize=3)
    ax.axhline(1.0, color="#888", linewidth=0.8)
    ax.set_ylabel("speedup over Numba default")
    ax.tick_params(axis="x", rotation=60)
    return _png(fig)


def _convergence_chart(data: ReportData) -> str:
    if not data.curves:
        return ""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.2))
    for kernel, curve in sorted(data.curves.items()):
        ax.plot(range(1, len(curve) + 1), curve, label=kernel)
    ax.set_xlabel("trial")
    ax.set_ylabel("best search-phase speedup so far")
    if len(data.curves) <= 12:
        ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.0, 0.5))
    return _png(fig)
