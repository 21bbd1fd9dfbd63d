"""Resident councils (居民议事会) and the five-step method (五步议事法).

Collective matters (siting a garbage-sorting point, repairs of shared
facilities) are not handled by a worker: they need the residents to agree.
One council per community sits on a fixed weekday every few weeks:

1. 议题收集 collect topics: a known collective issue waits for the next sitting;
2. 协商讨论 deliberate: up to ``agenda`` topics, first come first served, one
   after another; each is agreed with probability
   ``min(1, agreement_base + agreement_per_participation × participation)``;
   a topic not agreed returns for the next sitting, and after ``max_rounds``
   sittings without agreement it is left unsettled;
3. 方案公示 publish the plan, 4. 执行监督 carry it out, 5. 效果评议 evaluate:
   three durations; the issue is resolved when the evaluation ends.

In the issues table a council's matter has ``path`` "council", ``assigned_at``
when it was put on the list, ``arrived_at`` at the sitting that agreed on it and
``resolved_at`` when the evaluation ended; ``handler`` stays −1.

Each deliberation is a row of ``Result.council_topics``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from govsim.issues import Status
from govsim.scenario.fields import WEEKDAYS

if TYPE_CHECKING:
    from govsim.agents.participation import Participation
    from govsim.engine import Simulation
    from govsim.issues import Issue

TOPIC_COLUMNS = ("issue_id", "community", "round", "sitting_at", "decided_at", "agreed",
                 "published_at", "executed_at", "evaluated_at")


class ResidentCouncils:
    """The councils of every community; they sit at the same times."""

    def __init__(self, sim: Simulation, participation: Participation) -> None:
        self.sim = sim
        self.cfg = cfg = sim.scenario.governance.councils
        terr = sim.territory
        n_cats = sim.categories.n
        self.categories = np.zeros(n_cats, dtype=bool)
        self.rows: list[tuple] = []
        if cfg is None:
            return
        self.categories[[sim.categories.names.index(c) for c in cfg.categories]] = True
        self.participation = participation
        self.queues: list[deque[Issue]] = [deque() for _ in terr.communities]
        self.rounds: dict[int, int] = {}
        # A grid of each community: participation is the same across a community's grids.
        self._grid_of = [int(np.flatnonzero(terr.grid_community == c)[0]) for c in range(len(terr.communities))]
        self.rng = sim.streams.stream("councils/durations")
        self.agree_u = sim.uniform("councils/agreement")
        sim.env.process(self.sit())

    def take(self, issue: Issue) -> bool:
        """Put ``issue`` on its community council's list if it is a collective matter."""
        if issue.category < 0 or not self.categories[issue.category]:
            return False
        issue.status = Status.REFERRED
        issue.assigned_at = self.sim.env.now
        issue.path = "council"
        self.queues[self.sim.territory.grid_community[issue.grid]].append(issue)
        return True

    def sittings(self) -> Generator[float, None, None]:
        """Times of the sittings: the first ``day`` at ``at`` from time 0, then every ``every_weeks``."""
        cfg = self.cfg
        t = WEEKDAYS.index(cfg.day) * 24.0 + cfg.at
        while True:
            yield t
            t += cfg.every_weeks * 7 * 24.0

    def sit(self) -> Generator[simpy.Event, Any, None]:
        env = self.sim.env
        for t in self.sittings():
            if t > env.now:
                yield env.timeout(t - env.now)
            for community, queue in enumerate(self.queues):
                if queue:
                    self._deliberate(community, queue)

    def _deliberate(self, community: int, queue: deque[Issue]) -> None:
        cfg, sim, rng = self.cfg, self.sim, self.rng
        now = sim.env.now
        p = min(1.0, cfg.agreement_base + cfg.agreement_per_participation
                * float(self.participation.at(self._grid_of[community], now)))
        name = sim.territory.communities[community]
        clock = now
        carry: list[Issue] = []  # not agreed: first on the next sitting's agenda, in order
        for _ in range(min(cfg.agenda, len(queue))):
            issue = queue.popleft()
            rnd = self.rounds.get(issue.id, 0) + 1
            self.rounds[issue.id] = rnd
            clock += float(cfg.deliberation.sample(rng))
            agreed = self.agree_u() < p
            if agreed:
                issue.arrived_at = now  # the council takes the matter up
                published = clock + float(cfg.publication.sample(rng))
                executed = published + float(cfg.execution.sample(rng))
                evaluated = executed + float(cfg.evaluation.sample(rng))
                sim.after(evaluated - now, sim.settle, issue, None)
                self.rows.append((issue.id, name, rnd, now, clock, True, published, executed, evaluated))
            else:
                self.rows.append((issue.id, name, rnd, now, clock, False, np.nan, np.nan, np.nan))
                if rnd < cfg.max_rounds:
                    carry.append(issue)
                else:
                    sim.after(clock - now, sim.unsettled, issue)
        if carry:
            sim.after(clock - now, queue.extendleft, reversed(carry))
