"""``python -m smoothing``: run each kernel on data of the size its spec declares,
check it against NumPy, and say how each call was built.

Exits 1 when a result differs from NumPy's.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import numpy as np

from autotune.deploy import BuildInfo
from smoothing import kernels

SPEC = Path(kernels.__file__).with_name("kernels.autotune.toml")
#: Each argument's shape and dtype name.
Shapes = list[tuple[tuple[int, ...], str]]


def spec_shapes() -> dict[str, Shapes]:
    """Each kernel's argument shapes and dtypes, as the spec file declares them: the
    calls below must have the types and sizes the build step tuned."""
    spec = tomllib.loads(SPEC.read_text(encoding="utf-8"))
    return {
        table["function"]: [(tuple(arg["shape"]), arg["dtype"]) for arg in table["inputs"]]
        for table in spec["kernel"]
    }


def run_smooth(rng: np.random.Generator, shapes: Shapes) -> bool:
    (x_shape, x_dtype), (out_shape, out_dtype) = shapes
    x = rng.random(x_shape).astype(x_dtype)
    out = np.zeros(out_shape, out_dtype)
    kernels.smooth(x, out)
    want = np.empty_like(out)
    kernels.smooth_numpy(x, want)
    return report("smooth", kernels.smooth.info((x, out)), np.allclose(out, want, rtol=1e-12))


def run_rowsum(rng: np.random.Generator, shapes: Shapes) -> bool:
    ((m_shape, m_dtype),) = shapes
    m = rng.random(m_shape).astype(m_dtype)
    got = kernels.rowsum(m)
    return report("rowsum", kernels.rowsum.info((m,)), np.allclose(got, m.sum(axis=1)))


def report(name: str, info: BuildInfo, matches: bool) -> bool:
    """Print how ``name``'s call was built and whether it agrees with NumPy, then
    the build's own detail (where the config was tuned, its speedup there)."""
    check = "matches NumPy" if matches else "DIFFERS FROM NUMPY"
    print(f"{name}: {headline(info)}; {check}")
    print(f"    {info.detail}")
    return matches


def headline(info: BuildInfo) -> str:
    """How a call was built, in a few words: "tuned ..." exactly when the bundle's
    config (or a config tuned on this call) was used."""
    match = f"{info.level} match" + (", nearest size" if info.nearest else "")
    if info.outcome == "hit" and info.config:
        return f"tuned config ({match})"
    if info.outcome == "hit":
        return f"tuned: Numba's default build was fastest ({match})"
    if info.outcome == "tuned":
        return "tuned config (tuned on this call)"
    return f"Numba's default build: {DEFAULT_BECAUSE.get(info.outcome, info.outcome)}"


#: Why a call ran Numba's default build, by :attr:`BuildInfo.outcome`.
DEFAULT_BECAUSE = {
    "miss": "no tuned config",
    "stale": "the tuned config is stale (the kernel changed)",
    "rejected": "the tuned config gives other results on this CPU",
    "error": "the tuned config failed to build",
}


def main() -> int:
    shapes = spec_shapes()
    rng = np.random.default_rng(0)
    results = [run_smooth(rng, shapes["smooth"]), run_rowsum(rng, shapes["rowsum"])]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
