"""Neighbourhoods of configs: what a local or evolutionary search changes."""

from __future__ import annotations

from typing import Any

import numpy as np

from autotune.space import BaseParam, Config, Permutation, SearchSpace, Seq, Subset

#: Edits tried before a fresh draw replaces a value whose ordering rules keep failing.
MAX_ORDERED_EDITS = 20


def mutate_value(param: BaseParam, value: Any, rng: np.random.Generator) -> Any:
    """A nearby value of ``param``: an edit of a sequence, a swap in a permutation, a
    flipped subset member, otherwise a fresh draw. Ordering rules of sequences and
    permutations are respected: an edit that breaks them is tried again."""
    if isinstance(param, Seq | Permutation) and isinstance(value, list):
        for _ in range(MAX_ORDERED_EDITS):
            moved = _move(param, value, rng)
            if param.validate(moved):
                return moved
        return param.sample(rng)
    return _move(param, value, rng)


def _move(param: BaseParam, value: Any, rng: np.random.Generator) -> Any:
    if isinstance(param, Seq) and isinstance(value, list):
        return _edit_sequence(param, list(value), rng)
    if isinstance(param, Permutation) and isinstance(value, list) and len(value) > 1:
        i, j = rng.choice(len(value), size=2, replace=False)
        swapped = list(value)
        swapped[i], swapped[j] = swapped[j], swapped[i]
        return swapped
    if isinstance(param, Subset) and isinstance(value, list):
        item = param.items[int(rng.integers(len(param.items)))]
        members = set(value) ^ {item}
        return [it for it in param.items if it in members]
    return param.sample(rng)


def _edit_sequence(param: Seq, seq: list[str], rng: np.random.Generator) -> list[str]:
    moves = ["replace"] if seq else []
    if len(seq) < param.max_len:
        moves.append("insert")
    if len(seq) > param.min_len:
        moves.append("delete")
    if not moves:
        return param.sample(rng)
    move = moves[int(rng.integers(len(moves)))]
    if move == "delete":
        del seq[int(rng.integers(len(seq)))]
        return seq
    at = int(rng.integers(len(seq) + (move == "insert")))
    options = param.allowed(seq[:at])  # what may stand at this position
    pick = options[int(rng.integers(len(options)))]
    if move == "insert":
        seq.insert(at, pick)
    else:
        seq[at] = pick
    return seq


def mutate(
    space: SearchSpace, config: Config, rng: np.random.Generator, changes: int = 1
) -> Config:
    """``config`` with ``changes`` active parameters moved to nearby values."""
    out = dict(config)
    for _ in range(changes):
        active = [name for name in space.names if name in out]
        name = active[int(rng.integers(len(active)))]
        out[name] = mutate_value(space[name], out[name], rng)
        out = space.with_defaults(out)  # a changed parent may switch children on or off
    return out


def crossover(space: SearchSpace, a: Config, b: Config, rng: np.random.Generator) -> Config:
    """Each parameter from one parent or the other, made consistent with the space."""
    child: Config = {}
    for name in space.names:
        sources = [p for p in (a, b) if name in p]
        if sources:
            child[name] = sources[int(rng.integers(len(sources)))][name]
    return space.with_defaults(child)
