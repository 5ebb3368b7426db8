"""Ahead-of-time compilation of CUDA C++ to a cubin with NVRTC, with no GPU and no driver.

Design: NVRTC's C API is called through :mod:`ctypes`, from the ``libnvrtc`` of the
``nvidia-cuda-nvrtc`` wheel (or of a CUDA toolkit). That library is all a compile needs:
it has no dependency on the driver, so candidates compile on CPU-only machines (CI, a
laptop) and in spawned worker processes that never hold a CUDA context. CuPy is used
only on a GPU, to load the resulting cubin (``cupy.RawModule(path=...)``). CuPy's own
compiler was not chosen for this layer: with no driver, ``import cupy`` works but its
NVRTC path asks the CUDA runtime for the device and fails with
``cudaErrorInsufficientDriver`` even when an explicit ``arch`` is given, and it does not
return the ptxas report or the time of the compile itself. The NVRTC wheel alone is 58 MB to
download (142 MB installed), against 70 MB (194 MB) for CuPy, which also needs it.

A compile always targets a real architecture (``-arch=sm_90``) so that NVRTC runs ptxas,
returns a cubin and, with ``--ptxas-options=-v``, writes the resource report that
:func:`~autotune.backends._cuda._resources.parse_ptxas` reads. A cubin (machine code)
rather than PTX also lets an NVRTC newer than the driver serve it: CUDA's minor-version
compatibility covers cubins but not PTX, which the driver would have to JIT-compile.
"""

from __future__ import annotations

import ctypes
import glob
import os
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from autotune.backends._cuda._resources import Resources, entry_names, parse_ptxas

#: Path of the ``libnvrtc`` to use; when set, no other library is tried.
NVRTC_LIBRARY_ENV = "AUTOTUNE_NVRTC"
PTXAS_VERBOSE = "--ptxas-options=-v"
_ARCH_OPTION = re.compile(r"^(-arch|--gpu-architecture)(=|$)")
_REAL_ARCH = re.compile(r"^sm_(\d+)[af]?$")
_ERRORS_DETECTED = re.compile(r"^\d+ (\w+ )?errors? detected")
_MAX_ERROR_LINES = 3
_MAX_ERROR_CHARS = 1000


@dataclass(frozen=True, slots=True)
class CompileOutput:
    """The result of one compile: a cubin, or the reason there is none (``error``).

    ``lowered_name`` is the symbol to load from the cubin: ``entry`` itself, or the
    mangled name NVRTC gave the job's name expression ("" when that was not lowered).
    ``log`` is NVRTC's whole log (ptxas report included); ``compile_s`` the wall time of
    create + compile + fetch of the cubin; ``from_cache`` says that the output was read
    from a :class:`~autotune.backends._cuda._cache.BinaryCache` rather than compiled.
    """

    cubin: bytes | None
    lowered_name: str
    log: str
    error: str
    compile_s: float
    resources: Resources | None
    arch: str
    nvrtc_version: str
    from_cache: bool = False

    @property
    def ok(self) -> bool:
        return self.cubin is not None and not self.error

    def metadata(self) -> dict[str, Any]:
        """Everything but the cubin, as JSON-ready values."""
        return {
            "lowered_name": self.lowered_name,
            "log": self.log,
            "error": self.error,
            "compile_s": self.compile_s,
            "resources": None if self.resources is None else self.resources.to_dict(),
            "arch": self.arch,
            "nvrtc_version": self.nvrtc_version,
        }

    @classmethod
    def from_metadata(
        cls, data: dict[str, Any], cubin: bytes | None, *, from_cache: bool = False
    ) -> CompileOutput:
        """The inverse of :meth:`metadata`; raises KeyError/TypeError on a bad dict."""
        resources = data["resources"]
        return cls(
            cubin=cubin,
            lowered_name=str(data["lowered_name"]),
            log=str(data["log"]),
            error=str(data["error"]),
            compile_s=float(data["compile_s"]),
            resources=None if resources is None else Resources.from_dict(resources),
            arch=str(data["arch"]),
            nvrtc_version=str(data["nvrtc_version"]),
            from_cache=from_cache,
        )


class _Nvrtc:
    """The loaded library, with the argument types of the calls used here."""

    def __init__(self, path: str) -> None:
        self.path = path
        _preload_builtins(path)
        lib = ctypes.CDLL(path)
        lib.nvrtcGetErrorString.restype = ctypes.c_char_p
        lib.nvrtcGetErrorString.argtypes = [ctypes.c_int]
        if not hasattr(lib, "nvrtcGetCUBIN"):
            raise OSError("this NVRTC is older than 11.1 and cannot return a cubin")
        self.lib = lib
        major, minor = ctypes.c_int(), ctypes.c_int()
        self.check(lib.nvrtcVersion(ctypes.byref(major), ctypes.byref(minor)), "nvrtcVersion")
        self.version = f"{major.value}.{minor.value}"
        self.archs = self._supported_archs()

    def status(self, code: int) -> str:
        name = self.lib.nvrtcGetErrorString(code)
        return name.decode() if name else f"NVRTC error {code}"

    def check(self, code: int, call: str) -> None:
        if code != 0:
            raise RuntimeError(f"{call}: {self.status(code)}")

    def _supported_archs(self) -> tuple[int, ...]:
        count = ctypes.c_int()
        if self.lib.nvrtcGetNumSupportedArchs(ctypes.byref(count)) != 0:
            return ()
        archs = (ctypes.c_int * count.value)()
        if self.lib.nvrtcGetSupportedArchs(archs) != 0:
            return ()
        return tuple(archs)


