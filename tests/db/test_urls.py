"""URLs as messages show them: passwords and secret query parameters hidden."""

from __future__ import annotations

import pytest

from autotune.db import SQLDatabase, display_url
from autotune.db._engine import redact
from autotune.errors import DatabaseError


@pytest.mark.parametrize(
    "name",
    [
        "password",
        "PASSWORD",
        "passwd",
        "pwd",
        "Pwd",
        "sslpassword",
        "api_token",
        "Token",
        "client_secret",
        "SecretKey",
    ],
)
def test_secret_query_parameters_are_hidden(name: str) -> None:
    shown = display_url(f"postgresql+psycopg://u@host:1/x?{name}=secretpw&sslmode=require")
    assert "secretpw" not in shown
    assert f"{name}=***" in shown
    assert "sslmode=require" in shown and "u@host:1/x" in shown


def test_password_in_the_user_part_and_the_query_are_both_hidden() -> None:
    shown = display_url("postgresql://tuner:s3cret@host/db?password=other&application_name=at")
    assert "s3cret" not in shown and "other" not in shown
    assert shown.startswith("postgresql://tuner:***@host/db?")
    assert "application_name=at" in shown


def test_an_encoded_secret_name_and_an_unparseable_url_are_masked_too() -> None:
    assert "hunter2" not in display_url("postgresql://u@h/db?pass%77ord=hunter2")
    assert display_url("not a url?token=abc") == "not a url?token=***"


def test_urls_without_secrets_are_shown_as_they_are() -> None:
    for url in ("sqlite:////tmp/x.db", "postgresql+psycopg://u@h:5432/db?sslmode=require"):
        assert display_url(url) == url


def test_redact_hides_secrets_quoted_in_a_message_in_both_spellings() -> None:
    url = "postgresql://u:pw1x@h/db?password=a%2Fb&sslmode=require"
    message = redact("failed for pw1x with password a/b or a%2Fb; sslmode require", url)
    assert "pw1x" not in message and "a/b" not in message and "a%2Fb" not in message
    assert "sslmode require" in message


def test_a_server_that_does_not_answer_hides_a_query_password() -> None:
    # Port 1 on the loopback: refused at once, on any machine.
    with pytest.raises(DatabaseError) as info:
        SQLDatabase("postgresql://u@127.0.0.1:1/x?password=secretpw")
    message = str(info.value)
    assert "secretpw" not in message and "\n" not in message
    assert "password=***" in message
