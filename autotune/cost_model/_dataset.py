"""Measured configs of many programs, read from a database or a compact export.

A :class:`Dataset` holds, per workload (one program at one problem size): its kernel,
IR hash, family, program features, and its trials: the config, phase, status and
speedup over the workload's own baseline, in the order they were measured. It is what
:mod:`autotune.cost_model._evaluate` scores models on and what ``autotune model train
--data`` trains from, without the IR or a database.

The export is gzip-compressed JSON lines (see :func:`write_export`): a header (format,
feature names, how it was made), then one ``workload`` line per workload and one
``trial`` line per measured trial. Configs are stored as measured; feature vectors are
stored once per workload.
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autotune.cost_model._coreset import MeasuredRow
from autotune.cost_model._encoding import (
    TRANSFERABLE_SCHEMA,
    BandFacts,
    facts_from_json,
    facts_to_json,
    stored_loop_facts,
    transferable_matrix,
)
from autotune.cost_model._families import FAMILIES, SYNTHETIC_PREFIX
from autotune.cost_model._program import PROGRAM_FEATURES
from autotune.cost_model._scoring import ROW_NAMES, TRAINED_PHASES

#: Version of the export's lines.
EXPORT_FORMAT = 1


def kernel_family(kernel: str) -> str:
    """The family of a kernel: its hand-written family, ``synthetic-<kind>`` for a
    generated kernel (``syn_s<seed>_<variant>_<index>``), else ``other``."""
    if kernel in FAMILIES:
        return FAMILIES[kernel]
    if kernel.startswith("syn_"):
        from autotune.cost_model._synthetic import KINDS

        index = kernel.rsplit("_", 1)[-1]
        if index.isdigit():
            return SYNTHETIC_PREFIX + KINDS[int(index) % len(KINDS)]
    return "other"


@dataclass(frozen=True, slots=True)
class Measured:
    """One trial: ``config``, ``phase``, ``status`` and ``speedup`` (``None`` unless
    the trial is ok)."""

    config: Mapping[str, Any]
    phase: str
    status: str
    speedup: float | None

    @property
    def usable(self) -> bool:
        """Whether it is a training row: ok, timed against the workload's own baseline."""
        return (
            self.phase in TRAINED_PHASES
            and self.status == "ok"
            and self.speedup is not None
            and math.isfinite(self.speedup)
            and self.speedup > 0
        )


@dataclass(frozen=True, slots=True)
class WorkloadData:
    """One workload's identity, program features and trials (in measured order)."""

    key: str
    kernel: str
    ir_hash: str
    family: str
    arg_types: str
    inputs: str
    target_key: str
    features: Mapping[str, float]
    trials: tuple[Measured, ...] = field(default=())
    #: The latest reported winner (simplified best config) and its confirmed speedup.
    winner: Mapping[str, Any] | None = None
    winner_speedup: float | None = None
    #: The loop facts of the program's space (orders as written, what each loop costs
    #: innermost): see :func:`autotune.cost_model._encoding.loop_facts`.
    loops: Mapping[str, BandFacts] = field(default_factory=dict)

    def coreset_rows(self) -> list[MeasuredRow]:
        """``(program, config, speedup, phase, loop facts)`` of every usable trial and
        of the winner (phase ``winner``), for
        :func:`autotune.cost_model._coreset.program_results`."""
        rows: list[MeasuredRow] = [
            (self.ir_hash, t.config, t.speedup or 0.0, t.phase, self.loops) for t in self.usable()
        ]
        if self.winner and self.winner_speedup:
            rows.append((self.ir_hash, self.winner, self.winner_speedup, "winner", self.loops))
        return rows

    @property
    def synthetic(self) -> bool:
        return self.family.startswith(SYNTHETIC_PREFIX)

    def usable(self) -> list[Measured]:
        return [t for t in self.trials if t.usable]

    def config_gains(self) -> dict[str, tuple[Mapping[str, Any], float]]:
        """Each distinct config's mean log speedup over its usable trials, by its
        canonical JSON."""
        logs: dict[str, list[float]] = {}
        configs: dict[str, Mapping[str, Any]] = {}
        for trial in self.usable():
            key = json.dumps(trial.config, sort_keys=True)
            logs.setdefault(key, []).append(math.log(trial.speedup or 1.0))
            configs[key] = trial.config
        return {k: (configs[k], float(np.mean(v))) for k, v in logs.items()}

    def confirmed_best(self) -> float:
        """The best confirmed log speedup (0 when nothing was confirmed above 1)."""
        confirmed = [
            math.log(t.speedup)
            for t in self.trials
            if t.phase == "confirm" and t.status == "ok" and t.speedup and t.speedup > 0
        ]
        return max([0.0, *confirmed])

    def program_vector(self) -> np.ndarray:
        return np.fromiter((float(self.features.get(n, 0.0)) for n in PROGRAM_FEATURES), float)


