"""The command line as a user meets it: exit codes, one-line errors, JSON, resume."""

import json

import pytest

from tests._helpers import CORPUS, FIXTURES, run_cli
from tests._helpers import SUMMARY_KEYS as JSON_KEYS

run = run_cli


def tune_dot(budget, *extra):
    """``autotune tune`` on the small dot-product corpus kernel."""
    return run("tune", CORPUS / "dot.py", "--size", "small", "--budget", budget, *extra)


@pytest.fixture
def db(tmp_path):
    return tmp_path / "t.db"


def _assert_bad_input(code, output, db, *fragments):
    assert code == 2, output
    lines = [ln for ln in output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), output
    for fragment in fragments:
        assert fragment in output
    assert not db.exists(), "bad input must not write the database"


def test_missing_file(tmp_path, db):
    code, output = run("tune", tmp_path / "nope.py", "--db", db)
    _assert_bad_input(code, output, db, "no such file")


def test_syntax_error_names_the_line(tmp_path, db):
    source = tmp_path / "broken.py"
    source.write_text("import autotune\n\ndef f(:\n    pass\n")
    code, output = run("tune", source, "--db", db)
    _assert_bad_input(code, output, db, "syntax error", ":3")


def test_file_without_kernels(tmp_path, db):
    source = tmp_path / "empty.py"
    source.write_text("x = 1\n")
    code, output = run("tune", source, "--db", db)
    _assert_bad_input(code, output, db, "no kernels declared")


def test_spec_with_wrong_types(tmp_path, db):
    (tmp_path / "lib.py").write_text("def f(x, out):\n    out[0] = x[0]\n")
    (tmp_path / "lib.autotune.toml").write_text(
        '[[kernel]]\nfunction = "f"\noutputs = [1]\nrtol = "tight"\n'
        'inputs = [{shape = [4]}, {shape = [4], fill = "zeros"}]\n'
    )
    code, output = run("tune", tmp_path / "lib.py", "--db", db)
    _assert_bad_input(code, output, db, "rtol")


def test_spec_naming_an_unknown_function(tmp_path, db):
    (tmp_path / "lib.py").write_text("def f(x, out):\n    out[0] = x[0]\n")
    (tmp_path / "lib.autotune.toml").write_text(
        '[[kernel]]\nfunction = "g"\noutputs = [1]\ninputs = [{shape = [4]}, {shape = [4]}]\n'
    )
    code, output = run("tune", tmp_path / "lib.py", "--db", db)
    _assert_bad_input(code, output, db, "no function 'g'")


def test_unknown_kernel_name(db):
    code, output = run("tune", CORPUS / "dot.py", "--kernel", "nope", "--db", db)
    _assert_bad_input(code, output, db, "no kernel named nope")


def test_unknown_size(db):
    code, output = run("tune", CORPUS / "dot.py", "--size", "huge", "--db", db)
    _assert_bad_input(code, output, db, "no size 'huge'")


def test_database_that_does_not_connect(tmp_path):
    code, output = run("tune", CORPUS / "dot.py", "--db", "postgresql+nosuchdriver://x/y")
    assert code == 2 and output.startswith("error:") and "cannot open database" in output


def test_debug_shows_the_traceback(tmp_path, db):
    code, output = run("tune", tmp_path / "nope.py", "--db", db, "--debug")
    assert code == 2 and "Traceback" in output


@pytest.mark.slow
def test_skipped_kernel_exits_1_with_its_reason(tmp_path, db):
    out = tmp_path / "r.json"
    code, output = run(
        "tune",
        FIXTURES / "planted.py",
        "--kernel",
        "fails_reference",
        "--db",
        db,
        "--json",
        out,
        "--budget",
        "2",
    )
    assert code == 1, output
    [summary] = json.loads(out.read_text())
    assert summary["status"] == "skipped" and "reference" in summary["reason"]


