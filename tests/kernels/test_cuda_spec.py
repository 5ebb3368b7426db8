"""CUDA kernels in spec files: loading through the ``.cu`` file or the spec, mixing them
with CPU kernels, and one-line errors for every malformed table."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autotune.errors import InputError
from autotune.kernels import CudaKernelDecl, Expr, KernelDecl, declares_kernels, load_kernels
from autotune.space import Choice, Pow2
from tests.kernels._helpers import kernel_toml, toml_value

SCALE_CU = """
extern "C" __global__ void scale(float* x, float a, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] *= a;
}
"""

TILED_CU = """
template <int BM, bool FAST>
__global__ void tiled(const float* a, float* b, int n) {}
"""

REFS = """
def scale_ref(x, a, n):
    return x * a
"""

CPU_MODULE = """
def double(x, out):
    for i in range(x.shape[0]):
        out[i] = 2 * x[i]


def scale_ref(x, a, n):
    x *= a
"""


def scale_table(**changes: Any) -> dict[str, Any]:
    table: dict[str, Any] = {
        "source": "scale.cu",
        "name": "scale",
        "outputs": ["x"],
        "grid": ["ceil_div(N, BLOCK)"],
        "block": ["BLOCK"],
        "inputs": [
            {"name": "x", "shape": ["N"], "dtype": "float32", "fill": "random"},
            {"name": "a", "value": 2.5, "dtype": "float32"},
            {"name": "n", "value": "N", "dtype": "int32"},
        ],
        "sizes": {"small": {"N": 1000}, "large": {"N": 4096}},
        "params": {"BLOCK": {"pow2": [32, 1024], "default": 256}},
    }
    table.update(changes)
    return {k: v for k, v in table.items() if v is not None}


def write_project(
    directory: Path, *tables: dict[str, Any], files: dict[str, str] | None = None
) -> Path:
    """``scale.cu`` (and ``files``) and the spec ``scale.autotune.toml``; the spec's path."""
    (directory / "scale.cu").write_text(SCALE_CU)
    for name, text in (files or {}).items():
        (directory / name).write_text(text)
    spec = directory / "scale.autotune.toml"
    spec.write_text("\n".join(kernel_toml(dict(t)) for t in tables))
    return spec


def load_one(directory: Path, table: dict[str, Any], **files: str) -> CudaKernelDecl:
    [decl] = load_kernels(write_project(directory, table, files=files))
    assert isinstance(decl, CudaKernelDecl)
    return decl


def load_error(directory: Path, *tables: dict[str, Any], entry: str = "spec", **files: str) -> str:
    spec = write_project(directory, *tables, files=files)
    with pytest.raises(InputError) as info:
        load_kernels(directory / "scale.cu" if entry == "cu" else spec)
    message = str(info.value)
    assert "\n" not in message
    return message


# --- loading --------------------------------------------------------------------------------


def test_a_cuda_source_loads_through_the_spec_beside_it(tmp_path: Path) -> None:
    spec = write_project(tmp_path, scale_table())
    [through_cu] = load_kernels(tmp_path / "scale.cu")
    [through_spec] = load_kernels(spec)
    for decl in (through_cu, through_spec):
        assert isinstance(decl, CudaKernelDecl)
        assert decl.name == decl.entry == "scale"
        assert decl.source == str((tmp_path / "scale.cu").resolve())
        assert decl.code == SCALE_CU
        assert decl.arg_names == ("x", "a", "n") and decl.outputs == (0,)
        assert decl.params == {"BLOCK": Pow2(32, 1024, 256)}
        assert decl.rtol == 1e-5 and decl.atol == 1e-6 and decl.reference is None
        assert decl.geometry(decl.default_params()) == ((4, 1, 1), (256, 1, 1), 0)
    assert declares_kernels(tmp_path / "scale.cu")


