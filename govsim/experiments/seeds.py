"""Seeds of replications: one master seed, one independent stream family per replication.

Replication ``i`` of master seed ``s`` runs with ``numpy.random.SeedSequence(s,
spawn_key=(i,))``, which is exactly ``numpy.random.SeedSequence(s).spawn(n)[i]``
for any ``n > i``. Every named random stream of the run (arrivals, reports,
routes, ...) is derived from it (:class:`govsim.rng.RandomStreams`), so:

* replications are statistically independent of each other;
* replication ``i`` is the same whatever executor runs it, on whatever machine,
  and whether or not other replications run with it (a sweep extended from 10 to
  20 replications reuses the first 10 unchanged);
* replication ``i`` of two scenarios with the same master seed sees the same
  streams: common random numbers (CRN) for paired comparisons and sweeps.

To re-run one replication by itself::

    from govsim import Simulation, load_scenario
    from govsim.experiments import replication_seed
    result = Simulation(load_scenario("scenarios/smart_dispatch.yaml"), replication_seed(2026, 7)).run()
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

__all__ = ["master_seed", "replication_seed"]


def _check_seed(seed: Any, what: str = "seed") -> int:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"{what} must be a non-negative integer, got {seed!r}")
    return int(seed)


def replication_seed(seed: int, replication: int) -> np.random.SeedSequence:
    """The seed sequence of replication ``replication`` (0, 1, 2, ...) of master seed ``seed``."""
    return np.random.SeedSequence(_check_seed(seed), spawn_key=(_check_seed(replication, "replication"),))


def master_seed(seed: int | None, scenario: Any = None) -> int:
    """``seed`` if given, else the scenario's ``seed`` key, else 0 (as :func:`govsim.run`)."""
    if seed is None:
        seed = getattr(scenario, "seed", None)
    return 0 if seed is None else _check_seed(seed)
