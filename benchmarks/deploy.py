"""What deploying tuned configs costs at run time: ``@autotune.jit``'s first call on a
hit, a second import with ``cache=True``, and ``autotune build --check`` on a cached
corpus.

Every figure is measured in fresh Python subprocesses (first-call and import costs exist
once per process), with the variants of one repetition run in one order and those of
the next in the reverse order, so that drift of the machine falls on all of them. Each
figure is the median over repetitions, with the min-max; differences (B-A) are taken
within a repetition, then summarized. Entries are tuned for real first (in a temp dir,
or ``--workdir``): the kernels are declared by a spec file beside their module and
tuned by ``python -m autotune build``, then written out by ``autotune bundle``.

1. ``decorator``: three kernels (saxpy, a 2-D stencil, a dot product), a module each.
   The first call of ``autotune.jit(bundle=...)(func)`` on a hit (B) is timed against
   the first call of ``numba.njit(func)`` (A) and of
   ``autotune.deploy.compile_config(func, <the hit's config>)`` (C, no lookup; its
   window includes making the dispatcher). Imports (numba in every variant) and
   decoration are outside the timed window. B-A is the whole cost of the decorator,
   B-C its lookup and checks (when the hit's config is ``{}``, B runs Numba's default
   build and C does not: then B-A is the figure). B is also run against the database
   (Bd, ``db=URL``: SQLAlchemy is imported inside the window), and against it with
   ``autotune.db`` imported beforehand (Bd', paired with A', plain Numba after the same
   import). B's breakdown comes from timers wrapped around ``find_config`` (lookup),
   the builds (build) and ``_refusal`` (checks: code hash, verification) of
   ``autotune.deploy._jit``; they import nothing and cost microseconds. saxpy and the
   stencil are tuned with ``--budget`` (3: they keep Numba's default build), the dot
   product with ``--reduction-budget`` (12: a fastmath config wins, so its hit compiles
   a tuned pipeline and checks its code hash). Target: B-A <= 20 ms.
2. ``cache``: a module of 10 small kernels decorated ``@autotune.jit(cache=True,
   bundle=...)``, tuned for real (``--cache-budget`` each; the two reductions
   ``--reduction-budget``, so that tuned builds are cached too), with
   ``NUMBA_CACHE_DIR`` and ``AUTOTUNE_CACHE_DIR`` in the work dir. One process
   populates the caches, then fresh processes time the first calls of all 10 and count
   compiles (``compiles``; disk loads do not count; must be 0). The same for
   ``numba.njit(cache=True)``. Target: <= 50 ms for the 10 first calls.
3. ``build``: ``python -m autotune build CORPUS --db DB --check`` on a corpus whose
   every kernel is cached (populated first by ``autotune sweep --budget 1 --size small``,
   then at each kernel's first size for those without a size "small", unless
   ``--corpus-db`` already holds them all: minutes for the kernels under corpora/cpu,
   40 and the 2 of its spec-declared thirdparty/), against ``python -c pass`` and
   ``python -c "import autotune.cli"``. Target: build - ``python -c pass`` <= 1 s.

    python benchmarks/deploy.py [--reps 7] [--only decorator|cache|build] [--budget 3]
        [--reduction-budget 12] [--cache-budget 2] [--corpus DIR_OR_FILE ...]
        [--corpus-db PATH] [--workdir DIR] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpora" / "cpu"

# --- part 1: the kernels whose first call is timed ----------------------------------

#: name -> (source, inputs as spec tables, outputs, rtol). Inputs are what the spec
#: declares and what the timed call passes (same shapes and dtypes: the same key).
FIRST_KERNELS: dict[str, tuple[str, list[dict[str, Any]], list[Any], float]] = {
    "saxpy": (
        """
def saxpy(a, x, y, out):
    for i in range(x.shape[0]):
        out[i] = a * x[i] + y[i]
""",
        [
            {"value": 2.5, "dtype": "float64"},
            {"shape": [100000], "dtype": "float64", "fill": "random"},
            {"shape": [100000], "dtype": "float64", "fill": "random"},
            {"shape": [100000], "dtype": "float64", "fill": "zeros"},
        ],
        [3],
        1e-12,
    ),
    "stencil": (
        """
def stencil(a, out):
    n, m = a.shape
    for i in range(1, n - 1):
        for j in range(1, m - 1):
            out[i, j] = 0.2 * (a[i, j] + a[i - 1, j] + a[i + 1, j] + a[i, j - 1] + a[i, j + 1])
""",
        [
            {"shape": [256, 256], "dtype": "float64", "fill": "random"},
            {"shape": [256, 256], "dtype": "float64", "fill": "zeros"},
        ],
        [1],
        1e-12,
    ),
    "dot": (
        """
def dot(x, y):
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i] * y[i]
    return s
