"""Human-facing rendering for the CLI: units, tables and progress."""

from __future__ import annotations

import threading
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


class SweepProgress:
    """Progress of a sweep: a bar for the whole corpus and one per kernel being tuned.

    Takes :class:`~autotune.sweep.SweepEvent` values from any thread. A kernel's bar is
    replaced by one line with its result when it is done.
    """

    def __init__(self, console: Console, kernels: int, where: str = "") -> None:
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[note]}"),
            console=console,
            transient=False,
        )
        self._overall = self.progress.add_task("sweep", total=kernels, note=where)
        self._tasks: dict[str, Any] = {}
        self._best: dict[str, float] = {}
        self._done: set[str] = set()
        self._lock = threading.Lock()
        self._shown = False

    def __enter__(self) -> SweepProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._shown:
            self.progress.stop()

    def on_event(self, event: Any) -> None:
        with self._lock:
            if not self._shown:
                # Shown from the first event on: a sweep that cannot start prints one line.
                self.progress.start()
                self._shown = True
            if event.job in self._done:
                return  # a late message from a worker
            if event.kind == "start":
                self._start(event.job, event.budget)
            elif event.kind == "trial":
                self._trial(event)
            elif event.kind == "done":
                self._finish(event.job, event.summary or {}, event.note)

    def _start(self, job: str, budget: int) -> None:
        # A kernel starts again when its task is retried after a lost worker.
        if job in self._tasks:
            self.progress.remove_task(self._tasks.pop(job))
        self._best[job] = 1.0
        self._tasks[job] = self.progress.add_task(f"  {job}", total=budget, note="baseline")

    def _trial(self, event: Any) -> None:
        task = self._tasks.get(event.job)
        if task is None:
            return
        if event.speedup is not None:
            self._best[event.job] = max(self._best[event.job], event.speedup)
        note = f"best {self._best[event.job]:.3f}x" if event.phase == "search" else event.phase
        self.progress.update(task, completed=event.used, note=note)

    def _finish(self, job: str, summary: dict[str, Any], note: str) -> None:
        self._done.add(job)
        task = self._tasks.pop(job, None)
        if task is not None:
            self.progress.remove_task(task)
        self.progress.advance(self._overall)
        line = f"{job}: {_outcome_text(summary)}" + (f" ({note})" if note else "")
        self.progress.console.print(line, markup=False, highlight=False)


def _outcome_text(summary: dict[str, Any]) -> str:
    if summary.get("status") != "tuned":
        return f"skipped: {' '.join(str(summary.get('reason', '')).split())[:200]}"
    if not summary.get("best_config"):
        return "nothing beats Numba's default beyond noise"
    return speedup_text(summary)
