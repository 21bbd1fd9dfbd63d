"""Service stations: mediation rooms (调解工作室), departments (职能部门), the hotline centre.

A station is a queue served by groups of servers, each group on its own weekly
hours (a room's mediators in opening hours; volunteers on their days). Jobs wait
by priority, then first come first served; a session that has started always
finishes, even after closing time, but none starts while no server is on duty.
The station is driven by callbacks, not one SimPy process per job, so it costs
a few events per job. It keeps the time integrals of its queue length, busy
servers and servers on duty, from which waits, utilisation and Little's law are
checked.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from govsim.rng import SampleBuffer
from govsim.schedule import WeeklyHours

if TYPE_CHECKING:
    from govsim.distributions import Distribution
    from govsim.engine import Simulation
    from govsim.issues import Issue
    from govsim.scenario.schema import HoursConfig, MediationLevelConfig


TURNED_AWAY = -1.0  # start and end recorded for a job turned away (queue full)

#: ``done(issue, arrived, started)``: the issue's session at a desk has ended (now)
DeskDone = Callable[["Issue", float, float], None]
#: ``refused(issue)``: the desk turned the issue away (its queue was full)
DeskRefused = Callable[["Issue"], None]


class Desk(Protocol):
    """A station outside the district that takes some of its issues: a city's shared
    department or mediation centre (:mod:`govsim.city.services`). The district hands an
    issue over with :meth:`submit`; the desk later calls ``done`` when the issue's session
    has ended, or ``refused`` if it turned the issue away. Nothing else of the district
    depends on what the desk does, which is what lets a city run its districts as shards."""

    def open(self, sim: Simulation, done: DeskDone, refused: DeskRefused) -> None:
        """Bind the desk to the district ``sim`` (called while it is built)."""

    def submit(self, issue: Issue, priority: int) -> None:
        """Hand ``issue`` over now, with ``priority`` (1 = most urgent)."""


@dataclass(frozen=True)
class SharedDesks:
    """The stations a district shares with the rest of its city (共享的市级部门、调解中心):
    departments by name, in place of the district's own department of that name, and a
    mediation centre above the top of the district's ladder (disputes its ladder leaves
    unsettled go there before court)."""

    departments: dict[str, Desk] = field(default_factory=dict)
    mediation: Desk | None = None
    mediation_level: MediationLevelConfig | None = None  # the centre's referral delay and success


@dataclass(frozen=True)
class ServerGroup:
    """``count`` servers on duty during ``hours`` (None: always)."""

    count: int
    hours: WeeklyHours | None = None
    label: str = "staff"


def server_groups(count: int, hours: Sequence[HoursConfig] | None, label: str) -> list[ServerGroup]:
    """``count`` servers on each of the weekly ``hours`` (None: always on duty)."""
    if count <= 0:
        return []
    if hours is None:
        return [ServerGroup(count, None, label)]
    return [ServerGroup(count, h.weekly(), label) for h in hours]


class ServiceStation:
    """A multi-server queue with opening hours, fed with issues."""

    def __init__(
        self, sim: Simulation, index: int, name: str, kind: str, groups: Sequence[ServerGroup],
        service: Distribution, stream: str,
        done: Callable[[Issue, ServiceStation, float, float], None],
        queue_limit: int | None = None, level: str = "", grid: int = -1,
    ) -> None:
        self.sim = sim
        self.env = sim.env
        self.index = index
        self.name = name
        self.kind = kind
        self.level = level
        self.grid = grid
        self.service = service
        self.duration = SampleBuffer(service, sim.streams.stream(stream))
        self.done = done
        self.queue_limit = queue_limit
        self.groups = tuple(groups)
        self.capacity = 0
        self.busy = 0
        self.queue: list[tuple[int, float, int, Issue]] = []
        self._seq = 0
        self._last = 0.0
        self.queue_area = 0.0  # ∫ queue length dt
        self.busy_area = 0.0  # ∫ busy servers dt
        self.capacity_area = 0.0  # ∫ servers on duty dt
        self.in_service: dict[int, tuple[float, float]] = {}
        for g in self.groups:
            if g.hours is None:
                self.capacity += g.count
            else:
                self._schedule_duty(g)

    # --- servers on and off duty ----------------------------------------------------------
    def _schedule_duty(self, group: ServerGroup) -> None:
        assert group.hours is not None  # groups on duty round the clock are never scheduled
        start, end = group.hours.window(self.env.now)
        if start <= self.env.now:
            self._on_duty(group, end)
        else:
            self.sim.after(start - self.env.now, self._on_duty, group, end)

    def _on_duty(self, group: ServerGroup, end: float) -> None:
        self._advance()
        self.capacity += group.count
        self.sim.after(end - self.env.now, self._off_duty, group)
        self._serve()

    def _off_duty(self, group: ServerGroup) -> None:
        self._advance()
        self.capacity -= group.count
        self._schedule_duty(group)

    # --- jobs ---------------------------------------------------------------------------
    def submit(self, issue: Issue, priority: int = 3) -> bool:
        """Queue ``issue``; False (and nothing queued) if no server is free and the queue is full."""
        now = self.env.now
        if (self.queue_limit is not None and self.busy >= self.capacity
                and len(self.queue) >= self.queue_limit):
            self.sim.records.station_visit(self.index, issue.id, now, TURNED_AWAY, TURNED_AWAY)
            return False
        self._advance()
        self._seq += 1
        heapq.heappush(self.queue, (priority, now, self._seq, issue))
        self._serve()
        return True

    def _serve(self) -> None:
        """Start sessions while a server is free and someone waits (integrals already advanced)."""
        queue = self.queue
        while self.busy < self.capacity and queue:
            _, arrived, _, issue = heapq.heappop(queue)
            now = self.env.now
            self.busy += 1
            self.in_service[issue.id] = (arrived, now)
            self.sim.after(self.duration(), self._finish, issue, arrived, now)

    def _finish(self, issue: Issue, arrived: float, started: float) -> None:
        self._advance()
        self.busy -= 1
        del self.in_service[issue.id]
        self.sim.records.station_visit(self.index, issue.id, arrived, started, self.env.now)
        self.done(issue, self, arrived, started)
        self._serve()

    def _advance(self) -> None:
        now = self.env.now
        dt = now - self._last
        if dt > 0:
            self.queue_area += len(self.queue) * dt
            self.busy_area += self.busy * dt
            self.capacity_area += max(self.capacity, self.busy) * dt  # overrunning sessions count
            self._last = now

    def close_books(self) -> None:
        """At the end of the run: bring the time integrals up to now and record the jobs still
        in service (no end) or waiting (no start)."""
        self._advance()
        for issue_id, (arrived, started) in self.in_service.items():
            self.sim.records.station_visit(self.index, issue_id, arrived, started, math.nan)
        for _, arrived, _, issue in sorted(self.queue):
            self.sim.records.station_visit(self.index, issue.id, arrived, math.nan, math.nan)

    def __repr__(self) -> str:
        return (f"ServiceStation({self.name!r}, kind={self.kind}, capacity={self.capacity}, "
                f"busy={self.busy}, queued={len(self.queue)})")