def test_every_key_of_the_schema_reaches_the_declaration(tmp_path: Path) -> None:
    (tmp_path / "tiled.cu").write_text(TILED_CU)
    table = {
        "source": "tiled.cu",
        "name": "tiled",
        "label": "tiled_f32",
        "inject": "template",
        "template_params": ["BM", "FAST"],
        "outputs": ["b"],
        "rtol": 1e-4,
        "atol": 1e-5,
        "perturb": 0.01,
        "reference": "refs.py:scale_ref",
        "grid": ["ceil_div(N, BM)", 1],
        "block": 128,
        "shared_mem": "BM * 4",
        "restrictions": ["BM <= N"],
        "options": ["--std=c++17"],
        "flops": "N",
        "bytes": "8 * N",
        "roofline": "copy",
        "inputs": [
            {"shape": ["N"], "dtype": "float32", "fill": "randint", "low": -1, "high": 2},
            {"shape": ["N"], "dtype": "float32", "fill": "zeros"},
            {"value": "N", "dtype": "int32"},
        ],
        "sizes": {"small": {"N": 512}},
        "compiler": {"fast_math": {"choices": [False, True]}, "maxrregcount": {"choices": [0, 64]}},
        "params": {
            "BM": {"choices": [64, 128], "default": 128},
            "FAST": {"choices": [True, False]},
        },
    }
    decl = load_one(tmp_path, table, **{"refs.py": REFS})
    assert decl.name == "tiled_f32" and decl.entry == "tiled"
    assert decl.arg_names == ("a", "b", "n")  # the kernel's own parameter names
    assert decl.outputs == (1,)
    assert (decl.rtol, decl.atol, decl.perturb) == (1e-4, 1e-5, 0.01)
    assert decl.grid == (Expr("ceil_div(N, BM)"), Expr(1)) and decl.block == (Expr(128),)
    assert decl.restrictions == (Expr("BM <= N"),)
    assert decl.flops == Expr("N") and decl.bytes_moved == Expr("8 * N")
    assert decl.roofline == "copy" and decl.options == ("--std=c++17",)
    assert decl.compiler == {"fast_math": Choice((False, True)), "maxrregcount": Choice((0, 64))}
    assert decl.name_expression(decl.default_params()) == "tiled<128, true>"
    assert decl.geometry(decl.default_params()) == ((4, 1, 1), (128, 1, 1), 512)
    assert decl.performance(None, decl.default_params()) == (512.0, 4096.0)
    assert decl.nvrtc_options({"fast_math": True, "maxrregcount": 64}) == [
        "--std=c++17",
        "--use_fast_math",
        "--maxrregcount=64",
    ]
    a, b, n = decl.make_inputs(0)
    assert set(np.unique(a)) <= {-1, 0, 1} and not b.any() and n == 512


def test_a_reference_may_return_the_output(tmp_path: Path) -> None:
    decl = load_one(tmp_path, scale_table(reference="refs.py:scale_ref"), **{"refs.py": REFS})
    x, a, n = decl.make_inputs(0)
    before = x.copy()
    assert decl.reference is not None
    decl.reference(x, a, n)
    assert np.array_equal(x, before * np.float32(2.5))


def test_a_cuda_only_spec_imports_no_python_module(tmp_path: Path) -> None:
    crash = "raise RuntimeError('imported')\n"
    decl = load_one(tmp_path, scale_table(), **{"scale.py": crash})
    assert decl.name == "scale"
    assert not any(name.endswith("scale") for name in sys.modules if "autotune_src" in name)


def test_a_bare_reference_is_a_function_of_the_spec_module(tmp_path: Path) -> None:
    decl = load_one(tmp_path, scale_table(reference="scale_ref"), **{"scale.py": CPU_MODULE})
    assert decl.reference is not None and decl.reference.__name__ == "scale_ref"


def test_a_spec_may_mix_cpu_and_cuda_kernels(tmp_path: Path) -> None:
    cpu = {"function": "double", "outputs": [1], "inputs": [{"shape": [8]}, {"shape": [8]}]}
    spec = write_project(tmp_path, scale_table(), cpu, files={"scale.py": CPU_MODULE})
    cuda, plain = load_kernels(spec)
    assert isinstance(cuda, CudaKernelDecl) and isinstance(plain, KernelDecl)
    assert plain.source == str((tmp_path / "scale.py").resolve())
    assert [d.name for d in load_kernels(tmp_path / "scale.cu")] == ["scale", "double"]
    assert [d.name for d in load_kernels(tmp_path / "scale.py")] == ["scale", "double"]


def test_a_cuda_source_with_a_spec_of_another_name(tmp_path: Path) -> None:
    spec = write_project(tmp_path, scale_table())
    other = spec.rename(tmp_path / "kernels.toml")
    [decl] = load_kernels(tmp_path / "scale.cu", other)
    assert decl.name == "scale"
    assert not declares_kernels(tmp_path / "scale.cu")


def test_a_cuda_source_without_a_spec_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "scale.cu").write_text(SCALE_CU)
    with pytest.raises(InputError) as info:
        load_kernels(tmp_path / "scale.cu")
    message = str(info.value)
    assert "no spec file scale.autotune.toml" in message
    assert "declares the kernels of a CUDA source" in message
    with pytest.raises(InputError, match="no such file"):
        load_kernels(tmp_path / "none.cuh")


def test_a_spec_that_declares_no_kernel_of_the_source(tmp_path: Path) -> None:
    (tmp_path / "other.cu").write_text(SCALE_CU)
    message = load_error(tmp_path, scale_table(source="other.cu"), entry="cu")
    assert "declares no kernel of" in message and "scale.cu" in message


def test_two_kernels_of_one_name_are_refused(tmp_path: Path) -> None:
    message = load_error(tmp_path, scale_table(), scale_table())
    assert "kernel names declared twice: ['scale']" in message


