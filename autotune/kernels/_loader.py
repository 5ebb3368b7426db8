"""Loading kernels from a source file and/or the spec file beside it."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import TypeGuard

from autotune.errors import InputError
from autotune.kernels._decl import KernelDecl
from autotune.kernels._source import import_source
from autotune.kernels._spec import kernels_from_spec, read_spec, spec_module_path, spec_path_for


def load_kernels(source: Path, spec: Path | None = None) -> list[KernelDecl]:
    """Every kernel declared in ``source`` (decorators) or its spec file.

    ``source`` may be a Python file or a spec file (``*.toml``). A spec named
    ``<stem>.autotune.toml`` beside a Python file is found automatically; ``spec`` names
    another. Raises :class:`InputError` for a missing file, a syntax error, a bad spec, an
    unknown function, duplicate names or a file without kernels.
    """
    source = Path(source)
    if source.suffix == ".toml":
        spec, source = source, Path()
    decls: list[KernelDecl] = []
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
        module = import_source(module_path)
        for decl in kernels_from_spec(spec, data, module):
            decl.source = str(module_path.resolve())
            decls.append(decl)
    shown = source if source != Path() else spec
    if not decls:
        raise InputError(
            f"{shown}: no kernels declared (decorate functions with @autotune.kernel "
            f"or write a spec file {spec_path_for(source).name})"
        )
    names = [d.name for d in decls]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputError(f"{shown}: kernel names declared twice: {dupes}")
    return decls


def declares_kernels(source: Path) -> bool:
    """Whether importing ``source`` (a Python file) finds kernels it declares itself, or
    it has a spec file beside it. Raises :class:`InputError` when it does not import."""
    if spec_path_for(source).is_file():
        return True
    module = import_source(source)
    return any(_is_declared_in(value, module) for value in vars(module).values())


def _is_declared_in(value: object, module: ModuleType) -> TypeGuard[KernelDecl]:
    return isinstance(value, KernelDecl) and value.pyfunc.__module__ == module.__name__


def _declared(module: ModuleType, source: Path) -> list[KernelDecl]:
    found = []
    for value in vars(module).values():
        if _is_declared_in(value, module):
            value.source = str(source.resolve())
            found.append(value)
    return found
