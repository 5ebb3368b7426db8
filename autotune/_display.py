"""Human-facing rendering for the CLI: units, tables and outcomes (progress displays
are in :mod:`autotune._progress`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.table import Table

from autotune.kernels._options import AS_WRITTEN, NUMBA_DEFAULT
from autotune.result import TuningResult


def human_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def speedup_text(result: TuningResult) -> str:
    if not result.best_config:
        return "none"
    lo, hi = result.speedup_ci95
    # The space lets a narrow table column wrap the interval onto its own line.
    return f"{result.speedup:.2f}x [{lo:.2f}, {hi:.2f}]"


#: Results table columns: header, left-aligned (text, not numbers), and least width: the
#: longest header word or short value ("skipped", "1.23 ms"), so that none is folded. The
#: least widths and borders add up to 78: from 80 columns on, only kernel names and
#: speedup intervals may wrap.
_COLUMNS = (
    ("kernel", True, 6),
    ("status", True, 7),
    ("baseline", False, 8),
    ("best", False, 7),
    ("speedup (95% CI)", False, 8),
    ("trials", False, 6),
    ("failed", False, 6),
    ("wrong", False, 5),
)


def results_table(results: Sequence[TuningResult], title: str = "Tuning results") -> Table:
    """One row per kernel, and a caption saying what the speedups are measured
    against. On a narrow console, headers and cells wrap at spaces (and fold words
    longer than their column) instead of being cut short."""
    table = Table(title=title, caption=baseline_caption(results))
    for header, left, min_width in _COLUMNS:
        table.add_column(
            header,
            justify="left" if left else "right",
            overflow="fold",
            no_wrap=False,
            min_width=min_width,
        )
    for r in results:
        if not r.tuned:
            table.add_row(r.kernel, str(r.status), "-", "-", "-", "-", "-", "-")
            continue
        table.add_row(
            r.kernel,
            str(r.status),
            human_seconds(r.baseline_s),
            human_seconds(r.best_s),
            speedup_text(r),
            str(r.trials),
            str(r.failed),
            str(r.rejected_wrong),
        )
    return table


def baseline_caption(results: Sequence[TuningResult]) -> str | None:
    """What the speedups of ``results`` are measured against, in one line; ``None``
    when no result records it (results of earlier releases)."""
    kinds = {r.baseline_kind for r in results if r.baseline}
    if not kinds:
        return None
    if kinds == {AS_WRITTEN}:
        return "speedups against each kernel as written (its own @njit options)"
    if kinds == {NUMBA_DEFAULT}:
        return "speedups against Numba's default build (plain njit)"
    return "speedups against each kernel's baseline (see the notes)"


def result_notes(results: Sequence[TuningResult], limit: int = 300) -> list[str]:
    """One line per kernel saying what won (only the changes from the default config,
    which is the baseline) or why it was skipped, then the baseline where it is more
    than Numba's default build, then its warnings (e.g. identical input sets), one per
    line."""
    lines = []
    for r in results:
        baseline = r.describe_baseline()
        if not r.tuned:
            reason = r.reason
            lines.append(
                f"{r.kernel}: skipped: {reason[:limit]}{'...' if len(reason) > limit else ''}"
            )
        elif r.best_changes:
            changes = ", ".join(f"{k}={_value(v)}" for k, v in sorted(r.best_changes.items()))
            lines.append(f"{r.kernel}: {changes}")
        else:
            lines.append(f"{r.kernel}: nothing beats {baseline} beyond noise")
        if r.baseline_options and r.best_changes and r.tuned:
            lines.append(f"{r.kernel}: timed against {baseline}")
        if r.loop_legality_bugs:
            lines.append(
                f"{r.kernel}: {r.loop_legality_bugs} loop transformation(s) passed the "
                "legality checks but computed wrong results (rejected; a bug, see the log)"
            )
        lines.extend(f"{r.kernel}: warning: {w}" for w in r.warnings)
    return lines


def _value(value: Any) -> str:
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)


def outcome_text(result: TuningResult) -> str:
    """A kernel's outcome in a few words: its speedup, or why it was skipped."""
    if not result.tuned:
        return f"skipped: {' '.join(result.reason.split())[:200]}"
    if not result.best_config:
        return f"nothing beats {result.describe_baseline()} beyond noise"
    return f"tuned {speedup_text(result)}"