def _preload_builtins(path: str) -> None:
    """Load ``libnvrtc-builtins`` from the library's folder first: NVRTC opens it by
    soname, which a toolkit folder that is not on the loader's path would not resolve.
    The wheel's library finds it by its own RPATH; preloading is then harmless."""
    folder = os.path.dirname(os.path.realpath(path))
    for builtins in sorted(glob.glob(os.path.join(folder, "libnvrtc-builtins.so*"))):
        if ".alt." in builtins:
            continue
        try:
            ctypes.CDLL(builtins, mode=ctypes.RTLD_GLOBAL)
            return
        except OSError:
            continue


def candidate_libraries() -> list[str]:
    """The ``libnvrtc`` files to try, best first: ``$AUTOTUNE_NVRTC`` alone when set;
    else the pip wheels on ``sys.path`` (CUDA 13 layout ``nvidia/cu13/lib``, CUDA 12
    layout ``nvidia/cuda_nvrtc/lib``), newest major first; then a CUDA toolkit
    (``$CUDA_HOME``, ``$CUDA_PATH``, ``/usr/local/cuda``); then the loader's sonames."""
    explicit = os.environ.get(NVRTC_LIBRARY_ENV)
    if explicit:
        return [explicit]
    found: list[str] = []
    for root in sys.path:
        found += glob.glob(os.path.join(root or ".", "nvidia", "*", "lib", "libnvrtc.so.*"))
    found.sort(key=_soname_major, reverse=True)
    for home in (os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH"), "/usr/local/cuda"):
        if home:
            found += sorted(glob.glob(os.path.join(home, "lib64", "libnvrtc.so*")))
    found = [path for path in found if "builtins" not in path and ".alt." not in path]
    found += ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"]
    return list(dict.fromkeys(found))


def _soname_major(path: str) -> int:
    match = re.search(r"libnvrtc\.so\.(\d+)", path)
    return int(match.group(1)) if match else 0


@cache
def _load() -> _Nvrtc | str:
    """The library, or why none could be loaded (cached for the process)."""
    tried: list[str] = []
    for path in candidate_libraries():
        try:
            return _Nvrtc(path)
        except (OSError, AttributeError, RuntimeError) as exc:
            tried.append(f"{path}: {exc}")
    detail = "; ".join(tried[:4])
    return (
        "NVRTC not found (pip install nvidia-cuda-nvrtc, or set "
        f"{NVRTC_LIBRARY_ENV} to a libnvrtc); tried {detail}"
    )


def nvrtc_unavailable() -> str | None:
    """Why NVRTC cannot be used in this process, or None when it can."""
    loaded = _load()
    return loaded if isinstance(loaded, str) else None


def nvrtc_version() -> str:
    """The loaded NVRTC's version, ``"major.minor"``; "" when NVRTC is unavailable."""
    loaded = _load()
    return "" if isinstance(loaded, str) else loaded.version


def nvrtc_library() -> str | None:
    """The path of the loaded ``libnvrtc`` (for provenance), or None."""
    loaded = _load()
    return None if isinstance(loaded, str) else loaded.path


def compile_cubin(
    source: str,
    entry: str,
    options: Sequence[str],
    arch: str = "sm_90",
    name_expression: str | None = None,
) -> CompileOutput:
    """Compile ``source`` for the real architecture ``arch`` and return its cubin.

    ``options`` are NVRTC options (``-std=c++17``, ``-DBM=64`` ...) without the
    architecture, which ``arch`` sets. ``--ptxas-options=-v`` is added so the log holds
    the resource report. With ``name_expression`` (``"sgemm<64, 128>"``) the template
    instance is requested from NVRTC and its mangled name returned as ``lowered_name``.

    Never raises for a bad kernel, bad options or a missing NVRTC: the output's
    ``error`` says why (the first compiler lines that matter) and ``cubin`` is None.
    A compile whose module lacks the kernel is an error too.
    """
    loaded = _load()
    fallback_name = entry if name_expression is None else ""
    if isinstance(loaded, str):
        return _failure(fallback_name, loaded, arch, "")
    problem = _option_problem(options, arch, loaded)
    if problem:
        return _failure(fallback_name, problem, arch, loaded.version)
    all_options = [f"-arch={arch}", *options]
    if PTXAS_VERBOSE not in all_options:
        all_options.append(PTXAS_VERBOSE)
    try:
        return _compile(loaded, source, entry, all_options, arch, name_expression)
    except (RuntimeError, UnicodeError, ValueError) as exc:
        return _failure(fallback_name, str(exc), arch, loaded.version)


def _option_problem(options: Sequence[str], arch: str, nvrtc: _Nvrtc) -> str | None:
    """Why these options or this arch cannot give a cubin, or None."""
    for option in options:
        if not isinstance(option, str):
            return f"options must be strings, got {option!r}"
        if _ARCH_OPTION.match(option):
            return f"set the architecture with arch=, not in options ({option!r})"
    match = _REAL_ARCH.match(arch)
    if match is None:
        return f"arch must be a real architecture such as 'sm_90', got {arch!r}"
    if nvrtc.archs and int(match.group(1)) not in nvrtc.archs:
        known = ", ".join(f"sm_{a}" for a in nvrtc.archs)
        return f"NVRTC {nvrtc.version} cannot target {arch} (it supports {known})"
    return None


def _compile(
    nvrtc: _Nvrtc,
    source: str,
    entry: str,
    options: list[str],
    arch: str,
    name_expression: str | None,
) -> CompileOutput:
    lib = nvrtc.lib
    program = ctypes.c_void_p()
    started = time.perf_counter()
    nvrtc.check(
        lib.nvrtcCreateProgram(
            ctypes.byref(program), source.encode(), f"{entry}.cu".encode(), 0, None, None
        ),
        "nvrtcCreateProgram",
    )
    try:
        if name_expression is not None:
            nvrtc.check(
                lib.nvrtcAddNameExpression(program, name_expression.encode()),
                "nvrtcAddNameExpression",
            )
        encoded = [option.encode() for option in options]
        status = lib.nvrtcCompileProgram(
            program, len(encoded), (ctypes.c_char_p * len(encoded))(*encoded)
        )
        cubin = _cubin(nvrtc, program) if status == 0 else None
        compile_s = time.perf_counter() - started
        log = _log(nvrtc, program)
        if status != 0:
            error = _error_summary(nvrtc.status(status), log)
            name = entry if name_expression is None else ""
            return _failure(name, error, arch, nvrtc.version, log, compile_s)
        lowered = entry if name_expression is None else _lowered(nvrtc, program, name_expression)
    finally:
        lib.nvrtcDestroyProgram(ctypes.byref(program))
    return _finished(cubin, lowered, log, compile_s, arch, nvrtc.version)


def _finished(
    cubin: bytes | None, lowered: str, log: str, compile_s: float, arch: str, version: str
) -> CompileOutput:
    """The output of a compile NVRTC accepted, checking that the kernel is in it."""
    kernels = entry_names(log)
    if kernels and lowered not in kernels:
        error = (
            f"no kernel named {lowered!r} in the compiled module (kernels: {', '.join(kernels)}); "
            'declare it extern "C" or pass a name expression'
        )
        return CompileOutput(None, lowered, log, error, compile_s, None, arch, version)
    resources = parse_ptxas(log, lowered)
    return CompileOutput(cubin, lowered, log, "", compile_s, resources, arch, version)


def _cubin(nvrtc: _Nvrtc, program: ctypes.c_void_p) -> bytes:
    size = ctypes.c_size_t()
    nvrtc.check(nvrtc.lib.nvrtcGetCUBINSize(program, ctypes.byref(size)), "nvrtcGetCUBINSize")
    buffer = ctypes.create_string_buffer(size.value)
    nvrtc.check(nvrtc.lib.nvrtcGetCUBIN(program, buffer), "nvrtcGetCUBIN")
    return buffer.raw


def _log(nvrtc: _Nvrtc, program: ctypes.c_void_p) -> str:
    size = ctypes.c_size_t()
    if nvrtc.lib.nvrtcGetProgramLogSize(program, ctypes.byref(size)) != 0:
        return ""
    buffer = ctypes.create_string_buffer(max(size.value, 1))
    if nvrtc.lib.nvrtcGetProgramLog(program, buffer) != 0:
        return ""
    return buffer.value.decode(errors="replace")


def _lowered(nvrtc: _Nvrtc, program: ctypes.c_void_p, name_expression: str) -> str:
    """The mangled name of a name expression; copied, since NVRTC frees it with the
    program."""
    name = ctypes.c_char_p()
    nvrtc.check(
        nvrtc.lib.nvrtcGetLoweredName(program, name_expression.encode(), ctypes.byref(name)),
        f"nvrtcGetLoweredName({name_expression!r})",
    )
    return (name.value or b"").decode()


def _error_summary(status: str, log: str) -> str:
    """The compiler's status and its first error lines (the full log stays in ``log``)."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    errors = [
        line for line in lines if "error" in line.lower() and not _ERRORS_DETECTED.match(line)
    ]
    chosen = errors[:_MAX_ERROR_LINES] or lines[:_MAX_ERROR_LINES]
    text = f"{status}: " + "\n".join(chosen) if chosen else status
    return text[:_MAX_ERROR_CHARS]


def _failure(
    lowered_name: str, error: str, arch: str, version: str, log: str = "", compile_s: float = 0.0
) -> CompileOutput:
    return CompileOutput(None, lowered_name, log, error, compile_s, None, arch, version)
