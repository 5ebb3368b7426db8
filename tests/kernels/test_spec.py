"""Kernel declarations: spec files, ``@autotune.kernel`` / ``KernelDecl`` and loading."""

from __future__ import annotations

import tempfile
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autotune
from autotune.errors import InputError
from autotune.kernels import RETURN, KernelDecl, load_kernels
from autotune.space import Choice, Int, Permutation, Pow2
from tests.kernels._helpers import kernel_toml

MODULE = """
import numpy as np
from numba import njit

BLOCK = 8
UNROLL = 1
ORDER = ("i", "j")
MODE = "a"


def saxpy(a, x, y, out):
    for i in range(x.shape[0]):
        out[i] = a * x[i] + y[i]


def saxpy_ref(a, x, y, out):
    out[:] = a * x + y


def tuned(x, out):
    out[0] = x[0] * BLOCK * UNROLL + len(ORDER) + len(MODE)


def anyargs(*args):
    pass


def make_inputs(rng, n=4):
    return 2.0, rng.random(n), rng.random(n), np.zeros(n)


def make_inputs_seeded(seed, n=4):
    rng = np.random.default_rng(seed)
    return 2.0, rng.random(n), rng.random(n), np.zeros(n)


def make_inputs_unseeded(n=4):
    return 2.0, np.ones(n), np.ones(n), np.zeros(n)


@njit
def jitted(x, out):
    out[0] = x.sum()
"""

SAXPY_INPUTS = """[
  { value = 2.5 },
  { shape = [16], dtype = "float64", fill = "random" },
  { shape = [16], fill = "normal" },
  { shape = [16], fill = "zeros" },
]"""


# --- fixtures and helpers --------------------------------------------------------------


def write_files(directory: Path, spec: str, module: str = MODULE, stem: str = "kern") -> Path:
    """``<stem>.py`` and the spec ``<stem>.autotune.toml`` beside it; the spec's path."""
    (directory / f"{stem}.py").write_text(module)
    spec_path = directory / f"{stem}.autotune.toml"
    spec_path.write_text(spec)
    return spec_path


def load_one(directory: Path, table: dict[str, Any], module: str = MODULE) -> KernelDecl:
    [decl] = load_kernels(write_files(directory, kernel_toml(dict(table)), module))
    return decl


def load_error(directory: Path, table: dict[str, Any], module: str = MODULE) -> str:
    with pytest.raises(InputError) as info:
        load_kernels(write_files(directory, kernel_toml(dict(table)), module))
    message = str(info.value)
    assert "\n" not in message
    return message


def saxpy_table(**changes: Any) -> dict[str, Any]:
    table: dict[str, Any] = {
        "function": "saxpy",
        "outputs": [3],
        "inputs": [
            {"value": 2.5},
            {"shape": [16], "dtype": "float64", "fill": "random"},
            {"shape": [16], "fill": "normal"},
            {"shape": [16], "fill": "zeros"},
        ],
    }
    table.update(changes)
    return {k: v for k, v in table.items() if v is not None}


# --- spec files: valid input ----------------------------------------------------------


def test_spec_beside_a_module_declares_its_kernel(tmp_path: Path) -> None:
    spec = f"""
[[kernel]]
function = "saxpy"
outputs = [3]
reference = "saxpy_ref"
rtol = 1e-9
atol = 1e-12
fastmath = false
inputs = {SAXPY_INPUTS}
"""
    [decl] = load_kernels(write_files(tmp_path, spec))
    assert decl.name == "saxpy"
    assert decl.outputs == (3,)
    assert decl.rtol == 1e-9 and decl.atol == 1e-12
    assert decl.allow_fastmath is False
    assert decl.reference is not None and decl.reference.__name__ == "saxpy_ref"
    assert decl.source == str((tmp_path / "kern.py").resolve())
    a, x, y, out = decl.make_inputs(seed=3)
    assert a == 2.5 and isinstance(a, np.float64)
    assert x.shape == y.shape == out.shape == (16,)
    assert not out.any()
    again = decl.make_inputs(seed=3)
    assert all(np.array_equal(u, v) for u, v in zip(decl.make_inputs(3), again, strict=True))
    assert not np.array_equal(x, decl.make_inputs(seed=4)[1])


