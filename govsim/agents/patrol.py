"""Patrol (巡查): what a walking grid worker sees.

A worker patrols in *segments*: from arriving at visit ``k0`` of its route at
time ``start`` until it is interrupted or its shift ends. A segment is never
stepped through. Instead, for each hidden issue in the worker's grids the watch
computes the passes of the issue's point within the segment and draws, pass by
pass, whether the worker sees it (probability ``patrol_detect`` of the
category). Only the first successful pass becomes an event. If the segment ends
first (a dispatch, the end of the shift), the pending detections are void and
are drawn afresh for the next segment. Each pass is an independent Bernoulli
trial, exactly as if the walk had been simulated step by step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from govsim.issues import Channel, Issue, Status

if TYPE_CHECKING:
    from govsim.agents.workers import GridWorker
    from govsim.engine import Simulation
    from govsim.policies.routes import PatrolRoute


class PatrolSegment:
    """A stretch of uninterrupted patrol along a route."""

    __slots__ = ("worker", "route", "start", "k0", "off0", "end", "active")

    def __init__(self, worker: GridWorker, route: PatrolRoute, start: float, k0: int, end: float) -> None:
        self.worker = worker
        self.route = route
        self.start = start
        self.k0 = k0
        self.off0 = route.offset(k0)
        self.end = end  # planned end (the end of the shift)
        self.active = True

    def time_of(self, k: int) -> float:
        return self.start + self.route.offset(k) - self.off0

    def passes(self, point: int, after: float, until: float) -> Iterator[float]:
        """Times of the visits to ``point`` in ``[after, until]``, in order (each visit once)."""
        route = self.route
        lo = self.off0 + after - self.start
        hi = self.off0 + until - self.start
        k = route.next_visit(point, self.k0, lo, hi)
        while k is not None:
            yield max(self.time_of(k), after)  # max: float round-off
            k = route.next_visit(point, k + 1, lo, hi)

    def last_visit(self, t: float) -> int:
        """Index of the last visit made by time ``t``."""
        return self.route.last_visit(self.k0, self.off0 + t - self.start)


class PatrolWatch:
    """Keeps the hidden issues of each grid and schedules their discovery by patrol."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.env = sim.env
        self.clock = sim.clock
        n = sim.territory.n_grids
        self.hidden: list[dict[int, Issue]] = [{} for _ in range(n)]
        self.patrollers: list[list[GridWorker]] = [[] for _ in range(n)]
        self.detect = sim.categories.patrol_detect
        self.uniform: Callable[[], float] = sim.uniform("patrol")  # one Uniform(0, 1) per pass
        self.enabled = sim.scenario.channels.patrol

    def add_worker(self, worker: GridWorker) -> None:
        for g in worker.grids:
            self.patrollers[g].append(worker)

    def issue_arose(self, issue: Issue) -> None:
        """A new issue becomes visible to patrols of its grid."""
        if not self.enabled or self.detect[issue.category] <= 0.0:
            return
        self.hidden[issue.grid][issue.id] = issue
        for w in self.patrollers[issue.grid]:
            seg = w.segment
            if seg is not None:
                self._schedule(seg, issue)

    def forget(self, issue: Issue) -> None:
        """The issue is known or gone: patrols no longer look for it."""
        self.hidden[issue.grid].pop(issue.id, None)

    def segment_started(self, seg: PatrolSegment) -> None:
        for g in seg.worker.grids:
            for issue in self.hidden[g].values():
                self._schedule(seg, issue)

    def _schedule(self, seg: PatrolSegment, issue: Issue) -> None:
        now = self.clock.now
        p = self.detect[issue.category]
        until = min(seg.end - 1e-9, issue.lapse_at)  # a pass at the very end of the shift is too late
        # the passes of seg.passes(issue.point, after, until), inlined: one draw per pass, and
        # the time of a pass computed only for the one that sees the issue
        after = max(now, seg.start)
        route, start, off0, point, uniform = seg.route, seg.start, seg.off0, issue.point, self.uniform
        lo = off0 + after - start
        hi = off0 + until - start
        k = route.next_visit(point, seg.k0, lo, hi)
        while k is not None:
            if uniform() < p:
                t = max(start + route.offset(k) - off0, after)  # max: float round-off
                self.sim.after(t - now, self._found, seg, issue)
                return
            k = route.next_visit(point, k + 1, lo, hi)

    def _found(self, seg: PatrolSegment, issue: Issue) -> None:
        if seg.active and issue.status is Status.HIDDEN and issue.lapse_at > self.clock.now:
            self.sim.discover(issue, Channel.PATROL, finder=seg.worker)
