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

Each deliberation is a row of the ``council_topics`` table (``Result.council_topics``).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Collection, Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import simpy

from govsim.distributions import Fixed, LogNormal
from govsim.issues import Status
from govsim.mechanisms.base import Mechanism, References, RunView, register_mechanism
from govsim.params import WEEKDAYS, Clock, Dist, Weekday, doc
from govsim.tables import Column, TableSpec

if TYPE_CHECKING:
    from govsim.engine import Simulation
    from govsim.issues import Issue
    from govsim.scenario.schema import Scenario


@dataclass(frozen=True)
class CouncilConfig:
    """Resident councils (居民议事会), one per community, decide collective matters by the
    five-step method (五步议事法): collect topics, deliberate, publish the plan, carry it
    out under supervision, evaluate."""

    categories: list[str] = field(metadata=doc("collective categories that go to the council", min_len=1))
    day: Weekday = field(default="sat", metadata=doc("weekday of the sittings"))
    at: Clock = field(default=9.0, metadata=doc("time of day of a sitting", "h"))
    every_weeks: int = field(default=2, metadata=doc("weeks between sittings", gt=0))
    agenda: int = field(default=5, metadata=doc("most topics deliberated at one sitting", gt=0))
    deliberation: Dist = field(
        default_factory=lambda: Fixed(2.0), metadata=doc("协商讨论: deliberation of one topic at a sitting"))
    publication: Dist = field(
        default_factory=lambda: Fixed(7 * 24.0), metadata=doc("方案公示: the plan is published for comment"))
    execution: Dist = field(
        default_factory=lambda: LogNormal(14 * 24.0, 7 * 24.0),
        metadata=doc("执行监督: carrying out the plan under supervision"))
    evaluation: Dist = field(
        default_factory=lambda: Fixed(24.0), metadata=doc("效果评议: residents evaluate the result"))
    agreement_base: float = field(
        default=0.3, metadata=doc("chance of agreement at a sitting with no participation", ge=0, le=1))
    agreement_per_participation: float = field(
        default=0.7, metadata=doc("added chance of agreement per unit of participation "
                                  "(chance = base + this × participation, capped at 1)", ge=0))
    max_rounds: int = field(
        default=3, metadata=doc("sittings a topic may take; without agreement then, it is left "
                                "unsettled", gt=0))


COUNCIL_TOPICS = TableSpec("council_topics", "deliberation of a topic at a council sitting", (
    Column("issue_id", "int64", "the collective issue deliberated"),
    Column("community", "str", "the community whose council sat"),
    Column("round", "int64", "sittings the topic has taken so far, this one included"),
    Column("sitting_at", "float64", "when the sitting began", "h"),
    Column("decided_at", "float64", "when the deliberation of this topic ended", "h"),
    Column("agreed", "bool", "whether the residents agreed on a plan"),
    Column("published_at", "float64", "方案公示 ended (NaN: not agreed, or after the horizon)", "h"),
    Column("executed_at", "float64", "执行监督 ended (NaN: not agreed, or after the horizon)", "h"),
    Column("evaluated_at", "float64", "效果评议 ended: the issue is resolved (NaN: not agreed, or after "
                                      "the horizon)", "h"),
))
TOPIC_COLUMNS = COUNCIL_TOPICS.names


@register_mechanism
class ResidentCouncils(Mechanism):
    """The councils of every community; they sit at the same times."""

    name = "councils"
    title = "resident councils (居民议事会)"
    Config = CouncilConfig
    metrics = ("council_topics", "council_agreement_rate", "council_time_mean", "council_backlog_end")
    tables = (COUNCIL_TOPICS,)

    def __init__(self, sim: Simulation, cfg: CouncilConfig) -> None:
        super().__init__(sim, cfg)
        terr = sim.territory
        self.categories = np.zeros(sim.categories.n, dtype=bool)
        self.categories[[sim.categories.names.index(c) for c in cfg.categories]] = True
        self.rows: list[tuple[Any, ...]] = []
        self.queues: list[deque[Issue]] = [deque() for _ in terr.communities]
        self.rounds: dict[int, int] = {}
        # A grid of each community: participation is the same across a community's grids.
        self._grid_of = [int(np.flatnonzero(terr.grid_community == c)[0]) for c in range(len(terr.communities))]

    @classmethod
    def references(cls, cfg: CouncilConfig) -> References:
        refs = References()
        refs.category("governance.councils.categories", cfg.categories)
        return refs

    @classmethod
    def check(cls, cfg: CouncilConfig, scenario: Scenario) -> list[tuple[str, str]]:
        problems = []
        for i, cat in enumerate(cfg.categories):
            spec = scenario.categories.get(cat)
            if spec is not None and (spec.dispute is not None or spec.department is not None):
                problems.append((f"governance.councils.categories[{i}]",
                                 f"{cat!r} is a dispute or a department's category; a council takes "
                                 "collective matters only"))
        return problems

    def takes_categories(self) -> Collection[str]:
        return self.cfg.categories

    def start(self) -> None:
        self.rng = self.sim.streams.stream("councils/durations")
        self.agree_u = self.sim.uniform("councils/agreement")
        self.sim.env.process(self.sit())

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
                * float(sim.participation.at(self._grid_of[community], now)))
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

    def table_rows(self) -> dict[str, pd.DataFrame]:
        topics = pd.DataFrame(self.rows, columns=list(TOPIC_COLUMNS))
        for col in ("published_at", "executed_at", "evaluated_at"):  # steps not reached in the run
            topics.loc[topics[col] > self.sim.horizon, col] = np.nan
        return {"council_topics": topics}

    @classmethod
    def measure(cls, run: RunView) -> dict[str, float]:
        df = run.issues
        council = df[df["path"] == "council"]
        topics = run.tables["council_topics"]
        topics = topics[topics["issue_id"].isin(council["issue_id"])]
        done = council[council["status"] == Status.RESOLVED]
        return {
            "council_topics": len(council),
            "council_agreement_rate": float(topics["agreed"].mean()) if len(topics) else math.nan,
            "council_time_mean": (float((done["resolved_at"] - done["created_at"]).mean()) if len(done)
                                  else math.nan),
            "council_backlog_end": int((council["status"] == Status.REFERRED).sum()),
        }
