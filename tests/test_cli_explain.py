"""``autotune explain`` as a user meets it: names and lines that match the file and the
config keys, plain Numba files, and ``tune --loops`` saying when it adds nothing."""

import json
import textwrap

import pytest

from tests._helpers import CORPUS, run_cli

run = run_cli

PLAIN_NUMBA = """
import numpy as np
from numba import njit


@njit(fastmath=True)
def dot(x, y):
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i] * y[i]
    return s


@njit
def matvec_slices(A, x, y):
    for i in range(A.shape[0]):
        y[i] = np.sum(A[i, ::2] * x)


def plain(A):
    for r in range(A.shape[0]):
        for c in range(A.shape[1]):
            A[r, c] = 0.0
"""

DECLARED = """
import numpy as np

import autotune


def _inputs(rng, n):
    return rng.random((n, 2 * n)), rng.random(n), np.zeros(n)


@autotune.kernel(inputs=_inputs, sizes={"default": {"n": 8}}, outputs=[2], name="foo")
def matvec_slices(A, x, y):
    for i in range(A.shape[0]):
        y[i] = np.sum(A[i, ::2] * x)
"""


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def _line(text, fragment):
    """The line number of ``fragment``'s first line in ``text`` (written as a file)."""
    return 1 + next(n for n, ln in enumerate(text.splitlines()) if fragment in ln)


def _one_error_line(code, output, *fragments):
    assert code == 2, output
    lines = [ln for ln in output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), output
    for fragment in fragments:
        assert fragment in lines[0]


def test_matmul_nest_is_at_its_for_line_and_named_like_its_config_keys(tmp_path):
    out_json = tmp_path / "explain.json"
    code, output = run("explain", CORPUS / "matmul.py", "--json", out_json)
    assert code == 0, output
    lines = output.splitlines()
    assert lines[1].startswith("  nest n2 (line 27): 2 band(s)")
    assert "    band n2.b1: loops (i, j, k)" in lines
    assert any("config keys: loops.n2.b1.order, loops.n2.b1.tile" in ln for ln in lines)
    # matmul's scalar accumulator is expanded into C: no scalar reduction is left.
    assert "may be reassociated" not in output
    (report,) = json.loads(out_json.read_text())
    (nest,) = report["nests"]
    assert nest["index"] == 2 and nest["line"] == 27
    assert [b["name"] for b in nest["bands"]] == ["n2.b0", "n2.b1"]


def test_a_plain_numba_file_is_explained_without_declarations(tmp_path):
    source = _write(tmp_path, "naive.py", PLAIN_NUMBA)
    code, output = run("explain", source)
    assert code == 0, output
    assert "kernel dot" in output and "kernel matvec_slices" in output
    assert "kernel plain" not in output  # not a Numba function, and not asked for
    nest, slice_ = _line(PLAIN_NUMBA, "for i in range(A.shape[0])"), _line(PLAIN_NUMBA, "A[i, ::2]")
    assert (
        f"nest n0 (line {nest}): not transformable, because line {slice_}: slice A[i, ::2]"
        in output
    )
    # fastmath=True on @njit: dot's scalar sum may be reassociated; matvec has no nest.
    notes = [ln for ln in output.splitlines() if "may be reassociated" in ln]
    assert notes == [
        "  reductions into scalars may be reassociated (the kernel allows fastmath): band n1.b0"
    ]


def test_kernel_names_a_plain_function_too(tmp_path):
    source = _write(tmp_path, "naive_plain.py", PLAIN_NUMBA)
    code, output = run("explain", source, "--kernel", "plain")
    assert code == 0, output
    line = _line(PLAIN_NUMBA, "for r in range(A.shape[0])")
    assert output.startswith(f"kernel plain\n  nest n0 (line {line}): 1 band(s)")
    assert "kernel dot" not in output


@pytest.mark.parametrize(
    ("text", "args", "fragments"),
    [
        (PLAIN_NUMBA, ["--kernel", "nope"], ["no kernel or function named nope", "dot"]),
        ("x = 1\n", [], ["nothing to explain", "no Numba functions"]),
    ],
)
def test_nothing_to_explain_is_one_error_line(tmp_path, text, args, fragments):
    source = _write(tmp_path, "nothing.py", text)
    code, output = run("explain", source, *args)
    _one_error_line(code, output, *fragments)


def test_the_header_shows_the_declared_kernel_name(tmp_path):
    source = _write(tmp_path, "declared.py", DECLARED)
    code, output = run("explain", source)
    assert code == 0, output
    assert output.startswith("kernel foo\n")


def test_tune_says_when_loops_add_nothing(tmp_path):
    source = _write(tmp_path, "declared_tune.py", DECLARED)
    url = "postgresql://tuner:x@127.0.0.1:1/tuning"  # refused at once: nothing is tuned
    code, output = run("tune", source, "--loops", "serial", "--db", url)
    assert code == 2, output
    assert (
        "foo: --loops serial adds nothing: no loop nest can be transformed "
        f"(line {_line(DECLARED, 'A[i, ::2]')}: slice A[i, ::2])"
    ) in output