def test_python_file_finds_its_spec_and_the_module_key_names_another(tmp_path: Path) -> None:
    write_files(tmp_path, kernel_toml(saxpy_table()))
    [decl] = load_kernels(tmp_path / "kern.py")
    assert decl.name == "saxpy"
    other = tmp_path / "other.toml"
    other.write_text(
        'module = "kern.py"\n' + kernel_toml(saxpy_table(function="tuned", outputs=[1]))
    )
    [decl] = load_kernels(other)
    assert decl.name == "tuned"


def test_defaults_when_optional_keys_are_absent(tmp_path: Path) -> None:
    decl = load_one(tmp_path, saxpy_table())
    assert decl.rtol == 1e-7 and decl.atol == 0.0
    assert decl.reference is None
    assert decl.allow_fastmath is True
    assert decl.params == {}


def test_njit_dispatcher_is_declared_by_its_python_function(tmp_path: Path) -> None:
    decl = load_one(
        tmp_path, {"function": "jitted", "outputs": [1], "inputs": [{"shape": [3]}, {"shape": [1]}]}
    )
    assert decl.pyfunc.__name__ == "jitted"
    assert not hasattr(decl.pyfunc, "py_func")


@pytest.mark.parametrize("outputs", ["return", [RETURN, 0], 2])
def test_outputs_accept_indices_and_return(tmp_path: Path, outputs: Any) -> None:
    decl = load_one(tmp_path, saxpy_table(outputs=outputs))
    expected = tuple(outputs) if isinstance(outputs, list) else (outputs,)
    assert decl.outputs == expected


@pytest.mark.parametrize("init", ["make_inputs", "make_inputs_seeded"])
def test_init_function_receives_rng_or_seed_and_keywords(tmp_path: Path, init: str) -> None:
    decl = load_one(tmp_path, saxpy_table(inputs={"init": init, "n": 5}))
    a, x, y, out = decl.make_inputs(seed=1)
    assert a == 2.0
    assert x.shape == y.shape == out.shape == (5,)
    assert np.array_equal(x, decl.make_inputs(seed=1)[1])
    assert not np.array_equal(x, decl.make_inputs(seed=2)[1])


def test_params_table_kinds(tmp_path: Path) -> None:
    params = {
        "BLOCK": {"pow2": [8, 64], "default": 16},
        "UNROLL": {"int": [1, 9], "step": 2, "default": 3},
        "MODE": {"choices": ["a", "b", "c"], "default": "b"},
        "ORDER": {"permutation": ["i", "j", "k"]},
    }
    decl = load_one(tmp_path, saxpy_table(function="tuned", outputs=[1], params=params))
    assert decl.params == {
        "BLOCK": Pow2(8, 64, 16),
        "UNROLL": Int(1, 9, 2, 3),
        "MODE": Choice(("b", "a", "c")),
        "ORDER": Permutation(("i", "j", "k")),
    }
    assert decl.default_params() == {
        "BLOCK": 16,
        "UNROLL": 3,
        "MODE": "b",
        "ORDER": ["i", "j", "k"],
    }


# --- spec files: hypothesis -----------------------------------------------------------

DTYPES = ["float64", "float32", "int64", "int32", "uint8", "complex128"]


@st.composite
def array_specs(draw: st.DrawFn) -> dict[str, Any]:
    spec: dict[str, Any] = {"shape": draw(st.lists(st.integers(0, 5), max_size=3))}
    if draw(st.booleans()):
        spec["dtype"] = draw(st.sampled_from(DTYPES))
    fill = draw(st.sampled_from([None, "random", "normal", "zeros", "ones", "arange", "randint"]))
    if fill is not None:
        spec["fill"] = fill
    if fill == "randint":
        spec["low"] = draw(st.integers(0, 50))
        spec["high"] = spec["low"] + draw(st.integers(1, 50))
    return spec


