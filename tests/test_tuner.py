"""The tuning loop end to end with real workers: planted faults, winners, resume."""

from collections import Counter

import pytest

from autotune.callbacks import BaseCallback
from autotune.db import open_database
from autotune.kernels import load_kernels
from autotune.measure import LocalRunner
from autotune.program import host_target
from autotune.records import Status
from autotune.tuner import TuneOptions, Tuner
from tests._helpers import FAST_TIMING, FIXTURES

pytestmark = pytest.mark.slow


def _planted(name):
    return next(d for d in load_kernels(FIXTURES / "planted.py") if d.name == name)


def _tune(db, decl, callbacks=(), **kw):
    # One contender confirmed (in two fresh processes) is enough for what these tests
    # check; each more costs two worker start-ups.
    kw.setdefault("confirm_top", 1)
    options = TuneOptions(timing=FAST_TIMING, candidate_timeout_s=30, scope="params", **kw)
    with LocalRunner() as runner:
        return Tuner(runner, db, host_target(), options, callbacks=callbacks).tune(decl)


def test_crashing_and_wrong_candidates_are_recorded_and_the_right_winner_found(tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 't.db'}")
    summary = _tune(db, _planted("scale"), budget=20, strategy="exhaustive")
    assert summary.status == "tuned"
    # 2 x 2 x 2 configs minus the baseline: 4 crash (OFFSET), 2 wrong (BIAS), 1 winner.
    assert summary.trials == 7
    assert summary.failed == 4
    assert summary.rejected_wrong == 2
    assert summary.best_config == {"kernel.BIAS": 0.0, "kernel.OFFSET": 0, "kernel.REPEAT": 1}
    assert summary.speedup > 1.5 and summary.speedup_ci95[0] > 1.0
    assert summary.best_s == pytest.approx(summary.baseline_s / summary.speedup)
    trials = db.trials(summary.workload_key, host_target().key)
    # What a cache entry is made of: the winner's code, the space, the problem instance.
    confirms = db.trials(summary.workload_key, host_target().key, "confirm")
    [confirmed] = [t for t in confirms if t.config == summary.best_config]
    assert summary.best_code_hash == confirmed.result.code_hash is not None
    assert summary.space_digest and summary.arg_types and summary.inputs
    assert (summary.size, summary.seed, summary.options["budget"]) == ("default", 0, 20)
    assert summary.provenance["run_id"] == summary.run_id
    crashed = [t for t in trials if t.config["kernel.OFFSET"] != 0]
    assert all(t.result.status is Status.RUN_FAILED for t in crashed)
    assert all("SIGSEGV" in t.result.error for t in crashed)
    wrong = [t for t in trials if t.result.status is Status.WRONG_RESULT]
    assert all("differ beyond" in t.result.error for t in wrong)


def test_wrong_results_are_never_reported_as_best(tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 't.db'}")
    summary = _tune(db, _planted("scale"), budget=20, strategy="exhaustive")
    assert summary.best_config["kernel.BIAS"] == 0.0


def test_baseline_failing_its_reference_is_skipped_with_reason(tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 't.db'}")
    summary = _tune(db, _planted("fails_reference"), budget=5)
    assert summary.status == "skipped"
    assert "baseline fails its reference check" in summary.reason


def test_a_hanging_candidate_times_out_and_tuning_continues(tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 't.db'}")
    options = TuneOptions(timing=FAST_TIMING, candidate_timeout_s=5, scope="params", budget=5)
    with LocalRunner() as runner:
        summary = Tuner(runner, db, host_target(), options).tune(_planted("hangs"))
    assert summary.status == "tuned"
    assert summary.failed == 1 and summary.best_config is None
    [trial] = db.trials(summary.workload_key, host_target().key)
    assert trial.result.status is Status.TIMEOUT


def test_resume_never_measures_a_config_twice(tmp_path):
    url = f"sqlite:///{tmp_path / 't.db'}"
    decl = _planted("scale")
    first = _tune(open_database(url), decl, budget=3, strategy="exhaustive")
    assert first.measured_this_run == 3
    second = _tune(open_database(url), decl, budget=10, strategy="exhaustive")
    assert second.resumed == 3
    assert second.measured_this_run == 4  # the rest of the 7 candidates
    assert second.trials == 7
    db = open_database(url)
    keys = [t.config_key for t in db.trials(first.workload_key, host_target().key)]
    assert len(keys) == len(set(keys)) == 7
    third = _tune(db, decl, budget=10, strategy="exhaustive")
    assert third.measured_this_run == 0 and third.resumed == 7


