"""Experiments at scale: replications with confidence intervals, paired comparisons and
parameter sweeps, run sequentially, on local processes or on a Dask cluster, with a
resumable results store. See ``docs/experiments.md``.

* :func:`replicate`, :func:`compare`, :func:`sweep` (:mod:`.api`);
* seeds of replications (:mod:`.seeds`), executors (:mod:`.executors`), the results
  store (:mod:`.store`), Student-t intervals and paired differences (:mod:`.stats`).
"""

from govsim.experiments.api import Comparison, Replications, Sweep, compare, replicate, sweep
from govsim.experiments.errors import ExperimentError
from govsim.experiments.executors import (
    DaskExecutor,
    Executor,
    ProcessExecutor,
    SequentialExecutor,
)
from govsim.experiments.optimise import Optimisation, optimise
from govsim.experiments.seeds import replication_seed
from govsim.experiments.stats import paired_differences, t_interval
from govsim.experiments.store import load_runs

__all__ = [
    "Comparison", "DaskExecutor", "Executor", "ExperimentError", "Optimisation", "ProcessExecutor",
    "Replications", "SequentialExecutor", "Sweep", "compare", "load_runs", "optimise", "paired_differences",
    "replicate",
    "replication_seed", "sweep", "t_interval",
]
