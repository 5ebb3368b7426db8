"""autotune.tune: what a Python user calls, on recorded measurements (replay) where it can.

Replay answers every measurement from a file, so these tests tune real kernel files in
milliseconds, without worker processes.
"""

from __future__ import annotations

import doctest
import json
from pathlib import Path

import pytest

import autotune
from autotune import api
from autotune.db import open_database
from autotune.errors import InputError
from autotune.kernels import import_source
from autotune.result import ResultStatus, TuningResult

KERNEL = """\
import autotune

T = 4


@autotune.kernel(
    inputs=lambda rng: (rng.random(8),),
    outputs=[0],
    params={"T": autotune.Choice((4, 8))},
)
def k(x):
    for i in range(x.shape[0]):
        x[i] = x[i] * T
"""

PLAIN = """\
T = 4


def k(x):
    for i in range(x.shape[0]):
        x[i] = x[i] * T
"""

SPEC = """\
module = "plain.py"

[[kernel]]
function = "k"
outputs = [0]
inputs = [{ shape = [8], dtype = "float64", fill = "random" }]

[kernel.params]
T = { choices = [4, 8] }
"""

ROUNDS = {
    "baseline_rounds": [[2.0, 2.0, 2.1], [2.1, 2.0, 2.0], [2.0, 2.05, 2.0]],
    "candidate_rounds": [[1.0, 1.0, 1.02], [1.0, 1.05, 1.0], [1.01, 1.0, 1.0]],
    "calls_per_sample": 3,
}

#: Keywords that keep a replayed tuning to the kernel parameter T.
FAST = {"strategy": "exhaustive", "scope": "params", "confirm_top": 1}


def _replay(tmp_path: Path) -> str:
    """A replay file in which T = 8 runs twice as fast as the default T = 4."""
    data = {
        "format": "autotune-replay",
        "version": 1,
        "target": {"cpu_name": "x", "cpu_features": "+a", "numba": "0.68.1", "llvmlite": "0.50"},
        "kernels": [
            {
                "kernel": "k",
                "arg_types": "(array(float64, 1d, C),)",
                "inputs": "(8,)",
                "ir_text": "define void @k()",
                "trials": [
                    {"config": None, "status": "ok", "code_hash": "base", **ROUNDS},
                    {"config": {"kernel.T": 8}, "status": "ok", "code_hash": "fast", **ROUNDS},
                ],
            }
        ],
    }
    path = tmp_path / "replay.json"
    path.write_text(json.dumps(data))
    return str(path)


@pytest.fixture
def kernel_file(tmp_path: Path) -> Path:
    path = tmp_path / "kern.py"
    path.write_text(KERNEL)
    return path


def _assert_t8_won(result: TuningResult, budget: int = 2) -> None:
    assert result.status is ResultStatus.TUNED and result.kernel == "k"
    assert result.best_config == {"kernel.T": 8} and result.best_changes == {"kernel.T": 8}
    assert result.speedup > 1.5 and result.speedup_ci95[0] > 1.0
    assert result.best_code_hash == "fast"
    assert result.trials == 1 and result.size == "default" and result.seed == 0
    assert result.options["budget"] == budget and result.options["strategy"] == "exhaustive"
    assert result.provenance["run_id"] == result.run_id and result.provenance["autotune"]
    assert result.space_digest and result.arg_types == "(array(float64, 1d, C),)"


def test_tune_a_file_into_a_database_it_opens_and_closes(kernel_file: Path, tmp_path: Path) -> None:
    db_path = tmp_path / "t.db"
    [result] = autotune.tune(kernel_file, db=db_path, budget=2, replay=_replay(tmp_path), **FAST)
    _assert_t8_won(result)
    assert result.source == str(kernel_file.resolve())
    db = open_database(str(db_path), must_exist=True)
    try:
        assert db.latest_results() == [result]
    finally:
        db.close()


