"""LLVM passes: the pass catalog, pipeline configs and the CPU search space."""

from autotune.passes._catalog import (
    FASTMATH_FLAGS,
    FUNCTION_PASSES,
    INLINE_THRESHOLDS,
    MODULE_PASSES,
    PASS_MODES,
    PASS_ORDER_RULES,
    PASSES,
)
from autotune.passes._pipeline import PipelineConfig, numba_pipeline
from autotune.passes._space import KERNEL_PREFIX, BuildOptions, cpu_search_space

__all__ = [
    "FASTMATH_FLAGS",
    "FUNCTION_PASSES",
    "INLINE_THRESHOLDS",
    "KERNEL_PREFIX",
    "MODULE_PASSES",
    "PASSES",
    "PASS_MODES",
    "PASS_ORDER_RULES",
    "BuildOptions",
    "PipelineConfig",
    "cpu_search_space",
    "numba_pipeline",
]
