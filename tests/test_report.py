"""Reports: the HTML page and markdown summary a user reads."""

import base64
import re
import shutil

import pytest
from click.testing import CliRunner

from autotune.cli import main
from autotune.db import open_database
from autotune.program import Workload
from autotune.records import MeasureResult, Status
from autotune.report import best_so_far, collect, option_frequencies, write_report
from autotune.result import TuningResult
from autotune.testing.databases import (
    OTHER_TARGET,
    TARGET,
    WORKLOAD,
    make_timing_result,
    make_trial,
)

HOST_A = {"hostname": "h1", "cpu_name": "znver4", "numba": "0.68.1", "llvm": "22.1.0"}
HOST_B = {"hostname": "h2", "cpu_name": "sapphirerapids", "numba": "0.68.1"}


def _tuned(kernel="saxpy", target=TARGET, **changes):
    summary = {
        "kernel": kernel,
        "status": "tuned",
        "workload_key": WORKLOAD,
        "target_key": target,
        "baseline_s": 2e-3,
        "best_s": 1e-3,
        "speedup": 2.0,
        "speedup_ci95": [1.9, 2.1],
        "best_config": {"kernel.T": 3},
        "best_changes": {"kernel.T": 3, "passes.sequence": ["sroa", "sroa"]},
        "trials": 4,
        "failed": 0,
        "rejected_wrong": 0,
    }
    return {**summary, **changes}


def _result(**changes):
    return TuningResult.from_dict(_tuned(**changes))


def _filled(tmp_path, summaries=None, target=TARGET, provenance=HOST_A):
    db = open_database(f"sqlite:///{tmp_path / 'r.db'}")
    db.add_workload(Workload("saxpy", "(a,)", "ir"), "saxpy.py")
    for i in range(4):
        db.add_trial(
            make_trial({"kernel.T": i}, target_key=target, result=make_timing_result(provenance))
        )
    db.start_run("run-1", "autotune tune saxpy.py", {})
    skipped = {
        "kernel": "broken",
        "status": "skipped",
        "reason": "baseline does not compile: <oops>",
    }
    _finish(db, "run-1", summaries if summaries is not None else [_tuned(), skipped])
    return db


def _finish(db, run_id, summaries):
    """Store ``summaries``, JSON objects as ``tune --json`` writes them, as results."""
    db.finish_run(run_id, [TuningResult.from_dict(s) for s in summaries])


