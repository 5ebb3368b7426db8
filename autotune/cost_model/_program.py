"""Program features: what a workload's unoptimized LLVM IR and its problem size look like.

These features describe the *program*, not a config, so a cost model trained on many
workloads can tell them apart and carry what it learned to a new one. They are read
from the module as llvmlite parses it (functions, blocks, instructions, operands), never
by matching the IR text, and every name in :data:`PROGRAM_FEATURES` is always present.

Groups (all values are raw counts unless the name says otherwise; tree models do not
care about monotone rescaling, so nothing is log-transformed except sizes and trip
counts, which span orders of magnitude):

* ``prog.op.<opcode>``: instructions of each opcode in :data:`OPCODES` over all defined
  functions; ``br`` is split into ``br_cond`` and ``br_uncond``; anything not listed
  counts as ``prog.op.other``.
* ``prog.ops.<group>``: totals of opcode groups (``int_arith`` includes bitwise and
  shift operations, ``cast`` every conversion, ``vector`` the element/shuffle ops).
* ``prog.type.<class>``: instructions by result type: ``float`` (any non-double
  floating scalar), ``double``, ``bool`` (``i1``), ``int`` (wider integers),
  ``vector``, ``pointer``, ``aggregate`` (struct or array). Void results are not counted.
* ``prog.call.<kind>``: calls (and invokes) to ``llvm.*`` intrinsics, to functions
  defined in the IR, to external declarations, and indirect calls.
* ``prog.cfg.*``: defined functions, basic blocks, instructions, distinct CFG edges,
  blocks with exactly one distinct successor / predecessor, critical edges (from a
  block with several successors to one with several predecessors).
* ``prog.loop.*``: natural loops (a back edge is an edge whose target dominates its
  source; loops sharing a header are one loop; irreducible cycles are not loops):
  their count, maximum and mean nesting depth (outermost is 1), innermost loops,
  trip-count hints (a header phi compared with a constant in an exiting block; see
  :func:`_trip_hint`): the number of loops with and without one and the maximum and
  mean ``log2`` of the known ones; loads plus stores per innermost
  loop (mean, max) and its mean instruction count; calls anywhere inside loops; mean
  branches and phis per loop; the share of instructions that lie inside loops.
* ``prog.size.*``: the problem from ``arg_types`` and ``inputs`` (see
  :func:`problem_features`).

Unoptimized IR from front ends such as Numba keeps induction variables in stack slots
(``alloca``) rather than phis, so trip-count hints are mostly unknown for it; the hints
fire for IR already in SSA form.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import llvmlite.binding as llvm
import numpy as np

from autotune.program import Workload

#: Opcodes counted individually (LLVM's names; ``br`` is split by its operand count).
OPCODES = (
    *("alloca", "load", "store", "getelementptr"),
    *("br_cond", "br_uncond", "switch", "ret", "unreachable", "phi", "select", "call"),
    *("invoke", "icmp", "fcmp"),
    *("add", "sub", "mul", "udiv", "sdiv", "urem", "srem"),
    *("and", "or", "xor", "shl", "lshr", "ashr"),
    *("fneg", "fadd", "fsub", "fmul", "fdiv", "frem"),
    *("trunc", "zext", "sext", "fptrunc", "fpext", "fptoui", "fptosi", "uitofp", "sitofp"),
    *("ptrtoint", "inttoptr", "bitcast", "addrspacecast"),
    *("extractvalue", "insertvalue", "extractelement", "insertelement", "shufflevector"),
    "other",
)
_GROUPS = {
    "int_arith": OPCODES[OPCODES.index("add") : OPCODES.index("ashr") + 1],
    "fp_arith": OPCODES[OPCODES.index("fneg") : OPCODES.index("frem") + 1],
    "cast": OPCODES[OPCODES.index("trunc") : OPCODES.index("addrspacecast") + 1],
    "vector": ("extractelement", "insertelement", "shufflevector"),
    "memory": ("load", "store"),
    "branch": ("br_cond", "br_uncond", "switch"),
}
_TYPE_CLASSES = ("float", "double", "bool", "int", "vector", "pointer", "aggregate")
_CALL_KINDS = ("intrinsic", "internal", "external", "indirect")
_CFG = (
    *("functions", "blocks", "instructions", "edges"),
    *("single_successor", "single_predecessor", "critical_edges"),
)
_LOOP = (
    *("count", "max_depth", "mean_depth", "innermost"),
    *("known_trip", "unknown_trip", "log2_trip_max", "log2_trip_mean"),
    *("inner_mem_mean", "inner_mem_max", "inner_insts_mean"),
    *("calls", "branches_mean", "phis_mean", "inst_share"),
)
_SIZE = (
    *("arrays", "scalars", "max_ndim", "log2_elements", "log2_largest"),
    *("share_float64", "share_float32", "share_int"),
)
#: The ``prog.size.*`` features of :func:`problem_features`, in schema order.
PROBLEM_FEATURES = tuple(f"prog.size.{name}" for name in _SIZE)

#: Every program feature, in the order of :func:`program_vector`.
PROGRAM_FEATURES: tuple[str, ...] = (
    *(f"prog.op.{op}" for op in OPCODES),
    *(f"prog.ops.{group}" for group in _GROUPS),
    *(f"prog.type.{kind}" for kind in _TYPE_CLASSES),
    *(f"prog.call.{kind}" for kind in _CALL_KINDS),
    *(f"prog.cfg.{name}" for name in _CFG),
    *(f"prog.loop.{name}" for name in _LOOP),
    *PROBLEM_FEATURES,
)

_KNOWN_OPCODES = frozenset(OPCODES)
# Opcodes whose result is void: their type is not asked for (each query costs a call).
_VOID_OPCODES = frozenset({"store", "br_cond", "br_uncond", "switch", "ret", "unreachable"})
_FLOAT_KINDS = frozenset({"half", "bfloat", "float", "x86_fp80", "fp128", "ppc_fp128"})
_TYPE_OF_KIND = {
    "double": "double",
    "vector": "vector",
    "scalable_vector": "vector",
    "pointer": "pointer",
    "struct": "aggregate",
    "array": "aggregate",
} | dict.fromkeys(_FLOAT_KINDS, "float")


def program_features(ir_text: str, arg_types: str = "", inputs: str = "") -> dict[str, float]:
    """The features named in :data:`PROGRAM_FEATURES` of one program and problem.

    ``ir_text`` is LLVM IR text: one module, or several concatenated modules each
    starting with a ``; ModuleID`` line (as a Numba workload joins a kernel and its
    callees). ``arg_types`` and ``inputs`` are a workload's strings; an empty one gives
    zeros for its features. Pure and deterministic. A CUDA workload's ``ir_text`` is
    kernel source, not IR, so it raises; :func:`problem_features` still reads its sizes.

    A module after the first that does not parse (some of Numba's array helpers do
    not, on their own) is left out.

    Raises:
        ValueError: (one line) the first module does not parse, or none defines a
            function.
    """
    return _merged(_ir_features(ir_text), problem_features(arg_types, inputs))


def program_vector(ir_text: str, arg_types: str = "", inputs: str = "") -> np.ndarray:
    """:func:`program_features` as a float array in the order of :data:`PROGRAM_FEATURES`."""
    features = program_features(ir_text, arg_types, inputs)
    return np.array([features[name] for name in PROGRAM_FEATURES], dtype=float)


def cached_program_features(workload: Workload) -> dict[str, float]:
    """:func:`program_features` of a workload, returned as a fresh dict.

    The IR part is memoized in this process by ``workload.ir_hash`` (the most recent
    :data:`_CACHED_PROGRAMS` programs; the IR text itself is not kept), so the same
    program at several problem sizes is parsed once; the size part is cheap and read
    from ``arg_types`` and ``inputs`` on every call. Raises as :func:`program_features`.
    """
    key = workload.ir_hash
    ir_part = _IR_CACHE.pop(key, None) or _ir_features(workload.ir_text)
    _IR_CACHE[key] = ir_part  # most recently used last
    while len(_IR_CACHE) > _CACHED_PROGRAMS:
        del _IR_CACHE[next(iter(_IR_CACHE))]
    return _merged(ir_part, problem_features(workload.arg_types, workload.inputs))


_CACHED_PROGRAMS = 1024
_IR_CACHE: dict[str, dict[str, float]] = {}


def _merged(ir_part: dict[str, float], size_part: dict[str, float]) -> dict[str, float]:
    features = dict.fromkeys(PROGRAM_FEATURES, 0.0)
    features.update(ir_part)
    features.update(size_part)
    return features


def _ir_features(ir_text: str) -> dict[str, float]:
    """Every feature but ``prog.size.*``; raises as :func:`program_features`."""
    with _parsed_modules(ir_text) as modules:
        functions = [f for m in modules for f in m.functions if not f.is_declaration]
        if not functions:
            raise ValueError("LLVM IR defines no function")
        defined = frozenset(f.name for f in functions)
        graphs = [_ControlFlow.of(f, defined) for f in functions]
        return _count_features(graphs) | _loop_features(graphs)


# ----------------------------------------------------------------------------- parsing


@contextmanager
def _parsed_modules(ir_text: str) -> Iterator[list[Any]]:
    """Each module of ``ir_text`` parsed in a private LLVM context, freed on exit (the
    context owns the modules, so they are closed before it)."""
    context = llvm.create_context()
    modules: list[Any] = []
    try:
        for number, text in enumerate(_module_texts(ir_text), 1):
            try:
                modules.append(llvm.parse_assembly(text, context))
            except (RuntimeError, UnicodeError) as exc:
                if number > 1:
                    # A callee's module (Numba's own array helpers) that LLVM cannot read
                    # on its own: the kernel's features are still those of the modules
                    # that parse, which a program keeps across runs.
                    continue
                detail = " ".join(str(exc).split("\n", 2)[1:2]) or str(exc)
                raise ValueError(f"LLVM IR module {number} does not parse: {detail}") from None
        yield modules
    finally:
        for module in modules:
            module.close()
        context.close()


def _module_texts(ir_text: str) -> list[str]:
    """The text split before every ``; ModuleID`` header line (one piece if none)."""
    pieces: list[list[str]] = [[]]
    for line in ir_text.splitlines(keepends=True):
        if line.startswith("; ModuleID") and any(_is_code(s) for s in pieces[-1]):
            pieces.append([])
        pieces[-1].append(line)
    return ["".join(piece) for piece in pieces]


def _is_code(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith(";")


# ----------------------------------------------------------------------------- CFG


@dataclass(slots=True)
class _ControlFlow:
    """One defined function: its blocks, distinct successors and predecessors by block
    index (entry is 0), and per-block counts of the ``prog.op/type/call`` keys."""

    blocks: list[Any]
    index: dict[Any, int]
    succs: list[list[int]]
    preds: list[list[int]]
    counts: list[Counter[str]]

    @classmethod
    def of(cls, function: Any, defined: frozenset[str]) -> _ControlFlow:
        blocks = list(function.blocks)
        index = {block: i for i, block in enumerate(blocks)}
        succs: list[list[int]] = []
        counts: list[Counter[str]] = []
        for block in blocks:
            block_counts, targets = _summarize_block(block, defined)
            counts.append(block_counts)
            succs.append(list(dict.fromkeys(index[t] for t in targets)))
        preds: list[list[int]] = [[] for _ in blocks]
        for source, targets in enumerate(succs):
            for target in targets:
                preds[target].append(source)
        return cls(blocks, index, succs, preds, counts)


def _summarize_block(block: Any, defined: frozenset[str]) -> tuple[Counter[str], list[Any]]:
    """Counts of the block's opcodes, result types and calls; its terminator's targets."""
    counts: Counter[str] = Counter()
    last = None
    for inst in block.instructions:
        opcode = inst.opcode
        if opcode == "br":
            opcode = "br_cond" if len(list(inst.operands)) == 3 else "br_uncond"
        elif opcode in ("call", "invoke"):
            counts[f"prog.call.{_call_kind(inst, defined)}"] += 1
        counts[f"prog.op.{opcode if opcode in _KNOWN_OPCODES else 'other'}"] += 1
        kind = None if opcode in _VOID_OPCODES else _type_class(inst.type)
        if kind is not None:
            counts[f"prog.type.{kind}"] += 1
        last = inst
    if last is None:
        return counts, []
    targets = [op for op in last.operands if op.value_kind == llvm.ValueKind.basic_block]
    return counts, targets


def _type_class(type_: Any) -> str | None:
    kind = type_.type_kind.name
    if kind == "integer":
        return "bool" if type_.type_width == 1 else "int"
    return _TYPE_OF_KIND.get(kind)


def _call_kind(inst: Any, defined: frozenset[str]) -> str:
    """The callee is a call's last operand (after the arguments and, for an invoke,
    the two destination blocks)."""
    operands = list(inst.operands)
    callee = operands[-1] if operands else None
    if callee is None or callee.value_kind != llvm.ValueKind.function:
        return "indirect"
    if callee.name.startswith("llvm."):
        return "intrinsic"
    return "internal" if callee.name in defined else "external"


def _count_features(graphs: Sequence[_ControlFlow]) -> dict[str, float]:
    totals: Counter[str] = Counter()
    for graph in graphs:
        for block_counts in graph.counts:
            totals.update(block_counts)
    out = {key: float(value) for key, value in totals.items()}
    for group, members in _GROUPS.items():
        out[f"prog.ops.{group}"] = float(sum(totals[f"prog.op.{op}"] for op in members))
    out["prog.cfg.functions"] = float(len(graphs))
    out["prog.cfg.instructions"] = float(_instructions(totals))
    for graph in graphs:
        for name, value in _shape_counts(graph).items():
            out[name] = out.get(name, 0.0) + value
    return out


def _instructions(counts: Counter[str]) -> int:
    return sum(n for key, n in counts.items() if key.startswith("prog.op."))


def _shape_counts(graph: _ControlFlow) -> dict[str, float]:
    succs, preds = graph.succs, graph.preds
    critical = sum(
        1
        for source, targets in enumerate(succs)
        if len(targets) > 1
        for target in targets
        if len(preds[target]) > 1
    )
    return {
        "prog.cfg.blocks": float(len(succs)),
        "prog.cfg.edges": float(sum(map(len, succs))),
        "prog.cfg.single_successor": float(sum(len(s) == 1 for s in succs)),
        "prog.cfg.single_predecessor": float(sum(len(p) == 1 for p in preds)),
        "prog.cfg.critical_edges": float(critical),
    }


# ----------------------------------------------------------------------------- loops


@dataclass(slots=True)
class _Loop:
    """A natural loop: header block, body blocks (header included), nesting depth
    (outermost 1) and whether no other loop lies inside it."""

    header: int
    body: frozenset[int]
    depth: int = 1
    innermost: bool = True


def _natural_loops(graph: _ControlFlow) -> list[_Loop]:
    """The function's natural loops, smallest body first."""
    idom = _immediate_dominators(graph)
    bodies: dict[int, set[int]] = {}
    for source in idom:
        for header in graph.succs[source]:
            if _dominates(header, source, idom):
                body = bodies.setdefault(header, {header})
                stack = [source]
                while stack:
                    node = stack.pop()
                    if node not in body:
                        body.add(node)
                        stack.extend(p for p in graph.preds[node] if p in idom)
    loops = [_Loop(header, frozenset(body)) for header, body in bodies.items()]
    loops.sort(key=lambda loop: (len(loop.body), loop.header))
    _nest(loops)
    return loops


