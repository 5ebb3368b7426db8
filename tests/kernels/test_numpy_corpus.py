"""The NumPy-style corpus (``corpora/numpy``): every kernel loads, declares exactly the
problem of its loop-written twin in ``corpora/cpu``, and matches the reference."""

from __future__ import annotations

from pathlib import Path

import numba
import pytest

from autotune.kernels import KernelDecl, load_kernels
from autotune.measure._verify import collect_outputs, compare_outputs
from autotune.sweep import find_kernels
from tests._helpers import CORPUS

NUMPY_CORPUS = CORPUS.parent / "numpy"
FILES = sorted(p for p in NUMPY_CORPUS.glob("*_np.py"))


def _load(path: Path) -> KernelDecl:
    (decl,) = load_kernels(path)
    return decl


def _twin_path(path: Path) -> Path:
    return CORPUS / (path.stem.removesuffix("_np") + ".py")


def test_the_corpus_has_at_least_fifteen_kernels_each_with_a_twin() -> None:
    assert len(FILES) >= 15
    assert [p for p in FILES if not _twin_path(p).is_file()] == []


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_a_kernel_declares_the_problem_of_its_twin(path: Path) -> None:
    decl = _load(path)
    twin = _load(_twin_path(path))
    assert decl.name == path.stem == f"{twin.name}_np"
    assert decl.source == str(path.resolve())
    # The same objects, imported from the twin rather than copied.
    assert decl.inputs is twin.inputs
    assert decl.reference is (twin.reference or twin.pyfunc)
    assert decl.sizes == twin.sizes and list(decl.sizes) == ["small", "medium"]
    assert decl.outputs == twin.outputs
    assert (decl.rtol, decl.atol) == (twin.rtol, twin.atol)
    assert (decl.allow_fastmath, decl.perturb) == (twin.allow_fastmath, twin.perturb)
    assert decl.params == twin.params == {}


def test_a_sweep_finds_each_kernel_once_and_never_the_twins_again() -> None:
    alone = find_kernels([NUMPY_CORPUS])
    assert alone.unloadable == ()
    assert sorted(j.name for j in alone.jobs) == [p.stem for p in FILES]
    together = find_kernels([CORPUS, NUMPY_CORPUS])
    names = [j.name for j in together.jobs]
    assert len(names) == len(set(names))
    numpy_style = {j.name: j.source for j in together.jobs if j.name.endswith("_np")}
    assert numpy_style == {p.stem: str(p.resolve()) for p in FILES}


@pytest.mark.slow
# gramschmidt_np takes np.dot of strided columns on purpose (see its docstring).
@pytest.mark.filterwarnings("ignore::numba.core.errors.NumbaPerformanceWarning")
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_the_compiled_kernel_matches_the_reference_at_the_small_size(path: Path) -> None:
    decl = _load(path)
    func = numba.njit(decl.bind(decl.default_params()))
    args = decl.make_inputs(0, "small")
    assert decl.reference is not None
    want = collect_outputs(decl.reference, args, decl.outputs)
    got = collect_outputs(func, args, decl.outputs)
    assert compare_outputs(got, want, decl.outputs, decl.rtol, decl.atol) is None
