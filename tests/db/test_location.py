"""The default database: per user, overridable by AUTOTUNE_DB, its directory created
by writers only."""

from __future__ import annotations

from pathlib import Path

import pytest

from autotune.db import ENV_VAR, default_url, open_database, user_default_url
from autotune.errors import DatabaseError


def test_the_default_is_in_the_user_data_directory(user_data: Path, tmp_path: Path) -> None:
    expected = f"sqlite:///{user_data / 'autotune.db'}"
    assert user_default_url() == default_url() == expected
    assert Path(expected.removeprefix("sqlite:///")).is_absolute()


@pytest.mark.parametrize("value", ["postgresql://u@h/db", "sqlite:////x/y.db", "rel/t.db"])
def test_autotune_db_overrides_the_default(
    user_data: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    from autotune.db import normalize_url

    monkeypatch.setenv(ENV_VAR, value)
    assert default_url() == normalize_url(value)


def test_a_writer_creates_the_default_directory_and_a_reader_finds_it_anywhere(
    user_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(DatabaseError, match="no database at"):
        open_database(must_exist=True)
    assert not user_data.exists()  # reading created nothing
    open_database().close()
    assert (user_data / "autotune.db").is_file()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    open_database(must_exist=True).close()
    assert list(elsewhere.iterdir()) == []


def test_only_the_default_directory_is_created(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir" / "t.db"
    with pytest.raises(DatabaseError):
        open_database(str(missing))
    assert not missing.parent.exists()
