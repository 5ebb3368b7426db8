"""Reports: the HTML page and markdown summary a user reads."""

import base64
import re

from click.testing import CliRunner

from autotune.cli import main
from autotune.db import open_database
from autotune.program import Workload
from autotune.report import option_frequencies, write_report
from autotune.testing.databases import TARGET, WORKLOAD, make_timing_result, make_trial


def _filled(tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 'r.db'}")
    db.add_workload(Workload("saxpy", "(a,)", "ir"), "saxpy.py")
    for i in range(4):
        db.add_trial(
            make_trial(
                {"kernel.T": i}, result=make_timing_result({"hostname": "h1", "numba": "0.68.1"})
            )
        )
    db.start_run("run-1", "autotune tune saxpy.py", {})
    db.finish_run(
        "run-1",
        [
            {
                "kernel": "saxpy",
                "status": "tuned",
                "workload_key": WORKLOAD,
                "target_key": TARGET,
                "baseline_s": 2e-3,
                "best_s": 1e-3,
                "speedup": 2.0,
                "speedup_ci95": [1.9, 2.1],
                "best_config": {"kernel.T": 3},
                "best_changes": {"kernel.T": 3, "passes.sequence": ["sroa", "sroa"]},
                "trials": 4,
                "failed": 0,
                "rejected_wrong": 0,
            },
            {
                "kernel": "broken",
                "status": "skipped",
                "reason": "baseline does not compile: <oops>",
            },
        ],
    )
    return db


def test_report_page_has_the_table_embedded_plots_and_provenance(tmp_path):
    page = write_report(_filled(tmp_path), tmp_path / "report")
    text = page.read_text()
    assert "2.000x [1.900, 2.100]" in text and "saxpy" in text
    assert "&lt;oops&gt;" in text  # reasons are escaped
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', text)
    assert len(images) == 2
    assert all(base64.b64decode(img).startswith(b"\x89PNG") for img in images)
    assert "h1" in text and "0.68.1" in text
    summary = (tmp_path / "report" / "summary.md").read_text()
    assert "| saxpy | tuned |" in summary


def test_option_frequencies_count_passes_once_per_winner():
    counts = option_frequencies(
        [
            {"best_changes": {"passes.sequence": ["sroa", "sroa"], "flags.fastmath": "all"}},
            {"best_changes": {"flags.fastmath": "all"}},
        ]
    )
    assert counts["pass sroa"] == 1 and counts["flags.fastmath=all"] == 2


def test_report_command_refuses_a_missing_database(tmp_path):
    result = CliRunner().invoke(
        main, ["report", "--db", str(tmp_path / "none.db"), "-o", str(tmp_path / "r")]
    )
    assert result.exit_code == 2 and "no database" in result.output
    assert not (tmp_path / "none.db").exists()


def test_report_command_writes_the_page(tmp_path):
    _filled(tmp_path)
    result = CliRunner().invoke(
        main, ["report", "--db", str(tmp_path / "r.db"), "-o", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "index.html").exists()
