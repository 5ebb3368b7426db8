"""Small corpora written into a test's directory, and how to read what a sweep recorded."""

import shutil
import sqlite3

from tests._helpers import FIXTURES

#: A kernel with a small parameter space (2 x 4 configs); REPEAT = 1 is faster. It
#: returns its result, so timing it restores no arrays and stays cheap.
PARAM_KERNEL = """
import numpy as np
import autotune

REPEAT = 2
BIAS_SCALE = 0

@autotune.kernel(
    inputs=lambda rng: (rng.random(4096),),
    outputs=["return"],
    rtol=1e-9,
    params={{"REPEAT": autotune.Choice((2, 1)), "BIAS_SCALE": autotune.Choice((0, 1, 2, 3))}},
)
def {name}(x):
    s = 0.0
    for r in range(REPEAT):
        s = 0.0
        for i in range(x.shape[0]):
            s += (2.0 + r * 0.0) * x[i] + BIAS_SCALE * 0.0
    return s
"""


def param_corpus(root, names=("first", "second")):
    """A directory with one file per kernel name."""
    root.mkdir(parents=True, exist_ok=True)
    for name in names:
        (root / f"{name}.py").write_text(PARAM_KERNEL.format(name=name))
    return root


def mixed_corpus(root):
    """A kernel whose baseline does not compile beside two that do."""
    param_corpus(root, names=("first",))
    shutil.copy(FIXTURES / "mixed.py", root / "mixed.py")
    return root


def trial_rows(db_path):
    """Every stored trial as (id, kernel, phase, config key, run id, status)."""
    if not db_path.exists():
        return []
    with sqlite3.connect(db_path) as conn:
        try:
            return conn.execute(
                "select id, kernel, phase, config_key, run_id, status from autotune_trials"
            ).fetchall()
        except sqlite3.OperationalError:
            return []  # the schema is not there yet