def test_simplification_drops_options_that_do_not_matter(tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 't.db'}")
    decl = _planted("scale_with_noise_param")
    options = TuneOptions(
        timing=FAST_TIMING,
        candidate_timeout_s=30,
        scope="params",
        budget=10,
        strategy="exhaustive",
        confirm_top=3,
    )
    with LocalRunner() as runner:
        summary = Tuner(runner, db, host_target(), options).tune(decl)
    assert summary.best_config == {"kernel.REPEAT": 1, "kernel.UNROLL_HINT": 0}
    assert summary.speedup_ci95[0] > 1.0


def test_option_groups_reset_pass_orders_and_fastmath_together():
    from autotune.tuner import option_groups

    default = {
        "passes.mode": "default",
        "flags.fastmath": "off",
        "pipeline.speed_level": 3,
        "kernel.T": 8,
    }
    winner = {
        "passes.mode": "after",
        "passes.sequence": ["sroa"],
        "flags.fastmath": "subset",
        "flags.fastmath_flags": ["reassoc"],
        "pipeline.speed_level": 2,
        "kernel.T": 8,
    }
    assert option_groups(winner, default) == [
        ("passes.mode", "passes.sequence"),
        ("flags.fastmath", "flags.fastmath_flags"),
        ("pipeline.speed_level",),
    ]


def test_resume_ignores_records_outside_the_current_space(tmp_path):
    """Trials with fastmath from an earlier run must not win a --no-fastmath run."""
    url = f"sqlite:///{tmp_path / 't.db'}"
    decl = _planted("scale")
    options = TuneOptions(timing=FAST_TIMING, candidate_timeout_s=30, budget=4, seed=3)
    with LocalRunner() as runner:
        first = Tuner(runner, open_database(url), host_target(), options).tune(decl)
    db = open_database(url)
    recorded = db.trials(first.workload_key, host_target().key)
    assert any(r.config.get("flags.fastmath", "off") != "off" for r in recorded)
    strict = TuneOptions(timing=FAST_TIMING, candidate_timeout_s=30, budget=0, allow_fastmath=False)
    with LocalRunner() as runner:
        second = Tuner(runner, db, host_target(), strict).tune(decl)
    kept = [r for r in recorded if "flags.fastmath" not in r.config]
    assert second.resumed == len(kept)
    assert second.best_config is None or "flags.fastmath" not in second.best_config


class _Phases(BaseCallback):
    """Counts the trials measured (not taken from the database), by phase."""

    def __init__(self):
        self.measured = Counter()

    def on_trial(self, record, spent):
        self.measured[record.phase] += 1


def _continue(url, budget, run_id="sweep-1"):
    options = TuneOptions(
        timing=FAST_TIMING,
        candidate_timeout_s=30,
        scope="params",
        strategy="exhaustive",
        budget=budget,
        continue_run=True,
    )
    phases = _Phases()
    with LocalRunner() as runner:
        tuner = Tuner(runner, open_database(url), host_target(), options, [phases], run_id)
        return tuner.tune(_planted("scale")), phases.measured


def test_continuing_a_run_counts_earlier_trials_and_measures_nothing_twice(tmp_path):
    url = f"sqlite:///{tmp_path / 't.db'}"
    first, measured = _continue(url, budget=3)
    assert first.measured_this_run == 3 and measured["baseline"] == 1
    second, measured = _continue(url, budget=5)
    # The same run again: two more search trials reach the total of 5, and the
    # baseline and confirmations that run recorded are reused.
    assert second.resumed == 3 and second.measured_this_run == 2
    assert second.trials == 5
    assert measured["baseline"] == 0 and measured["search"] == 2
    third, measured = _continue(url, budget=5)
    assert sum(measured.values()) == 0, measured
    same = ("speedup", "speedup_ci95", "best_config", "baseline_s", "trials")
    assert {k: getattr(third, k) for k in same} == {k: getattr(second, k) for k in same}


def test_another_run_id_measures_its_own_baseline_and_confirmations(tmp_path):
    url = f"sqlite:///{tmp_path / 't.db'}"
    _continue(url, budget=7, run_id="a")
    summary, measured = _continue(url, budget=7, run_id="b")
    assert measured["search"] == 0 and summary.trials == 7
    assert measured["baseline"] == 1 and measured["confirm"] >= 1


