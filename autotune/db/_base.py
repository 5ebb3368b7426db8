"""The database extension point: where trials, workloads and tuning results live."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from autotune.db._claims import CLAIM_STALE_S
from autotune.program import Workload
from autotune.records import PortfolioArm, TrialRecord, TunedRow
from autotune.result import TuningResult


@dataclass(frozen=True, slots=True)
class ModelRecord:
    """A stored cost model, without its bytes (see :meth:`BaseDatabase.model_bytes`).

    Attributes:
        id: The database's id of the model.
        name: The kind of model, e.g. ``"boosted"``.
        family: The targets it was trained for, e.g. ``"cpu:<target key>"``.
        schema: The hash of the feature names its rows hold (``schema_hash``).
        format_version: The format of its bytes.
        toolchain: The versions a loader must share with the trainer.
        trained_on: What it was trained on (rows, programs, workloads, ...).
        created_at: When it was stored (seconds since the epoch).
    """

    id: int
    name: str
    family: str
    schema: str
    format_version: int
    toolchain: dict[str, str]
    trained_on: dict[str, Any]
    created_at: float


class BaseDatabase(ABC):
    """Stores trial records keyed by (workload key, target key, config key).

    Contract:
        * Records returned are copies; changing them changes nothing stored.
        * ``add_trial`` is atomic: after it returns the record survives a crash.
        * Search-phase trials are unique per (workload, target, config): adding one that
          exists returns ``False`` and stores nothing, so concurrent writers neither
          lose nor duplicate records.
        * ``start_run`` with a run id that exists resumes that run and changes nothing;
          ``finish_run`` may be called more than once per run, adding results.
        * Safe for use from one thread at a time per instance.
        * Several processes (on one machine or many) may write at once, each with its
          own instance: of writers adding the same record, exactly one stores it.
        * ``claim`` is atomic: of processes claiming one (workload, target, config) at
          once, exactly one gets it. A process that measures a search candidate claims
          it first, and releases it once its trial is stored, so that no other process
          measures it meanwhile (see :meth:`claim`).
        * Program features are unique per (IR hash, schema): the first add stores them
          and later ones, also from other processes at once, store nothing.
    """

    @property
    def optuna_storage(self) -> str | None:
        """An SQLAlchemy URL where Optuna studies can live beside the records, if any."""
        return None

    @abstractmethod
    def add_workload(self, workload: Workload, source: str) -> None: ...

    @abstractmethod
    def workloads(self, kernel: str | None = None) -> list[Workload]: ...

    @abstractmethod
    def add_trial(self, record: TrialRecord) -> bool: ...

    @abstractmethod
    def trials(
        self,
        workload_key: str,
        target_key: str,
        phase: str | None = "search",
    ) -> list[TrialRecord]: ...

    def search_trial(
        self, workload_key: str, target_key: str, config_key: str
    ) -> TrialRecord | None:
        """The stored search trial of one config, or ``None``. Implementations may
        answer faster than this scan of :meth:`trials`."""
        for record in self.trials(workload_key, target_key):
            if record.config_key == config_key:
                return record
        return None

    @abstractmethod
    def claim(
        self,
        workload_key: str,
        target_key: str,
        config_key: str,
        run_id: str,
        *,
        stale_after_s: float = CLAIM_STALE_S,
    ) -> bool:
        """Claim the right to measure one config for ``run_id`` in this process.

        True when the config was free, when this same holder (run id, host, process)
        claimed it already, or when the claim that held it is stale: older than
        ``stale_after_s`` seconds, or held by a process that is dead on this host.
        False while another live holder has it: measure something else. A claim
        says nothing about stored trials: check :meth:`search_trial` after claiming.
        """

    @abstractmethod
    def release(self, workload_key: str, target_key: str, config_key: str, run_id: str) -> None:
        """Give up this holder's claim of one config (nothing if it holds none)."""

    @abstractmethod
    def all_trials(self, kernel: str | None = None) -> list[TrialRecord]: ...

    @abstractmethod
    def start_run(self, run_id: str, command: str, info: dict[str, Any]) -> None: ...

    @abstractmethod
    def finish_run(self, run_id: str, results: Sequence[TuningResult]) -> None:
        """Mark ``run_id`` finished (again) and store ``results`` under it."""

    @abstractmethod
    def latest_results(self, kernel: str | None = None) -> list[TuningResult]:
        """The most recent result per (kernel, workload, target), newest first; results
        stored by older versions are read with :meth:`TuningResult.from_dict`."""

    def latest_summaries(self, kernel: str | None = None) -> list[dict[str, Any]]:
        """:meth:`latest_results` as JSON objects (:meth:`TuningResult.to_dict`); kept
        for callers written before results were typed."""
        return [result.to_dict() for result in self.latest_results(kernel)]

    @abstractmethod
    def add_portfolio_reward(
        self, target_key: str, workload_key: str, config: dict[str, Any], reward: float
    ) -> bool:
        """Record that ``config`` earned ``reward`` on ``workload_key``. One reward per
        (target, config, workload): a second one returns ``False`` and stores nothing."""

    @abstractmethod
    def portfolio(self, target_key: str) -> list[PortfolioArm]:
        """Every config with rewards on ``target_key``, best mean reward first."""

    def save_tuned(self, row: TunedRow) -> None:
        """Store one config-cache entry, replacing the row with the same (digest,
        bucket, target_key). Databases that keep no config cache raise
        :class:`NotImplementedError`."""
        raise NotImplementedError(f"{type(self).__name__} keeps no config cache")

    def tuned(self, digest: str | None = None) -> list[TunedRow]:
        """The config-cache entries under ``digest`` (all when ``None``), oldest first.
        A database without a config cache has none."""
        return []

    @abstractmethod
    def program_features(self, ir_hash: str, schema: str) -> dict[str, float] | None:
        """The features stored for a program under the feature ``schema`` hash (a
        copy), or ``None``. A database too old to hold features has none."""

    @abstractmethod
    def add_program_features(
        self, ir_hash: str, schema: str, features: Mapping[str, float]
    ) -> None:
        """Store a program's features (name -> value) under its IR hash and the
        ``schema`` hash of their names. Features of the IR alone belong here: the
        problem's sizes are cheap to read again. If features are stored for the same
        (``ir_hash``, ``schema``) already, nothing changes."""

    @abstractmethod
    def add_model(
        self,
        name: str,
        family: str,
        schema: str,
        fmt: int,
        toolchain: Mapping[str, str],
        trained_on: Mapping[str, Any],
        data: bytes,
    ) -> int:
        """Store a trained model's ``data`` with what loading it requires (see
        :class:`ModelRecord`); returns its id. Every call stores a new model."""

    @abstractmethod
    def models(self, name: str | None = None, family: str | None = None) -> list[ModelRecord]:
        """The stored models, newest first, optionally only those with this ``name``
        and ``family``. A database too old to hold models has none."""

    @abstractmethod
    def model_bytes(self, model_id: int) -> bytes:
        """The bytes stored by :meth:`add_model` under ``model_id``.

        Raises:
            KeyError: no model has that id.
        """

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