def _nest(loops: list[_Loop]) -> None:
    """Set depths and innermost flags; ``loops`` is sorted by body size, so the first
    larger loop holding a loop's header is its parent."""
    parents = [
        next((outer for outer in loops[i + 1 :] if loop.header in outer.body), None)
        for i, loop in enumerate(loops)
    ]
    for loop, parent in reversed(list(zip(loops, parents, strict=True))):
        if parent is not None:
            loop.depth = parent.depth + 1
            parent.innermost = False


def _immediate_dominators(graph: _ControlFlow) -> dict[int, int]:
    """Immediate dominator of every block reachable from the entry (the entry maps to
    itself), by the iterative algorithm of Cooper, Harvey and Kennedy."""
    order = _reverse_postorder(graph.succs)
    rank = {node: i for i, node in enumerate(order)}
    idom = {0: 0}
    changed = True
    while changed:
        changed = False
        for node in order[1:]:
            done = [p for p in graph.preds[node] if p in idom]
            new = done[0]
            for pred in done[1:]:
                new = _intersect(pred, new, idom, rank)
            if idom.get(node) != new:
                idom[node] = new
                changed = True
    return idom


def _intersect(a: int, b: int, idom: dict[int, int], rank: dict[int, int]) -> int:
    while a != b:
        while rank[a] > rank[b]:
            a = idom[a]
        while rank[b] > rank[a]:
            b = idom[b]
    return a


