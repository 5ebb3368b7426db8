"""TuningResult: the JSON users script against, reading old stored results, compile()."""

from __future__ import annotations

import json
import pickle
from dataclasses import fields
from typing import Any

import pytest

from autotune.errors import InputError
from autotune.kernels import load_kernels
from autotune.passes import cpu_search_space
from autotune.result import _READERS, ResultStatus, TuningResult, space_digest
from tests._helpers import FIXTURES

#: The keys of a tuned kernel's JSON object before TuningResult existed, in order:
#: what ``Tuner._summary`` built, the warnings, ``source`` and ``spec``, and what a
#: sweep added (``source_digest``, ``run_id``). None may go away or be renamed.
TUNED_KEYS = [
    "kernel",
    "status",
    "ir_hash",
    "workload_key",
    "target_key",
    "baseline_s",
    "best_s",
    "speedup",
    "speedup_ci95",
    "best_config",
    "best_changes",
    "trials",
    "failed",
    "rejected_wrong",
    "loop_legality_bugs",
    "invalid",
    "measured_this_run",
    "resumed",
    "simplify_trials",
    "refine_trials",
    "warnings",
    "source",
    "spec",
    "source_digest",
    "run_id",
]
#: The keys of a skipped kernel's JSON object before TuningResult existed.
SKIPPED_KEYS = ["kernel", "status", "reason", "ir_hash", "workload_key", "source", "spec"]
#: What this version adds.
NEW_KEYS = {
    "confirm_trials",
    "search_measurements",
    "compilations",
    "finished",
    "arg_types",
    "inputs",
    "best_code_hash",
    "space_digest",
    "size",
    "seed",
    "options",
    "provenance",
    "baseline",
}


def _tuned(**changes: Any) -> TuningResult:
    values: dict[str, Any] = {
        "ir_hash": "i" * 16,
        "workload_key": "w" * 16,
        "target_key": "t" * 16,
        "baseline_s": 2e-3,
        "best_s": 1e-3,
        "speedup": 2.0,
        "speedup_ci95": (1.9, 2.1),
        "best_config": {"kernel.T": 8, "passes.sequence": ["sroa", "gvn"]},
        "best_changes": {"kernel.T": 8},
        "trials": 12,
        "failed": 1,
        "rejected_wrong": 2,
        "loop_legality_bugs": 1,
        "invalid": 3,
        "measured_this_run": 10,
        "resumed": 2,
        "simplify_trials": 1,
        "refine_trials": 4,
        "warnings": ("identical inputs",),
        "source": "/src/k.py",
        "run_id": "abc",
        "arg_types": "(array(float64, 1d, C),)",
        "inputs": "(1000,)",
        "best_code_hash": "c" * 16,
        "space_digest": "d" * 16,
        "size": "small",
        "seed": 0,
        "options": {"budget": 60, "timing": {"min_rounds": 3}},
        "provenance": {"target": {"cpu_name": "znver4"}, "numba": "0.68.1", "time": 1.0},
        "baseline": {"kind": "as-written", "options": {"fastmath": ["nnan", "ninf"]}},
    }
    return TuningResult("k", ResultStatus.TUNED, **(values | changes))


def test_a_tuned_results_json_keeps_every_key_in_the_order_it_had() -> None:
    keys = list(_tuned().to_dict())
    assert [k for k in keys if k in TUNED_KEYS] == TUNED_KEYS
    assert set(keys) == set(TUNED_KEYS) | NEW_KEYS


def test_a_skipped_results_json_keeps_every_key_in_the_order_it_had() -> None:
    skipped = TuningResult("k", ResultStatus.SKIPPED, "baseline does not compile")
    data = skipped.to_dict()
    assert [k for k in data if k in SKIPPED_KEYS] == SKIPPED_KEYS
    assert data["status"] == "skipped" and data["reason"] == "baseline does not compile"
    assert "speedup" not in data and "trials" not in data  # nothing was measured


def test_the_json_is_plain_json_with_the_values_it_had() -> None:
    data = json.loads(json.dumps(_tuned().to_dict()))
    assert data["status"] == "tuned" and data["speedup_ci95"] == [1.9, 2.1]
    assert data["warnings"] == ["identical inputs"]
    assert data["best_config"] == {"kernel.T": 8, "passes.sequence": ["sroa", "gvn"]}


