"""The search space of a kernel written with its own ``@njit`` options: its defaults
are the author's options, the search may turn them off, and configs build on them."""

from __future__ import annotations

from typing import Any

import pytest

from autotune.kernels import NUMBA_DEFAULT, KernelDecl, load_kernels
from autotune.passes import BuildOptions, cpu_search_space
from tests._helpers import FIXTURES


def _fixture(name: str) -> KernelDecl:
    return next(d for d in load_kernels(FIXTURES / "author_options.py") if d.name == name)


def test_the_default_config_has_the_authors_fastmath_and_may_turn_it_off() -> None:
    space = cpu_search_space(_fixture("dot_fastmath"))
    default = space.default_config()
    assert default["flags.fastmath"] == "all"
    assert set(space["flags.fastmath"].choices) == {"off", "all", "subset"}  # type: ignore[attr-defined]
    assert "flags.parallel" not in space.names


def test_spec_declared_code_keeps_fastmath_and_its_error_model_as_defaults() -> None:
    (decl,) = load_kernels(FIXTURES / "author_lib.py")
    default = cpu_search_space(decl).default_config()
    assert (default["flags.fastmath"], default["flags.error_model"]) == ("all", "numpy")


def test_the_authors_parallel_is_a_dimension_that_may_be_turned_off() -> None:
    space = cpu_search_space(_fixture("scale_parallel"))
    assert space.default_config()["flags.parallel"] is True
    off = space.with_defaults({"flags.parallel": False})
    assert space.violation(off) is None
    assert BuildOptions.from_config(off).njit_options({"parallel": True}, prange=False) == {
        "parallel": False,
        "error_model": "python",
    }


def test_numba_default_ignores_the_authors_options() -> None:
    space = cpu_search_space(_fixture("scale_parallel").as_baseline(NUMBA_DEFAULT))
    assert "flags.parallel" not in space.names
    assert space.default_config()["flags.fastmath"] == "off"


def _scale(x, out):  # type: ignore[no-untyped-def]
    for i in range(x.shape[0]):
        out[i] = 2.0 * x[i]


def test_parallel_off_with_prange_loop_transformations_is_invalid() -> None:
    decl = KernelDecl(
        name="scale",
        pyfunc=_scale,
        inputs=lambda rng: (),
        outputs=(1,),
        njit_options={"parallel": True},
    )
    space = cpu_search_space(decl, loops="parallel", max_threads=2)
    prange = space.with_defaults({"loops.parallel": True, "loops.n0.b0.parallel": True})
    assert space.violation(prange) is None
    both = space.with_defaults({**prange, "flags.parallel": False})
    assert "flags.parallel is off" in (space.violation(both) or "")


@pytest.mark.parametrize(
    ("config", "author", "expected"),
    [
        # A config that names no flags (``{}``: the author's own build) keeps them all.
        ({}, {"fastmath": True, "boundscheck": True}, {"fastmath": True, "boundscheck": True}),
        # Named flags win; fastmath off drops the author's fastmath too.
        ({"flags.fastmath": "off"}, {"fastmath": True, "nogil": True}, {"nogil": True}),
        ({"flags.error_model": "python"}, {"error_model": "numpy"}, {"error_model": "python"}),
        ({"flags.parallel": True}, {"parallel": True}, {"parallel": True}),
        # Never cache: a tuned build must not write the author's disk cache.
        ({}, {"cache": True}, {}),
    ],
)
def test_the_config_flags_override_the_authors_options(
    config: dict[str, Any], author: dict[str, Any], expected: dict[str, Any]
) -> None:
    merged = BuildOptions.from_config(config).njit_options(author, prange=False)
    assert merged == {"parallel": False, **expected}


def test_a_prange_loop_transformation_always_compiles_parallel() -> None:
    options = BuildOptions.from_config({"flags.parallel": False})
    assert options.njit_options({"parallel": True}, prange=True)["parallel"] is True


def test_a_scalarizable_kernel_has_its_scalarized_builds_as_landmarks() -> None:
    from autotune.kernels import load_kernels
    from autotune.passes import cpu_search_space
    from tests._helpers import CORPUS

    (decl,) = load_kernels(CORPUS.parent / "numpy" / "atax_np.py")
    space = cpu_search_space(decl, loops="serial")
    # Others reorder loops too (memory order, tested in tests/loops/test_stride.py).
    plain = [
        c
        for c in space.landmarks()
        if all(c[k] == space[k].default for k in c if k.endswith(".order"))
    ]
    assert [(c["loops.scalarize"], c["flags.fastmath"]) for c in plain] == [
        (True, "off"),
        (True, "all"),
    ]
    assert cpu_search_space(decl, loops="off").landmarks() == []
