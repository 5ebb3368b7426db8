"""Progress of tuning and of sweeps, for people watching or reading a log.

On a terminal it is live rich bars. Anything else (a file, a pipe) gets plain
timestamped lines as things happen: rich draws a live display into a file only once,
when it stops, which would leave the log of a long run empty until its end.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from autotune._display import human_seconds, outcome_text
from autotune.callbacks import BaseCallback
from autotune.records import Status, TrialRecord
from autotune.result import ResultStatus, TuningResult

#: Least seconds between two progress lines about one kernel within one stage, in plain
#: output: often enough to show a long stage moving, rarely enough to keep a log short.
PLAIN_INTERVAL_S = 10.0

Clock = Callable[[], float]
#: Shown for a ``done`` event that carries no result (executors always send one).
_NO_RESULT = TuningResult("", ResultStatus.SKIPPED, "no result reported")


def is_live(console: Console) -> bool:
    """Whether ``console`` redraws a live display as it changes (an interactive terminal,
    or Jupyter); elsewhere progress is written as plain lines."""
    return console.is_interactive or console.is_jupyter


class PlainLines:
    """Writes ``[HH:MM:SS] text`` lines to a console, each whole and at once (rich
    flushes after every print; soft wrapping keeps a long line on one line)."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def write(self, text: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        self.console.print(f"[{stamp}] {text}", markup=False, highlight=False, soft_wrap=True)


class _Throttle:
    """Whether an optional line about a key is due: ``interval_s`` after the last line
    about it, whatever that line was."""

    def __init__(self, interval_s: float, clock: Clock) -> None:
        self._interval_s, self._clock = interval_s, clock
        self._last: dict[str, float] = {}

    def wrote(self, key: str) -> None:
        self._last[key] = self._clock()

    def due(self, key: str) -> bool:
        return self._clock() - self._last.get(key, float("-inf")) >= self._interval_s


@dataclass
class _Stage:
    """The trials measured so far in one phase (search, refine, ...) of one kernel."""

    phase: str = ""
    trials: int = 0
    #: The best speedup over the baseline among trials measured fine; None before one.
    best: float | None = None

    def add(self, speedup: float | None) -> None:
        self.trials += 1
        if speedup is not None:
            self.best = speedup if self.best is None else max(self.best, speedup)

    def text(self, used: int, budget: int) -> str:
        """What the stage has done so far; ``used`` of ``budget`` configs are spent."""
        best = "" if self.best is None else f", best {self.best:.2f}x"
        if self.phase == "search":
            return f"search: {used}/{budget} configs measured{best}"
        if self.phase == "refine":
            return f"refine: {self.trials} contender(s) re-timed{best}"
        if self.phase == "confirm":
            return f"confirm: {self.trials} measured in fresh processes{best}"
        if self.phase == "simplify":
            # Simplify trials are timed against the winner, not the baseline.
            return f"simplify: {self.trials} simpler config(s) tried"
        return f"{self.phase}: {self.trials} measured{best}"


def _ok_speedup(record: TrialRecord) -> float | None:
    result = record.result
    return result.speedup if result.status is Status.OK and result.speedup else None


def _baseline_text(record: TrialRecord) -> str:
    result = record.result
    if result.status is Status.OK and result.timing is not None:
        return f"baseline {human_seconds(result.timing.baseline_s)}"
    return f"baseline {result.status.value}"


class _TuneView(BaseCallback):
    """How tuning progress is shown: a callback that is started and stopped around it."""

    def start(self) -> None:
        """Tuning begins."""

    def stop(self) -> None:
        """Tuning is over, or failed."""


class _LiveTune(_TuneView):
    """A rich progress bar per kernel, showing the best search-phase speedup so far."""

    def __init__(self, console: Console) -> None:
        self.progress = _progress(console)
        self._task: Any = None
        self._best = 1.0

    def start(self) -> None:
        self.progress.start()

    def stop(self) -> None:
        self.progress.stop()

    def on_kernel_start(self, kernel: str, budget: int) -> None:
        self._best = 1.0
        self._task = self.progress.add_task(kernel, total=budget, note="baseline")

    def on_trial(self, record: TrialRecord, spent: int) -> None:
        speedup = _ok_speedup(record)
        if record.phase == "search" and speedup:
            self._best = max(self._best, speedup)
        note = f"best {self._best:.3f}x" if record.phase == "search" else record.phase
        if record.phase == "confirm":
            note = "confirming winners"
        self.progress.update(self._task, completed=spent, note=note)

    def on_note(self, kernel: str, text: str) -> None:
        self.progress.console.print(f"{kernel}: {text}", highlight=False)

    def on_kernel_end(self, result: TuningResult) -> None:
        note = f"done: {result.speedup:.3f}x" if result.tuned else "skipped"
        self.progress.update(self._task, note=note)


