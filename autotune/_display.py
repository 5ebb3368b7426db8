"""Human-facing rendering for the CLI: units, tables and outcomes (progress displays
are in :mod:`autotune._progress`)."""

from __future__ import annotations

from typing import Any

from rich.table import Table


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
    # The space lets a narrow table column wrap the interval onto its own line.
    return f"{summary['speedup']:.2f}x [{lo:.2f}, {hi:.2f}]"


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


def results_table(summaries: list[dict[str, Any]], title: str = "Tuning results") -> Table:
    """One row per kernel. On a narrow console, headers and cells wrap at spaces (and
    fold words longer than their column) instead of being cut short."""
    table = Table(title=title)
    for header, left, min_width in _COLUMNS:
        table.add_column(
            header,
            justify="left" if left else "right",
            overflow="fold",
            no_wrap=False,
            min_width=min_width,
        )
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
    why it was skipped, then its warnings (e.g. identical input sets), one per line."""
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
        lines.extend(f"{s['kernel']}: warning: {w}" for w in s.get("warnings", ()))
    return lines


def _value(value: Any) -> str:
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)


def outcome_text(summary: dict[str, Any]) -> str:
    """A kernel's outcome in a few words: its speedup, or why it was skipped."""
    if summary.get("status") != "tuned":
        return f"skipped: {' '.join(str(summary.get('reason', '')).split())[:200]}"
    if not summary.get("best_config"):
        return "nothing beats Numba's default beyond noise"
    return f"tuned {speedup_text(summary)}"
