"""The CUDA backend: kernels written in CUDA C++, compiled with NVRTC, loaded and run
with CuPy, timed with CUDA events.

What is tuned is a :class:`~autotune.kernels.CudaKernelDecl`: its parameters (``-D``
defines or template arguments) and its NVRTC options. The search space checks the
declared restrictions and the launch geometry before anything is built; the builder
compiles ahead into an on-disk binary cache (see :mod:`autotune.backends._cuda`), and a
config whose resources the device cannot launch (registers, shared memory, threads per
block, read from ptxas's report) fails its build with that reason.

Only compiling needs no GPU. Measuring needs one; without it
:meth:`CudaBackend.unavailable_reason` says why, and the tuner refuses before starting
(replay needs no device at all).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from autotune.backends._base import BaseBackend, BaseBuilder, BuildResult
from autotune.program import Workload
from autotune.space import SearchSpace

#: Config keys: kernel parameters and tunable NVRTC options.
PARAM_PREFIX = "kernel."
COMPILER_PREFIX = "nvrtc."
#: The architecture compiled for when no device says otherwise (H100, H200).
DEFAULT_ARCH = "sm_90"
#: Set to 0 to time launches back to back, their data warm in L2, as inside an
#: application that reuses it; by default L2 is flushed before every timed launch.
L2_FLUSH_ENV = "AUTOTUNE_CUDA_FLUSH_L2"


@dataclass(frozen=True, slots=True)
class CudaTarget:
    """A GPU and its toolchain: what a CUDA measurement belongs to."""

    device_name: str
    compute_capability: str
    sm_count: int
    driver_version: str
    runtime_version: str
    cupy_version: str

    @property
    def key(self) -> str:
        text = "|".join(
            (
                "cuda",
                self.device_name,
                self.compute_capability,
                str(self.sm_count),
                self.driver_version,
                self.runtime_version,
                self.cupy_version,
            )
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def arch(self) -> str:
        return "sm_" + self.compute_capability.replace(".", "")

    def as_dict(self) -> dict[str, Any]:
        return {
            "backend": "cuda",
            "device": self.device_name,
            "compute_capability": self.compute_capability,
            "sm_count": self.sm_count,
            "driver": self.driver_version,
            "cuda_runtime": self.runtime_version,
            "cupy": self.cupy_version,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CudaTarget:
        return cls(
            device_name=str(data["device"]),
            compute_capability=str(data["compute_capability"]),
            sm_count=int(data["sm_count"]),
            driver_version=str(data["driver"]),
            runtime_version=str(data["cuda_runtime"]),
            cupy_version=str(data["cupy"]),
        )


def cuda_search_space(decl: Any, size: str | None = None, scope: str = "all") -> SearchSpace:
    """The space of ``decl``: its kernel parameters (``kernel.NAME``) and tunable NVRTC
    options (``nvrtc.NAME``), constrained by its restrictions and launch geometry at
    problem size ``size`` (default: the first). ``scope`` ``params`` leaves the
    compiler options at their defaults, ``compiler`` the parameters."""
    size = size or decl.default_size
    space = SearchSpace()
    if scope in ("all", "params"):
        for name, param in decl.params.items():
            space.add(PARAM_PREFIX + name, param)
    if scope in ("all", "compiler"):
        for name, param in decl.compiler.items():
            space.add(COMPILER_PREFIX + name, param)

    def launchable(config: Mapping[str, Any]) -> bool | str:
        why = decl.violated(split_config(decl, config)[0], size)
        return True if why is None else why

    space.add_constraint("restrictions", launchable)
    return space


def split_config(
    decl: Any, config: Mapping[str, Any] | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The kernel parameters and compiler options of ``config`` (``None``: the
    defaults), every one the config leaves out at its default."""
    config = config or {}
    params = {
        name: config.get(PARAM_PREFIX + name, param.default) for name, param in decl.params.items()
    }
    compiler = {
        name: config.get(COMPILER_PREFIX + name, param.default)
        for name, param in decl.compiler.items()
    }
    return params, compiler


def size_of(decl: Any, args: tuple[Any, ...]) -> str:
    """The name of the declared size whose inputs have the shapes of ``args``: the
    worker builds for the arguments it holds, which were made at one declared size."""
    shapes = [np.shape(a) for a in args]
    for name in decl.sizes:
        made = decl.make_inputs(0, name)
        if [np.shape(a) for a in made] == shapes:
            return str(name)
    return str(decl.default_size)


