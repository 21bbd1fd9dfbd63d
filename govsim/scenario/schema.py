"""The scenario file format, as typed dataclasses.

Every key a scenario file may contain is a field below, with its type, default,
unit and meaning. The loader (:mod:`govsim.scenario.loader`) validates a YAML
document against this tree, and the scenario reference in ``docs/`` is generated
from it, so the documentation cannot drift from the code.

Time is in hours inside govsim; in files, durations carry units (``"15min"``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

from govsim.distributions import Exponential, Fixed, LogNormal
from govsim.limits import MAX_COORDINATE_M, Limits
from govsim.params import (  # noqa: F401  (re-exported: part of the schema's API)
    WEEKDAYS, Dist, Duration, HoursConfig, NumberDist, ShiftConfig, Weekday, hours_overlap, office_hours,
)
from govsim.params import doc as _doc
from govsim.scenario.governance import GovernanceConfig


# Hour-of-day profiles of issue arrivals (relative weights, 24 values; scaled to mean 1).
HOURLY_PROFILES: dict[str, tuple[float, ...]] = {
    "flat": (1.0,) * 24,
    # Few issues at night, a broad day plateau with a late-afternoon peak.
    "daytime": (0.2, 0.15, 0.1, 0.1, 0.1, 0.2, 0.5, 1.0, 1.4, 1.6, 1.6, 1.5,
                1.4, 1.4, 1.5, 1.6, 1.7, 1.7, 1.5, 1.2, 0.9, 0.6, 0.4, 0.3),
    # Street vending, noise and disputes: evenings.
    "evening": (0.3, 0.2, 0.1, 0.1, 0.1, 0.1, 0.3, 0.6, 0.8, 0.9, 1.0, 1.1,
                1.1, 1.0, 1.0, 1.1, 1.3, 1.6, 2.0, 2.3, 2.3, 1.9, 1.2, 0.6),
}


@dataclass(frozen=True)
class GridRow:
    """One grid (网格) of a district given as a table."""

    x_m: float = field(metadata=_doc("x coordinate of the grid centre", "m", ge=-MAX_COORDINATE_M, le=MAX_COORDINATE_M))
    y_m: float = field(metadata=_doc("y coordinate of the grid centre", "m", ge=-MAX_COORDINATE_M, le=MAX_COORDINATE_M))
    households: float = field(metadata=_doc("households (户) in the grid", ge=0))
    area_type: str = field(default="ordinary", metadata=_doc("area type, a key of territory.area_types"))
    community: str | None = field(default=None, metadata=_doc("community (社区) name; default: one per grid"))
    street: str | None = field(default=None, metadata=_doc("street (街道) name; default: one for the district"))
    points: int | None = field(default=None, metadata=_doc("patrol points; default territory.points_per_grid", gt=0))
    edge_m: float | None = field(default=None, metadata=_doc("edge of the (square) grid; default territory.edge_m", "m", gt=0, le=100_000))
    name: str | None = field(default=None, metadata=_doc("grid name; default g<index>"))


@dataclass(frozen=True)
class TerritoryConfig:
    """The district (辖区): square grids laid out rows × cols, or given as a table."""

    rows: int = field(default=4, metadata=_doc("grid rows of the layout", gt=0))
    cols: int = field(default=4, metadata=_doc("grid columns of the layout", gt=0))
    edge_m: float = field(default=300.0, metadata=_doc("edge length of a square grid", "m", gt=0, le=100_000))
    points_per_grid: int = field(default=16, metadata=_doc("patrol points (buildings, blocks) per grid", gt=0))
    households: NumberDist = field(
        default_factory=lambda: Fixed(300.0),
        metadata=_doc("households per grid (a number or a distribution of numbers)"),
    )
    area_types: dict[str, float] = field(
        default_factory=lambda: {"ordinary": 1.0},
        metadata=_doc("share of grids of each area type (ordinary, old_compound 老旧小区, "
                      "unowned_courtyard 无主庭院, office_tower, market_street...); shares are normalised"),
    )
    community_size: list[int] = field(
        default_factory=lambda: [2, 2],
        metadata=_doc("[rows, cols] of grids forming one community (社区)", ge=1, le=1_000_000),
    )
    street_size: list[int] = field(
        default_factory=lambda: [2, 2],
        metadata=_doc("[rows, cols] of communities forming one street (街道)", ge=1, le=1_000_000),
    )
    point_weight: NumberDist = field(
        default_factory=lambda: Fixed(1.0),
        metadata=_doc("relative issue intensity of each patrol point (hotspots); drawn once per point"),
    )
    distance: Literal["manhattan", "euclidean"] = field(
        default="manhattan", metadata=_doc("distance metric for travel"),
    )
    grids: list[GridRow] | None = field(
        default=None, metadata={**_doc("the district as a list of grids (overrides rows/cols)"), "min_len": 1},
    )
    grids_csv: str | None = field(
        default=None,
        metadata=_doc("CSV file of grids (columns as in `grids`), relative to the scenario file"),
    )
    points_csv: str | None = field(
        default=None,
        metadata=_doc("CSV file of patrol points, relative to the scenario file: columns grid (grid name), "
                      "x_m, y_m, in tour order within each grid; grids it lists get these points instead of "
                      "a lattice (points inside a real polygon; written by `govsim calibrate --grids`)"),
    )
    map_geojson: str | None = field(
        default=None,
        metadata=_doc("GeoJSON file of the grids' polygons in the scenario's metres (property `name` = grid "
                      "name), relative to the scenario file; used to draw maps, not to simulate"),
    )
    rate_multipliers: dict[str, dict[str, float]] | None = field(
        default=None,
        metadata=_doc("rate multipliers by category and grid name, {category: {grid: multiplier}} "
                      "(missing: 1); the inline form of rate_multipliers_csv"),
    )
    rate_multipliers_csv: str | None = field(
        default=None,
        metadata=_doc("CSV file of rate multipliers by grid and category, relative to the scenario file: a "
                      "column `grid` (grid names) and one column per category (a category or grid not in "
                      "the file: 1). Written by `govsim calibrate` for the fitted grid × category rates"),
    )
    #: the scenario's limits (set by :class:`Scenario`), for the grids CSV read when the district is built
    limits: Limits | None = field(default=None, compare=False, repr=False, metadata={"internal": True})

    def n_grids(self) -> int | None:
        """Grids of the district, when the file defines it (None: read from a grids CSV)."""
        if self.grids_csv is not None:
            return None
        return len(self.grids) if self.grids is not None else self.rows * self.cols

    def community_names(self) -> list[str] | None:
        """Names of the communities, when the file defines the district (None: a grids CSV)."""
        if self.grids_csv is not None:
            return None
        if self.grids is not None:
            return list(dict.fromkeys(g.community or f"c{i}" for i, g in enumerate(self.grids)))
        if self.rows * self.cols > 10_000_000:
            return None  # too large to list (the limits refuse such a district)
        cr, cc = self.community_size if len(self.community_size) == 2 else (1, 1)
        return [f"c{i}" for i in range(-(-self.rows // max(cr, 1)) * -(-self.cols // max(cc, 1)))]

    def area_type_names(self) -> list[str] | None:
        """Area types of the district, when the file defines it (None: a grids CSV)."""
        if self.grids_csv is not None:
            return None
        names = list(self.area_types)
        return list(dict.fromkeys([*names, *(g.area_type for g in self.grids or [])]))

    def _check(self) -> list[tuple[str, str]]:
        problems = []
        for key in ("community_size", "street_size"):
            value = getattr(self, key)
            if len(value) != 2 or min(value) < 1:
                problems.append((key, f"expected [rows, cols] of positive integers, got {value}"))
        if any(v < 0 for v in self.area_types.values()) or sum(self.area_types.values()) <= 0:
            problems.append(("area_types", "expected non-negative shares with a positive sum"))
        if self.grids is not None and self.grids_csv is not None:
            problems.append(("grids_csv", "give either grids or grids_csv, not both"))
        if self.rate_multipliers is not None and self.rate_multipliers_csv is not None:
            problems.append(("rate_multipliers_csv", "give either rate_multipliers or rate_multipliers_csv, not both"))
        for cat, by_grid in (self.rate_multipliers or {}).items():
            for grid, mult in by_grid.items():
                if not (mult >= 0 and mult < float("inf")):
                    problems.append((f"rate_multipliers.{cat}.{grid}", f"expected a finite number >= 0, got {mult}"))
        return problems


@dataclass(frozen=True)
class ReportConfig:
    """Resident reports (居民上报: hotline 12345 or app) of one category."""

    prob: float = field(default=0.3, metadata=_doc("probability that residents report the issue", ge=0, le=1))
    delay: Dist = field(
        default_factory=lambda: Exponential(2.0),
        metadata=_doc("time from the issue arising to the report"),
    )


@dataclass(frozen=True)
class SensorDetectConfig:
    """Sensor / AI video detection (智能预警) of one category, on grids with sensors."""

    prob: float = field(default=0.0, metadata=_doc("probability that a sensor detects the issue", ge=0, le=1))
    delay: Dist = field(
        default_factory=lambda: Fixed(2 / 60),
        metadata=_doc("time from the issue arising to the alarm"),
    )


@dataclass(frozen=True)
class EscalationConfig:
    """An issue left unresolved becomes more urgent (e.g. a hazard)."""

    after: Duration = field(metadata=_doc("time after creation at which the issue escalates", "h"))
    priority: int = field(default=1, metadata=_doc("priority after escalation (1 = most urgent)", ge=1))



@dataclass(frozen=True)
class DisputeConfig:
    """A dispute (矛盾纠纷): the grid worker tries to settle it on the spot, else it goes up
    the mediation ladder (see ``mediation``)."""

    on_spot_success: float = field(
        default=0.5, metadata=_doc("probability the grid worker settles it on the spot (就地化解); "
                                   "the attempt takes the category's handling time", ge=0, le=1),
    )
    walk_in: float = field(
        default=0.0, metadata=_doc("share of disputes residents take straight to the mediation ladder "
                                   "(a visit to the community mediation room) as soon as they arise", ge=0, le=1),
    )


@dataclass(frozen=True)
class CategoryConfig:
    """An issue category (事件类别): how often it arises and how it is found and handled."""

    rate: float = field(metadata=_doc("issues per 1,000 households per day", "1/(1000 hh·d)", ge=0))
    profile: Literal["flat", "daytime", "evening"] = field(
        default="daytime", metadata=_doc("hour-of-day profile of arrivals"),
    )
    hourly: list[float] | None = field(
        default=None, metadata=_doc("24 relative hourly weights (overrides profile)"),
    )
    weekly: list[float] | None = field(
        default=None,
        metadata=_doc("168 relative weights, one per hour of the week from Monday 00:00 (day 0 of a run "
                      "is a Monday); overrides hourly and profile (a fitted weekday/weekend pattern)"),
    )
    area_multipliers: dict[str, float] = field(
        default_factory=dict, metadata=_doc("rate multiplier per area type (default 1)"),
    )
    priority: int = field(default=3, metadata=_doc("priority (1 = most urgent)", ge=1))
    handling: Dist = field(
        default_factory=lambda: LogNormal(0.5, 0.25),
        metadata=_doc("time on site to handle the issue"),
    )
    deadline: Duration | None = field(default=None, metadata=_doc("time after creation by which it should be resolved", "h"))
    department: str | None = field(
        default=None, metadata=_doc("the functional department that handles it (a key of "
                                    "`departments`); null: grid workers handle it"),
    )
    dispute: DisputeConfig | None = field(
        default=None, metadata=_doc("a dispute: settled on the spot or by mediation"),
    )
    lifetime: Dist | None = field(
        default=None,
        metadata=_doc("how long the issue lasts if nobody takes it on (the vendor leaves, the "
                      "matter resolves itself); after it, an issue not yet assigned lapses. "
                      "null: it lasts until handled"),
    )
    escalation: EscalationConfig | None = field(default=None, metadata=_doc("escalation if left unresolved"))
    patrol_detect: float = field(
        default=0.8, metadata=_doc("probability a patrolling worker passing the point sees it", ge=0, le=1),
    )
    patrol_handles: bool = field(
        default=False,
        metadata=_doc("with a department: a grid worker who finds it on patrol handles it on the spot "
                      "(its handling time); only reported cases go to the department"),
    )
    report: ReportConfig = field(default_factory=ReportConfig, metadata=_doc("resident reports"))
    sensor: SensorDetectConfig = field(default_factory=SensorDetectConfig, metadata=_doc("sensor detection"))

    def _check(self) -> list[tuple[str, str]]:
        problems = []
        if self.hourly is not None:
            if len(self.hourly) != 24:
                problems.append(("hourly", f"expected 24 hourly weights, got {len(self.hourly)}"))
            elif min(self.hourly) < 0 or sum(self.hourly) <= 0:
                problems.append(("hourly", "expected non-negative weights with a positive sum"))
        for area, mult in self.area_multipliers.items():
            if mult < 0:
                problems.append((f"area_multipliers.{area}", f"expected a number >= 0, got {mult}"))
        if self.weekly is not None:
            if len(self.weekly) != 168:
                problems.append(("weekly", f"expected 168 weights (one per hour of the week), got {len(self.weekly)}"))
            elif min(self.weekly) < 0 or sum(self.weekly) <= 0:
                problems.append(("weekly", "expected non-negative weights with a positive sum"))
        if self.patrol_handles and self.department is None:
            problems.append(("patrol_handles", "only a department's category can be handled on patrol instead"))
        if self.department is not None and self.dispute is not None:
            problems.append(("department", "a category is either a dispute or a department's; not both"))
        if self.escalation is not None and self.escalation.priority > self.priority:
            problems.append(("escalation.priority",
                             f"escalation must not lower the urgency (priority {self.priority} → "
                             f"{self.escalation.priority}; 1 is the most urgent)"))
        return problems


@dataclass(frozen=True)
class ReportChannel:
    """Resident reporting channel (hotline, app) as a whole."""

    enabled: bool = field(default=True, metadata=_doc("residents report issues"))
    prob_scale: float = field(
        default=1.0, metadata=_doc("multiplier on every category's report probability (capped at 1)", ge=0),
    )
    delay_scale: float = field(
        default=1.0, metadata=_doc("multiplier on every category's report delay", ge=0),
    )


@dataclass(frozen=True)
class SensorChannel:
    """Sensors and AI video (智能预警) deployed on some grids."""

    enabled: bool = field(default=False, metadata=_doc("sensors are deployed"))
    coverage: float = field(
        default=1.0, metadata=_doc("share of grids with sensors (chosen at random), if grid_ids is not given", ge=0, le=1),
    )
    grid_ids: list[int] | None = field(default=None, metadata=_doc("indices of grids with sensors"))
    false_alarms_per_day: float = field(
        default=0.0, metadata=_doc("false alarms per sensor grid per day; each costs a trip", "1/d", ge=0),
    )
    false_alarm_check: Dist = field(
        default_factory=lambda: Fixed(5 / 60),
        metadata=_doc("time on site to clear a false alarm"),
    )
    placement: Literal["random", "busiest"] = field(
        default="random",
        metadata=_doc("without grid_ids: random grids, or the grids where most sensor-detectable "
                      "issues are expected"),
    )
    cost_per_grid: float = field(
        default=0.0, metadata=_doc("cost of sensors in one grid per year (any currency)", "1/yr", ge=0),
    )


@dataclass(frozen=True)
class AppChannel:
    """A reporting app (e.g. 红旗e家, 民呼我为) deployed on some grids: residents there report
    more, and sooner."""

    enabled: bool = field(default=False, metadata=_doc("the app is deployed"))
    coverage: float = field(
        default=1.0, metadata=_doc("share of grids with the app (chosen at random), if grid_ids is not given", ge=0, le=1),
    )
    grid_ids: list[int] | None = field(default=None, metadata=_doc("indices of grids with the app"))
    prob_scale: float = field(
        default=1.5, metadata=_doc("multiplier on report probabilities in app grids (capped at 1)", ge=0),
    )
    delay_scale: float = field(
        default=0.5, metadata=_doc("multiplier on report delays in app grids", ge=0),
    )
    cost_per_grid: float = field(
        default=0.0, metadata=_doc("cost of the app in one grid per year (any currency)", "1/yr", ge=0),
    )



@dataclass(frozen=True)
class ChannelsConfig:
    """Discovery channels (发现渠道)."""

    patrol: bool = field(default=True, metadata=_doc("grid workers patrol and find issues"))
    reports: ReportChannel = field(default_factory=ReportChannel, metadata=_doc("resident reports"))
    sensors: SensorChannel = field(default_factory=SensorChannel, metadata=_doc("sensors / AI video"))
    app: AppChannel = field(default_factory=AppChannel, metadata=_doc("reporting app on chosen grids"))


@dataclass(frozen=True)
class WorkersConfig:
    """Grid workers (网格员)."""

    per_grid: float = field(
        default=1.0,
        metadata=_doc("workers per grid on each shift: a whole number, or a share below 1 "
                      "(0.5: each worker covers two neighbouring grids)", gt=0),
    )
    shifts: list[HoursConfig] = field(
        default_factory=lambda: [HoursConfig()], metadata=_doc("shifts; each shift has its own workers"),
    )
    speed_kmh: float = field(default=4.0, metadata=_doc("walking speed", "km/h", ge=0.1))
    dwell: Duration = field(default=2 / 60, metadata=_doc("time spent at each patrol point", "h"))
    route: str = field(
        default="fixed_cycle",
        metadata=_doc("patrol route strategy: fixed_cycle, random_walk, hotspot (or a registered one)"),
    )
    categories: list[str] | None = field(
        default=None, metadata=_doc("categories the workers can handle (default: all)"),
    )
    communities: dict[str, float] | None = field(
        default=None,
        metadata=_doc("workers per grid in named communities (社区), instead of per_grid there: "
                      "{community: per_grid}, each a whole number or a share below 1 (a worker's "
                      "grids then stay inside its community)", gt=0),
    )
    return_home: bool = field(
        default=False,
        metadata=_doc("with channels.patrol false: a worker free after a job walks back to its post "
                      "(the first point of its route, in its home grid) and waits there; false: it "
                      "waits where the job was, possibly in another grid, and is the nearest worker "
                      "there"),
    )

    def _check(self) -> list[tuple[str, str]]:
        problems = []
        if self.per_grid > 1 and self.per_grid != int(self.per_grid):
            problems.append(("per_grid", f"expected a whole number or a share below 1, got {self.per_grid}"))
        for name, value in (self.communities or {}).items():
            if value > 1 and value != int(value):
                problems.append((f"communities.{name}", f"expected a whole number or a share below 1, got {value}"))
        if not self.shifts:
            problems.append(("shifts", "expected at least one shift"))
        from govsim.policies.routes import ROUTES

        if self.route not in ROUTES:
            problems.append(("route", _unknown_name(self.route, ROUTES)))
        return problems


LadderLevel = Literal["community", "street", "district"]
LADDER = ("grid", "community", "street", "district")


@dataclass(frozen=True)
class MediationLevelConfig:
    """The mediation rooms (调解工作室) of one level of the ladder: one room per community,
    per street, or one for the district."""

    mediators: int = field(default=2, metadata=_doc("mediators on duty in each room during opening hours", ge=0))
    hours: list[HoursConfig] | None = field(
        default_factory=office_hours, metadata=_doc("opening hours (null: always open)"),
    )
    duration: Dist = field(
        default_factory=lambda: LogNormal(2.0, 1.0), metadata=_doc("length of a mediation session"),
    )
    success: float = field(default=0.8, metadata=_doc("probability a session settles the dispute", ge=0, le=1))
    queue_limit: int | None = field(
        default=None, metadata=_doc("most disputes waiting in a room; a dispute turned away goes up a level", ge=0),
    )
    referral_delay: Dist = field(
        default_factory=lambda: Fixed(24.0), metadata=_doc("time for a referral to reach this level"),
    )

    def _check(self) -> list[tuple[str, str]]:
        return hours_overlap(self.hours)


@dataclass(frozen=True)
class SeverityStep:
    """A dispute left unsettled this long grows more severe (矛盾升级)."""

    after: Duration = field(metadata=_doc("age of the dispute (time since it arose)", "h"))
    success_factor: float = field(
        default=1.0, metadata=_doc("multiplier on every later settlement probability", ge=0, le=1),
    )
    start_level: LadderLevel | None = field(
        default=None, metadata=_doc("referrals from now on go at least to this level"),
    )


@dataclass(frozen=True)
class VolunteerConfig:
    """Volunteer mediators: retired party members (银龄先锋队), in-service members registered
    with the community (双报到)."""

    level: LadderLevel = field(default="community", metadata=_doc("rooms of this level get the volunteers"))
    mediators: int = field(default=1, metadata=_doc("volunteer mediators per room on duty", gt=0))
    hours: list[HoursConfig] = field(
        default_factory=lambda: [HoursConfig(start=9.0, end=12.0, days=["sat", "sun"])],
        metadata=_doc("when they are on duty"),
    )
    label: str = field(default="volunteer", metadata=_doc("name for tables"))

    def _check(self) -> list[tuple[str, str]]:
        return hours_overlap(self.hours)


@dataclass(frozen=True)
class MediationConfig:
    """The four-level linkage (四级联动): grid → community → street → district."""

    community: MediationLevelConfig | None = field(default=None, metadata=_doc("community mediation rooms"))
    street: MediationLevelConfig | None = field(default=None, metadata=_doc("street mediation centres"))
    district: MediationLevelConfig | None = field(default=None, metadata=_doc("the district mediation centre"))
    severity: list[SeverityStep] = field(
        default_factory=list, metadata=_doc("how a dispute grows more severe while unsettled"),
    )
    volunteers: list[VolunteerConfig] = field(default_factory=list, metadata=_doc("volunteer mediators"))

    def levels(self) -> list[tuple[str, MediationLevelConfig]]:
        """The configured levels, bottom up."""
        return [(name, cfg) for name in LADDER[1:] if (cfg := getattr(self, name)) is not None]

    def _check(self) -> list[tuple[str, str]]:
        problems = []
        afters = [s.after for s in self.severity]
        if afters != sorted(afters):
            problems.append(("severity", "steps must be in increasing order of `after`"))
        for i, v in enumerate(self.volunteers):
            if getattr(self, v.level) is None:
                problems.append((f"volunteers[{i}].level", f"no {v.level} level is configured"))
        return problems


@dataclass(frozen=True)
class DepartmentConfig:
    """A functional department (职能部门: 城管, 公安, 民政…) that handles some categories."""

    staff: int = field(default=2, metadata=_doc("staff serving cases during working hours", gt=0, le=100_000))
    hours: list[HoursConfig] | None = field(
        default_factory=office_hours, metadata=_doc("working hours (null: always)"),
    )
    service: Dist = field(
        default_factory=lambda: LogNormal(4.0, 2.0), metadata=_doc("time to handle a case"),
    )

    def _check(self) -> list[tuple[str, str]]:
        return hours_overlap(self.hours)


@dataclass(frozen=True)
class Scenario:
    """A scenario: the district, its issues, its workers, channels and dispatch policy."""

    categories: dict[str, CategoryConfig] = field(metadata=_doc("issue categories by name"))
    name: str = field(default="scenario", metadata=_doc("short name used in tables and reports"))
    description: str = field(default="", metadata=_doc("free text"))
    horizon: Duration = field(default=30 * 24.0, metadata=_doc("simulated time", "h"))
    warmup: Duration = field(default=0.0, metadata=_doc("initial period excluded from metrics", "h"))
    seed: int | None = field(default=None, metadata=_doc("default seed (the CLI's --seed wins)", ge=0))
    territory: TerritoryConfig = field(default_factory=TerritoryConfig, metadata=_doc("the district"))
    workers: WorkersConfig = field(default_factory=WorkersConfig, metadata=_doc("grid workers"))
    channels: ChannelsConfig = field(default_factory=ChannelsConfig, metadata=_doc("discovery channels"))
    mediation: MediationConfig = field(default_factory=MediationConfig, metadata=_doc("the mediation ladder"))
    departments: dict[str, DepartmentConfig] = field(
        default_factory=dict, metadata=_doc("functional departments by name"),
    )
    governance: GovernanceConfig = field(
        default_factory=GovernanceConfig, metadata=_doc("party-led governance mechanisms (docs/governance/)"),
    )
    policy: str = field(default="traditional_patrol", metadata=_doc("dispatch policy name"))
    policies: dict[str, dict[str, Any]] = field(
        default_factory=dict, metadata=_doc("parameters per policy name (see docs/policies.md)"),
    )
    limits: Limits = field(
        default_factory=Limits,
        metadata=_doc("limits on the size of the study: raise them for a genuinely huge one (docs/reliability.md)"),
    )
    source: str | None = field(default=None, metadata={"internal": True})
    raw: dict[str, Any] | None = field(default=None, metadata={"internal": True})
    # each policy's validated parameters, built once (by _check, or on first use)
    _params: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False,
                                    metadata={"internal": True})

    def __post_init__(self) -> None:
        if self.territory.limits is not self.limits:  # the grids CSV is read under the same limits
            object.__setattr__(self, "territory", dataclasses.replace(self.territory, limits=self.limits))

    def _check(self) -> list[tuple[str, str]]:
        from govsim.policies import POLICIES
        from govsim.scenario.convert import build
        from govsim.scenario.errors import ScenarioError

        problems: list[tuple[str, str]] = []
        if self.horizon <= 0:
            problems.append(("horizon", "expected a positive duration"))
        if self.warmup >= self.horizon:
            problems.append(("warmup", "the warm-up must be shorter than the horizon"))
        if not self.categories:
            problems.append(("categories", "expected at least one category"))
        if self.policy not in POLICIES:
            problems.append(("policy", _unknown_name(self.policy, POLICIES)))
        for name, params in self.policies.items():
            if name not in POLICIES:
                problems.append((f"policies.{name}", _unknown_name(name, POLICIES)))
                continue
            try:
                self._params[name] = build(POLICIES[name].Params, params)
            except ScenarioError as err:
                for p in err.problems:
                    problems.append((f"policies.{name}" + (f".{p.path}" if p.path else ""), p.message))
        communities = self.territory.community_names()
        if self.workers.communities and communities is not None:  # a grids CSV: checked when built
            problems += [(f"workers.communities.{c}", _unknown_name(c, communities, "community"))
                         for c in self.workers.communities if c not in communities]
        if self.workers.categories is not None:
            for i, cat_name in enumerate(self.workers.categories):
                if cat_name not in self.categories:
                    problems.append((f"workers.categories[{i}]", _unknown_name(cat_name, self.categories)))
        for cname, cat in self.categories.items():
            if cat.department is not None and cat.department not in self.departments:
                problems.append((f"categories.{cname}.department",
                                 _unknown_name(cat.department, self.departments, "department")
                                 if self.departments else
                                 f"unknown department {cat.department!r}; no departments are configured"))
        problems += self._governance_problems()
        area_types = set(self.territory.area_types)
        if self.territory.grids is not None:
            area_types |= {g.area_type for g in self.territory.grids}
        for cname, cat in self.categories.items():
            if self.territory.grids_csv is not None:
                break  # the table's area types are known only once it is read (checked then)
            for area in cat.area_multipliers:
                if area not in area_types:
                    problems.append((f"categories.{cname}.area_multipliers.{area}",
                                     _unknown_name(area, sorted(area_types), "area type")))
        return problems

    def _governance_problems(self) -> list[tuple[str, str]]:
        """Names the governance mechanisms refer to that the scenario lacks, and each
        mechanism's own cross-section checks. Communities, area types and grid ids are
        checked here when the file defines the district (a layout or a list of grids);
        a district read from a grids CSV is checked once it is read."""
        from govsim.mechanisms import MECHANISMS

        problems: list[tuple[str, str]] = []
        communities = self.territory.community_names()
        n_grids = self.territory.n_grids()
        area_types = self.territory.area_type_names()
        for name, cfg in self.governance.active():
            mech = MECHANISMS[name]
            refs = mech.references(cfg)
            problems += [(path, _unknown_name(c, self.categories, "category"))
                         for path, c in refs.categories if c not in self.categories]
            if communities is not None:
                problems += [(path, _unknown_name(c, communities, "community"))
                             for path, c in refs.communities if c not in communities]
            if area_types is not None:
                problems += [(path, _unknown_name(a, area_types, "area type"))
                             for path, a in refs.area_types if a not in area_types]
            if n_grids is not None:
                problems += [(path, f"no such grid {g} (the district has grids 0..{n_grids - 1})")
                             for path, g in refs.grid_ids if not 0 <= g < n_grids]
            problems += mech.check(cfg, self)
        return problems

    def policy_params(self, name: str | None = None) -> Any:
        """The validated parameters of policy ``name`` (default: the scenario's policy):
        built once, when the scenario is loaded."""
        from govsim.policies import POLICIES
        from govsim.scenario.convert import build

        name = name or self.policy
        params = self._params.get(name)
        if params is None:
            params = build(POLICIES[name].Params, self.policies.get(name, {}), path=f"policies.{name}")
            self._params[name] = params
        return params


def _unknown_name(name: str, known: Any, what: str = "name") -> str:
    """``unknown <what> 'x'; known: a, b (did you mean 'a'?)``."""
    from govsim.suggest import did_you_mean

    known = sorted(known)
    return f"unknown {what} {name!r}; known: {', '.join(known)}" + did_you_mean(str(name), known)
