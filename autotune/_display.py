"""Human-facing rendering for the CLI: units, tables and progress."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from autotune.callbacks import BaseCallback
from autotune.records import Status, TrialRecord


def human_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def speedup_text(summary: dict[str, Any]) -> str:
    if not summary.get("best_config"):
        return "none"
    lo, hi = summary["speedup_ci95"]
    return f"{summary['speedup']:.2f}x ({lo:.2f}-{hi:.2f})"


def results_table(summaries: list[dict[str, Any]], title: str = "Tuning results") -> Table:
    table = Table(title=title)
    for column in (
        "kernel",
        "status",
        "baseline",
        "best",
        "speedup (95% CI)",
        "trials",
        "failed",
        "wrong",
    ):
        left = column in ("kernel", "status")
        table.add_column(column, justify="left" if left else "right", no_wrap=True)
    for s in summaries:
        if s["status"] != "tuned":
            table.add_row(s["kernel"], s["status"], "-", "-", "-", "-", "-", "-")
            continue
        table.add_row(
            s["kernel"],
            s["status"],
            human_seconds(s["baseline_s"]),
            human_seconds(s["best_s"]),
            speedup_text(s),
            str(s["trials"]),
            str(s["failed"]),
            str(s["rejected_wrong"]),
        )
    return table


def result_notes(summaries: list[dict[str, Any]], limit: int = 300) -> list[str]:
    """One line per kernel saying what won (only the changes from Numba's default) or
    why it was skipped."""
    lines = []
    for s in summaries:
        if s["status"] != "tuned":
            reason = s.get("reason", "")
            lines.append(
                f"{s['kernel']}: skipped: {reason[:limit]}{'...' if len(reason) > limit else ''}"
            )
        elif s.get("best_changes"):
            changes = ", ".join(f"{k}={_value(v)}" for k, v in sorted(s["best_changes"].items()))
            lines.append(f"{s['kernel']}: {changes}")
        else:
            lines.append(f"{s['kernel']}: nothing beats Numba's default build beyond noise")
        if s.get("loop_legality_bugs"):
            lines.append(
                f"{s['kernel']}: {s['loop_legality_bugs']} loop transformation(s) passed the "
                "legality checks but computed wrong results (rejected; a bug, see the log)"
            )
    return lines


def _value(value: Any) -> str:
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)


class ProgressCallback(BaseCallback):
    """A rich progress bar per kernel, showing the best search-phase speedup so far."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[note]}"),
            console=console,
            transient=False,
        )
        self._task: Any = None
        self._best = 1.0
        self._kernel = ""

    def __enter__(self) -> ProgressCallback:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def on_kernel_start(self, kernel: str, budget: int) -> None:
        self._kernel, self._best = kernel, 1.0
        self._task = self.progress.add_task(kernel, total=budget, note="baseline")

    def on_trial(self, record: TrialRecord, spent: int) -> None:
        result = record.result
        if record.phase == "search" and result.status is Status.OK and result.speedup:
            self._best = max(self._best, result.speedup)
        note = f"best {self._best:.3f}x" if record.phase == "search" else record.phase
        if record.phase == "confirm":
            note = "confirming winners"
        self.progress.update(self._task, completed=spent, note=note)

    def on_kernel_end(self, summary: dict[str, Any]) -> None:
        tuned = summary["status"] == "tuned"
        note = f"done: {summary['speedup']:.3f}x" if tuned else "skipped"
        self.progress.update(self._task, note=note)
