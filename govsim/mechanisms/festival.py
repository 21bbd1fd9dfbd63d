"""Neighbourhood festival (邻里节, Chaoyang): from a start time on, participation rises in the
communities that hold it and some categories (neighbour disputes) arise less often.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from govsim.agents.participation import RateChange, community_grids
from govsim.mechanisms.base import Mechanism, References, check_multipliers, register_mechanism
from govsim.params import Duration, doc

if TYPE_CHECKING:
    from govsim.agents.participation import Participation


@dataclass(frozen=True)
class FestivalConfig:
    """Neighbourhood festival (邻里节, Chaoyang): raises participation and lowers the rates of
    neighbour disputes from a start time on."""

    communities: list[str] | None = field(
        default=None, metadata=doc("communities that hold it (default: all)"))
    start: Duration = field(default=0.0, metadata=doc("time from which it has its effect", "h", ge=0))
    participation: float = field(
        default=0.7, metadata=doc("participation in those communities from then on", ge=0, le=1))
    rate_multipliers: dict[str, float] = field(
        default_factory=dict, metadata=doc("rate multiplier per category from then on (≤ 1)"))

    def _check(self) -> list[tuple[str, str]]:
        return check_multipliers(self.rate_multipliers)


@register_mechanism
class NeighbourhoodFestival(Mechanism):
    """Participation up and fewer disputes in the festival's communities, from ``start`` on."""

    name = "festival"
    title = "neighbourhood festival (邻里节)"
    Config = FestivalConfig

    @classmethod
    def references(cls, cfg: FestivalConfig) -> References:
        refs = References()
        refs.community("governance.festival.communities", cfg.communities)
        refs.category("governance.festival.rate_multipliers", cfg.rate_multipliers)
        return refs

    def _grids(self) -> np.ndarray:
        return community_grids(self.sim.territory, self.cfg.communities, "governance.festival.communities")

    def shape_participation(self, participation: Participation) -> None:
        participation.enabled = True
        participation.after[self._grids()] = self.cfg.participation
        participation.start = self.cfg.start

    def rate_changes(self) -> list[RateChange]:
        cat = {name: i for i, name in enumerate(self.sim.categories.names)}
        mask = self._grids()
        return [RateChange(cat[c], mask, self.cfg.start, m, "festival")
                for c, m in self.cfg.rate_multipliers.items()]