class _PlainTune(_TuneView):
    """Plain lines per kernel: its start, its baseline, one line per finished stage
    (search, refine, confirm, simplify), one within a stage at most every
    ``interval_s``, and its outcome."""

    def __init__(self, console: Console, interval_s: float, clock: Clock) -> None:
        self._lines = PlainLines(console)
        self._throttle = _Throttle(interval_s, clock)
        self._kernel, self._budget, self._used = "", 0, 0
        self._stage = _Stage()

    def _say(self, text: str) -> None:
        self._lines.write(f"{self._kernel}: {text}")
        self._throttle.wrote(self._kernel)

    def on_kernel_start(self, kernel: str, budget: int) -> None:
        self._kernel, self._budget, self._used = kernel, budget, 0
        self._stage = _Stage()
        self._say(f"started, budget {budget} configs")

    def on_trial(self, record: TrialRecord, spent: int) -> None:
        self._used = spent
        if record.phase != self._stage.phase:
            self._end_stage()
            self._stage = _Stage(record.phase)
        self._stage.add(_ok_speedup(record))
        if record.phase == "baseline":
            self._say(_baseline_text(record))
        elif self._throttle.due(self._kernel):
            self._say(self._stage.text(spent, self._budget))

    def on_note(self, kernel: str, text: str) -> None:
        self._lines.write(f"{kernel}: {text}")

    def _end_stage(self) -> None:
        # The baseline is one trial, already reported as it was measured.
        if self._stage.trials and self._stage.phase != "baseline":
            self._say(self._stage.text(self._used, self._budget))

    def on_kernel_end(self, result: TuningResult) -> None:
        self._end_stage()
        self._stage = _Stage()
        self._say(outcome_text(result))


class ProgressCallback(BaseCallback):
    """Progress of tuning on ``console``: a live bar per kernel on a terminal, plain
    timestamped lines elsewhere (see :class:`_PlainTune`). Use it as a context manager
    around the tuning."""

    def __init__(
        self, console: Console, interval_s: float = PLAIN_INTERVAL_S, clock: Clock = time.monotonic
    ) -> None:
        live = is_live(console)
        self._view: _TuneView = (
            _LiveTune(console) if live else _PlainTune(console, interval_s, clock)
        )

    def __enter__(self) -> ProgressCallback:
        self._view.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._view.stop()

    def on_kernel_start(self, kernel: str, budget: int) -> None:
        self._view.on_kernel_start(kernel, budget)

    def on_trial(self, record: TrialRecord, spent: int) -> None:
        self._view.on_trial(record, spent)

    def on_note(self, kernel: str, text: str) -> None:
        self._view.on_note(kernel, text)

    def on_kernel_end(self, result: TuningResult) -> None:
        self._view.on_kernel_end(result)


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[note]}"),
        console=console,
        transient=False,
    )


class _SweepView:
    """How a sweep's progress is shown; :class:`SweepProgress` calls it under a lock,
    never again for a kernel after its ``finish``."""

    def begin(self) -> None:
        """The first event arrived."""

    def stop(self) -> None:
        """The sweep is over (only called after ``begin``)."""

    def start(self, job: str, budget: int) -> None:
        """``job`` starts, or starts again when its task is retried after a lost worker."""

    def trial(self, event: Any) -> None:
        """A trial of a started job was measured."""

    def finish(self, job: str, result: TuningResult, note: str) -> None:
        """``job`` is done, in this run or (``note``) an earlier one."""


