"""Search spaces: typed parameters, conditional activation and constraints.

A :class:`SearchSpace` is an ordered set of named parameters. A *config* is a plain
``dict[str, JSONValue]`` holding a value for every parameter that is *active* in it;
a parameter with a condition is active only when its parent holds one of the listed
values. Values are always JSON-native (tuples become lists) so that configs round-trip
through databases and replay files unchanged.
"""

from __future__ import annotations

import itertools
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

JSONValue = Any
Config = dict[str, JSONValue]
Constraint = Callable[[Mapping[str, JSONValue]], "bool | str"]

#: Above this many configs a space is not enumerated.
ENUMERATION_LIMIT = 200_000


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
        return any(_same(value, c) for c in self.choices)

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


@dataclass(frozen=True, slots=True)
class Condition:
    """``param`` is active only while ``parent`` holds one of ``values``."""

    parent: str
    values: tuple[JSONValue, ...]

    def holds(self, config: Mapping[str, JSONValue]) -> bool:
        return self.parent in config and any(_same(config[self.parent], v) for v in self.values)


@dataclass(frozen=True, slots=True)
class _Entry:
    name: str
    param: BaseParam
    condition: Condition | None


@dataclass
class SearchSpace:
    """An ordered set of named parameters with conditions and constraints.

    A parameter's parent must be added before it, so a single pass in insertion order
    decides activity. Constraints take a config and return ``True`` when it is valid,
    or ``False``/a reason string when it is not.
    """

    _entries: list[_Entry] = field(default_factory=list)
    _constraints: list[tuple[str, Constraint]] = field(default_factory=list)

    def add(self, name: str, param: BaseParam, condition: Condition | None = None) -> SearchSpace:
        if any(e.name == name for e in self._entries):
            raise ValueError(f"parameter {name!r} already defined")
        if condition is not None and not any(e.name == condition.parent for e in self._entries):
            raise ValueError(f"condition parent {condition.parent!r} must be added before {name!r}")
        self._entries.append(_Entry(name, param, condition))
        return self

    def add_constraint(self, name: str, check: Constraint) -> SearchSpace:
        self._constraints.append((name, check))
        return self

    @property
    def names(self) -> list[str]:
        return [e.name for e in self._entries]

    def __getitem__(self, name: str) -> BaseParam:
        for e in self._entries:
            if e.name == name:
                return e.param
        raise KeyError(name)

    def __len__(self) -> int:
        return len(self._entries)

    def default_config(self) -> Config:
        return self._complete(lambda e: e.param.default)

    def with_defaults(self, config: Mapping[str, JSONValue]) -> Config:
        """``config`` made complete: active parameters it lacks take their defaults,
        and parameters made inactive by its values are dropped."""
        return self._complete(lambda e: config.get(e.name, e.param.default))

    def sample(self, rng: np.random.Generator) -> Config:
        return self._complete(lambda e: e.param.sample(rng))

    def _complete(self, pick: Callable[[_Entry], JSONValue]) -> Config:
        config: Config = {}
        for e in self._entries:
            if e.condition is None or e.condition.holds(config):
                config[e.name] = pick(e)
        return config

    def violation(self, config: Mapping[str, JSONValue]) -> str | None:
        """Why ``config`` is not a valid point of this space, or ``None`` if it is."""
        expected: set[str] = set()
        for e in self._entries:
            active = e.condition is None or e.condition.holds(config)
            if not active:
                continue
            expected.add(e.name)
            if e.name not in config:
                return f"missing parameter {e.name!r}"
            if not e.param.validate(config[e.name]):
                return f"{e.name}={config[e.name]!r} is not in {e.param.describe()}"
        extra = set(config) - expected
        if extra:
            return f"unexpected or inactive parameters: {sorted(extra)}"
        for name, check in self._constraints:
            verdict = check(config)
            if verdict is not True:
                return f"constraint {name!r} violated" + (
                    f": {verdict}" if isinstance(verdict, str) else ""
                )
        return None

    def size(self) -> int:
        """Number of configs counting conditional branches, before constraints."""
        return self._count(0, {})

    def _count(self, index: int, config: Config) -> int:
        if index == len(self._entries):
            return 1
        e = self._entries[index]
        if e.condition is not None and not e.condition.holds(config):
            return self._count(index + 1, config)
        if not any(
            later.condition is not None and later.condition.parent == e.name
            for later in self._entries[index + 1 :]
        ):
            return e.param.size() * self._count(index + 1, config)
        total = 0
        for v in e.param.values():
            total += self._count(index + 1, {**config, e.name: v})
        return total

    def enumerate(self, limit: int = ENUMERATION_LIMIT) -> Iterator[Config]:
        """Every config (valid or not), in a fixed order. Refuses spaces over ``limit``."""
        if self.size() > limit:
            raise ValueError(f"space has {self.size()} configs, more than {limit} to enumerate")
        yield from self._walk(0, {})

    def _walk(self, index: int, config: Config) -> Iterator[Config]:
        if index == len(self._entries):
            yield dict(config)
            return
        e = self._entries[index]
        if e.condition is not None and not e.condition.holds(config):
            yield from self._walk(index + 1, config)
            return
        for v in e.param.values():
            config[e.name] = v
            yield from self._walk(index + 1, config)
            del config[e.name]

    def describe(self) -> list[tuple[str, str, str]]:
        """(name, domain, condition) rows for display."""
        rows = []
        for e in self._entries:
            cond = ""
            if e.condition is not None:
                cond = f"if {e.condition.parent} in {list(e.condition.values)}"
            rows.append((e.name, e.param.describe(), cond))
        return rows


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _same(a: JSONValue, b: JSONValue) -> bool:
    """Equality that keeps ``True`` distinct from ``1`` (bool is an int subclass)."""
    return type(a) is type(b) and a == b


def _freeze(value: JSONValue) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    return (type(value).__name__, value)
