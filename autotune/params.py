"""Parameter types: the dimensions a search space is made of.

Every value is JSON-native (tuples become lists), so configs round-trip through
databases and replay files unchanged.
"""

from __future__ import annotations

import itertools
import math
from abc import ABC, abstractmethod
from collections.abc import Iterator
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
    """An ordering of ``items`` (e.g. a loop order); the given order is the default."""

    items: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(set(self.items)) != len(self.items) or not self.items:
            raise ValueError(f"Permutation items must be distinct and non-empty: {self.items}")

    @property
    def default(self) -> list[str]:
        return list(self.items)

    def sample(self, rng: np.random.Generator) -> list[str]:
        return [self.items[i] for i in rng.permutation(len(self.items))]

    def size(self) -> int:
        return math.factorial(len(self.items))

    def values(self) -> Iterator[list[str]]:
        return (list(p) for p in itertools.permutations(self.items))

    def validate(self, value: JSONValue) -> bool:
        return (
            isinstance(value, list)
            and len(value) == len(self.items)
            and all(isinstance(v, str) for v in value)
            and set(value) == set(self.items)
        )

    def describe(self) -> str:
        return "permutation of (" + ", ".join(self.items) + ")"


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

    Used for pass orders. The default is the shortest sequence made of the first choice.
    """

    choices: tuple[str, ...]
    min_len: int = 1
    max_len: int = 8

    def __post_init__(self) -> None:
        if not self.choices or self.min_len < 0 or self.max_len < max(self.min_len, 1):
            raise ValueError("Sequence needs choices and 0 <= min_len <= max_len, max_len >= 1")
        if len(set(self.choices)) != len(self.choices):
            raise ValueError(f"Sequence choices must be distinct: {self.choices}")

    @property
    def default(self) -> list[str]:
        return [self.choices[0]] * self.min_len

    def sample(self, rng: np.random.Generator) -> list[str]:
        length = int(rng.integers(self.min_len, self.max_len + 1))
        return [self.choices[int(i)] for i in rng.integers(0, len(self.choices), size=length)]

    def size(self) -> int:
        n = len(self.choices)
        return sum(n**k for k in range(self.min_len, self.max_len + 1))

    def values(self) -> Iterator[list[str]]:
        for k in range(self.min_len, self.max_len + 1):
            for seq in itertools.product(self.choices, repeat=k):
                yield list(seq)

    def validate(self, value: JSONValue) -> bool:
        return (
            isinstance(value, list)
            and self.min_len <= len(value) <= self.max_len
            and all(v in self.choices for v in value)
        )

    def describe(self) -> str:
        return f"sequence of {len(self.choices)} passes, length {self.min_len}..{self.max_len}"


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
