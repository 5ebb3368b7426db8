"""``autotune sweep`` as a user meets it: bad input, JSON, report, and no Dask needed."""

import json
import socket
import subprocess
import sys

import pytest

from tests._helpers import SUMMARY_KEYS, run_cli
from tests.sweep._corpus import mixed_corpus, param_corpus

run = run_cli


@pytest.fixture
def db(tmp_path):
    return tmp_path / "s.db"


def _assert_one_error_line(code, output, *fragments):
    assert code == 2, output
    lines = [ln for ln in output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), output
    for fragment in fragments:
        assert fragment in output


def test_an_empty_corpus_is_one_error_line_and_writes_nothing(tmp_path, db):
    (tmp_path / "empty").mkdir()
    code, output = run("sweep", tmp_path / "empty", "--db", db)
    _assert_one_error_line(code, output, "no kernels found")
    assert not db.exists()


def test_a_database_that_does_not_connect_is_one_error_line(tmp_path):
    corpus = param_corpus(tmp_path / "corpus", names=("first",))
    code, output = run("sweep", corpus, "--db", "postgresql+nosuchdriver://x/y")
    _assert_one_error_line(code, output, "cannot open database")


def test_workers_and_scheduler_together_are_bad_input(tmp_path, db):
    corpus = param_corpus(tmp_path / "corpus", names=("first",))
    code, output = run("sweep", corpus, "--workers", 2, "--scheduler", "tcp://x:1", "--db", db)
    _assert_one_error_line(code, output, "not both")
    assert not db.exists()


def _closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_an_unreachable_scheduler_is_one_error_line_and_writes_nothing(tmp_path, db):
    pytest.importorskip("distributed", reason="Dask distributed is not installed (the dist extra)")
    corpus = param_corpus(tmp_path / "corpus", names=("first",))
    address = f"tcp://127.0.0.1:{_closed_port()}"
    code, output = run("sweep", corpus, "--scheduler", address, "--db", db)
    _assert_one_error_line(code, output, "cannot reach the Dask scheduler", address)
    assert not db.exists()


@pytest.mark.slow
def test_sweep_writes_json_and_a_report_and_reports_a_skipped_kernel(tmp_path, db):
    corpus = mixed_corpus(tmp_path / "corpus")
    out, report = tmp_path / "r.json", tmp_path / "report"
    code, output = run(
        *("sweep", corpus, "--budget", 2, "--timing", "lean", "--confirm-top", 1),
        *("--db", db, "--json", out, "--report", report),
    )
    assert code == 1, output  # a kernel was skipped
    summaries = json.loads(out.read_text())
    by_name = {s["kernel"]: s for s in summaries}
    assert set(by_name) == {"first", "broken", "fine"}
    for name in ("first", "fine"):
        assert by_name[name]["status"] == "tuned" and set(by_name[name]) >= SUMMARY_KEYS
    assert by_name["first"]["trials"] == 2
    assert by_name["broken"]["status"] == "skipped" and by_name["broken"]["reason"]
    assert "broken: skipped" in output and "Sweep results" in output
    assert (report / "index.html").is_file()
    assert "not retrained (2 programs on record, 5 needed)" in output


# Python started with Dask made unimportable, as on a machine without the dist extra.
_WITHOUT_DASK = (
    "import sys; sys.modules.update(dask=None, distributed=None); "
    "from autotune.cli import main; sys.argv[0] = 'autotune'; main()"
)


@pytest.mark.slow
def test_sweep_runs_without_dask_and_workers_say_how_to_get_it(tmp_path, db):
    corpus = param_corpus(tmp_path / "corpus", names=("first",))
    common = [sys.executable, "-c", _WITHOUT_DASK, "sweep", str(corpus), "--db", str(db)]
    local = subprocess.run(
        [*common, "--budget", "1", "--confirm-top", "1", "--timing", "lean"],
        capture_output=True,
        text=True,
    )
    assert local.returncode == 0, local.stderr
    assert "first" in local.stdout
    distributed = subprocess.run([*common, "--workers", "2"], capture_output=True, text=True)
    assert distributed.returncode == 2
    assert distributed.stderr.strip().splitlines() == [
        "error: --workers and --scheduler need Dask: pip install 'autotune[dist]'"
    ]


@pytest.mark.slow
def test_sweep_on_a_local_cluster_of_two_workers(tmp_path, db):
    pytest.importorskip("distributed", reason="Dask distributed is not installed (the dist extra)")
    corpus = param_corpus(tmp_path / "corpus")
    out = tmp_path / "r.json"
    code, output = run(
        *("sweep", corpus, "--workers", 2, "--budget", 2, "--timing", "lean"),
        *("--confirm-top", 1, "--no-simplify", "--db", db, "--json", out),
    )
    assert code == 0, output
    summaries = json.loads(out.read_text())
    assert [(s["kernel"], s["status"], s["trials"]) for s in summaries] == [
        ("first", "tuned", 2),
        ("second", "tuned", 2),
    ]
    assert "local Dask cluster of 2 workers" in output
