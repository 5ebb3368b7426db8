"""Fixtures of the kernel-declaration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.kernels._helpers import restored_import_state


@pytest.fixture(autouse=True)
def _restore_import_state() -> Iterator[None]:
    """Every test imports kernel files of its own: leave no module or path behind."""
    with restored_import_state():
        yield
