"""Responders who do not patrol, hired by the governance mechanisms: volunteers (双报到),
service teams (组团式服务), alliance staff (区域化党建联盟), red-property staff (红色物业).

Each is a :class:`~govsim.agents.workers.GridWorker` that waits at a post instead of
patrolling, serves a set of grids and handles only its categories. Dispatch
policies treat them like grid workers: the work board offers them the waiting
issues of their grids, and they are sent to issues they are qualified for. A
responder's post is the middle patrol point of the grid nearest the centre of
its area.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from govsim.agents.workers import GridWorker, Shift
from govsim.policies.routes import FixedCycle
from govsim.scenario.fields import WEEKDAYS

if TYPE_CHECKING:
    from govsim.engine import Simulation
    from govsim.scenario.fields import HoursConfig
    from govsim.territory import Territory


def post_of(territory: Territory, grids: Sequence[int]) -> int:
    """The patrol point where a responder serving ``grids`` waits."""
    g = np.asarray(grids)
    cx, cy = territory.grid_x[g].mean(), territory.grid_y[g].mean()
    centre = int(g[np.argmin(np.abs(territory.grid_x[g] - cx) + np.abs(territory.grid_y[g] - cy))])
    points = territory.grid_points(centre)
    return points[len(points) // 2]


class Hiring:
    """Hires the responders of the governance mechanisms (each mechanism's
    :meth:`~govsim.mechanisms.Mechanism.hire` calls :meth:`add`), with worker ids from
    ``first_id`` on, in the order they are added."""

    def __init__(self, sim: Simulation, first_id: int) -> None:
        self.sim = sim
        self.workers: list[GridWorker] = []
        #: workers who take a department's categories locally in their grids (组团, alliance)
        self.stand_ins: list[GridWorker] = []
        self._next_id = first_id
        self._cat = {name: i for i, name in enumerate(sim.categories.names)}

    def add(self, grids: Sequence[int], hours: Sequence[HoursConfig], count: int, categories: Sequence[str],
            speed_kmh: float, kind: str, role: str = "", post: int | None = None,
            stands_in: bool = False) -> None:
        """``count`` responders of ``kind`` for each entry of ``hours``, serving ``grids`` and
        handling ``categories``, waiting at ``post`` (default: the middle of the area).
        ``stands_in``: they take their department categories instead of the department."""
        if not grids:
            return
        sim = self.sim
        wanted = {self._cat[c] for c in categories}
        skills = [c in wanted and not sim.takes_off_board[c] for c in range(sim.categories.n)]
        post = post_of(sim.territory, grids) if post is None else post
        route = FixedCycle([post], [1.0])
        for s, h in enumerate(hours):
            shift = Shift(h.start, h.end, [WEEKDAYS.index(d) for d in h.days])
            for _ in range(count):
                w = GridWorker(sim, self._next_id, list(grids), shift, s, route, 0, speed_kmh, skills,
                               kind=kind, role=role, patrols=False)
                self.workers.append(w)
                if stands_in:
                    self.stand_ins.append(w)
                self._next_id += 1
