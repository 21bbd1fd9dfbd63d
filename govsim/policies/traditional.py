"""Traditional patrol (传统巡查): each grid looks after itself.

A worker handles what it finds on patrol in its own grids. Resident reports and
sensor alarms pass a manual chain (hotline → centre → grid, with paperwork)
before they reach the grid; there they wait for one of the grid's own workers.
No worker is ever sent across a grid border.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from govsim.distributions import LogNormal
from govsim.issues import Channel, Status
from govsim.policies.base import DispatchPolicy, register_policy
from govsim.scenario.convert import Dist

if TYPE_CHECKING:
    from govsim.agents.workers import GridWorker
    from govsim.issues import Issue


@dataclass(frozen=True)
class TraditionalParams:
    manual_chain: Dist = field(
        default_factory=lambda: LogNormal(8.0, 6.0),
        metadata={"doc": "delay of the manual chain (hotline → centre → grid) before a report "
                         "or alarm reaches the grid"},
    )


@register_policy
class TraditionalPatrol(DispatchPolicy):
    """Workers handle what they find in their own grid; reports go through a manual chain."""

    name = "traditional_patrol"
    Params = TraditionalParams

    def __init__(self, sim, params: TraditionalParams) -> None:
        super().__init__(sim, params)
        self.rng = sim.streams.stream("dispatch/manual_chain")

    def on_discovered(self, issue: Issue, channel: str, finder: GridWorker | None) -> None:
        if finder is not None and finder.can_handle(issue):
            self.board.assign(issue, finder)
            return
        if channel == Channel.LIAISON:  # the party member tells the grid directly: no hotline chain
            self._reach_grid(issue)
            return
        delay = float(self.params.manual_chain.sample(self.rng))
        self.sim.after(delay, self._reach_grid, issue)

    def _reach_grid(self, issue: Issue) -> None:
        if issue.status is not Status.REPORTED:
            return  # lapsed on the way
        if self.sim.hand_over(issue):
            return
        worker = self.board.nearest_free(issue, math.inf, own_grid_only=True)
        if worker is not None:
            self.board.assign(issue, worker)
        else:
            self.board.enqueue(issue)

    def worker_free(self, worker: GridWorker) -> None:
        if self.board.n_waiting == 0:
            return
        issue = self.board.best_waiting(worker, self.board.waiting_among(worker.grid_set))
        if issue is not None:
            self.board.assign(issue, worker)