class _LiveSweep(_SweepView):
    """A bar for the whole corpus and one per kernel being tuned; a kernel's bar is
    replaced by one line with its result when it is done."""

    def __init__(self, console: Console, kernels: int, where: str) -> None:
        self.progress = _progress(console)
        self._overall = self.progress.add_task("sweep", total=kernels, note=where)
        self._tasks: dict[str, Any] = {}
        self._best: dict[str, float] = {}

    def begin(self) -> None:
        self.progress.start()

    def stop(self) -> None:
        self.progress.stop()

    def start(self, job: str, budget: int) -> None:
        if job in self._tasks:
            self.progress.remove_task(self._tasks.pop(job))
        self._best[job] = 1.0
        self._tasks[job] = self.progress.add_task(f"  {job}", total=budget, note="baseline")

    def trial(self, event: Any) -> None:
        task = self._tasks.get(event.job)
        if task is None:
            return
        if event.speedup is not None:
            self._best[event.job] = max(self._best[event.job], event.speedup)
        note = f"best {self._best[event.job]:.3f}x" if event.phase == "search" else event.phase
        self.progress.update(task, completed=event.used, note=note)

    def finish(self, job: str, result: TuningResult, note: str) -> None:
        task = self._tasks.pop(job, None)
        if task is not None:
            self.progress.remove_task(task)
        self.progress.advance(self._overall)
        line = f"{job}: {outcome_text(result)}" + (f" ({note})" if note else "")
        self.progress.console.print(line, markup=False, highlight=False)


class _PlainSweep(_SweepView):
    """Plain lines: one when the sweep begins, one per kernel started and finished with
    its count (``[n/total]``: on a start line the kernel's number in order of starting,
    on a finish line how many are done), and one within a kernel at most every
    ``interval_s``."""

    def __init__(
        self, console: Console, kernels: int, where: str, interval_s: float, clock: Clock
    ) -> None:
        self._lines = PlainLines(console)
        self._throttle = _Throttle(interval_s, clock)
        self._total, self._where = kernels, where
        self._number: dict[str, int] = {}
        self._done = 0
        self._budget: dict[str, int] = {}
        self._stage: dict[str, _Stage] = {}

    def _say(self, job: str, text: str) -> None:
        self._lines.write(text)
        self._throttle.wrote(job)

    def begin(self) -> None:
        where = f" ({self._where})" if self._where else ""
        self._lines.write(f"sweep: {self._total} kernel(s){where}")

    def start(self, job: str, budget: int) -> None:
        again = " again" if job in self._number else ""
        number = self._number.setdefault(job, len(self._number) + 1)
        self._budget[job], self._stage[job] = budget, _Stage()
        self._say(job, f"[{number}/{self._total}] {job}: started{again}, budget {budget} configs")

    def trial(self, event: Any) -> None:
        stage = self._stage.get(event.job)
        if stage is None:
            return
        if stage.phase != event.phase:
            stage = self._stage[event.job] = _Stage(event.phase)
        stage.add(event.speedup)
        if self._throttle.due(event.job):
            self._say(event.job, f"{event.job}: {stage.text(event.used, self._budget[event.job])}")

    def finish(self, job: str, result: TuningResult, note: str) -> None:
        self._done += 1
        self._number.setdefault(job, len(self._number) + 1)
        self._stage.pop(job, None)
        line = f"[{self._done}/{self._total}] {job}: {outcome_text(result)}"
        self._say(job, line + (f" ({note})" if note else ""))


class SweepProgress:
    """Progress of a sweep: live bars on a terminal (see :class:`_LiveSweep`), plain
    timestamped lines elsewhere (see :class:`_PlainSweep`).

    Takes :class:`~autotune.sweep.SweepEvent` values from any thread. Shows nothing
    before the first event, so that a sweep that cannot start prints just its error.
    """

    def __init__(
        self,
        console: Console,
        kernels: int,
        where: str = "",
        interval_s: float = PLAIN_INTERVAL_S,
        clock: Clock = time.monotonic,
    ) -> None:
        self._view: _SweepView = (
            _LiveSweep(console, kernels, where)
            if is_live(console)
            else _PlainSweep(console, kernels, where, interval_s, clock)
        )
        self._done: set[str] = set()
        self._lock = threading.Lock()
        self._shown = False

    def __enter__(self) -> SweepProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._shown:
            self._view.stop()

    def on_event(self, event: Any) -> None:
        with self._lock:
            if not self._shown:
                self._view.begin()
                self._shown = True
            if event.job in self._done:
                return  # a late message from a worker
            if event.kind == "start":
                self._view.start(event.job, event.budget)
            elif event.kind == "trial":
                self._view.trial(event)
            elif event.kind == "done":
                self._done.add(event.job)
                result = event.result or _NO_RESULT
                self._view.finish(event.job, result, event.note)
