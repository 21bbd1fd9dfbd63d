"""Traditional patrol (传统巡查): each grid looks after itself.

A worker handles what it finds on patrol in its own grids. Resident reports and
sensor alarms pass a manual chain (hotline → centre → grid, with paperwork)
before they reach the grid; there they wait for one of the grid's own workers.
No worker is ever sent across a grid border. :class:`GridOwnWorkers` is the part
shared with the hotline centre: what reaches a grid waits for the grid's workers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from govsim.distributions import LogNormal
from govsim.params import Dist
from govsim.policies.base import DispatchPolicy, ParamsT, register_policy

if TYPE_CHECKING:
    from govsim.agents.workers import GridWorker
    from govsim.engine import Simulation
    from govsim.issues import Issue


class GridOwnWorkers(DispatchPolicy[ParamsT]):
    """Issues that reach a grid wait for one of the grid's own workers (no help across borders)."""

    def reach_grid(self, issue: Issue) -> None:
        """``issue`` reaches its grid: the grid's nearest free worker, or the grid's queue."""
        self.send(issue, own_grid_only=True)

    def worker_free(self, worker: GridWorker) -> None:
        if self.board.n_waiting == 0:
            return
        issue = self.board.best_waiting(worker, self.board.waiting_among(worker.grid_set))
        if issue is not None:
            self.board.assign(issue, worker)


@dataclass(frozen=True)
class TraditionalParams:
    manual_chain: Dist = field(
        default_factory=lambda: LogNormal(8.0, 6.0),
        metadata={"doc": "delay of the manual chain (hotline → centre → grid) before a report "
                         "or alarm reaches the grid"},
    )


@register_policy
class TraditionalPatrol(GridOwnWorkers[TraditionalParams]):
    """Workers handle what they find in their own grid; reports go through a manual chain."""

    name = "traditional_patrol"
    Params = TraditionalParams

    def __init__(self, sim: Simulation, params: TraditionalParams) -> None:
        super().__init__(sim, params)
        self.rng = sim.streams.stream("dispatch/manual_chain")

    def route(self, issue: Issue, channel: str) -> None:
        if self.direct(channel):  # e.g. the party member tells the grid: no manual chain
            self.reach_grid(issue)
            return
        delay = float(self.params.manual_chain.sample(self.rng))
        self.sim.after(delay, self.reach_grid, issue)
