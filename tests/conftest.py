"""Shared fixtures. One source of randomness: every seeded test takes ``global_random_seed``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests._postgres import ENV_URL, PostgresServer, ServerUnavailable, start_private_server


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the tests marked ``gpu`` when no CUDA device can be used here. The device is
    probed once, and only when such tests were collected."""
    gpu_items = [item for item in items if item.get_closest_marker("gpu")]
    if not gpu_items:
        return
    from autotune.backends._cuda import gpu_unavailable_reason

    reason = gpu_unavailable_reason()
    if reason is not None:
        skip = pytest.mark.skip(reason=f"needs a CUDA GPU: {reason}")
        for item in gpu_items:
            item.add_marker(skip)


@pytest.fixture
def global_random_seed() -> int:
    """The seed of every seeded test: 0, or ``AUTOTUNE_TEST_SEED`` to try another."""
    return int(os.environ.get("AUTOTUNE_TEST_SEED", "0"))


@pytest.fixture(autouse=True)
def _default_database_in_tmp(tmp_path_factory: pytest.TempPathFactory, monkeypatch) -> None:
    """Point the default database (``AUTOTUNE_DB``) at a fresh temporary file, so that no
    test writes into the user's real data directory."""
    path = tmp_path_factory.mktemp("default-db") / "autotune.db"
    monkeypatch.setenv("AUTOTUNE_DB", str(path))


# Hypothesis draws the same examples on every run (seeded, like everything else here)
# and keeps no example database in the working tree.
settings.register_profile("autotune", derandomize=True, database=None, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "autotune"))


@pytest.fixture
def user_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake per-user data directory, and no ``AUTOTUNE_DB``: the real default applies.
    Returns the directory the default database goes in."""
    import platformdirs

    monkeypatch.delenv("AUTOTUNE_DB", raising=False)
    root = tmp_path / "user-data"
    monkeypatch.setattr(platformdirs, "user_data_path", lambda app, **_: root / app)
    return root / "autotune"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The server named by ``AUTOTUNE_TEST_POSTGRES_URL``, else a private one.

    A named server that does not answer fails the tests (CI set it up wrong); the
    tests skip only when no server can be started at all.
    """
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("PostgreSQL tests need psycopg: pip install -e '.[pg]'")
    url = os.environ.get(ENV_URL)
    if url:
        server = PostgresServer(url)
        try:
            server.check()
        except Exception as exc:
            pytest.fail(f"{ENV_URL} names a server that does not answer: {exc}")
        yield server
        server.close()
        return
    try:
        server, stop = start_private_server()
    except ServerUnavailable as exc:
        pytest.skip(f"no PostgreSQL server: {ENV_URL} is not set and none could be started ({exc})")
    try:
        yield server
    finally:
        server.close()
        stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """The URL of a fresh PostgreSQL database, dropped after the test."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)
