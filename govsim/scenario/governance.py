"""Scenario sections for party-led governance mechanisms (党建引领的治理机制).

Each mechanism is an optional part of ``governance:`` in a scenario file; left
out, it is off. What each one models and which metrics it moves:
``docs/governance/``. Names of categories and communities are checked against
the scenario by :meth:`GovernanceConfig.check_names`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from govsim.distributions import Fixed, LogNormal
from govsim.scenario.convert import Clock, Dist, Duration
from govsim.scenario.fields import HoursConfig, Weekday, _doc, hours_overlap


def _office_hours() -> list[HoursConfig]:
    return [HoursConfig(start=9.0, end=17.0, days=["mon", "tue", "wed", "thu", "fri"])]


def _multipliers_check(rates: dict[str, float], key: str = "rate_multipliers") -> list[tuple[str, str]]:
    return [(f"{key}.{c}", f"expected a multiplier in [0, 1] (interventions lower rates), got {m}")
            for c, m in rates.items() if not 0.0 <= m <= 1.0]


@dataclass(frozen=True)
class LiaisonConfig:
    """Party-member liaison (党员联户): members keep in touch with linked households and pick
    up their problems during contacts — a discovery channel."""

    members_per_grid: float = field(
        default=10.0, metadata=_doc("party members doing liaison work in each grid", ge=0))
    households_per_member: float = field(
        default=6.0, metadata=_doc("households linked to each member (sources: 5–8; a party group "
                                   "of about three members links 18–20)", gt=0))
    contact_interval: Duration = field(
        default=7 * 24.0, metadata=_doc("time between two contacts with a linked household", "h", gt=0))
    detect: float = field(
        default=0.7, metadata=_doc("probability a contact picks up a hidden issue of the household",
                                   ge=0, le=1))
    categories: list[str] | None = field(
        default=None, metadata=_doc("categories members pick up (default: all)"))


@dataclass(frozen=True)
class VolunteerServiceConfig:
    """Volunteer service days (双报到): in-service party members registered with a community
    come on scheduled days, take posts and clear the backlog of what they can handle."""

    categories: list[str] = field(metadata=_doc("categories they can handle", min_len=1))
    per_community: int = field(default=2, metadata=_doc("volunteers on duty per community", gt=0))
    hours: list[HoursConfig] = field(
        default_factory=lambda: [HoursConfig(start=9.0, end=17.0, days=["sat"])],
        metadata=_doc("when they are on duty (each entry has its own volunteers)"))
    speed_kmh: float = field(default=4.0, metadata=_doc("walking speed", "km/h", gt=0))

    def _check(self) -> list[tuple[str, str]]:
        return hours_overlap(self.hours)


@dataclass(frozen=True)
class ParticipationConfig:
    """Resident participation (居民参与度, 0–1) per community: how many residents report
    problems through the app or hotline, and how fast."""

    level: float = field(default=0.3, metadata=_doc("participation of every community not listed", ge=0, le=1))
    communities: dict[str, float] = field(
        default_factory=dict, metadata=_doc("participation by community name", ge=0, le=1))
    reference: float = field(
        default=0.3, metadata=_doc("participation at which the categories' report.prob and "
                                   "report.delay apply; report probability scales with "
                                   "participation / reference (capped at 1)", gt=0, le=1))
    delay_elasticity: float = field(
        default=1.0, metadata=_doc("report delays scale with (reference / participation) to this power", ge=0))


@dataclass(frozen=True)
class FestivalConfig:
    """Neighbourhood festival (邻里节, Chaoyang): raises participation and lowers the rates of
    neighbour disputes from a start time on."""

    communities: list[str] | None = field(
        default=None, metadata=_doc("communities that hold it (default: all)"))
    start: Duration = field(default=0.0, metadata=_doc("time from which it has its effect", "h", ge=0))
    participation: float = field(
        default=0.7, metadata=_doc("participation in those communities from then on", ge=0, le=1))
    rate_multipliers: dict[str, float] = field(
        default_factory=dict, metadata=_doc("rate multiplier per category from then on (≤ 1)"))

    def _check(self) -> list[tuple[str, str]]:
        return _multipliers_check(self.rate_multipliers)


@dataclass(frozen=True)
class CouncilConfig:
    """Resident councils (居民议事会), one per community, decide collective matters by the
    five-step method (五步议事法): collect topics, deliberate, publish the plan, carry it
    out under supervision, evaluate."""

    categories: list[str] = field(metadata=_doc("collective categories that go to the council", min_len=1))
    day: Weekday = field(default="sat", metadata=_doc("weekday of the sittings"))
    at: Clock = field(default=9.0, metadata=_doc("time of day of a sitting", "h"))
    every_weeks: int = field(default=2, metadata=_doc("weeks between sittings", gt=0))
    agenda: int = field(default=5, metadata=_doc("most topics deliberated at one sitting", gt=0))
    deliberation: Dist = field(
        default_factory=lambda: Fixed(2.0), metadata=_doc("协商讨论: deliberation of one topic at a sitting"))
    publication: Dist = field(
        default_factory=lambda: Fixed(7 * 24.0), metadata=_doc("方案公示: the plan is published for comment"))
    execution: Dist = field(
        default_factory=lambda: LogNormal(14 * 24.0, 7 * 24.0),
        metadata=_doc("执行监督: carrying out the plan under supervision"))
    evaluation: Dist = field(
        default_factory=lambda: Fixed(24.0), metadata=_doc("效果评议: residents evaluate the result"))
    agreement_base: float = field(
        default=0.3, metadata=_doc("chance of agreement at a sitting with no participation", ge=0, le=1))
    agreement_per_participation: float = field(
        default=0.7, metadata=_doc("added chance of agreement per unit of participation "
                                   "(chance = base + this × participation, capped at 1)", ge=0))
    max_rounds: int = field(
        default=3, metadata=_doc("sittings a topic may take; without agreement then, it is left "
                                 "unsettled", gt=0))


@dataclass(frozen=True)
class TeamMemberConfig:
    """A role in a service team (police officer, doctor, lawyer, party member…)."""

    role: str = field(metadata=_doc("name of the role"))
    categories: list[str] = field(
        metadata=_doc("categories this role handles (may include categories of a department: "
                      "the team takes them locally)", min_len=1))
    count: int = field(default=1, metadata=_doc("members with this role in each team", gt=0))


@dataclass(frozen=True)
class TeamServiceConfig:
    """Team service (组团式服务, Zhoushan): a team with mixed skills serves a cluster of grids
    (a community or a street); work it can handle is dispatched to it."""

    members: list[TeamMemberConfig] = field(metadata=_doc("roles", min_len=1))
    per: Literal["community", "street"] = field(default="community", metadata=_doc("one team per"))
    hours: list[HoursConfig] = field(default_factory=_office_hours, metadata=_doc("team working hours"))
    speed_kmh: float = field(default=15.0, metadata=_doc("travel speed (teams often ride)", "km/h", gt=0))

    def _check(self) -> list[tuple[str, str]]:
        return hours_overlap(self.hours)


@dataclass(frozen=True)
class AllianceUnitConfig:
    """A member unit of the regional alliance and what it contributes (资源清单)."""

    name: str = field(metadata=_doc("the unit (a hospital, a company, an office building)"))
    resource: str = field(default="staff", metadata=_doc("what it contributes (clinic team, staff hours, parking)"))
    staff: int = field(default=0, metadata=_doc("staff it sends to handle needs (0: none)", ge=0))
    categories: list[str] = field(default_factory=list, metadata=_doc("needs (categories) the staff handle"))
    hours: list[HoursConfig] = field(default_factory=_office_hours, metadata=_doc("when the staff serve"))
    base: str | None = field(default=None, metadata=_doc("community where the unit is (default: the first served)"))
    communities: list[str] | None = field(default=None, metadata=_doc("communities served (default: all)"))
    speed_kmh: float = field(default=15.0, metadata=_doc("travel speed", "km/h", gt=0))
    rate_multipliers: dict[str, float] = field(
        default_factory=dict, metadata=_doc("rate multipliers in the communities served, e.g. shared "
                                            "parking lowers parking conflicts (≤ 1)"))

    def _check(self) -> list[tuple[str, str]]:
        problems = _multipliers_check(self.rate_multipliers) + hours_overlap(self.hours)
        if self.staff > 0 and not self.categories:
            problems.append(("categories", "staff need the categories they handle"))
        if self.staff == 0 and not self.rate_multipliers:
            problems.append(("staff", "a unit contributes staff or rate_multipliers (or both)"))
        return problems


@dataclass(frozen=True)
class AllianceConfig:
    """Regional alliance pooling (区域化党建联盟; lists of resources, needs and projects):
    member units' resources are matched to needs across communities."""

    units: list[AllianceUnitConfig] = field(metadata=_doc("member units", min_len=1))