@dataclass(frozen=True, slots=True)
class Dataset:
    """Workloads and their trials; ``made`` says where they came from."""

    workloads: tuple[WorkloadData, ...]
    made: Mapping[str, Any] = field(default_factory=dict)
    #: Workloads with trials left out because their IR does not parse (CUDA source).
    unparsed: int = 0

    def __len__(self) -> int:
        return len(self.workloads)

    def programs(self) -> set[str]:
        return {w.ir_hash for w in self.workloads}

    def rows(
        self, workloads: Iterable[WorkloadData] | None = None
    ) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """Training rows (``ROW_NAMES`` columns), speedups, and each row's IR hash,
        of every usable trial of ``workloads`` (default: all)."""
        chosen = self.workloads if workloads is None else tuple(workloads)
        blocks: list[np.ndarray] = []
        speedups: list[float] = []
        groups: list[str] = []
        for workload in chosen:
            usable = workload.usable()
            if not usable:
                continue
            config_part = transferable_matrix([t.config for t in usable], facts=workload.loops)
            program_part = np.broadcast_to(
                workload.program_vector(), (len(usable), len(PROGRAM_FEATURES))
            )
            blocks.append(np.hstack([program_part, config_part]))
            speedups.extend(float(t.speedup or 0.0) for t in usable)
            groups.extend([workload.ir_hash] * len(usable))
        if not blocks:
            return np.zeros((0, len(ROW_NAMES))), np.zeros(0), []
        return np.vstack(blocks), np.array(speedups), groups

    @classmethod
    def from_database(cls, db: Any, target_key: str | None = None) -> Dataset:
        """Every workload of ``db`` with trials (on ``target_key`` only, when given)
        whose IR parses; program features are read from, or cached into, ``db``."""
        from autotune.cost_model._train import _program_features

        trials: dict[str, list[Measured]] = {}
        targets: dict[str, str] = {}
        for record in db.all_trials():
            if target_key is not None and record.target_key != target_key:
                continue
            result = record.result
            speedup = result.speedup if result.status.value == "ok" else None
            trials.setdefault(record.workload_key, []).append(
                Measured(record.config, record.phase, result.status.value, speedup)
            )
            targets[record.workload_key] = record.target_key
        winners = {
            r.workload_key: r
            for r in db.latest_results()
            if r.best_config and (target_key is None or r.target_key == target_key)
        }
        workloads = []
        unparsed = 0
        for workload in db.workloads():
            if workload.key not in trials:
                continue
            features = _program_features(db, workload)
            if features is None:
                unparsed += 1  # not LLVM IR (CUDA source)
                continue
            workloads.append(
                WorkloadData(
                    key=workload.key,
                    kernel=workload.kernel,
                    ir_hash=workload.ir_hash,
                    family=kernel_family(workload.kernel),
                    arg_types=workload.arg_types,
                    inputs=workload.inputs,
                    target_key=targets[workload.key],
                    features=features,
                    trials=tuple(trials[workload.key]),
                    winner=winners[workload.key].best_config if workload.key in winners else None,
                    winner_speedup=(
                        winners[workload.key].speedup if workload.key in winners else None
                    ),
                    loops=stored_loop_facts(db, workload.ir_hash),
                )
            )
        return cls(tuple(sorted(workloads, key=lambda w: (w.kernel, w.key))), unparsed=unparsed)


def merge(datasets: Sequence[Dataset]) -> Dataset:
    """The workloads of all ``datasets``; a workload in several keeps all its trials."""
    merged: dict[str, WorkloadData] = {}
    for dataset in datasets:
        for workload in dataset.workloads:
            known = merged.get(workload.key)
            if known is None:
                merged[workload.key] = workload
            else:
                merged[workload.key] = WorkloadData(
                    **{
                        **{f: getattr(known, f) for f in WorkloadData.__slots__},
                        "trials": known.trials + workload.trials,
                    }
                )
    made = {"merged": [dict(d.made) for d in datasets]}
    return Dataset(tuple(sorted(merged.values(), key=lambda w: (w.kernel, w.key))), made)


