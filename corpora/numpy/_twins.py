"""The loop-written twin of a NumPy-style kernel: the kernel ``corpora/cpu/<twin>.py``.

A NumPy-style kernel solves the same problem as its twin, so it imports the twin's
declaration instead of copying it: ``@autotune.kernel(**same_problem_as("gemm"))``.

The twin is loaded with autotune's own loader, which imports a file once per process as
the module ``autotune_src_<stem>`` (a sweep of ``corpora/cpu`` and ``corpora/numpy``
together imports it once). The twin's declaration lives in that module, and a file's
kernels are the declarations of functions defined in the file itself, so the twin is
never counted as a second kernel of a ``numpy/`` file. This module's name starts with
``_``: corpus searches pass it over.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from autotune.kernels import KernelDecl, load_kernels

CPU_CORPUS = Path(__file__).resolve().parent.parent / "cpu"


def twin(name: str) -> KernelDecl:
    """The declaration of ``corpora/cpu/<name>.py`` (one kernel per file there)."""
    (decl,) = load_kernels(CPU_CORPUS / f"{name}.py")
    return decl


def same_problem_as(name: str) -> dict[str, Any]:
    """Keyword arguments for ``@autotune.kernel`` that declare the problem of the twin
    ``name``: its input factory, sizes, outputs, reference and tolerance.

    A twin without a reference is checked against its own default build, so its loop
    function becomes the reference of the NumPy-style kernel.
    """
    decl = twin(name)
    return {
        "inputs": decl.inputs,
        "sizes": decl.sizes,
        "outputs": list(decl.outputs),
        "reference": decl.pyfunc if decl.reference is None else decl.reference,
        "rtol": decl.rtol,
        "atol": decl.atol,
        "fastmath": decl.allow_fastmath,
        "perturb": decl.perturb,
    }
