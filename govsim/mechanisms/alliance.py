"""Regional alliance pooling (区域化党建联盟; lists of resources, needs and projects): member
units (a hospital, a company, an office building) contribute staff who handle needs in the
communities they serve, and resources that prevent problems (shared parking lowers
parking conflicts: a rate multiplier).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from govsim.agents.participation import RateChange, community_grids
from govsim.agents.responders import post_of
from govsim.mechanisms.base import Mechanism, References, RunView, check_multipliers, register_mechanism
from govsim.params import HoursConfig, doc, hours_overlap, office_hours

if TYPE_CHECKING:
    from govsim.agents.responders import Hiring


@dataclass(frozen=True)
class AllianceUnitConfig:
    """A member unit of the regional alliance and what it contributes (资源清单)."""

    name: str = field(metadata=doc("the unit (a hospital, a company, an office building)"))
    resource: str = field(default="staff", metadata=doc("what it contributes (clinic team, staff hours, parking)"))
    staff: int = field(default=0, metadata=doc("staff it sends to handle needs (0: none)", ge=0, le=10_000))
    categories: list[str] = field(default_factory=list, metadata=doc("needs (categories) the staff handle"))
    hours: list[HoursConfig] = field(default_factory=office_hours, metadata=doc("when the staff serve"))
    base: str | None = field(default=None, metadata=doc("community where the unit is (default: the first served)"))
    communities: list[str] | None = field(default=None, metadata=doc("communities served (default: all)"))
    speed_kmh: float = field(default=15.0, metadata=doc("travel speed", "km/h", ge=0.1))
    rate_multipliers: dict[str, float] = field(
        default_factory=dict, metadata=doc("rate multipliers in the communities served, e.g. shared "
                                           "parking lowers parking conflicts (≤ 1)"))

    def _check(self) -> list[tuple[str, str]]:
        problems = check_multipliers(self.rate_multipliers) + hours_overlap(self.hours)
        if self.staff > 0 and not self.categories:
            problems.append(("categories", "staff need the categories they handle"))
        if self.staff == 0 and not self.rate_multipliers:
            problems.append(("staff", "a unit contributes staff or rate_multipliers (or both)"))
        return problems


@dataclass(frozen=True)
class AllianceConfig:
    """Regional alliance pooling (区域化党建联盟; lists of resources, needs and projects):
    member units' resources are matched to needs across communities."""

    units: list[AllianceUnitConfig] = field(metadata=doc("member units", min_len=1))


@register_mechanism
class RegionalAlliance(Mechanism):
    """Member units' staff serve their communities; their resources lower some rates."""

    name = "alliance"
    title = "regional alliance (区域化党建联盟)"
    Config = AllianceConfig
    metrics = ("handled_by_alliance",)

    @classmethod
    def references(cls, cfg: AllianceConfig) -> References:
        refs = References()
        for i, u in enumerate(cfg.units):
            path = f"governance.alliance.units[{i}]"
            refs.category(f"{path}.categories", u.categories)
            refs.category(f"{path}.rate_multipliers", u.rate_multipliers)
            refs.community(f"{path}.communities", u.communities)
            if u.base is not None:
                refs.communities.append((f"{path}.base", u.base))
        return refs

    def _served(self, i: int) -> np.ndarray:
        unit = self.cfg.units[i]
        return community_grids(self.sim.territory, unit.communities, f"governance.alliance.units[{i}].communities")

    def rate_changes(self) -> list[RateChange]:
        cat = {name: i for i, name in enumerate(self.sim.categories.names)}
        return [RateChange(cat[c], self._served(i), 0.0, m, f"alliance:{unit.name}")
                for i, unit in enumerate(self.cfg.units) for c, m in unit.rate_multipliers.items()]

    def hire(self, hiring: Hiring) -> None:
        terr = self.sim.territory
        for i, u in enumerate(self.cfg.units):
            if u.staff == 0:
                continue
            served = np.flatnonzero(self._served(i)).tolist()
            base_name = u.base or (u.communities[0] if u.communities else terr.communities[0])
            base = np.flatnonzero(community_grids(terr, [base_name], f"governance.alliance.units[{i}].base"))
            hiring.add(served, u.hours, u.staff, u.categories, u.speed_kmh, "alliance", u.name,
                       post=post_of(terr, base.tolist()), stands_in=True)

    @classmethod
    def measure(cls, run: RunView) -> dict[str, float]:
        return {"handled_by_alliance": run.handled_by("alliance")}
