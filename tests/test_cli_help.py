"""What users read before running anything: command help and the package docstring."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from typing import Any

import click
import pytest
from click.testing import CliRunner

import autotune
from autotune.cli import main

#: reStructuredText that reads as noise in a terminal: ``literals``, :func:`roles`, `refs`_.
RST_MARKUP = re.compile(r"``|:[a-z]+:`|`_|`")


def _commands(group: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    for name, command in getattr(group, "commands", {}).items():
        yield from _commands(command, (*path, name))


@pytest.mark.parametrize("path", list(_commands(main)), ids=lambda p: " ".join(p) or "autotune")
def test_help_has_no_restructuredtext_markup(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert not RST_MARKUP.findall(result.output), result.output


def _resolve(dotted: str) -> Any:
    """The object a docstring names: ``autotune.api.tune_kernels``, or ``kernel``
    relative to the package."""
    parts = (
        dotted.split(".") if dotted.startswith("autotune.") else ["autotune", *dotted.split(".")]
    )
    for cut in range(len(parts), 0, -1):
        try:
            found: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            found = getattr(found, name)
        return found
    raise ImportError(dotted)


def test_every_name_in_the_package_docstring_exists() -> None:
    doc = autotune.__doc__ or ""
    roles = re.findall(r":[a-z]+:`~?([\w.]+)`", doc)
    literals = re.findall(r"``(autotune(?:\.\w+)+)``", doc)
    assert roles
    for name in roles + literals:
        assert _resolve(name) is not None, name
