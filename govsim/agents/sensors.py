"""Smart infrastructure: sensors and AI video (智能预警) and the reporting app — where they
are deployed — and the false alarms sensors raise.

Which issues a sensor catches, and when, is drawn with the issues themselves
(:mod:`govsim.agents.residents`). This module places the sensors on grids and
raises false alarms: a homogeneous Poisson stream per sensor grid, each alarm
dispatched like a real one and costing a trip and a short check on site.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from simpy.core import URGENT

from govsim.issues import INF, Channel, Issue

if TYPE_CHECKING:
    from govsim.engine import Simulation
    from govsim.issues import CategoryTable
    from govsim.scenario.schema import AppChannel, SensorChannel
    from govsim.territory import Territory


def choose_grids(cfg: SensorChannel | AppChannel, path: str, territory: Territory,
                 rng: np.random.Generator, intensity: np.ndarray | None = None) -> np.ndarray:
    """Indices (sorted) of the grids where sensors or the app are deployed: ``grid_ids``, or
    a ``coverage`` share of the grids — at random, or (``placement: busiest``) the grids
    with the highest ``intensity`` (ties: lower index first)."""
    if not cfg.enabled:
        return np.empty(0, dtype=np.int64)
    if cfg.grid_ids is not None:
        bad = [g for g in cfg.grid_ids if not 0 <= g < territory.n_grids]
        if bad:
            from govsim.scenario.errors import ScenarioError

            raise ScenarioError.single(f"{path}.grid_ids", f"no such grid {bad[0]} "
                                       f"(the district has grids 0..{territory.n_grids - 1})")
        return np.unique(np.asarray(cfg.grid_ids, dtype=np.int64))
    k = int(round(cfg.coverage * territory.n_grids))
    order = rng.permutation(territory.n_grids)  # drawn either way: same stream use for both placements
    if getattr(cfg, "placement", "random") == "busiest" and intensity is not None:
        order = np.lexsort((np.arange(territory.n_grids), -intensity))
    return np.sort(order[:k])


def sensor_intensity(territory: Territory, categories: CategoryTable) -> np.ndarray:
    """Expected sensor-detectable issues per day in each grid (for ``placement: busiest``)."""
    out = np.zeros(territory.n_grids)
    for c in range(categories.n):
        out += categories.sensor_prob[c] * categories.grid_rate(c, territory)
    return out


class FalseAlarms:
    """Raises the false alarms of the sensor grids, pre-drawn for the whole run."""

    def __init__(self, sim: Simulation, grids: np.ndarray, first_id: int) -> None:
        self.sim = sim
        cfg = sim.scenario.channels.sensors
        rng = sim.streams.stream("sensors/false_alarms")
        terr = sim.territory
        rate = cfg.false_alarms_per_day / 24.0 * len(grids)
        n = int(rng.poisson(rate * sim.horizon)) if rate > 0 else 0
        self.time = np.sort(rng.random(n) * sim.horizon)
        grid = grids[rng.integers(len(grids), size=n)] if n else np.empty(0, dtype=np.int64)
        first = terr.grid_first_point[grid]
        count = terr.grid_first_point[grid + 1] - first
        self.point = first + (rng.random(n) * count).astype(np.int64)
        self.check = np.asarray(cfg.false_alarm_check.sample(rng, n), float) if n else np.empty(0)
        self.first_id = first_id
        self._next = 0
        if n:  # started like a SimPy process: an urgent call now
            sim.env.call_later(0.0, self._raise, (False,), priority=URGENT)

    def __len__(self) -> int:
        return len(self.time)

    def _raise(self, due: bool) -> None:
        """Raise every alarm due now (``due``: the next one is), then schedule the next."""
        sim, env, terr = self.sim, self.sim.env, self.sim.territory
        i = self._next
        while i < len(self.time):
            t = float(self.time[i])
            if t > env.now and not due:
                self._next = i
                env.call_later(t - env.now, self._raise, (True,))
                return
            due = False
            p = int(self.point[i])
            alarm = Issue(self.first_id + i, -1, terr.grid_of_point(p), p, 3, t, INF, float(self.check[i]), INF,
                          false_alarm=True)
            sim.false_alarms.append(alarm)
            sim.discover(alarm, Channel.SENSOR)
            i += 1
        self._next = i
