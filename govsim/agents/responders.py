"""Responders who do not patrol: volunteers (双报到), service teams (组团式服务), alliance
staff (区域化党建联盟) and red-property staff (红色物业).

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

from govsim.agents.participation import community_grids, red_property_grids
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


class ResponderHiring:
    """Creates the responders of a scenario's governance mechanisms."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.workers: list[GridWorker] = []
        self._cat = {name: i for i, name in enumerate(sim.categories.names)}

    def hire(self, first_id: int) -> list[GridWorker]:
        """Every responder, with ids from ``first_id`` on."""
        self._next_id = first_id
        gov = self.sim.scenario.governance
        terr = self.sim.territory
        if gov.volunteers is not None:
            v = gov.volunteers
            for c in range(len(terr.communities)):
                grids = np.flatnonzero(terr.grid_community == c).tolist()
                self._add(grids, v.hours, v.per_community, v.categories, v.speed_kmh, "volunteer", "")
        if gov.teams is not None:
            t = gov.teams
            area = terr.grid_community if t.per == "community" else terr.grid_street
            for a in range(int(area.max()) + 1):
                grids = np.flatnonzero(area == a).tolist()
                for m in t.members:
                    self._add(grids, t.hours, m.count, m.categories, t.speed_kmh, "team", m.role)
        if gov.alliance is not None:
            for i, u in enumerate(gov.alliance.units):
                if u.staff == 0:
                    continue
                served = np.flatnonzero(community_grids(
                    terr, u.communities, f"governance.alliance.units[{i}].communities")).tolist()
                base_name = u.base or (u.communities[0] if u.communities else terr.communities[0])
                base = np.flatnonzero(community_grids(terr, [base_name], f"governance.alliance.units[{i}].base"))
                self._add(served, u.hours, u.staff, u.categories, u.speed_kmh, "alliance", u.name,
                          post=post_of(terr, base.tolist()))
        if gov.red_property is not None and gov.red_property.staff_per_grid > 0:
            rp = gov.red_property
            for g in np.flatnonzero(red_property_grids(self.sim.scenario, terr)).tolist():
                self._add([g], rp.hours, rp.staff_per_grid, rp.staff_categories(), 4.0, "property_staff", "")
        return self.workers

    def _add(self, grids: list[int], hours: list[HoursConfig], count: int, categories: Sequence[str],
             speed_kmh: float, kind: str, role: str, post: int | None = None) -> None:
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
                w = GridWorker(sim, self._next_id, grids, shift, s, route, 0, speed_kmh, skills,
                               kind=kind, role=role, patrols=False)
                self.workers.append(w)
                self._next_id += 1
