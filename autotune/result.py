"""The outcome of tuning one kernel: :class:`TuningResult`.

A result crosses every boundary after the tuning loop: the tuner returns it, sweeps
carry it between processes, the database stores it (as :meth:`TuningResult.to_dict`
JSON) and the command line, reports and progress displays read it. Its JSON is the
per-kernel object of ``autotune tune --json`` and ``autotune sweep --json``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import platform
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from autotune.deploy import TunedDispatcher
    from autotune.kernels import KernelDecl
    from autotune.program import Target
    from autotune.space import SearchSpace


class ResultStatus(StrEnum):
    """Whether a kernel was tuned. ``skipped`` kernels say why in ``reason``."""

    TUNED = "tuned"
    SKIPPED = "skipped"


#: Trial counts of a tuned kernel, in the order its JSON lists them.
_COUNT_KEYS = (
    "trials",
    "failed",
    "rejected_wrong",
    "loop_legality_bugs",
    "invalid",
    "measured_this_run",
    "resumed",
    "simplify_trials",
    "refine_trials",
    "confirm_trials",
)
#: Keys of a tuned kernel's measurements, in the order its JSON lists them.
_TUNED_KEYS = (
    "ir_hash",
    "workload_key",
    "target_key",
    "baseline_s",
    "best_s",
    "speedup",
    "speedup_ci95",
    "best_config",
    "best_changes",
    *_COUNT_KEYS,
)
#: Keys every result's JSON carries after its status-specific ones.
_COMMON_KEYS = (
    "warnings",
    "source",
    "spec",
    "source_digest",
    "run_id",
    "finished",
    "arg_types",
    "inputs",
    "best_code_hash",
    "space_digest",
    "size",
    "seed",
    "options",
    "provenance",
    "baseline",
)


@dataclass(frozen=True, slots=True)
class TuningResult:
    """What tuning one kernel found, and how much it measured to find it.

    A ``tuned`` kernel has a baseline and, when a config beat Numba's default build
    beyond noise, ``best_config`` (the full config; ``best_changes`` holds only its
    non-default settings), its confirmed ``speedup`` (baseline time / best time) and
    ``speedup_ci95``. Without a winner ``best_config`` is ``None`` and the speedup
    1.0. A ``skipped`` kernel was not tuned, and ``reason`` says why; ``finished`` is
    false when a sweep could not finish it this time (running the sweep again retries
    it).

    Trial counts: ``trials`` configs were built and measured for the search (all runs),
    ``failed`` of them did not build or run, ``rejected_wrong`` computed wrong results
    (``loop_legality_bugs`` of these through a loop transformation the legality
    checks allowed), and ``invalid`` configs broke a constraint and were never built.
    ``measured_this_run`` counts this run's measurements, ``resumed`` the search
    trials taken from the database; ``refine_trials``, ``simplify_trials`` and
    ``confirm_trials`` are re-measurements outside the budget. The JSON adds
    ``search_measurements`` (this run's) and ``compilations`` (:attr:`compilations`).

    Identity: ``source`` and ``spec`` rebuild the kernel (see :meth:`declaration`);
    ``ir_hash``, ``workload_key`` and ``target_key`` name what was measured where;
    ``arg_types`` and ``inputs`` describe the problem instance, ``size`` and
    ``seed`` how it was made. ``best_code_hash`` identifies the winner's optimized
    code, ``space_digest`` the search space, ``options`` the run's
    :class:`~autotune.tuner.TuneOptions` and ``provenance`` the target, toolchain,
    run id and time. Sweeps add ``source_digest`` (the kernel files' hash) and
    ``run_id``.

    ``baseline`` is what every speedup is measured against (see
    :func:`baseline_record`): ``{"kind": "as-written", "options": {"fastmath": true}}``
    for a kernel timed against its own ``@njit(fastmath=True)`` build, or ``kind``
    ``numba-default`` with no options. Every candidate was built on those options.
    ``{}`` for a result older than the record (those were all ``numba-default``).

    ``extra`` keeps keys of a stored dict that this version does not know, so that a
    result read from a newer database writes them back unchanged. The mappings are
    shared, not copied: treat them as read-only (:meth:`to_dict` returns copies).
    """

    kernel: str
    status: ResultStatus
    reason: str = ""
    ir_hash: str | None = None
    workload_key: str | None = None
    target_key: str | None = None
    baseline_s: float | None = None
    best_s: float | None = None
    speedup: float = 1.0
    speedup_ci95: tuple[float, float] = (1.0, 1.0)
    best_config: dict[str, Any] | None = None
    best_changes: dict[str, Any] = field(default_factory=dict)
    trials: int = 0
    failed: int = 0
    rejected_wrong: int = 0
    loop_legality_bugs: int = 0
    invalid: int = 0
    measured_this_run: int = 0
    resumed: int = 0
    simplify_trials: int = 0
    refine_trials: int = 0
    confirm_trials: int = 0
    warnings: tuple[str, ...] = ()
    source: str | None = None
    spec: str | None = None
    source_digest: str | None = None
    run_id: str | None = None
    finished: bool = True
    arg_types: str | None = None
    inputs: str | None = None
    best_code_hash: str | None = None
    space_digest: str | None = None
    size: str | None = None
    seed: int | None = None
    options: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    baseline: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Accept the JSON spellings (a status string, lists), so that equal results
        # compare equal however they were made.
        object.__setattr__(self, "status", ResultStatus(self.status))
        lo, hi = self.speedup_ci95
        object.__setattr__(self, "speedup_ci95", (float(lo), float(hi)))
        object.__setattr__(self, "warnings", tuple(self.warnings))

    @property
    def tuned(self) -> bool:
        return self.status is ResultStatus.TUNED

    @property
    def has_winner(self) -> bool:
        """Whether a config beat the baseline beyond noise."""
        return self.tuned and bool(self.best_config)

    @property
    def baseline_kind(self) -> str:
        """``as-written`` or ``numba-default``; the latter for results that do not
        record it (every earlier release measured against Numba's default build)."""
        from autotune.kernels import NUMBA_DEFAULT

        return str(self.baseline.get("kind", NUMBA_DEFAULT))

    @property
    def baseline_options(self) -> dict[str, Any]:
        """The ``numba.njit`` options of the baseline (and the base of every
        candidate), as Numba takes them."""
        from autotune.kernels import njit_options_from_json

        options = self.baseline.get("options")
        return njit_options_from_json(options) if isinstance(options, Mapping) else {}

    def describe_baseline(self) -> str:
        """The baseline in a few words, e.g. ``the kernel as written,
        njit(fastmath=True)`` or ``Numba's default build``."""
        from autotune.kernels import describe_baseline

        return describe_baseline(self.baseline_kind, self.baseline_options)

    @property
    def compilations(self) -> int:
        """Candidate builds this run made: each search measurement, refine and simplify
        trial once, each confirmed candidate twice (two fresh processes). The baseline's
        own build is not counted."""
        return (
            self.measured_this_run
            + self.refine_trials
            + self.simplify_trials
            + 2 * self.confirm_trials
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of this result (a fresh copy, safe to change).

        A tuned result lists its measurements (``baseline_s`` ... ``refine_trials``);
        a skipped one its ``reason`` instead. Every result then lists the keys of
        ``_COMMON_KEYS`` (``None`` where unknown), then ``extra``.
        """
        data: dict[str, Any] = {"kernel": self.kernel, "status": str(self.status)}
        if not self.tuned or self.reason:
            data["reason"] = self.reason
        measured = _TUNED_KEYS if self.tuned else ("ir_hash", "workload_key", "target_key")
        for key in (*measured, *_COMMON_KEYS):
            data[key] = _json_value(getattr(self, key))
            if key == "confirm_trials":
                data["search_measurements"] = self.measured_this_run
                data["compilations"] = self.compilations
        for key, value in self.extra.items():
            data.setdefault(key, copy.deepcopy(value))
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TuningResult:
        """The result stored as ``data`` by this or any other version.

        Missing keys take their defaults; unknown keys, and values this version
        cannot read (a status it does not know, a count that is not a number), are
        kept in ``extra``. Never raises for a mapping.
        """
        values: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in data.items():
            if key in _DERIVED_KEYS:
                continue  # recomputed from the counts
            convert = _READERS.get(key)
            if convert is None:
                extra[key] = value
                continue
            try:
                values[key] = convert(value)
            except (TypeError, ValueError):
                extra[key] = value
        values.setdefault("kernel", "")
        values.setdefault("status", ResultStatus.SKIPPED)
        if "status" in extra and not values.get("reason"):
            values["reason"] = f"status {extra['status']!r} is unknown to this version"
        return cls(**values, extra=extra)

    def declaration(self) -> KernelDecl:
        """The kernel's declaration, loaded again from ``source`` (and ``spec``).

        Raises:
            InputError: the result names no source, or it no longer declares the kernel.
        """
        from pathlib import Path

        from autotune.api import select_kernels
        from autotune.errors import InputError

        if not self.source:
            raise InputError(f"kernel {self.kernel!r}: the result does not name its source")
        spec = Path(self.spec) if self.spec else None
        (decl,) = select_kernels(Path(self.source), spec, [self.kernel])
        return decl

    def compile(
        self, *, njit_options: Mapping[str, Any] | None = None, cache: bool = False
    ) -> TunedDispatcher:
        """The kernel compiled with its best config: a callable like a Numba dispatcher
        (a CUDA kernel: a :class:`~autotune.backends._cupy.CudaArtifact` for the tuned
        problem size, called with NumPy arrays or launched on device arrays with
        ``on_device``).

        Without a winner that is the baseline's build. Delegates to
        :func:`autotune.deploy.compile_config` (see there for ``njit_options`` and
        ``cache``); ``njit_options`` default to the options the result was tuned
        against (its ``baseline``), so the build is the measured one.

        Raises:
            InputError: the kernel was skipped, or its source cannot be loaded again.
        """
        from autotune.errors import InputError

        if not self.tuned:
            raise InputError(f"kernel {self.kernel!r} was not tuned: {self.reason}")
        decl = self.declaration()
        if getattr(decl, "backend", "numba") == "cuda":
            from autotune.backends._cupy import compile_tuned

            return compile_tuned(decl, dict(self.best_config or {}), self.size)  # type: ignore[return-value]
        from autotune.deploy import compile_config  # the deploy package loads Numba

        if njit_options is None and self.baseline:
            njit_options = self.baseline_options
        return compile_config(
            decl, dict(self.best_config or {}), njit_options=njit_options, cache=cache
        )


def baseline_record(kind: str, njit_options: Mapping[str, Any]) -> dict[str, Any]:
    """A result's ``baseline``: its ``kind`` and the ``numba.njit`` ``options`` of the
    build every candidate was timed against (JSON form: a fastmath flag set is a
    sorted list)."""
    from autotune.kernels import njit_options_json

    return {"kind": kind, "options": njit_options_json(njit_options)}


def space_digest(space: SearchSpace) -> str:
    """A stable hash of ``space``'s parameters, domains and conditions: equal for equal
    spaces, across processes and releases that describe them alike."""
    text = json.dumps(space.describe(), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def run_provenance(target: Target, run_id: str) -> dict[str, Any]:
    """Where and when a result was made: the target, toolchain versions and run id."""
    from autotune import __version__

    return {
        "target": target.as_dict(),
        "run_id": run_id,
        "numba": getattr(target, "numba_version", None),
        "llvmlite": getattr(target, "llvmlite_version", None),
        "autotune": __version__,
        "python": platform.python_version(),
        "time": time.time(),
    }


def jsonable(value: Any) -> Any:
    """``value`` as JSON reads it back (tuples become lists, keys strings): a result
    built from it equals the same result read from the database."""
    return json.loads(json.dumps(value, default=str))


def _json_value(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, dict | list):
        return copy.deepcopy(value)
    return value


def _optional(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else convert(value)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"not text: {value!r}")
    return value


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"not a number: {value!r}")
    return float(value)


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"not a count: {value!r}")
    return value


def _mapping(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError(f"not a mapping: {value!r}")
    return dict(value)


def _interval(value: Any) -> tuple[float, float]:
    lo, hi = value
    return _number(lo), _number(hi)


def _texts(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        raise TypeError(f"not a list of text: {value!r}")
    return tuple(_text(v) for v in value)


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"not true or false: {value!r}")
    return value


_STRING_KEYS = ("kernel", "reason")
_OPTIONAL_STRING_KEYS = (
    "ir_hash",
    "workload_key",
    "target_key",
    "source",
    "spec",
    "source_digest",
    "run_id",
    "arg_types",
    "inputs",
    "best_code_hash",
    "space_digest",
    "size",
)
#: Keys ``to_dict`` writes that are computed from others, skipped when reading.
_DERIVED_KEYS = frozenset({"search_measurements", "compilations"})
#: How each known key of a stored dict is read; a reader raises for a value it refuses.
_READERS: dict[str, Callable[[Any], Any]] = {
    "status": ResultStatus,
    **{key: _text for key in _STRING_KEYS},
    **{key: _optional(_text) for key in _OPTIONAL_STRING_KEYS},
    **{key: _count for key in _COUNT_KEYS},
    "baseline_s": _optional(_number),
    "best_s": _optional(_number),
    "speedup": _number,
    "speedup_ci95": _interval,
    "best_config": _optional(_mapping),
    "best_changes": _mapping,
    "warnings": _texts,
    "finished": _flag,
    "seed": _optional(_count),
    "options": _mapping,
    "provenance": _mapping,
    "baseline": _mapping,
}