@st.composite
def scalar_specs(draw: st.DrawFn) -> dict[str, Any]:
    dtype = draw(st.sampled_from(["float64", "float32", "int64", "int32", "uint8"]))
    if dtype.startswith("float"):
        value: Any = draw(st.floats(-1e3, 1e3, allow_nan=False))
    else:
        value = draw(st.integers(0, 100))
    return {"value": value, "dtype": dtype}


def check_argument(spec: dict[str, Any], arg: Any) -> None:
    dtype = np.dtype(spec.get("dtype", "float64"))
    if "value" in spec:
        assert isinstance(arg, np.generic) and arg.dtype == dtype
        assert arg == dtype.type(spec["value"])
        return
    assert isinstance(arg, np.ndarray)
    assert arg.shape == tuple(spec["shape"])
    assert arg.dtype == dtype
    fill = spec.get("fill", "random")
    if fill == "zeros":
        assert not arg.any()
    elif fill == "ones":
        assert (arg == 1).all()
    elif fill == "arange":
        assert np.array_equal(arg.ravel(), np.arange(arg.size, dtype=dtype))
    elif fill == "randint":
        assert ((spec["low"] <= arg) & (arg < spec["high"])).all()


per_example_files = settings(
    max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@per_example_files
@given(
    specs=st.lists(st.one_of(array_specs(), scalar_specs()), min_size=1, max_size=4),
    seed=st.integers(0, 2**32 - 1),
)
def test_valid_argument_specs_make_the_declared_arrays(
    specs: list[dict[str, Any]], seed: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        decl = load_one(Path(tmp), {"function": "anyargs", "outputs": [0], "inputs": specs})
        args = decl.make_inputs(seed)
        assert len(args) == len(specs)
        for spec, arg in zip(specs, args, strict=True):
            check_argument(spec, arg)
        for first, second in zip(args, decl.make_inputs(seed), strict=True):
            assert np.array_equal(first, second)


ascii_text = st.text("abcxyz_ 01.", max_size=6)
toml_scalars = st.one_of(
    st.booleans(), st.integers(-5, 5), st.floats(-5, 5, allow_nan=False), ascii_text
)
toml_values = st.one_of(
    toml_scalars,
    st.lists(toml_scalars, max_size=3),
    st.dictionaries(st.sampled_from(["k", "n"]), toml_scalars, max_size=2),
)


def _not_number(v: Any) -> bool:
    return isinstance(v, bool) or not isinstance(v, int | float)


def _not_a_shape(v: Any) -> bool:
    return not (
        isinstance(v, list)
        and all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in v)
    )


def _not_an_output(v: Any) -> bool:
    items = v if isinstance(v, list) else [v]
    return not items or any(
        i != RETURN and (not isinstance(i, int) or isinstance(i, bool) or not 0 <= i < 4)
        for i in items
    )


def _not_a_dtype(v: Any) -> bool:
    # Lists and tables are rejected separately below (numpy reads some as structured dtypes).
    if isinstance(v, list | dict):
        return False
    try:
        np.dtype(v)
    except TypeError:
        return True
    return False


# (where the bad value goes, the key it replaces, which values are invalid there)
INVALID_CASES = [
    ("kernel", "function", lambda v: not isinstance(v, str)),
    ("kernel", "reference", lambda v: not isinstance(v, str)),
    ("kernel", "rtol", lambda v: _not_number(v) or v < 0),
    ("kernel", "atol", lambda v: _not_number(v) or v < 0),
    ("kernel", "fastmath", lambda v: not isinstance(v, bool)),
    ("kernel", "outputs", _not_an_output),
    ("kernel", "params", lambda v: not isinstance(v, dict) or bool(v)),
    ("argument", "shape", _not_a_shape),
    ("argument", "dtype", _not_a_dtype),
    (
        "argument",
        "fill",
        lambda v: v not in ("random", "normal", "zeros", "ones", "arange", "randint"),
    ),
    ("scalar", "value", _not_number),
]


@settings(max_examples=120, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=st.sampled_from(INVALID_CASES), data=st.data())
def test_invalid_values_raise_input_error_naming_the_key(
    case: tuple[str, str, Any], data: st.DataObject
) -> None:
    where, key, invalid = case
    bad = data.draw(toml_values.filter(invalid), label=key)
    table = saxpy_table()
    if where == "kernel":
        table[key] = bad
    elif where == "argument":
        table["inputs"][1] = {**table["inputs"][1], key: bad}
    else:
        table["inputs"][0] = {"value": bad}
    with tempfile.TemporaryDirectory() as tmp:
        message = load_error(Path(tmp), table)
    assert key.rstrip("s") in message, message


# --- spec files: explicit errors ------------------------------------------------------


def test_missing_function_is_named(tmp_path: Path) -> None:
    message = load_error(tmp_path, saxpy_table(function="no_such_kernel"))
    assert "no_such_kernel" in message
    assert "kernel[0]" in message


def test_missing_reference_is_named(tmp_path: Path) -> None:
    message = load_error(tmp_path, saxpy_table(reference="no_such_ref"))
    assert "no_such_ref" in message


def test_module_global_that_is_not_a_function_is_refused(tmp_path: Path) -> None:
    assert "'BLOCK'" in load_error(tmp_path, saxpy_table(function="BLOCK"))


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"rtol": "1e-7"}, ["'rtol'", "non-negative finite number"]),
        ({"rtol": True}, ["'rtol'"]),
        ({"atol": -1.0}, ["'atol'"]),
        ({"outputs": "out"}, ["output 'out'"]),
        ({"outputs": [1.5]}, ["output 1.5"]),
        ({"outputs": [True]}, ["output True"]),
        ({"outputs": []}, ["'outputs' is required"]),
        ({"outputs": None}, ["'outputs' is required"]),
        ({"outputs": [7]}, ["output 7", "[0, 4)"]),
        ({"function": None}, ["'function' is required"]),
        ({"function": 3}, ["'function' must be a str"]),
        ({"fastmath": "yes"}, ["'fastmath' must be a bool"]),
        ({"inputs": None}, ["'inputs' is required"]),
        ({"inputs": []}, ["'inputs' must be"]),
        ({"inputs": "random"}, ["'inputs' must be"]),
        ({"inputs": [3]}, ["inputs[0]", "must be a table"]),
        ({"inputs": [{"shape": 16}]}, ["inputs[0]", "'shape'"]),
        ({"inputs": [{"shape": [4, -1]}]}, ["'shape'"]),
        ({"inputs": [{"shape": [4.0]}]}, ["'shape'"]),
        ({"inputs": [{"shape": [4], "dtype": "float65"}]}, ["unknown dtype 'float65'"]),
        ({"inputs": [{"shape": [4], "dtype": 64}]}, ["'dtype' must be a NumPy dtype name", "64"]),
        ({"inputs": [{"shape": [4], "fill": "uniform"}]}, ["'fill'", "uniform"]),
        ({"inputs": [{"value": "2"}]}, ["'value' must be a number"]),
        ({"inputs": [{"value": False}]}, ["'value' must be a number"]),
        ({"inputs": {"n": 4}}, ["'init' is required"]),
        ({"inputs": {"init": "nope"}}, ["'nope'"]),
        ({"rtoll": 1e-7}, ["unknown keys ['rtoll']"]),
    ],
)
def test_bad_kernel_tables_raise_one_line_input_errors(
    tmp_path: Path, changes: dict[str, Any], words: list[str]
) -> None:
    message = load_error(tmp_path, saxpy_table(**changes))
    for word in words:
        assert word in message, message


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"BLOCK": {"pow2": [8, 64], "int": [1, 2]}}, ["BLOCK", "exactly one of"]),
        ({"BLOCK": {"default": 8}}, ["BLOCK", "exactly one of"]),
        ({"BLOCK": 8}, ["BLOCK", "exactly one of"]),
        ({"BLOCK": {"pow2": [8, 60]}}, ["BLOCK", "powers of two"]),
        ({"BLOCK": {"pow2": [8]}}, ["BLOCK", "[low, high]"]),
        ({"BLOCK": {"pow2": [8, 64], "default": 12}}, ["BLOCK", "default 12"]),
        ({"UNROLL": {"int": [4, 1]}}, ["UNROLL", "invalid Int range"]),
        ({"UNROLL": {"int": [1, 4], "step": 0}}, ["UNROLL"]),
        ({"UNROLL": {"int": ["a", 4]}}, ["UNROLL"]),
        ({"MODE": {"choices": []}}, ["MODE", "non-empty list"]),
        ({"MODE": {"choices": "a"}}, ["MODE", "non-empty list"]),
        ({"MODE": {"choices": ["a", "a"]}}, ["MODE", "distinct"]),
        ({"ORDER": {"permutation": ["i", "i"]}}, ["ORDER", "distinct"]),
        ({"NEVER_READ": {"int": [1, 4]}}, ["'NEVER_READ' is never read"]),
    ],
)
def test_bad_params_raise_input_errors_naming_the_param(
    tmp_path: Path, params: dict[str, Any], words: list[str]
) -> None:
    message = load_error(tmp_path, saxpy_table(function="tuned", outputs=[1], params=params))
    for word in words:
        assert word in message, message


