"""Corpus sweeps: tune every kernel of files and directories, resumably, here or on Dask.

Executors decide where kernels are tuned: :class:`LocalExecutor` in this process (no
Dask needed), ``DaskExecutor`` (``autotune.sweep._dask``, the ``dist`` extra) on a
local or remote Dask cluster.
"""

from autotune.kernels._corpus import Corpus, KernelJob, Unloadable, find_kernels
from autotune.sweep._base import BaseExecutor, EventSink, JobOutcome, SweepEvent, SweepPlan
from autotune.sweep._job import tune_job
from autotune.sweep._local import LocalExecutor
from autotune.sweep._run import (
    SweepRun,
    make_executor,
    run_sweep,
    shared_db_url,
    sweep_run_id,
)

__all__ = [
    "BaseExecutor",
    "Corpus",
    "EventSink",
    "JobOutcome",
    "KernelJob",
    "LocalExecutor",
    "SweepEvent",
    "SweepPlan",
    "SweepRun",
    "Unloadable",
    "find_kernels",
    "make_executor",
    "run_sweep",
    "shared_db_url",
    "sweep_run_id",
    "tune_job",
]