@pytest.mark.slow
def test_tune_writes_json_resumes_and_show_lists_it(tmp_path, db):
    out = tmp_path / "r.json"
    args = ("--db", db, "--json", out)
    code, output = tune_dot(3, *args)
    assert code == 0, output
    [summary] = json.loads(out.read_text())
    assert set(summary) >= JSON_KEYS
    assert summary["status"] == "tuned" and summary["trials"] == 3
    assert summary["best_s"] == pytest.approx(summary["baseline_s"] / summary["speedup"])
    lo, hi = summary["speedup_ci95"]
    if summary["best_config"] is None:
        assert summary["speedup"] == 1.0
    else:
        assert 1.0 < lo <= summary["speedup"] <= hi
    code, output = tune_dot(3, *args)  # same command again: resumes and measures 3 new configs
    [again] = json.loads(out.read_text())
    assert again["resumed"] == 3 and again["measured_this_run"] == 3 and again["trials"] == 6
    code, output = run("show", "--db", db, "--kernel", "dot")
    assert code == 0 and "dot" in output


@pytest.mark.slow
def test_export_and_replay_reproduce_the_search(tmp_path, db):
    out, replay, again = tmp_path / "r.json", tmp_path / "replay.json", tmp_path / "again.json"
    code, _ = tune_dot(4, "--db", db, "--json", out)
    assert code == 0
    code, output = run("export", "--db", db, "-o", replay)
    assert code == 0, output
    data = json.loads(replay.read_text())
    assert data["format"] == "autotune-replay" and len(data["kernels"][0]["trials"]) == 5
    code, output = tune_dot(4, "--replay", replay, "--json", again)
    assert code == 0, output
    [original], [replayed] = json.loads(out.read_text()), json.loads(again.read_text())
    assert replayed["trials"] == original["trials"] == 4
    assert replayed["ir_hash"] == original["ir_hash"]


@pytest.mark.slow
def test_dry_run_prints_the_space_and_writes_nothing(db):
    code, output = run(
        "tune", CORPUS / "matmul_tiled.py", "--size", "small", "--dry-run", "--db", db
    )
    assert code == 0, output
    assert "kernel.TILE" in output and "passes.sequence" in output
    assert "per candidate" in output and "invalid share" in output
    assert not db.exists()


@pytest.mark.slow
def test_a_kernel_whose_baseline_does_not_compile_is_skipped_and_the_others_tuned(tmp_path, db):
    out = tmp_path / "r.json"
    code, output = run("tune", FIXTURES / "mixed.py", "--budget", "2", "--db", db, "--json", out)
    assert code == 1, output
    by_name = {s["kernel"]: s for s in json.loads(out.read_text())}
    assert by_name["broken"]["status"] == "skipped"
    assert "no_such_attribute" in by_name["broken"]["reason"]
    assert by_name["fine"]["status"] == "tuned" and by_name["fine"]["trials"] == 2


def test_unsupported_toolchain_is_refused_with_a_clear_message(monkeypatch, db):
    import numba

    monkeypatch.setattr(numba, "__version__", "0.61.0")
    code, output = run("tune", CORPUS / "dot.py", "--db", db)
    _assert_bad_input(code, output, db, "numba 0.61.0 is not supported", "numba>=0.68,<0.69")


@pytest.mark.slow
def test_optuna_studies_live_in_the_tuning_database(tmp_path, db):
    import optuna

    code, output = tune_dot(3, "--strategy", "tpe", "--db", db, "--no-simplify")
    assert code == 0, output
    summaries = optuna.get_all_study_summaries(storage=f"sqlite:///{db}")
    assert len(summaries) == 1 and summaries[0].study_name.startswith("autotune:dot:")
    assert summaries[0].n_trials >= 3


def _search_trials(db):
    import sqlite3

    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        try:
            return conn.execute(
                "select config_key from autotune_trials where phase='search'"
            ).fetchall()
        except sqlite3.OperationalError:
            return []


@pytest.mark.slow
@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGKILL"])
def test_an_interrupted_run_resumes_without_measuring_anything_twice(tmp_path, db, signal_name):
    import signal
    import subprocess
    import sys
    import time

    cmd = [
        sys.executable,
        "-m",
        "autotune.cli",
        "tune",
        str(CORPUS / "dot.py"),
        "--size",
        "small",
        "--budget",
        "40",
        "--db",
        str(db),
        "--no-simplify",
    ]
    # A shell running the tests as a background job ignores SIGINT, and children
    # inherit that; a user's Ctrl-C reaches a foreground process with the default.
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 120
    while len(_search_trials(db)) < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    proc.send_signal(getattr(signal, signal_name))
    _, err = proc.communicate(timeout=60)
    if signal_name == "SIGINT":
        assert proc.returncode == 130 and "run the same command again" in err
    before = {k for (k,) in _search_trials(db)}
    assert 3 <= len(before) < 40
    out = tmp_path / "r.json"
    code, output = tune_dot(2, "--db", db, "--no-simplify", "--json", out)
    assert code == 0, output
    [summary] = json.loads(out.read_text())
    assert summary["resumed"] == len(before)
    keys = [k for (k,) in _search_trials(db)]
    assert len(keys) == len(set(keys)) == len(before) + 2


