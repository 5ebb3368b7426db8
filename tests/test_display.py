"""What people see: the results table at 80 columns, and progress written to a log."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from autotune._display import results_table
from autotune._progress import ProgressCallback, SweepProgress
from autotune.measure._timing import summarize
from autotune.records import MeasureResult, Status, TrialRecord
from autotune.result import ResultStatus, TuningResult
from autotune.sweep import SweepEvent
from tests._helpers import CORPUS

STAMP = r"\[\d\d:\d\d:\d\d\] "


class FakeClock:
    """Seconds that pass only when a test says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _log() -> Console:
    """A console like stderr redirected to a file: not a terminal."""
    return Console(file=io.StringIO(), width=80)


def _lines(console: Console) -> list[str]:
    text = console.file.getvalue()  # type: ignore[attr-defined]
    return text.splitlines()


def _summary(kernel: str = "dot", **changes: Any) -> TuningResult:
    summary = {
        "kernel": kernel,
        "status": "tuned",
        "baseline_s": 1.23e-3,
        "best_s": 9.12e-4,
        "speedup": 1.35,
        "speedup_ci95": [1.30, 1.40],
        "best_config": {"fastmath": True},
        "trials": 40,
        "failed": 3,
        "rejected_wrong": 0,
    }
    return TuningResult.from_dict(summary | changes)


def _trial(phase: str, speedup: float | None, status: Status = Status.OK) -> TrialRecord:
    timing = None
    if speedup is not None:
        base = 1.2e-3
        rounds = [[base / speedup] * 2] * 2
        timing = summarize([[base] * 2] * 2, rounds, 1)
    result = MeasureResult(status, timing=timing)
    return TrialRecord("dot", "w", "t", f"{phase}-{speedup}", {}, phase, result)


def test_the_results_table_shows_every_header_word_whole_at_80_columns() -> None:
    console = Console(file=io.StringIO(), width=80)
    long_name = _summary("corpora/cpu/covariance.py:covariance")
    console.print(results_table([long_name, _summary(status="skipped", reason="no")]))
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "…" not in text
    headers = ("kernel", "status", "baseline", "best", "speedup (95% CI)", "trials", "failed")
    for word in " ".join((*headers, "wrong")).split():
        assert word in text
    assert all(len(line) <= 80 for line in text.splitlines())
    assert "skipped" in text and "1.23 ms" in text and "1.35x" in text


def test_tuning_progress_to_a_file_is_plain_lines_written_as_it_goes() -> None:
    console, clock = _log(), FakeClock()
    with ProgressCallback(console, interval_s=10, clock=clock) as progress:
        progress.on_kernel_start("dot", 40)
        progress.on_trial(_trial("baseline", 1.0), 0)
        assert re.fullmatch(STAMP + r"dot: baseline 1\.2 ms", _lines(console)[-1])
        for spent in range(1, 21):
            clock.now += 1  # a line at most every 10 s: two in these 20 trials
            progress.on_trial(_trial("search", 1.0 + spent / 100), spent)
        during = [line for line in _lines(console) if "search:" in line]
        assert len(during) == 2
        assert re.fullmatch(STAMP + r"dot: search: 20/40 configs measured, best 1\.20x", during[-1])
        progress.on_trial(_trial("search", None, Status.BUILD_FAILED), 21)
        progress.on_trial(_trial("confirm", 1.3), 21)
        # The search stage ended: its line, whatever the time since the last one.
        assert _lines(console)[-1].endswith("dot: search: 21/40 configs measured, best 1.20x")
        progress.on_kernel_end(_summary())
    lines = _lines(console)
    assert all(re.match(STAMP, line) for line in lines)
    assert lines[0].endswith("dot: started, budget 40 configs")
    assert lines[-2].endswith("dot: confirm: 1 measured in fresh processes, best 1.30x")
    assert lines[-1].endswith("dot: tuned 1.35x [1.30, 1.40]")


def test_a_skipped_kernel_says_why_in_plain_progress() -> None:
    console = _log()
    with ProgressCallback(console) as progress:
        progress.on_kernel_start("dot", 40)
        progress.on_kernel_end(_summary(status="skipped", reason="baseline does not\ncompile"))
    assert _lines(console)[-1].endswith("dot: skipped: baseline does not compile")


def test_tuning_progress_on_a_terminal_stays_a_live_display() -> None:
    console = Console(file=io.StringIO(), width=80, force_terminal=True)
    with ProgressCallback(console) as progress:
        progress.on_kernel_start("dot", 40)
        progress.on_trial(_trial("baseline", 1.0), 0)
    assert "dot: baseline" not in console.file.getvalue()  # type: ignore[attr-defined]


