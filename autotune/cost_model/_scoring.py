"""A trained cross-program model, bound to one program: scores configs of its space.

A search never sees raw model rows. It asks a :class:`ProgramScorer` (made from a
fitted :class:`~autotune.cost_model.BoostedCostModel` and the program's features) for
the predicted log speedup, and its uncertainty, of configs of its own space; the
scorer builds the rows (program features, then the transferable features of each
config) and caches the config part by config.

:func:`load_target_model` finds the newest model stored for a target and says, in one
line, why there is none or why a stored one cannot be used (another feature schema,
another toolchain): such a model is never used, and ``autotune model train`` fits a new
one.
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from autotune.cost_model._encoding import (
    TRANSFERABLE_SCHEMA,
    LoopFacts,
    loop_facts,
    schema_hash,
    transferable_matrix,
)
from autotune.cost_model._program import PROGRAM_FEATURES
from autotune.space import SearchSpace

if TYPE_CHECKING:
    from autotune.cost_model._boosted import BoostedCostModel
    from autotune.db._base import BaseDatabase, ModelRecord

#: The columns of every model row, in order: program features, then config features.
ROW_NAMES: tuple[str, ...] = (*PROGRAM_FEATURES, *TRANSFERABLE_SCHEMA)
#: The name trained cross-program models are stored under.
MODEL_NAME = "boosted"
#: Phases whose speedup is against the workload's own baseline. ``simplify`` trials
#: are timed against another config and ``baseline`` trials are the baseline itself.
TRAINED_PHASES = frozenset({"search", "refine", "confirm"})


def target_family(target_key: str) -> str:
    """The family string a model trained for ``target_key`` is stored under."""
    return f"target:{target_key}"


def program_vector_of(features: Mapping[str, float]) -> np.ndarray:
    """``features`` in :data:`PROGRAM_FEATURES` order (a missing name counts 0)."""
    return np.fromiter((float(features.get(n, 0.0)) for n in PROGRAM_FEATURES), float)


class ProgramScorer:
    """Scores configs of one program with a fitted cross-program model.

    Contract:
        * :meth:`score` returns the mean and standard deviation of the predicted log
          speedup over the program's own baseline, one per config, in order.
        * Pure: the same configs give the same scores; nothing is learned here (a
          search combines these scores with its own measurements).
        * ``space`` is the space the configs come from: loop orders are compared with
          the order as written there. ``facts``
          (:func:`~autotune.cost_model._encoding.loop_facts`) stand in for the space
          of a program known only from exported records.
    """

    def __init__(
        self,
        model: BoostedCostModel,
        program: Mapping[str, float],
        space: SearchSpace | None = None,
        *,
        model_id: int | None = None,
        facts: LoopFacts | None = None,
    ) -> None:
        if getattr(model, "n_features_in_", None) != len(ROW_NAMES):
            raise ValueError(
                f"model takes {getattr(model, 'n_features_in_', None)} features, "
                f"rows have {len(ROW_NAMES)}"
            )
        self.model = model
        self.space = space
        self.model_id = model_id
        self._facts = loop_facts(space) if facts is None else facts
        self._program = program_vector_of(program)

    def rows(self, configs: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """The model rows of ``configs`` for this program."""
        config_part = transferable_matrix(configs, facts=self._facts)
        program_part = np.broadcast_to(self._program, (len(configs), len(self._program)))
        return np.hstack([program_part, config_part])

    def score(self, configs: Sequence[Mapping[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation of each config's predicted log speedup."""
        if not configs:
            return np.zeros(0), np.zeros(0)
        return self.model.predict_with_uncertainty(self.rows(configs))


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """The outcome of looking for a usable model: ``model`` and its ``record``, or
    ``None`` and the ``reason`` (one line) there is none."""

    model: BoostedCostModel | None
    record: ModelRecord | None = None
    reason: str = ""


def load_target_model(db: BaseDatabase, target_key: str) -> LoadedModel:
    """The newest cross-program model stored in ``db`` for ``target_key``, if usable.

    A stored model is used only if its format, feature schema and toolchain match this
    installation's; otherwise the reason says so and that it must be retrained.
    """
    from autotune.cost_model._boosted import BoostedCostModel, IncompatibleModelError

    records = db.models(MODEL_NAME, target_family(target_key))
    if not records:
        return LoadedModel(None, None, "no cost model trained for this target")
    newest = records[0]
    try:
        model = BoostedCostModel.from_bytes(db.model_bytes(newest.id), schema_hash(ROW_NAMES))
    except IncompatibleModelError as exc:
        return LoadedModel(None, newest, f"stored model {newest.id} not used: {exc}")
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError) as exc:
        # Damaged bytes must not stop a tuning run: it searches without the model.
        return LoadedModel(None, newest, f"stored model {newest.id} is damaged: {exc}")
    return LoadedModel(model, newest)


__all__ = [
    "MODEL_NAME",
    "ROW_NAMES",
    "TRAINED_PHASES",
    "LoadedModel",
    "ProgramScorer",
    "load_target_model",
    "program_vector_of",
    "target_family",
]
