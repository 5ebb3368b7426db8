"""The build step: cached kernels pass, every staleness case is a miss with its
reason, ``--check`` never tunes, and a real build tunes what is missing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numba
import pytest

from autotune.build import build, check, find_jobs, space_digest_for, stale_entries
from autotune.cache import kernel_key, make_entry, open_source, remember, write_bundle
from autotune.db import SQLDatabase
from autotune.kernels import load_kernels
from autotune.program import Target, host_target

HELPER = """
import numba

@numba.njit
def weight(x):
    return 0.5 * x
"""

KERNEL = """
import numpy as np

import autotune
from helper import weight

B = autotune.Pow2(1, 8)


def _inputs(rng, n):
    return rng.random(n), np.zeros(n)


@autotune.kernel(inputs=_inputs, sizes={"small": {"n": 1000}}, outputs=[1], params={"B": B})
def smooth(x, out):
    for i in range(1, x.shape[0] - 1):
        out[i] = weight(x[i - 1] + x[i + 1]) * B / B
"""


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "pkg"
    root.mkdir()
    (root / "helper.py").write_text(HELPER)
    (root / "kern.py").write_text(KERNEL)
    monkeypatch.syspath_prepend(str(root))
    return root


def _forget_modules() -> None:
    """Each build runs in a fresh process; here, the edited files must be imported anew."""
    for name in ("helper", "autotune_src_kern"):
        sys.modules.pop(name, None)


def _remember_current(package: Path, db_url: str, target: Target | None = None) -> None:
    """Store an entry for the package's kernel as it is now, as a tuning run would."""
    _forget_modules()
    [decl] = load_kernels(package / "kern.py")
    options = {"allow_fastmath": True, "scope": "all", "loops": "off", "max_threads": None}
    entry = make_entry(
        kernel_key(decl.pyfunc, decl.make_inputs(0, "small")),
        target or host_target(),
        {"B": 4},
        space_digest=space_digest_for(decl, options),
        source=str(package / "kern.py"),
        size="small",
        extra={"space_options": options},
    )
    db = SQLDatabase(db_url)
    remember(db, entry)
    db.close()


def _check(package: Path, db_url: str) -> str:
    _forget_modules()
    with open_source(db=db_url, strict=True) as source:
        [item] = check(find_jobs([package / "kern.py"]), source)
    return item.reason


def test_a_cached_kernel_passes(package: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 't.db'}"
    assert _check(package, url).startswith("not tuned")
    _remember_current(package, url)
    assert _check(package, url) == ""
    report = build([package / "kern.py"], db=url, check_only=True)
    assert report.exit_code == 0 and report.before[0].hit is not None


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda p: (p / "kern.py").write_text(KERNEL.replace("x[i + 1]", "x[i]")), "not tuned"),
        (lambda p: (p / "helper.py").write_text(HELPER.replace("0.5", "0.25")), "not tuned"),
        (
            lambda p: (p / "kern.py").write_text(KERNEL.replace("Pow2(1, 8", "Pow2(1, 16")),
            "search space changed",
        ),
    ],
    ids=["kernel edited", "callee in another file edited", "a new config in the space"],
)
def test_every_edit_is_a_miss(package: Path, tmp_path: Path, edit: object, reason: str) -> None:
    url = f"sqlite:///{tmp_path / 't.db'}"
    _remember_current(package, url)
    edit(package)  # type: ignore[operator]
    assert reason in _check(package, url)
    with open_source(db=url, strict=True) as source:
        [stale] = stale_entries(source)
    assert stale.reason


def test_a_new_numba_version_is_a_miss(
    package: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 't.db'}"
    _remember_current(package, url)
    monkeypatch.setattr(numba, "__version__", "0.99.0")
    assert _check(package, url).startswith("not tuned")
    with open_source(db=url, strict=True) as source:
        [stale] = stale_entries(source)
    assert "toolchain" in stale.reason


def test_another_cpu_is_a_miss_unless_it_matches(package: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 't.db'}"
    host = host_target()
    other_family = Target("some-other-cpu", "+sse2", host.numba_version, host.llvmlite_version)
    _remember_current(package, url, other_family)
    assert _check(package, url).startswith("not tuned")
    _remember_current(
        package, url, Target(host.cpu_name, "", host.numba_version, host.llvmlite_version)
    )
    with open_source(db=url, strict=True) as source:
        [item] = check(find_jobs([package / "kern.py"]), source)
    assert item.cached and item.hit is not None and item.hit.level.needs_verification


