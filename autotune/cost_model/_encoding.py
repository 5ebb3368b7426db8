"""The one numeric encoding of configs, for the per-run model and the cross-program one.

Two views of a config:

* :func:`transferable_features` keeps what means the same in every program, by kind
  rather than by name: compiler options and flags under their keys, a pass sequence as
  a bag of passes, and loop transformations summarized over all nests and bands (a
  band's key names a nest of one kernel; "tiled 64 somewhere" carries across kernels).
  A loop order is compared with the band's order as written (:func:`loop_facts`).
  Kernel parameters (``kernel.*``) are left out: they mean something else in every
  kernel. Its names are fixed (:data:`TRANSFERABLE_SCHEMA`), and :func:`schema_hash`
  identifies them, so that a model trained on other columns is refused.
* :func:`run_features` keeps everything, by name, for a model of one search space.

Column names of :func:`run_features` are ``<param>=<json value>`` (an indicator),
``<param>#<what>`` (a number derived from the value) and ``<param>:<item>`` (a count of
an item of a list): :func:`param_of_column` reads the parameter back.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import fields
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from autotune.loops._space import PARALLEL, SCALARIZE, THREADS
from autotune.params import Int, Pow2, Seq, Subset
from autotune.passes._catalog import FASTMATH_FLAGS, PASS_MODES, PASSES
from autotune.passes._pipeline import PipelineConfig
from autotune.space import Permutation, SearchSpace

if TYPE_CHECKING:
    from autotune.db._base import BaseDatabase

#: Version of the encoding itself: bump it when a feature changes meaning while its
#: name stays, so that :func:`schema_hash` changes too.
ENCODING_FORMAT = 1
#: Numeric parameters with more values than this get no one-hot indicators in
#: :func:`run_features` when the space is known (too sparse to learn one effect each).
MAX_LEVELS = 16

_PIPELINE_DEFAULTS = {
    f"pipeline.{f.name}": getattr(PipelineConfig(), f.name)
    for f in fields(PipelineConfig)
    if f.name not in ("pass_mode", "pass_sequence")
}
_FASTMATH_MODES = ("off", "all", "subset")
# loops.n<nest>.b<band>.<field> and loops.n<nest>.fuse (see autotune.loops._space).
_BAND_KEY = re.compile(r"^loops\.n(\d+)\.b(\d+)\.(\w+)$")
_FUSE_KEY = re.compile(r"^loops\.n\d+\.fuse$")
#: The loop-transformation features, by kind (a summary over every nest and band).
LOOP_SUMMARY = (
    "loops.innermost_changed",
    "loops.orders_changed",
    "loops.skewed",
    "loops.tile_log2_max",
    "loops.tile_log2_mean",
    "loops.tile_inner_log2_max",
    "loops.unroll_max",
    "loops.parallel_bands",
    "loops.threads_log2",
    "loops.scalarize",
    "loops.fusions",
)

#: The names of :func:`transferable_features`, in the order of :func:`transferable_vector`.
TRANSFERABLE_SCHEMA: tuple[str, ...] = (
    *(f"passes.mode={mode}" for mode in PASS_MODES),
    "passes.length",
    *(f"passes.count:{name}" for name in PASSES),
    "passes.count:other",
    *_PIPELINE_DEFAULTS,
    *(f"flags.fastmath={mode}" for mode in _FASTMATH_MODES),
    *(f"flags.fastmath:{flag}" for flag in FASTMATH_FLAGS),
    "flags.error_model=numpy",
    "flags.parallel",
    *LOOP_SUMMARY,
)
_SCHEMA_INDEX = {name: i for i, name in enumerate(TRANSFERABLE_SCHEMA)}


def schema_hash(names: Sequence[str] = TRANSFERABLE_SCHEMA) -> str:
    """sha256 of the feature ``names`` and :data:`ENCODING_FORMAT`: a model fitted on
    rows of one schema refuses rows of another. A model whose rows prepend program
    features passes all its column names."""
    text = "\n".join([f"autotune-encoding {ENCODING_FORMAT}", *names])
    return hashlib.sha256(text.encode()).hexdigest()


def transferable_features(
    config: Mapping[str, Any],
    space: SearchSpace | None = None,
    *,
    facts: LoopFacts | None = None,
) -> dict[str, float]:
    """The features of ``config`` that mean the same in every program (every name of
    :data:`TRANSFERABLE_SCHEMA`, nothing else).

    A compiler option the config lacks takes the value Numba's own build uses; the
    pipeline options of ``passes.mode = "replace"`` are 0 (no O-level pipeline runs).
    A loop order is compared with the band's order as written: the :func:`loop_facts`
    of ``space``. Without them the loop variables in sorted order stand in for it,
    which is right for most bands but not all (``gemm`` is written ``i,k,j``), so pass
    the space where it is known. ``facts``, when given, is
    :func:`loop_facts` of the space (or of an exported workload), for callers that
    encode many configs.

    Unknown keys and values of the wrong type are ignored; every value is finite.
    """
    return _features(config, loop_facts(space) if facts is None else facts)


def _features(config: Mapping[str, Any], facts: LoopFacts) -> dict[str, float]:
    out = dict.fromkeys(TRANSFERABLE_SCHEMA, 0.0)
    _encode_passes(config, out)
    _encode_pipeline(config, out)
    _encode_flags(config, out)
    _encode_loops(config, facts, out)
    return out


class BandFacts(NamedTuple):
    """One loop-order dimension as the encoding sees it: the band's order as written,
    and per loop, in that order, ``(variable, cost innermost, dependences carried
    alone)`` (see :func:`autotune.loops._space.order_facts`; empty: not known).

    The encoding reads only the order as written. The costs travel with spaces,
    exports and the database so that features built on them can be trained without
    tuning again; stride features built on them were tried and measured to make real
    model-guided runs worse (``benchmarks/results/cost_model.txt``), so none is in
    :data:`TRANSFERABLE_SCHEMA`."""

    written: str
    loops: tuple[tuple[str, float, float], ...] = ()


#: Per loop-order dimension (``loops.n<nest>.b<band>.order``), its :class:`BandFacts`.
LoopFacts = Mapping[str, BandFacts]


def loop_facts(space: SearchSpace | None) -> dict[str, BandFacts]:
    """The :class:`BandFacts` of each loop dimension of ``space`` with a string default
    (the order as written is the first of the legal orders, the identity), with the
    costs its annotations carry."""
    if space is None:
        return {}
    out: dict[str, BandFacts] = {}
    for name in space.names:
        if name.startswith("loops.") and isinstance(default := space[name].default, str):
            out[name] = BandFacts(default, _band_loops(default, space.annotation(name)))
    return out


def _band_loops(written: str, notes: Mapping[str, float]) -> tuple[tuple[str, float, float], ...]:
    names = written.split(",")
    if not all(f"cost:{v}" in notes for v in names):
        return ()
    return tuple((v, notes[f"cost:{v}"], notes.get(f"carried:{v}", 0.0)) for v in names)


def facts_to_json(facts: LoopFacts) -> dict[str, Any]:
    """``facts`` as JSON: ``{dimension: [written, [[variable, cost, carried], ...]]}``."""
    return {k: [f.written, [list(loop) for loop in f.loops]] for k, f in sorted(facts.items())}


def facts_from_json(data: Any) -> dict[str, BandFacts]:
    """The facts :func:`facts_to_json` wrote. Raises ValueError for anything else."""
    if not isinstance(data, dict):
        raise ValueError(f"loop facts must be an object, not {type(data).__name__}")
    try:
        facts = {
            str(k): BandFacts(str(w), tuple((str(v), float(c), float(n)) for v, c, n in loops))
            for k, (w, loops) in data.items()
        }
    except (TypeError, ValueError) as exc:
        raise ValueError(f"damaged loop facts: {exc}") from None
    if not all(math.isfinite(x) for band in facts.values() for _, *xs in band.loops for x in xs):
        raise ValueError("damaged loop facts: a cost that is not a finite number")
    return facts


def facts_to_floats(facts: LoopFacts) -> dict[str, float]:
    """``facts`` flattened to numbers, for a table of named floats (a database's
    feature cache): ``<dimension>|<variable>|pos``, ``|cost`` and ``|carried``."""
    out: dict[str, float] = {}
    for key, band in facts.items():
        costs = {v: (c, n) for v, c, n in band.loops}
        for position, var in enumerate(band.written.split(",")):
            out[f"{key}|{var}|pos"] = float(position)
            if var in costs:
                out[f"{key}|{var}|cost"], out[f"{key}|{var}|carried"] = costs[var]
    return out


def facts_from_floats(table: Mapping[str, float]) -> dict[str, BandFacts]:
    """The facts :func:`facts_to_floats` flattened (entries it did not write are
    ignored)."""
    bands: dict[str, dict[str, dict[str, float]]] = {}
    for name, value in table.items():
        parts = name.rsplit("|", 2)
        if len(parts) == 3 and parts[2] in ("pos", "cost", "carried"):
            bands.setdefault(parts[0], {}).setdefault(parts[1], {})[parts[2]] = float(value)
    out: dict[str, BandFacts] = {}
    for key, loops in bands.items():
        if not all("pos" in v for v in loops.values()):
            continue
        names = sorted(loops, key=lambda v: loops[v]["pos"])
        written = ",".join(names)
        notes = {f"{k}:{v}": x for v, got in loops.items() for k, x in got.items() if k != "pos"}
        out[key] = BandFacts(written, _band_loops(written, notes))
    return out


#: Under what name a database's feature cache keeps a program's loop facts.
LOOP_FACTS_SCHEMA = "loop-facts-" + hashlib.sha256(b"autotune loop facts 1").hexdigest()[:16]


def store_loop_facts(database: BaseDatabase, ir_hash: str, facts: LoopFacts) -> None:
    """Keep ``facts`` of the program ``ir_hash`` in ``database`` (once; none is no-op),
    so that a model trained from the database later compares loop orders with the
    orders as written, as the search does."""
    if facts:
        database.add_program_features(ir_hash, LOOP_FACTS_SCHEMA, facts_to_floats(facts))


def stored_loop_facts(database: BaseDatabase, ir_hash: str) -> dict[str, BandFacts]:
    """The facts :func:`store_loop_facts` kept for ``ir_hash`` (empty: none)."""
    table = database.program_features(ir_hash, LOOP_FACTS_SCHEMA)
    return facts_from_floats(table) if table else {}


def transferable_vector(config: Mapping[str, Any], space: SearchSpace | None = None) -> np.ndarray:
    """:func:`transferable_features` as an array in :data:`TRANSFERABLE_SCHEMA` order."""
    return _vector(config, loop_facts(space))


def _vector(config: Mapping[str, Any], facts: LoopFacts) -> np.ndarray:
    features = _features(config, facts)
    return np.fromiter(features.values(), float, len(_SCHEMA_INDEX))


def transferable_matrix(
    configs: Sequence[Mapping[str, Any]],
    space: SearchSpace | None = None,
    *,
    facts: LoopFacts | None = None,
) -> np.ndarray:
    """One :func:`transferable_vector` per config, as rows of a matrix (``facts``: as
    for :func:`transferable_features`)."""
    known = loop_facts(space) if facts is None else facts  # once: it is what makes a row cost
    matrix = np.zeros((len(configs), len(TRANSFERABLE_SCHEMA)))
    for row, config in enumerate(configs):
        matrix[row] = _vector(config, known)
    return matrix


def _number(value: Any) -> float | None:
    """``value`` as a finite float, or ``None`` where it is no number (or not finite)."""
    if not isinstance(value, bool | int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _log2(value: Any) -> float:
    """log2 of a positive number; 0 for anything else (no tile, no threads)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        return 0.0
    result = math.log2(value)
    return result if math.isfinite(result) else 0.0


