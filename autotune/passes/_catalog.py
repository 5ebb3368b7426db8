"""The LLVM passes a pass order may use, as exposed by llvmlite 0.50 (LLVM 22).

Only transformation passes are listed. Printers, viewers and analyses do nothing useful;
``internalize`` and the ``strip_*`` family would remove the symbols Numba looks up;
``refprune`` is always run by the pipeline itself.
"""

from __future__ import annotations

MODULE_PASSES: tuple[str, ...] = (
    "always_inliner",
    "argument_promotion",
    "constant_merge",
    "dead_arg_elimination",
    "global_dead_code_eliminate",
    "global_opt",
    "ipsccp",
    "merge_functions",
    "partial_inliner",
    "post_order_function_attributes",
    "rpo_function_attrs",
)

FUNCTION_PASSES: tuple[str, ...] = (
    "aggressive_dce",
    "aggressive_instcombine",
    "break_critical_edges",
    "dead_code_elimination",
    "dead_store_elimination",
    "instruction_combine",
    "jump_threading",
    "lcssa",
    "loop_deletion",
    "loop_rotate",
    "loop_simplify",
    "loop_strength_reduce",
    "loop_unroll",
    "loop_unroll_and_jam",
    "mem_copy_opt",
    "new_gvn",
    "reassociate",
    "sccp",
    "simplify_cfg",
    "sinking",
    "sroa",
    "tail_call_elimination",
)

#: Loop passes a sequence may contain only after loop canonicalization: on loops not
#: in simplified form they do nothing, so such orders only waste measurements.
LOOP_PASSES: tuple[str, ...] = (
    "loop_deletion",
    "loop_rotate",
    "loop_strength_reduce",
    "loop_unroll",
    "loop_unroll_and_jam",
)
LOOP_CANONICALIZATION: tuple[str, ...] = ("loop_simplify",)

#: Every pass a sequence may contain, in a fixed order (module passes first).
PASSES: tuple[str, ...] = MODULE_PASSES + FUNCTION_PASSES

#: How a custom sequence combines with the O-level pipeline.
PASS_MODES: tuple[str, ...] = ("default", "before", "after", "replace")

#: Fastmath flags Numba accepts as a set.
FASTMATH_FLAGS: tuple[str, ...] = ("nnan", "ninf", "nsz", "arcp", "contract", "afn", "reassoc")

#: ``inlining_threshold`` values; -1 leaves LLVM's level default. llvmlite 0.50 keeps
#: only the low byte of the setter's argument, so nothing above 255 is offered.
INLINE_THRESHOLDS: tuple[int, ...] = (-1, 0, 25, 75, 150, 225, 255)

#: Ordering rules of pass sequences, as ``Seq.after`` takes them.
PASS_ORDER_RULES: tuple[tuple[str, tuple[str, ...]], ...] = tuple(
    (name, LOOP_CANONICALIZATION) for name in LOOP_PASSES
)
