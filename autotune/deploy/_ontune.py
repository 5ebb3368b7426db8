"""Tuning a decorated function on a miss, with the real tuner.

The tuner's worker processes import the kernel's file and find the kernel by name, so
a function is declared to them with a spec file written for it: the function's module
and name, its array arguments and return value as outputs, and as inputs the
arguments of the call that missed (saved beside the spec; the held-back input set is
them perturbed by 1%). Numba's default build is the reference. The result is stored in
the database's config cache under the function's key, so the next process finds it.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import pickle
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from autotune.deploy._disk import deploy_dir
from autotune.errors import InputError

if TYPE_CHECKING:
    from autotune.result import TuningResult

#: Set while a tuning run started here is in progress. Worker processes inherit it, so
#: a module that calls its functions when imported never starts another run.
TUNING_ENV = "AUTOTUNE_TUNING_ON_MISS"
#: Perturbation of the held-back input set (see ``KernelDecl.perturb``).
PERTURB = 0.01


def tuning_in_progress() -> bool:
    return os.environ.get(TUNING_ENV) == "1"


def tune_on_miss(
    pyfunc: Callable[..., Any],
    args: tuple[Any, ...],
    *,
    njit_options: Mapping[str, Any],
    db: str | None,
    budget: int,
) -> TuningResult:
    """Tune ``pyfunc`` on the problem ``args`` with a budget of ``budget`` configs,
    recording into ``db`` (default: the per-user database).

    Raises :class:`InputError` when the function cannot be tuned this way (it is not
    defined at the top level of a file, or its arguments cannot be saved).
    """
    from autotune.api import tune

    source = tunable_file(pyfunc)
    spec = write_spec(pyfunc, source, args, allow_fastmath=bool(njit_options.get("fastmath")))
    with _tuning():
        [result] = tune(pyfunc, spec=spec, budget=budget, db=db)
    if result.tuned:
        remember_result(pyfunc, args, result, db)
    return result


def remember_result(
    pyfunc: Callable[..., Any], args: tuple[Any, ...], result: TuningResult, db: str | None
) -> None:
    """Store ``result`` in ``db``'s config cache under ``pyfunc``'s key for ``args``,
    so that the next process finds it (storing it again replaces it), and make this
    process's lookups read the database afresh."""
    from autotune.cache import remember
    from autotune.cache._lookup import entry_for_result
    from autotune.db import open_database
    from autotune.deploy._dispatcher import as_decl
    from autotune.deploy._lookup import forget_source
    from autotune.program import host_target

    entry = entry_for_result(as_decl(pyfunc), args, result, host_target())
    database = open_database(db)
    try:
        remember(database, entry)
    finally:
        database.close()
    forget_source(db, None)


def tunable_file(pyfunc: Callable[..., Any]) -> Path:
    """The file worker processes can import ``pyfunc`` from by name; InputError if none."""
    name = pyfunc.__qualname__
    why = None
    try:
        path = inspect.getsourcefile(pyfunc)
    except TypeError:
        path = None
    if path is None or not Path(path).is_file():
        why = "it is not defined in a Python file (interactive code cannot be re-imported)"
    elif pyfunc.__closure__ or "." in name:
        why = (
            "it is not defined at the top level of its module (worker processes look it up by name)"
        )
    if why is not None:
        raise InputError(
            f"cannot tune {name!r} on a miss: {why}; declare it with @autotune.kernel "
            "or a spec file and run `autotune tune`"
        )
    assert path is not None
    return Path(path).resolve()


def write_spec(
    pyfunc: Callable[..., Any], source: Path, args: tuple[Any, ...], allow_fastmath: bool
) -> Path:
    """A spec file declaring ``pyfunc`` with the inputs ``args``; returns its path."""
    saved = pickle_args(args)
    digest = hashlib.sha256(saved).hexdigest()[:16]
    folder = deploy_dir() / "tune" / f"{pyfunc.__name__}-{digest}"
    folder.mkdir(parents=True, exist_ok=True)
    inputs = folder / "inputs.pkl"
    inputs.write_bytes(saved)
    outputs = [i for i, a in enumerate(args) if isinstance(a, np.ndarray)] + ["return"]
    lines = [
        f"module = {json.dumps(str(source))}",
        "",
        "[[kernel]]",
        f"function = {json.dumps(pyfunc.__name__)}",
        f"outputs = {json.dumps(outputs)}",
        f"fastmath = {json.dumps(allow_fastmath)}",
        f"perturb = {PERTURB}",
        "inputs = { init = "
        + json.dumps(f"{__name__}:saved_inputs")
        + f", path = {json.dumps(str(inputs))} }}",
    ]
    spec = folder / f"{pyfunc.__name__}.autotune.toml"
    spec.write_text("\n".join(lines) + "\n")
    return spec


def pickle_args(args: tuple[Any, ...]) -> bytes:
    try:
        return pickle.dumps(tuple(args), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        raise InputError(f"cannot tune on a miss: the arguments cannot be saved: {exc}") from None


def saved_inputs(path: str) -> tuple[Any, ...]:
    """The arguments :func:`write_spec` saved (the spec's input factory)."""
    with open(path, "rb") as file:
        return tuple(pickle.load(file))


@contextmanager
def _tuning() -> Iterator[None]:
    before = os.environ.get(TUNING_ENV)
    os.environ[TUNING_ENV] = "1"
    try:
        yield
    finally:
        if before is None:
            del os.environ[TUNING_ENV]
        else:
            os.environ[TUNING_ENV] = before
