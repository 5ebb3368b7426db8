"""Program features read from llvmlite's parsed module: exact counts on hand-written IR,
loops and their nesting on real Numba IR, problem sizes, schema order and robustness."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autotune
from autotune.backends._numba import NumbaBuilder
from autotune.cost_model._program import (
    PROGRAM_FEATURES,
    cached_program_features,
    problem_features,
    program_features,
    program_vector,
)
from autotune.kernels import load_kernels
from autotune.program import Workload
from autotune.testing.builders import scaled_copy
from tests._helpers import CORPUS

# A counted loop of 100 iterations (rotated: the exit test is on the incremented value).
COUNTED = """
define void @scale(ptr %a) {
entry:
  br label %loop
loop:
  %i = phi i64 [0, %entry], [%next, %loop]
  %p = getelementptr double, ptr %a, i64 %i
  %x = load double, ptr %p
  %y = fmul double %x, 2.0
  store double %y, ptr %p
  %next = add i64 %i, 1
  %done = icmp eq i64 %next, 100
  br i1 %done, label %exit, label %loop
exit:
  ret void
}
"""

# for i < 10: for j < 20: a[j] = a[j]
NEST = """
define void @nest(ptr %a) {
entry:
  br label %outer
outer:
  %i = phi i64 [0, %entry], [%i.next, %outer.latch]
  %oc = icmp slt i64 %i, 10
  br i1 %oc, label %inner, label %exit
inner:
  %j = phi i64 [0, %outer], [%j.next, %inner.body]
  %ic = icmp slt i64 %j, 20
  br i1 %ic, label %inner.body, label %outer.latch
inner.body:
  %p = getelementptr double, ptr %a, i64 %j
  %x = load double, ptr %p
  store double %x, ptr %p
  %j.next = add i64 %j, 1
  br label %inner
outer.latch:
  %i.next = add i64 %i, 1
  br label %outer
exit:
  ret void
}
"""

DIAMOND = """
define i64 @pick(i64 %x) {
entry:
  %c = icmp sgt i64 %x, 0
  br i1 %c, label %pos, label %neg
pos:
  %a = mul i64 %x, 2
  br label %join
neg:
  %b = sub i64 0, %x
  br label %join
join:
  %r = phi i64 [%a, %pos], [%b, %neg]
  ret i64 %r
}
"""

# Counts down from an unknown %n to 0, calling an intrinsic, an external and a defined function.
CALLS = """
declare double @llvm.sqrt.f64(double)
declare double @ext(double)

define double @helper(double %x) {
entry:
  %r = fadd double %x, 1.0
  ret double %r
}