@pytest.mark.parametrize(
    "command",
    [
        ["show"],
        ["report", "-o", "report-dir"],
        ["export", "-o", "replay.json"],
        ["tune", CORPUS / "dot.py", "--budget", "1"],
    ],
)
def test_a_database_that_does_not_connect_is_one_line_and_exit_2(tmp_path, command):
    url = "postgresql://tuner:s3cret@127.0.0.1:1/tuning"  # port 1: refused at once
    code, output = run(*command, "--db", url)
    assert code == 2, output
    lines = [ln for ln in output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: cannot open database"), output
    assert "127.0.0.1:1" in output and "s3cret" not in output


def test_explain_lists_legal_and_illegal_transformations(tmp_path):
    out_json = tmp_path / "explain.json"
    code, output = run("explain", CORPUS / "seidel2d.py", "--json", out_json)
    assert code == 0, output
    assert "illegal interchange to (_, j, i)" in output
    assert "legal   skewing/reversal to make the band permutable" in output
    (report,) = json.loads(out_json.read_text())
    assert report["kernel"] == "seidel2d" and report["nests"][0]["transformable"]


def test_explain_says_why_a_nest_is_not_transformable():
    code, output = run("explain", CORPUS / "histogram.py")
    assert code == 0, output
    assert "not transformable, because" in output and "not affine" in output


def test_show_source_prints_the_winners_transformed_loops(db):
    from autotune.db import open_database
    from autotune.result import TuningResult

    config = {"loops.n2.b1.order": "i,k,j", "loops.n2.b1.tile": 16, "loops.n2.b1.tile_inner": 0}
    summary = {
        "kernel": "matmul",
        "status": "tuned",
        "workload_key": "w",
        "target_key": "t",
        "baseline_s": 2e-3,
        "best_s": 1e-3,
        "speedup": 2.0,
        "speedup_ci95": [1.8, 2.2],
        "best_config": config,
        "best_changes": config,
        "trials": 1,
        "failed": 0,
        "rejected_wrong": 0,
        "source": str(CORPUS / "matmul.py"),
        "spec": None,
    }
    database = open_database(f"sqlite:///{db}")
    database.start_run("r1", "test", {})
    database.finish_run("r1", [TuningResult.from_dict(summary)])
    database.close()
    code, output = run("show", "--db", f"sqlite:///{db}", "--source")
    assert code == 0, output
    assert "# matmul: loop transformations of the best config" in output
    assert "for k_t in range(0, m, 16):" in output


def test_loops_space_without_loops_is_bad_input(db):
    code, output = run("tune", CORPUS / "matmul.py", "--space", "loops", "--db", db)
    _assert_bad_input(code, output, db, "--loops serial")


@pytest.mark.slow
def test_lean_timing_takes_fewer_rounds_per_search_candidate(db):
    from autotune.db import open_database
    from autotune.records import LEAN_TIMING

    code, output = run(
        "tune",
        FIXTURES / "planted.py",
        "--kernel",
        "scale",
        "--space",
        "params",
        "--strategy",
        "exhaustive",
        "--budget",
        "7",
        "--no-halving",
        "--timing",
        "lean",
        "--confirm-top",
        "1",
        "--db",
        db,
    )
    assert code in (0, 1), output
    database = open_database(f"sqlite:///{db}")
    try:
        searched = [r for r in database.all_trials("scale") if r.phase == "search"]
    finally:
        database.close()
    timed = [r.result.timing for r in searched if r.result.timing is not None]
    # The one config that is neither wrong nor crashing runs 7 rounds with the standard
    # settings (its rounds are short), so at most 5 says the lean settings were used.
    assert timed and all(len(t.baseline_rounds) <= LEAN_TIMING.max_rounds for t in timed)
