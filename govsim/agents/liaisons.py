"""Party-member liaison (党员联户): members pick up linked households' problems during contacts.

Each grid has ``members_per_grid`` members, each linked to ``households_per_member``
households, so a share ``min(1, members × households_per_member / households)``
of the grid's households is linked. A linked household is contacted every
``contact_interval`` hours (its own phase, uniform), and each contact picks up
a hidden problem with probability ``detect``. An issue belongs to a linked
household with probability equal to that share. The first contact after the
issue arises comes ``U × T`` later (U uniform), and the number of contacts until
detection is geometric, so the liaison delay is ``(U + K − 1) × T`` with mean
``T (1/2 + (1 − q)/q)`` — the same law as a periodic patrol. Delays are drawn with
the issues (common random numbers); the earliest channel wins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from govsim.issues import INF

if TYPE_CHECKING:
    from govsim.rng import RandomStreams
    from govsim.scenario.governance import LiaisonConfig
    from govsim.territory import Territory

MONTH_H = 30 * 24.0


class PartyLiaison:
    """Linked households per grid and the liaison discovery times they give."""

    def __init__(self, cfg: LiaisonConfig | None, territory: Territory, category_names: list[str]) -> None:
        self.cfg = cfg
        hh = territory.grid_households
        self._households = hh
        if cfg is None:
            self.linked_share = np.zeros(territory.n_grids)
            self.categories = np.zeros(len(category_names), dtype=bool)
            return
        linked = cfg.members_per_grid * cfg.households_per_member
        self.linked_share = np.where(hh > 0, np.minimum(1.0, linked / np.where(hh > 0, hh, 1.0)), 0.0)
        self.categories = np.array([cfg.categories is None or c in cfg.categories for c in category_names])

    @property
    def enabled(self) -> bool:
        return self.cfg is not None

    def discovery_times(self, c: int, name: str, t: np.ndarray, grid: np.ndarray,
                        streams: RandomStreams) -> np.ndarray:
        """When liaison contacts find each issue of category ``c`` (INF: never)."""
        n = len(t)
        if self.cfg is None or not self.categories[c]:
            return np.full(n, INF)
        rng = streams.stream(f"liaison/{name}")
        linked = rng.random(n) < self.linked_share[grid]
        phase = rng.random(n)
        q = self.cfg.detect
        contacts = rng.geometric(q, n) if q > 0 else np.full(n, np.iinfo(np.int64).max)
        delay = (phase + contacts - 1) * self.cfg.contact_interval
        return np.where(linked & (q > 0), t + delay, INF)

    def household_share(self) -> float:
        """Share of the district's households linked to a member (0 when off)."""
        if self.cfg is None:
            return 0.0
        hh = self._households
        return float((self.linked_share * hh).sum() / hh.sum()) if hh.sum() > 0 else float("nan")

    def contacted_share(self) -> float:
        """Share of households contacted at least once in any 30-day month (0 when off)."""
        if self.cfg is None:
            return 0.0
        return self.household_share() * min(1.0, MONTH_H / self.cfg.contact_interval)
