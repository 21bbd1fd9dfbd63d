"""Training of grid workers (secretary workshops, mentoring; 头雁工程, 培训): a random share of
the grid workers handle issues faster and settle more disputes at first contact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from govsim.mechanisms.base import Mechanism, register_mechanism
from govsim.params import doc

if TYPE_CHECKING:
    from govsim.agents.workers import GridWorker


@dataclass(frozen=True)
class TrainingConfig:
    """Training of grid workers (secretary workshops, mentoring; 头雁工程)."""

    share: float = field(default=1.0, metadata=doc("share of grid workers trained (chosen at random)", ge=0, le=1))
    speedup: float = field(
        default=1.25, metadata=doc("trained workers handle issues this many times faster", gt=0))
    on_spot_gain: float = field(
        default=0.3, metadata=doc("share of the gap to certainty closed in first-contact settlement "
                                  "of disputes: p → p + gain × (1 − p)", ge=0, le=1))


@register_mechanism
class WorkerTraining(Mechanism):
    """Trains a random share of the grid workers before the run."""

    name = "training"
    title = "worker training (培训)"
    Config = TrainingConfig

    def train(self, workers: list[GridWorker]) -> None:
        cfg = self.cfg
        trained = self.sim.streams.stream("training").random(len(workers)) < cfg.share
        for w, t in zip(workers, trained.tolist()):
            if t:
                w.trained = True
                w.skill = cfg.speedup
                w.on_spot_gain = cfg.on_spot_gain
