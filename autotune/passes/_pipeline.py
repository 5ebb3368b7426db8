"""Applying a pipeline config to Numba's code generation.

Numba optimizes a library in three steps: a per-function pipeline as each module is
added, a *cheap* module pipeline (O0 plus a few passes, so NRT reference-count pruning
sees inlined code), then the *full* module pipeline on the linked final module. We keep
that structure and replace the per-function and full pipelines by the candidate's, so
the default :class:`PipelineConfig` reproduces Numba's own build exactly.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import llvmlite.binding as llvm

from autotune.passes._catalog import FUNCTION_PASSES, MODULE_PASSES, PASS_MODES

_HOOK_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class PipelineConfig:
    """LLVM pipeline options and an optional custom pass sequence.

    ``pass_mode`` says how ``pass_sequence`` combines with the O-level pipeline:
    ``default`` ignores it; ``before``/``after`` run it before/after the full pipeline;
    ``replace`` runs it instead of both the per-function and the full pipeline.
    The defaults are Numba 0.68's own settings.
    """

    speed_level: int = 3
    loop_vectorization: bool = True
    slp_vectorization: bool = False
    loop_interleaving: bool = True
    loop_unrolling: bool = True
    inlining_threshold: int = -1
    pass_mode: str = "default"
    pass_sequence: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.speed_level not in (0, 1, 2, 3):
            raise ValueError(f"speed_level must be 0..3, got {self.speed_level}")
        if not -1 <= self.inlining_threshold <= 255:
            raise ValueError("inlining_threshold must be -1 (default) or 0..255")
        if self.pass_mode not in PASS_MODES:
            raise ValueError(f"pass_mode must be one of {PASS_MODES}")
        unknown = [p for p in self.pass_sequence if p not in MODULE_PASSES + FUNCTION_PASSES]
        if unknown:
            raise ValueError(f"unknown passes {unknown}")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> PipelineConfig:
        """Read the ``pipeline.*`` and ``passes.*`` entries of a search-space config."""
        kwargs: dict[str, Any] = {}
        for key, value in config.items():
            if key.startswith("pipeline."):
                kwargs[key.removeprefix("pipeline.")] = value
        kwargs["pass_mode"] = config.get("passes.mode", "default")
        kwargs["pass_sequence"] = tuple(config.get("passes.sequence", ()))
        return cls(**kwargs)

    def tuning_options(self, speed_level: int | None = None) -> Any:
        pto = llvm.create_pipeline_tuning_options(
            speed_level=self.speed_level if speed_level is None else speed_level
        )
        pto.loop_vectorization = self.loop_vectorization
        pto.slp_vectorization = self.slp_vectorization
        pto.loop_interleaving = self.loop_interleaving
        pto.loop_unrolling = self.loop_unrolling
        if self.inlining_threshold >= 0:
            pto.inlining_threshold = self.inlining_threshold
        return pto


class _PassSequence:
    """Several module pass managers run in order, each with its own PassBuilder."""

    def __init__(self, stages: list[tuple[Any, Any]]) -> None:
        self._stages = stages

    def run(self, module: Any, _pb: Any) -> None:
        for mpm, pb in self._stages:
            mpm.run(module, pb)


def _custom_mpm(tm: Any, names: tuple[str, ...]) -> tuple[Any, Any]:
    pb = llvm.create_pass_builder(tm, llvm.create_pipeline_tuning_options(speed_level=0))
    mpm = llvm.create_new_module_pass_manager()
    for name in names:
        getattr(mpm, f"add_{name}_pass")()
    return mpm, pb


class _Factories:
    """Pass-manager factories with the signatures Numba's codegen calls."""

    def __init__(self, codegen: Any, cfg: PipelineConfig) -> None:
        from numba.core import codegen as nb_codegen
        from numba.core import config as nb_config

        self._tm = codegen._tm
        self._cfg = cfg
        self._refprune = bool(getattr(nb_config, "LLVM_REFPRUNE_PASS", True))
        self._refprune_flags = nb_codegen._parse_refprune_flags()
        self._opt_nonzero = int(getattr(nb_config, "OPT", 3)) != 0

    def _with_refprune(self, pm: Any) -> Any:
        if self._refprune:
            pm.add_refprune_pass(self._refprune_flags)
        return pm

    def function_pass_manager(self, **_kw: Any) -> tuple[Any, Any]:
        cfg = self._cfg
        pb = llvm.create_pass_builder(self._tm, cfg.tuning_options())
        if cfg.pass_mode == "replace":
            return self._with_refprune(llvm.create_new_function_pass_manager()), pb
        return self._with_refprune(pb.getFunctionPassManager()), pb

    def module_pass_manager(self, **kw: Any) -> tuple[Any, Any]:
        if kw.get("cost") == "cheap":
            return self._cheap()
        cfg = self._cfg
        pb = llvm.create_pass_builder(self._tm, cfg.tuning_options())
        refprune = self._with_refprune(llvm.create_new_module_pass_manager())
        if cfg.pass_mode == "default":
            return self._with_refprune(pb.getModulePassManager()), pb
        custom = _custom_mpm(self._tm, cfg.pass_sequence)
        if cfg.pass_mode == "replace":
            stages = [custom]
        elif cfg.pass_mode == "before":
            stages = [custom, (pb.getModulePassManager(), pb)]
        else:
            stages = [(pb.getModulePassManager(), pb), custom]
        return _PassSequence([*stages, (refprune, pb)]), pb

    def _cheap(self) -> tuple[Any, Any]:
        pto = llvm.create_pipeline_tuning_options(speed_level=0)
        pto.loop_vectorization = False
        pto.slp_vectorization = False
        pb = llvm.create_pass_builder(self._tm, pto)
        pm = pb.getModulePassManager()
        if self._opt_nonzero:
            pm.add_loop_rotate_pass()
            pm.add_instruction_combine_pass()
            pm.add_jump_threading_pass()
        return self._with_refprune(pm), pb


@contextlib.contextmanager
def numba_pipeline(cfg: PipelineConfig) -> Iterator[None]:
    """Compile with ``cfg`` while the block runs.

    Compile eagerly inside the block (``dispatcher.compile(sig)``). The hook patches
    Numba's process-wide code generator, so blocks are serialized by a lock; anything
    compiled lazily inside the block also gets ``cfg``.
    """
    from numba.core.registry import cpu_target

    codegen = cpu_target.target_context.codegen()
    factories = _Factories(codegen, cfg)
    with _HOOK_LOCK:
        codegen._function_pass_manager = factories.function_pass_manager
        codegen._module_pass_manager = factories.module_pass_manager
        try:
            yield
        finally:
            del codegen._function_pass_manager
            del codegen._module_pass_manager