def describe_args(args: tuple[Any, ...]) -> tuple[str, str]:
    """(argument types, problem instance) of ``args`` as a workload records them."""
    types, inputs = [], []
    for a in args:
        if isinstance(a, np.ndarray):
            types.append(f"{a.dtype}[{a.ndim}d]")
            inputs.append("x".join(map(str, a.shape)) or "0d")
        else:
            kind = np.asarray(a).dtype
            types.append(str(kind))
            inputs.append(repr(a.item() if hasattr(a, "item") else a))
    return "(" + ", ".join(types) + ")", "(" + ", ".join(inputs) + ")"


class CudaBuilder(BaseBuilder):
    """Compiles CUDA kernels with NVRTC into the binary cache; artifacts run on the
    device when called (see :class:`CudaArtifact`).

    The workload's "IR" is the kernel's source, entry and fixed options: the same
    program at two sizes shares its ``ir_hash``.
    """

    name = "cuda"

    def __init__(self, arch: str | None = None, processes: int | None = None) -> None:
        self._arch = arch
        self._processes = processes
        self._pool: Any = None
        #: Compiles started ahead of their builds (see :meth:`prepare`), by job.
        self._ahead: dict[Any, Any] = {}

    @property
    def arch(self) -> str:
        if self._arch is None:
            self._arch = _device_arch()
        return self._arch

    def _compile_pool(self) -> Any:
        if self._pool is None:
            from autotune.backends._cuda import BinaryCache, CompilePool

            processes = self._processes
            if processes is None:
                processes = max(1, min(4, (os.cpu_count() or 2) - 1))
            self._pool = CompilePool(processes, BinaryCache())
        return self._pool

    def prepare(
        self, decl: Any, configs: Sequence[Mapping[str, Any]], args: tuple[Any, ...]
    ) -> None:
        """Start compiling the valid ``configs`` in the pool, so that their builds find
        them done (or under way): compiling dominates GPU tuning time, and it overlaps
        the measurement of the configs before them."""
        size = size_of(decl, args)
        for config in configs:
            params, compiler = split_config(decl, config)
            if decl.violated(params, size) is not None:
                continue
            job = compile_job(decl, params, compiler, self.arch)
            if job not in self._ahead:
                self._ahead[job] = self._compile_pool().submit(job)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def lower(self, decl: Any, args: tuple[Any, ...]) -> Workload:
        arg_types, inputs = describe_args(args)
        header = f"// autotune cuda kernel {decl.entry}; options: {' '.join(decl.options)}"
        return Workload(
            kernel=decl.name,
            arg_types=arg_types,
            ir_text=header + "\n" + decl.code,
            inputs=inputs,
        )

    def build_baseline(self, decl: Any, args: tuple[Any, ...]) -> BuildResult:
        return self.build(decl, {}, args)

    def build(self, decl: Any, config: dict[str, Any], args: tuple[Any, ...]) -> BuildResult:
        params, compiler = split_config(decl, config)
        size = size_of(decl, args)
        why = decl.violated(params, size)
        if why is not None:
            return BuildResult(None, 0.0, f"invalid config: {why}")
        grid, block, shared = decl.geometry(params, size)
        output = self.compile(decl, params, compiler)
        if output.cubin is None:
            return BuildResult(None, output.compile_s, output.error)
        problem = launch_problem(output.resources, block, shared, self.arch)
        if problem is not None:
            return BuildResult(None, output.compile_s, problem)
        artifact = CudaArtifact(
            output.cubin, output.lowered_name, grid, block, shared, tuple(decl.outputs)
        )
        artifact.flops, artifact.bytes_moved = decl.performance(size, params)
        artifact.roofline = decl.roofline
        features = build_features(output.resources, block, shared, self.arch)
        digest = hashlib.sha256(output.cubin).hexdigest()[:16]
        return BuildResult(artifact, output.compile_s, code_hash=digest, features=features)

    def compile(self, decl: Any, params: Mapping[str, Any], compiler: Mapping[str, Any]) -> Any:
        """The :class:`~autotune.backends._cuda.CompileOutput` of one config: started
        ahead by :meth:`prepare`, found in the binary cache, or compiled now."""
        job = compile_job(decl, params, compiler, self.arch)
        future = self._ahead.pop(job, None) or self._compile_pool().submit(job)
        return future.result()


