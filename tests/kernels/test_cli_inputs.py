"""Bad declarations through ``autotune tune``: exit 2, one line, nothing written."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from autotune.cli import main

CONSTRAINED = """
import autotune

B = 1


def check(p):
    if p["B"] > 2:
        raise ValueError("B too big")
    return {constraint}


@autotune.kernel(inputs=lambda rng: (rng.random(8),), outputs="return",
                 params={{"B": autotune.Int(1, 4)}}, constraints=[check])
def f(x):
    return x.sum() * B
"""


def tune(tmp_path: Path, source: str, *extra: str) -> tuple[int, str, str, Path]:
    path = tmp_path / "constrained.py"
    path.write_text(textwrap.dedent(source))
    db = tmp_path / "t.db"
    args = ["tune", str(path), "--db", str(db), "--budget", "2", "--space", "params", *extra]
    result = CliRunner().invoke(main, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result.exit_code, result.stdout, result.stderr, db


@pytest.mark.parametrize("extra", [(), ("--dry-run",)], ids=["tune", "dry-run"])
def test_constraint_raising_on_the_defaults_stops_before_anything_is_written(
    tmp_path: Path, extra: tuple[str, ...]
) -> None:
    source = CONSTRAINED.format(constraint='p["nope"] > 1')
    code, stdout, stderr, db = tune(tmp_path, source, *extra)
    assert code == 2 and stdout == ""
    [line] = stderr.splitlines()
    path = tmp_path / "constrained.py"
    assert line.startswith(f"error: {path}:13: kernel 'f': constraint 'check' ({path}:10) raised")
    assert "KeyError: 'nope'" in line
    assert not db.exists()


@pytest.mark.slow
def test_constraint_raising_on_other_configs_only_makes_them_invalid(tmp_path: Path) -> None:
    code, stdout, stderr, db = tune(tmp_path, CONSTRAINED.format(constraint="True"), "--dry-run")
    assert code == 0, stdout + stderr
    share = re.search(r"invalid share: ([\d.]+)%", stdout)
    assert share is not None and 30 < float(share.group(1)) < 70  # B in {3, 4} raises
    assert not db.exists()
