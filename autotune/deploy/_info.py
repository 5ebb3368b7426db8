"""What a decorated function did for a signature, and the check of a config tuned
on another CPU."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: Tolerance of the verification of a config tuned on another CPU, where fastmath or
#: a parallel reduction may reorder arithmetic; other builds must agree exactly.
VERIFY_RTOL = 1e-6


@dataclass(frozen=True, slots=True)
class BuildInfo:
    """How one signature of a :class:`TunedFunction` was built.

    Attributes:
        signature: Numba's argument types.
        outcome: ``hit`` (built with a tuned config), ``miss`` (no entry: Numba's
            default build), ``tuned`` (tuned on this miss, then built), ``stale`` (the
            entry's code hash differs from the build's: default build), ``rejected``
            (a config tuned on another CPU gave other results: default build) or
            ``error`` (the config could not be built: default build).
        config: the config built (``{}``: tuning chose Numba's default build);
            ``None`` where no config applies and Numba's default build runs.
        level: the entry's target match (``exact``, ``same CPU``, ``same ISA level``).
        nearest: another problem size's entry stood in.
        detail: one line for logs.
        refused_config: the config not used (``stale``, ``rejected``, ``error``).
    """

    signature: tuple[Any, ...]
    outcome: str
    config: dict[str, Any] | None = None
    level: str | None = None
    nearest: bool = False
    detail: str = ""
    refused_config: dict[str, Any] | None = None


def fallback(info: BuildInfo, outcome: str, why: str) -> BuildInfo:
    """``info`` turned into Numba's default build, with the reason."""
    return BuildInfo(
        info.signature,
        outcome,
        None,
        info.level,
        info.nearest,
        f"{info.detail}; {outcome}: {why}; Numba's default build",
        info.config,
    )


def disagreement(
    default: Callable[..., Any], tuned: Callable[..., Any], args: tuple[Any, ...], tolerant: bool
) -> str | None:
    """Why ``tuned``'s outputs differ from ``default``'s on copies of ``args`` (every
    array argument and the return value), or ``None``. ``tolerant`` compares within
    :data:`VERIFY_RTOL`, else exactly. A build that raises disagrees."""
    from autotune.measure._verify import collect_outputs, compare_outputs

    outputs: list[int | str] = [i for i, a in enumerate(args) if hasattr(a, "shape")]
    outputs.append("return")
    try:
        want = collect_outputs(default, args, outputs)
        got = collect_outputs(tuned, args, outputs)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return compare_outputs(got, want, outputs, VERIFY_RTOL if tolerant else 0.0, 0.0)
