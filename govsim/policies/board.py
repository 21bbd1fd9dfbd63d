"""The work board (派单台): which workers are free where, and what work is waiting.

Dispatch policies decide; the board keeps the indexes that make their decisions
cheap. Free workers are indexed by grid, waiting issues sit in one priority
queue per grid, and searches walk outwards over nearby grids (a KD-tree of grid
centres), so no decision ever scans all workers or all issues.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable
from typing import TYPE_CHECKING

from govsim.issues import Issue, Status

if TYPE_CHECKING:
    from govsim.agents.workers import GridWorker
    from govsim.engine import Simulation

QueueEntry = tuple[int, float, int, int, Issue]  # (priority, queued_at, issue id, version, issue)


class WorkBoard:
    """Free workers by grid and waiting issues by grid."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.env = sim.env
        self.clock = sim.clock
        self.territory = sim.territory
        n = sim.territory.n_grids
        self.free_in_grid: list[dict[int, GridWorker]] = [{} for _ in range(n)]
        self.queues: list[list[QueueEntry]] = [[] for _ in range(n)]
        self.n_waiting = 0
        self.n_free = 0
        self._waiting_in_grid = [0] * n
        self.waiting_grids: set[int] = set()  # grids with at least one waiting issue
        self.waiting_mask = 0  # the same as a bit mask (bit g: grid g)
        self._point_grid = sim.territory._pgrid

    # --- workers ---------------------------------------------------------------------------
    def set_free(self, worker: GridWorker) -> None:
        """The worker is on shift with nothing to do but patrol: it can be sent."""
        grids = worker.grids
        here = self._point_grid[worker.pos]  # (Territory.grid_of_point, inlined)
        if here not in grids:
            grids = (*grids, here)
        for g in grids:
            self.free_in_grid[g][worker.id] = worker
        worker.indexed_grids = grids
        worker.free = True
        self.n_free += 1

    def set_busy(self, worker: GridWorker) -> None:
        if not worker.free:
            return
        for g in worker.indexed_grids:
            del self.free_in_grid[g][worker.id]
        worker.indexed_grids = ()
        worker.free = False
        self.n_free -= 1

    def assign(self, issue: Issue, worker: GridWorker) -> None:
        """Send ``worker`` to ``issue`` (interrupting its patrol if it is patrolling)."""
        if issue.status is Status.WAITING:
            self._unwait(issue)
        issue.status = Status.ASSIGNED
        issue.assigned_at = self.clock.now
        issue.handler = worker.id
        worker.task = issue
        if worker.free:
            self.set_busy(worker)
            worker.process.interrupt("dispatch")

    def nearest_free(self, issue: Issue, radius_m: float, own_grid_only: bool = False) -> GridWorker | None:
        """The free worker able to handle ``issue`` nearest to it within ``radius_m``
        (ties: lowest id). With ``own_grid_only``, only workers responsible for its grid."""
        if self.n_free == 0:
            return None
        terr = self.territory
        if own_grid_only:
            candidates: Iterable[GridWorker] = self.free_in_grid[issue.grid].values()
            return self._nearest(issue, candidates, radius_m, issue.grid)
        best: GridWorker | None = None
        best_d = math.inf
        slack = 2 * terr.centre_slack
        # (terr.distance called as a method, not bound to a local: a direct call when compiled)
        free_in_grid, point, c = self.free_in_grid, issue.point, issue.category
        centres, grids = terr.near(issue.grid, radius_m + slack)
        for i in range(len(grids)):  # (by index: native list reads when compiled)
            if centres[i] - slack > best_d:
                break
            free = free_in_grid[grids[i]]
            if not free:
                continue
            for w in free.values():
                # (GridWorker.can_handle, inlined for a patrolling worker)
                if (c < 0 or w.skills[c]) if w.patrols else w.can_handle(issue):
                    d = terr.distance(w.position(), point)
                    if d <= radius_m and (d < best_d or (d == best_d and best is not None and w.id < best.id)):
                        best, best_d = w, d
        return best

    def _nearest(self, issue: Issue, workers: Iterable[GridWorker], radius_m: float,
                 responsible_for: int) -> GridWorker | None:
        best, best_d = None, math.inf
        for w in workers:
            if responsible_for in w.grid_set and w.can_handle(issue):
                d = self.territory.distance(w.position(), issue.point)
                if d <= radius_m and (best is None or d < best_d or (d == best_d and w.id < best.id)):
                    best, best_d = w, d
        return best

    # --- waiting work ----------------------------------------------------------------------
    def enqueue(self, issue: Issue) -> None:
        """Put a known issue in its grid's queue: by priority, then first come first served."""
        issue.status = Status.WAITING
        issue.queued_at = self.clock.now
        issue.queue_version += 1
        self.n_waiting += 1
        g = issue.grid
        self._waiting_in_grid[g] += 1
        if self._waiting_in_grid[g] == 1:
            self.waiting_grids.add(g)
            self.waiting_mask |= 1 << g
        heapq.heappush(self.queues[issue.grid],
                       (issue.priority, issue.queued_at, issue.id, issue.queue_version, issue))

    def reprioritise(self, issue: Issue) -> None:
        """A waiting issue's priority changed: re-queue it (the old entry goes stale)."""
        issue.queue_version += 1
        heapq.heappush(self.queues[issue.grid],
                       (issue.priority, issue.queued_at, issue.id, issue.queue_version, issue))

    def withdraw(self, issue: Issue) -> None:
        """A waiting issue went away (lapsed); its queue entry goes stale."""
        if issue.status is Status.WAITING:
            self._unwait(issue)
        issue.queue_version += 1

    def _unwait(self, issue: Issue) -> None:
        self.n_waiting -= 1
        g = issue.grid
        self._waiting_in_grid[g] -= 1
        if self._waiting_in_grid[g] == 0:
            self.waiting_grids.discard(g)
            self.waiting_mask &= ~(1 << g)

    def waiting_among(self, grids: frozenset[int]) -> list[int]:
        """The grids of ``grids`` with waiting issues (in no particular order: the choice of
        :meth:`best_waiting` does not depend on it)."""
        return list(self.waiting_grids.intersection(grids))

    def best_waiting(self, worker: GridWorker, grids: Iterable[int], radius_m: float = math.inf,
                     here: int | None = None) -> Issue | None:
        """The most urgent (then longest waiting) issue in ``grids`` that ``worker`` can
        handle, within ``radius_m`` of it (of point ``here``, default: where the worker is
        now); removed from its queue."""
        if self.n_waiting == 0:
            return None
        best_key: tuple[int, float, int] | None = None
        best_grid = -1
        best_entry: QueueEntry | None = None
        if not radius_m < math.inf:
            here = -1
        elif here is None:
            here = worker.position()
        for g in grids:
            entry = self._top(g, worker, here, radius_m)
            if entry is None:
                continue
            key = entry[:3]
            if best_key is None or key < best_key:
                best_key, best_grid, best_entry = key, g, entry
        if best_entry is None:
            return None
        self._remove(best_grid, best_entry)
        return best_entry[4]

    def best_waiting_near(self, worker: GridWorker, radius_m: float) -> Issue | None:
        """:meth:`best_waiting` among the grids near where ``worker`` is (those whose centre
        lies within ``radius_m`` plus twice the grids' half-diagonal slack of its grid's centre:
        every issue within ``radius_m`` of it is in one of them); removed from its queue."""
        if self.n_waiting == 0:
            return None
        terr = self.territory
        here = worker.position()
        grids = self.waiting_near(terr.grid_of_point(here), radius_m + 2 * terr.centre_slack)
        if not grids:
            return None
        return self.best_waiting(worker, grids, radius_m, here=here)

    def waiting_near(self, grid: int, radius_m: float) -> list[int]:
        """The grids whose centre lies within ``radius_m`` of ``grid``'s centre that have
        waiting issues (nearest first; :meth:`best_waiting`'s choice does not depend on the
        order)."""
        terr = self.territory
        if (self.waiting_mask & terr.near_mask(grid, radius_m)) == 0:  # none: one operation
            return []
        # else read from the counts, grid by grid, where taking the bits of the masks one by
        # one would cost an operation on an integer of as many bits as there are grids each
        waiting = self._waiting_in_grid
        return [g for g in terr.near(grid, radius_m)[1] if waiting[g] > 0]

    def _top(self, grid: int, worker: GridWorker, here: int, radius_m: float) -> QueueEntry | None:
        """The first entry of ``grid``'s queue that ``worker`` can handle and reach (within
        ``radius_m`` of point ``here``; ``here`` −1: anywhere). Usually the head of the heap;
        the rest of the queue is scanned only when the head does not qualify."""
        q = self.queues[grid]
        while q and not _valid(q[0]):
            heapq.heappop(q)
        if not q:
            return None
        terr = self.territory
        head = q[0]
        if worker.can_handle(head[4]) and (here < 0 or terr.distance(here, head[4].point) <= radius_m):
            return head
        fitting = [e for e in q if _valid(e) and worker.can_handle(e[4])
                   and (here < 0 or terr.distance(here, e[4].point) <= radius_m)]
        return min(fitting) if fitting else None

    def _remove(self, grid: int, entry: QueueEntry) -> None:
        q = self.queues[grid]
        if q[0] is entry:
            heapq.heappop(q)
        else:
            entry[4].queue_version += 1  # leave it in place, stale


def _valid(entry: QueueEntry) -> bool:
    issue = entry[4]
    return issue.status is Status.WAITING and issue.queue_version == entry[3]
