"""Resident participation (居民参与度): how many residents report problems, and how fast.

Participation is a number in [0, 1] per community (:class:`~govsim.agents.participation.Participation`).
It scales the residents' report probability and delay; the categories' ``report``
settings are the values at the reference participation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from govsim.mechanisms.base import Mechanism, References, RunView, register_mechanism
from govsim.params import doc

if TYPE_CHECKING:
    from govsim.agents.participation import Participation


@dataclass(frozen=True)
class ParticipationConfig:
    """Resident participation (居民参与度, 0–1) per community: how many residents report
    problems through the app or hotline, and how fast."""

    level: float = field(default=0.3, metadata=doc("participation of every community not listed", ge=0, le=1))
    communities: dict[str, float] = field(
        default_factory=dict, metadata=doc("participation by community name", ge=0, le=1))
    reference: float = field(
        default=0.3, metadata=doc("participation at which the categories' report.prob and "
                                   "report.delay apply; report probability scales with "
                                   "participation / reference (capped at 1)", gt=0, le=1))
    delay_elasticity: float = field(
        default=1.0, metadata=doc("report delays scale with (reference / participation) to this power", ge=0))


@register_mechanism
class ResidentParticipation(Mechanism):
    """Sets participation by community; the residents' reports follow it."""

    name = "participation"
    title = "resident participation (居民参与)"
    Config = ParticipationConfig
    metrics = ("participation_end",)

    @classmethod
    def references(cls, cfg: ParticipationConfig) -> References:
        refs = References()
        refs.community("governance.participation.communities", cfg.communities)
        return refs

    def shape_participation(self, participation: Participation) -> None:
        cfg, terr = self.cfg, self.sim.territory
        participation.enabled = True
        participation.reference = cfg.reference
        participation.elasticity = cfg.delay_elasticity
        participation.before[:] = cfg.level
        for name, level in cfg.communities.items():
            participation.before[terr.grid_community == terr.communities.index(name)] = level
        participation.after = participation.before.copy()

    @classmethod
    def measure(cls, run: RunView) -> dict[str, float]:
        return {"participation_end": run.fact("participation_end")}
