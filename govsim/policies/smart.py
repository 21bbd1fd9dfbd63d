"""Smart auto-dispatch (智能派单, e.g. Hangzhou's city brain): the nearest free worker goes.

Reports and sensor alarms are classified at once (a short delay) and assigned to
the nearest free worker qualified for the category, across grid borders within
a radius. When none is free, the issue waits in its grid's queue, by priority;
a worker who becomes free takes the most urgent waiting issue within the radius.
A worker who finds an issue on patrol handles it if qualified.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mypy_extensions import mypyc_attr

from govsim.distributions import Fixed
from govsim.params import Dist
from govsim.policies.base import DispatchPolicy, register_policy

if TYPE_CHECKING:
    from govsim.agents.workers import GridWorker
    from govsim.engine import Simulation
    from govsim.issues import Issue


@mypyc_attr(native_class=False)  # a plain class in the compiled build too (pickled to workers)
@dataclass(frozen=True)
class SmartParams:
    radius_m: float = field(
        default=1500.0,
        metadata={"doc": "largest distance at which a worker is sent", "unit": "m", "gt": 0},
    )
    classify_delay: Dist = field(
        default_factory=lambda: Fixed(1 / 60),
        metadata={"doc": "automatic classification and routing of a report or alarm"},
    )


@mypyc_attr(allow_interpreted_subclasses=True)  # a study may subclass it (compiled build)
class SmartDispatch(DispatchPolicy[SmartParams]):
    """Nearest free qualified worker within a radius; priority queues otherwise."""

    name = "smart_dispatch"
    Params = SmartParams

    def __init__(self, sim: Simulation, params: SmartParams) -> None:
        super().__init__(sim, params)
        self.rng = sim.streams.stream("dispatch/classify")
        self.radius = params.radius_m

    def route(self, issue: Issue, channel: str) -> None:
        delay = float(self.params.classify_delay.sample(self.rng))
        self.sim.after(delay, self.send, issue, self.radius)

    def worker_free(self, worker: GridWorker) -> None:
        if self.board.n_waiting == 0:
            return
        issue = self.board.best_waiting_near(worker, self.radius)
        if issue is not None:
            self.board.assign(issue, worker)


# registered by a call, not the decorator: a decorated class would stay Python in the compiled build
register_policy(SmartDispatch)
