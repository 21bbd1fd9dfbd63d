"""Team service (组团式服务, Zhoushan): a team with mixed skills (police officer, doctor,
lawyer, party member…) serves a cluster of grids — a community or a street — and work it
can handle is dispatched to it, including a department's categories, which it then takes
locally instead of the department.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

from govsim.mechanisms.base import Mechanism, References, RunView, register_mechanism
from govsim.params import HoursConfig, doc, hours_overlap, office_hours

if TYPE_CHECKING:
    from govsim.agents.responders import Hiring


@dataclass(frozen=True)
class TeamMemberConfig:
    """A role in a service team (police officer, doctor, lawyer, party member…)."""

    role: str = field(metadata=doc("name of the role"))
    categories: list[str] = field(
        metadata=doc("categories this role handles (may include categories of a department: "
                      "the team takes them locally)", min_len=1))
    count: int = field(default=1, metadata=doc("members with this role in each team", gt=0, le=1_000))


@dataclass(frozen=True)
class TeamServiceConfig:
    """Team service (组团式服务, Zhoushan): a team with mixed skills serves a cluster of grids
    (a community or a street); work it can handle is dispatched to it."""

    members: list[TeamMemberConfig] = field(metadata=doc("roles", min_len=1))
    per: Literal["community", "street"] = field(default="community", metadata=doc("one team per"))
    hours: list[HoursConfig] = field(default_factory=office_hours, metadata=doc("team working hours"))
    speed_kmh: float = field(default=15.0, metadata=doc("travel speed (teams often ride)", "km/h", ge=0.1))

    def _check(self) -> list[tuple[str, str]]:
        return hours_overlap(self.hours)


@register_mechanism
class TeamService(Mechanism):
    """One team per community (or street), each member handling the categories of a role."""

    name = "teams"
    title = "team service (组团式服务)"
    Config = TeamServiceConfig
    metrics = ("handled_by_team",)

    @classmethod
    def references(cls, cfg: TeamServiceConfig) -> References:
        refs = References()
        for i, m in enumerate(cfg.members):
            refs.category(f"governance.teams.members[{i}].categories", m.categories)
        return refs

    def hire(self, hiring: Hiring) -> None:
        t, terr = self.cfg, self.sim.territory
        area = terr.grid_community if t.per == "community" else terr.grid_street
        for a in range(int(area.max()) + 1):
            grids = np.flatnonzero(area == a).tolist()
            for m in t.members:
                hiring.add(grids, t.hours, m.count, m.categories, t.speed_kmh, "team", m.role, stands_in=True)

    @classmethod
    def measure(cls, run: RunView) -> dict[str, float]:
        return {"handled_by_team": run.handled_by("team")}