def test_params_must_be_a_table(tmp_path: Path) -> None:
    spec = kernel_toml(saxpy_table()) + 'params = "BLOCK"\n'
    with pytest.raises(InputError, match="'params' must be a table"):
        load_kernels(write_files(tmp_path, spec))


def test_int_param_bounds_must_be_integers(tmp_path: Path) -> None:
    load_error(
        tmp_path, saxpy_table(function="tuned", outputs=[1], params={"UNROLL": {"int": [0.5, 4]}})
    )


def test_choices_default_must_be_a_choice(tmp_path: Path) -> None:
    load_error(
        tmp_path,
        saxpy_table(
            function="tuned", outputs=[1], params={"MODE": {"choices": ["a", "b"], "default": "z"}}
        ),
    )


def test_permutation_default_is_honoured(tmp_path: Path) -> None:
    params = {"ORDER": {"permutation": ["i", "j"], "default": ["j", "i"]}}
    decl = load_one(tmp_path, saxpy_table(function="tuned", outputs=[1], params=params))
    assert decl.default_params() == {"ORDER": ["j", "i"]}


def test_unknown_keys_in_an_argument_table_are_rejected(tmp_path: Path) -> None:
    message = load_error(tmp_path, saxpy_table(inputs=[{"shape": [4], "dtpye": "int32"}]))
    assert "dtpye" in message


