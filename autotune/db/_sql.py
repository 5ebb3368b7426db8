"""Tuning database on SQLAlchemy: SQLite by default, PostgreSQL (or any URL) by choice.

The schema carries a version in ``autotune_meta`` (see :mod:`autotune.db._schema`).
Opening a database to write migrates one written by an older release in place; one
written by a newer release is refused. Opening one to read (``read_only``) changes
nothing: it must hold a schema this release can read, and an SQLite file is opened
read-only, so it is never created. Optuna keeps its own tables in the same database, so
one URL holds everything.

Several processes, on one machine or many, may write to one database at once: creating
the schema is serialized, and every insert of a uniquely keyed row is resolved in the
database, so each record is stored exactly once (see :mod:`autotune.db._engine`).
Errors from the database surface as :class:`~autotune.errors.DatabaseError`, one line,
with any password or secret in the URL hidden.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from autotune.candidate import Candidate, canonical_json
from autotune.db import _claims
from autotune.db._base import BaseDatabase, ModelRecord
from autotune.db._engine import (
    WRITES,
    create_engine,
    display_url,
    insert_unless_present,
    is_memory_url,
    lock_for_transaction,
    normalize_url,
    read_only_url,
    redact,
)
from autotune.db._location import default_url
from autotune.db._schema import (
    SCHEMA_VERSION,
    features_table,
    models_table,
    portfolio_table,
    prepare,
    readable_version,
    runs_table,
    summaries_table,
    trials_table,
    tuned_table,
    workloads_table,
)
from autotune.errors import DatabaseError
from autotune.measure._timing import result_from_mapping
from autotune.program import Workload
from autotune.records import PortfolioArm, TrialRecord, TunedRow
from autotune.result import TuningResult

#: The first schema version with a portfolio table; readers of older ones see none.
_PORTFOLIO_SINCE = 2
#: The first schema version with a tuned-config table.
_TUNED_SINCE = 4
#: The first schema version with program features and cost models.
_COST_MODELS_SINCE = 5


class SQLDatabase(BaseDatabase):
    """A :class:`BaseDatabase` on any SQLAlchemy URL (default: :func:`default_url`).

    With ``read_only``, the database must exist with a schema this release can read;
    it is neither created nor migrated, and writing to it raises
    :class:`DatabaseError`.
    """

    def __init__(self, url: str | None = None, *, read_only: bool = False) -> None:
        self.url = normalize_url(url or default_url())
        self.read_only = read_only
        opening = f"cannot open database {display_url(self.url)}"
        try:
            self._engine = create_engine(read_only_url(self.url) if read_only else self.url)
        except ImportError as exc:
            hint = _driver_hint(self.url)
            raise DatabaseError(f"{opening}: its driver is not installed ({exc}){hint}") from None
        except (sa.exc.ArgumentError, ValueError) as exc:
            raise DatabaseError(self._redacted(f"{opening}: {exc}")) from None
        if read_only:
            with self._read(failing=opening) as conn:
                self.schema_version = readable_version(conn, display_url(self.url))
            return
        with self._write(failing=opening) as conn:
            # Processes opening a new database at once must not each create it.
            lock_for_transaction(conn, "autotune schema")
            prepare(conn, display_url(self.url))
        self.schema_version = SCHEMA_VERSION

    def _redacted(self, message: str) -> str:
        return redact(message, self.url)

    @contextmanager
    def _errors(self, failing: str) -> Iterator[None]:
        """Turn the database's exceptions into one-line :class:`DatabaseError`."""
        try:
            yield
        except SQLAlchemyError as exc:
            reason = " ".join(str(getattr(exc, "orig", None) or exc).split())[:300]
            # A driver may quote the URL it was given, secrets and all.
            raise DatabaseError(self._redacted(f"{failing}: {reason}")) from None

    @contextmanager
    def _read(self, failing: str = "") -> Iterator[sa.Connection]:
        failing = failing or f"database {display_url(self.url)}"
        with self._errors(failing), self._engine.connect() as conn:
            yield conn

    @contextmanager
    def _write(self, failing: str = "") -> Iterator[sa.Connection]:
        """A connection in a transaction that commits on success; for writes."""
        if self.read_only:
            raise DatabaseError(f"database {display_url(self.url)} was opened only to read")
        failing = failing or f"database {display_url(self.url)}"
        with self._errors(failing), self._engine.connect() as conn:
            conn.execution_options(**{WRITES: True})
            with conn.begin():
                yield conn

    @property
    def optuna_storage(self) -> str | None:
        # An in-memory SQLite database cannot be shared with Optuna's own engine, and
        # Optuna creates its tables in any database it opens.
        return None if is_memory_url(self.url) or self.read_only else self.url

    def add_workload(self, workload: Workload, source: str) -> None:
        row = {
            "workload_key": workload.key,
            "kernel": workload.kernel,
            "ir_hash": workload.ir_hash,
            "arg_types": workload.arg_types,
            "inputs": workload.inputs,
            "source": source,
            "ir_text": workload.ir_text,
        }
        # Another writer may store the same workload first; one copy is enough.
        with self._write() as conn:
            insert_unless_present(conn, workloads_table, row)

    def workloads(self, kernel: str | None = None) -> list[Workload]:
        query = sa.select(workloads_table)
        if kernel is not None:
            query = query.where(workloads_table.c.kernel == kernel)
        with self._read() as conn:
            rows = conn.execute(query).mappings().all()
        return [Workload(r["kernel"], r["arg_types"], r["ir_text"], r["inputs"]) for r in rows]

    def add_trial(self, record: TrialRecord) -> bool:
        with self._write() as conn:
            return insert_unless_present(conn, trials_table, _trial_row(record))

    def trials(
        self, workload_key: str, target_key: str, phase: str | None = "search"
    ) -> list[TrialRecord]:
        query = sa.select(trials_table).where(
            trials_table.c.workload_key == workload_key,
            trials_table.c.target_key == target_key,
        )
        if phase is not None:
            query = query.where(trials_table.c.phase == phase)
        with self._read() as conn:
            rows = conn.execute(query.order_by(trials_table.c.id)).mappings().all()
        return [_record_from_row(r) for r in rows]

    def search_trial(
        self, workload_key: str, target_key: str, config_key: str
    ) -> TrialRecord | None:
        query = sa.select(trials_table).where(
            trials_table.c.workload_key == workload_key,
            trials_table.c.target_key == target_key,
            trials_table.c.config_key == config_key,
            trials_table.c.phase == "search",
        )
        with self._read() as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else _record_from_row(row)

    def claim(
        self,
        workload_key: str,
        target_key: str,
        config_key: str,
        run_id: str,
        *,
        stale_after_s: float = _claims.CLAIM_STALE_S,
    ) -> bool:
        key = _claims.ClaimKey(workload_key, target_key, config_key)
        with self._write() as conn:
            return _claims.claim(conn, key, run_id, stale_after_s)

    def release(self, workload_key: str, target_key: str, config_key: str, run_id: str) -> None:
        key = _claims.ClaimKey(workload_key, target_key, config_key)
        with self._write() as conn:
            _claims.release(conn, key, run_id)

    def all_trials(self, kernel: str | None = None) -> list[TrialRecord]:
        query = sa.select(trials_table)
        if kernel is not None:
            query = query.where(trials_table.c.kernel == kernel)
        with self._read() as conn:
            rows = conn.execute(query.order_by(trials_table.c.id)).mappings().all()
        return [_record_from_row(r) for r in rows]

    def start_run(self, run_id: str, command: str, info: dict[str, Any]) -> None:
        row = {
            "run_id": run_id,
            "command": command,
            "info_json": json.dumps(info),
            "started_at": time.time(),
        }
        # A run started before is being resumed: its first start stays on record.
        with self._write() as conn:
            insert_unless_present(conn, runs_table, row)

    def finish_run(self, run_id: str, results: Sequence[TuningResult]) -> None:
        now = time.time()
        with self._write() as conn:
            conn.execute(
                runs_table.update().where(runs_table.c.run_id == run_id).values(finished_at=now)
            )
            for result in results:
                conn.execute(
                    summaries_table.insert().values(
                        run_id=run_id,
                        kernel=result.kernel,
                        workload_key=result.workload_key,
                        target_key=result.target_key,
                        summary_json=json.dumps(result.to_dict()),
                        created_at=now,
                    )
                )

    def latest_results(self, kernel: str | None = None) -> list[TuningResult]:
        query = sa.select(summaries_table).order_by(summaries_table.c.id.desc())
        if kernel is not None:
            query = query.where(summaries_table.c.kernel == kernel)
        with self._read() as conn:
            rows = conn.execute(query).mappings().all()
        seen: set[tuple[Any, ...]] = set()
        latest = []
        for row in rows:
            ident = (row["kernel"], row["workload_key"], row["target_key"])
            if ident not in seen:
                seen.add(ident)
                stored = {"kernel": row["kernel"], **_stored_summary(row["summary_json"])}
                latest.append(TuningResult.from_dict(stored))
        return latest

    def add_portfolio_reward(
        self, target_key: str, workload_key: str, config: dict[str, Any], reward: float
    ) -> bool:
        row = {
            "target_key": target_key,
            "config_key": Candidate.from_config(config).key,
            "workload_key": workload_key,
            "config_json": canonical_json(config),
            "reward": float(reward),
            "created_at": time.time(),
        }
        with self._write() as conn:
            return insert_unless_present(conn, portfolio_table, row)

    def portfolio(self, target_key: str) -> list[PortfolioArm]:
        if self.schema_version < _PORTFOLIO_SINCE:
            return []  # an older database read as it is: it has no portfolio yet
        query = (
            sa.select(portfolio_table)
            .where(portfolio_table.c.target_key == target_key)
            .order_by(portfolio_table.c.id)
        )
        with self._read() as conn:
            rows = conn.execute(query).mappings().all()
        configs: dict[str, dict[str, Any]] = {}
        rewards: dict[str, list[float]] = {}
        for row in rows:
            configs.setdefault(row["config_key"], json.loads(row["config_json"]))
            rewards.setdefault(row["config_key"], []).append(row["reward"])
        arms = [PortfolioArm(k, configs[k], tuple(rewards[k])) for k in configs]
        return sorted(arms, key=lambda arm: -arm.mean)

    def save_tuned(self, row: TunedRow) -> None:
        values = {
            "digest": row.digest,
            "bucket": row.bucket,
            "target_key": row.target_key,
            "kernel": row.kernel,
            "entry_json": json.dumps(row.entry, sort_keys=True),
            "created_at": row.created_at,
        }
        where = sa.and_(
            tuned_table.c.digest == row.digest,
            tuned_table.c.bucket == row.bucket,
            tuned_table.c.target_key == row.target_key,
        )
        with self._write() as conn:
            # Delete-then-insert in one transaction: portable across SQLite and PostgreSQL.
            lock_for_transaction(conn, "autotune tuned")
            conn.execute(tuned_table.delete().where(where))
            conn.execute(tuned_table.insert().values(**values))

    def tuned(self, digest: str | None = None) -> list[TunedRow]:
        if self.schema_version < _TUNED_SINCE:
            return []  # an older database read as it is: it has no config cache yet
        query = sa.select(tuned_table).order_by(tuned_table.c.created_at)
        if digest is not None:
            query = query.where(tuned_table.c.digest == digest)
        with self._read() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            TunedRow(
                r["digest"],
                r["bucket"],
                r["target_key"],
                r["kernel"],
                json.loads(r["entry_json"]),
                r["created_at"],
            )
            for r in rows
        ]

    def program_features(self, ir_hash: str, schema: str) -> dict[str, float] | None:
        if self.schema_version < _COST_MODELS_SINCE:
            return None  # an older database read as it is: it stores no features yet
        query = sa.select(features_table.c.features_json).where(
            features_table.c.ir_hash == ir_hash, features_table.c.schema_hash == schema
        )
        with self._read() as conn:
            text = conn.execute(query).scalar()
        return None if text is None else json.loads(text)

    def add_program_features(
        self, ir_hash: str, schema: str, features: Mapping[str, float]
    ) -> None:
        row = {
            "ir_hash": ir_hash,
            "schema_hash": schema,
            "features_json": json.dumps({k: float(v) for k, v in features.items()}),
            "created_at": time.time(),
        }
        # Another process may compute the same program's features first; one copy is enough.
        with self._write() as conn:
            insert_unless_present(conn, features_table, row)

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
        row = {
            "name": name,
            "family": family,
            "schema_hash": schema,
            "format": int(fmt),
            "toolchain_json": json.dumps(dict(toolchain), sort_keys=True),
            "trained_on_json": json.dumps(dict(trained_on), sort_keys=True),
            "created_at": time.time(),
            "data": bytes(data),
        }
        with self._write() as conn:
            # Not RETURNING: SQLite before 3.35 lacks it.
            key = conn.execute(models_table.insert().values(**row)).inserted_primary_key
        assert key is not None, "an autoincrement insert always has a key"
        return int(key[0])

    def models(self, name: str | None = None, family: str | None = None) -> list[ModelRecord]:
        if self.schema_version < _COST_MODELS_SINCE:
            return []  # an older database read as it is: it stores no models yet
        columns = [c for c in models_table.c if c.name != "data"]
        query = sa.select(*columns).order_by(
            models_table.c.created_at.desc(), models_table.c.id.desc()
        )
        if name is not None:
            query = query.where(models_table.c.name == name)
        if family is not None:
            query = query.where(models_table.c.family == family)
        with self._read() as conn:
            rows = conn.execute(query).mappings().all()
        return [_model_from_row(r) for r in rows]

    def model_bytes(self, model_id: int) -> bytes:
        data = None
        if self.schema_version >= _COST_MODELS_SINCE:
            query = sa.select(models_table.c.data).where(models_table.c.id == model_id)
            with self._read() as conn:
                data = conn.execute(query).scalar()
        if data is None:
            raise KeyError(f"no cost model with id {model_id}")
        return bytes(data)

    def close(self) -> None:
        self._engine.dispose()


