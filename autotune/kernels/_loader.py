"""Loading kernels from a source file and/or the spec file beside it."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any, TypeGuard

from autotune.errors import InputError
from autotune.kernels._cuda_decl import AnyKernelDecl, CudaKernelDecl
from autotune.kernels._cuda_spec import spec_kernels
from autotune.kernels._decl import KernelDecl
from autotune.kernels._source import import_source
from autotune.kernels._spec import read_spec, spec_module_path, spec_path_for

#: Suffixes of CUDA sources, whose kernels a spec file declares.
CUDA_SUFFIXES = (".cu", ".cuh")


# Typed ``list[Any]`` until every caller handles both kinds: each item is an
# ``AnyKernelDecl`` (a KernelDecl or a CudaKernelDecl); callers check ``backend`` or the type.
def load_kernels(source: Path, spec: Path | None = None) -> list[Any]:
    """Every kernel declared in ``source`` (decorators) or its spec file: each a
    :class:`KernelDecl` or a :class:`CudaKernelDecl` (:data:`AnyKernelDecl`).

    ``source`` may be a Python file, a spec file (``*.toml``) or a CUDA source
    (``.cu``/``.cuh``). A spec named ``<stem>.autotune.toml`` beside a Python or CUDA
    source is found automatically; ``spec`` names another. A CUDA source stands for
    its spec: every kernel of the spec is returned, and at least one must be of that
    source. Raises :class:`InputError` for a missing file, a syntax error, a bad spec,
    an unknown function, duplicate names or a file without kernels.
    """
    source = Path(source)
    if source.suffix in CUDA_SUFFIXES:
        return _checked(source, _cuda_source_kernels(source, spec))
    if source.suffix == ".toml":
        spec, source = source, Path()
    decls: list[AnyKernelDecl] = []
    if source != Path():
        module = import_source(source)
        decls.extend(_declared(module, source))
        if spec is None and spec_path_for(source).is_file():
            spec = spec_path_for(source)
    if spec is not None:
        data = read_spec(spec)
        module_path = spec_module_path(spec, data)
        if source != Path() and module_path.resolve() != source.resolve():
            raise InputError(f"{spec}: names module {module_path}, not {source}")
        decls.extend(spec_kernels(spec, data))
    shown = source if source != Path() else spec
    if not decls:
        raise InputError(
            f"{shown}: no kernels declared (decorate functions with @autotune.kernel "
            f"or write a spec file {spec_path_for(source).name})"
        )
    return _checked(shown, decls)


def _checked(shown: Path | None, decls: list[AnyKernelDecl]) -> list[AnyKernelDecl]:
    names = [d.name for d in decls]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputError(f"{shown}: kernel names declared twice: {dupes}")
    return decls


def _cuda_source_kernels(source: Path, spec: Path | None) -> list[AnyKernelDecl]:
    """The kernels of the spec that declares the kernels of the CUDA file ``source``."""
    if not source.is_file():
        raise InputError(f"no such file: {source}")
    if spec is None:
        spec = spec_path_for(source)
        if not spec.is_file():
            raise InputError(
                f"{source}: no spec file {spec.name} beside it; a spec file declares the "
                "kernels of a CUDA source"
            )
    decls = spec_kernels(spec, read_spec(spec))
    if not any(isinstance(d, CudaKernelDecl) and _same(d.source, source) for d in decls):
        raise InputError(f"{spec}: declares no kernel of {source}")
    return decls


def _same(path: str, other: Path) -> bool:
    try:
        return bool(path) and Path(path).resolve() == other.resolve()
    except (OSError, ValueError):
        return False


def declares_kernels(source: Path) -> bool:
    """Whether importing ``source`` (a Python file) finds kernels it declares itself, or
    it has a spec file beside it (a CUDA source must have one). Raises
    :class:`InputError` when a Python file does not import."""
    if spec_path_for(source).is_file():
        return True
    if Path(source).suffix in CUDA_SUFFIXES:
        return False
    module = import_source(source)
    return any(_is_declared_in(value, module) for value in vars(module).values())


def _is_declared_in(value: object, module: ModuleType) -> TypeGuard[AnyKernelDecl]:
    if isinstance(value, CudaKernelDecl):
        return value.declared_in == module.__name__
    return isinstance(value, KernelDecl) and value.pyfunc.__module__ == module.__name__


def _declared(module: ModuleType, source: Path) -> list[AnyKernelDecl]:
    found: list[AnyKernelDecl] = []
    for value in vars(module).values():
        if _is_declared_in(value, module):
            if isinstance(value, KernelDecl):  # a CUDA kernel's source is its .cu file
                value.source = str(source.resolve())
            else:  # workers load it again from the Python file that declares it
                value.declared_file = str(source.resolve())
            found.append(value)
    return found
