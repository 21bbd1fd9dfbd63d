"""Resident participation (居民参与) and interventions that change how often problems arise.

Participation is a number in [0, 1] per community. It scales the residents'
report probability (``participation / reference``, capped at 1) and their report
delay (``(reference / participation) ** delay_elasticity``); the categories'
``report`` settings are the values at the reference participation. A
neighbourhood festival (邻里节) sets a community's participation from a start
time on.

Interventions that prevent problems (the festival for neighbour disputes, red
property for complaints, an alliance's shared parking) multiply the rate of a
category in some grids from some time on. They are applied by *thinning*: the
issues are drawn at the full rate and each is kept with probability equal to
the product of the multipliers at its time and grid. With the same seed, a run
with the intervention sees a subset of the issues of the run without it (common
random numbers), so a paired comparison measures the intervention and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from govsim.scenario.errors import ScenarioError

if TYPE_CHECKING:
    from govsim.scenario.schema import Scenario
    from govsim.territory import Territory


def community_grids(territory: Territory, names: Iterable[str] | None, path: str) -> np.ndarray:
    """Boolean mask of the grids of the named communities (None: every grid)."""
    if names is None:
        return np.ones(territory.n_grids, dtype=bool)
    index = {c: i for i, c in enumerate(territory.communities)}
    wanted = []
    for i, name in enumerate(names):
        if name not in index:
            from govsim.scenario.schema import _unknown_name

            raise ScenarioError.single(f"{path}[{i}]", _unknown_name(name, territory.communities, "community"))
        wanted.append(index[name])
    return np.isin(territory.grid_community, wanted)


@dataclass(frozen=True)
class RateChange:
    """From ``start`` on, category ``category`` arises ``multiplier`` times as often in ``grids``."""

    category: int
    grids: np.ndarray  # boolean mask by grid
    start: float
    multiplier: float
    label: str


class Participation:
    """Participation by grid over time, and the report factors it implies."""

    def __init__(self, scenario: Scenario, territory: Territory) -> None:
        gov = scenario.governance
        cfg, festival = gov.participation, gov.festival
        self.enabled = cfg is not None or festival is not None
        self.reference = cfg.reference if cfg is not None else 0.3
        self.elasticity = cfg.delay_elasticity if cfg is not None else 1.0
        base = np.full(territory.n_grids, cfg.level if cfg is not None else self.reference)
        if cfg is not None:
            for name, level in cfg.communities.items():
                if name not in territory.communities:
                    from govsim.scenario.schema import _unknown_name

                    raise ScenarioError.single(f"governance.participation.communities.{name}",
                                               _unknown_name(name, territory.communities, "community"))
                base[territory.grid_community == territory.communities.index(name)] = level
        self.before = base
        self.after = base.copy()
        self.start = np.inf
        if festival is not None:
            mask = community_grids(territory, festival.communities, "governance.festival.communities")
            self.after[mask] = festival.participation
            self.start = festival.start
        self._households = territory.grid_households

    def at(self, grid: np.ndarray | int, t: np.ndarray | float) -> np.ndarray:
        """Participation in ``grid`` at time ``t`` (vectorised)."""
        return np.where(np.asarray(t) >= self.start, self.after[grid], self.before[grid])

    def report_factors(self, grid: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Multipliers on report probability and report delay of issues at ``grid``, ``t``."""
        if not self.enabled:
            ones = np.ones(len(grid))
            return ones, ones
        p = self.at(grid, t)
        prob = p / self.reference
        with np.errstate(divide="ignore"):
            delay = np.where(p > 0, (self.reference / np.where(p > 0, p, 1.0)) ** self.elasticity, np.inf)
        return prob, delay

    def mean(self, t: float) -> float:
        """Household-weighted mean participation at time ``t`` (NaN when not modelled)."""
        if not self.enabled:
            return float("nan")
        p = self.at(np.arange(len(self.before)), t)
        w = self._households
        return float((p * w).sum() / w.sum()) if w.sum() > 0 else float(p.mean())


def rate_changes(scenario: Scenario, territory: Territory, category_names: list[str]) -> list[RateChange]:
    """The rate changes of every intervention of the scenario."""
    gov = scenario.governance
    cat = {name: i for i, name in enumerate(category_names)}
    changes: list[RateChange] = []
    if gov.festival is not None:
        mask = community_grids(territory, gov.festival.communities, "governance.festival.communities")
        changes += [RateChange(cat[c], mask, gov.festival.start, m, "festival")
                    for c, m in gov.festival.rate_multipliers.items()]
    if gov.red_property is not None:
        mask = red_property_grids(scenario, territory)
        changes += [RateChange(cat[c], mask, 0.0, m, "red_property")
                    for c, m in gov.red_property.rate_multipliers.items()]
    if gov.alliance is not None:
        for i, unit in enumerate(gov.alliance.units):
            mask = community_grids(territory, unit.communities, f"governance.alliance.units[{i}].communities")
            changes += [RateChange(cat[c], mask, 0.0, m, f"alliance:{unit.name}")
                        for c, m in unit.rate_multipliers.items()]
    return changes


def keep_probability(changes: list[RateChange], category: int, grid: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Probability that an issue of ``category`` at ``grid``, ``t`` arises (product of multipliers)."""
    keep = np.ones(len(grid))
    for ch in changes:
        if ch.category == category:
            keep *= np.where(ch.grids[grid] & (t >= ch.start), ch.multiplier, 1.0)
    return keep


def red_property_grids(scenario: Scenario, territory: Territory) -> np.ndarray:
    """Boolean mask of the grids red property takes over."""
    cfg = scenario.governance.red_property
    mask = np.zeros(territory.n_grids, dtype=bool)
    if cfg is None:
        return mask
    if cfg.grid_ids is not None:
        bad = [g for g in cfg.grid_ids if not 0 <= g < territory.n_grids]
        if bad:
            raise ScenarioError.single("governance.red_property.grid_ids",
                                       f"no such grid {bad[0]} (the district has grids 0..{territory.n_grids - 1})")
        mask[cfg.grid_ids] = True
        return mask
    for i, area in enumerate(cfg.area_types):
        if area not in territory.area_types:
            from govsim.scenario.schema import _unknown_name

            raise ScenarioError.single(f"governance.red_property.area_types[{i}]",
                                       _unknown_name(area, territory.area_types, "area type"))
        mask |= territory.grid_area == territory.area_types.index(area)
    return mask
