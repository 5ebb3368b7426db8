"""cache=True: Numba's disk cache keyed by config, across processes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests._helpers import FIXTURES

#: Builds configs of a kernel file with cache=True in a fresh process and prints,
#: per config, what it computed and how many signatures it compiled or loaded.
PROBE = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    import numpy as np
    from autotune.deploy import compile_config
    from autotune.kernels import import_source, load_kernels

    path, name, configs = Path(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
    if name == "matmul":
        decl = {d.name: d for d in load_kernels(path)}[name]
        calls = [decl.make_inputs(0)]
    else:
        decl = getattr(import_source(path), name)
        x = np.arange(1.0, 65.0)
        calls = [(x, np.zeros(64)), (x.astype(np.float32), np.zeros(64, np.float32))]
    report = []
    for config in configs:
        tuned = compile_config(decl, config, cache=True)
        returned = [tuned(*args) for args in calls]
        results = [float(np.sum(args[-1] if r is None else r)) for r, args in zip(returned, calls)]
        report.append({
            "results": results,
            "compiles": tuned.compiles,
            "loads": tuned.cache_loads,
            "hashes": [tuned.code_hash(s) for s in tuned.signatures],
        })
    print(json.dumps(report))
    """
)


def _probe(tmp_path: Path, source: Path, name: str, *configs: dict[str, object]) -> list[dict]:  # type: ignore[type-arg]
    script = tmp_path / "probe.py"
    script.write_text(PROBE)
    env = {
        **os.environ,
        "AUTOTUNE_CACHE_DIR": str(tmp_path / "caches" / "autotune"),
        "NUMBA_CACHE_DIR": str(tmp_path / "caches" / "numba"),
    }
    done = subprocess.run(
        [sys.executable, str(script), str(source), name, json.dumps(configs)],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.fixture
def kernel_file(tmp_path: Path) -> Path:
    from tests.deploy.conftest import KERNELS

    path = tmp_path / "kernels.py"
    path.write_text(KERNELS)
    return path


NO_VECTORS = {"pipeline.loop_vectorization": False, "flags.fastmath": "all"}


@pytest.mark.slow
def test_a_second_process_loads_every_signature_and_compiles_nothing(tmp_path, kernel_file) -> None:  # type: ignore[no-untyped-def]
    [first] = _probe(tmp_path, kernel_file, "scale", NO_VECTORS)
    [second] = _probe(tmp_path, kernel_file, "scale", NO_VECTORS)
    assert (first["compiles"], first["loads"]) == (2, 0)
    assert (second["compiles"], second["loads"]) == (0, 2)
    assert second["results"] == first["results"]
    # The code hash of a loaded build is the one recorded when it was compiled.
    assert second["hashes"] == first["hashes"] and None not in second["hashes"]


@pytest.mark.slow
def test_two_configs_of_one_function_never_load_each_others_binary(tmp_path, kernel_file) -> None:  # type: ignore[no-untyped-def]
    # Kernel parameters are frozen globals and the pipeline is a process-wide hook:
    # Numba's own cache key (bytecode, signature, CPU) sees neither.
    two, three, vectors = (
        {"kernel.SCALE": 2.0},
        {"kernel.SCALE": 3.0},
        {"kernel.SCALE": 2.0, **NO_VECTORS},
    )
    _probe(tmp_path, kernel_file, "scale", two)
    [b, c] = _probe(tmp_path, kernel_file, "scale", three, vectors)
    assert (b["compiles"], b["loads"]) == (2, 0)
    assert (c["compiles"], c["loads"]) == (2, 0)
    again = _probe(tmp_path, kernel_file, "scale", two, three, vectors)
    assert [r["loads"] for r in again] == [2, 2, 2]
    total = sum(range(1, 65))
    assert [r["results"][0] for r in again] == [2 * total, 3 * total, 2 * total]
    assert again[0]["hashes"] != again[2]["hashes"]  # same value, other pipeline


@pytest.mark.slow
def test_a_loop_transformed_build_is_cached_from_a_file_of_its_own(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.deploy.test_dispatcher import loop_config

    source = tmp_path / "loops_kernels.py"
    shutil.copy(FIXTURES / "loops_kernels.py", source)
    from autotune.kernels import load_kernels

    matmul = {d.name: d for d in load_kernels(source)}["matmul"]
    config = loop_config(matmul, order="i,k,j", tile=16)
    [first] = _probe(tmp_path, source, "matmul", config)
    [second] = _probe(tmp_path, source, "matmul", config)
    assert (first["compiles"], second["compiles"], second["loads"]) == (1, 0, 1)
    assert second["results"] == first["results"]
    written = list((tmp_path / "caches" / "autotune" / "deploy").glob("matmul_*.py"))
    assert len(written) == 1
    assert "# autotune: transformed from" in written[0].read_text()


def test_config_tags_differ_by_config_options_and_source() -> None:
    from autotune.deploy._disk import config_tag

    base = config_tag({"kernel.N": 1}, {"parallel": False}, None)
    assert base == config_tag({"kernel.N": 1}, {"parallel": False}, None)
    assert base != config_tag({"kernel.N": 2}, {"parallel": False}, None)
    assert base != config_tag({"kernel.N": 1}, {"parallel": False, "fastmath": True}, None)
    assert base != config_tag({"kernel.N": 1}, {"parallel": False}, "def f(): pass")


def test_an_uncacheable_function_warns_and_still_runs(caches) -> None:  # type: ignore[no-untyped-def]
    import numpy as np

    from autotune.deploy import compile_config

    namespace: dict[str, object] = {}
    exec("def twice(x):\n    return 2 * x\n", namespace)  # no file: Numba cannot cache it
    tuned = compile_config(namespace["twice"], {}, cache=True)  # type: ignore[arg-type]
    with pytest.warns(UserWarning, match="cannot cache"):
        assert tuned(np.float64(3.0)) == 6.0
    assert tuned.compiles == 1


#: A decorated function whose config comes from a bundle, built with cache=True.
JIT_PROBE = textwrap.dedent(
    """
    import json, sys, warnings
    from pathlib import Path
    import numpy as np
    import autotune.deploy as deploy
    from autotune.kernels import import_source

    module = import_source(Path(sys.argv[1]))
    scale = deploy.jit(bundle=sys.argv[2], cache=True)(module.scale)
    x = np.arange(1.0, 65.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = scale(x, np.zeros(64))
    print(json.dumps({"result": result, "compiles": scale.compiles,
                      "outcome": scale.info((x, x)).outcome}))
    """
)


@pytest.mark.slow
def test_a_decorated_hit_with_cache_compiles_nothing_in_the_next_process(
    tmp_path, kernel_file
) -> None:  # type: ignore[no-untyped-def]
    import numpy as np

    from autotune.kernels import import_source
    from tests.deploy.test_jit import THREE, _bundle

    args = (np.arange(1.0, 65.0), np.zeros(64))
    bundle = _bundle(tmp_path / "b.json", import_source(kernel_file).scale, args, THREE)
    script = tmp_path / "jit_probe.py"
    script.write_text(JIT_PROBE)
    env = {
        **os.environ,
        "AUTOTUNE_CACHE_DIR": str(tmp_path / "caches" / "autotune"),
        "NUMBA_CACHE_DIR": str(tmp_path / "caches" / "numba"),
    }
    runs = []
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, str(script), str(kernel_file), str(bundle)],
            capture_output=True,
            text=True,
            env=env,
            timeout=240,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    assert [r["compiles"] for r in runs] == [1, 0]
    assert [r["outcome"] for r in runs] == ["hit", "hit"]
    assert runs[0]["result"] == runs[1]["result"] == 3.0 * sum(range(1, 65))


CALLER = """
import numba
from callee import weight


@numba.njit
def apply(x, out):
    for i in range(x.shape[0]):
        out[i] = weight(x[i])
"""


@pytest.mark.slow
def test_an_edited_callee_in_another_file_never_loads_a_stale_binary(tmp_path: Path) -> None:
    # Numba's own cache checks only the caller's file, so it would load a binary with
    # the old callee inlined (numba issue 1833); the config tag hashes the callees.
    (tmp_path / "callee.py").write_text(
        "import numba\n\n@numba.njit\ndef weight(v):\n    return 2.0 * v\n"
    )
    (tmp_path / "caller.py").write_text(CALLER)
    [first] = _probe_path(tmp_path, "apply")
    (tmp_path / "callee.py").write_text(
        "import numba\n\n@numba.njit\ndef weight(v):\n    return 5.0 * v\n"
    )
    [second] = _probe_path(tmp_path, "apply")
    total = sum(range(1, 65))
    assert first["results"][0] == 2 * total
    assert second["results"][0] == 5 * total and second["compiles"] == 2


def _probe_path(tmp_path: Path, name: str) -> list[dict]:  # type: ignore[type-arg]
    import sys as _sys

    _sys.path.insert(0, str(tmp_path))
    try:
        return _probe(tmp_path, tmp_path / "caller.py", name, {})
    finally:
        _sys.path.remove(str(tmp_path))


def test_config_tags_do_not_depend_on_string_hashing() -> None:
    # Numba's fastmath option is a set of flags; a set's order changes with
    # PYTHONHASHSEED, and a tag that changed would compile in every process.
    script = (
        "from autotune.deploy._disk import config_tag;"
        "print(config_tag({'flags.fastmath': 'nnan,ninf'}, "
        "{'fastmath': {'nnan', 'ninf', 'nsz', 'arcp', 'contract'}}, None))"
    )
    tags = {
        subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            check=True,
        ).stdout.strip()
        for seed in range(4)
    }
    assert len(tags) == 1
