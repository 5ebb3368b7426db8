"""The tuning database's tables, its schema version, and how each version is
migrated to the next.

Version history:
    1. Workloads, trials, runs and summaries.
    2. The portfolio: rewards of known-good configs per workload.
    3. Claims: which process is measuring which config right now, so that processes
       sharing a workload do not measure the same config twice.
    4. Tuned configs: the config cache that builds and imports read (one entry per
       cheap kernel key, size bucket and target).
    5. Cost-model state: program features per IR hash and feature schema, and trained
       cost models with the schema, format and toolchain they need.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from autotune.errors import DatabaseError

SCHEMA_VERSION = 5
#: The oldest schema this release reads without migrating it (readers never migrate).
OLDEST_READABLE_VERSION = 1

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


# One row per config being measured right now: whoever inserts it measures the config,
# and deletes the row once its trial is stored. See :mod:`autotune.db._claims`.
claims_table = sa.Table(
    "autotune_claims",
    metadata,
    sa.Column("workload_key", sa.String(32), primary_key=True),
    sa.Column("target_key", sa.String(32), primary_key=True),
    sa.Column("config_key", sa.String(32), primary_key=True),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("hostname", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("claimed_at", sa.Float, nullable=False),
)


# One row per (cheap kernel key, size bucket, target): the config a finished tuning run
# chose, as JSON (see :mod:`autotune.cache`). A later run for the same row replaces it.
tuned_table = sa.Table(
    "autotune_tuned",
    metadata,
    sa.Column("digest", sa.String(32), primary_key=True),
    sa.Column("bucket", sa.String(128), primary_key=True),
    sa.Column("target_key", sa.String(32), primary_key=True),
    sa.Column("kernel", sa.String(255), nullable=False),
    sa.Column("entry_json", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)


# One row per (IR hash, feature schema): a program's features, which are costly to
# compute (the IR is parsed), as a JSON object of name -> float. The first row stays.
features_table = sa.Table(
    "autotune_features",
    metadata,
    sa.Column("ir_hash", sa.String(64), primary_key=True),
    sa.Column("schema_hash", sa.String(64), primary_key=True),
    sa.Column("features_json", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

# One row per trained cost model: its bytes, and what a loader must match to use them
# (feature schema, format, toolchain). Models are never replaced; the newest is read.
models_table = sa.Table(
    "autotune_models",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("family", sa.String(255), nullable=False),
    sa.Column("schema_hash", sa.String(64), nullable=False),
    sa.Column("format", sa.Integer, nullable=False),
    sa.Column("toolchain_json", sa.Text, nullable=False),
    sa.Column("trained_on_json", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
)
sa.Index("ix_models_lookup", models_table.c.name, models_table.c.family)


def _add_portfolio(conn: sa.Connection) -> None:
    """v1 -> v2: the portfolio table is new; nothing else changes."""
    portfolio_table.create(conn, checkfirst=True)


def _add_claims(conn: sa.Connection) -> None:
    """v2 -> v3: the claims table is new; nothing else changes."""
    claims_table.create(conn, checkfirst=True)


def _add_tuned(conn: sa.Connection) -> None:
    """v3 -> v4: the tuned-config table is new; nothing else changes."""
    tuned_table.create(conn, checkfirst=True)


def _add_cost_model_tables(conn: sa.Connection) -> None:
    """v4 -> v5: the features and models tables are new; nothing else changes."""
    features_table.create(conn, checkfirst=True)
    models_table.create(conn, checkfirst=True)


#: version -> function migrating a database from that version to the next.
MIGRATIONS: dict[int, Callable[[sa.Connection], None]] = {
    1: _add_portfolio,
    2: _add_claims,
    3: _add_tuned,
    4: _add_cost_model_tables,
}


def stored_version(conn: sa.Connection) -> int | None:
    """The schema version recorded in the database; ``None`` when it holds no autotune
    tables at all (0 when it has the table but no version)."""
    if not sa.inspect(conn).has_table(meta_table.name):
        return None
    row = conn.execute(
        sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")
    ).first()
    return int(row[0]) if row else 0


def prepare(conn: sa.Connection, shown: str) -> None:
    """Create the schema in an empty database, or migrate an older one to
    :data:`SCHEMA_VERSION`; ``conn`` is in a writing transaction. ``shown``: the URL as
    error messages may show it.

    Raises:
        DatabaseError: the schema is newer than this release's, or too old to migrate.
    """
    version = stored_version(conn)
    if version is None:
        metadata.create_all(conn)
        conn.execute(meta_table.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
        return
    _refuse_newer(version, shown)
    while version < SCHEMA_VERSION:
        if version not in MIGRATIONS:
            raise DatabaseError(f"database {shown} has schema v{version}, which cannot be migrated")
        MIGRATIONS[version](conn)
        version += 1
        conn.execute(
            meta_table.update()
            .where(meta_table.c.key == "schema_version")
            .values(value=str(version))
        )
    metadata.create_all(conn)


def readable_version(conn: sa.Connection, shown: str) -> int:
    """The schema version of a database opened for reading, checked and left as it is.

    Raises:
        DatabaseError: the database holds no autotune schema, or one this release
            cannot read (newer, or older than :data:`OLDEST_READABLE_VERSION`).
    """
    version = stored_version(conn)
    if version is None:
        raise DatabaseError(f"{shown} is not an autotune database: it has no autotune tables")
    _refuse_newer(version, shown)
    if version < OLDEST_READABLE_VERSION:
        raise DatabaseError(
            f"database {shown} has schema v{version}, which this autotune cannot read"
        )
    return version


def _refuse_newer(version: int, shown: str) -> None:
    if version > SCHEMA_VERSION:
        raise DatabaseError(
            f"database {shown} has schema v{version}, newer than this autotune's "
            f"v{SCHEMA_VERSION}; upgrade autotune to use it"
        )
