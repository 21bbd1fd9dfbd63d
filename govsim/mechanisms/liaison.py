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
the issues (common random numbers); the earliest channel wins. The member tells
the grid directly, so a report chain (manual chain, hotline) is skipped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from govsim.issues import INF
from govsim.mechanisms.base import Mechanism, References, RunView, register_mechanism
from govsim.params import Duration, doc
from govsim.tables import Column

if TYPE_CHECKING:
    from govsim.engine import Simulation
    from govsim.rng import RandomStreams

MONTH_H = 30 * 24.0


@dataclass(frozen=True)
class LiaisonConfig:
    """Party-member liaison (党员联户): members keep in touch with linked households and pick
    up their problems during contacts — a discovery channel."""

    members_per_grid: float = field(
        default=10.0, metadata=doc("party members doing liaison work in each grid", ge=0))
    households_per_member: float = field(
        default=6.0, metadata=doc("households linked to each member (sources: 5–8; a party group "
                                   "of about three members links 18–20)", gt=0))
    contact_interval: Duration = field(
        default=7 * 24.0, metadata=doc("time between two contacts with a linked household", "h", gt=0))
    detect: float = field(
        default=0.7, metadata=doc("probability a contact picks up a hidden issue of the household",
                                   ge=0, le=1))
    categories: list[str] | None = field(
        default=None, metadata=doc("categories members pick up (default: all)"))


@register_mechanism
class PartyLiaison(Mechanism):
    """Linked households per grid and the liaison discovery times they give."""

    name = "liaison"
    title = "party-member liaison (党员联户)"
    Config = LiaisonConfig
    metrics = ("liaison_household_share", "liaison_contact_share", "liaison_found_share")
    pooling = {"liaison_household_share": "households", "liaison_contact_share": "households"}
    channel = "liaison"
    direct = True
    grid_columns = (Column("liaison_share", "float64", "share of its households linked to a party member "
                                                       "(党员联户); 0 without liaison"),)

    def __init__(self, sim: Simulation, cfg: LiaisonConfig) -> None:
        super().__init__(sim, cfg)
        hh = sim.territory.grid_households
        self._households = hh
        linked = cfg.members_per_grid * cfg.households_per_member
        self.linked_share = np.where(hh > 0, np.minimum(1.0, linked / np.where(hh > 0, hh, 1.0)), 0.0)
        self.categories = np.array([cfg.categories is None or c in cfg.categories
                                    for c in sim.categories.names])

    @classmethod
    def references(cls, cfg: LiaisonConfig) -> References:
        refs = References()
        refs.category("governance.liaison.categories", cfg.categories)
        return refs

    def discovery_times(self, c: int, name: str, t: np.ndarray, grid: np.ndarray,
                        streams: RandomStreams) -> np.ndarray | None:
        n = len(t)
        if not self.categories[c]:
            return np.full(n, INF)
        rng = streams.stream(f"liaison/{name}")
        linked = rng.random(n) < self.linked_share[grid]
        phase = rng.random(n)
        q = self.cfg.detect
        contacts = rng.geometric(q, n) if q > 0 else np.full(n, np.iinfo(np.int64).max)
        delay = (phase + contacts - 1) * self.cfg.contact_interval
        return np.where(linked & (q > 0), t + delay, INF)

    def household_share(self) -> float:
        """Share of the district's households linked to a member."""
        hh = self._households
        return float((self.linked_share * hh).sum() / hh.sum()) if hh.sum() > 0 else float("nan")

    def contacted_share(self) -> float:
        """Share of households contacted at least once in any 30-day month."""
        return self.household_share() * min(1.0, MONTH_H / self.cfg.contact_interval)

    def facts(self) -> dict[str, float]:
        return {"liaison_household_share": self.household_share(),
                "liaison_contact_share": self.contacted_share()}

    def grid_values(self) -> dict[str, np.ndarray]:
        return {"liaison_share": self.linked_share}

    @classmethod
    def measure(cls, run: RunView) -> dict[str, float]:
        df = run.issues
        return {
            "liaison_household_share": run.fact("liaison_household_share", 0.0),
            "liaison_contact_share": run.fact("liaison_contact_share", 0.0),
            "liaison_found_share": float((df["channel"] == "liaison").mean()) if len(df) else math.nan,
        }