def write_export(dataset: Dataset, path: Path, made: Mapping[str, Any]) -> None:
    """Write ``dataset`` to ``path`` as gzip-compressed JSON lines (see the module
    docstring); ``made`` (commit, machine, load, commands) goes into the header. Only
    trials of phases with their own baseline and ``baseline`` itself are kept."""
    header = {
        "kind": "header",
        "format": EXPORT_FORMAT,
        "program_features": list(PROGRAM_FEATURES),
        "config_features": list(TRANSFERABLE_SCHEMA),
        "made": dict(made),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    # Written beside the target and renamed at the end, so an interrupted export never
    # leaves a truncated file under the name asked for.
    with gzip.open(partial, "wt", encoding="utf-8", compresslevel=9) as out:
        out.write(json.dumps(header, sort_keys=True) + "\n")
        for w in dataset.workloads:
            line: dict[str, Any] = {
                "kind": "workload",
                "key": w.key,
                "kernel": w.kernel,
                "ir_hash": w.ir_hash,
                "family": w.family,
                "arg_types": w.arg_types,
                "inputs": w.inputs,
                "target": w.target_key,
                "features": [_short(w.features.get(n, 0.0)) for n in PROGRAM_FEATURES],
            }
            if w.loops:
                line["loops"] = facts_to_json(w.loops)
            if w.winner and w.winner_speedup:
                line["winner"] = dict(w.winner)
                line["winner_speedup"] = _short(w.winner_speedup)
            out.write(json.dumps(line, sort_keys=True) + "\n")
            for t in w.trials:
                if t.phase not in TRAINED_PHASES:
                    continue
                trial: dict[str, Any] = {
                    "kind": "trial",
                    "w": w.key,
                    "phase": t.phase,
                    "status": t.status,
                }
                trial["config"] = dict(t.config)
                if t.speedup is not None:
                    trial["speedup"] = _short(t.speedup)
                out.write(json.dumps(trial, sort_keys=True) + "\n")
    partial.replace(path)


def read_export(path: Path) -> Dataset:
    """The dataset :func:`write_export` wrote to ``path``.

    Raises:
        ValueError: not an export of this format, or a damaged line (named by number).
    """
    workloads: dict[str, dict[str, Any]] = {}
    trials: dict[str, list[Measured]] = {}
    made: dict[str, Any] = {}
    try:
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for number, text in enumerate(lines, 1):
                try:
                    line = json.loads(text)
                    _read_line(line, number, workloads, trials, made)
                except (KeyError, TypeError, ValueError) as exc:
                    raise ValueError(f"{path}, line {number}: {exc}") from None
    except (OSError, EOFError) as exc:
        raise ValueError(f"{path} is not a readable export: {exc}") from None
    if not made:
        raise ValueError(f"{path} has no export header")
    out = [
        WorkloadData(**info, trials=tuple(trials.get(key, ()))) for key, info in workloads.items()
    ]
    return Dataset(tuple(sorted(out, key=lambda w: (w.kernel, w.key))), made)


def _read_line(
    line: Any,
    number: int,
    workloads: dict[str, dict[str, Any]],
    trials: dict[str, list[Measured]],
    made: dict[str, Any],
) -> None:
    kind = line["kind"]
    if number == 1:
        if kind != "header" or line.get("format") != EXPORT_FORMAT:
            raise ValueError(f"not an export of format {EXPORT_FORMAT}")
        if list(line["program_features"]) != list(PROGRAM_FEATURES):
            raise ValueError("its program features are not this version's")
        made.update(line.get("made", {}), header=True)
        return
    if kind == "workload":
        features = dict(zip(PROGRAM_FEATURES, map(float, line["features"]), strict=True))
        workloads[line["key"]] = {
            "key": line["key"],
            "kernel": line["kernel"],
            "ir_hash": line["ir_hash"],
            "family": line["family"],
            "arg_types": line["arg_types"],
            "inputs": line["inputs"],
            "target_key": line["target"],
            "features": features,
            "winner": line.get("winner"),
            "winner_speedup": line.get("winner_speedup"),
            "loops": facts_from_json(line.get("loops", {})),
        }
    elif kind == "trial":
        if line["w"] not in workloads:
            raise ValueError(f"trial of unknown workload {line['w']!r}")
        speedup = line.get("speedup")
        trials.setdefault(line["w"], []).append(
            Measured(
                dict(line["config"]),
                line["phase"],
                line["status"],
                None if speedup is None else float(speedup),
            )
        )
    else:
        raise ValueError(f"unknown line kind {kind!r}")


def _short(value: float) -> float:
    """``value`` rounded to 6 significant digits: the export's precision (timings are
    noisier than that by far)."""
    return float(f"{float(value):.6g}")


__all__ = [
    "EXPORT_FORMAT",
    "Dataset",
    "Measured",
    "WorkloadData",
    "kernel_family",
    "merge",
    "read_export",
    "write_export",
]
