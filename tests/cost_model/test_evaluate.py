"""Leave-one-out evaluation: no leaks, the figures, and their JSON keys."""

from __future__ import annotations

import pytest

from autotune.cost_model import _evaluate
from autotune.cost_model._boosted import BoostedCostModel
from autotune.cost_model._evaluate import LeakError, evaluate, groups_of, split
from autotune.testing.datasets import dataset

SUMMARY_KEYS = {
    "programs_total",
    "programs_scored",
    "kendall_tau_median",
    "a_peak_at_10_median",
    "top1_regret_median",
    "zero_shot_share_median",
    "fixed_config_share_median",
}


def _small() -> BoostedCostModel:
    return BoostedCostModel(max_iter=30, n_estimators=2, min_samples_leaf=2)


@pytest.mark.parametrize("group_by", ["program", "family"])
def test_no_workload_of_the_held_out_group_is_trained_on(group_by: str) -> None:
    data = dataset()
    for held_out in groups_of(data, group_by).values():
        train = split(data, held_out, group_by)
        assert not {w.ir_hash for w in train} & {w.ir_hash for w in held_out}
        if group_by == "family":
            assert not {w.family for w in train} & {w.family for w in held_out}


def test_one_program_at_two_sizes_is_held_out_whole() -> None:
    data = dataset()
    [group] = [g for g in groups_of(data, "program").values() if g[0].ir_hash == "p0"]
    assert len(group) == 2  # both sizes
    assert all(w.ir_hash != "p0" for w in split(data, group, "program"))


@pytest.mark.parametrize("group_by", ["program", "family"])
def test_a_planted_leak_is_caught(group_by: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data = dataset()
    monkeypatch.setattr(_evaluate, "_others", lambda d, held_out, g: list(d.workloads))
    with pytest.raises(LeakError):
        evaluate(data, group_by, make_model=_small)


def test_a_family_leak_is_caught_even_from_another_program() -> None:
    data = dataset()
    held_out = [data.workloads[0]]
    sibling = next(
        w for w in data.workloads if w.family == held_out[0].family and w.ir_hash != "p0"
    )
    with pytest.raises(LeakError, match="held-out family"):
        _evaluate.check_no_leak([sibling], held_out, "family")
    _evaluate.check_no_leak([sibling], held_out, "program")  # allowed by program


@pytest.mark.slow
def test_the_summary_has_the_keys_model_eval_promises() -> None:
    summary = evaluate(dataset(), "program", k=3, make_model=_small).summary()
    assert set(summary) >= SUMMARY_KEYS
    assert summary["programs_total"] == 12
    # Only even programs gain (fastmath); odd ones are never scored.
    assert {w["kernel"] for w in summary["workloads"]} <= {f"k{p}" for p in range(0, 12, 2)}
    assert 0 < summary["programs_scored"] <= 6


@pytest.mark.slow
def test_a_model_that_learned_the_rule_ranks_and_transfers_well() -> None:
    summary = evaluate(dataset(), "program", k=3, make_model=_small).summary()
    assert summary["a_peak_at_10_median"] == pytest.approx(1.0)
    assert summary["kendall_tau_median"] > 0.3
    assert summary["zero_shot_share_median"] > 0.9


def test_k_below_two_is_refused() -> None:
    with pytest.raises(ValueError, match="k must be at least 2"):
        evaluate(dataset(), "family", k=1)