def test_a_bundle_is_a_source_and_check_never_writes(package: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 't.db'}"
    _remember_current(package, url)
    with open_source(db=url, strict=True) as source:
        entries = source.all_entries()
    bundle = tmp_path / "tuned.json"
    write_bundle(bundle, entries)
    before = bundle.read_text()
    assert build([package], bundle=bundle, check_only=True).exit_code == 0
    assert bundle.read_text() == before


def _cli(*args: str, cwd: Path, env_db: Path) -> subprocess.CompletedProcess[str]:
    import os

    env = {**os.environ, "AUTOTUNE_DB": str(env_db)}
    return subprocess.run(
        [sys.executable, "-m", "autotune", *args], capture_output=True, text=True, cwd=cwd,
        env=env, timeout=600,
    )  # fmt: skip


def test_check_lists_misses_and_exits_1_without_tuning(package: Path, tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    proc = _cli("build", str(package), "--check", cwd=package, env_db=db)
    assert proc.returncode == 1, proc.stderr
    assert "smooth [small]: not tuned" in proc.stdout
    assert "without --check" in proc.stderr
    assert not db.exists()


def test_bad_input_is_one_line_and_exit_2(package: Path, tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{nope")
    proc = _cli("build", str(package), "--from", str(tmp_path / "bad.json"), cwd=package,
                env_db=tmp_path / "t.db")  # fmt: skip
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "corrupt" in proc.stderr
    proc = _cli("build", str(tmp_path / "missing.py"), cwd=package, env_db=tmp_path / "t.db")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


@pytest.mark.slow
def test_build_tunes_the_misses_then_everything_is_cached(package: Path, tmp_path: Path) -> None:
    db, bundle = tmp_path / "t.db", tmp_path / "tuned.json"
    proc = _cli("build", str(package), "--from", str(bundle), "--budget", "3", cwd=package,
                env_db=db)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "smooth [small]: cached (exact)" in proc.stdout
    data = json.loads(bundle.read_text())
    assert [e["kernel"] for e in data["entries"]] == ["smooth"]
    again = _cli("build", str(package), "--from", str(bundle), "--check", cwd=package, env_db=db)
    assert again.returncode == 0, again.stderr
    shown = _cli("show", "--from", str(bundle), cwd=package, env_db=db)
    assert shown.returncode == 0 and "smooth" in shown.stdout
    stale = _cli("show", "--stale", "--from", str(bundle), cwd=package, env_db=db)
    assert stale.returncode == 0 and "0 stale" in stale.stderr


SECOND = """

@autotune.kernel(inputs=_inputs, sizes={"small": {"n": 1000}}, outputs=[1])
def copy(x, out):
    for i in range(x.shape[0]):
        out[i] = x[i]
"""


def test_editing_one_kernel_invalidates_only_that_kernel(package: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 't.db'}"
    (package / "kern.py").write_text(KERNEL + SECOND)
    _forget_modules()
    decls = load_kernels(package / "kern.py")
    db = SQLDatabase(url)
    for decl in decls:
        args = decl.make_inputs(0, "small")
        remember(db, make_entry(kernel_key(decl.pyfunc, args), host_target(), {}))
    db.close()
    (package / "kern.py").write_text(KERNEL + SECOND.replace("x[i]\n", "2 * x[i]\n"))
    _forget_modules()
    with open_source(db=url, strict=True) as source:
        items = {i.kernel: i for i in check(find_jobs([package / "kern.py"]), source)}
    assert items["smooth"].cached
    assert not items["copy"].cached


def test_what_was_tuned_before_an_interruption_reaches_the_bundle(
    package: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import autotune.build as build_module

    url, bundle = f"sqlite:///{tmp_path / 't.db'}", tmp_path / "tuned.json"

    def tune_one_then_stop(*args: object, **kwargs: object) -> list[str]:
        _remember_current(package, url)  # the first kernel finished tuning ...
        raise KeyboardInterrupt  # ... then Ctrl-C

    monkeypatch.setattr(build_module, "_tune_misses", tune_one_then_stop)
    with pytest.raises(KeyboardInterrupt):
        build([package / "kern.py"], db=url, bundle=bundle)
    assert [e["kernel"] for e in json.loads(bundle.read_text())["entries"]] == ["smooth"]
