"""CUDA kernel declarations made in Python: launch geometry, restrictions, what reaches
NVRTC, inputs and references. Nothing here needs a GPU, CuPy or NVRTC."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autotune.errors import InputError
from autotune.kernels import CudaKernelDecl, Expr, cuda_kernel, load_kernels
from autotune.kernels._cuda_decl import kernel_parameters
from autotune.space import Bool, Choice, Int, Permutation, Pow2

SCALE = """
// Scales x by a in place.
extern "C" __global__ void scale(float* x, float a, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] *= a;
}
"""

TILED = """
template <int BM, bool FAST>
__global__ void __launch_bounds__(256) tiled(const float* __restrict__ a, float* b, int n) {}
"""

SCALE_INPUTS = [
    {"name": "x", "shape": ["N"], "dtype": "float32", "fill": "random"},
    {"name": "a", "value": 2.5, "dtype": "float32"},
    {"name": "n", "value": "N", "dtype": "int32"},
]


def declare(**changes: Any) -> CudaKernelDecl:
    arguments: dict[str, Any] = {
        "entry": "scale",
        "code": SCALE,
        "inputs": SCALE_INPUTS,
        "outputs": ["x"],
        "grid": ["ceil_div(N, BLOCK)"],
        "block": ["BLOCK"],
        "sizes": {"small": {"N": 1000}, "large": {"N": 4096}},
        "params": {"BLOCK": Pow2(32, 1024, 256)},
        "reference": scale_reference,
    }
    arguments.update(changes)
    return cuda_kernel(**{k: v for k, v in arguments.items() if v is not None})


def error_of(**changes: Any) -> str:
    with pytest.raises(InputError) as info:
        declare(**changes)
    message = str(info.value)
    assert "\n" not in message
    return message


def scale_reference(x: np.ndarray, a: np.float32, n: np.int32) -> None:
    x *= a


# --- the declaration ---------------------------------------------------------------------


def test_a_declaration_holds_what_it_was_given() -> None:
    decl = declare(rtol=1e-4, options=["--std=c++17"], flops="N", bytes_moved="8 * N")
    assert decl.name == decl.entry == "scale"
    assert decl.code == SCALE and decl.source == ""
    assert decl.arg_names == ("x", "a", "n")
    assert decl.arg_dtypes == (np.dtype("float32"), np.dtype("float32"), np.dtype("int32"))
    assert decl.outputs == (0,)
    assert decl.grid == (Expr("ceil_div(N, BLOCK)"),) and decl.block == (Expr("BLOCK"),)
    assert decl.shared_mem == Expr(0)
    assert decl.options == ("--std=c++17",)
    assert decl.default_size == "small"
    assert decl.default_params() == {"BLOCK": 256}
    assert decl.default_compiler() == {}
    assert decl.backend == CudaKernelDecl.backend == "cuda"
    assert decl.njit_options == {}
    assert decl.declared_in == __name__


def test_as_baseline_is_the_kernel_as_written_for_every_kind() -> None:
    decl = declare()
    assert decl.as_baseline("as-written") is decl
    assert decl.as_baseline("numba-default") is decl
    with pytest.raises(ValueError, match="unknown baseline 'fast'"):
        decl.as_baseline("fast")


def test_the_label_may_differ_from_the_entry() -> None:
    assert declare(name="scale_f32").name == "scale_f32"


def test_kernel_parameters_are_read_from_the_code() -> None:
    assert kernel_parameters(SCALE, "scale") == ("x", "a", "n")
    assert kernel_parameters(TILED, "tiled") == ("a", "b", "n")
    assert kernel_parameters("__global__ void f(void) {}", "f") == ()
    assert kernel_parameters("__global__ void f(ARGS) {}", "f") is None  # a macro
    assert kernel_parameters("__global__ void f(float*, int) {}", "f") is None  # unnamed
    assert kernel_parameters("// __global__ void f(int a)\n", "f") is None  # a comment


# --- geometry and restrictions -----------------------------------------------------------


def test_geometry_is_padded_to_three_dimensions() -> None:
    decl = declare(shared_mem="BLOCK * 4")
    assert decl.geometry({"BLOCK": 256}) == ((4, 1, 1), (256, 1, 1), 1024)
    assert decl.geometry({"BLOCK": 1024}, "large") == ((4, 1, 1), (1024, 1, 1), 4096)
    grid2d = declare(grid=["N // 100", 2, "1"], block=[32, "BLOCK // 32"])
    assert grid2d.geometry({"BLOCK": 64}) == ((10, 2, 1), (32, 2, 1), 0)


@settings(max_examples=50)
@given(block=st.sampled_from([32, 64, 128, 256, 512, 1024]), n=st.integers(1, 10**6))
def test_the_grid_covers_every_element(block: int, n: int) -> None:
    decl = declare(sizes={"s": {"N": n}})
    (blocks, _, _), (threads, _, _), _ = decl.geometry({"BLOCK": block})
    assert (blocks - 1) * threads < n <= blocks * threads


@pytest.mark.parametrize(
    ("changes", "params", "words"),
    [
        ({"grid": ["N // BLOCK"]}, {"BLOCK": 2048}, "grid[0] = 'N // BLOCK' gives 0"),
        ({"grid": ["1 if BLOCK == 256 else N / 250"]}, {"BLOCK": 64}, "gives 4.0; it must be"),
        ({"block": ["BLOCK if BLOCK == 256 else BLOCK > 0"]}, {"BLOCK": 64}, "gives True; it"),
        ({"shared_mem": "BLOCK - 200"}, {"BLOCK": 64}, "shared_mem = 'BLOCK - 200' gives -136"),
        ({"grid": ["N // (BLOCK - 64)"]}, {"BLOCK": 64}, "ZeroDivisionError"),
    ],
)
def test_geometry_refuses_what_cannot_be_launched(
    changes: dict[str, Any], params: dict[str, int], words: str
) -> None:
    decl = declare(**changes)
    with pytest.raises(InputError) as info:
        decl.geometry(params)
    assert words in str(info.value) and "\n" not in str(info.value)
    assert words in (decl.violated(params) or "")


def test_geometry_needs_every_parameter_an_expression_reads() -> None:
    with pytest.raises(InputError, match="unknown name 'BLOCK'"):
        declare().geometry({})


def test_an_unknown_size_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"no size 'huge'; known: \['small', 'large'\]"):
        declare().geometry({"BLOCK": 64}, "huge")


def test_violated_names_the_first_false_restriction() -> None:
    decl = declare(restrictions=["BLOCK >= 64", "N % BLOCK != 7", "BLOCK <= 512"])
    assert decl.violated({"BLOCK": 256}) is None
    assert decl.violated({"BLOCK": 32}) == "BLOCK >= 64"
    assert decl.violated({"BLOCK": 1024}) == "BLOCK <= 512"
    assert decl.violated({"BLOCK": 1024, "other": 1}) == "BLOCK <= 512"  # other keys ignored


def test_violated_reports_restrictions_that_cannot_be_evaluated() -> None:
    decl = declare(restrictions=["N % (BLOCK - 64) == 0 or True"])
    why = decl.violated({"BLOCK": 64})
    assert why is not None and "cannot be evaluated" in why and "ZeroDivisionError" in why


@pytest.mark.parametrize(
    ("block", "why"),
    [
        (["BLOCK", 2], "has 2048 threads; at most 1024"),
        ([1, 1, "BLOCK // 8"], "block dimension z is 128; at most 64"),
    ],
)
def test_violated_reports_blocks_no_device_can_launch(block: list[Any], why: str) -> None:
    decl = declare(block=block)
    assert why in (decl.violated({"BLOCK": 1024}) or "")


def test_violated_reports_grids_no_device_can_launch() -> None:
    decl = declare(grid=[1, "N * 100 if BLOCK == 64 else 1"])
    assert decl.violated({"BLOCK": 64}) == "grid dimension y is 100000; at most 65535"


def test_performance_evaluates_the_model() -> None:
    decl = declare(flops="2 * N", bytes_moved="8 * N")
    assert decl.performance("large", {"BLOCK": 64}) == (8192.0, 32768.0)
    assert declare().performance(None, {"BLOCK": 64}) == (None, None)


def test_a_negative_performance_model_is_refused() -> None:
    assert "finite non-negative number" in error_of(flops="N - 2000")


# --- what reaches NVRTC --------------------------------------------------------------------


def test_defines_pass_each_parameter_as_a_macro() -> None:
    decl = declare(
        params={"BLOCK": Pow2(32, 1024, 256), "FAST": Bool(True), "MODE": Choice(("warp", "x"))}
    )
    assert decl.defines({"BLOCK": 64, "FAST": False, "MODE": "warp", "other": 1}) == [
        "-DBLOCK=64",
        "-DFAST=0",
        "-DMODE=warp",
    ]
    assert decl.template_arguments({"BLOCK": 64}) == []
    assert decl.name_expression({"BLOCK": 64}) == "scale"
    with pytest.raises(InputError, match="no value for the parameter 'FAST'"):
        decl.defines({"BLOCK": 64})


def test_template_parameters_become_template_arguments_in_their_order() -> None:
    decl = declare(
        entry="tiled",
        code=TILED,
        inputs=[
            {"shape": ["N"], "dtype": "float32"},
            {"shape": ["N"], "dtype": "float32", "fill": "zeros"},
            {"value": "N", "dtype": "int32"},
        ],
        outputs=["b"],
        block=[256],
        grid=["ceil_div(N, BM)"],
        inject="template",
        template_params=["BM", "FAST"],
        params={"FAST": Bool(True), "BM": Choice((64, 128))},
    )
    assert decl.arg_names == ("a", "b", "n")  # from the kernel's parameters
    assert decl.template_arguments({"BM": 128, "FAST": True}) == ["128", "true"]
    assert decl.name_expression({"BM": 128, "FAST": False}) == "tiled<128, false>"
    assert decl.defines({"BM": 128, "FAST": False}) == []


def test_nvrtc_options_map_tuned_options_to_flags_in_a_fixed_order() -> None:
    decl = declare(
        options=["--std=c++17", "-lineinfo"],
        compiler={
            "maxrregcount": Choice((0, 64)),
            "extra_device_vectorization": Bool(),
            "fmad": Bool(True),
            "prec_sqrt": Bool(True),
            "prec_div": Bool(True),
            "ftz": Bool(),
            "fast_math": Bool(),
        },
    )
    assert decl.nvrtc_options(decl.default_compiler()) == [
        "--std=c++17",
        "-lineinfo",
        "--ftz=false",
        "--prec-div=true",
        "--prec-sqrt=true",
        "--fmad=true",
    ]
    tuned = {
        "fast_math": True,
        "maxrregcount": 64,
        "ftz": True,
        "prec_div": False,
        "prec_sqrt": False,
        "fmad": False,
        "extra_device_vectorization": True,
    }
    assert decl.nvrtc_options(tuned) == [
        "--std=c++17",
        "-lineinfo",
        "--use_fast_math",
        "--maxrregcount=64",
        "--ftz=true",
        "--prec-div=false",
        "--prec-sqrt=false",
        "--fmad=false",
        "--extra-device-vectorization",
    ]


def test_nvrtc_options_refuse_missing_and_mistyped_values() -> None:
    decl = declare(compiler={"fast_math": Bool(), "maxrregcount": Int(0, 255)})
    with pytest.raises(InputError, match="no value for compiler option 'maxrregcount'"):
        decl.nvrtc_options({"fast_math": True})
    with pytest.raises(InputError, match="'fast_math' takes true or false, got 1"):
        decl.nvrtc_options({"fast_math": 1, "maxrregcount": 0})
    with pytest.raises(InputError, match="'maxrregcount' takes integers of at least 0"):
        decl.nvrtc_options({"fast_math": True, "maxrregcount": -1})
    assert declare().nvrtc_options({}) == []


# --- inputs and the reference ------------------------------------------------------------


def test_inputs_are_made_from_the_tables_and_depend_only_on_the_seed() -> None:
    decl = declare()
    x, a, n = decl.make_inputs(7, "large")
    assert x.shape == (4096,) and x.dtype == np.float32
    assert a == np.float32(2.5) and isinstance(a, np.float32)
    assert n == 4096 and isinstance(n, np.int32)
    again = decl.make_inputs(7, "large")
    assert np.array_equal(x, again[0])
    assert not np.array_equal(decl.make_inputs(8, "large")[0], x)
    assert decl.make_inputs(7)[0].shape == (1000,)


def test_input_sets_are_the_seed_and_the_next_one() -> None:
    decl = declare()
    timed, held_back = decl.input_sets(3, None)
    assert np.array_equal(timed[0], decl.make_inputs(3)[0])
    assert np.array_equal(held_back[0], decl.make_inputs(4)[0])


def test_identical_input_sets_are_perturbed_when_asked() -> None:
    ones = [{"name": "x", "shape": ["N"], "dtype": "float32", "fill": "ones"}, *SCALE_INPUTS[1:]]
    timed, held_back = declare(inputs=ones, perturb=0.05).input_sets(0, None)
    assert (timed[0] == 1).all() and not (held_back[0] == 1).all()
    assert np.allclose(held_back[0], 1, rtol=0.05)
    same = declare(inputs=ones).input_sets(0, None)
    assert np.array_equal(same[0][0], same[1][0])


def test_a_factory_may_make_the_inputs() -> None:
    def make(rng: np.random.Generator, N: int) -> tuple[Any, ...]:
        return rng.random(N).astype(np.float32), np.float32(2), np.int32(N)

    decl = declare(inputs=make, arg_dtypes=["float32", np.float32, np.dtype("int32")])
    assert decl.arg_names == ("x", "a", "n")
    assert decl.make_inputs(0)[0].shape == (1000,)


@pytest.mark.parametrize(
    ("made", "words"),
    [
        (lambda rng, N: (np.zeros(N, np.float32), np.float32(2)), "give 2 arguments for the 3"),
        (lambda rng, N: np.zeros(N), "must return the argument tuple"),
        (
            lambda rng, N: (np.zeros(N), np.float32(2), np.int32(N)),
            "argument 0 (x) must be a NumPy array or scalar of dtype float32, got float64",
        ),
        (lambda rng, N: (np.zeros(N, np.float32), 2.0, np.int32(N)), "got float"),
    ],
)
def test_factory_results_are_checked(made: Any, words: str) -> None:
    decl = declare(inputs=made, arg_dtypes=["float32", "float32", "int32"])
    with pytest.raises(InputError) as info:
        decl.make_inputs(0)
    assert words in str(info.value)


def test_outputs_of_a_factory_must_be_arrays() -> None:
    decl = declare(inputs=lambda rng, N: (np.float32(1), np.float32(2), np.int32(N)))
    with pytest.raises(InputError, match=r"output 0 \(x\) must be a NumPy array"):
        decl.make_inputs(0)


def test_a_reference_writing_in_place_is_called_as_it_is() -> None:
    decl = declare()
    args = decl.make_inputs(0)
    x = args[0].copy()
    assert decl.reference is not None
    assert decl.reference(*args) is None
    assert np.array_equal(args[0], x * np.float32(2.5))


def test_a_reference_may_return_its_one_output() -> None:
    decl = declare(reference=lambda x, a, n: x * a)
    args = decl.make_inputs(0)
    x = args[0].copy()
    assert decl.reference is not None
    decl.reference(*args)
    assert np.array_equal(args[0], x * np.float32(2.5))


def test_a_reference_may_return_a_tuple_of_several_outputs() -> None:
    two = [*SCALE_INPUTS[:1], {"name": "y", "shape": ["N"], "dtype": "float32"}]
    code = 'extern "C" __global__ void scale(float* x, float* y) {}'
    decl = declare(code=code, inputs=two, outputs=["y", "x"], reference=lambda x, y: (x + 1, y))
    x, y = decl.make_inputs(0)
    old_x, old_y = x.copy(), y.copy()
    assert decl.reference is not None
    decl.reference(x, y)
    assert np.array_equal(y, old_x + 1) and np.array_equal(x, old_y)


@pytest.mark.parametrize(
    ("reference", "words"),
    [
        (lambda x, a, n: x[:10], "returned shape (10,) for output 0, whose shape is (1000,)"),
        (lambda x, a, n: (x, x), "returned shape (2, 1000)"),
    ],
)
def test_a_reference_returning_the_wrong_thing_raises(reference: Any, words: str) -> None:
    decl = declare(reference=reference)
    assert decl.reference is not None
    with pytest.raises(ValueError) as info:
        decl.reference(*decl.make_inputs(0))
    assert words in str(info.value)


def test_a_reference_of_several_outputs_must_return_a_tuple_of_them() -> None:
    two = [*SCALE_INPUTS[:1], {"name": "y", "shape": ["N"], "dtype": "float32"}]
    code = 'extern "C" __global__ void scale(float* x, float* y) {}'
    decl = declare(code=code, inputs=two, outputs=[0, 1], reference=lambda x, y: x)
    assert decl.reference is not None
    with pytest.raises(ValueError, match="with 2 outputs it must return None or a tuple"):
        decl.reference(*decl.make_inputs(0))


# --- bad declarations ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"entry": "missing"}, "has no __global__ function 'missing'"),
        ({"entry": "scale(x)"}, "entry must be a C++ function name"),
        ({"code": "// __global__ void scale(float* x)\n"}, "no __global__ function 'scale'"),
        ({"code": None}, "give the CUDA source file, or its code as text"),
        ({"code": 3}, "source must be a path and code a string"),
        ({"name": ""}, "the name must be a non-empty one-line string"),
        ({"name": "a\nb"}, "the name must be a non-empty one-line string"),
        ({"outputs": []}, "'outputs' is required"),
        ({"outputs": ["y"]}, "output 'y' must be an argument index or one of ['x', 'a', 'n']"),
        ({"outputs": [3]}, "output 3 is not an argument index in [0, 3)"),
        ({"outputs": [True]}, "output True must be an argument index"),
        ({"outputs": ["x", 0]}, "name an argument twice"),
        ({"outputs": ["n"]}, "output 2 (n) is a scalar"),
        ({"inputs": SCALE_INPUTS[:2]}, "2 arguments (x, a) for the 3 parameters of scale(x, a, n)"),
        ({"inputs": "x"}, "'inputs' must be a list of argument tables"),
        ({"inputs": lambda rng, M: ()}, "inputs cannot be called as inputs(rng, **sizes['small'])"),
        ({"arg_names": ["x", "a", "n"]}, "argument tables name their arguments and dtypes"),
        ({"rtol": 2.0}, "rtol must be less than 1"),
        ({"atol": -1.0}, "atol must be a non-negative finite number"),
        ({"perturb": 0.5}, "perturb must be a finite number in [0, 0.1]"),
        ({"reference": 3}, "reference must be a function"),
        ({"sizes": {}}, "sizes must map at least one size name"),
        ({"sizes": {"s": {"N": 1.5}}}, "size 's': N must be an integer, got 1.5"),
        ({"sizes": {"s": {"N": True}}}, "size 's': N must be an integer, got True"),
        ({"sizes": {"s": {"N-1": 4}}}, "the key 'N-1' must be named like a C variable"),
        ({"sizes": {"s": 4}}, "size 's' must map size keys to integers"),
        ({"grid": []}, "grid takes 1 to 3 expressions"),
        ({"block": [1, 1, 1, 1]}, "block takes 1 to 3 expressions"),
        ({"grid": [[1]]}, "grid[0] must be an expression (text or a number)"),
        ({"grid": ["N.x"]}, "grid[0]: expression 'N.x': attribute access is not allowed"),
        ({"block": ["THREADS"]}, "block 'THREADS' reads THREADS: neither a parameter nor a key"),
        (
            {"sizes": {"small": {"N": 10, "M": 1}, "other": {"N": 10}}, "grid": ["M"]},
            "reads M: neither a parameter nor a key of every size",
        ),
        (
            {"sizes": {"small": {"N": 10}, "other": {"M": 10}}},
            "inputs[0] at size 'other': 'shape': expression 'N': unknown name 'N' (known: M)",
        ),
        ({"restrictions": ["BLOCK < 64"]}, "the default parameters {'BLOCK': 256} are invalid"),
        ({"restrictions": "BLOCK < 64"}, "the default parameters {'BLOCK': 256} are invalid"),
        ({"block": ["BLOCK * 8"]}, "has 2048 threads; at most 1024"),
        ({"flops": "N / 0"}, "flops: expression 'N / 0': ZeroDivisionError"),
        ({"roofline": "fma"}, "roofline must be one of ('gemm', 'copy')"),
        ({"inject": "macro"}, "inject must be one of ('define', 'template')"),
        ({"template_params": ["BLOCK"]}, 'template_params need inject = "template"'),
        ({"inject": "template"}, "template_params [] must name each parameter once"),
        (
            {"inject": "template", "template_params": ["BLOCK", "BLOCK"]},
            "template_params name a parameter twice",
        ),
        ({"params": {"N": Pow2(32, 1024)}}, "parameter 'N' must be named like a C macro"),
        ({"params": {"BLOCK": 256}}, "parameter 'BLOCK' must be an autotune parameter"),
        ({"params": ["BLOCK"]}, "params must map names to autotune parameters"),
        (
            {"params": {"BLOCK": Pow2(32, 1024, 256), "ORDER": Permutation(("i", "j"))}},
            "parameter 'ORDER' has the value ['i', 'j']",
        ),
        ({"params": {"BLOCK": Choice((256, "a b;"))}}, "has the value 'a b;'"),
        ({"compiler": {"O3": Bool()}}, "unknown compiler option 'O3'; known: fast_math, "),
        ({"compiler": {"fast_math": Choice((0, 1))}}, "'fast_math' takes true or false, got 0"),
        ({"compiler": {"maxrregcount": Bool()}}, "'maxrregcount' takes integers"),
        ({"compiler": {"ftz": True}}, "compiler option 'ftz' must be an autotune parameter"),
        ({"options": "--std=c++17"}, "options must be a list of strings"),
        ({"options": ["std=c++17"]}, "options must be NVRTC flags"),
        (
            {"options": ["-use_fast_math"], "compiler": {"fast_math": Bool()}},
            "option '-use_fast_math' sets what is tuned",
        ),
        ({"options": ["-DBLOCK=64"]}, "option '-DBLOCK=64' sets what is tuned"),
        ({"arg_dtypes": ["float32"]}, "argument tables name their arguments and dtypes"),
    ],
)
def test_bad_declarations_raise_one_line_input_errors(changes: dict[str, Any], words: str) -> None:
    message = error_of(**changes)
    assert words in message, message
    assert message.startswith("kernel ")


def test_a_factory_without_readable_parameters_needs_arg_names() -> None:
    code = '#define ARGS float* x\nextern "C" __global__ void scale(ARGS) {}'
    make = lambda rng, N: (np.zeros(N, np.float32),)  # noqa: E731
    assert "give arg_names" in error_of(code=code, inputs=make, outputs=[0])
    decl = declare(code=code, inputs=make, outputs=["x"], arg_names=["x"])
    assert decl.arg_names == ("x",)


def test_bad_factory_dtypes_are_refused() -> None:
    make = lambda rng, N: ()  # noqa: E731
    assert "unknown dtype 'float65'" in error_of(inputs=make, arg_dtypes=["float65", "f4", "i4"])
    assert "arg_dtypes must be one NumPy dtype per argument" in error_of(
        inputs=make, arg_dtypes=["float32"]
    )


def test_a_constructor_refuses_expressions_as_text() -> None:
    decl = declare()
    with pytest.raises(InputError, match="grid must be expressions"):
        CudaKernelDecl(
            name="scale",
            entry="scale",
            code=SCALE,
            inputs=decl.inputs,
            arg_names=decl.arg_names,
            outputs=(0,),
            grid=("N",),  # type: ignore[arg-type]
            block=(Expr(32),),
            sizes={"s": {"N": 4}},
        )


# --- sources -------------------------------------------------------------------------------


def test_a_source_path_is_read_and_kept_absolute(tmp_path: Path) -> None:
    (tmp_path / "scale.cu").write_text(SCALE)
    decl = declare(code=None, source=tmp_path / "scale.cu")
    assert decl.code == SCALE and decl.source == str((tmp_path / "scale.cu").resolve())


def test_a_missing_source_is_named(tmp_path: Path) -> None:
    message = error_of(code=None, source=tmp_path / "none.cu")
    assert "no such CUDA source" in message and "none.cu" in message


def test_a_kernel_declared_in_a_python_file_is_loaded_with_it(tmp_path: Path) -> None:
    (tmp_path / "scale.cu").write_text(SCALE)
    module = tmp_path / "gpu_kernels.py"
    module.write_text(
        textwrap.dedent(
            """
            from autotune.kernels import cuda_kernel
            from autotune.space import Pow2

            scale = cuda_kernel(
                entry="scale",
                source="scale.cu",  # relative to this file
                inputs=[
                    {"name": "x", "shape": ["N"], "dtype": "float32"},
                    {"name": "a", "value": 2, "dtype": "float32"},
                    {"name": "n", "value": "N", "dtype": "int32"},
                ],
                outputs=["x"],
                grid=["ceil_div(N, BLOCK)"],
                block=["BLOCK"],
                sizes={"small": {"N": 100}},
                params={"BLOCK": Pow2(32, 256, 64)},
            )
            """
        )
    )
    [decl] = load_kernels(module)
    assert isinstance(decl, CudaKernelDecl)
    assert decl.source == str((tmp_path / "scale.cu").resolve())
    assert decl.declared_in in sys.modules
