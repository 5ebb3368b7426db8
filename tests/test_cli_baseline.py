"""``--baseline``: what the command line measures speedups against, and says so."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests._helpers import CORPUS, FIXTURES, run_cli

SPEC = FIXTURES / "author_lib.autotune.toml"


@pytest.mark.parametrize(
    "command",
    [["tune", CORPUS / "dot.py"], ["sweep", CORPUS / "dot.py"]],
    ids=["tune", "sweep"],
)
def test_a_bad_baseline_is_one_line_and_exit_2(tmp_path, command) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "t.db"
    code, output = run_cli(*command, "--baseline", "fastest", "--db", db)
    assert code == 2, output
    lines = [ln for ln in output.splitlines() if ln.strip()]
    assert lines == ["error: unknown baseline 'fastest'; known: as-written, numba-default"], output
    assert not db.exists()


def test_help_names_the_baselines() -> None:
    code, output = run_cli("tune", "--help")
    assert code == 0 and "--baseline [as-written|numba-default]" in output


def _tune_spec(tmp_path: Path, *extra: str) -> tuple[str, dict[str, Any]]:
    out = tmp_path / "r.json"
    code, output = run_cli(
        "tune", SPEC, "--budget", "1", "--confirm-top", "1", "--timing", "lean",
        "--db", tmp_path / "t.db", "--json", out, *extra,
    )  # fmt: skip
    assert code == 0, output
    [result] = json.loads(out.read_text())
    return output, result


@pytest.mark.slow
def test_spec_declared_code_is_tuned_against_its_own_options_and_says_so(tmp_path) -> None:  # type: ignore[no-untyped-def]
    output, result = _tune_spec(tmp_path)
    assert result["baseline"] == {
        "kind": "as-written",
        "options": {"error_model": "numpy", "fastmath": True},
    }
    assert result["options"]["baseline"] == "as-written"
    assert "speedups against each kernel as written" in output
    if result["best_config"] is None:
        assert "nothing beats the kernel as written, njit(error_model='numpy'," in output
    else:
        assert "axpy: timed against the kernel as written" in output


@pytest.mark.slow
def test_numba_default_keeps_the_old_baseline(tmp_path) -> None:  # type: ignore[no-untyped-def]
    output, result = _tune_spec(tmp_path, "--baseline", "numba-default")
    assert result["baseline"] == {"kind": "numba-default", "options": {}}
    assert "speedups against Numba's default build" in output
