"""Claims: which process is measuring which config, so that processes sharing a
workload never measure one config twice (Optuna's RDB storage does the same with a
RUNNING trial state).

A claim is a row keyed by (workload, target, config), inserted by the one process
that measures the config and deleted once its trial is stored. Its holder is a run id,
host name and process id. A claim is *stale*, and may be taken over, when it is older
than a timeout (its holder may have died on another machine) or when its process is
dead on this machine. Taking a stale claim over is a compare-and-swap, so that of
several processes finding it stale at once exactly one wins.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from autotune.db._engine import insert_unless_present
from autotune.db._schema import claims_table

#: Seconds after which a claim is stale whatever its holder: far longer than measuring
#: one candidate takes, even while it waits for the host's timing lock.
CLAIM_STALE_S = 3600.0


@dataclass(frozen=True, slots=True)
class ClaimKey:
    """The config a claim is about."""

    workload_key: str
    target_key: str
    config_key: str

    def where(self) -> sa.ColumnElement[bool]:
        return sa.and_(
            claims_table.c.workload_key == self.workload_key,
            claims_table.c.target_key == self.target_key,
            claims_table.c.config_key == self.config_key,
        )


def claim(conn: sa.Connection, key: ClaimKey, run_id: str, stale_after_s: float) -> bool:
    """Claim ``key`` for ``run_id`` in this process; ``conn`` is in a writing
    transaction. True when it was free, stale, or held by this very holder already."""
    mine = _holder(run_id) | {"claimed_at": time.time()}
    if insert_unless_present(conn, claims_table, {**_key_columns(key), **mine}):
        return True
    held = conn.execute(sa.select(claims_table).where(key.where())).mappings().first()
    if held is None:  # released since the insert failed
        return insert_unless_present(conn, claims_table, {**_key_columns(key), **mine})
    if not _is_mine(held, run_id) and not is_stale(held, mine["claimed_at"], stale_after_s):
        return False
    # Only if nobody changed it since it was read: of two takers, one wins.
    unchanged = sa.and_(
        key.where(),
        claims_table.c.run_id == held["run_id"],
        claims_table.c.hostname == held["hostname"],
        claims_table.c.pid == held["pid"],
        claims_table.c.claimed_at == held["claimed_at"],
    )
    taken = conn.execute(claims_table.update().where(unchanged).values(**mine))
    return bool(taken.rowcount == 1)


def release(conn: sa.Connection, key: ClaimKey, run_id: str) -> None:
    """Delete this holder's claim of ``key``; a claim someone else holds stays."""
    holder = _holder(run_id)
    conn.execute(
        claims_table.delete().where(
            key.where(),
            claims_table.c.run_id == holder["run_id"],
            claims_table.c.hostname == holder["hostname"],
            claims_table.c.pid == holder["pid"],
        )
    )


def is_stale(held: Any, now: float, stale_after_s: float) -> bool:
    """Whether the claim row ``held`` may be taken over at time ``now``."""
    if now - float(held["claimed_at"]) > stale_after_s:
        return True
    return bool(held["hostname"] == socket.gethostname() and not pid_alive(int(held["pid"])))


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` runs on this machine."""
    if os.name == "nt":
        return True  # os.kill would terminate it there; staleness falls back on age
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


def _holder(run_id: str) -> dict[str, Any]:
    return {"run_id": run_id, "hostname": socket.gethostname(), "pid": os.getpid()}


def _is_mine(held: Any, run_id: str) -> bool:
    return all(held[k] == v for k, v in _holder(run_id).items())


def _key_columns(key: ClaimKey) -> dict[str, str]:
    return {
        "workload_key": key.workload_key,
        "target_key": key.target_key,
        "config_key": key.config_key,
    }
