"""Loop-nest transformations of a kernel's Python source, legality-checked.

A kernel's top-level ``for`` nests are lifted into a loop-nest IR (affine bounds and
subscripts only; anything else stays untouched, with the reason), normalized
(accumulator expansion, loop distribution) and split into *bands* of perfectly nested
loops. Transformations are pure functions ``Band -> Band | Illegal``: interchange,
reversal, skewing, tiling, unroll-and-jam and prange. Each is proposed only when the
band's dependences allow it. The result is lowered back to Python source that Numba
compiles as usual.
"""

from autotune.loops._deps import Dependence, Interval, dependences
from autotune.loops._explain import explain_kernel, why_nothing_to_transform
from autotune.loops._ir import Access, Loop, Nest, Stmt, Untransformable
from autotune.loops._kernel import (
    BandChoice,
    LoopAnalysis,
    NestPlan,
    Transformed,
    analyze,
    analyze_kernel,
    apply_choice,
    argument_ranks,
    compile_transformed,
    declared_ranks,
    extract_bands,
    lower_bands,
    transformed_source,
    widest_float_arrays,
)
from autotune.loops._lift import KernelLoops, lift_function, lift_source
from autotune.loops._normalize import normalize
from autotune.loops._schedule import (
    Band,
    BandDep,
    Illegal,
    Schedule,
    make_permutable,
    parallelize,
    permute,
    reverse,
    skew,
    tile,
    unroll_and_jam,
)

#: How a wrong result caused by a legal-looking loop transformation starts its error.
LEGALITY_BUG = "loop legality bug"

__all__ = [
    "LEGALITY_BUG",
    "Access",
    "Band",
    "BandChoice",
    "BandDep",
    "Dependence",
    "Illegal",
    "Interval",
    "KernelLoops",
    "Loop",
    "LoopAnalysis",
    "Nest",
    "NestPlan",
    "Schedule",
    "Stmt",
    "Transformed",
    "Untransformable",
    "analyze",
    "analyze_kernel",
    "apply_choice",
    "argument_ranks",
    "compile_transformed",
    "declared_ranks",
    "dependences",
    "explain_kernel",
    "extract_bands",
    "lift_function",
    "lift_source",
    "lower_bands",
    "make_permutable",
    "normalize",
    "parallelize",
    "permute",
    "reverse",
    "skew",
    "tile",
    "transformed_source",
    "unroll_and_jam",
    "why_nothing_to_transform",
    "widest_float_arrays",
]