def _encode_passes(config: Mapping[str, Any], out: dict[str, float]) -> None:
    mode = config.get("passes.mode", "default")
    if isinstance(mode, str) and f"passes.mode={mode}" in _SCHEMA_INDEX:
        out[f"passes.mode={mode}"] = 1.0
    sequence = config.get("passes.sequence", [])
    if not isinstance(sequence, list | tuple):
        return
    out["passes.length"] = float(len(sequence))
    for name in sequence:
        column = f"passes.count:{name}" if isinstance(name, str) else ""
        column = column if column in _SCHEMA_INDEX else "passes.count:other"
        out[column] += 1.0


def _encode_pipeline(config: Mapping[str, Any], out: dict[str, float]) -> None:
    if config.get("passes.mode") == "replace":
        return  # no O-level pipeline runs: every option stays 0
    for key, default in _PIPELINE_DEFAULTS.items():
        value = _number(config.get(key, default))
        out[key] = float(default) if value is None else value


def _encode_flags(config: Mapping[str, Any], out: dict[str, float]) -> None:
    mode = config.get("flags.fastmath", "off")
    if mode not in _FASTMATH_MODES:
        mode = "off"
    out[f"flags.fastmath={mode}"] = 1.0
    subset = config.get("flags.fastmath_flags", [])
    for flag in FASTMATH_FLAGS:
        on = mode == "all" or (mode == "subset" and isinstance(subset, list) and flag in subset)
        out[f"flags.fastmath:{flag}"] = float(on)
    out["flags.error_model=numpy"] = float(config.get("flags.error_model") == "numpy")
    out["flags.parallel"] = float(config.get("flags.parallel") is True)


