"""The config encodings: exact on hand-written configs, stable in schema, total on junk."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autotune.cost_model import (
    TRANSFERABLE_SCHEMA,
    run_columns,
    run_features,
    schema_hash,
    transferable_features,
    transferable_matrix,
    transferable_vector,
)
from autotune.cost_model._encoding import (
    BandFacts,
    facts_from_floats,
    facts_from_json,
    facts_to_floats,
    facts_to_json,
    loop_facts,
    param_of_column,
)
from autotune.cost_model._scoring import ROW_NAMES
from autotune.params import Int, Pow2
from autotune.space import Choice, SearchSpace, Seq

#: The hash of TRANSFERABLE_SCHEMA. Changing the schema invalidates every saved
#: cross-program model, so it must be a deliberate edit of this line too.
SCHEMA_HASH = "ecc462061fb712f7962b72c57dbfefcd249c820f920dadc3bb2dd16a7ddd9b94"
ROOT = Path(__file__).resolve().parents[2]


def nonzero(features: dict[str, float]) -> dict[str, float]:
    return {k: v for k, v in features.items() if v}


def test_schema_is_stable():
    assert schema_hash() == SCHEMA_HASH
    assert len(TRANSFERABLE_SCHEMA) == len(set(TRANSFERABLE_SCHEMA)) == 68
    assert schema_hash([*TRANSFERABLE_SCHEMA, "ir.load"]) != SCHEMA_HASH


def test_loop_choices_are_summarized_by_kind():
    f = transferable_features({"loops.n1.b0.order": "i,k,j", "loops.n1.b0.tile": 64})
    assert f["loops.innermost_changed"] == 1.0
    assert f["loops.orders_changed"] == 1.0
    assert f["loops.tile_log2_max"] == 6.0
    assert f["loops.tile_log2_mean"] == 6.0


def test_loop_summary_over_nests_and_bands():
    config = {
        "loops.parallel": True,
        "loops.threads": 8,
        "loops.scalarize": True,
        "loops.n0.fuse": True,
        "loops.n3.fuse": False,
        "loops.n1.b0.order": "j,i",  # innermost changed
        "loops.n1.b0.tile": 0,
        "loops.n1.b0.unroll": 2,
        "loops.n1.b0.parallel": True,
        "loops.n2.b1.order": "j,i,k",  # interchanged, innermost kept
        "loops.n2.b1.tile": 16,
        "loops.n2.b1.tile_inner": 512,
        "loops.n2.b1.unroll": 4,
        "loops.n2.b1.parallel": False,
        "loops.n4.b0.enable": "permutable",
        "loops.n4.b0.order_permutable": "_,i,j",
        "loops.n4.b0.tile": 32,
    }
    f = transferable_features(config)
    assert nonzero({k: v for k, v in f.items() if k.startswith("loops.")}) == {
        "loops.innermost_changed": 1.0,
        "loops.orders_changed": 2.0,
        "loops.skewed": 1.0,
        "loops.tile_log2_max": 5.0,
        "loops.tile_log2_mean": 3.0,  # (0 + 4 + 5) / 3
        "loops.tile_inner_log2_max": 9.0,
        "loops.unroll_max": 4.0,
        "loops.parallel_bands": 1.0,
        "loops.threads_log2": 3.0,
        "loops.scalarize": 1.0,
        "loops.fusions": 1.0,
    }


def test_tile_inner_counts_only_under_a_tile_and_threads_only_when_parallel():
    f = transferable_features(
        {"loops.n1.b0.tile": 0, "loops.n1.b0.tile_inner": 512, "loops.threads": 4}
    )
    assert f["loops.tile_inner_log2_max"] == 0.0 and f["loops.threads_log2"] == 0.0


def test_the_space_tells_the_written_loop_order():
    space = SearchSpace().add("loops.n2.b1.order", Choice(("i,k,j", "i,j,k", "k,i,j")))
    assert (
        transferable_features({"loops.n2.b1.order": "i,k,j"}, space)["loops.innermost_changed"]
        == 0.0
    )
    f = transferable_features({"loops.n2.b1.order": "i,j,k"}, space)
    assert f["loops.innermost_changed"] == 1.0 and f["loops.orders_changed"] == 1.0
    # Without the space, sorted variables stand in for the written order.
    assert transferable_features({"loops.n2.b1.order": "i,k,j"})["loops.innermost_changed"] == 1.0


def test_compiler_options_flags_and_bag_of_passes():
    config = {
        "passes.mode": "after",
        "passes.sequence": ["sroa", "licm-does-not-exist", "sroa", "loop_unroll"],
        "pipeline.speed_level": 2,
        "pipeline.slp_vectorization": True,
        "pipeline.inlining_threshold": 225,
        "flags.fastmath": "subset",
        "flags.fastmath_flags": ["nnan", "contract"],
        "flags.error_model": "numpy",
        "kernel.TILE": 64,
    }
    assert nonzero(transferable_features(config)) == {
        "passes.mode=after": 1.0,
        "passes.length": 4.0,
        "passes.count:sroa": 2.0,
        "passes.count:loop_unroll": 1.0,
        "passes.count:other": 1.0,
        "pipeline.speed_level": 2.0,
        "pipeline.loop_vectorization": 1.0,  # Numba's defaults where the config is silent
        "pipeline.slp_vectorization": 1.0,
        "pipeline.loop_interleaving": 1.0,
        "pipeline.loop_unrolling": 1.0,
        "pipeline.inlining_threshold": 225.0,
        "flags.fastmath=subset": 1.0,
        "flags.fastmath:nnan": 1.0,
        "flags.fastmath:contract": 1.0,
        "flags.error_model=numpy": 1.0,
    }


def test_replace_runs_no_pipeline_and_fastmath_all_sets_every_flag():
    f = transferable_features({"passes.mode": "replace", "flags.fastmath": "all"})
    assert f["pipeline.speed_level"] == 0.0 and f["pipeline.loop_vectorization"] == 0.0
    assert all(f[k] == 1.0 for k in TRANSFERABLE_SCHEMA if k.startswith("flags.fastmath:"))


def test_an_empty_config_is_numbas_default_build():
    f = nonzero(transferable_features({}))
    assert f["passes.mode=default"] == 1.0 and f["pipeline.speed_level"] == 3.0
    assert f["flags.fastmath=off"] == 1.0 and f["pipeline.inlining_threshold"] == -1.0


def test_vectors_follow_the_schema_for_a_real_space():
    from autotune.kernels import load_kernels
    from autotune.passes import cpu_search_space

    decl = load_kernels(ROOT / "corpora" / "cpu" / "gemm.py")[0]
    space = cpu_search_space(decl, loops="parallel")
    configs = [space.default_config()] + [space.sample(np.random.default_rng(i)) for i in range(20)]
    matrix = transferable_matrix(configs, space)
    assert matrix.shape == (21, len(TRANSFERABLE_SCHEMA)) and np.all(np.isfinite(matrix))
    np.testing.assert_array_equal(matrix[3], transferable_vector(configs[3], space))
    default = dict(zip(TRANSFERABLE_SCHEMA, matrix[0], strict=True))
    assert default["loops.innermost_changed"] == 0.0 and default["loops.orders_changed"] == 0.0
    assert set(run_features(configs[1], space)) <= set(run_columns(space))


json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4), max_leaves=8)
keys = st.sampled_from(
    [
        "passes.mode",
        "passes.sequence",
        "pipeline.speed_level",
        "pipeline.inlining_threshold",
        "flags.fastmath",
        "flags.fastmath_flags",
        "flags.parallel",
        "loops.parallel",
        "loops.threads",
        "loops.scalarize",
        "loops.n1.fuse",
        "loops.n1.b0.order",
        "loops.n1.b0.order_permutable",
        "loops.n1.b0.enable",
        "loops.n1.b0.tile",
        "loops.n1.b0.tile_inner",
        "loops.n2.b3.unroll",
        "loops.n2.b3.parallel",
        "kernel.TILE",
    ]
) | st.text(max_size=12)


@given(st.dictionaries(keys, json_values, max_size=10))
def test_any_config_encodes_to_finite_features(config):
    vector = transferable_vector(config)
    assert vector.shape == (len(TRANSFERABLE_SCHEMA),) and np.all(np.isfinite(vector))
    assert all(np.isfinite(v) for v in run_features(config).values())


def test_run_features_keep_everything_by_name():
    assert run_features(
        {"kernel.TILE": 64, "mode": "after", "on": True, "seq": ["sroa", "sroa", "licm"]}
    ) == {
        "kernel.TILE=64": 1.0,
        "kernel.TILE#log2": 6.0,
        'mode="after"': 1.0,
        "on=true": 1.0,
        "seq#len": 3.0,
        "seq:sroa": 2.0,
        "seq:licm": 1.0,
    }
    assert [param_of_column(c) for c in ("a=1", "a#log2", "a:sroa")] == ["a", "a", "a"]


def test_run_features_use_the_space_for_numeric_parameters():
    space = (
        SearchSpace()
        .add("n", Int(0, 100))
        .add("small", Int(1, 4))
        .add("block", Pow2(1, 1 << 20))
        .add("seq", Seq(("a", "b"), 1, 3))
    )
    assert run_features({"n": 40, "small": 2, "block": 8}, space) == {
        "n#log2": pytest.approx(np.log2(40)),
        "n#value": 40.0,
        "small=2": 1.0,
        "small#log2": 1.0,
        "small#value": 2.0,
        "block#log2": 3.0,
    }
    assert run_columns(space) == [
        "n#log2",
        "n#value",
        *("small#log2", "small#value", "small=1", "small=2", "small=3", "small=4"),
        "block#log2",
        *("seq#len", "seq:a", "seq:b"),
    ]


def _gemm_like_space() -> SearchSpace:
    # C[i, j] += A[i, k] * B[k, j], written i,k,j: j is the stride-1 loop, k carries
    # the reduction alone.
    space = SearchSpace().add("loops.n2.b1.order", Choice(("i,k,j", "i,j,k", "k,i,j")))
    return space.annotate(
        "loops.n2.b1.order",
        {"cost:i": 2.0, "carried:i": 0.0, "cost:k": 1.125, "carried:k": 3.0}
        | {"cost:j": 0.25, "carried:j": 0.0},
    )


def test_a_real_space_annotates_its_loop_orders():
    from autotune.kernels import load_kernels
    from autotune.passes import cpu_search_space

    [decl] = load_kernels(ROOT / "corpora" / "cpu" / "gemm.py")
    space = cpu_search_space(decl, loops="serial")
    facts = loop_facts(space)
    [(key, band)] = [(k, f) for k, f in facts.items() if f.written == "i,k,j"]
    assert [v for v, _, _ in band.loops] == ["i", "k", "j"]
    cost = {v: c for v, c, _ in band.loops}
    assert cost["j"] < cost["k"] < cost["i"]  # j indexes the last dimension of C and B
    f = transferable_features({**space.default_config(), key: "i,k,j"}, space)
    assert f["loops.innermost_changed"] == f["loops.orders_changed"] == 0  # as written


def test_loop_facts_round_trip_through_json_and_a_table_of_floats():
    facts = loop_facts(_gemm_like_space())
    assert facts_from_json(json.loads(json.dumps(facts_to_json(facts)))) == facts
    assert facts_from_floats(facts_to_floats(facts)) == facts
    unknown = {"loops.n0.b0.order": BandFacts("j,i")}
    assert facts_from_floats(facts_to_floats(unknown)) == unknown
    with pytest.raises(ValueError, match="loop facts"):
        facts_from_json([1, 2])


def test_an_exported_workload_keeps_its_loop_facts(tmp_path):
    from autotune.cost_model._dataset import (
        Dataset,
        Measured,
        WorkloadData,
        read_export,
        write_export,
    )

    facts = loop_facts(_gemm_like_space())
    trial = Measured({"loops.n2.b1.order": "i,j,k"}, "search", "ok", 0.5)
    workload = WorkloadData("w", "k", "p", "other", "()", "{}", "t", {}, (trial,), loops=facts)
    path = tmp_path / "e.jsonl.gz"
    write_export(Dataset((workload,)), path, {})
    loaded = read_export(path)
    assert loaded.workloads[0].loops == facts
    X, _, _ = loaded.rows()
    column = list(ROW_NAMES).index("loops.innermost_changed")
    assert X[0, column] == 1.0
    # As written, with sorted variables standing in for it this order would differ.
    kept = Measured({"loops.n2.b1.order": "i,k,j"}, "search", "ok", 1.0)
    again = Dataset((replace(workload, trials=(kept,)),))
    assert again.rows()[0][0, column] == 0.0


_JSON = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=12,
)


@given(_JSON)
def test_loop_facts_from_any_json_read_or_refuse_with_a_value_error(data):
    try:
        facts = facts_from_json(data)
    except ValueError:
        return
    for band in facts.values():
        assert isinstance(band, BandFacts) and isinstance(band.written, str)
        assert all(np.isfinite([c, n]).all() for _, c, n in band.loops)
