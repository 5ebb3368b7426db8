"""The builder extension point: turn a kernel and a config into something runnable."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from autotune.kernels import KernelDecl
from autotune.program import Workload


@dataclass(frozen=True, slots=True)
class BuildResult:
    """A built artifact, or the reason it could not be built. Never both."""

    artifact: Callable[..., Any] | None
    compile_s: float
    error: str = ""
    #: Equal for two builds exactly when they produced the same optimized code.
    code_hash: str | None = None


class BaseBuilder(ABC):
    """Compiles kernels inside a worker process.

    Contract:
        * ``lower`` returns the kernel's workload (normalized unoptimized IR and keys)
          as the baseline builds it; it may raise, and the caller turns that into a
          skipped kernel.
        * ``build_baseline`` builds the kernel as ``decl`` writes it: its default
          parameters on the author's ``decl.njit_options``; ``build`` builds a config
          on those options, the config's flags overriding them (see
          :meth:`KernelDecl.as_baseline` for a baseline without them).
        * ``build_baseline`` and ``build`` never raise for a bad candidate: a compile
          error comes back as a :class:`BuildResult` with ``error`` set. A crash of the
          compiler itself (an LLVM fatal error) kills the worker process, and the
          runner that owns the process records it.
        * Artifacts are called with the kernel's argument tuple.
    """

    name: str = "base"

    @abstractmethod
    def lower(self, decl: KernelDecl, args: tuple[Any, ...]) -> Workload: ...

    @abstractmethod
    def build_baseline(self, decl: KernelDecl, args: tuple[Any, ...]) -> BuildResult: ...

    @abstractmethod
    def build(self, decl: KernelDecl, config: dict[str, Any], args: tuple[Any, ...]) -> BuildResult:
        """Build ``decl`` with ``config`` for arguments typed like ``args``."""