def _reverse_postorder(succs: list[list[int]]) -> list[int]:
    order: list[int] = []
    seen = {0}
    stack = [(0, iter(succs[0]))]
    while stack:
        node, pending = stack[-1]
        for nxt in pending:
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, iter(succs[nxt])))
                break
        else:
            stack.pop()
            order.append(node)
    return order[::-1]


def _dominates(a: int, b: int, idom: dict[int, int]) -> bool:
    while b != a and b != 0:
        b = idom[b]
    return b == a


def _trip_hint(graph: _ControlFlow, loop: _Loop) -> int | None:
    """A guess at the loop's trip count, or ``None``.

    The loop must have a header phi ``iv`` that an ``icmp`` in an exiting block compares
    with an integer constant ``C`` (directly or as ``iv + step``). The hint is
    ``ceil(|C - start| / |step|)``, where ``start`` is the phi's value on entry and
    ``step`` the constant added each iteration (1 when not found). When ``start`` is not
    a constant the hint is ``ceil(|C| / |step|)``, and unknown if ``C`` is 0. The
    predicate is ignored: ``<`` and ``<=`` differ by one iteration.
    """
    exiting = [
        graph.blocks[b]
        for b in sorted(loop.body)
        if any(s not in loop.body for s in graph.succs[b])
    ]
    for phi in graph.blocks[loop.header].instructions:
        if phi.opcode != "phi":
            break
        start, step, following = _induction(phi, graph, loop)
        for inst in (inst for block in exiting for inst in block.instructions):
            bound = _compared_constant(inst, phi, following)
            if bound is not None and step != 0 and (start is not None or bound != 0):
                return math.ceil(abs(bound - (start or 0)) / abs(step))
    return None


