"""Shared fixtures. One source of randomness: every seeded test takes ``global_random_seed``."""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def global_random_seed() -> int:
    """The seed of every seeded test: 0, or ``AUTOTUNE_TEST_SEED`` to try another."""
    return int(os.environ.get("AUTOTUNE_TEST_SEED", "0"))
