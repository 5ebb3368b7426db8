"""Workloads and targets: what a measurement is about, and where it was taken.

A *workload key* identifies the program being tuned: the hash of the kernel's
normalized, unoptimized LLVM IR (including the ``@njit`` functions it calls) and its
argument types. A *target key* identifies the machine and toolchain: CPU name, CPU
features and the numba/llvmlite versions. A measurement can be reused exactly when both
keys match. The hostname is provenance only.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import socket
import time
from dataclasses import dataclass
from functools import cache
from typing import Any

_ADDRESS = re.compile(r"(numba\.dynamic\.globals\.)[0-9a-fA-F]+")
_UNIQUE_ID = re.compile(r"B\d+v\d+")  # Numba's per-compile uid in mangled names
_COUNTER = re.compile(r"([A-Za-z_][\w.]*)\$\d+")  # module/function compile counters: name$N
_MODULE_ID = re.compile(r"^; ModuleID = .*$", re.MULTILINE)
_HEX_CONST = re.compile(r"inttoptr \(i64 \d{8,} to")  # embedded object addresses


def normalize_ir(text: str) -> str:
    """Strip what changes between compiles of the same program: addresses and counters."""
    text = _MODULE_ID.sub("; ModuleID", text)
    text = _ADDRESS.sub(r"\1ADDR", text)
    text = _UNIQUE_ID.sub("Bv", text)
    text = _COUNTER.sub(r"\1$N", text)
    text = _HEX_CONST.sub("inttoptr (i64 ADDR to", text)
    return text


_MANGLED = re.compile(r"_ZN[\w$.]+")
_BYTE_ARRAY = re.compile(r"\[\d+ x i8\]")  # string constants that embed mangled names


def code_hash(optimized_ir: str) -> str:
    """Hash of optimized IR that is equal exactly when two builds made the same code.

    Numba's mangled names carry a per-compile id and an encoding of the compile flags,
    so they are renamed in order of first appearance; other symbols (libm, intrinsics,
    vector math) keep their names because calling a different one is different code.
    """
    text = normalize_ir(optimized_ir)
    names: dict[str, str] = {}
    text = _MANGLED.sub(lambda m: names.setdefault(m.group(0), f"_Zfn{len(names)}"), text)
    text = _BYTE_ARRAY.sub("[N x i8]", text)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Workload:
    """A lowered kernel: normalized unoptimized IR and the keys derived from it.

    ``inputs`` describes the problem instance (array shapes and scalar argument
    values). It is part of the key: the same IR timed at two problem sizes gives two
    measurements that cannot stand in for each other. ``ir_hash`` alone identifies the
    program across sizes.
    """

    kernel: str
    arg_types: str
    ir_text: str
    inputs: str = ""

    @property
    def ir_hash(self) -> str:
        return hashlib.sha256(self.ir_text.encode()).hexdigest()[:16]

    @property
    def key(self) -> str:
        payload = f"{self.ir_hash}|{self.arg_types}|{self.inputs}".encode()
        return hashlib.sha256(payload).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Target:
    """The machine and toolchain a measurement belongs to."""

    cpu_name: str
    cpu_features: str
    numba_version: str
    llvmlite_version: str

    @property
    def key(self) -> str:
        text = "|".join(
            (self.cpu_name, self.cpu_features, self.numba_version, self.llvmlite_version)
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def as_dict(self) -> dict[str, str]:
        return {
            "cpu_name": self.cpu_name,
            "cpu_features": self.cpu_features,
            "numba": self.numba_version,
            "llvmlite": self.llvmlite_version,
        }


@cache
def host_target() -> Target:
    """The target of this process's host CPU and toolchain."""
    import llvmlite
    import llvmlite.binding as llvm
    import numba

    return Target(
        cpu_name=llvm.get_host_cpu_name(),
        cpu_features=llvm.get_host_cpu_features().flatten(),
        numba_version=numba.__version__,
        llvmlite_version=llvmlite.__version__,
    )


def provenance() -> dict[str, Any]:
    """Facts recorded with each measurement; they do not decide reuse."""
    import llvmlite.binding as llvm

    target = host_target()
    return {
        "hostname": socket.gethostname(),
        "pid": os.getpid(),
        "loadavg": list(os.getloadavg()),
        "time": time.time(),
        "python": platform.python_version(),
        "cpu_name": target.cpu_name,
        "numba": target.numba_version,
        "llvmlite": target.llvmlite_version,
        "llvm": ".".join(map(str, llvm.llvm_version_info)),
        "cpu_count": os.cpu_count(),
    }