define double @calls(i64 %n) {
entry:
  br label %loop
loop:
  %i = phi i64 [%n, %entry], [%i.next, %loop]
  %acc = phi double [0.0, %entry], [%acc3, %loop]
  %acc1 = call double @llvm.sqrt.f64(double %acc)
  %acc2 = call double @ext(double %acc1)
  %acc3 = call double @helper(double %acc2)
  %i.next = sub i64 %i, 1
  %done = icmp eq i64 %i.next, 0
  br i1 %done, label %exit, label %loop
exit:
  ret double %acc3
}
"""


def _nonzero(features: dict[str, float], prefix: str) -> dict[str, float]:
    return {k: v for k, v in features.items() if k.startswith(prefix) and v != 0}


def test_counted_loop_has_exact_counts_and_trip_count() -> None:
    f = program_features(COUNTED)
    assert _nonzero(f, "prog.op.") == {
        "prog.op.phi": 1,
        "prog.op.getelementptr": 1,
        "prog.op.load": 1,
        "prog.op.fmul": 1,
        "prog.op.store": 1,
        "prog.op.add": 1,
        "prog.op.icmp": 1,
        "prog.op.br_cond": 1,
        "prog.op.br_uncond": 1,
        "prog.op.ret": 1,
    }
    assert _nonzero(f, "prog.type.") == {
        "prog.type.int": 2,
        "prog.type.pointer": 1,
        "prog.type.double": 2,
        "prog.type.bool": 1,
    }
    assert _nonzero(f, "prog.cfg.") == {
        "prog.cfg.functions": 1,
        "prog.cfg.blocks": 3,
        "prog.cfg.instructions": 10,
        "prog.cfg.edges": 3,
        "prog.cfg.single_successor": 1,
        "prog.cfg.single_predecessor": 1,
        "prog.cfg.critical_edges": 1,
    }
    assert _nonzero(f, "prog.loop.") == pytest.approx(
        {
            "prog.loop.count": 1,
            "prog.loop.max_depth": 1,
            "prog.loop.mean_depth": 1,
            "prog.loop.innermost": 1,
            "prog.loop.known_trip": 1,
            "prog.loop.log2_trip_max": math.log2(100),
            "prog.loop.log2_trip_mean": math.log2(100),
            "prog.loop.inner_mem_mean": 2,
            "prog.loop.inner_mem_max": 2,
            "prog.loop.inner_insts_mean": 8,
            "prog.loop.branches_mean": 1,
            "prog.loop.phis_mean": 1,
            "prog.loop.inst_share": 0.8,
        }
    )
    assert f["prog.ops.memory"] == 2 and f["prog.ops.fp_arith"] == 1
    assert f["prog.ops.int_arith"] == 1 and f["prog.ops.branch"] == 2


def test_loop_nest_has_depth_two_and_both_trip_counts() -> None:
    f = program_features(NEST)
    assert f["prog.cfg.instructions"] == 15 and f["prog.cfg.blocks"] == 6
    assert f["prog.cfg.critical_edges"] == 1
    assert _nonzero(f, "prog.loop.") == pytest.approx(
        {
            "prog.loop.count": 2,
            "prog.loop.max_depth": 2,
            "prog.loop.mean_depth": 1.5,
            "prog.loop.innermost": 1,
            "prog.loop.known_trip": 2,
            "prog.loop.log2_trip_max": math.log2(20),
            "prog.loop.log2_trip_mean": (math.log2(10) + math.log2(20)) / 2,
            "prog.loop.inner_mem_mean": 2,
            "prog.loop.inner_mem_max": 2,
            "prog.loop.inner_insts_mean": 8,
            "prog.loop.branches_mean": 3,
            "prog.loop.phis_mean": 1.5,
            "prog.loop.inst_share": 13 / 15,
        }
    )


def test_function_without_loops_has_no_loop_features() -> None:
    f = program_features(DIAMOND)
    assert _nonzero(f, "prog.loop.") == {}
    assert f["prog.cfg.instructions"] == 8 and f["prog.cfg.edges"] == 4
    assert f["prog.cfg.single_successor"] == 2 and f["prog.cfg.single_predecessor"] == 2
    assert f["prog.cfg.critical_edges"] == 0
    assert f["prog.op.br_cond"] == 1 and f["prog.op.br_uncond"] == 2 and f["prog.op.phi"] == 1
    assert f["prog.type.int"] == 3 and f["prog.type.bool"] == 1


def test_calls_inside_a_loop_are_counted_by_kind() -> None:
    f = program_features(CALLS)
    assert f["prog.cfg.functions"] == 2 and f["prog.op.call"] == 3
    assert f["prog.call.intrinsic"] == 1 and f["prog.call.external"] == 1
    assert f["prog.call.internal"] == 1 and f["prog.call.indirect"] == 0
    assert f["prog.loop.count"] == 1 and f["prog.loop.calls"] == 3
    # Counting down from a non-constant start to 0 gives no hint.
    assert f["prog.loop.unknown_trip"] == 1 and f["prog.loop.known_trip"] == 0


def test_count_down_from_a_constant_gives_its_trip_count() -> None:
    f = program_features(CALLS.replace("[%n, %entry]", "[64, %entry]"))
    assert f["prog.loop.known_trip"] == 1 and f["prog.loop.log2_trip_max"] == 6


def test_concatenated_modules_parse_separately() -> None:
    """A Numba workload joins a kernel's module and its callees' (each declaring the
    same runtime functions); calls across them count as internal."""
    callee = "; ModuleID\n" + CALLS.split("define double @calls")[0]
    caller = "; ModuleID\ndeclare double @helper(double)\ndeclare double @ext(double)\n"
    caller += "define double @calls" + CALLS.split("define double @calls")[1]
    f = program_features("; header comment\n" + caller + "\n" + callee)
    assert f == program_features(CALLS)


@pytest.mark.parametrize(
    "text",
    ["this is not IR", "define void @f() {", "; ModuleID\ndefine void @f() {\n}", "\udcff"],
)
def test_unparsable_ir_raises_a_one_line_value_error(text: str) -> None:
    with pytest.raises(ValueError, match="does not parse") as info:
        program_features(text)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("text", ["", "declare void @f()"])
def test_ir_without_functions_raises_value_error(text: str) -> None:
    with pytest.raises(ValueError, match="defines no function"):
        program_features(text)


@given(st.text(max_size=200) | st.lists(st.sampled_from(COUNTED.splitlines())).map("\n".join))
def test_random_text_raises_nothing_but_value_error(text: str) -> None:
    try:
        features = program_features(text)
    except ValueError:
        return
    assert set(features) == set(PROGRAM_FEATURES)


def _cfg_ir(succs: list[list[int]]) -> str:
    """A function whose block ``i`` branches to the blocks ``succs[i]`` (0 to 2 of them)."""
    lines = ["define void @f(i1 %c) {"]
    for i, targets in enumerate(succs):
        labels = [f"label %b{t}" for t in targets]
        lines.append(f"b{i}:")
        if not targets:
            lines.append("  ret void")
        elif len(targets) == 1:
            lines.append(f"  br {labels[0]}")
        else:
            lines.append(f"  br i1 %c, {labels[0]}, {labels[1]}")
    return "\n".join([*lines, "}"])


def _reachable(succs: list[list[int]], removed: int) -> set[int]:
    seen, stack = set(), [0]
    while stack:
        node = stack.pop()
        if node != removed and node not in seen:
            seen.add(node)
            stack.extend(succs[node])
    return seen


@st.composite
def _graphs(draw: st.DrawFn) -> list[list[int]]:
    n = draw(st.integers(1, 8))
    target = st.integers(1, n - 1) if n > 1 else st.nothing()
    return [draw(st.lists(target, max_size=2 if n > 1 else 0, unique=True)) for _ in range(n)]


@given(_graphs())
def test_loop_headers_match_a_brute_force_dominance_check(succs: list[list[int]]) -> None:
    """A block ``h`` dominates ``t`` when ``t`` cannot be reached without passing ``h``;
    each header of a back edge ``t -> h`` is one loop."""
    reachable = _reachable(succs, removed=-1)
    headers = {
        h for t in reachable for h in succs[t] if h == t or t not in _reachable(succs, removed=h)
    }
    f = program_features(_cfg_ir(succs))
    assert f["prog.loop.count"] == len(headers)
    assert f["prog.cfg.blocks"] == len(succs)
    assert f["prog.cfg.edges"] == sum(map(len, succs))
    assert f["prog.loop.max_depth"] <= f["prog.loop.count"]


@given(st.text(max_size=80), st.text(max_size=80))
def test_problem_features_never_raise(arg_types: str, inputs: str) -> None:
    assert set(problem_features(arg_types, inputs)) <= set(PROGRAM_FEATURES)


def test_schema_order_and_vector() -> None:
    assert len(set(PROGRAM_FEATURES)) == len(PROGRAM_FEATURES)
    f = program_features(NEST, "(float64[:, ::1], int64)", "(8x8, 3)")
    assert list(f) == list(PROGRAM_FEATURES)
    v = program_vector(NEST, "(float64[:, ::1], int64)", "(8x8, 3)")
    assert v.dtype == np.float64
    np.testing.assert_array_equal(v, [f[name] for name in PROGRAM_FEATURES])


@pytest.mark.parametrize(
    ("arg_types", "inputs", "expected"),
    [
        (
            "(array(float64, 2d, C), array(float32, 1d, C), float64, int64)",
            "(256x256, 100, 1.5, 7)",
            {"arrays": 2, "scalars": 2, "max_ndim": 2, "elements": 65636, "largest": 65536}
            | {"float64": 0.5, "float32": 0.25, "int": 0.25},
        ),
        (
            "(float32[2d], float32[2d], int32)",
            "(256x384, 256x384, 5)",
            {"arrays": 2, "scalars": 1, "max_ndim": 2, "elements": 2 * 98304, "largest": 98304}
            | {"float64": 0, "float32": 2 / 3, "int": 1 / 3},
        ),
        (
            "(float64[::1],)",
            "(64,)",
            {"arrays": 1, "scalars": 0, "max_ndim": 1, "elements": 64, "largest": 64}
            | {"float64": 1, "float32": 0, "int": 0},
        ),
        (
            "",
            "(4x4, 10)",  # without types only multi-dimensional shapes count as arrays
            {"arrays": 0, "scalars": 0, "max_ndim": 0, "elements": 16, "largest": 16}
            | {"float64": 0, "float32": 0, "int": 0},
        ),
        (
            "",
            "",
            {"arrays": 0, "scalars": 0, "max_ndim": 0, "elements": 0, "largest": 0}
            | {"float64": 0, "float32": 0, "int": 0},
        ),
    ],
)
def test_problem_features_read_numba_and_cuda_strings(
    arg_types: str, inputs: str, expected: dict[str, float]
) -> None:
    f = problem_features(arg_types, inputs)
    assert f == pytest.approx(
        {
            "prog.size.arrays": expected["arrays"],
            "prog.size.scalars": expected["scalars"],
            "prog.size.max_ndim": expected["max_ndim"],
            "prog.size.log2_elements": math.log2(1 + expected["elements"]),
            "prog.size.log2_largest": math.log2(1 + expected["largest"]),
            "prog.size.share_float64": expected["float64"],
            "prog.size.share_float32": expected["float32"],
            "prog.size.share_int": expected["int"],
        }
    )


def _scalar_sqrt_inputs(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    return rng.random(4), np.zeros(4)


@autotune.kernel(inputs=_scalar_sqrt_inputs, outputs=[1])
def scalar_sqrt(x: np.ndarray, out: np.ndarray) -> None:
    out[0] = np.sqrt(x[0])


@pytest.fixture(scope="module")
def numba_workloads() -> dict[str, Workload]:
    builder = NumbaBuilder()
    (matmul,) = load_kernels(CORPUS / "matmul.py")
    decls = {"scaled_copy": scaled_copy, "matmul": matmul, "scalar_sqrt": scalar_sqrt}
    return {name: builder.lower(d, d.make_inputs(0)) for name, d in decls.items()}


def test_numba_loop_over_an_array_is_found(numba_workloads: dict[str, Workload]) -> None:
    w = numba_workloads["scaled_copy"]
    f = program_features(w.ir_text, w.arg_types, w.inputs)
    assert f["prog.loop.count"] >= 1 and f["prog.loop.max_depth"] == 1
    assert f["prog.loop.inner_mem_max"] > 0 and f["prog.op.fmul"] >= 1
    assert f["prog.size.arrays"] == 2 and f["prog.size.share_float64"] == 1
    assert f["prog.size.log2_elements"] == pytest.approx(math.log2(1 + 128))


def test_numba_matmul_is_a_nest_of_three_loops(numba_workloads: dict[str, Workload]) -> None:
    w = numba_workloads["matmul"]
    f = program_features(w.ir_text, w.arg_types, w.inputs)
    assert f["prog.loop.count"] == 3 and f["prog.loop.max_depth"] == 3
    assert f["prog.loop.innermost"] == 1 and f["prog.loop.mean_depth"] == 2
    # Numba keeps range counters in stack slots: its loops carry no phi to read.
    assert f["prog.loop.unknown_trip"] == 3 and f["prog.op.phi"] == 0
    assert f["prog.size.arrays"] == 3 and f["prog.size.max_ndim"] == 2


def test_numba_scalar_ufunc_loop_has_a_known_trip_count(
    numba_workloads: dict[str, Workload],
) -> None:
    """Numba lowers ``np.sqrt`` of a scalar as a loop over one element, with a phi."""
    w = numba_workloads["scalar_sqrt"]
    f = program_features(w.ir_text, w.arg_types, w.inputs)
    assert f["prog.loop.count"] == 1 and f["prog.loop.known_trip"] == 1
    assert f["prog.loop.log2_trip_max"] == 0  # one iteration
    assert f["prog.loop.calls"] >= 1


def test_features_are_deterministic_and_cached(numba_workloads: dict[str, Workload]) -> None:
    w = numba_workloads["matmul"]
    first = program_features(w.ir_text, w.arg_types, w.inputs)
    assert program_features(w.ir_text, w.arg_types, w.inputs) == first
    cached = cached_program_features(w)
    assert cached == first
    cached["prog.loop.count"] = -1.0  # callers get a copy
    assert cached_program_features(w) == first
    # The same program at another size: IR features shared, size features its own.
    larger = replace(w, inputs="(128x128, 128x128, 128x128)")
    assert cached_program_features(larger) == program_features(
        larger.ir_text, larger.arg_types, larger.inputs
    )
    assert (
        cached_program_features(larger)["prog.size.log2_elements"]
        > first["prog.size.log2_elements"]
    )