def test_report_page_has_the_table_embedded_plots_and_provenance(tmp_path):
    page = write_report(_filled(tmp_path), tmp_path / "report")
    text = page.read_text()
    assert "2.000x [1.900, 2.100]" in text and "saxpy" in text
    assert "2 ms" in text and "1 ms" in text  # times in human units
    assert "kernel.T=3" in text  # what the winner changed
    assert "&lt;oops&gt;" in text  # reasons are escaped
    images = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,([^"]+)"', text)
    assert [alt for alt, _ in images] == [
        "Confirmed speedup per kernel, with 95% CI",
        "Best search-phase speedup so far",
        "Options in winning configs",
    ]
    assert all(base64.b64decode(png).startswith(b"\x89PNG") for _, png in images)
    assert "znver4" in text and "h1" in text and "0.68.1" in text and "22.1.0" in text
    assert not re.search(r'(src|href)="(https?:)?//', text), "the page must not load anything"
    summary = (tmp_path / "report" / "summary.md").read_text()
    assert "| saxpy | tuned | 2 ms | 1 ms | 2.000x [1.900, 2.100] | 4 | 0 | 0 |" in summary
    assert "- pass sroa: 1" in summary and "| cpu_name | znver4" in summary


def test_a_kernel_without_a_winner_shows_no_interval(tmp_path):
    no_winner = _tuned(best_config=None, best_changes={}, speedup=1.0, speedup_ci95=[1.0, 1.0])
    write_report(_filled(tmp_path, [no_winner]), tmp_path / "report")
    summary = (tmp_path / "report" / "summary.md").read_text()
    assert "none beyond noise" in summary and "[1.000, 1.000]" not in summary
    assert "nothing beats Numba's default build" in summary
    assert "0 of 1 tuned kernels have a winning config." in summary


def test_rows_of_one_kernel_on_two_machines_are_told_apart(tmp_path):
    db = _filled(tmp_path, [])
    for i in range(2):
        db.add_trial(
            make_trial({"kernel.T": i}, target_key=OTHER_TARGET, result=make_timing_result(HOST_B))
        )
    db.start_run("run-2", "autotune tune saxpy.py", {})
    _finish(db, "run-2", [_tuned(), _tuned(target=OTHER_TARGET, speedup=1.5)])
    data = collect(db)
    assert sorted(k.label for k in data.kernels) == [
        "saxpy [sapphirerapids (h2)]",
        "saxpy [znver4 (h1)]",
    ]
    assert list(data.provenance) == ["sapphirerapids (h2)", "znver4 (h1)"]
    assert data.provenance["znver4 (h1)"]["llvm"] == "22.1.0"
    assert "llvm" not in data.provenance["sapphirerapids (h2)"]
    assert [len(k.curve) for k in data.kernels] == [2, 4]


def test_rows_of_one_kernel_at_two_sizes_are_labelled_by_their_inputs(tmp_path):
    db = _filled(tmp_path, [])
    small, large = (Workload("saxpy", "(a,)", "ir", inputs=f"({n},)") for n in (100, 10000))
    for workload in (small, large):
        db.add_workload(workload, "saxpy.py")
    db.start_run("run-2", "autotune tune saxpy.py", {})
    _finish(db, "run-2", [_tuned(workload_key=w.key) for w in (small, large)])
    assert sorted(k.label for k in collect(db).kernels) == ["saxpy [(100,)]", "saxpy [(10000,)]"]


def test_one_host_with_two_toolchains_is_two_targets(tmp_path):
    db = _filled(tmp_path, [])
    db.add_trial(
        make_trial(
            {"kernel.T": 0},
            target_key=OTHER_TARGET,
            result=make_timing_result({**HOST_A, "numba": "0.69.0"}),
        )
    )
    db.start_run("run-2", "autotune tune saxpy.py", {})
    _finish(db, "run-2", [_tuned(), _tuned(target=OTHER_TARGET)])
    data = collect(db)
    names = sorted(f"znver4 (h1) {t[:8]}" for t in (TARGET, OTHER_TARGET))
    assert sorted(data.provenance) == names
    assert len({k.label for k in data.kernels}) == 2


def test_a_kernel_with_warnings_gets_its_row_with_the_winning_changes(tmp_path):
    warned = _tuned(warnings=["its two input sets are identical"], loop_legality_bugs=1)
    write_report(_filled(tmp_path, [warned]), tmp_path / "report")
    summary = (tmp_path / "report" / "summary.md").read_text()
    assert "| saxpy | tuned |" in summary and "kernel.T=3" in summary


def test_a_report_of_skipped_kernels_only_has_no_plots(tmp_path):
    skipped = {"kernel": "broken", "status": "skipped", "reason": "does not compile"}
    text = write_report(_filled(tmp_path, [skipped]), tmp_path / "report").read_text()
    assert "does not compile" in text and "<img" not in text


def test_best_so_far_counts_only_configs_that_were_measured():
    ok = make_trial({"x": 1})  # speedup about 2
    invalid = make_trial({"x": 2}, result=MeasureResult(Status.INVALID, error="constraint"))
    crashed = make_trial({"x": 3}, result=MeasureResult(Status.RUN_FAILED, error="SIGSEGV"))
    curve = best_so_far([crashed, invalid, ok])
    assert len(curve) == 2 and curve[0] == 1.0 and curve[1] > 1.5


def test_option_frequencies_count_passes_once_per_winner():
    counts = option_frequencies(
        [
            _result(best_changes={"passes.sequence": ["sroa", "sroa"], "flags.fastmath": "all"}),
            _result(best_changes={"flags.fastmath": "all"}),
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


def _chromium_driver():
    """A headless Chromium under chromedriver that records the console, or a skip."""
    try:
        from selenium import webdriver
        from selenium.common.exceptions import WebDriverException
    except ImportError:
        pytest.skip("selenium is not installed: pip install -e '.[test]'")
    browser = next(filter(None, map(shutil.which, ("chromium", "chromium-browser"))), None)
    driver = shutil.which("chromedriver") or shutil.which("chromium-driver")
    if browser is None or driver is None:
        pytest.skip("Chromium is not installed: apt-get install chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    # --no-sandbox: Chromium's sandbox cannot start as root, as CI runs.
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # An explicit driver path: selenium would otherwise try to download one.
    service = webdriver.ChromeService(executable_path=driver)
    try:
        return webdriver.Chrome(options=options, service=service)
    except WebDriverException as exc:
        pytest.skip(f"Chromium does not start here: {' '.join(str(exc).split())[:300]}")


def _console_errors(chrome):
    return [entry["message"] for entry in chrome.get_log("browser") if entry["level"] == "SEVERE"]


@pytest.mark.slow
def test_the_page_renders_in_chromium_with_its_images_and_no_console_errors(tmp_path):
    page = write_report(_filled(tmp_path), tmp_path / "report")
    control = tmp_path / "control.html"
    control.write_text('<!DOCTYPE html><script>console.error("control error")</script>')
    chrome = _chromium_driver()
    try:
        chrome.set_page_load_timeout(60)
        # The control proves console errors are seen at all.
        chrome.get(control.as_uri())
        assert any("control error" in message for message in _console_errors(chrome))

        chrome.get(page.as_uri())
        assert chrome.execute_script("return document.readyState") == "complete"
        images = chrome.execute_script(
            "return Array.from(document.images, i => "
            "[i.alt, i.complete, i.naturalWidth, i.getBoundingClientRect().width])"
        )
        assert len(images) == 3
        for alt, complete, natural_width, shown_width in images:
            assert complete and natural_width > 0 and shown_width > 0, alt
        rows = chrome.execute_script("return document.querySelectorAll('tbody tr').length")
        assert rows >= 2
        # Nothing was fetched: the page is self-contained.
        assert chrome.execute_script("return performance.getEntriesByType('resource').length") == 0
        assert _console_errors(chrome) == []
    finally:
        chrome.quit()


def test_text_with_dollar_signs_is_plotted_as_text_not_math(tmp_path):
    # matplotlib reads "$...$" as math, and fails on what is not valid math.
    summaries = [_tuned(kernel="k"), _tuned(kernel="k", target=OTHER_TARGET)]
    summaries[1]["best_changes"] = {"kernel.NAME": "$\\oops$"}
    text = write_report(_filled(tmp_path, summaries), tmp_path / "report").read_text()
    assert text.count("<img") == 3 and "kernel.NAME=$\\oops$" in text


def test_the_report_says_what_each_speedup_is_measured_against(tmp_path):
    written = {"kind": "as-written", "options": {"fastmath": True}}
    summaries = [_tuned(baseline=written), _tuned(kernel="old")]
    page = write_report(_filled(tmp_path, summaries), tmp_path / "report")
    summary = (tmp_path / "report" / "summary.md").read_text()
    assert "## What speedups are measured against" in summary
    assert "- saxpy: the kernel as written, njit(fastmath=True)" in summary
    assert "- old: Numba's default build" in summary  # results from before the record
    assert "the kernel as written, njit(fastmath=True)" in page.read_text()
