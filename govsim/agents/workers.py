"""Grid workers (网格员): "people walk in the grid, things are handled in the grid".

A worker comes on shift, takes any work the dispatch policy has for it, and
otherwise patrols its route. A dispatch interrupts the patrol (a SimPy
interrupt); the worker walks to the issue, handles it, and then walks back to
its route and resumes where it left off. Work in hand at the end of a shift is
finished; off shift nothing is patrolled or handled.

A worker's day is a generator that yields how long the worker waits, in hours; the
engine runs it as an :class:`~govsim.engine.Activity`, which orders its waits and
interrupts exactly as SimPy orders a process's timeouts and interrupts, without an
event object per wait.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import TYPE_CHECKING, Final

import simpy

from govsim.agents.patrol import PatrolSegment
from govsim.schedule import WeeklyHours

if TYPE_CHECKING:
    from govsim.engine import Simulation
    from govsim.issues import Issue
    from govsim.policies.routes import PatrolRoute

# Time-use states; each stretch of on-shift time is recorded with its state (indices into
# STATE_NAMES; Final: constants in the compiled build, not look-ups by name).
PATROL: Final = 0
TRAVEL: Final = 1
HANDLE: Final = 2
IDLE: Final = 3
OFF: Final = 4
STATE_NAMES = ("patrol", "travel", "handle", "idle", "off")


class Shift(WeeklyHours):
    """A worker's shift (班次): daily working hours on some weekdays."""


