"""Training the cross-program cost model from a tuning database.

Each row is one measured config of one workload: the workload's program features
followed by the config's transferable features, and its speedup over the workload's
own baseline. One model is trained per target, since a speedup measured on one
machine says little about another.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from autotune.cost_model._boosted import FORMAT_VERSION, BoostedCostModel, toolchain
from autotune.cost_model._encoding import (
    schema_hash,
)
from autotune.cost_model._program import (
    PROBLEM_FEATURES,
    PROGRAM_FEATURES,
    _ir_features,
    _merged,
    problem_features,
)
from autotune.cost_model._scoring import MODEL_NAME, ROW_NAMES, TRAINED_PHASES, target_family
from autotune.db._base import BaseDatabase, ModelRecord
from autotune.program import Workload
from autotune.records import Status, TrialRecord

if TYPE_CHECKING:
    from autotune.cost_model._dataset import Dataset

#: Fewer rows than this for a target train no model.
MIN_ROWS = 20
#: A sweep retrains a target's model only from at least this many programs: a model of
#: fewer would steer the next runs by what suits a handful of kernels.
SWEEP_MIN_PROGRAMS = 5
#: The column names of every row: program features, then config features.
FEATURE_NAMES: tuple[str, ...] = ROW_NAMES
#: The program features stored in the database: those of the IR alone.
IR_FEATURES: tuple[str, ...] = tuple(n for n in PROGRAM_FEATURES if n not in PROBLEM_FEATURES)


@dataclass(frozen=True, slots=True)
class TrainingSet:
    """Rows for training: ``X`` (one row per trial, columns ``names``), ``y`` the
    speedups, ``groups`` the IR hash of each row's program, ``workloads`` the keys of
    the workloads seen, ``unparsed`` how many workloads were skipped because their IR
    does not parse (CUDA source, for one)."""

    target_key: str | None
    X: np.ndarray
    y: np.ndarray
    groups: tuple[str, ...]
    names: tuple[str, ...]
    workloads: tuple[str, ...]
    unparsed: int = 0

    @property
    def rows(self) -> int:
        return len(self.y)

    @property
    def programs(self) -> int:
        return len(set(self.groups))


@dataclass(frozen=True, slots=True)
class TrainedTarget:
    """What training did for one target: the stored ``model``, or ``None`` and the
    ``reason`` no model was trained."""

    target_key: str
    rows: int
    programs: int
    workloads: int
    seconds: float
    model: ModelRecord | None
    reason: str = ""


def training_rows(db: BaseDatabase, target_key: str | None = None) -> TrainingSet:
    """The training rows of every usable trial in ``db`` (of ``target_key`` only,
    when given): ok trials of :data:`TRAINED_PHASES` with a timing, whose workload's
    IR parses. Program features are read from, or stored into, the database."""
    from autotune.cost_model._dataset import Dataset

    dataset = Dataset.from_database(db, target_key)
    X, y, groups = dataset.rows()
    return TrainingSet(
        target_key=target_key,
        X=X,
        y=y,
        groups=tuple(groups),
        names=FEATURE_NAMES,
        workloads=tuple(w.key for w in dataset.workloads if w.usable()),
        unparsed=dataset.unparsed,
    )


def target_keys(db: BaseDatabase) -> list[str]:
    """The target keys of the usable trials in ``db``, sorted."""
    return sorted({t.target_key for t in db.all_trials() if _usable(t, None)})


def train(
    db: BaseDatabase, min_rows: int = MIN_ROWS, model: BoostedCostModel | None = None
) -> list[TrainedTarget]:
    """Fit one :class:`BoostedCostModel` (a copy of ``model`` when given) per target
    with at least ``min_rows`` rows, and store each in ``db`` with its coreset."""
    from autotune.cost_model._dataset import Dataset

    return [
        train_on(db, target, Dataset.from_database(db, target), min_rows=min_rows, model=model)
        for target in target_keys(db)
    ]


def refit_after_sweep(
    db: BaseDatabase, targets: Sequence[str], min_programs: int = SWEEP_MIN_PROGRAMS
) -> list[TrainedTarget]:
    """Train the models of ``targets`` (those a sweep measured on) again from all of
    ``db``'s trials, as ``autotune model train`` does, where a target has at least
    ``min_programs`` programs; the others get no model and say why."""
    from autotune.cost_model._dataset import Dataset

    out = []
    for target in sorted(set(targets)):
        dataset = Dataset.from_database(db, target)
        programs = len(dataset.programs())
        if programs < min_programs:
            noun = "program" if programs == 1 else "programs"
            reason = f"{programs} {noun} on record, {min_programs} needed"
            out.append(TrainedTarget(target, 0, programs, len(dataset), 0.0, None, reason))
            continue
        out.append(train_on(db, target, dataset))
    return out


def train_on(
    db: BaseDatabase,
    target_key: str,
    dataset: Dataset,
    *,
    exclude_families: Sequence[str] = (),
    exclude_kernels: Sequence[str] = (),
    min_rows: int = MIN_ROWS,
    model: BoostedCostModel | None = None,
    source: str = "database",
) -> TrainedTarget:
    """Fit a model on ``dataset`` (less the workloads of ``exclude_families`` and of
    the kernels named in ``exclude_kernels``) and
    store it in ``db`` as the model of ``target_key``, with the coreset of recipes
    zero-shot search draws from and the features that mattered most.

    ``dataset`` may come from another database or an export (``source`` says which):
    storing it for ``target_key`` says that its speedups hold on that target."""
    from autotune.cost_model._coreset import build_coreset, program_results

    excluded, kernels = set(exclude_families), set(exclude_kernels)
    workloads = [
        w for w in dataset.workloads if w.family not in excluded and w.kernel not in kernels
    ]
    X, y, groups = dataset.rows(workloads)
    programs, used = len(set(groups)), sum(1 for w in workloads if w.usable())
    info: dict[str, Any] = {
        "rows": len(y),
        "programs": programs,
        "workloads": used,
        "source": source,
        "excluded_families": sorted(excluded),
        "excluded_kernels": sorted(kernels),
    }
    if len(y) < min_rows:
        reason = f"{len(y)} usable rows, {min_rows} needed"
        return TrainedTarget(target_key, len(y), programs, used, 0.0, None, reason)
    started = time.perf_counter()
    fitted = _fresh(model).fit(X, y)
    seconds = time.perf_counter() - started
    results = program_results(row for w in workloads for row in w.coreset_rows())
    info["coreset"] = [recipe.to_json() for recipe in build_coreset(results)]
    info["importances"] = importances(fitted, X)
    info["seconds"] = round(seconds, 2)
    record = _store(db, target_key, fitted, info)
    return TrainedTarget(target_key, len(y), programs, used, seconds, record)


#: Rows the permutation importances are measured on, at most.
IMPORTANCE_ROWS = 1000
#: Features reported by :func:`importances`.
TOP_FEATURES = 15


def importances(model: BoostedCostModel, X: np.ndarray, seed: int = 0) -> list[list[Any]]:
    """The :data:`TOP_FEATURES` features whose permutation raises the model's mean
    squared error (in log speedup) most, as ``[name, increase]`` pairs, largest first,
    measured with the ensemble's first member on up to :data:`IMPORTANCE_ROWS` of the
    training rows."""
    rng = np.random.default_rng(seed)
    rows = X[rng.choice(len(X), min(len(X), IMPORTANCE_ROWS), replace=False)]
    # One member of the ensemble stands for all: each is a full model of the data, and
    # permuting 170 columns through every member would cost a minute on two cores.
    member = model.members_[0]
    gains = []
    with model._threads():
        reference = member.predict(rows)
        for j, name in enumerate(FEATURE_NAMES):
            if np.ptp(rows[:, j]) == 0:
                continue  # a constant column cannot matter here
            shuffled = rows.copy()
            shuffled[:, j] = rng.permutation(shuffled[:, j])
            change = member.predict(shuffled) - reference
            gains.append((float(np.mean(change**2)), name))
    gains.sort(key=lambda pair: (-pair[0], pair[1]))
    return [[name, round(gain, 5)] for gain, name in gains[:TOP_FEATURES]]


def _usable(trial: TrialRecord, target_key: str | None) -> bool:
    speedup = trial.result.speedup
    return (
        trial.phase in TRAINED_PHASES
        and trial.result.status is Status.OK
        and speedup is not None
        and np.isfinite(speedup)
        and speedup > 0
        and (target_key is None or trial.target_key == target_key)
    )


def _program_features(db: BaseDatabase, workload: Workload) -> dict[str, float] | None:
    """The program features of ``workload``, or ``None`` when its IR does not parse.
    The IR part is cached in ``db`` by IR hash; the sizes are read again each time."""
    schema = schema_hash(IR_FEATURES)
    ir_part = db.program_features(workload.ir_hash, schema)
    if ir_part is None or set(ir_part) != set(IR_FEATURES):
        try:
            ir_part = _ir_features(workload.ir_text)
        except ValueError:
            return None
        db.add_program_features(workload.ir_hash, schema, ir_part)
    return _merged(ir_part, problem_features(workload.arg_types, workload.inputs))


def _fresh(model: BoostedCostModel | None) -> BoostedCostModel:
    if model is None:
        return BoostedCostModel()
    from sklearn.base import clone

    fresh: BoostedCostModel = clone(model)
    return fresh


def _store(
    db: BaseDatabase, target: str, model: BoostedCostModel, info: dict[str, Any]
) -> ModelRecord:
    schema = schema_hash(FEATURE_NAMES)
    family = target_family(target)
    model_id = db.add_model(
        name=MODEL_NAME,
        family=family,
        schema=schema,
        fmt=FORMAT_VERSION,
        toolchain=toolchain(),
        trained_on=info,
        data=model.to_bytes(schema),
    )
    return next(m for m in db.models(MODEL_NAME, family) if m.id == model_id)


__all__: Sequence[str] = [
    "FEATURE_NAMES",
    "MIN_ROWS",
    "MODEL_NAME",
    "TRAINED_PHASES",
    "TrainedTarget",
    "TrainingSet",
    "importances",
    "target_keys",
    "train",
    "train_on",
    "training_rows",
]
