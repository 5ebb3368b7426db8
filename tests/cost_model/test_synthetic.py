"""Generated training kernels: seeded and deterministic, diverse, and valid: each one
loads as an autotune kernel, and Numba's default build of it computes what the
uncompiled function computes, within the kernel's tolerance."""

from __future__ import annotations

import functools
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numba
import numpy as np
import pytest

from autotune.cost_model._families import FAMILIES, SYNTHETIC_PREFIX
from autotune.cost_model._synthetic import KINDS, SyntheticKernel, generate, main
from autotune.kernels import KernelDecl, load_kernels
from autotune.measure._verify import collect_outputs, compare_outputs

SAMPLE = Path(__file__).parents[2] / "corpora" / "synthetic"
SAMPLE_SEED, SAMPLE_COUNT = 0, 12
CHECKED = 40  # kernels compiled and run by the quick test (about 0.15 s each)


@functools.cache
def _generated(seed: int, count: int) -> tuple[SyntheticKernel, ...]:
    return tuple(generate(seed, count))


def _check_kernel(kernel: SyntheticKernel, folder: Path, size: str | None = None) -> None:
    """Load ``kernel`` from its module and compare its default build with the uncompiled
    function on ``check_sizes``; with ``size``, also run a bounds-checked build on that
    declared size."""
    (decl,) = load_kernels(kernel.write(folder))
    assert isinstance(decl, KernelDecl) and decl.name == kernel.name
    assert list(decl.sizes) == ["small", "medium"] and decl.reference is None
    args = tuple(decl.inputs(np.random.default_rng(0), **kernel.check_sizes))
    interpreted = collect_outputs(decl.pyfunc, args, decl.outputs)
    built = collect_outputs(numba.njit(decl.pyfunc), args, decl.outputs)
    assert compare_outputs(built, interpreted, decl.outputs, decl.rtol, decl.atol) is None
    assert all(np.all(np.isfinite(out)) for out in built), "outputs must be finite"
    if size is not None:
        args = tuple(decl.inputs(np.random.default_rng(0), **decl.sizes[size]))
        checked = collect_outputs(numba.njit(decl.pyfunc, boundscheck=True), args, decl.outputs)
        assert all(np.all(np.isfinite(out)) for out in checked)


@pytest.mark.parametrize("index", range(CHECKED))
def test_a_generated_kernel_loads_compiles_and_matches_the_uncompiled_function(
    index: int, global_random_seed: int, tmp_path: Path
) -> None:
    _check_kernel(_generated(global_random_seed, CHECKED)[index], tmp_path)


@pytest.mark.slow  # 80 more kernels (every kind 6 times or more), each compiled twice
@pytest.mark.parametrize("chunk", range(2))
def test_more_generated_kernels_are_valid_and_run_in_bounds_at_their_small_size(
    chunk: int, global_random_seed: int, tmp_path: Path
) -> None:
    for kernel in _generated(global_random_seed + 1, 80)[chunk * 40 : (chunk + 1) * 40]:
        _check_kernel(kernel, tmp_path, size="small")


def test_generation_is_deterministic_and_each_kernel_depends_only_on_seed_and_index() -> None:
    first = generate(3, 12)
    assert first == generate(3, 12)
    assert generate(3, 5) == first[:5]
    assert [k.source for k in generate(4, 12)] != [k.source for k in first]
    names = [k.name for k in [*first, *generate(4, 12)]]
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"syn_s\d+_[a-z0-9]+_\d{4}", name) for name in names)


def test_kinds_take_turns_and_never_share_a_hand_written_family() -> None:
    kernels = generate(0, 8)
    assert [k.kind for k in kernels] == [*KINDS, *KINDS]
    assert all(k.family == SYNTHETIC_PREFIX + k.kind for k in kernels)
    assert not {k.family for k in kernels} & set(FAMILIES.values())


def test_the_generated_programs_are_diverse() -> None:
    sources = [k.source for k in _generated(0, 400)]
    text = "\n".join(sources)
    dtypes = Counter(re.findall(r"^\"\"\"Synthetic .*? \((\w+)\):", text, re.M))
    assert set(dtypes) == {"float64", "float32", "int64"} and min(dtypes.values()) >= 40
    depths = {len(re.findall(r"^ +for [ijk] in", s, re.M)) for s in sources if "nest" in s}
    assert {1, 2, 3} <= depths
    for feature in (
        "triangular nest",  # bounds that depend on an outer loop
        "- 1, -1, -1)",  # a descending loop
        "2 * i",  # a stride-2 read
        "np.asfortranarray",  # a column-major array
        "through a scalar",  # an accumulator kept in a register
        "loops j-i",  # column order
        "box stencil",
        "inplace",
        "pingpong",
        "return s",  # a reduction into a scalar
        "over rows",
        "over cols",
        "unfused",
        ", fused",
        "np.sqrt",
        "% 1009",
    ):
        assert feature in text, feature


def test_write_creates_the_folder_and_a_module_named_after_the_kernel(tmp_path: Path) -> None:
    kernel = generate(0, 1)[0]
    path = kernel.write(tmp_path / "deep" / "er")
    assert path == tmp_path / "deep" / "er" / f"{kernel.name}.py"
    assert path.read_text() == kernel.source


@pytest.mark.parametrize(("seed", "count"), [(-1, 3), (0, -2), (1.5, 3), (0, True)])
def test_bad_arguments_are_value_errors(seed: object, count: object) -> None:
    with pytest.raises(ValueError, match="non-negative integer"):
        generate(seed, count)  # type: ignore[arg-type]


def test_the_command_line_writes_one_module_per_kernel(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--seed", "2", "--count", "5", "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"{k.name}.py" for k in generate(2, 5)
    )
    assert capsys.readouterr().out.strip() == f"wrote 5 kernels to {tmp_path}"


@pytest.mark.parametrize(
    "argv",
    [
        ["--count", "0", "--out", "{tmp}"],
        ["--seed", "-3", "--count", "2", "--out", "{tmp}"],
        ["--count", "2", "--out", "{tmp}/file"],
        ["--count", "two", "--out", "{tmp}"],
        ["--count", "2"],
        ["--count", "2", "--out", "{tmp}", "--colour"],
    ],
)
def test_bad_command_lines_exit_2_with_one_line(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file").write_text("")
    argv = [a.format(tmp=tmp_path) for a in argv]
    try:
        status = main(argv)
    except SystemExit as exc:
        status = exc.code  # type: ignore[assignment]
    assert status == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_the_module_runs_as_a_program(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "autotune.cost_model._synthetic", "--count", "2"]
    done = subprocess.run([*command, "--out", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert len(list(tmp_path.glob("syn_s0_*.py"))) == 2
    bad = subprocess.run([*command, "--seed", "x"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1


def test_the_committed_sample_is_what_the_generator_makes() -> None:
    expected = {f"{k.name}.py": k.source for k in generate(SAMPLE_SEED, SAMPLE_COUNT)}
    found = {p.name: p.read_text() for p in SAMPLE.glob("*.py")}
    assert found == expected, (
        "corpora/synthetic is stale: regenerate it with python -m "
        f"autotune.cost_model._synthetic --seed {SAMPLE_SEED} --count {SAMPLE_COUNT} "
        "--out corpora/synthetic (after deleting its *.py)"
    )
    assert "training only" in (SAMPLE / "README.md").read_text()
