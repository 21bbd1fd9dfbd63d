"""Issues (事件/诉求): the compact per-issue record, its statuses and channels.

One :class:`Issue` per problem that arises. Its fields are set once each, in time
order, as the issue moves through the system; the ``issues`` table of a
:class:`~govsim.result.Result` is built from these records at the end of the run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Final

import numpy as np

if TYPE_CHECKING:
    from govsim.distributions import Distribution
    from govsim.scenario.schema import Scenario
    from govsim.territory import Territory

NAN: Final = math.nan  # (Final: constants in the compiled build, not look-ups by name)
INF: Final = math.inf


class Status(StrEnum):
    """Where an issue is. Every issue is in exactly one of these at any time.

    A ``str`` enum: each member equals its value (``Status.RESOLVED == "resolved"``), so
    tables hold and compare the plain words."""

    HIDDEN = "hidden"            # arisen, not yet known to anyone who can act
    REPORTED = "reported"        # known; passing through a report chain or classification
    WAITING = "waiting"          # queued for a free worker
    ASSIGNED = "assigned"        # a worker is on the way
    IN_PROGRESS = "in_progress"  # a worker is handling it on site
    REFERRED = "referred"        # with a department, or on the mediation ladder
    RESOLVED = "resolved"        # handled; for a dispute: settled (化解)
    LAPSED = "lapsed"            # went away before anyone took it on (vendor left, resolved itself)
    UNSETTLED = "unsettled"      # a dispute not settled at the top of the ladder (passed to court)

    OPEN: ClassVar[tuple[Status, ...]]  # not yet taken on: hidden, reported, waiting
    ACTIVE: ClassVar[tuple[Status, ...]]  # taken on: assigned, in progress, referred
    CLOSED: ClassVar[tuple[Status, ...]]  # resolved, lapsed, unsettled
    ALL: ClassVar[tuple[Status, ...]]


Status.OPEN = (Status.HIDDEN, Status.REPORTED, Status.WAITING)
Status.ACTIVE = (Status.ASSIGNED, Status.IN_PROGRESS, Status.REFERRED)
Status.CLOSED = (Status.RESOLVED, Status.LAPSED, Status.UNSETTLED)
Status.ALL = tuple(Status)


class Channel(StrEnum):
    """How an issue first became known (发现渠道). A governance mechanism may add a channel
    of its own (:attr:`govsim.mechanisms.Mechanism.channel`), recorded by its name."""

    PATROL = "patrol"    # 巡查发现
    REPORT = "report"    # resident report: hotline 12345 or app
    SENSOR = "sensor"    # sensors / AI video, 智能预警
    WALK_IN = "walk_in"  # residents bring a dispute to a mediation room themselves
    LIAISON = "liaison"  # a party member's contact with a linked household, 党员联户

    ALL: ClassVar[tuple[Channel, ...]]


Channel.ALL = tuple(Channel)


class Issue:
    """One issue and its history (times in hours from the start of the run)."""

    __slots__ = (
        "id", "category", "grid", "point", "priority", "initial_priority", "created_at",
        "deadline_at", "handling_time", "lapse_at", "false_alarm", "status", "discovered_at",
        "channel", "queued_at", "assigned_at", "arrived_at", "resolved_at", "closed_at",
        "handler", "escalated_at", "queue_version", "dispute_u", "path", "settled_level", "department",
        "row",
    )

    def __init__(
        self, id: int, category: int, grid: int, point: int, priority: int, created_at: float,
        deadline_at: float, handling_time: float, lapse_at: float = INF, false_alarm: bool = False,
        dispute_u: tuple[float, ...] | None = None,
    ) -> None:
        self.id = id
        self.category = category  # index into the category table; -1 for a false alarm
        self.grid = grid
        self.point = point
        self.priority = priority
        self.initial_priority = priority
        self.created_at = created_at
        self.deadline_at = deadline_at
        self.handling_time = handling_time
        self.lapse_at = lapse_at
        self.false_alarm = false_alarm
        self.status = Status.HIDDEN
        self.discovered_at = NAN
        self.channel: str | None = None
        self.queued_at = NAN
        self.assigned_at = NAN
        self.arrived_at = NAN
        self.resolved_at = NAN
        self.closed_at = NAN  # resolved or lapsed
        self.handler = -1
        self.escalated_at = NAN
        self.queue_version = 0
        self.dispute_u = dispute_u  # a dispute's uniform draws: on the spot, then each ladder level
        self.path = ""  # levels a dispute went through, e.g. "grid>community"
        self.settled_level: str | None = None
        self.department: str | None = None
        self.row = -1  # its row of the issues table (order of arising), −1 until it arises

    def __repr__(self) -> str:
        return (f"Issue({self.id}, cat={self.category}, grid={self.grid}, point={self.point}, "
                f"status={self.status}, created={self.created_at:.3f})")


@dataclass
class CategoryTable:
    """The scenario's categories compiled to arrays, indexed by category id."""

    names: list[str]
    rate: np.ndarray  # per 1,000 households per day
    hourly: np.ndarray  # (n_categories, 24), mean 1 per row
    weekly: np.ndarray  # (n_categories, 168), mean 1 per row: hour of the week from Monday 00:00
    area_multiplier: np.ndarray  # (n_categories, n_area_types)
    priority: list[int]
    handling: list[Distribution]
    deadline: list[float]  # hours after creation, inf if none
    lifetime: list[Distribution | None]
    escalate_after: list[float]  # inf if none
    escalate_priority: list[int]
    patrol_detect: list[float]
    report_prob: list[float]
    report_delay: list[Distribution]
    sensor_prob: list[float]
    sensor_delay: list[Distribution]
    on_spot_success: list[float | None]  # None: not a dispute
    walk_in: list[float]
    department: list[str | None]
    patrol_handles: list[bool]
    grid_multiplier: np.ndarray | None = None  # (n_categories, n_grids), or None: all 1

    @property
    def n(self) -> int:
        return len(self.names)

    def grid_rate(self, c: int, territory: Territory) -> np.ndarray:
        """Expected issues of category ``c`` per day in each grid: rate × households / 1,000 ×
        area multiplier (× the grid's multiplier when the scenario has a table of them)."""
        rate = (self.rate[c] * (territory.grid_households / 1000.0)
                * self.area_multiplier[c, territory.grid_area])
        if self.grid_multiplier is not None:
            rate = rate * self.grid_multiplier[c]
        return rate

    @classmethod
    def from_scenario(cls, scenario: Scenario, territory: Territory,
                      base_dir: Path | None = None) -> CategoryTable:
        from govsim.scenario.schema import HOURLY_PROFILES
        from govsim.territory import read_rate_multipliers

        area_types = territory.area_types
        cats = scenario.categories
        names = list(cats)
        hourly = np.array([
            c.hourly if c.hourly is not None else HOURLY_PROFILES[c.profile] for c in cats.values()
        ], dtype=float)
        hourly = hourly / hourly.mean(axis=1, keepdims=True)
        weekly = np.array([
            c.weekly if c.weekly is not None else np.tile(h, 7) for c, h in zip(cats.values(), hourly)
        ], dtype=float).reshape(len(names), 168)
        weekly = weekly / weekly.mean(axis=1, keepdims=True)
        grid_multiplier = None
        if scenario.territory.rate_multipliers is not None:
            grid_multiplier = _inline_multipliers(scenario, territory.grid_names, names)
        elif scenario.territory.rate_multipliers_csv is not None:
            grid_multiplier = read_rate_multipliers(
                Path(base_dir or ".") / scenario.territory.rate_multipliers_csv,
                territory.grid_names, names, scenario.limits)
        for cname, c in cats.items():
            for area in c.area_multipliers:
                if area not in area_types:
                    from govsim.scenario.errors import ScenarioError

                    raise ScenarioError.single(
                        f"categories.{cname}.area_multipliers.{area}",
                        f"unknown area type {area!r}; the district has: {', '.join(area_types)}",
                        scenario.source)
        mult = np.array([[c.area_multipliers.get(a, 1.0) for a in area_types] for c in cats.values()])
        return cls(
            names=names,
            rate=np.array([c.rate for c in cats.values()], dtype=float),
            hourly=hourly,
            weekly=weekly,
            area_multiplier=mult.reshape(len(names), len(area_types)),
            priority=[c.priority for c in cats.values()],
            handling=[c.handling for c in cats.values()],
            deadline=[INF if c.deadline is None else c.deadline for c in cats.values()],
            lifetime=[c.lifetime for c in cats.values()],
            escalate_after=[INF if c.escalation is None else c.escalation.after for c in cats.values()],
            escalate_priority=[c.priority if c.escalation is None else c.escalation.priority
                               for c in cats.values()],
            patrol_detect=[c.patrol_detect for c in cats.values()],
            report_prob=[c.report.prob for c in cats.values()],
            report_delay=[c.report.delay for c in cats.values()],
            sensor_prob=[c.sensor.prob for c in cats.values()],
            sensor_delay=[c.sensor.delay for c in cats.values()],
            on_spot_success=[None if c.dispute is None else c.dispute.on_spot_success
                             for c in cats.values()],
            walk_in=[0.0 if c.dispute is None else c.dispute.walk_in for c in cats.values()],
            department=[c.department for c in cats.values()],
            patrol_handles=[c.patrol_handles for c in cats.values()],
            grid_multiplier=grid_multiplier,
        )


def _inline_multipliers(scenario: Scenario, grid_names: list[str], categories: list[str]) -> np.ndarray:
    """``territory.rate_multipliers`` as an array (category × grid); unknown names are errors."""
    from govsim.scenario.errors import Problem, ScenarioError
    from govsim.suggest import did_you_mean

    out = np.ones((len(categories), len(grid_names)))
    grid_index = {g: i for i, g in enumerate(grid_names)}
    problems = []
    for cat, by_grid in (scenario.territory.rate_multipliers or {}).items():
        path = f"territory.rate_multipliers.{cat}"
        if cat not in categories:
            problems.append(Problem(path, f"unknown category {cat!r}" + did_you_mean(cat, categories)))
            continue
        c = categories.index(cat)
        for grid, mult in by_grid.items():
            if grid not in grid_index:
                problems.append(Problem(f"{path}.{grid}", f"unknown grid {grid!r}"))
                continue
            out[c, grid_index[grid]] = mult
    if problems:
        raise ScenarioError(problems, scenario.source)
    return out

