"""Fuzzing declarations: malformed and odd spec files and decorated sources.

Each example writes a small project to a fresh folder and loads it. A declaration must
either load, or fail with one :class:`InputError` line naming the user's file; through
``autotune tune --dry-run`` a failure must exit 2 with exactly one ``error:`` line on
stderr, no traceback, and no database created or changed. Examples that load are only
checked in-process (``--dry-run`` would start a worker for each).
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autotune.cli import main
from autotune.errors import InputError
from autotune.kernels import KernelDecl, load_kernels
from autotune.passes import cpu_search_space
from tests.kernels._helpers import kernel_toml, restored_import_state

MODULE = """
import numpy as np

B = 4
C = 2


def saxpy(a, x, y, out):
    for i in range(x.shape[0]):
        out[i] = a * x[i] + y[i]


def tuned(x, out):
    out[0] = x[0] * B + C


def make_inputs(rng, n=4):
    return 2.0, rng.random(n), rng.random(n), np.zeros(n)


def ones_inputs(n=4):
    return 2.0, np.ones(n), np.ones(n), np.zeros(n)
"""

HELPERS = "def make(rng, n=4):\n    return (rng.random(n),)\n"


@dataclass(frozen=True)
class Case:
    """A project to write: file name -> bytes, and the file ``tune`` is given."""

    files: dict[str, bytes]
    entry: str
    kind: str


# --- spec files ----------------------------------------------------------------------------

NAN, INF = float("nan"), float("inf")
odd_text = st.one_of(
    st.sampled_from(["", " ", "ñ", "ядро", "名前", "e\u0301", "\u202eevil", "a\u0000b", "😀"]),
    st.text(max_size=6),
)
odd_scalars = st.one_of(
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    odd_text,
)
odd_values = st.one_of(
    odd_scalars,
    st.lists(odd_scalars, max_size=3),
    st.dictionaries(odd_text, odd_scalars, max_size=2),
)
HUGE_SHAPES = [[10**12], [10**30], [2**62, 4], [0, 10**30], [10**4000], [1] * 40, [-1], [2.5]]
TARGETED: dict[str, list[Any]] = {
    "function": ["nope", "B", "make_inputs", "ядро", "__class__", ""],
    "reference": ["nope", "B", "tuned"],
    "outputs": [7, -1, [0, 9], "ret", [], [True], [3, "return"], 2.5],
    "rtol": [NAN, INF, -INF, 1e308, 1.0, 1, -1e-9, "tight", 0.5],
    "atol": [NAN, INF, 1e308, -1.0, "0"],
    "perturb": [-1.0, 0.2, NAN, 1e-6, "x"],
    "fastmath": ["yes", 1],
    "params": [
        {"B": {"int": [4, 1]}},
        {"B": {"pow2": [64, 8]}},
        {"B": {"pow2": [3, 8]}},
        {"B": {"int": [1, 4], "default": 9}},
        {"B": {"int": [1, 4], "step": 0}},
        {"B": {"choices": []}},
        {"B": {"choices": [NAN, NAN]}},
        {"C": {"permutation": ["i", "i"]}},
        {"ñ": {"int": [1, 2]}},
        {"B": {"int": [1, 10**30]}},
        {"B": {"int": [1, 4]}, "C": {"choices": [[1, 2], {"k": 1}]}},
        "B",
    ],
    "inputs": [
        {"init": "nope"},
        {"init": "helpers.py:make", "n": 3},
        {"init": "helpers.py:nope"},
        {"init": "missing.py:make"},
        {"init": "no.such.module:f"},
        {"init": "os:nope"},
        {"init": ":"},
        {"init": "make_inputs", "m": 1},
        {"init": "ones_inputs"},
        {"n": 4},
        [],
        "random",
    ],
}
ARG_TARGETED: dict[str, list[Any]] = {
    "shape": HUGE_SHAPES,
    "dtype": ["float65", "U10", "O", "i4,f8", "float128", "M8", "(", "ñ", "", "bool", 64],
    "fill": ["uniform", "", "ZEROS", "randint", ["zeros"]],
    "low": [2**64, -(2**70), "0", 50],
    "high": [2**64, 0, "100"],
    "value": [10**30, NAN, INF, "2", True],
    "bogus": [1],
}


def base_table() -> dict[str, Any]:
    return {
        "function": "tuned",
        "outputs": [1],
        "inputs": [{"shape": [4]}, {"shape": [4], "fill": "zeros"}],
        "params": {"B": {"int": [1, 8]}},
    }


@st.composite
def kernel_tables(draw: st.DrawFn) -> dict[str, Any]:
    """A valid kernel table with one to three odd changes."""
    table = base_table()
    for _ in range(draw(st.integers(1, 3))):
        how = draw(st.sampled_from(["targeted", "targeted", "arg", "arg", "odd", "delete"]))
        if how == "targeted":
            key = draw(st.sampled_from(sorted(TARGETED)))
            table[key] = draw(st.sampled_from(TARGETED[key]))
        elif how == "arg" and isinstance(table.get("inputs"), list) and table["inputs"]:
            arg = table["inputs"][draw(st.integers(0, len(table["inputs"]) - 1))]
            if isinstance(arg, dict):
                key = draw(st.sampled_from(sorted(ARG_TARGETED)))
                arg[key] = draw(st.sampled_from(ARG_TARGETED[key]))
        elif how == "odd":
            key = draw(st.sampled_from([*sorted(TARGETED), "rtoll", "ñ", "module"]))
            table[key] = draw(odd_values)
        else:
            table.pop(draw(st.sampled_from(["function", "inputs", "outputs"])), None)
    return table


def _toml_or_none(table: dict[str, Any]) -> str | None:
    try:
        return kernel_toml(dict(table))
    except TypeError:
        return None


@st.composite
def spec_texts(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["table"] * 6 + ["two", "top", "deep", "bytes", "text"]))
    if kind == "deep":
        depth = draw(st.sampled_from([17, 100, 3000]))
        return ("x = " + "[" * depth + "]" * depth + "\n").encode()
    if kind == "text":
        return draw(st.text(max_size=60)).encode("utf-8", "surrogatepass")
    text = _toml_or_none(draw(kernel_tables())) or kernel_toml(base_table())
    if kind == "two":  # the same kernel twice, or two different odd ones
        text += _toml_or_none(draw(kernel_tables())) or kernel_toml(base_table())
    if kind == "top":
        key = draw(st.sampled_from(["module", "modul", "kernel", "ñ"]))
        value = draw(st.one_of(odd_values, st.sampled_from(["missing.py", "kern.py", "../x.py"])))
        text = (_toml_or_none({key: value}) or "").removeprefix("[[kernel]]\n") + text
    raw = text.encode()
    if kind == "bytes":
        junk = draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xe9", b"\x80abc", b"\xed\xa0\x80"]))
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + junk + raw[at:]
    return raw


@st.composite
def spec_cases(draw: st.DrawFn) -> Case:
    files = {
        "kern.py": MODULE.encode(),
        "kern.autotune.toml": draw(spec_texts()),
        "helpers.py": HELPERS.encode(),
    }
    return Case(files, draw(st.sampled_from(["kern.py", "kern.autotune.toml"])), "spec")


# --- decorated sources ---------------------------------------------------------------------

DECORATOR_ARGS: dict[str, list[str]] = {
    "inputs": ["make", "None", "3", "lambda rng: rng.random(4)", "lambda: ()", "[make]"],
    "outputs": ["[1]", "[5]", "-1", "'ret'", "[]", "True", "[0, 'return']", "{1}", "1.5"],
    "rtol": ["'tight'", "float('nan')", "float('inf')", "1e308", "1.0", "-1", "None", "[1e-9]"],
    "atol": ["float('nan')", "float('inf')", "-1e-9", "'0'", "10**400"],
    "params": [
        "{'B': autotune.Int(1, 4)}",
        "{'B': autotune.Int(4, 1)}",
        "{'NOPE': autotune.Int(1, 4)}",
        "{'B': 4}",
        "5",
        "{'B': autotune.Pow2(3, 8)}",
        "{'B': autotune.Choice(())}",
        "{1: autotune.Int(1, 2)}",
    ],
    "sizes": ["{'s': {'n': 3}}", "{'s': 3}", "{}", "{'s': {'m': 3}}", "[1]", "{'ñ': {}}"],
    "constraints": [
        "[lambda p: p['nope'] > 1]",
        "[lambda p: 1 / 0]",
        "[lambda p: p.get('B', 1) < 3 or p['nope']]",
        "[3]",
        "lambda p: True",
        "[lambda p: np.ones(2)]",
    ],
    "perturb": ["1e-6", "-1", "0.5", "float('nan')", "'x'"],
    "name": ["'ядро'", "5", "''", "'a\\nb'", "'k2'"],
    "fastmath": ["'yes'", "False"],
    "reference": ["'x'", "None", "make"],
    "bogus": ["1"],
}
PRELUDES = ["", "raise ValueError('at import')\n", "import sys\nsys.exit(3)\n", "x = (\n"]


@st.composite
def decorated_sources(draw: st.DrawFn) -> bytes:
    args = {"inputs": "make", "outputs": "[1]"}
    for _ in range(draw(st.integers(1, 3))):
        key = draw(st.sampled_from(sorted(DECORATOR_ARGS)))
        args[key] = draw(st.sampled_from(DECORATOR_ARGS[key]))
    if draw(st.booleans()):
        args.pop(draw(st.sampled_from(["inputs", "outputs"])))
    call = ", ".join(f"{k}={v}" for k, v in args.items())
    source = (
        "import numpy as np\nimport autotune\n\nB = 1\n\n\n"
        "def make(rng, n=4):\n    return rng.random(n), np.zeros(n)\n\n\n"
        + draw(st.sampled_from(PRELUDES * 4 + [""] * 20))
        + f"@autotune.kernel({call})\ndef kern(x, out):\n    out[0] = x[0] * B\n"
    )
    raw = source.encode()
    if draw(st.integers(0, 9)) == 0:
        raw += b"# \xff\xfe not UTF-8\n"
    return raw


@st.composite
def decorator_cases(draw: st.DrawFn) -> Case:
    name = draw(st.sampled_from(["kern.py", "ядро.py", "my kernel.py", "k-1.py"]))
    return Case({name: draw(decorated_sources())}, name, "decorator")


declarations = st.one_of(spec_cases(), decorator_cases())


# --- checking one example ------------------------------------------------------------------


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``folder`` but bytecode caches: (size, mtime)."""
    return {
        str(p): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def _loaded_ok(decls: list[KernelDecl]) -> None:
    """What a loaded declaration offers must not raise either: sampled configs that a
    constraint raises on are invalid, with a reason."""
    rng = np.random.default_rng(0)
    for decl in decls:
        space = cpu_search_space(decl, scope="params")
        for _ in range(5):
            reason = space.violation(space.sample(rng))
            assert reason is None or isinstance(reason, str)


def check_case(case: Case, through_cli: bool, run_loadable: bool = False) -> str:
    """Load (and maybe ``tune --dry-run``) ``case``; the outcome's name for the counts.

    A case that loads is run through ``--dry-run`` only with ``run_loadable`` (each
    starts a worker and builds a baseline): it must then exit 0 or 1 (a kernel that
    cannot run), never with a traceback, and write nothing."""
    with tempfile.TemporaryDirectory() as tmp, restored_import_state():
        folder = Path(os.path.realpath(tmp))
        for name, data in case.files.items():
            (folder / name).write_bytes(data)
        db = folder / "fuzz.db"
        db.write_bytes(b"not touched")
        before = _snapshot(folder)
        entry = folder / case.entry
        try:
            decls = load_kernels(entry)
        except InputError as exc:
            message = str(exc)
            assert "\n" not in message, message
            assert str(folder) in message, message
        else:
            _loaded_ok(decls)
            if not (through_cli and run_loadable):
                return f"{case.kind}: loads (not run)"
            code = _dry_run(folder, entry, db, loadable=True)
            assert _snapshot(folder) == before, "a dry run must not create or change a file"
            return f"{case.kind}: loads, dry-run exit {code}"
        if not through_cli:
            return f"{case.kind}: InputError"
        result = _dry_run(folder, entry, db)
        assert _snapshot(folder) == before, "bad input must not create or change a file"
        return f"{case.kind}: exit {result}"


def _dry_run(folder: Path, entry: Path, db: Path, loadable: bool = False) -> int:
    runner = CliRunner()
    old = Path.cwd()
    os.chdir(folder)  # a default ./autotune.db would appear here
    try:
        result = runner.invoke(
            main, ["tune", str(entry), "--dry-run"], env={"AUTOTUNE_DB": str(db)}
        )
    finally:
        os.chdir(old)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    assert "Traceback" not in result.output + result.stderr
    if loadable:
        assert result.exit_code in (0, 1), result.output + result.stderr
        if result.exit_code == 1:
            assert "cannot be tuned" in result.stdout, result.stdout
        return result.exit_code
    assert result.exit_code == 2, result.output + result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert result.stdout == "", result.stdout
    return result.exit_code


def run_fuzz(examples: int, through_cli: bool, loadable_runs: int = 0) -> Counter[str]:
    """Counts of outcomes over ``examples`` generated cases; the first ``loadable_runs``
    cases that load are run through ``--dry-run`` as well."""
    counts: Counter[str] = Counter()

    @settings(
        derandomize=True,
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=declarations)
    def fuzz(case: Case) -> None:
        ran = sum(n for k, n in counts.items() if "dry-run" in k)
        counts[check_case(case, through_cli, run_loadable=ran < loadable_runs)] += 1

    fuzz()
    return counts


def _report(counts: Counter[str]) -> None:
    print("\nfuzzed declarations by outcome:")
    for outcome, count in sorted(counts.items()):
        print(f"  {outcome}: {count}")


# --- the tests -----------------------------------------------------------------------------


@pytest.mark.timeout(120)
def test_fuzzed_declarations_through_the_cli_quick() -> None:
    counts = run_fuzz(150, through_cli=True)
    assert counts.total() >= 150
    assert sum(n for k, n in counts.items() if k.endswith("exit 2")) > counts.total() // 2


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_fuzzed_declarations_through_the_cli() -> None:
    counts = run_fuzz(1200, through_cli=True, loadable_runs=5)
    _report(counts)
    assert counts.total() >= 1000
    assert sum(n for k, n in counts.items() if "dry-run" in k) == 5
    assert {"spec: exit 2", "decorator: exit 2"} <= set(counts)


@pytest.mark.timeout(120)
def test_fuzzed_declarations_load_or_raise_one_input_error() -> None:
    counts = run_fuzz(300, through_cli=False)
    assert counts.total() >= 300
    assert any("loads" in k for k in counts) and any("InputError" in k for k in counts)