def compile_job(
    decl: Any, params: Mapping[str, Any], compiler: Mapping[str, Any], arch: str
) -> Any:
    """The compile job of one config of ``decl`` for ``arch``."""
    from autotune.backends._cuda import CompileJob

    options = list(decl.nvrtc_options(compiler))
    if decl.inject == "define":
        options += decl.defines(params)
        name_expression = None
    else:
        name_expression = decl.name_expression(params)
    return CompileJob(
        source=decl.code,
        entry=decl.entry,
        options=tuple(options),
        arch=arch,
        name_expression=name_expression,
    )


def launch_problem(resources: Any, block: Sequence[int], shared: int, arch: str) -> str | None:
    """Why a build with ``resources`` cannot launch with ``block`` threads and
    ``shared`` dynamic shared bytes on ``arch``, or ``None``."""
    from autotune.backends._cuda import limits_for, limits_violation

    if resources is None:
        return None
    threads = int(np.prod(block))
    why = limits_violation(resources, threads, shared, limits_for(arch))
    return None if why is None else f"invalid config: {why} (ptxas report)"


def build_features(resources: Any, block: Sequence[int], shared: int, arch: str) -> dict[str, Any]:
    """What a build reveals before it runs: registers, spills, shared memory, and the
    static occupancy they allow."""
    from autotune.backends._cuda import limits_for, occupancy

    if resources is None:
        return {}
    threads = int(np.prod(block))
    return {
        "registers": resources.registers,
        "spill_store_bytes": resources.spill_store_bytes,
        "spill_load_bytes": resources.spill_load_bytes,
        "shared_static_bytes": resources.shared_static_bytes,
        "shared_dynamic_bytes": shared,
        "threads_per_block": threads,
        "occupancy": occupancy(resources, threads, shared, limits_for(arch)),
    }


class CudaArtifact:
    """A compiled kernel and its launch geometry.

    Called with NumPy arguments (as verification calls kernels), it copies them to the
    device, launches once, and copies the declared outputs back into the NumPy arrays.
    :meth:`on_device` gives a launcher on device-resident arguments, for timing.
    """

    def __init__(
        self,
        cubin: bytes,
        lowered_name: str,
        grid: tuple[int, int, int],
        block: tuple[int, int, int],
        shared: int,
        outputs: tuple[int, ...],
    ) -> None:
        self.cubin = cubin
        self.lowered_name = lowered_name
        self.grid = grid
        self.block = block
        self.shared = shared
        self.outputs = outputs
        #: The performance model of one launch (``None`` where the kernel has none).
        self.flops: float | None = None
        self.bytes_moved: float | None = None
        self.roofline: str | None = None
        self._loaded: Any = None

    def _kernel(self) -> Any:
        if self._loaded is None:
            from autotune.backends._cuda import LoadedKernel

            self._loaded = LoadedKernel(self.cubin, self.lowered_name)
        return self._loaded

    def on_device(self, device_args: Sequence[Any]) -> Callable[[], None]:
        """A zero-argument launch of this kernel on ``device_args`` (CuPy arrays and
        NumPy scalars), asynchronous on the current stream."""
        kernel = self._kernel()
        args = tuple(device_args)
        return lambda: kernel.launch(self.grid, self.block, args, self.shared)

    def __call__(self, *args: Any) -> None:
        import cupy

        device_args = to_device(args)
        self.on_device(device_args)()
        cupy.cuda.get_current_stream().synchronize()
        for i in self.outputs:
            np.copyto(args[i], cupy.asnumpy(device_args[i]))


def compile_tuned(decl: Any, config: Mapping[str, Any], size: str | None) -> CudaArtifact:
    """``decl`` built with ``config`` for problem size ``size``: the tuned kernel, ready
    to launch (compiled now, or taken from the binary cache). Needs NVRTC, not a GPU;
    running it needs one. Raises :class:`~autotune.errors.InputError` when it does not
    build."""
    from autotune.errors import InputError

    builder = CudaBuilder(processes=0)
    try:
        built = builder.build(decl, dict(config), decl.make_inputs(0, size))
    finally:
        builder.close()
    if not isinstance(built.artifact, CudaArtifact):
        raise InputError(f"kernel {decl.name!r} does not build with {dict(config)}: {built.error}")
    return built.artifact


def to_device(args: Sequence[Any]) -> list[Any]:
    """``args`` with every NumPy array copied to the device; scalars stay as they are
    (NumPy scalars keep their dtype, which the kernel's signature needs)."""
    import cupy

    return [cupy.asarray(a) if isinstance(a, np.ndarray) else a for a in args]