def _timed(speedup, lo, hi):
    from autotune.records import MeasureResult, Timing

    timing = Timing([[1.0]], [[1.0 / speedup]], 1, 1.0, 1.0 / speedup, 0.0, speedup, (lo, hi))
    return MeasureResult(Status.OK, timing=timing)


def test_halving_drops_only_candidates_whose_ci_cannot_reach_the_best():
    from autotune.tuner import promote

    results = {
        "best": _timed(1.50, 1.40, 1.60),
        "close": _timed(1.38, 1.30, 1.45),  # its CI reaches the best's lower bound
        "far": _timed(1.20, 1.15, 1.35),  # wholly below 1.40: cannot win
        "wide": _timed(1.10, 0.80, 1.70),  # noisy: could still win
    }
    assert promote(results, eta=1, keep=1) == ["best", "close", "wide"]
    assert promote(results, eta=3, keep=1) == ["best"]
    assert promote(results, eta=3, keep=2) == ["best", "close"]
    assert promote({}, eta=3, keep=3) == []


def test_halving_screens_cheaply_then_refines_the_contenders(tmp_path):
    db = open_database(str(tmp_path / "t.db"))
    summary = _tune(db, _planted("scale_with_noise_param"), budget=12, halving=True, eta=2)
    assert summary.status == "tuned"
    trials = db.trials(summary.workload_key, summary.target_key, phase=None)
    search = [t for t in trials if t.phase == "search" and t.result.timing]
    refine = [t for t in trials if t.phase == "refine"]
    assert refine and summary.refine_trials == len(refine)
    # Refined contenders were screened first, and timed with more rounds the second time.
    screened = {t.config_key: t for t in search}
    for t in refine:
        assert t.config_key in screened
        assert len(t.result.timing.candidate_rounds) >= len(
            screened[t.config_key].result.timing.candidate_rounds
        )
    assert all(len(t.result.timing.candidate_rounds) <= 2 for t in search)


def _one_loop_trial(db, decl):
    """Tune ``decl`` over its loop transformations only, one search trial."""
    options = TuneOptions(
        timing=FAST_TIMING, loops="serial", scope="loops", budget=1, confirm_top=1,
        simplify=False, size="small",
    )  # fmt: skip
    with LocalRunner() as runner:
        return Tuner(runner, db, host_target(), options).tune(decl)


def test_the_scalarized_kernel_is_measured_before_the_search_proposes(tmp_path):
    from tests._helpers import CORPUS

    (decl,) = load_kernels(CORPUS.parent / "numpy" / "jacobi1d_np.py")
    db = open_database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    result = _one_loop_trial(db, decl)
    (trial,) = db.trials(result.workload_key, host_target().key, "search")
    assert trial.config["loops.scalarize"] is True
    assert not [
        k for k, v in trial.config.items() if k.startswith("loops.n") and v not in (0, 1, False)
    ]
    assert trial.result.status is Status.OK


class _Notes(BaseCallback):
    def __init__(self):
        self.notes = []

    def on_note(self, kernel, text):
        self.notes.append((kernel, text))


def test_zero_shot_transfers_from_other_kernels_within_its_budget(tmp_path):
    url = f"sqlite:///{tmp_path / 't.db'}"
    _tune(open_database(url), _planted("scale"), budget=4, strategy="exhaustive")
    notes = _Notes()
    decl = _planted("scale_with_noise_param")
    result = _tune(open_database(url), decl, [notes], strategy="zero-shot", budget=3)
    assert result.measured_this_run <= 3
    said = [text for _, text in notes.notes]
    assert any(text.startswith("cost model: none") for text in said)  # no model trained
    assert any(text.startswith("zero-shot:") for text in said)
    assert result.provenance["notes"] == said
    data = result.to_dict()
    assert data["search_measurements"] == result.measured_this_run
    assert data["compilations"] >= data["search_measurements"]


def test_a_search_keeps_its_loop_facts_for_models_trained_later(tmp_path):
    from autotune.cost_model._dataset import Dataset
    from autotune.cost_model._encoding import loop_facts
    from autotune.passes import cpu_search_space
    from tests._helpers import CORPUS

    (decl,) = load_kernels(CORPUS / "matmul.py")
    db = open_database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    _one_loop_trial(db, decl)
    [workload] = Dataset.from_database(db).workloads
    expected = loop_facts(cpu_search_space(decl, loops="serial", scope="loops"))
    assert workload.loops == expected
    assert any(band.loops for band in expected.values())  # the strides, not only orders