@pytest.mark.parametrize("dtype", [[], {}, {"k": "a"}], ids=["list", "table", "table-of-str"])
def test_dtype_must_be_a_string(tmp_path: Path, dtype: Any) -> None:
    message = load_error(tmp_path, saxpy_table(inputs=[{"shape": [4], "dtype": dtype}]))
    assert "dtype" in message


def test_randint_bounds_must_be_numbers(tmp_path: Path) -> None:
    inputs = [{"shape": [4], "fill": "randint", "low": "zero"}]
    load_error(tmp_path, saxpy_table(inputs=inputs))


def test_unknown_top_level_keys_are_rejected(tmp_path: Path) -> None:
    spec = 'modul = "kern.py"\n' + kernel_toml(saxpy_table())
    with pytest.raises(InputError, match=r"unknown top-level keys \['modul'\]"):
        load_kernels(write_files(tmp_path, spec))


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("", ["no [[kernel]] tables"]),
        ("kernel = 3\n", ["no [[kernel]] tables"]),
        ("[[kernel\n", ["invalid TOML"]),
        ('module = 5\n[[kernel]]\nfunction = "saxpy"\n', ["'module' must be"]),
        ('module = "missing.py"\n[[kernel]]\nfunction = "saxpy"\n', ["no such file"]),
    ],
)
def test_bad_spec_files(tmp_path: Path, spec: str, words: list[str]) -> None:
    with pytest.raises(InputError) as info:
        load_kernels(write_files(tmp_path, spec))
    for word in words:
        assert word in str(info.value)


