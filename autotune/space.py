"""Search spaces: typed parameters, conditional activation and constraints.

A :class:`SearchSpace` is an ordered set of named parameters. A *config* is a plain
``dict[str, JSONValue]`` holding a value for every parameter that is *active* in it;
a parameter with a condition is active only when its parent holds one of the listed
values. Values are always JSON-native (tuples become lists) so that configs round-trip
through databases and replay files unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np

from autotune.params import (
    BaseParam,
    Bool,
    Choice,
    Int,
    JSONValue,
    Permutation,
    Pow2,
    Seq,
    Subset,
    same_value,
)

__all__ = [
    "ENUMERATION_LIMIT",
    "BaseParam",
    "Bool",
    "Choice",
    "Condition",
    "Config",
    "Constraint",
    "Int",
    "Permutation",
    "Pow2",
    "SearchSpace",
    "Seq",
    "Subset",
]

Config = dict[str, JSONValue]
Constraint = Callable[[Mapping[str, JSONValue]], "bool | str"]

#: Above this many configs a space is not enumerated.
ENUMERATION_LIMIT = 200_000


@dataclass(frozen=True, slots=True)
class Condition:
    """``param`` is active only while ``parent`` holds one of ``values``."""

    parent: str
    values: tuple[JSONValue, ...]

    def holds(self, config: Mapping[str, JSONValue]) -> bool:
        return self.parent in config and any(
            same_value(config[self.parent], v) for v in self.values
        )


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
    or ``False``/a reason string when it is not; one that raises makes the config
    invalid, with the exception as the reason.
    """

    _entries: list[_Entry] = field(default_factory=list)
    _constraints: list[tuple[str, Constraint]] = field(default_factory=list)
    _landmarks: list[Config] = field(default_factory=list)
    _annotations: dict[str, dict[str, float]] = field(default_factory=dict)

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

    def add_landmark(self, partial: Mapping[str, JSONValue]) -> SearchSpace:
        """A config worth measuring before any search: ``partial`` with every other
        parameter at its default (e.g. the scalarized kernel with nothing else)."""
        self._landmarks.append(dict(partial))
        return self

    def landmarks(self) -> list[Config]:
        """The landmark configs, completed with defaults, that are valid points."""
        configs = [self.with_defaults(p) for p in self._landmarks]
        return [c for c in configs if self.violation(c) is None]

    def annotate(self, name: str, facts: Mapping[str, float]) -> SearchSpace:
        """Attach numeric ``facts`` about parameter ``name`` for models to read (what
        each loop of a band costs innermost, for one); they change no config."""
        self[name]  # raises KeyError for an unknown parameter
        self._annotations[name] = {str(k): float(v) for k, v in facts.items()}
        return self

    def annotation(self, name: str) -> Mapping[str, float]:
        """The facts :meth:`annotate` attached to ``name`` (empty when none)."""
        return dict(self._annotations.get(name, {}))

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
            try:
                verdict = check(config)
            except Exception as exc:  # a bug in the user's check: this config is not valid
                return f"constraint {name!r} raised {type(exc).__name__}: {exc}"
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
