"""Converting GPU tuning-space files into replay data, so strategies search them
without a GPU (the format is described in ``corpora/spaces/gpu/README.md``).

The sources hold every config of one CUDA kernel template: ``gpu-tuning-space/v1``
files each config verified and timed on a GPU (repetition times in ms, and the
device), ``gpu-tuning-space-static/v1`` files each config only compiled with NVRTC
(status, compile time, ptxas resources; no runtime). Either becomes a replay file
(:mod:`autotune.measure._replay`) with one kernel named after the space, whose
``space`` has one ``{"choices": [...]}`` table per parameter (``kernel.NAME``, in the
file's value order) and whose defaults are the ``baseline_config``: the source's
``default`` where it names one, else the first value of every parameter, else (where
that config was not timed, or for static data not compiled) the first config that was.

Every config is a trial; statuses map as :data:`MEASURED_STATUSES` and
:data:`STATIC_STATUSES` say, each failure with its reason, so a config that breaks a
restriction is answered ``invalid`` with the restriction. A timed config's rounds pair
the i-th timed launch of the baseline config with its own (seconds, one launch per
sample): the speedup is the median ratio and the CI the bootstrap over launches. The
configs were timed one after the other, so that CI covers launch-to-launch noise, not
drift between the two measurements. ``build`` keeps each build's resources.

Static data was never run: its compiled configs are ``skipped``, never ``ok``, and its
target is :func:`static_target`, which is no device (``static sm_90 (no runtimes)``,
SM count 0, versions ``none``): its key matches no GPU's, so nothing measured on a
device can be mistaken for it, or it for a device.

Command line (bad input: one line on stderr, exit 2)::

    python -m autotune.measure._gpu_spaces SRC.json OUT.json
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from autotune.backends._cupy import PARAM_PREFIX, CudaTarget
from autotune.errors import InputError
from autotune.measure._replay import FORMAT, VERSION
from autotune.program import Workload
from autotune.records import Status

MEASURED_FORMAT = "gpu-tuning-space/v1"
STATIC_FORMAT = "gpu-tuning-space-static/v1"
#: What a version field of a static target holds: there is no device, driver or CuPy.
NO_VERSION = "none"

MEASURED_STATUSES = {
    "ok": Status.OK,
    "invalid": Status.INVALID,
    "compile_error": Status.BUILD_FAILED,
    "launch_error": Status.RUN_FAILED,
    "wrong_result": Status.WRONG_RESULT,
    "not_measured": Status.SKIPPED,
}
STATIC_STATUSES = {
    "compiled": Status.SKIPPED,
    "invalid": Status.INVALID,
    "compile_error": Status.BUILD_FAILED,
}
NOT_RUN = "not run: static compile data, no runtime recorded"

#: ptxas and CuPy resource names, as the CUDA builder names its build features.
_FEATURE_NAMES = {
    "regs": "registers",
    "smem_bytes": "shared_static_bytes",
    "cmem0_bytes": "constant_bytes",
    "max_threads": "max_threads_per_block",
}
#: Compile options that say where or how a file was compiled, not what: not part of
#: the program's identity.
_NOT_PROGRAM_OPTIONS = ("-arch=", "-D<", "--ptxas-options")


def static_target(arch: str = "sm_90") -> CudaTarget:
    """The target of static compile data for ``arch``: no device, no runtimes (see the
    module docstring)."""
    digits = arch.removeprefix("sm_")
    return CudaTarget(
        device_name=f"static {arch} (no runtimes)",
        compute_capability=f"{digits[:-1]}.{digits[-1]}",
        sm_count=0,
        driver_version=NO_VERSION,
        runtime_version=NO_VERSION,
        cupy_version=NO_VERSION,
    )


def is_static(target: Any) -> bool:
    """Whether ``target`` is a :func:`static_target` rather than a device."""
    return isinstance(target, CudaTarget) and target.sm_count == 0


def convert(source: Mapping[str, Any], where: str = "input") -> dict[str, Any]:
    """The replay JSON of the GPU space file ``source``; :class:`InputError` naming
    ``where`` when it is not one."""
    if not isinstance(source, Mapping):
        raise InputError(f"{where}: not a GPU tuning-space file (a JSON object)")
    kind = source.get("format")
    if kind not in (MEASURED_FORMAT, STATIC_FORMAT):
        raise InputError(
            f"{where}: format {kind!r} is not {MEASURED_FORMAT!r} or {STATIC_FORMAT!r}"
        )
    try:
        return _convert(source, where, measured=kind == MEASURED_FORMAT)
    except KeyError as exc:
        raise InputError(f"{where}: malformed GPU tuning-space file: no {exc}") from None
    except (TypeError, ValueError, AttributeError, IndexError) as exc:
        raise InputError(f"{where}: malformed GPU tuning-space file: {exc!r}") from None


def _convert(source: Mapping[str, Any], where: str, measured: bool) -> dict[str, Any]:
    params = _parameters(where, source)
    configs = _configs(where, source, params, measured)
    baseline, note = _baseline(where, source, params, configs, measured)
    base_times = _seconds(baseline) if measured else None
    trials = [_trial(None, baseline, base_times, measured)]
    trials += [_trial(c["params"], c, base_times, measured) for c in configs]
    program = _workload(source)
    kernel = {
        "kernel": program.kernel,
        "arg_types": program.arg_types,
        "inputs": program.inputs,
        "ir_text": program.ir_text,
        "workload_key": program.key,
        "space": _space(params, baseline["params"]),
        "baseline_config": _prefixed(baseline["params"]),
        "baseline_note": note,
        "recording": _recording(source, _status_counts(where, source, configs), measured),
        "trials": trials,
    }
    target = _measured_target(source["device"]) if measured else static_target(_arch(source))
    return {"format": FORMAT, "version": VERSION, "target": target.as_dict(), "kernels": [kernel]}


def _parameters(where: str, source: Mapping[str, Any]) -> dict[str, list[Any]]:
    table = source["tune_params"]
    order = source.get("tune_params_keys") or list(table)
    if not isinstance(table, Mapping) or not table or sorted(order) != sorted(table):
        raise InputError(f"{where}: 'tune_params' must map each parameter to its values")
    for name in order:
        values = table[name]
        if not isinstance(values, list) or not values or len(set(map(repr, values))) < len(values):
            raise InputError(f"{where}: parameter {name}: values must be a list, each once")
    return {name: list(table[name]) for name in order}


def _configs(
    where: str, source: Mapping[str, Any], params: Mapping[str, list[Any]], measured: bool
) -> list[Mapping[str, Any]]:
    known = MEASURED_STATUSES if measured else STATIC_STATUSES
    configs = source["configs"]
    if not isinstance(configs, list) or not configs:
        raise InputError(f"{where}: 'configs' must be a non-empty list")
    seen: set[str] = set()
    for i, config in enumerate(configs):
        label = f"{where}: config {config.get('id', i)}"
        why = _not_a_point(config["params"], params)
        if why is not None:
            raise InputError(f"{label}: {why}")
        if config["status"] not in known:
            raise InputError(f"{label}: status {config['status']!r} is not one of {list(known)}")
        if (
            measured
            and config["status"] == "ok"
            and not (config.get("times_ms") or config.get("median_ms"))
        ):
            raise InputError(f"{label}: status ok without times_ms or median_ms")
        key = json.dumps(config["params"], sort_keys=True)
        if key in seen:
            raise InputError(f"{label}: the same parameters as an earlier config")
        seen.add(key)
    return configs


def _not_a_point(values: Any, params: Mapping[str, list[Any]]) -> str | None:
    if not isinstance(values, Mapping) or set(values) != set(params):
        return f"parameters must be exactly {list(params)}"
    for name, value in values.items():
        if value not in params[name]:
            return f"{name}={value!r} is not one of {params[name]}"
    return None


def _baseline(
    where: str,
    source: Mapping[str, Any],
    params: Mapping[str, list[Any]],
    configs: list[Mapping[str, Any]],
    measured: bool,
) -> tuple[Mapping[str, Any], str]:
    """The config that is the baseline, and a note saying why it is."""
    named = source.get("default")
    if named is not None:
        why = _not_a_point(named, params)
        if why is not None:
            raise InputError(f"{where}: default: {why}")
        default, how = dict(named), "the default config the source file names"
    else:
        default = {name: values[0] for name, values in params.items()}
        how = "the first value of every parameter (the source file names no default)"
    by_params = {json.dumps(c["params"], sort_keys=True): c for c in configs}
    found = by_params.get(json.dumps(default, sort_keys=True))
    if found is None:
        raise InputError(f"{where}: the default config {default} is not among the configs")
    good = "ok" if measured else "compiled"
    if found["status"] == good:
        return found, how
    usable = [c for c in configs if c["status"] == good]
    if not usable:
        raise InputError(f"{where}: no config has status {good!r}")
    return usable[0], (
        f"the first config with status {good!r}: the default ({how}) has status {found['status']!r}"
    )


def _space(params: Mapping[str, list[Any]], baseline: Mapping[str, Any]) -> dict[str, Any]:
    space = {}
    for name, values in params.items():
        table: dict[str, Any] = {"choices": values}
        if baseline[name] != values[0]:
            table["default"] = baseline[name]
        space[PARAM_PREFIX + name] = table
    return space


def _prefixed(params: Mapping[str, Any]) -> dict[str, Any]:
    return {PARAM_PREFIX + name: value for name, value in params.items()}


def _seconds(config: Mapping[str, Any]) -> list[float]:
    """The repetition times of a timed config, in seconds (its median alone where the
    file kept no repetitions)."""
    times = config.get("times_ms") or [config["median_ms"]]
    return [round(float(t) / 1000, 12) for t in times]


def _rounds(
    base: list[float], candidate: list[float]
) -> tuple[list[list[float]], list[list[float]]]:
    """Rounds of the baseline's and a config's repetitions: the i-th launch of each
    paired as round i, or every launch in one round where their counts differ."""
    if len(base) == len(candidate):
        return [[t] for t in base], [[t] for t in candidate]
    return [base], [candidate]


def _trial(
    params: Mapping[str, Any] | None,
    config: Mapping[str, Any],
    base_times: list[float] | None,
    measured: bool,
) -> dict[str, Any]:
    status = (MEASURED_STATUSES if measured else STATIC_STATUSES)[config["status"]]
    trial: dict[str, Any] = {
        "config": None if params is None else _prefixed(params),
        "status": str(status),
        "error": _reason(config, measured),
        "compile_s": config.get("compile_s"),
    }
    if status is Status.OK and base_times is not None:
        trial["calls_per_sample"] = 1
        trial["baseline_rounds"], trial["candidate_rounds"] = _rounds(base_times, _seconds(config))
    build = _features(config)
    if build:
        trial["build"] = build
    return trial


def _reason(config: Mapping[str, Any], measured: bool) -> str:
    error = str(config.get("error") or "")
    if not measured and config["status"] == "compiled":
        return NOT_RUN
    if config["status"] == "not_measured":
        return f"not measured: {error or 'no reason recorded'}"
    return error


def _features(config: Mapping[str, Any]) -> dict[str, Any]:
    """Registers, spills and shared memory of a build, as the CUDA builder names them."""
    features = {_FEATURE_NAMES.get(k, k): v for k, v in (config.get("resources") or {}).items()}
    if config.get("cubin_bytes") is not None:
        features["cubin_bytes"] = config["cubin_bytes"]
    others = config.get("other_kernels") or {}
    if others:
        features["other_kernels"] = {
            name: {_FEATURE_NAMES.get(k, k): v for k, v in resources.items()}
            for name, resources in others.items()
        }
    return features


def _workload(source: Mapping[str, Any]) -> Workload:
    """The program: the kernel source behind a header naming its entry and the options
    it is always compiled with (as the CUDA builder lowers a kernel); the problem as
    the source file describes it (a static file compiles for no problem instance)."""
    options = [
        o for o in source.get("compile_options", []) if not o.startswith(_NOT_PROGRAM_OPTIONS)
    ]
    header = f"// autotune cuda kernel {source['kernel_name']}; options: {' '.join(options)}"
    problem = source.get("problem")
    inputs = json.dumps(problem, sort_keys=True) if problem else "compile only: no problem size"
    return Workload(
        kernel=str(source["space"]),
        arg_types=str((source.get("launch") or {}).get("args", "")),
        ir_text=header + "\n" + str(source["kernel_source"]),
        inputs=inputs,
    )


def _arch(source: Mapping[str, Any]) -> str:
    arches = [o.removeprefix("-arch=") for o in source["compile_options"] if o.startswith("-arch=")]
    return arches[0] if arches else "sm_90"


def _measured_target(device: Mapping[str, Any]) -> CudaTarget:
    return CudaTarget(
        device_name=str(device["device_name"]),
        compute_capability=str(device["compute_capability"]),
        sm_count=int(device["multiprocessors"]),
        driver_version=_cuda_version(device["driver_version"]),
        runtime_version=_cuda_version(device["runtime_version"]),
        cupy_version=str(device["cupy_version"]),
    )


def _cuda_version(value: Any) -> str:
    """CUDA's integer versions (12080) as the CUDA backend writes them (``"12.8"``)."""
    if isinstance(value, int):
        return f"{value // 1000}.{value % 1000 // 10}"
    return str(value)