def _trial_row(record: TrialRecord) -> dict[str, Any]:
    result, timing = record.result, record.result.timing
    samples = None
    if timing is not None:
        rounds: dict[str, Any] = {
            "baseline_rounds": timing.baseline_rounds,
            "candidate_rounds": timing.candidate_rounds,
            "calls_per_sample": timing.calls_per_sample,
        }
        if timing.process_rounds:
            rounds["process_rounds"] = list(timing.process_rounds)
        samples = json.dumps(rounds)
    return {
        "run_id": record.run_id,
        "scope": "" if record.phase == "search" else record.run_id,
        "kernel": record.kernel,
        "workload_key": record.workload_key,
        "target_key": record.target_key,
        "config_key": record.config_key,
        "config_json": canonical_json(record.config),
        "phase": record.phase,
        "status": str(result.status),
        # PostgreSQL cannot store NUL in text; a crashed worker's output may hold one.
        "error": result.error.replace("\x00", "\ufffd"),
        "compile_s": result.compile_s,
        "verify_s": result.verify_s,
        "baseline_s": None if timing is None else timing.baseline_s,
        "candidate_s": None if timing is None else timing.candidate_s,
        "speedup": None if timing is None else timing.speedup,
        "speedup_lo": None if timing is None else timing.speedup_ci95[0],
        "speedup_hi": None if timing is None else timing.speedup_ci95[1],
        "samples_json": samples,
        "code_hash": result.code_hash,
        "provenance_json": json.dumps(result.provenance),
        "created_at": record.created_at or time.time(),
    }


def _record_from_row(row: Any) -> TrialRecord:
    rounds = json.loads(row["samples_json"]) if row["samples_json"] else None
    result = result_from_mapping(row, rounds, json.loads(row["provenance_json"]))
    return TrialRecord(
        kernel=row["kernel"],
        workload_key=row["workload_key"],
        target_key=row["target_key"],
        config_key=row["config_key"],
        config=json.loads(row["config_json"]),
        phase=row["phase"],
        result=result,
        run_id=row["run_id"],
        created_at=row["created_at"],
    )


def _model_from_row(row: Any) -> ModelRecord:
    return ModelRecord(
        id=row["id"],
        name=row["name"],
        family=row["family"],
        schema=row["schema_hash"],
        format_version=row["format"],
        toolchain=json.loads(row["toolchain_json"]),
        trained_on=json.loads(row["trained_on_json"]),
        created_at=row["created_at"],
    )


def _stored_summary(text: str) -> dict[str, Any]:
    """A stored summary's JSON object; text that is not one (a damaged row) reads as an
    empty summary rather than failing every reader of the database."""
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _driver_hint(url: str) -> str:
    if sa.engine.make_url(url).get_driver_name() == "psycopg":
        return "; pip install 'autotune[pg]'"
    return ""
