"""Hotline centre (12345热线): the classic flow through a call centre.

Every report and alarm goes to a call centre with a number of operators on duty
and a call-handling time; once an operator has triaged it, a processing delay
(work orders, paperwork) passes before it is forwarded to the department that
handles its category or to its grid, where it waits for one of the grid's own
workers (as in traditional patrol). What a worker finds on patrol it handles itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from govsim.agents.stations import server_groups
from govsim.distributions import Fixed, LogNormal
from govsim.params import Dist, HoursConfig, hours_overlap
from govsim.policies.base import register_policy
from govsim.policies.traditional import GridOwnWorkers

if TYPE_CHECKING:
    from govsim.agents.stations import ServiceStation
    from govsim.engine import Simulation
    from govsim.issues import Issue


@dataclass(frozen=True)
class HotlineParams:
    operators: int = field(default=4, metadata={"doc": "operators on duty", "gt": 0})
    hours: list[HoursConfig] | None = field(
        default=None, metadata={"doc": "operators' hours (null: around the clock)"})
    call_handling: Dist = field(
        default_factory=lambda: Fixed(5 / 60), metadata={"doc": "an operator's time per call (triage)"})
    processing_delay: Dist = field(
        default_factory=lambda: LogNormal(4.0, 3.0),
        metadata={"doc": "from triage to the work order reaching the grid or department"})

    def _check(self) -> list[tuple[str, str]]:
        return hours_overlap(self.hours)


@register_policy
class HotlineCentre(GridOwnWorkers[HotlineParams]):
    """Reports pass a call centre (operators, queue), then a processing delay, then the grid."""

    name = "hotline_centre"
    Params = HotlineParams

    def __init__(self, sim: Simulation, params: HotlineParams) -> None:
        super().__init__(sim, params)
        self.rng = sim.streams.stream("dispatch/hotline")
        self.centre: ServiceStation = sim.add_station(
            name="hotline", kind="hotline", level="", grid=-1,
            groups=server_groups(params.operators, params.hours, "operator"),
            service=params.call_handling, stream="hotline/calls", done=self._triaged)

    def route(self, issue: Issue, channel: str) -> None:
        if self.direct(channel):  # e.g. the party member tells the grid: no call centre
            self.reach_grid(issue)
            return
        self.centre.submit(issue, issue.priority)

    def _triaged(self, issue: Issue, centre: ServiceStation, arrived: float, started: float) -> None:
        delay = float(self.params.processing_delay.sample(self.rng))
        self.sim.after(delay, self.reach_grid, issue)
