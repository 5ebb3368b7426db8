"""Shared fixtures. One source of randomness: every seeded test takes ``global_random_seed``."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings


@pytest.fixture
def global_random_seed() -> int:
    """The seed of every seeded test: 0, or ``AUTOTUNE_TEST_SEED`` to try another."""
    return int(os.environ.get("AUTOTUNE_TEST_SEED", "0"))


# Hypothesis draws the same examples on every run (seeded, like everything else here)
# and keeps no example database in the working tree.
settings.register_profile("autotune", derandomize=True, database=None, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "autotune"))
