"""Features of a workload's unoptimized IR and of a config, for cost models.

Features come from the normalized IR text, so they are identical for equal workload
keys on any machine. Config features encode every search-space entry numerically.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from typing import Any

import numpy as np

#: Opcodes counted individually; anything else counts under "other".
OPCODES = (
    "load",
    "store",
    "getelementptr",
    "alloca",
    "br",
    "phi",
    "icmp",
    "fcmp",
    "add",
    "sub",
    "mul",
    "sdiv",
    "srem",
    "fadd",
    "fsub",
    "fmul",
    "fdiv",
    "call",
    "select",
    "sext",
    "zext",
    "trunc",
    "sitofp",
    "fptosi",
    "bitcast",
    "ret",
)
_ASSIGNED = re.compile(r"^\s+%[\w.\"$]+ = (\w+)")
_UNASSIGNED = re.compile(r"^\s+(store|br|ret|call|switch|unreachable)\b")
_LABEL = re.compile(r"^[\w.\"$-]+:")


def ir_features(ir_text: str) -> dict[str, float]:
    """Opcode counts, block count and function count of LLVM IR text."""
    counts: Counter[str] = Counter()
    blocks = functions = 0
    for line in ir_text.splitlines():
        if line.startswith("define "):
            functions += 1
            continue
        if _LABEL.match(line):
            blocks += 1
            continue
        match = _ASSIGNED.match(line) or _UNASSIGNED.match(line)
        if match:
            op = match.group(1)
            counts[op if op in OPCODES else "other"] += 1
    total = sum(counts.values())
    features = {f"ir.{op}": float(counts.get(op, 0)) for op in (*OPCODES, "other")}
    features.update(
        {"ir.total": float(total), "ir.blocks": float(blocks), "ir.functions": float(functions)}
    )
    return features


def config_features(config: Mapping[str, Any]) -> dict[str, float]:
    """A numeric encoding of a config: numbers as they are, strings and lists one-hot
    or as membership counts (a pass sequence becomes per-pass counts and its length)."""
    out: dict[str, float] = {}
    for key, value in config.items():
        if isinstance(value, bool | int | float):
            out[key] = float(value)
        elif isinstance(value, str):
            out[f"{key}={value}"] = 1.0
        elif isinstance(value, list):
            out[f"{key}.len"] = float(len(value))
            for item, n in Counter(map(str, value)).items():
                out[f"{key}:{item}"] = float(n)
    return out


def vectorize(
    rows: list[dict[str, float]], columns: list[str] | None = None
) -> tuple[np.ndarray, list[str]]:
    """Stack feature dicts into a matrix; missing features are 0. Returns the columns."""
    if columns is None:
        columns = sorted({k for row in rows for k in row})
    matrix = np.array([[row.get(c, 0.0) for c in columns] for row in rows], dtype=float)
    return matrix.reshape(len(rows), len(columns)), columns
