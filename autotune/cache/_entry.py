"""Config-cache entries, and how well an entry's target matches this machine."""

from __future__ import annotations

import platform
from dataclasses import asdict, dataclass, field
from enum import IntEnum
from typing import Any

from autotune.cache._key import bucket_text
from autotune.program import Target

#: x86-64 micro-architecture levels (the psABI's), as LLVM names the features each adds.
_X86_LEVELS = (
    ("v2", ("cx16", "sahf", "popcnt", "sse3", "sse4.1", "sse4.2", "ssse3")),
    (
        "v3",
        ("avx", "avx2", "bmi", "bmi2", "f16c", "fma", "lzcnt", "movbe", "xsave"),
    ),
    ("v4", ("avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl")),
)


class MatchLevel(IntEnum):
    """How closely the machine an entry was tuned on matches this one; lower is closer.

    Only ``EXACT`` is used as it is. ``CPU_NAME`` and ``ISA`` entries are used once
    they are verified on load; ``NONE`` entries are never used.
    """

    EXACT = 0  # same CPU name and features
    CPU_NAME = 1  # same CPU name, other features
    ISA = 2  # same x86-64 level (v2/v3/v4), or the same architecture elsewhere
    NONE = 3

    @property
    def needs_verification(self) -> bool:
        return self in (MatchLevel.CPU_NAME, MatchLevel.ISA)

    @property
    def label(self) -> str:
        return {0: "exact", 1: "same CPU", 2: "same ISA level", 3: "none"}[int(self)]


def isa_level(cpu_features: str, arch: str) -> str:
    """``x86-64-v1`` .. ``x86-64-v4`` from LLVM's feature string on x86-64; the
    architecture's name elsewhere."""
    if arch.lower() not in ("x86_64", "amd64"):
        return arch.lower()
    enabled = {f[1:] for f in cpu_features.split(",") if f.startswith("+")}
    level = "v1"
    for name, needed in _X86_LEVELS:
        if not enabled.issuperset(needed):
            break
        level = name
    return f"x86-64-{level}"


def target_facts(target: Target) -> dict[str, str]:
    """What an entry records of the machine it was tuned on."""
    facts = target.as_dict()
    facts["arch"] = platform.machine()
    facts["isa"] = isa_level(target.cpu_features, facts["arch"])
    facts["key"] = target.key
    return facts


def match_level(recorded: dict[str, str], host: Target) -> MatchLevel:
    """How the target ``recorded`` in an entry matches ``host``."""
    if recorded.get("cpu_name") == host.cpu_name:
        if recorded.get("cpu_features") == host.cpu_features:
            return MatchLevel.EXACT
        return MatchLevel.CPU_NAME
    here = isa_level(host.cpu_features, platform.machine())
    there = recorded.get("isa") or isa_level(
        recorded.get("cpu_features", ""), recorded.get("arch", "")
    )
    return MatchLevel.ISA if here == there else MatchLevel.NONE


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """The config a finished tuning run chose for one kernel, size bucket and target.

    ``config`` is ``{}`` when Numba's default build won (the kernel is tuned; nothing
    beat the default). ``code_hash`` is :func:`autotune.program.code_hash` of that
    config's build; whoever builds the config compares it, and a mismatch means the
    entry is stale. ``ir_hash`` is the program's normalized IR hash at tuning time.
    ``space_digest`` identifies the search space that was searched: a later space with
    other configs in it makes the entry out of date for ``build --check``.
    """

    digest: str
    bucket: tuple[int, ...]
    kernel: str
    config: dict[str, Any]
    target: dict[str, str]
    ir_hash: str = ""
    code_hash: str | None = None
    program: str = ""
    arg_types: str = ""
    inputs: str = ""
    speedup: float = 1.0
    speedup_ci95: tuple[float, float] = (1.0, 1.0)
    space_digest: str = ""
    source: str = ""
    spec: str | None = None
    size: str | None = None
    created_at: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def target_key(self) -> str:
        return self.target.get("key", "")

    @property
    def bucket_text(self) -> str:
        return bucket_text(self.bucket)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["bucket"] = list(self.bucket)
        data["speedup_ci95"] = list(self.speedup_ci95)
        extra = data.pop("extra")
        return {**extra, **data}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CacheEntry:
        """Raises ValueError (or KeyError/TypeError) for data that is not an entry."""
        known = set(cls.__dataclass_fields__) - {"extra"}
        values = {k: v for k, v in data.items() if k in known}
        values["bucket"] = tuple(int(b) for b in data["bucket"])
        lo, hi = data.get("speedup_ci95", (1.0, 1.0))
        values["speedup_ci95"] = (float(lo), float(hi))
        if not isinstance(data["config"], dict) or not isinstance(data["target"], dict):
            raise ValueError("config and target must be objects")
        if not isinstance(data["digest"], str) or not isinstance(data["kernel"], str):
            raise ValueError("digest and kernel must be strings")
        extra = {k: v for k, v in data.items() if k not in known}
        return cls(**values, extra=extra)


@dataclass(frozen=True, slots=True)
class CacheHit:
    """An entry found for a key: how well its target matched, and whether its bucket
    is the key's own (``nearest`` when another size's entry stands in)."""

    entry: CacheEntry
    level: MatchLevel
    nearest: bool

    def describe(self) -> str:
        where = f"tuned on {self.entry.target.get('cpu_name', '?')} ({self.level.label})"
        size = " for the nearest size bucket" if self.nearest else ""
        what = "Numba's default build" if not self.entry.config else "a tuned config"
        return f"{self.entry.kernel}: {what}{size}, {where}, speedup {self.entry.speedup:.2f}x"