""",
        [
            {"shape": [300000], "dtype": "float64", "fill": "random"},
            {"shape": [300000], "dtype": "float64", "fill": "random"},
        ],
        ["return"],
        1e-9,
    ),
}

# --- part 2: ten small kernels in one module -----------------------------------------

_N = 4096
_VEC = {"shape": [_N], "dtype": "float64", "fill": "random"}
_OUT = {"shape": [_N], "dtype": "float64", "fill": "zeros"}
CACHE_KERNELS: dict[str, tuple[str, list[dict[str, Any]], list[Any], float]] = {
    "k_saxpy": (
        "def k_saxpy(a, x, y, out):\n    for i in range(x.shape[0]):\n        out[i] = a * x[i] + y[i]\n",
        [{"value": 2.5, "dtype": "float64"}, _VEC, _VEC, _OUT], [3], 1e-12,
    ),
    "k_scale": (
        "def k_scale(x, out):\n    for i in range(x.shape[0]):\n        out[i] = 3.0 * x[i]\n",
        [_VEC, _OUT], [1], 1e-12,
    ),
    "k_add": (
        "def k_add(x, y, out):\n    for i in range(x.shape[0]):\n        out[i] = x[i] + y[i]\n",
        [_VEC, _VEC, _OUT], [2], 1e-12,
    ),
    "k_dot": (
        "def k_dot(x, y):\n    s = 0.0\n    for i in range(x.shape[0]):\n        s += x[i] * y[i]\n    return s\n",
        [_VEC, _VEC], ["return"], 1e-9,
    ),
    "k_total": (
        "def k_total(x):\n    s = 0.0\n    for i in range(x.shape[0]):\n        s += x[i]\n    return s\n",
        [_VEC], ["return"], 1e-9,
    ),
    "k_maxval": (
        "def k_maxval(x):\n    m = x[0]\n    for i in range(1, x.shape[0]):\n        if x[i] > m:\n            m = x[i]\n    return m\n",
        [_VEC], ["return"], 1e-12,
    ),
    "k_clip": (
        "def k_clip(x, out):\n    for i in range(x.shape[0]):\n        out[i] = min(max(x[i], 0.2), 0.8)\n",
        [_VEC, _OUT], [1], 1e-12,
    ),
    "k_smooth": (
        "def k_smooth(x, out):\n    for i in range(1, x.shape[0] - 1):\n        out[i] = 0.25 * x[i - 1] + 0.5 * x[i] + 0.25 * x[i + 1]\n",
        [_VEC, _OUT], [1], 1e-12,
    ),
    "k_rowsum": (
        "def k_rowsum(m, out):\n    for i in range(m.shape[0]):\n        s = 0.0\n        for j in range(m.shape[1]):\n            s += m[i, j]\n        out[i] = s\n",
        [{"shape": [64, 64], "dtype": "float64", "fill": "random"},
         {"shape": [64], "dtype": "float64", "fill": "zeros"}], [1], 1e-9,
    ),
    "k_cumsum": (
        "def k_cumsum(x, out):\n    s = 0.0\n    for i in range(x.shape[0]):\n        s += x[i]\n        out[i] = s\n",
        [_VEC, _OUT], [1], 1e-9,
    ),
}  # fmt: skip

# --- the child processes ---------------------------------------------------------------

_MAKE_ARGS = '''
def make_args(np, tables):
    """A call's arguments from spec input tables (same shapes and dtypes as tuned)."""
    rng = np.random.default_rng(0)
    args = []
    for t in tables:
        if "value" in t:
            args.append(np.dtype(t["dtype"]).type(t["value"]))
        elif t["fill"] == "random":
            args.append(rng.random(t["shape"]).astype(t["dtype"]))
        else:
            args.append(np.zeros(t["shape"], dtype=t["dtype"]))
    return tuple(args)