@functools.lru_cache(maxsize=4096)
def _loop_key(key: str) -> tuple[str, str] | None:
    """``(band, field)`` of a band's key, ``("", "fuse")`` of a fusion's, else None."""
    if match := _BAND_KEY.match(key):
        return f"{match.group(1)}.{match.group(2)}", match.group(3)
    if _FUSE_KEY.match(key):
        return "", "fuse"
    return None


def _encode_loops(config: Mapping[str, Any], facts: LoopFacts, out: dict[str, float]) -> None:
    bands: dict[str, list[tuple[str, Any]]] = {}
    orders: dict[str, str] = {}
    fusions = 0
    for key, value in config.items():
        if not (isinstance(key, str) and key.startswith("loops.n")):
            continue
        parsed = _loop_key(key)
        if parsed is None:
            continue
        band, field = parsed
        if band:
            bands.setdefault(band, []).append((field, value))
            if field.startswith("order"):
                known = facts.get(key)
                orders[band] = known.written if known is not None else ""
        elif value is True:
            fusions += 1
    summaries: list[_Band] = []
    for band, items in bands.items():
        try:
            summaries.append(_band_summary(tuple(sorted(items)), orders.get(band, "")))
        except TypeError:  # an unhashable value: not a choice of any loop dimension
            continue
    if summaries:
        _add_bands(summaries, out)
    if config.get(PARALLEL) is True:
        out["loops.threads_log2"] = _log2(config.get(THREADS))
    out["loops.scalarize"] = float(config.get(SCALARIZE) is True)
    out["loops.fusions"] = float(fusions)


