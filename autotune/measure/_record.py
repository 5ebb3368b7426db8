"""Recording a search space exhaustively, for replay by strategies and benchmarks.

A *space file* is a replay file whose kernel entry also carries ``"space"``: the
definition of every dimension (spec-file parameter tables), so the space can be rebuilt
without the kernel's source. Recording measures every valid config of the space against
the interleaved baseline, and rewrites the file every few configs, so an interrupted
recording loses little and resumes where it stopped.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autotune.candidate import Candidate
from autotune.kernels import KernelDecl, load_kernels
from autotune.kernels._spec import param_from_spec, param_to_spec
from autotune.measure._base import MeasureRequest
from autotune.measure._local import LocalRunner
from autotune.measure._protocol import KernelRef
from autotune.measure._replay import ReplayData, ReplayKernel
from autotune.passes import KERNEL_PREFIX
from autotune.program import host_target
from autotune.records import MeasureResult, TimingSettings
from autotune.space import SearchSpace

SAVE_EVERY = 10


def space_from_definition(definition: Mapping[str, Any]) -> SearchSpace:
    """A search space whose dimensions are spec-file parameter tables, in order."""
    space = SearchSpace()
    for name, spec in definition.items():
        space.add(name, param_from_spec(f"space.{name}", spec))
    return space


@dataclass(frozen=True)
class SpaceRecipe:
    """Which kernel to record, at which size, crossed with which compiler settings."""

    source: str
    kernel: str
    size: str
    dimensions: Mapping[str, Mapping[str, Any]]

    def definition(self, decl: KernelDecl) -> dict[str, Any]:
        params = {KERNEL_PREFIX + n: param_to_spec(p) for n, p in decl.params.items()}
        return {**params, **self.dimensions}


def record_space(
    recipe: SpaceRecipe,
    out: Path,
    settings: TimingSettings,
    progress: Callable[[int, int, MeasureResult], None] = lambda i, n, r: None,
) -> ReplayData:
    """Measure every valid config of ``recipe`` and write the space file ``out``."""
    decl = next(d for d in load_kernels(Path(recipe.source)) if d.name == recipe.kernel)
    definition = recipe.definition(decl)
    space = space_from_definition(definition)
    configs = [c for c in space.enumerate() if space.violation(c) is None]
    data = _resume(out, recipe.kernel)
    ref = KernelRef(str(Path(recipe.source).resolve()), None, recipe.kernel, recipe.size)
    with LocalRunner() as runner:
        if data is None:
            workload = runner.lower(ref).workload
            if workload is None:
                raise RuntimeError(f"{recipe.kernel} does not lower")
            [baseline] = runner.measure(ref, [MeasureRequest(None, settings)])
            kernel = ReplayKernel(workload, baseline, {}, definition)
            data = ReplayData(host_target(), {recipe.kernel: kernel})
        kernel = data.kernels[recipe.kernel]
        for i, config in enumerate(configs):
            key = Candidate.from_config(config).key
            if key in kernel.results:
                continue
            [result] = runner.measure(ref, [MeasureRequest(config, settings)])
            kernel.results[key] = (config, result)
            progress(i + 1, len(configs), result)
            if len(kernel.results) % SAVE_EVERY == 0:
                _save(data, out)
    _save(data, out)
    return data


def _resume(out: Path, kernel: str) -> ReplayData | None:
    if not out.exists():
        return None
    data = ReplayData.load(out)
    return data if kernel in data.kernels else None


def _save(data: ReplayData, out: Path) -> None:
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(data.to_json()))
    os.replace(tmp, out)  # atomic: a crash leaves the old file or the new one
