"""Toolchain version guard: the pipeline hook relies on Numba internals."""

from __future__ import annotations

from autotune.errors import ToolchainError

SUPPORTED = {"numba": ((0, 68), (0, 69)), "llvmlite": ((0, 50), (0, 51))}


def _version_tuple(text: str) -> tuple[int, int]:
    major, minor, *_ = text.split(".")
    return int(major), int("".join(ch for ch in minor if ch.isdigit()) or 0)


def check_toolchain() -> None:
    """Raise :class:`ToolchainError` unless numba and llvmlite are supported versions."""
    import llvmlite
    import numba

    for name, version in (("numba", numba.__version__), ("llvmlite", llvmlite.__version__)):
        low, high = SUPPORTED[name]
        if not low <= _version_tuple(version) < high:
            raise ToolchainError(
                f"{name} {version} is not supported: autotune needs "
                f"{name}>={low[0]}.{low[1]},<{high[0]}.{high[1]} because it hooks "
                "into Numba's code generation; install a supported version"
            )
