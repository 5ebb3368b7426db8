"""Candidates: a config of a search space with a stable identity."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: equal configs give equal text."""
    try:
        return json.dumps(
            value, sort_keys=True, separators=(",", ":"), default=_reject, allow_nan=False
        )
    except ValueError:
        raise ValueError(f"config values must be finite JSON numbers: {value!r}") from None


def _reject(value: Any) -> Any:
    raise TypeError(f"config values must be JSON-native, got {type(value).__name__}: {value!r}")


@dataclass(frozen=True, slots=True)
class Candidate:
    """One point of a search space.

    ``config_json`` is the canonical JSON of the config; ``key`` is its SHA-256 prefix.
    Two candidates are equal exactly when their configs are equal.
    """

    config_json: str

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Candidate:
        return cls(canonical_json(dict(config)))

    @property
    def config(self) -> dict[str, Any]:
        return json.loads(self.config_json)

    @property
    def key(self) -> str:
        return hashlib.sha256(self.config_json.encode()).hexdigest()[:20]
