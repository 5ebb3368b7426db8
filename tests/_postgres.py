"""A PostgreSQL server for the tests: the one named by the environment, or a private one.

CI starts a server and names a database on it in ``AUTOTUNE_TEST_POSTGRES_URL``; its
role must be allowed to create databases, because every test gets a fresh one. Without
the variable, a throwaway server is started from the installed PostgreSQL binaries in a
temporary directory (as the ``postgres`` user when running as root: initdb refuses
root), so a plain ``pytest`` run on a machine with PostgreSQL installed tests it too.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

ENV_URL = "AUTOTUNE_TEST_POSTGRES_URL"


class ServerUnavailable(Exception):
    """No PostgreSQL server can be started here; the message says why."""


class PostgresServer:
    """A server on which fresh databases are created and dropped, one per test."""

    def __init__(self, url: str) -> None:
        self.url = sa.engine.make_url(url)
        # CREATE/DROP DATABASE cannot run inside a transaction.
        self._admin = sa.create_engine(self.url, isolation_level="AUTOCOMMIT")

    def check(self) -> None:
        """Raise ``sqlalchemy.exc.OperationalError`` unless the server answers."""
        with self._admin.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    def create_database(self) -> str:
        """A new, empty database; returns its URL."""
        name = f"autotune_test_{uuid.uuid4().hex[:12]}"
        with self._admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        return self.url.set(database=name).render_as_string(hide_password=False)

    def drop_database(self, url: str) -> None:
        name = sa.engine.make_url(url).database
        with self._admin.connect() as conn:
            # FORCE: a test that failed half-way may have left connections open.
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        self._admin.dispose()


def start_private_server() -> tuple[PostgresServer, Callable[[], None]]:
    """Start a throwaway server; returns it and the function that removes it."""
    bin_dir = _postgres_bin_dir()
    as_user, owner = _run_as()
    data = Path(tempfile.mkdtemp(prefix="autotune-pg-"))
    if owner is not None:
        os.chown(data, owner.pw_uid, owner.pw_gid)
    port = _free_port()

    def stop() -> None:
        subprocess.run(
            [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(data, ignore_errors=True)

    try:
        initdb = ["-D", str(data), "--auth=trust", "-U", "postgres", "-E", "UTF8", "--locale=C"]
        _run("initdb", [*as_user, str(bin_dir / "initdb"), *initdb, "--no-sync"])
        # fsync off: the data is thrown away, and tests should not wait for the disk.
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {data} -c fsync=off"
        start = ["-D", str(data), "-l", str(data / "log"), "-o", options, "-w", "-t", "60"]
        _run("pg_ctl start", [*as_user, str(bin_dir / "pg_ctl"), *start, "start"])
    except ServerUnavailable:
        stop()
        raise
    return PostgresServer(f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"), stop


def _postgres_bin_dir() -> Path:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    # Debian keeps the server binaries off PATH, one directory per major version.
    installed = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    if not installed:
        raise ServerUnavailable("PostgreSQL's initdb is not installed")
    return installed[-1].parent


def _run_as() -> tuple[list[str], pwd.struct_passwd | None]:
    if os.geteuid() != 0:
        return [], None
    try:
        owner = pwd.getpwnam("postgres")
    except KeyError:
        raise ServerUnavailable("running as root and there is no 'postgres' user") from None
    runuser = shutil.which("runuser")
    if runuser is None:
        raise ServerUnavailable("running as root and runuser is not installed")
    return [runuser, "-u", "postgres", "--"], owner


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(what: str, command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines() or ["no output"]
        raise ServerUnavailable(f"{what} failed: {lines[-1]}")