'''

#: One first call, in a fresh process. argv[1]: JSON with mode (a key of VARIANTS),
#: kernel, inputs, dir, bundle, db, config.
CHILD_FIRST = (
    """import json, sys, time
_started = time.perf_counter()
spec = json.loads(sys.argv[1])
mode = spec["mode"]
if mode == "numba":
    import numba
    import numpy as np
else:  # numba too: `import autotune` alone does not import it, decorating does
    import numba
    import numpy as np
    import autotune
    import autotune.deploy  # as decorating with autotune.jit does
    if mode.endswith("_pre"):
        import autotune.db
sys.path.insert(0, spec["dir"])
import importlib
kern = importlib.import_module("kern_" + spec["kernel"])
"""
    + _MAKE_ARGS
    + """
func = getattr(kern, spec["kernel"])
args = make_args(np, spec["inputs"])
imported = time.perf_counter()
times = {}
if mode.startswith("numba"):
    f = numba.njit(func)
elif mode != "config":
    source = {"bundle": spec["bundle"]} if mode == "bundle" else {"db": spec["db"]}
    f = autotune.jit(**source)(func)
    import autotune.deploy._dispatcher as _D
    import autotune.deploy._jit as _J
    depth = [0]

    def _timed(owner, name, label):
        original = getattr(owner, name)

        def wrapper(*a, **k):
            if depth[0]:
                return original(*a, **k)
            depth[0] += 1
            t = time.perf_counter()
            try:
                return original(*a, **k)
            finally:
                times[label] = times.get(label, 0.0) + time.perf_counter() - t
                depth[0] -= 1

        setattr(owner, name, wrapper)

    _timed(_J, "find_config", "lookup")
    _timed(_J.TunedFunction, "_tuned_dispatcher", "build")
    _timed(_D.TunedDispatcher, "compiled_call", "build")
    _timed(_J.TunedFunction, "_default_call", "build")
    _timed(_J.TunedFunction, "_refusal", "checks")
decorated = time.perf_counter()
modules = set(sys.modules)
import gc
full_gcs = gc.get_stats()[2]["collections"]
t0 = time.perf_counter()
if mode == "config":
    f = autotune.deploy.compile_config(func, spec["config"])
    times["make"] = time.perf_counter() - t0
f(*args)
t1 = time.perf_counter()
full_gcs = gc.get_stats()[2]["collections"] - full_gcs
new = sorted(set(sys.modules) - modules)
t2 = time.perf_counter()
f(*args)
t3 = time.perf_counter()
result = {
    "import_s": imported - _started, "decorate_s": decorated - imported,
    "first_s": t1 - t0, "second_s": t3 - t2, "times": times,
    "new_modules": len(new), "new_packages": sorted({m.split(".")[0] for m in new}),
    "new_autotune_modules": [m for m in new if m.startswith("autotune")], "full_gcs": full_gcs,
    "sqlalchemy_in_window": any(m.split(".")[0] == "sqlalchemy" for m in new),
}
if mode in ("bundle", "db", "db_pre"):
    info = f.info(args)
    result.update(outcome=info.outcome, config=info.config, level=info.level,
                  detail=info.detail, compiles=f.compiles)
elif mode == "config":
    result.update(compiles=f.compiles, cache_loads=f.cache_loads)
else:
    result.update(compiles=sum(f.stats.cache_misses.values()))
print("RESULT " + json.dumps(result, default=str))
"""
)

#: The first calls of the 10 kernels of kern10 (autotune) or kern10_numba, in a fresh
#: process. argv[1]: JSON with mode (autotune, numba), dir, kernels {name: inputs}.
CHILD_CACHE = (
    """import json, sys, time
_started = time.perf_counter()
spec = json.loads(sys.argv[1])
import numpy as np
sys.path.insert(0, spec["dir"])
if spec["mode"] == "autotune":
    import kern10 as mod
else:
    import kern10_numba as mod
"""
    + _MAKE_ARGS
    + """
calls = {name: (getattr(mod, name), make_args(np, tables)) for name, tables in spec["kernels"].items()}
imported = time.perf_counter()
each = {}
t0 = time.perf_counter()
for name, (f, args) in calls.items():
    t = time.perf_counter()
    f(*args)
    each[name] = time.perf_counter() - t
t1 = time.perf_counter()
result = {"import_s": imported - _started, "first_s": t1 - t0, "each_s": each}
if spec["mode"] == "autotune":
    result["compiles"] = sum(f.compiles for f, _ in calls.values())
    result["compiled"] = [name for name, (f, _) in calls.items() if f.compiles]
    loads = 0
    for f, _ in calls.values():
        for key, d in f.dispatchers.items():
            loads += sum(d.stats.cache_hits.values()) if key == "default" else d.cache_loads
    result["loads"] = loads
    infos = {name: f.info(args) for name, (f, args) in calls.items()}
    result["outcomes"] = {n: i.outcome for n, i in infos.items()}
    result["configs"] = {n: i.config for n, i in infos.items()}
else:
    result["compiles"] = sum(sum(f.stats.cache_misses.values()) for f, _ in calls.values())
    result["loads"] = sum(sum(f.stats.cache_hits.values()) for f, _ in calls.values())
print("RESULT " + json.dumps(result, default=str))
"""
)


# --- helpers ------------------------------------------------------------------------


def spec_toml(kernels: dict[str, tuple[str, list[dict[str, Any]], list[Any], float]]) -> str:
    """The spec file declaring ``kernels`` (see README "Spec files for unmodified code")."""

    def table(t: dict[str, Any]) -> str:
        return "{ " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in t.items()) + " }"

    parts = ["# Written by benchmarks/deploy.py: the inputs each kernel is tuned on.\n"]
    for name, (_, inputs, outputs, rtol) in kernels.items():
        rows = "".join(f"  {table(t)},\n" for t in inputs)
        parts.append(
            f'\n[[kernel]]\nfunction = "{name}"\noutputs = {json.dumps(outputs)}\n'
            f"rtol = {rtol!r}\ninputs = [\n{rows}]\n"
        )
    return "".join(parts)


def child_env(workdir: Path, db_url: str) -> dict[str, str]:
    """The environment of every child: caches and the default database in the work
    dir (nothing of the user's is read or written), and never tune on a miss.

    Bytecode is cached (under the work dir, so nothing is written beside the sources)
    even where ``PYTHONDONTWRITEBYTECODE`` is set: an installed package has its .pyc
    files, and compiling autotune's modules from source in every process would add
    milliseconds to its imports and lazy imports (the warm-up runs write them)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        NUMBA_CACHE_DIR=str(workdir / "numba_cache"),
        AUTOTUNE_CACHE_DIR=str(workdir / "autotune_cache"),
        AUTOTUNE_DB=db_url,
        AUTOTUNE_TUNE="never",
        PYTHONPYCACHEPREFIX=str(workdir / "pycache"),
    )
    return env


def cli(
    args: Sequence[str], env: dict[str, str], log: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m autotune ARGS`` from the repository root; output kept (and logged)."""
    proc = subprocess.run(
        [sys.executable, "-m", "autotune", *map(str, args)],
        capture_output=True, text=True, cwd=ROOT, env=env,
    )  # fmt: skip
    if log is not None:
        with log.open("a") as f:
            f.write(f"$ autotune {' '.join(map(str, args))}  (exit {proc.returncode})\n")
            f.write(proc.stdout + proc.stderr + "\n")
    return proc


def must(proc: subprocess.CompletedProcess[str], what: str) -> None:
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr).strip()[-2000:]
        raise SystemExit(f"{what} failed (exit {proc.returncode}):\n{tail}")


def tune_module(
    module: Path, db_url: str, bundle: Path, budget: int, env: dict[str, str], log: Path
) -> None:
    """Tune every kernel the spec beside ``module`` declares into ``db_url`` (unless it
    already holds them all), then write them to ``bundle`` and check it holds them."""
    if cli(["build", module, "--db", db_url, "--check"], env, log).returncode != 0:
        started = time.perf_counter()
        print(f"  tuning {module.name} (build --budget {budget}) ...", end="", flush=True)
        must(cli(["build", module, "--db", db_url, "--budget", budget], env, log), "autotune build")
        print(f" {time.perf_counter() - started:.0f} s", flush=True)
    else:
        print(f"  {module.name}: every kernel already tuned in {db_url}")
    must(cli(["bundle", "--db", db_url, "-o", bundle], env, log), "autotune bundle")
    must(
        cli(["build", module, "--from", bundle, "--check"], env, log), "build --check on the bundle"
    )


def run_child(script: Path, spec: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, str(script), json.dumps(spec)],
        capture_output=True, text=True, env=env, cwd=script.parent, timeout=600,
    )  # fmt: skip
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(
            f"child {script.name} {spec.get('mode')} failed (exit {proc.returncode}):\n"
            f"{proc.stderr.strip()[-2000:]}"
        )
    result: dict[str, Any] = json.loads(lines[-1][len("RESULT ") :])
    if proc.stderr.strip():
        result["stderr"] = proc.stderr.strip()[-1000:]
    return result


def orders(keys: list[Any], reps: int) -> list[list[Any]]:
    """One order per repetition: forward, reversed, forward, ..."""
    return [list(keys) if r % 2 == 0 else list(reversed(keys)) for r in range(reps)]


def summary(values: Sequence[float], scale: float = 1e3) -> dict[str, float]:
    """Median, min and max (in ms by default) of per-repetition values."""
    return {
        "median": statistics.median(values) * scale,
        "min": min(values) * scale,
        "max": max(values) * scale,
        "n": len(values),
    }


def fmt(s: dict[str, float], unit: str = "ms", width: int = 8) -> str:
    digits = 1 if abs(s["median"]) < 1000 else 0
    return f"{s['median']:>{width}.{digits}f} [{s['min']:.{digits}f}, {s['max']:.{digits}f}] {unit}"


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def machine() -> dict[str, Any]:
    import llvmlite
    import llvmlite.binding as llvm
    import numba

    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count()
    return {
        "cpu": llvm.get_host_cpu_name(),
        "cores": os.cpu_count(),
        "usable_cores": affinity,
        "python": platform.python_version(),
        "numba": numba.__version__,
        "llvmlite": llvmlite.__version__,
        "platform": platform.platform(),
    }


# --- part 1 -------------------------------------------------------------------------


#: Part 1's variants: (label, what the child does).
VARIANTS = {
    "numba": ("A   numba.njit", "import numba, numpy; f = numba.njit(func)"),
    "bundle": ("B   autotune.jit(bundle=)", "import autotune; f = autotune.jit(bundle=B)(func)"),
    "config": ("C   compile_config(config)", "import autotune; in the window: compile_config"),
    "db": ("Bd  autotune.jit(db=)", "import autotune; f = autotune.jit(db=URL)(func)"),
    "numba_pre": ("A'  numba.njit, autotune.db imported", "as A, after import autotune.db"),
    "db_pre": ("Bd' autotune.jit(db=), autotune.db imported", "as Bd, after import autotune.db"),
}
#: (name, minuend, subtrahend, what it is)
DIFFERENCES = (
    ("B-A", "bundle", "numba", "decorator cost, bundle"),
    ("B-C", "bundle", "config", "lookup and checks, bundle"),
    ("Bd-A", "db", "numba", "decorator cost, database (SQLAlchemy imported in the window)"),
    ("Bd-C", "db", "config", "lookup and checks, database (SQLAlchemy imported in the window)"),
    ("Bd'-A'", "db_pre", "numba_pre", "decorator cost, database, autotune.db imported before"),
)


def part_decorator(work: Path, reps: int, budgets: dict[str, int]) -> dict[str, Any]:
    work.mkdir(parents=True, exist_ok=True)
    db_url, bundle = f"sqlite:///{work / 'tuned.db'}", work / "tuned.json"
    env = child_env(work, db_url)
    for name, (body, *_) in FIRST_KERNELS.items():  # a module each: a budget each
        module = work / f"kern_{name}.py"
        doc = (
            f'"""A kernel of benchmarks/deploy.py (declared by {module.stem}.autotune.toml)."""\n\n'
        )
        module.write_text(doc + body.lstrip())
        module.with_suffix(".autotune.toml").write_text(spec_toml({name: FIRST_KERNELS[name]}))
        tune_module(module, db_url, bundle, budgets[name], env, work / "tuning.log")
    script = work / "child_first.py"
    script.write_text(CHILD_FIRST)
    configs: dict[str, Any] = {}

    def spec(kernel: str, mode: str) -> dict[str, Any]:
        return {
            "mode": mode, "kernel": kernel, "inputs": FIRST_KERNELS[kernel][1], "dir": str(work),
            "bundle": str(bundle), "db": db_url, "config": configs.get(kernel),
        }  # fmt: skip

    problems: list[str] = []
    modes = list(VARIANTS)
    runs = [(k, m) for k in FIRST_KERNELS for m in modes]
    for kernel, mode in runs:  # warm-up (.pyc files, the page cache); C's config is B's hit
        result = run_child(script, spec(kernel, mode), env)
        if mode == "bundle":
            if result["outcome"] != "hit":
                problems.append(
                    f"{kernel}: bundle lookup gave {result['outcome']}: {result['detail']}"
                )
            configs[kernel] = result["config"] or {}
    raw: dict[str, list[dict[str, Any]]] = {f"{k}/{m}": [] for k, m in runs}
    for r, order in enumerate(orders(runs, reps)):
        for kernel, mode in order:
            result = run_child(script, spec(kernel, mode), env)
            result["rep"] = r
            raw[f"{kernel}/{mode}"].append(result)
        print(f"  repetition {r + 1}/{reps} done, load {load()}", flush=True)

    entries = {e["kernel"]: e for e in json.loads(bundle.read_text())["entries"]}
    out: dict[str, Any] = {"raw": raw, "variants": VARIANTS, "kernels": {}}
    if not any(configs.values()):
        print(
            "  note: every hit is Numba's default build ({}): no tuned pipeline or code-hash "
            "check was timed; rerun in a fresh --workdir, or raise --reduction-budget"
        )
    print("\n1. first call in a fresh process (imports and decoration outside the window)")
    print("   ms: median [min, max] over repetitions; differences paired within a repetition")
    for kernel in FIRST_KERNELS:
        by = {m: raw[f"{kernel}/{m}"] for m in modes}
        entry, config = entries.get(kernel, {}), configs[kernel]
        print(
            f"\n  {kernel}: hit config {json.dumps(config)} (bundle: speedup "
            f"{entry.get('speedup', float('nan')):.2f}x, code hash {entry.get('code_hash')})"
        )
        figures: dict[str, Any] = {"config": config}
        for mode in modes:
            xs = by[mode]
            s = figures[mode] = summary([x["first_s"] for x in xs])
            imp = summary([x["import_s"] for x in xs])
            notes = [f"imports {imp['median']:.0f} ms"]
            if mode in ("bundle", "db", "db_pre"):
                outcomes = sorted({x["outcome"] for x in xs})
                notes.append(f"outcome {'/'.join(outcomes)}")
                if outcomes != ["hit"]:
                    problems.append(
                        f"{kernel} {mode}: outcome {outcomes} (expected hit): {xs[0]['detail']}"
                    )
                if any(x["config"] != config for x in xs if x["outcome"] == "hit"):
                    problems.append(f"{kernel} {mode}: a hit with another config than {config}")
            notes.append(f"compiles {'/'.join(map(str, sorted({x['compiles'] for x in xs})))}")
            if mode in ("db", "db_pre"):
                sql = sum(x["sqlalchemy_in_window"] for x in xs)
                notes.append(f"SQLAlchemy imported in window {sql}/{len(xs)}")
            notes.append(f"full GCs {statistics.median(x['full_gcs'] for x in xs):g}")
            print(f"    {VARIANTS[mode][0]:<44}{fmt(s)}  ({', '.join(notes)})")
            for x in xs:
                if x.get("stderr"):
                    problems.append(f"{kernel} {mode} rep {x['rep']} stderr: {x['stderr'][:300]}")
        for name, a, b, what in DIFFERENCES:
            d = figures[name] = summary(
                [x["first_s"] - y["first_s"] for x, y in zip(by[a], by[b], strict=True)]
            )
            note = ""
            if b == "config" and not config:
                note = "  (config {}: B runs Numba's default build, C the tuned pipeline)"
            print(f"    {name:<7}{what:<72}{fmt(d)}{note}")
        for mode in ("bundle", "db", "db_pre"):
            parts = {
                label: summary([x["times"].get(label, 0.0) for x in by[mode]])
                for label in ("lookup", "build", "checks")
            }
            parts["other"] = summary([x["first_s"] - sum(x["times"].values()) for x in by[mode]])
            figures[f"{mode}_breakdown"] = parts
            print(
                f"    breakdown of {VARIANTS[mode][0].split()[0]}: "
                + ", ".join(f"{k} {v['median']:.1f}" for k, v in parts.items())
                + " ms (medians; lookup = find_config, with its imports)"
            )
        if "make" in by["config"][0]["times"]:
            make = summary([x["times"]["make"] for x in by["config"]])
            print(f"    C: compile_config() itself {make['median']:.1f} ms of its window")
        lazy = sorted({m for x in by["bundle"] for m in x["new_autotune_modules"]})
        print(f"    autotune modules imported inside B's window: {', '.join(lazy) or 'none'}")
        steady = {m: summary([x["second_s"] for x in by[m]], 1e6) for m in ("numba", "bundle")}
        print(
            f"    second call (the kernel's run): A {steady['numba']['median']:.0f} us, "
            f"B {steady['bundle']['median']:.0f} us"
        )
        out["kernels"][kernel] = figures
    out["problems"] = problems
    return out


# --- part 2 -------------------------------------------------------------------------


#: Part 2's reductions, tuned with the reduction budget (a fastmath config wins), so
#: that the disk cache of tuned builds (not only Numba's default) is exercised.
CACHE_REDUCTIONS = ("k_dot", "k_total")


def part_cache(work: Path, reps: int, budget: int, reduction_budget: int) -> dict[str, Any]:
    work.mkdir(parents=True, exist_ok=True)
    db_url, bundle = f"sqlite:///{work / 'tuned.db'}", work / "tuned.json"
    env = child_env(work, db_url)
    header = '"""Ten small kernels of benchmarks/deploy.py ({what})."""\n\n'
    tuned = header.format(what="decorated with autotune.jit, cache=True") + (
        f"import autotune\n\nBUNDLE = {str(bundle)!r}\n"
    )
    plain = header.format(what="numba.njit(cache=True), for reference") + "import numba\n"
    for body, *_ in CACHE_KERNELS.values():
        tuned += "\n\n@autotune.jit(cache=True, bundle=BUNDLE)\n" + body
        plain += "\n\n@numba.njit(cache=True)\n" + body
    (work / "kern10.py").write_text(tuned)
    (work / "kern10_numba.py").write_text(plain)
    # The reductions first (declared alone), then the rest: build tunes only misses.
    spec_file = work / "kern10.autotune.toml"
    spec_file.write_text(spec_toml({k: CACHE_KERNELS[k] for k in CACHE_REDUCTIONS}))
    tune_module(work / "kern10.py", db_url, bundle, reduction_budget, env, work / "tuning.log")
    spec_file.write_text(spec_toml(CACHE_KERNELS))
    tune_module(work / "kern10.py", db_url, bundle, budget, env, work / "tuning.log")
    script = work / "child_cache.py"
    script.write_text(CHILD_CACHE)
    kernels = {name: inputs for name, (_, inputs, *_) in CACHE_KERNELS.items()}
    for d in ("numba_cache", "autotune_cache"):
        shutil.rmtree(work / d, ignore_errors=True)

    def spec(mode: str) -> dict[str, Any]:
        return {"mode": mode, "dir": str(work), "kernels": kernels}

    problems: list[str] = []
    populate = {m: run_child(script, spec(m), env) for m in ("autotune", "numba")}
    for m, x in populate.items():
        print(f"  populating run ({m}): first calls {x['first_s'] * 1e3:.0f} ms, "
              f"compiles {x['compiles']}, disk loads {x['loads']}")  # fmt: skip
    configs = populate["autotune"].get("configs", {})
    for name, outcome in populate["autotune"]["outcomes"].items():
        if outcome != "hit":
            problems.append(
                f"cache: {name}: outcome {outcome} in the populating run (expected hit)"
            )
    raw: dict[str, list[dict[str, Any]]] = {"autotune": [], "numba": []}
    for r, order in enumerate(orders(["autotune", "numba"], reps)):
        for mode in order:
            result = run_child(script, spec(mode), env)
            result["rep"] = r
            raw[mode].append(result)
    print("\n2. second import with cache=True: first calls of 10 kernels in a fresh process")
    print(f"   tuned configs: {sum(1 for c in configs.values() if c)} of 10 non-default")
    out: dict[str, Any] = {"raw": raw, "populate": populate, "configs": configs}
    for mode, label in (
        ("autotune", "autotune.jit(cache=True)"),
        ("numba", "numba.njit(cache=True)"),
    ):
        xs = raw[mode]
        s, imp = summary([x["first_s"] for x in xs]), summary([x["import_s"] for x in xs])
        compiles = sorted({x["compiles"] for x in xs})
        loads = sorted({x["loads"] for x in xs})
        out[mode] = {"first_calls": s, "import": imp, "compiles": compiles, "loads": loads}
        print(f"    {label:<26}{fmt(s)}   compiles {'/'.join(map(str, compiles))}, disk loads "
              f"{'/'.join(map(str, loads))}; module import {imp['median']:.0f} ms")  # fmt: skip
        if compiles != [0]:
            compiled = sorted({n for x in xs for n in x.get("compiled", [])})
            problems.append(
                f"cache: {mode}: compiles {compiles} in fresh processes (must be 0)"
                + (
                    f": {', '.join(compiled)} (configs {[configs.get(n) for n in compiled]})"
                    if compiled
                    else ""
                )
            )
        if mode == "autotune":
            outcomes = {o for x in xs for o in x["outcomes"].values()}
            if outcomes != {"hit"}:
                problems.append(f"cache: outcomes {outcomes} (expected hit)")
        for x in xs:
            if x.get("stderr"):
                problems.append(f"cache: {mode} rep {x['rep']} stderr: {x['stderr'][:300]}")
    diff = summary(
        [a["first_s"] - b["first_s"] for a, b in zip(raw["autotune"], raw["numba"], strict=True)]
    )
    out["autotune-numba"] = diff
    print(f"    {'difference':<26}{fmt(diff)}")
    first = next(iter(CACHE_KERNELS))
    rest = {m: summary([x["first_s"] - x["each_s"][first] for x in raw[m]]) for m in raw}
    out["after_the_first"] = rest
    print(
        f"    without the first call ({first}: Numba's one-time set-up): autotune "
        f"{fmt(rest['autotune'])}, numba {fmt(rest['numba'])}"
    )
    rest_diff = summary(
        [
            (a["first_s"] - a["each_s"][first]) - (b["first_s"] - b["each_s"][first])
            for a, b in zip(raw["autotune"], raw["numba"], strict=True)
        ]
    )
    out["after_the_first_difference"] = rest_diff
    print(f"    {'difference':<26}{fmt(rest_diff)}  (the 9 calls after the first)")
    out["problems"] = problems
    return out


# --- part 3 -------------------------------------------------------------------------


def part_build(work: Path, reps: int, corpus: list[Path], corpus_db: Path) -> dict[str, Any]:
    work.mkdir(parents=True, exist_ok=True)
    db_url = f"sqlite:///{corpus_db.resolve()}"
    env = child_env(work, db_url)
    log = work / "corpus.log"
    check = ["build", *corpus, "--db", db_url, "--check"]
    first = cli(check, env, log)
    if first.returncode != 0:
        missing = sum(
            1 for ln in first.stdout.splitlines() if "]: " in ln and "]: cached" not in ln
        )
        print(f"  populating {corpus_db} ({missing} kernel(s) missing): autotune sweep --budget 1 "
              f"--size small (minutes; log {log}) ...", end="", flush=True)  # fmt: skip
        started = time.perf_counter()
        sweep = cli(["sweep", *corpus, "--budget", 1, "--size", "small", "--db", db_url], env, log)
        print(f" {time.perf_counter() - started:.0f} s (exit {sweep.returncode})", flush=True)
        first = cli(check, env, log)
        if first.returncode != 0:  # kernels without a size "small" (spec files: "default")
            print("  then autotune sweep --budget 1 at each kernel's first size ...", end="")
            started = time.perf_counter()
            sweep = cli(["sweep", *corpus, "--budget", 1, "--db", db_url], env, log)
            print(f" {time.perf_counter() - started:.0f} s (exit {sweep.returncode})", flush=True)
            first = cli(check, env, log)
    else:
        print(f"  {corpus_db}: every kernel already cached")
    if first.returncode != 0:
        misses = [ln for ln in first.stdout.splitlines() if "]: " in ln and "]: cached" not in ln]
        print(
            f"  build --check exits {first.returncode}; not cached:\n    "
            + "\n    ".join(misses[:50])
        )
        print(first.stderr.strip()[-1000:])
        return {
            "error": "build --check failed",
            "misses": misses,
            "stderr": first.stderr[-2000:],
            "problems": [f"build: --check exits {first.returncode} on the populated corpus"],
        }
    kernels = sum(1 for ln in first.stdout.splitlines() if ": cached" in ln)
    bundle = work / "corpus-tuned.json"
    bundle.unlink(missing_ok=True)
    cli(["bundle", "--db", db_url, "-o", bundle], env, log)
    from_bundle = ["build", *corpus, "--from", bundle, "--check"]
    commands: dict[str, list[str]] = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "import autotune.cli": [sys.executable, "-c", "import autotune.cli"],
        "build --check": [sys.executable, "-m", "autotune", *map(str, check)],
        "build --from --check": [sys.executable, "-m", "autotune", *map(str, from_bundle)],
    }

    def timed(cmd: list[str]) -> float:
        started = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
        wall = time.perf_counter() - started
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
        return wall

    for cmd in commands.values():
        timed(cmd)  # warm-up
    raw: dict[str, list[float]] = {k: [] for k in commands}
    for order in orders(list(commands), reps):
        for name in order:
            raw[name].append(timed(commands[name]))
    print(f"\n3. python -m autotune build --check on {kernels} cached kernel(s), wall time")
    out: dict[str, Any] = {"raw": raw, "kernels": kernels}
    for name, xs in raw.items():
        out[name] = summary(xs)
        print(f"    {name:<32}{fmt(out[name])}")
    pairs = (("build --check", "python -c pass"), ("build --from --check", "python -c pass"),
             ("build --check", "import autotune.cli"),
             ("import autotune.cli", "python -c pass"))  # fmt: skip
    for a, b in pairs:
        d = summary([x - y for x, y in zip(raw[a], raw[b], strict=True)])
        out[f"{a} - {b}"] = d
        print(f"    {a + ' - ' + b:<42}{fmt(d)}")
    return out


# --- main ---------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=7, help="repetitions (fresh processes each)")
    parser.add_argument("--only", choices=["decorator", "cache", "build"], action="append",
                        help="run only this part (repeatable)")  # fmt: skip
    parser.add_argument(
        "--budget", type=int, default=3, help="tuning budget of saxpy and stencil, part 1"
    )
    parser.add_argument(
        "--reduction-budget", type=int, default=12,
        help="tuning budget of the reductions (dot; k_dot, k_total): 12 finds a fastmath config",
    )  # fmt: skip
    parser.add_argument(
        "--cache-budget", type=int, default=2, help="tuning budget per kernel, part 2"
    )
    parser.add_argument("--corpus", type=Path, nargs="+", default=[CORPUS],
                        help="files or directories for part 3 (default corpora/cpu)")  # fmt: skip
    parser.add_argument("--corpus-db", type=Path,
                        help="SQLite file of part 3's corpus entries (reused; populated if incomplete)")  # fmt: skip
    parser.add_argument(
        "--workdir", type=Path, help="keep the artifacts here (default: a temp dir)"
    )
    parser.add_argument("--json", type=Path, help="write every figure and raw sample here")
    args = parser.parse_args()
    parts = args.only or ["decorator", "cache", "build"]
    work = args.workdir or Path(tempfile.mkdtemp(prefix="deploy-bench-"))
    work = work.resolve()
    work.mkdir(parents=True, exist_ok=True)

    info = machine()
    before = load()
    print(f"machine: {info['cpu']}, {info['cores']} cores ({info['usable_cores']} usable); "
          f"Python {info['python']}, numba {info['numba']}, llvmlite {info['llvmlite']}")  # fmt: skip
    print(f"load average before: {before}; {args.reps} repetitions; work dir {work}")
    print(
        "children: bytecode cached under the work dir (PYTHONPYCACHEPREFIX), "
        f"PYTHONDONTWRITEBYTECODE {'dropped' if os.environ.get('PYTHONDONTWRITEBYTECODE') else 'not set'}"
    )
    results: dict[str, Any] = {"machine": info, "load_before": before, "reps": args.reps,
                               "started": time.time(), "argv": sys.argv[1:]}  # fmt: skip
    runners: dict[str, Callable[[], dict[str, Any]]] = {
        "decorator": lambda: part_decorator(
            work / "decorator",
            args.reps,
            {k: args.reduction_budget if k == "dot" else args.budget for k in FIRST_KERNELS},
        ),
        "cache": lambda: part_cache(
            work / "cache", args.reps, args.cache_budget, args.reduction_budget
        ),
        "build": lambda: part_build(
            work / "build", args.reps, [p.resolve() for p in args.corpus],
            args.corpus_db or work / "build" / "corpus.db",
        ),
    }  # fmt: skip
    try:
        for part in ("decorator", "cache", "build"):
            if part in parts:
                print(f"\n== {part} (load {load()})", flush=True)
                results[part] = runners[part]()
    finally:
        after = load()
        results["load_after"] = after
        print(f"\nload average after: {after}")
        problems = [p for part in parts for p in results.get(part, {}).get("problems", [])]
        if problems:
            print("SUSPICIOUS:\n  " + "\n  ".join(problems))
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(results, indent=1, default=str))
            print(f"wrote {args.json}")
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