def _add_bands(summaries: list[_Band], out: dict[str, float]) -> None:
    """Sum (or take the largest of) the bands' summaries into ``out``; column-wise,
    because scoring a pool encodes thousands of configs."""
    skewed, changed, innermost, tile, inner, unroll, parallel = zip(*summaries, strict=True)
    out["loops.skewed"] = sum(skewed)
    out["loops.orders_changed"] = sum(changed)
    out["loops.innermost_changed"] = max(innermost)
    tiles = [t for t in tile if t is not None]
    if tiles:
        out["loops.tile_log2_max"] = max(tiles)
        out["loops.tile_inner_log2_max"] = max(
            i for t, i in zip(tile, inner, strict=True) if t is not None
        )
        out["loops.tile_log2_mean"] = sum(tiles) / len(tiles)
    unrolls = [u for u in unroll if u is not None]
    if unrolls:
        out["loops.unroll_max"] = max(0.0, *unrolls)
    out["loops.parallel_bands"] = sum(parallel)


class _Band(NamedTuple):
    """One band's choices summarized (see :func:`_band_summary`)."""

    skewed: float
    changed: float
    innermost: float
    tile: float | None
    inner: float
    unroll: float | None
    parallel: float


@functools.lru_cache(maxsize=1 << 16)
def _band_summary(items: tuple[tuple[str, Any], ...], written: str) -> _Band:
    """One band's choices (sorted ``(field, value)`` pairs) summarized. ``written`` is
    the band's order as written (``""``: unknown; the loop variables sorted stand in).
    Bands repeat across the configs of a pool, hence the cache."""
    band = dict(items)
    skewed = band.get("enable", "none") == "permutable"
    order = band.get("order_permutable" if skewed else "order")
    changed = innermost = 0.0
    if isinstance(order, str) and order:
        written = written or ",".join(sorted(order.split(",")))
        changed = float(order != written)
        innermost = float(order.rsplit(",", 1)[-1] != written.rsplit(",", 1)[-1])
    tile = _log2(band["tile"]) if "tile" in band else None
    return _Band(
        float(skewed),
        changed,
        innermost,
        tile,
        _log2(band.get("tile_inner")) if tile else 0.0,
        _number(band.get("unroll")),
        float(band.get("parallel") is True),
    )


