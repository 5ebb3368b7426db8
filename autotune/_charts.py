"""The report's plots: matplotlib figures rendered to base64 PNGs for embedding.

Each function returns ``""`` when there is nothing to plot, so the page leaves the
figure out instead of showing an empty one.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from autotune.report import KernelResult

#: Options shown in the frequency chart (the table beside it lists them all).
MAX_CHART_OPTIONS = 20
#: Curves that still get a legend; more would hide the plot.
MAX_LEGEND_ENTRIES = 12
WINNER_COLOR, NO_WINNER_COLOR = "#4c78a8", "#b0b0b0"


def speedup_chart(kernels: Sequence[KernelResult]) -> str:
    """Confirmed speedup per tuned kernel with its 95% CI; kernels without a winner are
    grey bars at 1.0 without an interval."""
    tuned = [k for k in kernels if k.tuned]
    if not tuned:
        return ""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(4.0, 0.5 * len(tuned) + 2), 3.4))
    winners = [i for i, k in enumerate(tuned) if k.has_winner]
    others = [i for i, k in enumerate(tuned) if not k.has_winner]
    if others:  # no winner: the default build stays, at 1.0, with no interval to show
        ax.bar(others, [1.0] * len(others), color=NO_WINNER_COLOR)
    if winners:
        speedups = [tuned[i].result.speedup for i in winners]
        cis = [tuned[i].result.speedup_ci95 for i in winners]
        errors = [
            [s - lo for s, (lo, _) in zip(speedups, cis, strict=True)],
            [hi - s for s, (_, hi) in zip(speedups, cis, strict=True)],
        ]
        ax.bar(winners, speedups, yerr=errors, color=WINNER_COLOR, capsize=3)
    ax.set_xticks(range(len(tuned)), [_text(k.label) for k in tuned])
    ax.axhline(1.0, color="#888", linewidth=0.8)
    ax.set_ylabel("speedup over Numba default")
    ax.tick_params(axis="x", rotation=60)
    for tick in ax.get_xticklabels():
        tick.set_horizontalalignment("right")
    return _png(fig)


def convergence_chart(kernels: Sequence[KernelResult]) -> str:
    """Best search-phase speedup after each measured config, one curve per kernel."""
    curves = [k for k in kernels if k.curve]
    if not curves:
        return ""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    for kernel in curves:
        ax.plot(range(1, len(kernel.curve) + 1), kernel.curve, label=_text(kernel.label))
    ax.set_xlabel("configs measured")
    ax.set_ylabel("best speedup so far")
    if len(curves) <= MAX_LEGEND_ENTRIES:
        ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.0, 0.5))
    return _png(fig)


def options_chart(frequencies: Sequence[tuple[str, int]]) -> str:
    """How many winning configs use each option, most frequent on top."""
    shown = list(frequencies[:MAX_CHART_OPTIONS])
    if not shown:
        return ""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 0.3 * len(shown) + 1.0))
    names = [_text(name) for name, _ in reversed(shown)]
    ax.barh(names, [n for _, n in reversed(shown)], color=WINNER_COLOR)
    ax.set_xlabel("winning configs")
    ax.xaxis.get_major_locator().set_params(integer=True)
    return _png(fig)


def _text(label: str) -> str:
    """``label`` as literal text: matplotlib reads text between dollar signs as math."""
    return label.replace("$", r"\$")


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # no display: render to memory only
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()