def _induction(phi: Any, graph: _ControlFlow, loop: _Loop) -> tuple[int | None, int, Any]:
    """(start, step, next value) of a header phi: start ``None`` unless every value
    entering from outside the loop is the same constant; the next value is an ``add`` or
    ``sub`` of the phi and a constant in the block it comes from (else step 1)."""
    entering: set[int | None] = set()
    step, following = 1, None
    for value, block in zip(phi.operands, phi.incoming_blocks, strict=False):
        if graph.index[block] not in loop.body:
            entering.add(_int_constant(value))
        elif following is None:
            following, step = _increment(phi, _defining(value, graph.blocks[graph.index[block]]))
    start = entering.pop() if len(entering) == 1 else None
    return start, step, following


def _increment(phi: Any, value: Any) -> tuple[Any, int]:
    if value is None or value.opcode not in ("add", "sub"):
        return None, 1
    a, b = list(value.operands)
    if value.opcode == "add" and b == phi:
        a, b = b, a
    step = _int_constant(b)
    if a != phi or step is None:
        return None, 1
    return value, step if value.opcode == "add" else -step


def _defining(value: Any, block: Any) -> Any:
    """The instruction of ``block`` that is ``value`` (an operand cannot tell its
    opcode), or ``None``."""
    if value.value_kind != llvm.ValueKind.instruction:
        return None
    return next((inst for inst in block.instructions if inst == value), None)


