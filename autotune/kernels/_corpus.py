"""Finding the kernels of a corpus (a sweep, a build): kernel files, spec files and
directories of them."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from autotune.errors import InputError
from autotune.kernels._loader import declares_kernels, load_kernels
from autotune.kernels._spec import SPEC_SUFFIX, spec_path_for


@dataclass(frozen=True, slots=True)
class KernelJob:
    """One kernel of a sweep, as every worker finds it again.

    ``source`` is the resolved Python file, ``spec`` the spec file that declares the
    kernel when it was named explicitly (a spec beside its module is found without it),
    ``digest`` a hash of both files' contents (a sweep tunes an edited kernel again),
    and ``label`` the name shown to users, unique within the sweep.
    """

    source: str
    spec: str | None
    name: str
    sizes: tuple[str, ...]
    digest: str
    label: str


@dataclass(frozen=True, slots=True)
class Unloadable:
    """A file found in a corpus directory that does not load, and why."""

    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class Corpus:
    jobs: tuple[KernelJob, ...]
    unloadable: tuple[Unloadable, ...] = ()


def find_kernels(paths: Sequence[Path]) -> Corpus:
    """Every kernel declared in ``paths``: kernel files, spec files, or directories.

    A directory contributes every ``*.py`` file that declares kernels (or has a spec
    beside it) and every ``*.autotune.toml`` whose module is not such a file, searched
    recursively; names starting with ``.`` or ``_`` are passed over. A file named
    explicitly must load (:class:`InputError` otherwise); a file found in a directory
    that does not load is reported in ``unloadable``. Raises :class:`InputError` when a
    path does not exist or nothing at all is found.
    """
    jobs: list[KernelJob] = []
    unloadable: list[Unloadable] = []
    for path in paths:
        if path.is_dir():
            for found in _kernel_files(path):
                try:
                    jobs.extend(_jobs_in(found, directory=True))
                except InputError as exc:
                    unloadable.append(Unloadable(str(found), str(exc)))
        elif path.is_file():
            jobs.extend(_jobs_in(path, directory=False))
        else:
            raise InputError(f"no such file or directory: {path}")
    unique = list(dict.fromkeys(jobs))
    if not unique:
        shown = ", ".join(str(p) for p in paths)
        if unloadable:
            raise InputError(f"no kernel in {shown} loads: {unloadable[0].reason}")
        raise InputError(f"no kernels found in {shown}")
    return Corpus(tuple(_unique_labels(unique)), tuple(unloadable))


def _kernel_files(root: Path) -> list[Path]:
    files = [
        p
        for p in sorted(root.rglob("*"))
        if p.is_file()
        and (p.suffix == ".py" or p.name.endswith(SPEC_SUFFIX))
        and not any(part.startswith((".", "_")) for part in p.relative_to(root).parts)
    ]
    modules = {p for p in files if p.suffix == ".py"}
    # A spec beside its module is loaded with the module.
    return [p for p in files if not (p.name.endswith(SPEC_SUFFIX) and _module_of(p) in modules)]


def _module_of(spec: Path) -> Path:
    return spec.with_name(spec.name.removesuffix(SPEC_SUFFIX) + ".py")


def _jobs_in(path: Path, directory: bool) -> list[KernelJob]:
    if directory and path.suffix == ".py" and not declares_kernels(path):
        return []  # a helper module, not a kernel file
    spec = path.resolve() if path.suffix == ".toml" else None
    jobs = []
    for decl in load_kernels(path):
        digest = _digest(Path(decl.loaded_from), spec)
        jobs.append(
            KernelJob(
                source=decl.loaded_from,
                spec=None if spec is None else str(spec),
                name=decl.name,
                sizes=tuple(decl.sizes),
                digest=digest,
                label=decl.name,
            )
        )
    return jobs


def _digest(source: Path, spec: Path | None) -> str:
    sha = hashlib.sha256(source.read_bytes())
    spec = spec or spec_path_for(source)
    if spec.is_file():
        sha.update(spec.read_bytes())
    return sha.hexdigest()[:16]


def _unique_labels(jobs: list[KernelJob]) -> list[KernelJob]:
    """Kernels of the same name in different files are labelled with their file."""
    counts = Counter(job.name for job in jobs)
    return [
        job if counts[job.name] == 1 else replace(job, label=f"{Path(job.source).stem}:{job.name}")
        for job in jobs
    ]