@dataclass(frozen=True)
class RedPropertyConfig:
    """Red property (红色物业): a party-led non-profit property company takes over compounds
    without a property manager; fewer problems arise and its staff handle them."""

    area_types: list[str] = field(
        default_factory=lambda: ["unowned_courtyard"], metadata=_doc("area types it takes over"))
    grid_ids: list[int] | None = field(
        default=None, metadata=_doc("grids it takes over (instead of area_types)"))
    rate_multipliers: dict[str, float] = field(
        default_factory=dict, metadata=_doc("rate multiplier per category in those grids (≤ 1; "
                                            "complaints −60% → 0.4)"))
    staff_per_grid: int = field(default=1, metadata=_doc("property staff on duty per grid", ge=0))
    hours: list[HoursConfig] = field(
        default_factory=lambda: [HoursConfig(start=8.0, end=18.0)], metadata=_doc("staff working hours"))
    categories: list[str] | None = field(
        default=None, metadata=_doc("categories the staff handle (default: those in rate_multipliers)"))

    def _check(self) -> list[tuple[str, str]]:
        return _multipliers_check(self.rate_multipliers) + hours_overlap(self.hours)

    def staff_categories(self) -> list[str]:
        return list(self.rate_multipliers) if self.categories is None else list(self.categories)