class GridWorker:
    """Grid worker (网格员): patrols its grids on shift and handles what it finds or is sent."""

    def __init__(
        self, sim: Simulation, id: int, grids: Sequence[int], shift: Shift, shift_index: int,
        route: PatrolRoute, start_k: int, speed_kmh: float, skills: Sequence[bool],
        kind: str = "grid_worker", role: str = "", patrols: bool = True,
    ) -> None:
        self.sim = sim
        self.env = sim.env
        self.clock = sim.clock  # (clock.now: the time, read natively when compiled)
        self.id = id
        self.grids = tuple(grids)
        self.grid_set = frozenset(self.grids)
        self.kind = kind  # grid_worker, volunteer, team, alliance, property_staff
        self.role = role
        self.patrols = patrols  # False: waits at its post (route point 0) for dispatches
        # patrol off (channels.patrol false): walk back to the post after a job (workers.return_home)
        self.return_home = patrols and sim.scenario.workers.return_home
        self.shift = shift
        self.shift_index = shift_index
        self.route = route
        self.route_k = start_k  # next visit of the route to make
        self.speed_mph = speed_kmh * 1000.0  # metres per hour
        self.skills = list(skills)  # by category id
        self.skill = 1.0  # handling-time divisor (training raises it)
        self.trained = False
        self.on_spot_gain = 0.0  # training: share of the gap to certainty closed in on-spot settlement
        self.pos = route.point_at(start_k)
        self.segment: PatrolSegment | None = None
        self.task: Issue | None = None
        self.free = False
        self.indexed_grids: tuple[int, ...] = ()
        self.n_handled = 0
        self._state = OFF
        self._since = 0.0
        self._records = sim.records
        self.process = self.env.activity(self.run())

    # --- the working day ---------------------------------------------------------------
    def run(self) -> Generator[float, None, None]:
        """The worker's days (an :class:`~govsim.engine.Activity`: it yields how long it waits)."""
        clock = self.clock
        while True:
            start, end = self.shift.window(clock.now)
            if start > clock.now:
                yield start - clock.now
            self._enter(IDLE)
            self.pos = self.route.point_at(self.route_k)
            while clock.now < end:
                if self.task is None:
                    self.sim.policy.worker_free(self)
                if self.task is not None:
                    issue, self.task = self.task, None
                    yield from self._handle(issue)
                else:
                    yield from self._patrol(end)
            self._enter(OFF)

    def _handle(self, issue: Issue) -> Generator[float, None, None]:
        """Walk to the issue and handle it on site."""
        self._enter(TRAVEL)
        walk = self.sim.territory.distance(self.pos, issue.point) / self.speed_mph
        if walk > 0:
            yield walk
        self.pos = issue.point
        self.sim.arrive(issue, self)
        self._enter(HANDLE)
        yield issue.handling_time / self.skill
        self.n_handled += 1
        self.sim.finish_on_site(issue, self)

    def _patrol(self, end: float) -> Generator[float, None, None]:
        """Patrol until the shift ends or a dispatch interrupts (the worker is free meanwhile)."""
        clock = self.clock
        board = self.sim.board
        board.set_free(self)
        try:
            if not self.patrols:  # a responder walks back to its post and waits there
                yield from self._walk_back(self.route.point_at(0), end)
                if clock.now < end:
                    self._enter(IDLE)
                    yield end - clock.now
            elif not self.sim.patrol.enabled:  # patrol off: it waits where its last job was,
                if self.return_home:  # or (workers.return_home) back at its post
                    yield from self._walk_back(self.route.point_at(0), end)
                if clock.now < end:
                    self._enter(IDLE)
                    yield end - clock.now
            else:
                target = self.route.point_at(self.route_k)
                if self.pos != target:
                    yield from self._walk_back(target, end)
                if clock.now < end:
                    self._enter(PATROL)
                    self.segment = PatrolSegment(self, self.route, clock.now, self.route_k, end)
                    self.sim.patrol.segment_started(self.segment)
                    yield end - clock.now
        except simpy.Interrupt:
            board.set_busy(self)
            self._close_segment(interrupted=True)
            return
        board.set_busy(self)
        self._close_segment()

    def _walk_back(self, target: int, end: float) -> Generator[float, None, None]:
        """Walk to ``target`` (the route, or a responder's post), stopping at the shift's end."""
        if self.pos != target:
            self._enter(TRAVEL)
            walk = self.sim.territory.distance(self.pos, target) / self.speed_mph
            yield min(walk, end - self.clock.now)
            self.pos = target

    # --- bookkeeping ------------------------------------------------------------------
    def _enter(self, state: int) -> None:
        now = self.clock.now
        if now > self._since and self._state != OFF:
            self._records.time_use(self.id, self._state, self._since, now)  # (a direct call when compiled)
        self._state = state
        self._since = now

    def _close_segment(self, interrupted: bool = False) -> None:
        seg = self.segment
        if seg is None:
            return
        now = self.clock.now
        k = seg.last_visit(now)
        self.sim.records.patrol_segment(self.id, seg.start, now, seg.k0, k - seg.k0 + 1)
        # Sent off at the very moment of a visit: the worker resumes at that point, and looks
        # again for whatever else is there (its pending detections were voided with the segment).
        at_visit = interrupted and seg.time_of(k) >= now - 1e-9
        self.route_k = k if at_visit else k + 1
        self.pos = self.route.point_at(k)
        seg.active = False
        self.segment = None

    def finish(self) -> None:
        """Close the books at the end of the run."""
        self._close_segment()
        self._enter(self._state)

    def can_handle(self, issue: Issue) -> bool:
        """Qualified for the issue's category (false alarms: grid workers only); a responder
        also only within its own grids."""
        if self.patrols:
            return issue.category < 0 or self.skills[issue.category]
        return issue.category >= 0 and self.skills[issue.category] and issue.grid in self.grid_set

    def position(self) -> int:
        """The patrol point where the worker is (the last one reached)."""
        seg = self.segment
        if seg is not None:  # (PatrolSegment.last_visit, inlined)
            return self.route.point_reached(seg.k0, seg.off0 + self.clock.now - seg.start)
        return self.pos

    def __repr__(self) -> str:
        return f"GridWorker({self.id}, {self.kind}, grids={self.grids}, shift={self.shift_index})"