@pytest.mark.parametrize(
    "result",
    [
        _tuned(),
        _tuned(best_config=None, best_changes={}, speedup=1.0, speedup_ci95=(1.0, 1.0)),
        TuningResult("k", ResultStatus.SKIPPED, "no size 'huge'", source="/src/k.py"),
        TuningResult("k", ResultStatus.SKIPPED, "lost (run the sweep again)", finished=False),
        _tuned(extra={"label": "a.py:k", "nested": {"x": [1]}}),
    ],
    ids=["winner", "no-winner", "skipped", "unfinished", "extra"],
)
def test_from_dict_gives_back_an_equal_result(result: TuningResult) -> None:
    assert TuningResult.from_dict(result.to_dict()) == result
    assert TuningResult.from_dict(json.loads(json.dumps(result.to_dict()))) == result


def test_a_result_travels_between_processes() -> None:
    result = _tuned()
    assert pickle.loads(pickle.dumps(result)) == result


def test_a_summary_stored_by_an_older_version_is_read() -> None:
    # What a sweep stored before loop_legality_bugs, refine_trials and TuningResult.
    old = {
        "kernel": "gemm",
        "status": "tuned",
        "ir_hash": "0123456789abcdef",
        "workload_key": "fedcba9876543210",
        "target_key": "1111222233334444",
        "baseline_s": 0.004,
        "best_s": 0.002,
        "speedup": 2.0,
        "speedup_ci95": [1.8, 2.2],
        "best_config": {"kernel.T": 16},
        "best_changes": {"kernel.T": 16},
        "trials": 40,
        "failed": 2,
        "rejected_wrong": 0,
        "invalid": 1,
        "measured_this_run": 40,
        "resumed": 0,
        "simplify_trials": 2,
        "source": "/corpus/gemm.py",
        "spec": None,
        "source_digest": "aaaa",
        "run_id": "sweep-123",
    }
    result = TuningResult.from_dict(old)
    assert result.tuned and result.has_winner and result.speedup_ci95 == (1.8, 2.2)
    assert (result.loop_legality_bugs, result.refine_trials, result.warnings) == (0, 0, ())
    assert (result.source_digest, result.run_id, result.extra) == ("aaaa", "sweep-123", {})
    assert result.best_code_hash is None and result.options == {}
    # Written again, it says everything it said before.
    assert result.to_dict().items() >= old.items()


@pytest.mark.parametrize(
    "stored",
    [
        {},
        {"kernel": "k"},
        {"kernel": "k", "status": "unfinished", "reason": ""},
        {"kernel": 3, "status": None, "trials": "many", "speedup": None},
        {"kernel": "k", "status": "tuned", "speedup_ci95": [1.0], "warnings": "w"},
        {"kernel": "k", "status": "tuned", "best_config": [1], "seed": 1.5, "finished": 1},
        {"kernel": "k", "status": "tuned", "speedup": True, "options": "x", "size": 64},
    ],
)
def test_from_dict_never_fails_and_keeps_what_it_cannot_read(stored: dict[str, Any]) -> None:
    result = TuningResult.from_dict(stored)
    assert isinstance(result.status, ResultStatus)
    json.dumps(result.to_dict())
    assert TuningResult.from_dict(result.to_dict()).to_dict() == result.to_dict()


def test_values_from_dict_cannot_read_are_kept_in_extra() -> None:
    stored = {"kernel": 3, "status": "tuned", "trials": "many", "speedup": None, "label": "x"}
    result = TuningResult.from_dict(stored)
    assert (result.kernel, result.trials, result.speedup) == ("", 0, 1.0)
    assert result.extra == {"kernel": 3, "trials": "many", "speedup": None, "label": "x"}
    assert result.to_dict()["label"] == "x"


def test_an_unknown_status_reads_as_skipped_with_a_reason() -> None:
    result = TuningResult.from_dict({"kernel": "k", "status": "unfinished"})
    assert result.status is ResultStatus.SKIPPED
    assert "'unfinished'" in result.reason and result.extra["status"] == "unfinished"


