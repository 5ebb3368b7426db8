"""The examples run end to end, as a user runs them (slow: they tune)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

REPO = Path(__file__).resolve().parents[1]
TUNED_PACKAGE = REPO / "examples" / "tuned_package"
KERNELS = ("smooth", "rowsum")
#: Configs tuned per kernel: enough to run every phase of a build, and quick.
BUDGET = "2"


@pytest.fixture
def package(tmp_path: Path) -> Path:
    """A copy of the example package, without anything a run by hand left in it."""
    copy = tmp_path / "tuned_package"
    shutil.copytree(
        TUNED_PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "tuned.json", "*.db")
    )
    return copy


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The environment of every command: this checkout's autotune, and the database,
    caches and home directory in ``tmp_path``, so that nothing touches the user's."""
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k not in ("AUTOTUNE_TUNE", "MAKEFLAGS")}
    env.update(
        HOME=str(home),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CONFIG_HOME=str(home / ".config"),
        AUTOTUNE_DB=str(tmp_path / "autotune.db"),
        AUTOTUNE_CACHE_DIR=str(tmp_path / "autotune-cache"),
        NUMBA_CACHE_DIR=str(tmp_path / "numba-cache"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    )
    return env


def _make(package: Path, env: dict[str, str], target: str) -> subprocess.CompletedProcess[str]:
    command = ["make", "--no-print-directory", target, f"PYTHON={sys.executable}"]
    return _run([*command, f"BUDGET={BUDGET}"], package, env)


def _run_package(package: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    with_src = os.pathsep.join([str(package / "src"), env["PYTHONPATH"]])
    return _run([sys.executable, "-m", "smoothing"], package, {**env, "PYTHONPATH": with_src})


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=200)


def _shown(done: subprocess.CompletedProcess[str]) -> str:
    return f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"


def test_the_tuned_package_builds_then_runs_its_tuned_kernels(
    package: Path, env: dict[str, str], tmp_path: Path
) -> None:
    if shutil.which("make") is None:
        pytest.skip("the example's build hook is a Makefile, and make is not installed")
    bundle = package / "src" / "smoothing" / "tuned.json"

    # Without a bundle the package runs Numba's default builds, warns once, tunes nothing.
    untuned = _run_package(package, env)
    assert untuned.returncode == 0, _shown(untuned)
    for kernel in KERNELS:
        assert f"{kernel}: Numba's default build: no tuned config; matches NumPy" in untuned.stdout
    assert untuned.stderr.count("UserWarning: autotune:") == 1, _shown(untuned)
    assert not bundle.exists() and not (tmp_path / "autotune.db").exists()

    # make turns the build step's exit 1 (misses) into its own exit 2: read its line.
    check = _make(package, env, "check")
    assert check.returncode != 0 and re.search(r"Error( code)? 1\b", check.stderr), _shown(check)
    for kernel in KERNELS:
        assert f"{kernel} [default]: not tuned" in check.stdout, _shown(check)
    assert "2 of 2 kernel(s) not tuned" in check.stderr

    run = _make(package, env, "run")
    assert run.returncode == 0, _shown(run)
    assert bundle.is_file()
    for kernel in KERNELS:
        assert re.search(
            rf"^{kernel}: tuned\b.*\(exact match\); matches NumPy$", run.stdout, re.M
        ), _shown(run)

    check = _make(package, env, "check")
    assert check.returncode == 0, _shown(check)
    for kernel in KERNELS:
        assert f"{kernel} [default]: cached (exact)" in check.stdout

    # A fresh process reads the bundle alone: the same builds, and not one warning.
    again = _run_package(package, env)
    assert again.returncode == 0, _shown(again)
    assert again.stdout and run.stdout.endswith(again.stdout), _shown(again)
    assert "Warning" not in again.stderr, _shown(again)
