"""The CPU search space: Numba's defaults as the default config, and reading configs back."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autotune
from autotune.passes import (
    INLINE_THRESHOLDS,
    KERNEL_PREFIX,
    PASS_MODES,
    PASSES,
    BuildOptions,
    PipelineConfig,
    cpu_search_space,
)

TILE = 4
ORDER = ("i", "j")


def _inputs(rng: np.random.Generator) -> tuple[Any, ...]:
    return rng.random(8), np.zeros(8)


def tiled(x, out):
    for i in range(x.shape[0]):
        out[i] = x[i] * TILE + len(ORDER)


def declare(fastmath: bool = True) -> autotune.KernelDecl:
    return autotune.kernel(
        inputs=_inputs,
        outputs=[1],
        params={"TILE": autotune.Pow2(4, 32), "ORDER": autotune.Permutation(("i", "j"))},
        fastmath=fastmath,
    )(tiled)


def test_default_config_is_numbas_default_build() -> None:
    space = cpu_search_space(declare())
    config = space.default_config()
    assert space.violation(config) is None
    assert config["passes.mode"] == "default"
    assert "passes.sequence" not in config
    assert config["flags.fastmath"] == "off"
    assert "flags.fastmath_flags" not in config
    assert config["flags.error_model"] == "python"
    options = BuildOptions.from_config(config)
    assert options.pipeline == PipelineConfig()
    assert options.fastmath is False
    assert options.error_model == "python"
    assert options.params == {"TILE": 4, "ORDER": ["i", "j"]}
    assert options.numba_options() == {"error_model": "python"}


def test_pipeline_defaults_match_numba() -> None:
    defaults = PipelineConfig()
    assert defaults.speed_level == 3
    assert defaults.loop_vectorization is True
    assert defaults.slp_vectorization is False
    assert defaults.loop_interleaving is True
    assert defaults.loop_unrolling is True
    assert defaults.inlining_threshold == -1
    assert defaults.pass_mode == "default"
    assert defaults.pass_sequence == ()
    space = cpu_search_space(declare())
    config = space.default_config()
    for name in (
        "speed_level",
        "loop_vectorization",
        "slp_vectorization",
        "loop_interleaving",
        "loop_unrolling",
        "inlining_threshold",
    ):
        assert config[f"pipeline.{name}"] == getattr(defaults, name)
    assert space["passes.mode"].default == PASS_MODES[0] == "default"


@pytest.mark.parametrize(("allow", "declared"), [(False, True), (True, False), (False, False)])
def test_fastmath_dimensions_only_when_both_allow_it(allow: bool, declared: bool) -> None:
    names = cpu_search_space(declare(fastmath=declared), allow_fastmath=allow).names
    assert "flags.fastmath" not in names
    assert "flags.fastmath_flags" not in names


def test_fastmath_dimensions_when_allowed() -> None:
    space = cpu_search_space(declare())
    assert list(space["flags.fastmath"].values()) == ["off", "all", "subset"]
    assert (
        space.violation(
            {**space.default_config(), "flags.fastmath": "subset", "flags.fastmath_flags": ["nnan"]}
        )
        is None
    )


def test_kernel_params_appear_with_their_prefix() -> None:
    space = cpu_search_space(declare())
    assert space[f"{KERNEL_PREFIX}TILE"] == autotune.Pow2(4, 32)
    assert space["kernel.ORDER"] == autotune.Permutation(("i", "j"))
    assert [n for n in space.names if n.startswith("kernel.")] == ["kernel.TILE", "kernel.ORDER"]


def test_replace_mode_deactivates_pipeline_options() -> None:
    space = cpu_search_space(declare(), max_sequence=3)
    config = {
        "passes.mode": "replace",
        "passes.sequence": ["sroa", "instruction_combine"],
        "flags.fastmath": "off",
        "flags.error_model": "numpy",
        "kernel.TILE": 8,
        "kernel.ORDER": ["j", "i"],
    }
    assert space.violation(config) is None
    assert "inactive" in (space.violation({**config, "pipeline.speed_level": 2}) or "")
    assert "passes.sequence" in (space.violation({**config, "passes.sequence": ["sroa"] * 4}) or "")
    options = BuildOptions.from_config(config)
    assert options.pipeline == PipelineConfig(
        pass_mode="replace", pass_sequence=("sroa", "instruction_combine")
    )
    assert options.error_model == "numpy"
    assert options.params == {"TILE": 8, "ORDER": ["j", "i"]}


@pytest.mark.parametrize(
    ("fastmath", "flags", "expected", "numba"),
    [
        ("off", None, False, None),
        ("all", None, True, True),
        ("subset", ["nnan", "contract"], ("nnan", "contract"), {"nnan", "contract"}),
        ("subset", [], False, None),
    ],
)
def test_fastmath_modes_map_to_numba_options(
    fastmath: str, flags: list[str] | None, expected: Any, numba: Any
) -> None:
    config: dict[str, Any] = {"passes.mode": "default", "flags.fastmath": fastmath}
    if flags is not None:
        config["flags.fastmath_flags"] = flags
    options = BuildOptions.from_config(config)
    assert options.fastmath == expected
    assert options.numba_options().get("fastmath") == numba


def test_missing_flags_fall_back_to_numba_defaults() -> None:
    options = BuildOptions.from_config({})
    assert options == BuildOptions(PipelineConfig(), False, "python", {})


@given(seed=st.integers(0, 2**32 - 1), fastmath=st.booleans())
def test_every_sampled_config_reads_back_into_build_options(seed: int, fastmath: bool) -> None:
    space = cpu_search_space(declare(), allow_fastmath=fastmath)
    config = space.sample(np.random.default_rng(seed))
    assert space.violation(config) is None
    options = BuildOptions.from_config(config)
    assert options.pipeline.pass_mode == config["passes.mode"]
    assert options.pipeline.pass_sequence == tuple(config.get("passes.sequence", ()))
    if "pipeline.speed_level" in config:
        assert options.pipeline.speed_level == config["pipeline.speed_level"]
        assert options.pipeline.inlining_threshold == config["pipeline.inlining_threshold"]
    assert set(options.params) == {"TILE", "ORDER"}
    if not fastmath:
        assert options.fastmath is False


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"speed_level": 4}, "speed_level"),
        ({"speed_level": -1}, "speed_level"),
        ({"inlining_threshold": 300}, "inlining_threshold"),
        ({"inlining_threshold": -2}, "inlining_threshold"),
        ({"pass_mode": "instead"}, "pass_mode"),
        ({"pass_sequence": ("sroa", "no_such_pass")}, "no_such_pass"),
    ],
)
def test_pipeline_config_rejects_bad_values(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        PipelineConfig(**kwargs)


def test_pipeline_config_from_config_rejects_unknown_options() -> None:
    with pytest.raises(TypeError):
        PipelineConfig.from_config({"pipeline.warp_speed": 9})


def test_catalog_values_are_accepted_by_pipeline_config() -> None:
    for threshold in INLINE_THRESHOLDS:
        PipelineConfig(inlining_threshold=threshold)
    PipelineConfig(pass_mode="after", pass_sequence=PASSES)