class CudaBackend(BaseBackend):
    """CUDA kernels through NVRTC and CuPy; see the module docstring."""

    name = "cuda"
    ask_ahead = 4

    def target(self) -> CudaTarget:
        return _device_target()

    def unavailable_reason(self) -> str | None:
        from autotune.backends._cuda import gpu_unavailable_reason

        reason = gpu_unavailable_reason()
        return None if reason is None else f"no usable CUDA GPU ({reason})"

    def search_space(self, decl: Any, options: Any) -> SearchSpace:
        scope = options.scope if options.scope in ("params", "compiler") else "all"
        return cuda_search_space(decl, options.size, scope)

    def builder(self) -> BaseBuilder:
        return CudaBuilder()

    def time_paired(
        self,
        reference: Callable[..., Any],
        candidate: Callable[..., Any],
        args: tuple[Any, ...],
        restore: Sequence[int],
        settings: Any,
    ) -> Any:
        """CUDA-event timings of the two kernels on one device copy of ``args``,
        interleaved round by round (see :func:`time_paired_events`). Kernels that write
        their inputs are timed as they run in place: the outputs are not restored
        between launches, since a kernel's launch time does not depend on the values
        in its buffers (tiling and geometry are fixed)."""
        from autotune.backends._cuda import time_paired_events
        from autotune.measure._timing import summarize

        assert isinstance(reference, CudaArtifact) and isinstance(candidate, CudaArtifact)
        device_args = to_device(args)
        rounds = max(settings.min_rounds, 5)
        base, cand = time_paired_events(
            reference.on_device(device_args),
            candidate.on_device(device_args),
            warmup=max(settings.warmup_calls, 3),
            rounds=rounds,
            reps=max(settings.samples_per_round, 5),
            flush_l2=os.environ.get(L2_FLUSH_ENV, "1") != "0",
        )
        return summarize(base, cand, 1)

    def figures(self, candidate: Any, timing: Any) -> dict[str, Any]:
        """TFLOP/s and GB/s of the candidate per its kernel's performance model, each
        also as a fraction of the device's ceiling measured in this worker process
        (cuBLAS SGEMM for ``gemm`` kernels, a device-to-device copy for the rest), and
        the SM clock and temperature where NVML can read them."""
        from autotune.backends._cuda import nvml_sample

        assert isinstance(candidate, CudaArtifact)
        seconds = timing.candidate_s
        out: dict[str, Any] = {}
        if candidate.flops and seconds > 0:
            out["tflops"] = candidate.flops / seconds / 1e12
        if candidate.bytes_moved and seconds > 0:
            out["gbps"] = candidate.bytes_moved / seconds / 1e9
        if candidate.roofline is not None and out:
            ceilings = _ceilings()
            out["ceilings"] = ceilings
            if candidate.roofline == "gemm" and "tflops" in out:
                out["fraction_of_cublas"] = out["tflops"] / ceilings["sgemm_tflops"]["median"]
            elif "gbps" in out:
                out["fraction_of_copy"] = out["gbps"] / ceilings["copy_gbps"]["median"]
        sample = nvml_sample()
        if sample:
            out["nvml"] = sample
        return out

    def poisoned(self, exc: BaseException) -> bool:
        from autotune.backends._cuda import sticky_error

        return bool(sticky_error(exc))

    def lock_scope(self) -> str:
        return "cuda:0"


@cache
def _ceilings() -> dict[str, Any]:
    """The device's copy bandwidth and cuBLAS SGEMM throughput, measured once per
    process (a worker measures them before its first figures)."""
    from autotune.backends._cuda import roofline_references

    return dict(roofline_references())


@cache
def _device_target() -> CudaTarget:
    from autotune.backends._cuda import device_facts

    facts = device_facts(0)
    return CudaTarget(
        device_name=str(facts["name"]),
        compute_capability=str(facts["compute_capability"]),
        sm_count=int(facts["sm_count"]),
        driver_version=str(facts["driver_version"]),
        runtime_version=str(facts["runtime_version"]),
        cupy_version=str(facts["cupy_version"]),
    )


def _device_arch() -> str:
    """The architecture of device 0, or :data:`DEFAULT_ARCH` without one (compiling
    needs no device)."""
    from autotune.backends._cuda import device_arch, gpu_unavailable_reason

    if gpu_unavailable_reason() is not None:
        return DEFAULT_ARCH
    return str(device_arch())
