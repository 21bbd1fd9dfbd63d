"""Functional departments (职能部门: 城管 urban management, 公安 police, 民政 civil affairs…).

Categories that need a department are referred to it once the policy has routed
them (after the manual chain, the classification or the hotline centre). Each
department is a service station: staff, working hours, service times — or, in a
city, a desk of the city's department of that name (市级职能部门), shared with the
other districts (:class:`~govsim.agents.stations.SharedDesks`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from govsim.agents.stations import Desk, ServiceStation, SharedDesks, server_groups
from govsim.issues import Status

if TYPE_CHECKING:
    from govsim.engine import Simulation
    from govsim.issues import Issue


class Departments:
    """The departments of a scenario, by name."""

    def __init__(self, sim: Simulation, shared: SharedDesks | None = None) -> None:
        self.sim = sim
        self.stations: dict[str, ServiceStation | Desk] = {}
        desks = shared.departments if shared is not None else {}
        for name, cfg in sim.scenario.departments.items():
            desk = desks.get(name)
            if desk is not None:  # the city's department of this name, in place of the district's
                desk.open(sim, self._desk_done, _never_refused)
                self.stations[name] = desk
                continue
            self.stations[name] = sim.add_station(
                name=name, kind="department", level="", grid=-1,
                groups=server_groups(cfg.staff, cfg.hours, "staff"), service=cfg.service,
                stream=f"departments/{name}", done=self._done)
        self._of_category = sim.categories.department

    def take(self, issue: Issue) -> bool:
        """Refer ``issue`` to its department if its category has one; True if it did."""
        if issue.category < 0:
            return False
        name = self._of_category[issue.category]
        if name is None:
            return False
        issue.status = Status.REFERRED
        issue.assigned_at = self.sim.env.now
        issue.department = name
        self.stations[name].submit(issue, issue.priority)
        return True

    def _done(self, issue: Issue, station: ServiceStation, arrived: float, started: float) -> None:
        self._desk_done(issue, arrived, started)

    def _desk_done(self, issue: Issue, arrived: float, started: float) -> None:
        issue.arrived_at = started
        self.sim.settle(issue, None)


def _never_refused(issue: Issue) -> None:
    raise AssertionError(f"a department turned issue {issue.id} away (departments have no queue limit)")