def test_missing_spec_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="spec file not found"):
        load_kernels(tmp_path / "absent.autotune.toml")


# --- KernelDecl and @autotune.kernel --------------------------------------------------

BLOCK = 1
ORDER = ("a",)


def scaled(x):
    return x * BLOCK, ORDER


def never_reads(x):
    return x


def _one_arg(rng):
    return (rng.random(3),)


def test_bind_makes_params_visible_as_globals() -> None:
    decl = autotune.kernel(
        inputs=_one_arg,
        outputs=RETURN,
        params={"BLOCK": autotune.Pow2(1, 64), "ORDER": autotune.Permutation(("i", "j"))},
    )(scaled)
    bound = decl.bind({"BLOCK": 16, "ORDER": ["j", "i"]})
    # Permutations arrive as tuples: Numba needs them as compile-time constants.
    assert bound(2) == (32, ("j", "i"))
    assert bound.__name__ == "scaled"
    assert decl.bind(decl.default_params())(2) == (2, ("i", "j"))
    assert scaled(2) == (2, ("a",))  # the module's globals are untouched


def test_kernel_decorator_fills_the_declaration() -> None:
    decl = autotune.kernel(
        inputs=lambda rng, n: (rng.random(n),),
        outputs=0,
        sizes={"small": {"n": 3}, "large": {"n": 5}},
        params={"BLOCK": autotune.Int(1, 4)},
        fastmath=False,
        name="renamed",
    )(scaled)
    assert decl.name == "renamed"
    assert decl.outputs == (0,)
    assert decl.allow_fastmath is False
    assert decl.default_size == "small"
    assert decl.make_inputs(0)[0].shape == (3,)
    assert decl.make_inputs(0, "large")[0].shape == (5,)
    assert np.array_equal(decl.make_inputs(7)[0], decl.make_inputs(7)[0])
    with pytest.raises(InputError, match="no size 'huge'"):
        decl.make_inputs(0, "huge")


def test_param_never_read_by_the_kernel_is_refused() -> None:
    with pytest.raises(InputError, match="'BLOCK' is never read"):
        autotune.kernel(inputs=_one_arg, outputs=0, params={"BLOCK": autotune.Int(1, 4)})(
            never_reads
        )


@pytest.mark.parametrize("outputs", [1, -1, [0, 2], True, 0.0, "result", []])
def test_output_that_is_not_an_argument_index_is_refused(outputs: Any) -> None:
    with pytest.raises(InputError, match="output"):
        autotune.kernel(inputs=_one_arg, outputs=outputs)(never_reads)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"rtol": -1.0}, "rtol must be a non-negative finite number"),
        ({"atol": -1e-9}, "atol must be a non-negative finite number"),
        ({"inputs": [1, 2]}, "callable"),
        ({"params": {"BLOCK": 4}}, "autotune parameter"),
    ],
)
def test_bad_declarations_are_refused(kwargs: dict[str, Any], words: str) -> None:
    arguments: dict[str, Any] = {"inputs": _one_arg, "outputs": RETURN, **kwargs}
    with pytest.raises(InputError, match=words):
        autotune.kernel(**arguments)(scaled)


def test_declaration_without_sizes_is_refused() -> None:
    with pytest.raises(InputError, match="sizes"):
        KernelDecl(name="scaled", pyfunc=scaled, inputs=_one_arg, outputs=(RETURN,), sizes={})


def test_decorator_refuses_what_is_not_a_python_function() -> None:
    with pytest.raises(InputError, match="Python function"):
        autotune.kernel(inputs=_one_arg, outputs=RETURN)(len)


# --- loading source files -------------------------------------------------------------

DECORATED = """
import numpy as np
import autotune

SCALE = 2


@autotune.kernel(inputs=lambda rng: (rng.random(4), np.zeros(4)), outputs=[1],
                 params={"SCALE": autotune.Choice((2, 3))})
def double(x, out):
    out[:] = SCALE * x


@autotune.kernel(inputs=lambda rng: (rng.random(4),), outputs="return")
def total(x):
    return x.sum()
"""