# --- malformed tables ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"function": "scale"}, "give 'function' (a Python kernel) or 'source'"),
        ({"source": None, "function": None}, "'function' is required (or 'source'"),
        ({"sourse": "x"}, "unknown keys ['sourse']"),
        ({"source": 3}, "'source' must be a str"),
        ({"source": ""}, "'source' must name a CUDA file"),
        ({"source": "none.cu"}, "no such CUDA source"),
        ({"source": "a\x00b.cu"}, "is not a valid path"),
        ({"name": None}, "'name' is required"),
        ({"name": "missing"}, "has no __global__ function 'missing'"),
        ({"label": 3}, "'label' must be a str"),
        ({"outputs": None}, "'outputs' is required"),
        ({"outputs": ["y"]}, "output 'y' must be an argument index or one of ['x', 'a', 'n']"),
        ({"outputs": [5]}, "output 5 is not an argument index in [0, 3)"),
        ({"outputs": [1]}, "output 1 (a) is a scalar"),
        ({"grid": None}, "'grid' is required"),
        ({"grid": ["N ** ** 2"]}, "grid[0]: expression 'N ** ** 2': invalid syntax"),
        ({"grid": [{"a": 1}]}, "grid[0] must be an expression"),
        ({"block": ["BLOCK.x"]}, "attribute access is not allowed"),
        ({"block": ["THREADS"]}, "reads THREADS: neither a parameter nor a key of every size"),
        ({"shared_mem": [1, 2]}, "shared_mem must be an expression"),
        ({"restrictions": ["BLOCK > 2048"]}, "the default parameters {'BLOCK': 256} are invalid"),
        ({"restrictions": [1.5, "open(1)"]}, "calling 'open' is not allowed"),
        ({"options": "--std=c++17"}, "options must be a list of strings"),
        ({"options": ["-DBLOCK=1"]}, "option '-DBLOCK=1' sets what is tuned"),
        ({"flops": "N / 0"}, "flops: expression 'N / 0': ZeroDivisionError"),
        ({"bytes": "-N"}, "bytes = '-N' gives -1000"),
        ({"roofline": "gemv"}, "roofline must be one of ('gemm', 'copy')"),
        ({"roofline": 1}, "'roofline' must be a str"),
        ({"inject": "macro"}, "inject must be one of ('define', 'template')"),
        ({"template_params": ["BLOCK"]}, 'template_params need inject = "template"'),
        ({"rtol": "1e-5"}, "'rtol' must be a non-negative finite number"),
        ({"atol": -1}, "'atol' must be a non-negative finite number"),
        ({"perturb": 1.0}, "'perturb' must be a finite number in [0, 0.1]"),
        ({"reference": 3}, "'reference' must be a str"),
        ({"reference": "nope.py:f"}, "reference module 'nope.py' not found"),
        ({"reference": "scale_ref"}, "which does not exist; write 'file.py:function'"),
        ({"reference": "no_such_package_xyz:f"}, "cannot import reference module"),
        ({"reference": ":f"}, "reference ':f' must be 'function' or 'module:function'"),
        ({"sizes": None}, "'sizes' is required"),
        ({"sizes": {}}, "sizes must map at least one size name"),
        ({"sizes": {"small": {"N": 1.5}}}, "size 'small': N must be an integer, got 1.5"),
        ({"sizes": {"small": 3}}, "size 'small' must map size keys to integers"),
        ({"sizes": {"small": {"N": -4}}}, "inputs[0] at size 'small': 'shape' must be a list of"),
        ({"sizes": {"small": {"N": 2**40}}}, "'value' 1099511627776 does not fit dtype int32"),
        (
            {
                "sizes": {"small": {"N": 2**40}},
                "inputs": [
                    {"shape": ["N"], "dtype": "f4"},
                    {"value": 1, "dtype": "f4"},
                    {"value": "N", "dtype": "int64"},
                ],
            },
            "inputs at size 'small': inputs need 4.0 TiB",
        ),
        ({"params": {"BLOCK": {"pow2": [32, 1000]}}}, "params.BLOCK: Pow2 bounds must be powers"),
        ({"params": {"N": {"choices": [1]}}}, "parameter 'N' must be named like a C macro"),
        ({"params": 3}, "'params' must be a table"),
        ({"compiler": 3}, "'compiler' must be a table"),
        ({"compiler": {"O3": {"choices": [True]}}}, "unknown compiler option 'O3'; known: "),
        ({"compiler": {"ftz": {"int": [0, 1]}}}, "'ftz' takes true or false, got 0"),
        ({"compiler": {"ftz": True}}, "compiler.ftz: give exactly one of"),
        ({"inputs": None}, "'inputs' is required"),
        ({"inputs": {"init": "make"}}, "'inputs' must be a list of argument tables"),
        ({"inputs": [3]}, "inputs[0]: must be a table"),
        ({"inputs": [{"name": "x", "shape": ["N"]}]}, "inputs[0]: 'dtype' is required"),
        ({"inputs": [{"shape": ["N"], "dtype": "float128"}]}, "not one CUDA kernels take"),
        ({"inputs": [{"shape": ["N"], "dtype": "f4", "colour": 1}]}, "unknown keys ['colour']"),
        ({"inputs": [{"dtype": "float32"}]}, "give 'shape' (an array) or 'value' (a scalar)"),
        ({"inputs": [{"shape": [1], "value": 1, "dtype": "f4"}]}, "give 'shape' (an array) or"),
        (
            {"inputs": [{"value": 1, "fill": "ones", "dtype": "f4"}]},
            "are for arrays, not a 'value'",
        ),
        ({"inputs": [{"shape": "N", "dtype": "f4"}]}, "'shape' must be a list of sizes"),
        ({"inputs": [{"shape": ["M"], "dtype": "f4"}]}, "expression 'M': unknown name 'M'"),
        ({"inputs": [{"shape": ["N / 2"], "dtype": "f4"}]}, "'shape' must be a list of non-neg"),
        ({"inputs": [{"shape": ["N"], "dtype": "f4", "fill": "uniform"}]}, "'fill' must be one"),
        ({"inputs": [{"value": "1 / 0", "dtype": "f4"}]}, "'value': expression '1 / 0'"),
        ({"inputs": [{"value": "N > 1", "dtype": "f4"}]}, "'value' must be a number, got True"),
        ({"inputs": [{"name": "1x", "value": 1, "dtype": "f4"}]}, "'name' must be named like a C"),
        (
            {"inputs": [{"name": "x", "value": 1, "dtype": "f4"}] * 3},
            "argument names must be distinct",
        ),
        (
            {"inputs": [{"name": "x", "shape": ["N"], "dtype": "f4"}]},
            "1 arguments (x) for the 3 parameters of scale(x, a, n)",
        ),
    ],
)
def test_malformed_tables_raise_one_line_errors_naming_the_spec(
    tmp_path: Path, changes: dict[str, Any], words: str
) -> None:
    message = load_error(tmp_path, scale_table(**changes))
    assert words in message, message
    assert message.startswith(f"{tmp_path / 'scale.autotune.toml'}: kernel[0]"), message


