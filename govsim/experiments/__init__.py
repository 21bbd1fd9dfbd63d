"""Experiments at scale: replications with confidence intervals, paired comparisons,
sweeps over any design, sensitivity analysis and optimisation under service targets, run
sequentially, on local processes or on a Dask cluster, with a resumable results store.
See ``docs/experiments.md`` and ``docs/decisions.md``.

* :func:`replicate`, :func:`compare`, :func:`sweep` (:mod:`.api`); designs (:mod:`.designs`);
* :func:`sensitivity` (:mod:`.sensitivity`: Morris, Sobol) and :func:`optimise`
  (:mod:`.optimise`: the cheapest configuration meeting targets);
* seeds of replications (:mod:`.seeds`), executors (:mod:`.executors`), the results
  store (:mod:`.store`), intervals, paired differences, Holm's correction (:mod:`.stats`).

The functions ``sensitivity`` and ``optimise`` share their names with their modules: import
from the modules with ``from govsim.experiments.sensitivity import ...``.
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
from govsim.experiments.sensitivity import Sensitivity, sensitivity
from govsim.experiments.stats import paired_differences, t_interval
from govsim.experiments.store import load_runs

__all__ = [
    "Comparison", "DaskExecutor", "Executor", "ExperimentError", "Optimisation", "ProcessExecutor",
    "Replications", "SequentialExecutor", "Sensitivity", "Sweep", "compare", "load_runs", "optimise",
    "paired_differences", "replicate", "replication_seed", "sensitivity", "sweep", "t_interval",
]