# --- the per-run encoding ----------------------------------------------------------------


def param_of_column(column: str) -> str:
    """The parameter a :func:`run_features` column encodes."""
    return re.split(r"[=#:]", column, maxsplit=1)[0]


def run_features(config: Mapping[str, Any], space: SearchSpace | None = None) -> dict[str, float]:
    """Every entry of ``config`` by name, for a model of one search space.

    Each scalar value is an indicator ``name=<json>``; a positive number also gives
    ``name#log2`` (so that powers of two share strength); a list gives its length
    ``name#len`` and the count of each item ``name:<item>``. Where ``space`` declares
    a parameter an :class:`~autotune.params.Int`, its value also appears as it is
    (``name#value``), and an ``Int`` or ``Pow2`` with more than :data:`MAX_LEVELS`
    values gets no indicators.
    """
    out: dict[str, float] = {}
    for name, value in config.items():
        if isinstance(value, list | tuple):
            out[f"{name}#len"] = float(len(value))
            for item, count in Counter(map(str, value)).items():
                out[f"{name}:{item}"] = float(count)
            continue
        param = space[name] if space is not None and name in space.names else None
        numeric = isinstance(param, Int | Pow2)
        if not (numeric and param is not None and param.size() > MAX_LEVELS):
            out[f"{name}={json.dumps(value, default=str)}"] = 1.0
        number = _number(value)
        if number is None or isinstance(value, bool):
            continue
        if number > 0:
            out[f"{name}#log2"] = math.log2(number)
        if isinstance(param, Int):
            out[f"{name}#value"] = number
    return out


def run_columns(space: SearchSpace) -> list[str]:
    """Every column :func:`run_features` gives the configs of ``space``: a fixed design
    whose indicators span the space's choices, not only the values seen."""
    columns: list[str] = []
    for name in space.names:
        param = space[name]
        if isinstance(param, Seq | Subset | Permutation):
            items = param.choices if isinstance(param, Seq) else param.items
            columns += [f"{name}#len", *(f"{name}:{item}" for item in items)]
            continue
        if isinstance(param, Int | Pow2) and param.size() > MAX_LEVELS:
            values = [param.low, param.high]  # numeric columns only
        else:
            values = list(param.values())
        features: dict[str, float] = {}
        for value in values:
            features.update(run_features({name: value}, space))
        columns += sorted(features)
    return columns
