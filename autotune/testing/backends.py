"""Conformance suite for backends (:class:`autotune.backends.BaseBackend`).

A backend's test module subclasses :class:`BackendConformance` and says how to make the
backend and one small kernel declared for it::

    class TestMyBackend(BackendConformance):
        def make_backend(self):
            return MyBackend()

        def make_kernel(self):
            return my_small_kernel

Checks that need the backend's compiler skip (with the reason) where
:meth:`BackendConformance.compiler_missing` says it is missing; checks that need the
backend's device skip where :meth:`BaseBackend.unavailable_reason` says why.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from autotune.backends import BaseBackend, get_backend
from autotune.measure._verify import collect_outputs
from autotune.records import TimingSettings
from autotune.tuner import TuneOptions


class BackendConformance:
    """Checks every backend must pass."""

    def make_backend(self) -> BaseBackend:
        raise NotImplementedError

    def make_kernel(self) -> Any:
        raise NotImplementedError

    def compiler_missing(self) -> str | None:
        """Why this machine cannot compile the backend's kernels, or ``None``."""
        return None

    def _needs_compiler(self) -> None:
        why = self.compiler_missing()
        if why is not None:
            pytest.skip(why)

    def _needs_device(self, backend: BaseBackend) -> None:
        why = backend.unavailable_reason()
        if why is not None:
            pytest.skip(why)

    def test_registered_under_its_name(self) -> None:
        backend = self.make_backend()
        assert type(get_backend(backend.name)) is type(backend)
        assert getattr(self.make_kernel(), "backend", "numba") == backend.name

    def test_availability_and_scope_never_raise(self) -> None:
        backend = self.make_backend()
        reason = backend.unavailable_reason()
        assert reason is None or (isinstance(reason, str) and reason)
        assert isinstance(backend.lock_scope(), str) and backend.lock_scope()
        assert backend.poisoned(ValueError("a bad candidate")) is False
        assert backend.ask_ahead >= 1

    def test_default_config_is_a_valid_point_of_the_space(self) -> None:
        backend, decl = self.make_backend(), self.make_kernel()
        space = backend.search_space(decl, TuneOptions())
        assert space.violation(space.default_config()) is None
        rng = np.random.default_rng(0)
        for _ in range(20):  # every sample is either valid or says why not
            why = space.violation(space.sample(rng))
            assert why is None or isinstance(why, str)

    def test_verification_accepts_equal_and_names_what_differs(self) -> None:
        backend = self.make_backend()
        want = [np.arange(4.0)]
        assert backend.verify([np.arange(4.0)], want, [0], 1e-7, 0.0) is None
        why = backend.verify([np.arange(4.0) + 1], want, [0], 1e-7, 0.0)
        assert isinstance(why, str) and why

    def test_target_is_stable_and_serializable(self) -> None:
        backend = self.make_backend()
        self._needs_device(backend)
        first, second = backend.target(), backend.target()
        assert first.key == second.key and len(first.key) >= 8
        json.dumps(first.as_dict())

    def test_lowering_is_deterministic(self) -> None:
        self._needs_compiler()
        backend, decl = self.make_backend(), self.make_kernel()
        args = decl.make_inputs(0)
        builder = backend.builder()
        first, second = builder.lower(decl, args), builder.lower(decl, args)
        assert first.ir_text and first.key == second.key

    def test_default_config_builds_the_baseline_code(self) -> None:
        self._needs_compiler()
        backend, decl = self.make_backend(), self.make_kernel()
        args = decl.make_inputs(0)
        builder = backend.builder()
        try:
            baseline = builder.build_baseline(decl, args)
            space = backend.search_space(decl, TuneOptions())
            default = builder.build(decl, space.default_config(), args)
        finally:
            builder.close()
        assert baseline.artifact is not None, baseline.error
        assert baseline.code_hash is not None and baseline.code_hash == default.code_hash

    def test_baseline_verifies_and_times_on_the_device(self) -> None:
        self._needs_compiler()
        backend, decl = self.make_backend(), self.make_kernel()
        self._needs_device(backend)
        args = decl.make_inputs(0)
        builder = backend.builder()
        try:
            built = builder.build_baseline(decl, args)
        finally:
            builder.close()
        assert built.artifact is not None, built.error
        if decl.reference is not None:
            got = collect_outputs(built.artifact, args, decl.outputs)
            want = collect_outputs(decl.reference, args, decl.outputs)
            assert backend.verify(got, want, decl.outputs, decl.rtol, decl.atol) is None
        restore = [o for o in decl.outputs if isinstance(o, int)]
        timing = backend.time_paired(
            built.artifact, built.artifact, args, restore, TimingSettings().screen()
        )
        assert timing.baseline_s > 0 and timing.candidate_s > 0 and timing.speedup > 0
        assert len(timing.baseline_rounds) == len(timing.candidate_rounds) >= 1
