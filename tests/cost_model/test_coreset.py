"""Recipes and the greedy coreset."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from autotune.cost_model._coreset import Recipe, build_coreset, program_results

FAST = {"flags.fastmath": "all"}
SLOW = {"pipeline.speed_level": 1}
BOTH = {"flags.fastmath": "all", "pipeline.speed_level": 2}


def _measured(rows: list[tuple[str, dict[str, object], float]]) -> list:
    return program_results([(p, c, s, "winner") for p, c, s in rows])


def test_a_recipe_keeps_compiler_settings_and_drops_kernel_parameters() -> None:
    recipe = Recipe.of({**FAST, "kernel.TILE": 64, "loops.n0.b0.tile": 64})
    assert dict(recipe.compiler) == {"flags.fastmath": '"all"'}
    assert dict(recipe.loops)["loops.tile_log2_max"] == 6.0
    assert Recipe.of({**FAST, "kernel.TILE": 8}).key != recipe.key  # the tile differs
    assert Recipe.of({**FAST, "kernel.TILE": 8}).key == Recipe.of(FAST).key
    assert "fastmath" in recipe.describe()


def test_the_coreset_covers_each_program_with_as_few_recipes_as_it_can() -> None:
    programs = _measured(
        [
            ("a", FAST, 2.0),
            ("a", BOTH, 1.5),
            ("b", FAST, 3.0),
            ("c", SLOW, 1.4),
            ("c", FAST, 0.9),
            ("d", SLOW, 1.01),  # no gain: teaches nothing
        ]
    )
    coreset = build_coreset(programs)
    assert [r.key for r in coreset] == [Recipe.of(FAST).key, Recipe.of(SLOW).key]
    assert len(build_coreset(programs, size=1)) == 1


def test_only_winners_are_candidates_where_a_program_has_one() -> None:
    rows = [("a", FAST, 2.0, "search"), ("a", BOTH, 1.9, "winner")]
    [coreset] = [build_coreset(program_results(rows))]
    assert [r.key for r in coreset] == [Recipe.of(BOTH).key]


@given(
    st.lists(
        st.tuples(
            st.sampled_from("abcd"),
            st.sampled_from([FAST, SLOW, BOTH, {}]),
            st.floats(0.5, 4.0),
        ),
        max_size=30,
    )
)
def test_a_coreset_is_deterministic_unique_and_never_longer_than_asked(rows: list) -> None:
    programs = _measured(rows)
    first, second = build_coreset(programs, 2), build_coreset(programs, 2)
    assert [r.key for r in first] == [r.key for r in second]
    assert len(first) <= 2 and len({r.key for r in first}) == len(first)
    if any(p.best >= math.log(1.05) for p in programs):
        assert first  # something gained: something covers it


def test_a_recipe_that_reorders_loops_gets_the_stride_one_loop_innermost() -> None:
    import numpy as np

    from autotune.passes import cpu_search_space
    from tests.loops.test_stride import column_walk

    space = cpu_search_space(column_walk, loops="serial")
    recipe = Recipe((), (("loops.innermost_changed", 1.0), ("loops.orders_changed", 1.0)))
    for seed in range(3):
        config = recipe.instantiate(space, np.random.default_rng(seed))
        assert config is not None
        assert config["loops.n1.b0.order"] == "i,j"


def test_a_recipe_that_tiles_gets_its_tile_size_on_the_new_kernels_bands() -> None:
    import numpy as np

    from autotune.passes import cpu_search_space
    from tests.loops.test_space import triangle

    space = cpu_search_space(triangle, loops="serial")
    tiles = [n for n in space.names if n.endswith(".tile")]
    assert tiles
    recipe = Recipe((), (("loops.tile_log2_max", 6.0), ("loops.tile_log2_mean", 6.0)))
    config = recipe.instantiate(space, np.random.default_rng(0))
    assert config is not None
    assert space.violation(config) is None
    assert all(config[n] == 64 for n in tiles if n in config)


def test_a_recipe_reads_loop_orders_from_exported_facts_as_from_its_space() -> None:
    from autotune.cost_model._encoding import loop_facts
    from autotune.kernels import load_kernels
    from autotune.passes import cpu_search_space
    from tests._helpers import CORPUS

    [gemm] = load_kernels(CORPUS / "gemm.py")
    space = cpu_search_space(gemm, loops="serial")
    [key] = [k for k, f in loop_facts(space).items() if f.written == "i,k,j"]
    config = {**space.default_config(), key: "i,k,j", "flags.fastmath": "all"}
    assert Recipe.of(config, facts=loop_facts(space)) == Recipe.of(config, space)
    assert Recipe.of(config, space).loops == Recipe.of(space.default_config(), space).loops
    assert Recipe.of(config).loops != Recipe.of(config, space).loops  # sorted: i,j,k