def test_decorated_kernels_are_found(tmp_path: Path) -> None:
    path = tmp_path / "decorated_ok.py"
    path.write_text(DECORATED)
    decls = load_kernels(path)
    assert sorted(d.name for d in decls) == ["double", "total"]
    assert all(d.source == str(path.resolve()) for d in decls)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load_kernels(tmp_path / "absent.py")


def test_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken_syntax.py"
    path.write_text("import numpy\n\ndef f(x):\n    return x +\n")
    with pytest.raises(InputError) as info:
        load_kernels(path)
    assert f"{path}:4: syntax error" in str(info.value)


def test_import_failure_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "raises_on_import.py"
    path.write_text("x = 1\nraise RuntimeError('boom')\n")
    with pytest.raises(InputError) as info:
        load_kernels(path)
    assert str(info.value) == f"{path}:2: importing failed: RuntimeError: boom"


def test_file_without_kernels(tmp_path: Path) -> None:
    path = tmp_path / "no_kernels.py"
    path.write_text("def f(x):\n    return x\n")
    with pytest.raises(InputError, match="no kernels declared"):
        load_kernels(path)


def test_duplicate_kernel_names(tmp_path: Path) -> None:
    path = tmp_path / "dupes.py"
    path.write_text(
        textwrap.dedent("""
        import autotune

        @autotune.kernel(inputs=lambda rng: (1.0,), outputs="return", name="same")
        def first(x):
            return x

        @autotune.kernel(inputs=lambda rng: (1.0,), outputs="return", name="same")
        def second(x):
            return x
    """)
    )
    with pytest.raises(InputError, match=r"declared twice: \['same'\]"):
        load_kernels(path)


def test_decorated_kernel_and_spec_kernel_with_the_same_name(tmp_path: Path) -> None:
    module = MODULE + textwrap.dedent("""
        import autotune

        @autotune.kernel(inputs=lambda rng: (1.0,), outputs="return", name="saxpy")
        def decorated(x):
            return x
    """)
    write_files(tmp_path, kernel_toml(saxpy_table()), module=module, stem="both_ways")
    with pytest.raises(InputError, match=r"declared twice: \['saxpy'\]"):
        load_kernels(tmp_path / "both_ways.py")


@pytest.mark.parametrize(
    ("extra", "function"),
    [
        ("from math import sqrt\n", "sqrt"),
        (DECORATED, "total"),
    ],
    ids=["builtin", "decorated-kernel"],
)
def test_spec_function_that_is_not_a_python_function_is_an_input_error(
    tmp_path: Path, extra: str, function: str
) -> None:
    table = saxpy_table(function=function, outputs="return", inputs=[{"value": 1.0}])
    write_files(tmp_path, kernel_toml(table), module=MODULE + extra, stem="odd_function")
    with pytest.raises(InputError, match=function):
        load_kernels(tmp_path / "odd_function.autotune.toml")


def test_spec_naming_another_module_than_the_source_is_refused(tmp_path: Path) -> None:
    write_files(tmp_path, kernel_toml(saxpy_table()), stem="first_src")
    other = tmp_path / "other_spec.toml"
    other.write_text('module = "first_src.py"\n' + kernel_toml(saxpy_table()))
    (tmp_path / "second_src.py").write_text(MODULE)
    with pytest.raises(InputError, match="names module"):
        load_kernels(tmp_path / "second_src.py", spec=other)


def test_param_tables_round_trip_through_their_spec_form():
    from autotune.kernels._spec import param_from_spec, param_to_spec
    from autotune.space import Choice, Int, Permutation, Pow2

    for param in (
        Int(0, 10, 2, 4),
        Pow2(4, 64, 16),
        Choice(("b", "a", "c")),
        Permutation(("j", "i")),
    ):
        again = param_from_spec("p", param_to_spec(param))
        assert again == param
        assert again.default == param.default