def _compared_constant(inst: Any, phi: Any, following: Any) -> int | None:
    if inst.opcode != "icmp":
        return None
    a, b = list(inst.operands)
    for value, other in ((a, b), (b, a)):
        if value == phi or (following is not None and value == following):
            constant = _int_constant(other)
            if constant is not None:
                return constant
    return None


def _int_constant(value: Any) -> int | None:
    if value.value_kind != llvm.ValueKind.constant_int:
        return None
    try:
        return int(value.get_constant_value(signed_int=True))
    except (ValueError, TypeError, OverflowError):
        return None


def _loop_features(graphs: Sequence[_ControlFlow]) -> dict[str, float]:
    depths: list[int] = []
    trips: list[int | None] = []
    inner: list[Counter[str]] = []
    per_loop: list[Counter[str]] = []
    inside = Counter[str]()
    total = 0
    for graph in graphs:
        loops = _natural_loops(graph)
        for loop in loops:
            counts = _sum_counts(graph, loop.body)
            depths.append(loop.depth)
            trips.append(_trip_hint(graph, loop))
            per_loop.append(counts)
            if loop.innermost:
                inner.append(counts)
        inside.update(_sum_counts(graph, frozenset().union(*(lp.body for lp in loops))))
        total += sum(_instructions(counts) for counts in graph.counts)
    known = [math.log2(max(t, 1)) for t in trips if t is not None]
    inner_mem = [c["prog.op.load"] + c["prog.op.store"] for c in inner]
    return {
        "prog.loop.count": float(len(depths)),
        "prog.loop.max_depth": float(max(depths, default=0)),
        "prog.loop.mean_depth": _mean(depths),
        "prog.loop.innermost": float(len(inner)),
        "prog.loop.known_trip": float(len(known)),
        "prog.loop.unknown_trip": float(len(trips) - len(known)),
        "prog.loop.log2_trip_max": max(known, default=0.0),
        "prog.loop.log2_trip_mean": _mean(known),
        "prog.loop.inner_mem_mean": _mean(inner_mem),
        "prog.loop.inner_mem_max": float(max(inner_mem, default=0)),
        "prog.loop.inner_insts_mean": _mean([_instructions(c) for c in inner]),
        "prog.loop.calls": float(inside["prog.op.call"] + inside["prog.op.invoke"]),
        "prog.loop.branches_mean": _mean([_branches(c) for c in per_loop]),
        "prog.loop.phis_mean": _mean([c["prog.op.phi"] for c in per_loop]),
        "prog.loop.inst_share": _instructions(inside) / total if total else 0.0,
    }