def _status_counts(
    where: str, source: Mapping[str, Any], configs: Sequence[Mapping[str, Any]]
) -> dict[str, int]:
    """How many configs have each status; the source's own count, where it states
    one, must agree."""
    counted = dict(Counter(str(c["status"]) for c in configs))
    stated = source.get("status_counts") or (source.get("summary") or {}).get("status_counts")
    if stated is not None and dict(stated) != counted:
        raise InputError(f"{where}: status_counts {dict(stated)} disagree with the configs")
    return counted


def _recording(
    source: Mapping[str, Any], status_counts: dict[str, int], measured: bool
) -> dict[str, Any]:
    """Where the data came from, as the source file records it."""
    device = source.get("device") or {}
    recording: dict[str, Any] = {
        "format": source["format"],
        "space": source["space"],
        "entry": source["kernel_name"],
        "date_utc": source.get("date_utc") or device.get("date_utc"),
        "nvrtc": source.get("nvrtc_version") or device.get("nvrtc_version"),
        "host": source.get("host") or device.get("host"),
        "compile_options": source.get("compile_options"),
        "restrictions": source.get("restrictions"),
        "status_counts": status_counts,
    }
    if source.get("note"):
        recording["note"] = source["note"]
    if measured:
        measurement = source.get("measurement") or {}
        recording["complete"] = source.get("complete")
        recording["metric"] = measurement.get("metric")
        recording["warmup_launches"] = measurement.get("warmup_launches")
        recording["timed_repetitions"] = measurement.get("timed_repetitions")
        recording["references"] = _references(source.get("baseline") or {})
    return recording


