"""Tuning database on SQLAlchemy: SQLite by default, PostgreSQL (or any URL) by choice.

The schema carries a version in ``autotune_meta``. Opening a database written by an
older release migrates it in place; one written by a newer release is refused.
Optuna keeps its own tables in the same database, so one URL holds everything.

Several processes, on one machine or many, may write to one database at once: creating
the schema is serialized, and every insert of a uniquely keyed row is resolved in the
database, so each record is stored exactly once (see :mod:`autotune.db._engine`).
Errors from the database surface as :class:`~autotune.errors.DatabaseError`, one line,
with any password in the URL hidden.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from autotune.candidate import Candidate, canonical_json
from autotune.db._base import BaseDatabase
from autotune.db._engine import (
    WRITES,
    create_engine,
    display_url,
    insert_unless_present,
    lock_for_transaction,
    normalize_url,
)
from autotune.errors import DatabaseError
from autotune.measure._timing import result_from_mapping
from autotune.program import Workload
from autotune.records import PortfolioArm, TrialRecord

SCHEMA_VERSION = 2
DEFAULT_URL = "sqlite:///autotune.db"

metadata = sa.MetaData()

meta_table = sa.Table(
    "autotune_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

workloads_table = sa.Table(
    "autotune_workloads",
    metadata,
    sa.Column("workload_key", sa.String(32), primary_key=True),
    sa.Column("kernel", sa.String(255), nullable=False),
    sa.Column("ir_hash", sa.String(32), nullable=False),
    sa.Column("arg_types", sa.Text, nullable=False),
    sa.Column("inputs", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("ir_text", sa.Text, nullable=False),
)

trials_table = sa.Table(
    "autotune_trials",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(64), nullable=False),
    # "" for search trials (shared by every run); the run id for baseline/confirm trials.
    sa.Column("scope", sa.String(64), nullable=False),
    sa.Column("kernel", sa.String(255), nullable=False),
    sa.Column("workload_key", sa.String(32), nullable=False),
    sa.Column("target_key", sa.String(32), nullable=False),
    sa.Column("config_key", sa.String(32), nullable=False),
    sa.Column("config_json", sa.Text, nullable=False),
    sa.Column("phase", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("error", sa.Text, nullable=False),
    sa.Column("compile_s", sa.Float),
    sa.Column("verify_s", sa.Float),
    sa.Column("baseline_s", sa.Float),
    sa.Column("candidate_s", sa.Float),
    sa.Column("speedup", sa.Float),
    sa.Column("speedup_lo", sa.Float),
    sa.Column("speedup_hi", sa.Float),
    sa.Column("samples_json", sa.Text),
    sa.Column("code_hash", sa.String(32)),
    sa.Column("provenance_json", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.UniqueConstraint(
        "workload_key", "target_key", "config_key", "phase", "scope", name="uq_trial"
    ),
)
sa.Index("ix_trials_lookup", trials_table.c.workload_key, trials_table.c.target_key)

runs_table = sa.Table(
    "autotune_runs",
    metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("command", sa.Text, nullable=False),
    sa.Column("info_json", sa.Text, nullable=False),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("finished_at", sa.Float),
)

summaries_table = sa.Table(
    "autotune_summaries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("kernel", sa.String(255), nullable=False),
    sa.Column("workload_key", sa.String(32)),
    sa.Column("target_key", sa.String(32)),
    sa.Column("summary_json", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

# One row per (target, config, workload): the reward a known-good config earned on one
# problem instance. Portfolio strategies read the arms back with their rewards.
portfolio_table = sa.Table(
    "autotune_portfolio",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("target_key", sa.String(32), nullable=False),
    sa.Column("config_key", sa.String(32), nullable=False),
    sa.Column("workload_key", sa.String(32), nullable=False),
    sa.Column("config_json", sa.Text, nullable=False),
    sa.Column("reward", sa.Float, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.UniqueConstraint("target_key", "config_key", "workload_key", name="uq_portfolio"),
)


def _add_portfolio(conn: sa.Connection) -> None:
    """v1 -> v2: the portfolio table is new; nothing else changes."""
    portfolio_table.create(conn, checkfirst=True)


#: version -> function migrating a database from that version to the next.
MIGRATIONS: dict[int, Any] = {1: _add_portfolio}


class SQLDatabase(BaseDatabase):
    """A :class:`BaseDatabase` on any SQLAlchemy URL."""

    def __init__(self, url: str = DEFAULT_URL) -> None:
        self.url = normalize_url(url)
        opening = f"cannot open database {display_url(self.url)}"
        try:
            self._engine = create_engine(self.url)
        except ImportError as exc:
            hint = _driver_hint(self.url)
            raise DatabaseError(f"{opening}: its driver is not installed ({exc}){hint}") from None
        except (sa.exc.ArgumentError, ValueError) as exc:
            raise DatabaseError(f"{opening}: {exc}") from None
        with self._write(failing=opening) as conn:
            # Processes opening a new database at once must not each create it.
            lock_for_transaction(conn, "autotune schema")
            self._prepare(conn)

    @contextmanager
    def _errors(self, failing: str) -> Iterator[None]:
        """Turn the database's exceptions into one-line :class:`DatabaseError`."""
        try:
            yield
        except SQLAlchemyError as exc:
            reason = " ".join(str(getattr(exc, "orig", None) or exc).split())[:300]
            raise DatabaseError(f"{failing}: {reason}") from None

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        with self._errors(f"database {display_url(self.url)}"), self._engine.connect() as conn:
            yield conn

    @contextmanager
    def _write(self, failing: str = "") -> Iterator[sa.Connection]:
        """A connection in a transaction that commits on success; for writes."""
        failing = failing or f"database {display_url(self.url)}"
        with self._errors(failing), self._engine.connect() as conn:
            conn.execution_options(**{WRITES: True})
            with conn.begin():
                yield conn

    def _prepare(self, conn: sa.Connection) -> None:
        inspector = sa.inspect(conn)
        if not inspector.has_table("autotune_meta"):
            metadata.create_all(conn)
            conn.execute(
                meta_table.insert().values(key="schema_version", value=str(SCHEMA_VERSION))
            )
            return
        row = conn.execute(
            sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")
        ).first()
        version = int(row[0]) if row else 0
        if version > SCHEMA_VERSION:
            raise DatabaseError(
                f"database {display_url(self.url)} has schema v{version}, newer than this "
                f"autotune's v{SCHEMA_VERSION}; upgrade autotune to use it"
            )
        while version < SCHEMA_VERSION:
            if version not in MIGRATIONS:
                raise DatabaseError(
                    f"database {display_url(self.url)} has schema v{version}, which cannot "
                    "be migrated"
                )
            MIGRATIONS[version](conn)
            version += 1
            conn.execute(
                meta_table.update()
                .where(meta_table.c.key == "schema_version")
                .values(value=str(version))
            )
        metadata.create_all(conn)

    @property
    def optuna_storage(self) -> str | None:
        # An in-memory SQLite database cannot be shared with Optuna's own engine.
        return None if self.url in ("sqlite://", "sqlite:///:memory:") else self.url

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

    def finish_run(self, run_id: str, summaries: list[dict[str, Any]]) -> None:
        now = time.time()
        with self._write() as conn:
            conn.execute(
                runs_table.update().where(runs_table.c.run_id == run_id).values(finished_at=now)
            )
            for summary in summaries:
                conn.execute(
                    summaries_table.insert().values(
                        run_id=run_id,
                        kernel=summary["kernel"],
                        workload_key=summary.get("workload_key"),
                        target_key=summary.get("target_key"),
                        summary_json=json.dumps(summary),
                        created_at=now,
                    )
                )

    def latest_summaries(self, kernel: str | None = None) -> list[dict[str, Any]]:
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
                latest.append(json.loads(row["summary_json"]))
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


def _driver_hint(url: str) -> str:
    if sa.engine.make_url(url).get_driver_name() == "psycopg":
        return "; pip install 'autotune[pg]'"
    return ""
