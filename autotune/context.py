"""What a search knows about the program it tunes: the context every strategy receives.

A :class:`TuneContext` is built once per search and handed to the strategy at
construction (as TVM's ``TuneContext`` is handed to a search strategy). It names the
workload (IR, hash, problem instance), the target, the search space and the backend,
computes program features on demand, and reads earlier records through a
:class:`RecordsView` that cannot write. A strategy may use it to learn across programs
(warm starts from similar workloads, a cost model trained on the target's history);
one that ignores it behaves exactly as without it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

from autotune.program import Workload
from autotune.records import PortfolioArm, TrialRecord
from autotune.result import TuningResult
from autotune.space import SearchSpace

if TYPE_CHECKING:
    from autotune.cost_model._coreset import Recipe
    from autotune.cost_model._encoding import BandFacts
    from autotune.cost_model._scoring import LoadedModel, ProgramScorer
    from autotune.db._base import BaseDatabase

__all__ = ["LLVM_BACKENDS", "RecordsView", "TargetLike", "TuneContext"]

#: Backends whose workloads hold LLVM IR; others (CUDA) hold kernel source.
LLVM_BACKENDS = frozenset({"numba"})


class TargetLike(Protocol):
    """What a context needs of a target: :class:`autotune.program.Target` for CPUs,
    ``CudaTarget`` for GPUs, or any object with a stable key and a JSON description."""

    @property
    def key(self) -> str: ...

    def as_dict(self) -> Mapping[str, Any]: ...


class RecordsView:
    """Read-only access to a tuning database, seen from one workload and one target.

    Contract:
        * Only reads: the database's writing methods (adding trials, claims, results,
          portfolio rewards) cannot be reached through a view, and a view's own
          attributes cannot be reassigned.
        * Every answer is a fresh list of copies (the database returns copies), read
          when asked: trials stored after the search started show up in later calls.
        * May be empty: without a database, or without the workload or target key a
          question needs, the answer is an empty list. Strategies must work then.
    """

    __slots__ = ("_database", "_target_key", "_workload_key")

    _database: BaseDatabase | None
    _workload_key: str | None
    _target_key: str | None

    def __init__(
        self,
        database: BaseDatabase | None,
        workload_key: str | None = None,
        target_key: str | None = None,
    ) -> None:
        object.__setattr__(self, "_database", database)
        object.__setattr__(self, "_workload_key", workload_key)
        object.__setattr__(self, "_target_key", target_key)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __repr__(self) -> str:
        source = "no database" if self._database is None else type(self._database).__name__
        return f"RecordsView({source}, workload={self._workload_key}, target={self._target_key})"

    @classmethod
    def empty(cls) -> RecordsView:
        """A view of no database: every answer is empty."""
        return cls(None)

    @property
    def has_database(self) -> bool:
        """Whether answers come from a database (else they are always empty)."""
        return self._database is not None

    def trials(self, phase: str | None = "search") -> list[TrialRecord]:
        """This workload's trials on this target in ``phase`` (``None``: every phase),
        in the order they were stored."""
        if self._database is None or self._workload_key is None or self._target_key is None:
            return []
        return self._database.trials(self._workload_key, self._target_key, phase)

    def target_trials(self, phase: str | None = "search") -> list[TrialRecord]:
        """The trials of every workload on this target in ``phase`` (``None``: every
        phase), in the order they were stored: what transfers across programs."""
        if self._database is None or self._target_key is None:
            return []
        return [
            record
            for record in self._database.all_trials()
            if record.target_key == self._target_key and (phase is None or record.phase == phase)
        ]

    def workloads(self, kernel: str | None = None) -> list[Workload]:
        """The workloads the database knows (of ``kernel`` only, when given)."""
        return [] if self._database is None else self._database.workloads(kernel)

    def loop_facts(self, ir_hash: str) -> dict[str, BandFacts]:
        """The loop facts kept for the program ``ir_hash`` (empty: none, or no
        database; see :func:`autotune.cost_model._encoding.store_loop_facts`)."""
        from autotune.cost_model._encoding import stored_loop_facts

        return {} if self._database is None else stored_loop_facts(self._database, ir_hash)

    def cost_model(self) -> LoadedModel:
        """The newest usable cross-program model stored for this target, or the reason
        there is none (see :func:`autotune.cost_model._scoring.load_target_model`)."""
        from autotune.cost_model._scoring import LoadedModel, load_target_model

        if self._database is None or self._target_key is None:
            return LoadedModel(None, None, "no database")
        return load_target_model(self._database, self._target_key)

    def results(self) -> list[TuningResult]:
        """The latest tuning result of every kernel on this target (winners included)."""
        if self._database is None or self._target_key is None:
            return []
        return [r for r in self._database.latest_results() if r.target_key == self._target_key]

    def portfolio(self) -> list[PortfolioArm]:
        """Known-good configs of earlier workloads on this target, best first."""
        if self._database is None or self._target_key is None:
            return []
        return self._database.portfolio(self._target_key)


@dataclass(frozen=True, eq=False)
class TuneContext:
    """The program, target, space and history that one search is about.

    Contract:
        * Frozen: no field can be reassigned, and the records are a read-only view.
        * ``space`` is the space the strategy searches.
        * ``workload`` and ``target`` are ``None`` for a detached context (tests,
          replay benchmarks) that knows no program or machine; ``records`` may be
          empty, and always is without a database.
        * :attr:`program_features` is a pure function of the workload and backend,
          computed on first use and kept; it never raises.
        * Contexts compare by identity.

    ``slots`` is left out on purpose: the features are cached on the instance.
    """

    workload: Workload | None
    target: TargetLike | None
    space: SearchSpace
    backend: str = "numba"
    records: RecordsView = field(default_factory=RecordsView.empty)
    #: A model to use instead of the one stored for the target (replays, evaluation).
    model: LoadedModel | None = None
    #: Program features to use instead of computing them (a program known only from
    #: exported records).
    features: Mapping[str, float] | None = None

    @classmethod
    def detached(
        cls,
        space: SearchSpace,
        workload: Workload | None = None,
        *,
        target: TargetLike | None = None,
        backend: str = "numba",
        model: LoadedModel | None = None,
        features: Mapping[str, float] | None = None,
    ) -> TuneContext:
        """A context with no database (its records are empty), for tests and replays;
        ``model`` and ``features`` stand in for a stored model and computed features."""
        return cls(workload, target, space, backend, RecordsView.empty(), model, features)

    @classmethod
    def from_database(
        cls,
        database: BaseDatabase,
        workload: Workload,
        target: TargetLike,
        space: SearchSpace,
        backend: str,
    ) -> TuneContext:
        """The context of a search of ``workload`` on ``target``, reading ``database``."""
        records = RecordsView(database, workload.key, target.key)
        return cls(workload, target, space, backend, records)

    @cached_property
    def program_features(self) -> Mapping[str, float]:
        """Features of the program and its problem size (read-only).

        For a workload of an LLVM backend (Numba): every name of
        :data:`autotune.cost_model._program.PROGRAM_FEATURES`. For any other backend
        (CUDA source), or IR that does not parse, only the problem-size part
        (``prog.size.*``). Empty without a workload.
        """
        if self.features is not None:
            return MappingProxyType(dict(self.features))
        return MappingProxyType(_program_features(self.workload, self.backend))

    @cached_property
    def loaded_model(self) -> LoadedModel:
        """The cross-program model this search may use (``model`` when given, else the
        newest usable one stored for the target), or the reason there is none. Only
        LLVM backends have one: the model's program features come from LLVM IR."""
        from autotune.cost_model._scoring import LoadedModel

        if self.model is not None:
            return self.model
        if self.backend not in LLVM_BACKENDS:
            return LoadedModel(None, None, f"no cost model for the {self.backend} backend")
        return self.records.cost_model()

    @cached_property
    def scorer(self) -> ProgramScorer | None:
        """The loaded model bound to this program and space, or ``None`` (see
        :attr:`loaded_model` for why). Computed once per context."""
        from autotune.cost_model._scoring import ProgramScorer

        loaded = self.loaded_model
        features = self.program_features
        if loaded.model is None or not features:
            return None
        model_id = loaded.record.id if loaded.record is not None else None
        try:
            return ProgramScorer(loaded.model, features, self.space, model_id=model_id)
        except ValueError:
            return None

    @cached_property
    def coreset(self) -> tuple[Recipe, ...]:
        """Recipes that did best across other programs on this target: the coreset
        stored with the loaded model, else one built from the records (excluding this
        program's own); empty when there is neither."""
        from autotune.cost_model._coreset import (
            Recipe,
            build_coreset,
            results_from_records,
        )

        record = self.loaded_model.record
        stored = record.trained_on.get("coreset") if record is not None else None
        if self.loaded_model.model is not None and isinstance(stored, list) and stored:
            try:
                return tuple(Recipe.from_json(item) for item in stored)
            except ValueError:
                pass  # a damaged record: the records still tell what transfers
        exclude = self.workload.ir_hash if self.workload is not None else None
        return tuple(build_coreset(results_from_records(self.records, exclude)))

    def model_note(self) -> str:
        """One line on what the search knows across programs: the model it uses, or
        that it starts cold and why."""
        scorer = self.scorer
        if scorer is not None:
            which = f"model {scorer.model_id}" if scorer.model_id is not None else "a model"
            return f"cost model: {which} ranks candidates and warm-starts the search"
        reason = self.loaded_model.reason or "no program features"
        return f"cost model: none ({reason}); searching without transfer"


def _program_features(workload: Workload | None, backend: str) -> dict[str, float]:
    if workload is None:
        return {}
    # Imported here: llvmlite's parser is only needed once features are asked for.
    from autotune.cost_model._program import cached_program_features, problem_features

    if backend in LLVM_BACKENDS:
        try:
            return cached_program_features(workload)
        except ValueError:
            pass  # not LLVM IR after all: the problem size is still known
    return problem_features(workload.arg_types, workload.inputs)