def _sum_counts(graph: _ControlFlow, blocks: frozenset[int]) -> Counter[str]:
    out: Counter[str] = Counter()
    for block in sorted(blocks):
        out.update(graph.counts[block])
    return out


def _branches(counts: Counter[str]) -> int:
    return sum(counts[f"prog.op.{op}"] for op in _GROUPS["branch"])


def _mean(values: Sequence[float]) -> float:
    return float(sum(values)) / len(values) if values else 0.0


# ----------------------------------------------------------------------------- problem size

_NUMBA_ARRAY = re.compile(r"\barray\(\s*(\w+)\s*,\s*([0-9]{1,3})d\b")  # array(float64, 2d, C)
_DIMS_ARRAY = re.compile(r"^(\w+)\[([0-9]{1,3})d\]$")  # float32[2d]
_SLICE_ARRAY = re.compile(r"^(\w+)\[([\s:,0-9]*)\]$")  # float64[:, ::1]
_SHAPE = re.compile(r"^[0-9]{1,18}(?:x[0-9]{1,18})*$")  # 256x384; 64 for 1-D
_INT_DTYPE = re.compile(r"^u?int(?:\d+|p|c)?$")
_OPENING = {"(": ")", "[": "]", "{": "}"}


def problem_features(arg_types: str, inputs: str) -> dict[str, float]:
    """The ``prog.size.*`` features of a workload's argument types and problem instance.

    ``arg_types`` is a Numba signature (``(array(float64, 2d, C), int64)``, or
    ``float64[:, ::1]`` items) or a CUDA one (``(float32[2d], int32)``); ``inputs`` lists
    one item per argument: an array's shape (``256x384``; ``64`` for a 1-D array) or a
    scalar's value. Array items of ``inputs`` are those ``arg_types`` marks as arrays;
    without matching types, only multi-dimensional shapes (``AxB``) are taken as arrays.
    Element counts are ``log2(1 + n)``; shares are fractions of all arguments. Never
    raises; what cannot be read counts as nothing.
    """
    args = [_argument(item) for item in _split_items(arg_types)]
    is_array = [ndim is not None for _, ndim in args]
    sizes = _array_sizes(_split_items(inputs), is_array)
    dtypes = Counter(_dtype_class(dtype) for dtype, _ in args)
    count = len(args) or 1
    return {
        "prog.size.arrays": float(sum(is_array)),
        "prog.size.scalars": float(len(args) - sum(is_array)),
        "prog.size.max_ndim": float(max((n for _, n in args if n is not None), default=0)),
        "prog.size.log2_elements": math.log2(1 + sum(sizes)),
        "prog.size.log2_largest": math.log2(1 + max(sizes, default=0)),
        "prog.size.share_float64": dtypes["float64"] / count,
        "prog.size.share_float32": dtypes["float32"] / count,
        "prog.size.share_int": dtypes["int"] / count,
    }