def test_a_database_passed_in_stays_open_and_usable(kernel_file: Path, tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 't.db'}")
    try:
        replay = _replay(tmp_path)
        [first] = autotune.tune(kernel_file, db=db, budget=2, replay=replay, **FAST)
        assert db.latest_results() == [first]  # still open: it answers
        [again] = autotune.tune(kernel_file, db=db, budget=2, replay=replay, **FAST)
        assert again.resumed == 1 and again.measured_this_run == 0
        assert db.latest_results() == [again]
    finally:
        db.close()


def test_tune_a_declared_kernel(kernel_file: Path, tmp_path: Path) -> None:
    decl = import_source(kernel_file).k
    [result] = autotune.tune(decl, db="sqlite://", budget=2, replay=_replay(tmp_path), **FAST)
    _assert_t8_won(result)


def test_tune_a_plain_function_with_its_spec(tmp_path: Path) -> None:
    (tmp_path / "plain.py").write_text(PLAIN)
    spec = tmp_path / "other.autotune.toml"
    spec.write_text(SPEC)
    func = import_source(tmp_path / "plain.py").k
    [result] = autotune.tune(func, spec=spec, budget=2, replay=_replay(tmp_path), **FAST)
    _assert_t8_won(result)
    assert result.spec == str(spec)
    with pytest.raises(InputError, match="give spec="):
        autotune.tune(func)


def test_a_result_compiles_with_its_best_config(kernel_file: Path, tmp_path: Path) -> None:
    import numpy as np

    [result] = autotune.tune(
        kernel_file, db="sqlite://", budget=2, replay=_replay(tmp_path), **FAST
    )
    kernel = result.compile()
    x = np.ones(8)
    kernel(x)
    assert (x == 8.0).all()  # T = 8, the best config; Numba's default build has T = 4


def test_a_spec_file_is_a_target_too(tmp_path: Path) -> None:
    (tmp_path / "plain.py").write_text(PLAIN)
    spec = tmp_path / "other.autotune.toml"
    spec.write_text(SPEC)
    decls, spec_path = api.kernels_to_tune(str(spec), names="k")
    assert [d.name for d in decls] == ["k"] and spec_path == spec


def test_a_kernel_declared_inside_a_function_is_refused(tmp_path: Path) -> None:
    decl = autotune.kernel(inputs=lambda rng: (rng.random(8),), outputs=[0])(_double)
    with pytest.raises(InputError, match="top level of a Python file"):
        autotune.tune(decl, db=str(tmp_path / "t.db"))
    assert not (tmp_path / "t.db").exists()


def _double(x):  # pragma: no cover - never compiled
    x[0] = 2 * x[0]


@pytest.mark.parametrize(
    ("keywords", "message"),
    [
        ({"strategy": "guess"}, "unknown strategy 'guess'"),
        ({"loops": "sideways"}, "unknown loops 'sideways'"),
        ({"scope": "loops"}, "needs --loops serial"),
        ({"size": "huge"}, "no size 'huge'"),
        ({"timing": "slow"}, "unknown timing 'slow'"),
        ({"kernel": "nope"}, "no kernel named nope"),
    ],
)
def test_bad_options_fail_before_anything_is_written(
    kernel_file: Path, tmp_path: Path, keywords: dict[str, str], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        autotune.tune(kernel_file, db=str(tmp_path / "t.db"), **keywords)
    assert not (tmp_path / "t.db").exists()


def test_a_keyword_that_is_no_option_is_a_type_error(kernel_file: Path) -> None:
    with pytest.raises(TypeError, match="budgett"):
        autotune.tune(kernel_file, db="sqlite://", budgett=3)


def test_a_target_of_another_kind_is_refused() -> None:
    with pytest.raises(InputError, match="cannot tune 42"):
        autotune.tune(42, db="sqlite://")  # type: ignore[arg-type]


@pytest.mark.slow
def test_the_docstring_example_of_tune_runs() -> None:
    finder = doctest.DocTestFinder()
    [test] = finder.find(api.tune, "autotune.tune", globs={})
    assert test.examples, "tune's docstring has no example"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
