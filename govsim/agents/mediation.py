"""Mediation (人民调解): rooms at each level and the four-level ladder (四级联动).

A dispute the grid worker cannot settle on the spot is referred up the ladder:
community mediation room → street centre → district centre. Each referral takes
a delay to reach the next level; there the dispute queues for a mediator; a
session settles it with the level's probability (lowered as the dispute grows
more severe with age), or it is referred up again. A room that is full turns it
away, and it goes up too. Unsettled at the top, it is passed to court
(status ``unsettled``).

In a city with a shared mediation centre (市级矛盾纠纷调解中心,
:class:`~govsim.agents.stations.SharedDesks`), the centre is one more rung,
``city``, above the district's own: a dispute the district's ladder leaves
unsettled is referred there (after the centre's referral delay) before court. The
centre's session settles it with the centre's probability (times the district's
severity factor), drawn in the district from a stream of its own (``mediation/city``),
as is the referral delay to it (``mediation/city/referral``): adding the centre shifts
no other draw of the district.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from govsim.agents.stations import ServerGroup, ServiceStation, SharedDesks, server_groups
from govsim.issues import Status
from govsim.scenario.schema import LADDER

if TYPE_CHECKING:
    from govsim.agents.stations import Desk
    from govsim.engine import Simulation
    from govsim.issues import Issue
    from govsim.scenario.schema import MediationLevelConfig


#: the rung of a city's shared mediation centre: above the district's ladder
CITY_RUNG = len(LADDER)
CITY_LEVEL = "city"


class MediationLadder:
    """The rooms of each configured level, and the rules for going up."""

    def __init__(self, sim: Simulation, shared: SharedDesks | None = None) -> None:
        self.sim = sim
        self.env = sim.env
        cfg = sim.scenario.mediation
        terr = sim.territory
        self.levels: list[tuple[int, MediationLevelConfig, list[ServiceStation]]] = []
        self._rung_of_room: dict[int, tuple[int, MediationLevelConfig]] = {}
        self._room_of_grid: list[list[int]] = []
        for name, level in cfg.levels():
            rung = LADDER.index(name)
            if name == "community":
                scope, names = terr.grid_community, terr.communities
            elif name == "street":
                scope, names = terr.grid_street, terr.streets
            else:
                scope, names = np.zeros(terr.n_grids, dtype=np.int64), ["district"]
            groups = server_groups(level.mediators, level.hours, "mediator")
            for v in cfg.volunteers:
                if v.level == name:
                    groups += [ServerGroup(v.mediators, h.weekly(), v.label) for h in v.hours]
            rooms = []
            for k, scope_name in enumerate(names):
                first_grid = next((g for g in range(terr.n_grids) if scope[g] == k), -1)
                rooms.append(sim.add_station(
                    name=f"{name}:{scope_name}", kind="mediation", level=name, grid=first_grid,
                    groups=groups, service=level.duration, stream=f"mediation/{name}/{k}",
                    done=self._session_done, queue_limit=level.queue_limit))
            self.levels.append((rung, level, rooms))
            for room in rooms:
                self._rung_of_room[room.index] = (rung, level)
            self._room_of_grid.append([int(scope[g]) for g in range(terr.n_grids)])
        self.steps = [(s.after, s.success_factor,
                       LADDER.index(s.start_level) if s.start_level else 0) for s in cfg.severity]
        self.rng = sim.streams.stream("mediation/referral")
        self.city: Desk | None = None
        if shared is not None and shared.mediation is not None:
            assert shared.mediation_level is not None
            self.city = shared.mediation
            self.city_level = shared.mediation_level
            self.levels.append((CITY_RUNG, shared.mediation_level, []))
            self._room_of_grid.append([])
            self._city_u = sim.uniform("mediation/city")
            self._city_rng = sim.streams.stream("mediation/city/referral")
            shared.mediation.open(sim, self._city_done, self._city_refused)

    def factor_and_floor(self, issue: Issue) -> tuple[float, int]:
        """Settlement-probability factor and lowest ladder rung for ``issue`` at its age now."""
        if not self.steps:
            return 1.0, 0
        age = self.env.now - issue.created_at
        factor, floor = 1.0, 0
        for after, f, rung in self.steps:
            if age >= after:
                factor, floor = f, max(floor, rung)
        return factor, floor

    def refer(self, issue: Issue, from_rung: int) -> None:
        """Send ``issue`` to the next configured level above rung ``from_rung``."""
        _, floor = self.factor_and_floor(issue)
        for i, (rung, level, _) in enumerate(self.levels):
            if rung > from_rung and rung >= floor:
                issue.status = Status.REFERRED
                # (the city's centre from a stream of its own: adding it shifts no other draw)
                delay = float(level.referral_delay.sample(self._city_rng if rung == CITY_RUNG else self.rng))
                if delay > 0:
                    self.sim.after(delay, self._reach, issue, i)
                else:
                    self._reach(issue, i)
                return
        self.sim.unsettled(issue)

    def _reach(self, issue: Issue, i: int) -> None:
        rung, _, rooms = self.levels[i]
        if rung == CITY_RUNG:
            assert self.city is not None
            issue.path = f"{issue.path}>{CITY_LEVEL}" if issue.path else CITY_LEVEL
            self.city.submit(issue, issue.priority)
            return
        room = rooms[self._room_of_grid[i][issue.grid]]
        issue.path = f"{issue.path}>{LADDER[rung]}" if issue.path else LADDER[rung]
        if not room.submit(issue, issue.priority):
            self.refer(issue, rung)  # turned away: the room is full

    def _session_done(self, issue: Issue, room: ServiceStation, arrived: float, started: float) -> None:
        rung, level = self._rung_of_room[room.index]
        factor, _ = self.factor_and_floor(issue)
        u = issue.dispute_u
        assert u is not None  # only disputes climb the ladder
        if u[rung] < level.success * factor:
            self.sim.settle(issue, room.level)
        else:
            self.refer(issue, rung)

    def _city_done(self, issue: Issue, arrived: float, started: float) -> None:
        """A session at the city's shared centre has ended: settled, or passed to court."""
        factor, _ = self.factor_and_floor(issue)
        if self._city_u() < self.city_level.success * factor:
            self.sim.settle(issue, CITY_LEVEL)
        else:
            self.refer(issue, CITY_RUNG)

    def _city_refused(self, issue: Issue) -> None:
        self.refer(issue, CITY_RUNG)  # the city's centre was full: to court


def settlement_shares(p_spot: float, successes: list[float]) -> list[float]:
    """Share of disputes settled at each rung (grid first) and unsettled (last), for fixed
    success probabilities without severity: ``p1, (1−p1)p2, (1−p1)(1−p2)p3, …``."""
    shares, remaining = [], 1.0
    for p in [p_spot, *successes]:
        shares.append(remaining * p)
        remaining *= 1.0 - p
    return [*shares, remaining if not math.isclose(remaining, 0.0) else 0.0]
