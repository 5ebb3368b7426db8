"""``autotune model export|train --data|eval``: what a user runs on recorded data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from autotune.cli import main
from autotune.cost_model._dataset import write_export
from autotune.testing.datasets import dataset


@pytest.fixture
def export(tmp_path: Path) -> Path:
    path = tmp_path / "data.jsonl.gz"
    write_export(dataset(8), path, {"note": "test data"})
    return path


def test_train_from_an_export_stores_a_model_with_its_coreset(export: Path, tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    runner = CliRunner()
    trained = runner.invoke(main, ["model", "train", "--db", str(db), "--data", str(export)])
    assert trained.exit_code == 0, trained.output
    assert "8 programs" in trained.output and "model id 1" in trained.output
    shown = runner.invoke(main, ["model", "show", "--db", str(db)])
    assert shown.exit_code == 0 and "coreset of" in shown.output
    assert "features that matter most" in shown.output


def test_a_family_can_be_left_out_of_training(export: Path, tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    args = ["model", "train", "--db", str(db), str(export)]  # a shell glob's form
    out = CliRunner().invoke(main, [*args, "--exclude-family", "stencil"])
    assert out.exit_code == 0 and "5 programs" in out.output


def test_eval_writes_the_promised_json_keys(export: Path, tmp_path: Path) -> None:
    target = tmp_path / "eval.json"
    args = ["model", "eval", "--data", str(export), "--by", "family", "--k", "3"]
    out = CliRunner().invoke(main, [*args, "--json", str(target)])
    assert out.exit_code == 0, out.output
    summary = json.loads(target.read_text())["family"]
    for key in ("programs_total", "programs_scored", "kendall_tau_median", "a_peak_at_10_median"):
        assert key in summary
    assert "zero_shot_share_median" in summary and "fixed_config_share_median" in summary


def test_bad_input_is_one_line_and_exit_status_2(tmp_path: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(
        main, ["model", "train", "--db", str(tmp_path / "x.db"), "--exclude-family", "x"]
    )
    assert out.exit_code == 2 and "need exports" in out.output
    damaged = tmp_path / "bad.jsonl.gz"
    damaged.write_bytes(b"nonsense")
    out = runner.invoke(main, ["model", "eval", "--data", str(damaged)])
    assert out.exit_code == 2 and "not a readable export" in out.output
    assert len(out.output.strip().splitlines()) == 1


def test_export_writes_what_eval_reads(tmp_path: Path) -> None:
    out = CliRunner().invoke(
        main,
        ["model", "export", "--db", str(tmp_path / "none.db"), "--out", str(tmp_path / "e.gz")],
    )
    assert out.exit_code == 2  # no such database
