"""Importing a kernel file: errors point at the user's file and line, never at ours."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from autotune.errors import InputError
from autotune.kernels import load_kernels


def load_error(path: Path, source: str) -> str:
    path.write_text(textwrap.dedent(source).lstrip())
    with pytest.raises(InputError) as info:
        load_kernels(path)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_bad_rtol_names_the_users_line_and_the_problem(tmp_path: Path) -> None:
    path = tmp_path / "tight.py"
    message = load_error(
        path,
        """
        import autotune
        @autotune.kernel(inputs=lambda rng: (rng.random(4),), outputs="return", rtol="tight")
        def f(x):
            return x.sum()
        """,
    )
    assert message == (
        f"{path}:2: kernel 'f': rtol must be a non-negative finite number, got 'tight'"
    )


def test_error_in_a_helper_of_the_users_file_names_the_deepest_user_line(tmp_path: Path) -> None:
    path = tmp_path / "helper_raises.py"
    message = load_error(
        path,
        """
        import numpy as np

        def shape():
            return np.zeros((2, 2)).reshape(3)

        SHAPE = shape()
        """,
    )
    assert message.startswith(f"{path}:4: importing failed: ValueError: cannot reshape")


def test_raising_constraint_names_the_decorator_and_the_constraint_lines(tmp_path: Path) -> None:
    path = tmp_path / "constrained.py"
    message = load_error(
        path,
        """
        import autotune
        B = 1
        @autotune.kernel(inputs=lambda rng: (rng.random(4),), outputs="return",
                         params={"B": autotune.Int(1, 4)},
                         constraints=[lambda p: p["nope"] > 1])
        def f(x):
            return x.sum() * B
        """,
    )
    assert message.startswith(f"{path}:3: kernel 'f': constraint '<lambda>' ({path}:5) raised")
    assert "KeyError: 'nope' on the default parameters {'B': 1}" in message


def test_low_above_high_in_a_parameter_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "low_high.py"
    message = load_error(
        path,
        """
        import autotune
        B = 1
        @autotune.kernel(inputs=lambda rng: (rng.random(4),), outputs="return",
                         params={"B": autotune.Int(4, 1)})
        def f(x):
            return x.sum() * B
        """,
    )
    assert message == f"{path}:4: importing failed: ValueError: invalid Int range [4, 1] step 1"


def test_sys_exit_at_import_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "exits.py"
    message = load_error(path, "import sys\nsys.exit(3)\n")
    assert message == f"{path}:2: importing failed: the module calls sys.exit(3)"


def test_syntax_error_in_an_imported_sibling_names_both_files(tmp_path: Path) -> None:
    (tmp_path / "sibling_broken.py").write_text("def f(:\n")
    path = tmp_path / "imports_sibling.py"
    message = load_error(path, "x = 1\nimport sibling_broken\n")
    assert message.startswith(f"{path}:2: importing failed: ")
    assert "sibling_broken.py:1: syntax error" in message


def test_source_that_is_not_utf8_is_a_syntax_error_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "latin1.py"
    path.write_bytes(b"x = 1\ny = '\xff'\n")
    with pytest.raises(InputError, match=r"latin1\.py:2: syntax error"):
        load_kernels(path)