def _argument(text: str) -> tuple[str, int | None]:
    """(dtype, ndim) of one argument type; ndim is ``None`` for a scalar."""
    match = _NUMBA_ARRAY.search(text) or _DIMS_ARRAY.match(text)
    if match:
        return match[1], int(match[2])
    match = _SLICE_ARRAY.match(text)
    if match and ":" in match[2]:
        return match[1], match[2].count(",") + 1
    return text, None


def _dtype_class(dtype: str) -> str:
    if dtype in ("float64", "double"):
        return "float64"
    if dtype in ("float32", "float"):
        return "float32"
    return "int" if _INT_DTYPE.match(dtype) else "other"


def _array_sizes(items: list[str], is_array: list[bool]) -> list[int]:
    if len(items) == len(is_array):
        shapes = [item for item, array in zip(items, is_array, strict=True) if array]
    else:
        shapes = [item for item in items if "x" in item]
    return [
        math.prod(map(int, s.split("x"))) if s != "0d" else 1
        for s in shapes
        if _SHAPE.match(s) or s == "0d"
    ]


def _split_items(text: str) -> list[str]:
    """The comma-separated items of a parenthesized list, split outside brackets."""
    text = text.strip()
    if text.startswith("(") and _closing(text, 0) == len(text) - 1:
        text = text[1:-1]
    items: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "," and depth == 0:
            items.append("".join(current).strip())
            current = []
            continue
        depth += char in _OPENING
        depth = max(depth - (char in _OPENING.values()), 0)
        current.append(char)
    items.append("".join(current).strip())
    return [item for item in items if item]


def _closing(text: str, start: int) -> int:
    """Index of the bracket closing the one at ``start``, or -1."""
    depth = 0
    for i in range(start, len(text)):
        depth += (text[i] in _OPENING) - (text[i] in _OPENING.values())
        if depth == 0:
            return i
    return -1
