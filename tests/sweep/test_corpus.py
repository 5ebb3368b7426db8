"""Finding a corpus's kernels: files, spec files, directories, and what does not load."""

import shutil

import pytest

from autotune.errors import InputError
from autotune.sweep import find_kernels
from tests._helpers import CORPUS

KERNEL = """
import numpy as np
import autotune

@autotune.kernel(inputs=lambda rng: (rng.random(64), np.zeros(64)), outputs=[1])
def {name}(x, out):
    for i in range(x.shape[0]):
        out[i] = 2.0 * x[i]
"""


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_directory_gives_its_kernel_files_recursively_and_passes_helpers_over(tmp_path):
    _write(tmp_path / "a.py", KERNEL.format(name="double_a"))
    _write(tmp_path / "sub" / "b.py", KERNEL.format(name="double_b"))
    _write(tmp_path / "helpers.py", "SCALE = 2\n")  # imports fine, declares nothing
    _write(tmp_path / "_private.py", "raise SystemExit('never imported')\n")
    _write(tmp_path / ".hidden" / "c.py", KERNEL.format(name="double_c"))
    corpus = find_kernels([tmp_path])
    assert [j.name for j in corpus.jobs] == ["double_a", "double_b"]
    assert corpus.unloadable == ()
    assert all(j.sizes == ("default",) for j in corpus.jobs)


def test_a_spec_file_beside_its_module_is_loaded_once(tmp_path):
    shutil.copytree(CORPUS / "thirdparty", tmp_path / "thirdparty")
    corpus = find_kernels([tmp_path])
    assert sorted(j.name for j in corpus.jobs) == ["rowsum", "saxpy"]
    assert all(j.source.endswith("saxpy_lib.py") for j in corpus.jobs)


def test_a_spec_file_named_explicitly_travels_with_its_jobs(tmp_path):
    shutil.copytree(CORPUS / "thirdparty", tmp_path / "thirdparty")
    spec = tmp_path / "thirdparty" / "saxpy_lib.autotune.toml"
    corpus = find_kernels([spec])
    assert {j.spec for j in corpus.jobs} == {str(spec.resolve())}


def test_a_broken_file_in_a_directory_is_reported_and_the_rest_kept(tmp_path):
    _write(tmp_path / "good.py", KERNEL.format(name="good"))
    _write(tmp_path / "broken.py", "def f(:\n")
    corpus = find_kernels([tmp_path])
    assert [j.name for j in corpus.jobs] == ["good"]
    [bad] = corpus.unloadable
    assert bad.path.endswith("broken.py") and "syntax error" in bad.reason


def test_a_broken_file_named_explicitly_is_bad_input(tmp_path):
    broken = _write(tmp_path / "broken.py", "def f(:\n")
    with pytest.raises(InputError, match="syntax error"):
        find_kernels([broken])


@pytest.mark.parametrize("content", [None, "x = 1\n"])
def test_a_corpus_without_kernels_is_bad_input(tmp_path, content):
    if content is not None:
        _write(tmp_path / "nothing.py", content)
    with pytest.raises(InputError, match="no kernels found"):
        find_kernels([tmp_path])


def test_a_corpus_whose_every_file_is_broken_says_why(tmp_path):
    _write(tmp_path / "broken.py", "def f(:\n")
    with pytest.raises(InputError, match=r"no kernel in .* loads: .*syntax error"):
        find_kernels([tmp_path])


def test_a_missing_path_is_bad_input(tmp_path):
    with pytest.raises(InputError, match="no such file or directory"):
        find_kernels([tmp_path / "nope"])


def test_a_kernel_found_twice_is_tuned_once(tmp_path):
    source = _write(tmp_path / "a.py", KERNEL.format(name="double"))
    assert len(find_kernels([source, tmp_path, source]).jobs) == 1


def test_kernels_of_the_same_name_are_labelled_with_their_file(tmp_path):
    _write(tmp_path / "one.py", KERNEL.format(name="double"))
    _write(tmp_path / "two.py", KERNEL.format(name="double"))
    labels = sorted(j.label for j in find_kernels([tmp_path]).jobs)
    assert labels == ["one:double", "two:double"]


def test_editing_a_kernel_file_changes_its_digest(tmp_path):
    source = _write(tmp_path / "a.py", KERNEL.format(name="double"))
    [before] = find_kernels([source]).jobs
    source.write_text(source.read_text() + "\n# edited\n")
    [after] = find_kernels([source]).jobs
    assert before.digest != after.digest


def test_the_cpu_corpus_yields_every_kernel_with_its_sizes():
    corpus = find_kernels([CORPUS])
    names = [j.name for j in corpus.jobs]
    assert len(names) == len(set(names)) == 44  # 42 kernel files + 2 spec-declared kernels
    assert corpus.unloadable == ()
    assert all("medium" in j.sizes for j in corpus.jobs if not j.source.endswith("saxpy_lib.py"))