def test_every_field_has_a_reader() -> None:
    assert set(_READERS) == {f.name for f in fields(TuningResult)} - {"extra"}


def test_to_dict_returns_a_copy() -> None:
    result = _tuned()
    data = result.to_dict()
    data["best_config"]["kernel.T"] = 99
    data["options"]["timing"]["min_rounds"] = 99
    assert result.best_config == _tuned().best_config
    assert result.options == _tuned().options


def test_json_spellings_make_equal_results() -> None:
    built = TuningResult("k", "tuned", speedup_ci95=[1, 2], warnings=["w"])  # type: ignore[arg-type]
    assert built == TuningResult("k", ResultStatus.TUNED, speedup_ci95=(1.0, 2.0), warnings=("w",))
    assert built.status == "tuned" and str(built.status) == "tuned"


def test_space_digest_is_stable_and_tells_spaces_apart() -> None:
    [decl] = [d for d in load_kernels(FIXTURES / "planted.py") if d.name == "scale"]
    digest = space_digest(cpu_search_space(decl))
    assert digest == space_digest(cpu_search_space(decl))
    assert len(digest) == 16 and int(digest, 16) >= 0
    assert digest != space_digest(cpu_search_space(decl, allow_fastmath=False))
    assert digest != space_digest(cpu_search_space(decl, scope="params"))


def test_a_skipped_kernel_cannot_be_compiled() -> None:
    skipped = TuningResult("k", ResultStatus.SKIPPED, "baseline does not compile")
    with pytest.raises(InputError, match="was not tuned: baseline does not compile"):
        skipped.compile()


def test_declaration_needs_a_source() -> None:
    with pytest.raises(InputError, match="does not name its source"):
        _tuned(source=None).declaration()


def test_declaration_loads_the_kernel_again() -> None:
    decl = _tuned(source=str(FIXTURES / "planted.py")).declaration
    with pytest.raises(InputError, match="no kernel named k"):
        decl()
    result = TuningResult("scale", ResultStatus.TUNED, source=str(FIXTURES / "planted.py"))
    assert result.declaration().name == "scale"


def test_compile_builds_the_best_config_through_deploy(monkeypatch: pytest.MonkeyPatch) -> None:
    import autotune.deploy as deploy

    calls = []

    def compile_config(decl: Any, config: Any, **options: Any) -> str:
        calls.append((decl.name, config, options))
        return "compiled"

    monkeypatch.setattr(deploy, "compile_config", compile_config)
    config = {"kernel.BIAS": 0.0, "kernel.OFFSET": 0, "kernel.REPEAT": 1}
    source = str(FIXTURES / "planted.py")
    winner = TuningResult("scale", ResultStatus.TUNED, best_config=config, source=source)
    assert winner.compile(cache=True) == "compiled"
    default = TuningResult("scale", ResultStatus.TUNED, source=source)
    default.compile()
    assert calls == [
        ("scale", config, {"njit_options": None, "cache": True}),
        ("scale", {}, {"njit_options": None, "cache": False}),
    ]


def test_compile_builds_on_the_options_the_result_was_tuned_against(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import autotune.deploy as deploy

    calls = []
    monkeypatch.setattr(
        deploy, "compile_config", lambda decl, config, **kw: calls.append(kw["njit_options"])
    )
    source = str(FIXTURES / "planted.py")
    written = {"kind": "as-written", "options": {"fastmath": ["contract", "nnan"]}}
    TuningResult("scale", ResultStatus.TUNED, source=source, baseline=written).compile()
    plain = {"kind": "numba-default", "options": {}}
    TuningResult("scale", ResultStatus.TUNED, source=source, baseline=plain).compile()
    assert calls == [{"fastmath": {"contract", "nnan"}}, {}]


def test_the_baseline_is_described_and_old_results_were_numba_default() -> None:
    written = _tuned(baseline={"kind": "as-written", "options": {"parallel": True}})
    assert written.baseline_kind == "as-written"
    assert written.describe_baseline() == "the kernel as written, njit(parallel=True)"
    old = TuningResult.from_dict({"kernel": "k", "status": "tuned"})
    assert old.baseline == {} and old.baseline_kind == "numba-default"
    assert old.describe_baseline() == "Numba's default build"