@dataclass(frozen=True)
class TrainingConfig:
    """Training of grid workers (secretary workshops, mentoring; 头雁工程)."""

    share: float = field(default=1.0, metadata=_doc("share of grid workers trained (chosen at random)", ge=0, le=1))
    speedup: float = field(
        default=1.25, metadata=_doc("trained workers handle issues this many times faster", gt=0))
    on_spot_gain: float = field(
        default=0.3, metadata=_doc("share of the gap to certainty closed in first-contact settlement "
                                   "of disputes: p → p + gain × (1 − p)", ge=0, le=1))


@dataclass(frozen=True)
class GovernanceConfig:
    """Party-led governance mechanisms; each is off unless given."""

    liaison: LiaisonConfig | None = field(default=None, metadata=_doc("party-member liaison (党员联户)"))
    volunteers: VolunteerServiceConfig | None = field(
        default=None, metadata=_doc("volunteer service days (双报到)"))
    participation: ParticipationConfig | None = field(
        default=None, metadata=_doc("resident participation (居民参与)"))
    festival: FestivalConfig | None = field(default=None, metadata=_doc("neighbourhood festival (邻里节)"))
    councils: CouncilConfig | None = field(default=None, metadata=_doc("resident councils (居民议事会)"))
    teams: TeamServiceConfig | None = field(default=None, metadata=_doc("team service (组团式服务)"))
    alliance: AllianceConfig | None = field(default=None, metadata=_doc("regional alliance (区域化党建联盟)"))
    red_property: RedPropertyConfig | None = field(default=None, metadata=_doc("red property (红色物业)"))
    training: TrainingConfig | None = field(default=None, metadata=_doc("worker training (培训)"))

    def category_refs(self) -> list[tuple[str, str]]:
        """Every category name the mechanisms refer to, with its field path."""
        refs: list[tuple[str, str]] = []

        def add(path: str, names: object) -> None:
            for i, name in enumerate(names or []):  # type: ignore[attr-defined]
                refs.append((f"{path}[{i}]" if isinstance(names, list) else f"{path}.{name}", name))

        if self.liaison:
            add("governance.liaison.categories", self.liaison.categories)
        if self.volunteers:
            add("governance.volunteers.categories", self.volunteers.categories)
        if self.festival:
            add("governance.festival.rate_multipliers", self.festival.rate_multipliers)
        if self.councils:
            add("governance.councils.categories", self.councils.categories)
        if self.teams:
            for i, m in enumerate(self.teams.members):
                add(f"governance.teams.members[{i}].categories", m.categories)
        if self.alliance:
            for i, u in enumerate(self.alliance.units):
                add(f"governance.alliance.units[{i}].categories", u.categories)
                add(f"governance.alliance.units[{i}].rate_multipliers", u.rate_multipliers)
        if self.red_property:
            add("governance.red_property.rate_multipliers", self.red_property.rate_multipliers)
            add("governance.red_property.categories", self.red_property.categories)
        return refs

    def community_refs(self) -> list[tuple[str, str]]:
        """Every community name the mechanisms refer to, with its field path."""
        refs: list[tuple[str, str]] = []
        if self.participation:
            refs += [(f"governance.participation.communities.{c}", c) for c in self.participation.communities]
        if self.festival and self.festival.communities:
            refs += [(f"governance.festival.communities[{i}]", c) for i, c in enumerate(self.festival.communities)]
        if self.alliance:
            for i, u in enumerate(self.alliance.units):
                refs += [(f"governance.alliance.units[{i}].communities[{j}]", c)
                         for j, c in enumerate(u.communities or [])]
                if u.base is not None:
                    refs.append((f"governance.alliance.units[{i}].base", u.base))
        return refs
