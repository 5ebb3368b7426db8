"""Recording a space exhaustively, resuming it, and rebuilding the space from the file."""

import pytest

from autotune.measure._record import SpaceRecipe, record_space, space_from_definition
from autotune.measure._replay import ReplayData
from autotune.records import Status
from tests._helpers import FAST_TIMING, FIXTURES

pytestmark = pytest.mark.slow


def test_every_config_is_recorded_and_the_space_rebuilds_from_the_file(tmp_path):
    recipe = SpaceRecipe(
        str(FIXTURES / "planted.py"),
        "scale_with_noise_param",
        "default",
        {"flags.error_model": {"choices": ["python", "numpy"]}},
    )
    out = tmp_path / "space.json"
    calls = []
    record_space(recipe, out, FAST_TIMING, lambda i, n, r: calls.append((i, n)))
    data = ReplayData.load(out)
    kernel = data.kernels["scale_with_noise_param"]
    space = space_from_definition(kernel.space)
    assert space.size() == 8 == len(kernel.results)
    assert kernel.baseline is not None and kernel.baseline.status is Status.OK
    assert all(r.status is Status.OK and r.timing for _, r in kernel.results.values())
    # Resuming a complete file measures nothing.
    calls.clear()
    record_space(recipe, out, FAST_TIMING, lambda i, n, r: calls.append((i, n)))
    assert calls == []
