"""Parameter types: the dimensions a search space is made of.

Every value is JSON-native (tuples become lists), so configs round-trip through
databases and replay files unchanged.
"""

from __future__ import annotations

import itertools
import math
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

JSONValue = Any


class BaseParam(ABC):
    """One dimension of a search space.

    Contract: ``sample`` and ``values`` return JSON-native values that ``validate``
    accepts; ``default`` is one of them. Parameters are immutable.
    """

    @property
    @abstractmethod
    def default(self) -> JSONValue: ...

    @abstractmethod
    def sample(self, rng: np.random.Generator) -> JSONValue: ...

    @abstractmethod
    def size(self) -> int:
        """Number of distinct values (may be very large)."""

    @abstractmethod
    def values(self) -> Iterator[JSONValue]:
        """Every value, in a fixed order."""

    @abstractmethod
    def validate(self, value: JSONValue) -> bool: ...

    @abstractmethod
    def describe(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Int(BaseParam):
    """An integer in ``[low, high]`` on a grid of ``step``."""

    low: int
    high: int
    step: int = 1
    default_value: int | None = None

    def __post_init__(self) -> None:
        if not all(_is_int(v) for v in (self.low, self.high, self.step)):
            raise ValueError(
                f"Int bounds and step must be integers, got {self.low}, {self.high}, {self.step}"
            )
        if self.step < 1 or self.high < self.low:
            raise ValueError(f"invalid Int range [{self.low}, {self.high}] step {self.step}")
        if self.default_value is not None and not self.validate(self.default_value):
            raise ValueError(f"default {self.default_value} is not in {self.describe()}")

    @property
    def default(self) -> int:
        return self.low if self.default_value is None else self.default_value

    def sample(self, rng: np.random.Generator) -> int:
        return self.low + self.step * int(rng.integers(0, self.size()))

    def size(self) -> int:
        return (self.high - self.low) // self.step + 1

    def values(self) -> Iterator[int]:
        return iter(range(self.low, self.high + 1, self.step))

    def validate(self, value: JSONValue) -> bool:
        return (
            isinstance(value, int)
            and not isinstance(value, bool)
            and self.low <= value <= self.high
            and (value - self.low) % self.step == 0
        )

    def describe(self) -> str:
        step = f" step {self.step}" if self.step != 1 else ""
        return f"int [{self.low}, {self.high}]{step}"


@dataclass(frozen=True, slots=True)
class Pow2(BaseParam):
    """A power of two in ``[low, high]`` (both powers of two)."""

    low: int
    high: int
    default_value: int | None = None

    def __post_init__(self) -> None:
        for v in (self.low, self.high):
            if not _is_int(v) or v < 1 or v & (v - 1):
                raise ValueError(f"Pow2 bounds must be powers of two, got {v}")
        if self.high < self.low:
            raise ValueError(f"invalid Pow2 range [{self.low}, {self.high}]")
        if self.default_value is not None and not self.validate(self.default_value):
            raise ValueError(f"default {self.default_value} is not in {self.describe()}")

    @property
    def default(self) -> int:
        return self.low if self.default_value is None else self.default_value

    def sample(self, rng: np.random.Generator) -> int:
        return self.low << int(rng.integers(0, self.size()))

    def size(self) -> int:
        return int(math.log2(self.high // self.low)) + 1

    def values(self) -> Iterator[int]:
        return (self.low << i for i in range(self.size()))

    def validate(self, value: JSONValue) -> bool:
        return (
            isinstance(value, int)
            and not isinstance(value, bool)
            and self.low <= value <= self.high
            and value & (value - 1) == 0
        )

    def describe(self) -> str:
        return f"pow2 [{self.low}, {self.high}]"


@dataclass(frozen=True, slots=True)
class Choice(BaseParam):
    """One of a fixed list of JSON-native values; the first is the default."""

    choices: tuple[JSONValue, ...]

    def __post_init__(self) -> None:
        if not self.choices:
            raise ValueError("Choice needs at least one value")
        if len({_freeze(c) for c in self.choices}) != len(self.choices):
            raise ValueError(f"Choice values must be distinct: {self.choices!r}")

    @property
    def default(self) -> JSONValue:
        return self.choices[0]

    def sample(self, rng: np.random.Generator) -> JSONValue:
        return self.choices[int(rng.integers(0, len(self.choices)))]

    def size(self) -> int:
        return len(self.choices)

    def values(self) -> Iterator[JSONValue]:
        return iter(self.choices)

    def validate(self, value: JSONValue) -> bool:
        return any(same_value(value, c) for c in self.choices)

    def describe(self) -> str:
        return "choice {" + ", ".join(repr(c) for c in self.choices) + "}"


def Bool(default: bool = False) -> Choice:
    """A boolean parameter whose default is ``default``."""
    return Choice((default, not default))


@dataclass(frozen=True, slots=True)
class Permutation(BaseParam):
    """An ordering of ``items`` (e.g. a loop order); the given order is the default.

    ``precedes`` holds ``(a, b)`` pairs: ``a`` must come before ``b`` in every valid
    ordering (a schedule with dependencies). The default order must respect them.
    """

    items: tuple[str, ...]
    precedes: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if len(set(self.items)) != len(self.items) or not self.items:
            raise ValueError(f"Permutation items must be distinct and non-empty: {self.items}")
        for a, b in self.precedes:
            if a not in self.items or b not in self.items or a == b:
                raise ValueError(f"ordering ({a!r}, {b!r}) must name two distinct items")
        if not self._ordered(self.items):
            raise ValueError(f"the default order {self.items} breaks {self.precedes}")

    def _ordered(self, order: Sequence[str]) -> bool:
        position = {item: i for i, item in enumerate(order)}
        return all(position[a] < position[b] for a, b in self.precedes)

    @property
    def default(self) -> list[str]:
        return list(self.items)

    def sample(self, rng: np.random.Generator) -> list[str]:
        """A random ordering that respects ``precedes``: each step picks uniformly among
        the items whose predecessors are all placed."""
        if not self.precedes:
            return [self.items[i] for i in rng.permutation(len(self.items))]
        order: list[str] = []
        left = list(self.items)
        while left:
            ready = [it for it in left if all(b != it or a in order for a, b in self.precedes)]
            pick = ready[int(rng.integers(len(ready)))]
            order.append(pick)
            left.remove(pick)
        return order

    def size(self) -> int:
        if not self.precedes:
            return math.factorial(len(self.items))
        return _count_linear_extensions(self.items, self.precedes)

    def values(self) -> Iterator[list[str]]:
        return (list(p) for p in itertools.permutations(self.items) if self._ordered(p))

    def validate(self, value: JSONValue) -> bool:
        return (
            isinstance(value, list)
            and len(value) == len(self.items)
            and all(isinstance(v, str) for v in value)
            and set(value) == set(self.items)
            and self._ordered(value)
        )

    def describe(self) -> str:
        rules = "".join(f", {a} before {b}" for a, b in self.precedes)
        return "permutation of (" + ", ".join(self.items) + ")" + rules


def _count_linear_extensions(items: tuple[str, ...], precedes: tuple[tuple[str, str], ...]) -> int:
    """Orderings of ``items`` that respect ``precedes``, by dynamic programming over the
    set of items already placed (items are few: loop orders, small schedules)."""
    index = {item: i for i, item in enumerate(items)}
    needs = [0] * len(items)
    for a, b in precedes:
        needs[index[b]] |= 1 << index[a]
    ways = [0] * (1 << len(items))
    ways[0] = 1
    for placed in range(len(ways)):
        if not ways[placed]:
            continue
        for i in range(len(items)):
            if not placed >> i & 1 and needs[i] & placed == needs[i]:
                ways[placed | 1 << i] += ways[placed]
    return ways[-1]


@dataclass(frozen=True, slots=True)
class Subset(BaseParam):
    """A subset of ``items``, as a list in the items' order; empty is the default."""

    items: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(set(self.items)) != len(self.items):
            raise ValueError(f"Subset items must be distinct: {self.items}")

    @property
    def default(self) -> list[str]:
        return []

    def sample(self, rng: np.random.Generator) -> list[str]:
        mask = rng.random(len(self.items)) < 0.5
        return [it for it, keep in zip(self.items, mask, strict=True) if keep]

    def size(self) -> int:
        return 2 ** len(self.items)

    def values(self) -> Iterator[list[str]]:
        for mask in itertools.product((False, True), repeat=len(self.items)):
            yield [it for it, keep in zip(self.items, mask, strict=True) if keep]

    def validate(self, value: JSONValue) -> bool:
        return (
            isinstance(value, list)
            and all(isinstance(v, str) for v in value)
            and len(set(value)) == len(value)
            and value == [it for it in self.items if it in value]
        )

    def describe(self) -> str:
        return "subset of {" + ", ".join(self.items) + "}"


@dataclass(frozen=True, slots=True)
class Seq(BaseParam):
    """A sequence of ``choices`` (repeats allowed) with ``min_len <= len <= max_len``.

    Used for pass orders. ``after`` holds ``(item, enablers)`` rules: ``item`` may
    appear only after one of ``enablers`` has appeared earlier in the sequence (e.g. a
    loop pass only after loop canonicalization). The default is the shortest sequence
    made of the first choice, which must not be subject to a rule.
    """

    choices: tuple[str, ...]
    min_len: int = 1
    max_len: int = 8
    after: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def __post_init__(self) -> None:
        if not self.choices or self.min_len < 0 or self.max_len < max(self.min_len, 1):
            raise ValueError("Sequence needs choices and 0 <= min_len <= max_len, max_len >= 1")
        if len(set(self.choices)) != len(self.choices):
            raise ValueError(f"Sequence choices must be distinct: {self.choices}")
        for item, enablers in self.after:
            known = item in self.choices and enablers and set(enablers) <= set(self.choices)
            if not known or item in enablers:
                raise ValueError(f"ordering rule {item!r} after {enablers!r} names unknown items")
        if self.min_len and self._rules().get(self.choices[0]):
            raise ValueError(f"the first choice {self.choices[0]!r} cannot be ordered")

    def _rules(self) -> dict[str, tuple[str, ...]]:
        return dict(self.after)

    def allowed(self, prefix: Sequence[str]) -> list[str]:
        """The choices that may follow ``prefix`` under the ordering rules."""
        rules, seen = self._rules(), set(prefix)
        return [c for c in self.choices if c not in rules or seen.intersection(rules[c])]

    def ordered(self, seq: Sequence[str]) -> bool:
        """Whether every item of ``seq`` comes after one of its enablers."""
        rules, seen = self._rules(), set[str]()
        for item in seq:
            if item in rules and not seen.intersection(rules[item]):
                return False
            seen.add(item)
        return True

    @property
    def default(self) -> list[str]:
        return [self.choices[0]] * self.min_len

    def sample(self, rng: np.random.Generator) -> list[str]:
        length = int(rng.integers(self.min_len, self.max_len + 1))
        if not self.after:
            return [self.choices[int(i)] for i in rng.integers(0, len(self.choices), size=length)]
        seq: list[str] = []
        for _ in range(length):
            options = self.allowed(seq)
            seq.append(options[int(rng.integers(len(options)))])
        return seq

    def size(self) -> int:
        if not self.after:
            n = len(self.choices)
            return sum(n**k for k in range(self.min_len, self.max_len + 1))
        return self._count_ordered()

    def _count_ordered(self) -> int:
        """Valid sequences, counted by length over the set of enablers seen so far."""
        rules = self._rules()
        enablers = sorted({e for _, group in self.after for e in group})
        states: dict[frozenset[str], int] = {frozenset(): 1}
        total = states[frozenset()] if self.min_len == 0 else 0
        for length in range(1, self.max_len + 1):
            nxt: dict[frozenset[str], int] = {}
            for seen, ways in states.items():
                for c in self.choices:
                    if c in rules and not seen.intersection(rules[c]):
                        continue
                    key = seen | {c} if c in enablers else seen
                    nxt[key] = nxt.get(key, 0) + ways
            states = nxt
            if length >= self.min_len:
                total += sum(states.values())
        return total

    def values(self) -> Iterator[list[str]]:
        for k in range(self.min_len, self.max_len + 1):
            for seq in itertools.product(self.choices, repeat=k):
                if self.ordered(seq):
                    yield list(seq)

    def validate(self, value: JSONValue) -> bool:
        return (
            isinstance(value, list)
            and self.min_len <= len(value) <= self.max_len
            and all(v in self.choices for v in value)
            and self.ordered(value)
        )

    def describe(self) -> str:
        text = f"sequence of {len(self.choices)} passes, length {self.min_len}..{self.max_len}"
        if self.after:
            text += f", {len(self.after)} ordering rules"
        return text


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def same_value(a: JSONValue, b: JSONValue) -> bool:
    """Equality that keeps ``True`` distinct from ``1`` (bool is an int subclass)."""
    return type(a) is type(b) and a == b


def _freeze(value: JSONValue) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    return (type(value).__name__, value)
