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
    """Participation by grid over time, and the report factors it implies.

    Without a mechanism that models it, participation is the reference level
    everywhere and changes nothing (``enabled`` is False); mechanisms set it through
    :meth:`~govsim.mechanisms.Mechanism.shape_participation`."""

    def __init__(self, territory: Territory, reference: float = 0.3) -> None:
        self.enabled = False
        self.reference = reference
        self.elasticity = 1.0
        self.before = np.full(territory.n_grids, reference)  # participation until ``start``
        self.after = self.before.copy()  # … and from ``start`` on
        self.start = np.inf
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
        with np.errstate(divide="ignore", over="ignore"):  # a vanishing participation: never reported
            delay = np.where(p > 0, (self.reference / np.where(p > 0, p, 1.0)) ** self.elasticity, np.inf)
        return prob, delay

    def mean(self, t: float) -> float:
        """Household-weighted mean participation at time ``t`` (NaN when not modelled)."""
        if not self.enabled:
            return float("nan")
        p = self.at(np.arange(len(self.before)), t)
        w = self._households
        return float((p * w).sum() / w.sum()) if w.sum() > 0 else float(p.mean())


def keep_probability(changes: list[RateChange], category: int, grid: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Probability that an issue of ``category`` at ``grid``, ``t`` arises (product of multipliers)."""
    keep = np.ones(len(grid))
    for ch in changes:
        if ch.category == category:
            keep *= np.where(ch.grids[grid] & (t >= ch.start), ch.multiplier, 1.0)
    return keep
