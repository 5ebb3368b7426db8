"""Family tags of the hand-written corpora: every kernel has exactly one, twins share it,
and no tag can be mistaken for a generated kernel's."""

from __future__ import annotations

import pytest

from autotune.cost_model._families import FAMILIES, SYNTHETIC_PREFIX, family_of
from autotune.sweep import find_kernels
from tests._helpers import CORPUS

NUMPY_CORPUS = CORPUS.parent / "numpy"


@pytest.fixture(scope="module")
def corpus_names() -> set[str]:
    corpus = find_kernels([CORPUS, NUMPY_CORPUS])
    assert corpus.unloadable == ()
    return {job.name for job in corpus.jobs}


def test_every_kernel_of_the_corpora_has_a_family_and_no_other_name_does(
    corpus_names: set[str],
) -> None:
    assert len(corpus_names) >= 60
    assert sorted(corpus_names - set(FAMILIES)) == []
    assert sorted(set(FAMILIES) - corpus_names) == []


def test_the_matrix_multiplies_are_one_family() -> None:
    assert family_of("matmul") == family_of("gemm") == family_of("two_mm") == "dense-la"
    assert family_of("matmul_tiled") == family_of("three_mm") == "dense-la"


def test_a_numpy_style_kernel_has_its_twins_family(corpus_names: set[str]) -> None:
    twins = sorted(name for name in corpus_names if name.endswith("_np"))
    assert len(twins) >= 15
    for name in twins:
        assert family_of(name) == family_of(name.removesuffix("_np")), name


@pytest.mark.parametrize(
    ("kernel", "family"),
    [
        ("jacobi2d", "stencil"),
        ("conv2d", "stencil"),
        ("dot", "reduction"),
        ("histogram", "irregular"),
        ("floyd_warshall", "graph-dp"),
        ("nussinov", "graph-dp"),
        ("lu_np", "dense-solver"),
        ("saxpy", "data-movement"),
    ],
)
def test_families_follow_the_shape_of_the_computation(kernel: str, family: str) -> None:
    assert family_of(kernel) == family


def test_leaving_one_family_out_leaves_most_kernels_to_train_on() -> None:
    sizes = {family: list(FAMILIES.values()).count(family) for family in set(FAMILIES.values())}
    assert len(sizes) >= 6
    assert max(sizes.values()) < len(FAMILIES) / 2


def test_an_unknown_kernel_is_a_key_error_that_names_it() -> None:
    with pytest.raises(KeyError, match=r"no family for kernel 'syn_s0_nest1_0000'.*dense-la"):
        family_of("syn_s0_nest1_0000")


def test_the_table_is_read_only_and_never_synthetic() -> None:
    with pytest.raises(TypeError):
        FAMILIES["matmul"] = "other"  # type: ignore[index]
    assert not [f for f in FAMILIES.values() if f.startswith(SYNTHETIC_PREFIX)]
