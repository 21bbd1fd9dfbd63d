"""Volunteer service days (双报到): in-service party members registered with a community come
on scheduled days, take posts and clear the backlog of what they can handle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from govsim.mechanisms.base import Mechanism, References, RunView, register_mechanism
from govsim.params import HoursConfig, doc, hours_overlap

if TYPE_CHECKING:
    from govsim.agents.responders import Hiring


@dataclass(frozen=True)
class VolunteerServiceConfig:
    """Volunteer service days (双报到): in-service party members registered with a community
    come on scheduled days, take posts and clear the backlog of what they can handle."""

    categories: list[str] = field(metadata=doc("categories they can handle", min_len=1))
    per_community: int = field(default=2, metadata=doc("volunteers on duty per community", gt=0, le=10_000))
    hours: list[HoursConfig] = field(
        default_factory=lambda: [HoursConfig(start=9.0, end=17.0, days=["sat"])],
        metadata=doc("when they are on duty (each entry has its own volunteers)"))
    speed_kmh: float = field(default=4.0, metadata=doc("walking speed", "km/h", ge=0.1))

    def _check(self) -> list[tuple[str, str]]:
        return hours_overlap(self.hours)


@register_mechanism
class VolunteerService(Mechanism):
    """Volunteers on duty in every community on their days."""

    name = "volunteers"
    title = "volunteer service days (双报到)"
    Config = VolunteerServiceConfig
    metrics = ("volunteer_days", "volunteer_handled", "problems_per_volunteer_day")

    @classmethod
    def references(cls, cfg: VolunteerServiceConfig) -> References:
        refs = References()
        refs.category("governance.volunteers.categories", cfg.categories)
        return refs

    def hire(self, hiring: Hiring) -> None:
        v, terr = self.cfg, self.sim.territory
        for c in range(len(terr.communities)):
            grids = np.flatnonzero(terr.grid_community == c).tolist()
            hiring.add(grids, v.hours, v.per_community, v.categories, v.speed_kmh, "volunteer")

    @classmethod
    def measure(cls, run: RunView) -> dict[str, float]:
        """Volunteer days: (volunteer, day) pairs with on-duty time starting in the period."""
        tu = run.time_use
        vol = np.flatnonzero(run.workers["kind"].to_numpy() == "volunteer")
        on = tu[tu["worker"].isin(vol) & (tu["start"] >= run.warmup) & (tu["start"] < run.horizon)]
        days = len(set(zip(on["worker"].tolist(), (on["start"] // 24.0).astype(int).tolist())))
        handled = run.handled_by("volunteer")
        return {"volunteer_days": days, "volunteer_handled": handled,
                "problems_per_volunteer_day": handled / days if days else math.nan}
