"""``tune --dry-run`` as a user meets it: a kernel that cannot be tuned fails the run
and says which step failed; a spec file with any name is tuned from that spec."""

import json

import pytest

from tests._helpers import FIXTURES, run_cli

pytestmark = pytest.mark.slow  # each kernel starts a worker and builds its baseline


def test_dry_run_of_a_kernel_that_cannot_run_exits_1_naming_the_step(tmp_path):
    code, output = run_cli(
        "tune",
        FIXTURES / "stages.py",
        "--kernel",
        "inputs_raise",
        "--kernel",
        "kernel_raises",
        "--dry-run",
        "--db",
        tmp_path / "t.db",
    )
    assert code == 1, output
    assert "inputs_raise cannot be tuned: making the inputs failed" in output
    assert "kernel_raises cannot be tuned" in output
    assert "the kernel raised when run" in output
    assert "does not compile" not in output
    assert not (tmp_path / "t.db").exists()


def test_dry_run_warns_about_identical_input_sets(tmp_path):
    code, output = run_cli(
        "tune",
        FIXTURES / "stages.py",
        "--kernel",
        "ignores_its_rng",
        "--dry-run",
        "--db",
        tmp_path / "t.db",
    )
    assert code == 0, output
    assert "two input sets are identical" in output
    assert "perturb" in output


def test_a_spec_not_named_after_its_module_is_tuned_from_that_spec(tmp_path):
    (tmp_path / "foo.py").write_text(
        "def twice(x, out):\n    for i in range(x.shape[0]):\n        out[i] = 2.0 * x[i]\n"
    )
    spec = tmp_path / "other.autotune.toml"
    spec.write_text(
        'module = "foo.py"\n[[kernel]]\nfunction = "twice"\noutputs = [1]\n'
        'inputs = [{shape = [64]}, {shape = [64], fill = "zeros"}]\n'
    )
    code, output = run_cli("tune", spec, "--dry-run", "--db", tmp_path / "t.db")
    assert code == 0, output
    assert "cannot be tuned" not in output and "no kernels declared" not in output
    assert "per candidate" in output


def test_tune_reports_identical_input_sets_in_the_summary(tmp_path):
    out = tmp_path / "r.json"
    code, output = run_cli(
        "tune",
        FIXTURES / "stages.py",
        "--kernel",
        "ignores_its_rng",
        "--budget",
        2,
        "--no-simplify",
        "--confirm-top",
        1,
        "--timing",
        "lean",
        "--db",
        tmp_path / "t.db",
        "--json",
        out,
    )
    assert code == 0, output
    [summary] = json.loads(out.read_text())
    assert any("two input sets are identical" in w for w in summary["warnings"])
    assert "ignores_its_rng: warning: its two input sets are identical" in output