def _references(baseline: Mapping[str, Any]) -> dict[str, Any]:
    """The library calls timed beside the space (cuBLAS, a device copy, ...): what each
    is and its median time in seconds."""
    return {
        name: {"what": entry.get("what", ""), "median_s": entry["median_ms"] / 1000}
        for name, entry in baseline.items()
        if isinstance(entry, Mapping) and isinstance(entry.get("median_ms"), int | float)
    }


def dumps(replay: Mapping[str, Any]) -> str:
    """``replay`` as compact JSON: the head and each kernel's fields on their own
    lines, one line per trial (small diffs when a recording is converted again)."""
    head = {k: v for k, v in replay.items() if k != "kernels"}
    parts = [_compact(head)[:-1] + ',"kernels":[']
    for i, kernel in enumerate(replay["kernels"]):
        fields = [f"{_compact(k)}:{_compact(v)}" for k, v in kernel.items() if k != "trials"]
        trials = ",\n".join(_compact(t) for t in kernel["trials"])
        end = "]}" if i == len(replay["kernels"]) - 1 else "]},"
        parts.append("{" + ",\n".join(fields) + ',"trials":[\n' + trials + end)
    return "\n".join(parts) + "\n]}\n"


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def convert_file(src: Path, out: Path) -> dict[str, Any]:
    """Convert the GPU space file ``src`` into the replay file ``out``."""
    try:
        source = json.loads(Path(src).read_text())
    except FileNotFoundError:
        raise InputError(f"{src}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{src}: not readable JSON: {exc}") from None
    replay = convert(source, str(src))
    try:
        Path(out).write_text(dumps(replay))
    except OSError as exc:
        raise InputError(f"{out}: cannot write: {exc.strerror or exc}") from None
    return replay


def _summary(replay: Mapping[str, Any]) -> str:
    [kernel] = replay["kernels"]
    counts = Counter(t["status"] for t in kernel["trials"] if t["config"] is not None)
    found = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    return f"{kernel['kernel']}: {sum(counts.values())} configs ({found})"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    paths = [a for a in args if a != "--debug"]
    if len(paths) != 2:
        print("usage: python -m autotune.measure._gpu_spaces SRC.json OUT.json", file=sys.stderr)
        return 2
    try:
        replay = convert_file(Path(paths[0]), Path(paths[1]))
    except InputError as exc:
        if debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {paths[1]}: {_summary(replay)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