# --- fuzzing -------------------------------------------------------------------------------

expression_text = st.one_of(
    st.sampled_from(["N", "BLOCK", "ceil_div(N, BLOCK)", "N // 0", "2 ** 99999", "x.y", "M"]),
    st.text("NBLOCK0123456789+-*/()<=% ", max_size=12),
)
scalars = st.one_of(
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
    expression_text,
)
values = st.one_of(
    scalars,
    st.lists(scalars, max_size=4),
    st.dictionaries(st.sampled_from(["N", "x", "choices", "pow2", "small"]), scalars, max_size=2),
    st.dictionaries(
        st.sampled_from(["small", "BLOCK", "fast_math"]),
        st.dictionaries(st.sampled_from(["N", "choices", "int"]), scalars, max_size=2),
        max_size=2,
    ),
)
TABLE_KEYS = [
    *sorted(scale_table()),
    "label",
    "inject",
    "template_params",
    "rtol",
    "reference",
    "shared_mem",
    "restrictions",
    "options",
    "flops",
    "bytes",
    "roofline",
    "compiler",
    "function",
]
ARGUMENT_KEYS = ["name", "shape", "dtype", "fill", "low", "high", "value", "other"]


@settings(
    max_examples=int(__import__("os").environ.get("FUZZ_N", "150")),
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    key=st.sampled_from(TABLE_KEYS),
    value=values,
    argument=st.integers(0, 2),
    argument_key=st.sampled_from(ARGUMENT_KEYS),
    argument_value=values,
    through_cu=st.booleans(),
)
def test_fuzzed_tables_load_or_fail_with_one_input_error(
    key: str,
    value: Any,
    argument: int,
    argument_key: str,
    argument_value: Any,
    through_cu: bool,
) -> None:
    table = scale_table()
    table[key] = value
    arguments = table.get("inputs")
    chosen = (
        arguments[argument % len(arguments)] if isinstance(arguments, list) and arguments else None
    )
    if isinstance(chosen, dict):
        chosen[argument_key] = argument_value
    try:
        toml_value(table)
    except TypeError:
        return  # not writable as TOML
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        spec = write_project(directory, table)
        try:
            decls = load_kernels(directory / "scale.cu" if through_cu else spec)
        except InputError as exc:
            message = str(exc)
            assert "\n" not in message
            assert str(directory) in message, message
            return
    for decl in decls:
        assert isinstance(decl, CudaKernelDecl | KernelDecl)
