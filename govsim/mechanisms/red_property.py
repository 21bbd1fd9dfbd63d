"""Red property (红色物业): a party-led non-profit property company takes over compounds
without a property manager (无主庭院); fewer problems arise there (rate multipliers) and its
staff handle them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from govsim.agents.participation import RateChange
from govsim.mechanisms.base import Mechanism, References, RunView, check_multipliers, register_mechanism
from govsim.params import HoursConfig, doc, hours_overlap

if TYPE_CHECKING:
    from govsim.agents.responders import Hiring


@dataclass(frozen=True)
class RedPropertyConfig:
    """Red property (红色物业): a party-led non-profit property company takes over compounds
    without a property manager; fewer problems arise and its staff handle them."""

    area_types: list[str] = field(
        default_factory=lambda: ["unowned_courtyard"], metadata=doc("area types it takes over"))
    grid_ids: list[int] | None = field(
        default=None, metadata=doc("grids it takes over (instead of area_types)"))
    rate_multipliers: dict[str, float] = field(
        default_factory=dict, metadata=doc("rate multiplier per category in those grids (≤ 1; "
                                           "complaints −60% → 0.4)"))
    staff_per_grid: int = field(default=1, metadata=doc("property staff on duty per grid", ge=0, le=1_000))
    hours: list[HoursConfig] = field(
        default_factory=lambda: [HoursConfig(start=8.0, end=18.0)], metadata=doc("staff working hours"))
    categories: list[str] | None = field(
        default=None, metadata=doc("categories the staff handle (default: those in rate_multipliers)"))

    def _check(self) -> list[tuple[str, str]]:
        return check_multipliers(self.rate_multipliers) + hours_overlap(self.hours)

    def staff_categories(self) -> list[str]:
        return list(self.rate_multipliers) if self.categories is None else list(self.categories)


@register_mechanism
class RedProperty(Mechanism):
    """Takes over grids (by area type or id): lower rates there, and property staff."""

    name = "red_property"
    title = "red property (红色物业)"
    Config = RedPropertyConfig
    metrics = ("handled_by_property_staff",)

    @classmethod
    def references(cls, cfg: RedPropertyConfig) -> References:
        refs = References()
        refs.category("governance.red_property.rate_multipliers", cfg.rate_multipliers)
        refs.category("governance.red_property.categories", cfg.categories)
        if cfg.grid_ids is not None:
            refs.grid_ids += [("governance.red_property.grid_ids", g) for g in cfg.grid_ids]
        else:
            refs.area_types += [(f"governance.red_property.area_types[{i}]", a)
                                for i, a in enumerate(cfg.area_types)]
        return refs

    def grids(self) -> np.ndarray:
        """Boolean mask of the grids red property takes over."""
        terr = self.sim.territory
        mask = np.zeros(terr.n_grids, dtype=bool)
        if self.cfg.grid_ids is not None:
            mask[self.cfg.grid_ids] = True
            return mask
        for area in self.cfg.area_types:
            mask |= terr.grid_area == terr.area_types.index(area)
        return mask

    def rate_changes(self) -> list[RateChange]:
        cat = {name: i for i, name in enumerate(self.sim.categories.names)}
        mask = self.grids()
        return [RateChange(cat[c], mask, 0.0, m, "red_property") for c, m in self.cfg.rate_multipliers.items()]

    def hire(self, hiring: Hiring) -> None:
        rp = self.cfg
        if rp.staff_per_grid == 0:
            return
        for g in np.flatnonzero(self.grids()).tolist():
            hiring.add([g], rp.hours, rp.staff_per_grid, rp.staff_categories(), 4.0, "property_staff")

    @classmethod
    def measure(cls, run: RunView) -> dict[str, float]:
        return {"handled_by_property_staff": run.handled_by("property_staff")}