def _event(kind: str, job: str, **fields: Any) -> SweepEvent:
    return SweepEvent(kind, job, **fields)


def test_sweep_progress_to_a_file_is_a_line_per_kernel_started_and_finished() -> None:
    console, clock = _log(), FakeClock()
    with SweepProgress(console, 3, "here", interval_s=10, clock=clock) as progress:
        progress.on_event(_event("done", "old", result=_summary("old"), note="finished earlier"))
        progress.on_event(_event("start", "dot", budget=40))
        progress.on_event(_event("start", "axpy", budget=40))
        clock.now += 11
        progress.on_event(_event("trial", "dot", used=5, phase="search", speedup=1.2))
        progress.on_event(_event("trial", "dot", used=6, phase="search", speedup=1.1))
        assert _lines(console)[-1].endswith("dot: search: 5/40 configs measured, best 1.20x")
        skipped = _summary("axpy", status="skipped", reason="no size 'small'")
        progress.on_event(_event("done", "axpy", result=skipped))
        progress.on_event(_event("done", "dot", result=_summary("dot")))
        progress.on_event(_event("trial", "dot", used=7, phase="search"))  # a late message
    lines = [re.sub(STAMP, "", line) for line in _lines(console)]
    assert lines == [
        "sweep: 3 kernel(s) (here)",
        "[1/3] old: tuned 1.35x [1.30, 1.40] (finished earlier)",
        "[2/3] dot: started, budget 40 configs",
        "[3/3] axpy: started, budget 40 configs",
        "dot: search: 5/40 configs measured, best 1.20x",
        "[2/3] axpy: skipped: no size 'small'",
        "[3/3] dot: tuned 1.35x [1.30, 1.40]",
    ]


@pytest.mark.slow
def test_tune_with_stderr_to_a_file_logs_each_stage(tmp_path: Path) -> None:
    log = tmp_path / "stderr.log"
    command = [
        sys.executable,
        "-m",
        "autotune.cli",
        "tune",
        str(CORPUS / "dot.py"),
        "--budget",
        "3",
        "--size",
        "small",
        "--no-simplify",
        "--confirm-top",
        "1",
        "--timing",
        "lean",
        "--db",
        str(tmp_path / "t.db"),
    ]
    with log.open("w") as stderr:
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            # The first line is in the file while the kernel is still being tuned.
            deadline = time.monotonic() + 120
            while "dot: started" not in log.read_text() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert proc.poll() is None, log.read_text()
            proc.wait(timeout=240)
        finally:
            proc.kill()
    text = log.read_text()
    expected = [
        r"dot: started, budget 3 configs",
        r"dot: baseline \S+ \S?s",
        r"dot: search: 3/3 configs measured.*",
        r"dot: (tuned|nothing beats|skipped).*",
    ]
    found = [re.search("^" + STAMP + line + "$", text, re.MULTILINE) for line in expected]
    assert all(found), text
    assert sorted(found, key=lambda m: m.start()) == found, text  # type: ignore[union-attr]


def test_result_notes_list_each_kernels_warnings():
    from autotune._display import result_notes

    result = TuningResult("k", ResultStatus.TUNED, warnings=("w1", "w2"))
    lines = result_notes([result])
    assert lines[1:] == ["k: warning: w1", "k: warning: w2"]


def test_the_table_and_notes_say_what_speedups_are_measured_against() -> None:
    from autotune._display import result_notes

    written = {"kind": "as-written", "options": {"fastmath": True}}
    winner = _summary(baseline=written, best_changes={"flags.fastmath": "off"})
    no_winner = _summary("k", baseline=written, best_config=None, speedup=1.0)
    console = Console(file=io.StringIO(), width=80)
    console.print(results_table([winner, no_winner]))
    assert "speedups against each kernel as written (its own @njit options)" in _lines(console)[-1]
    assert result_notes([winner, no_winner]) == [
        "dot: flags.fastmath=off",
        "dot: timed against the kernel as written, njit(fastmath=True)",
        "k: nothing beats the kernel as written, njit(fastmath=True) beyond noise",
    ]
    plain = _summary(baseline={"kind": "numba-default", "options": {}})
    console = Console(file=io.StringIO(), width=80)
    console.print(results_table([plain]))
    assert "speedups against Numba's default build (plain njit)" in _lines(console)[-1]
    assert results_table([_summary()]).caption is None  # results from before the record
