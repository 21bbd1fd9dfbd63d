"""The dispatch policy interface (派单策略) and its registry.

A policy is a small class that answers two questions:

* :meth:`DispatchPolicy.on_discovered` — an issue has just become known (found by
  a patrolling worker, reported by residents, raised by a sensor): who takes it,
  and after what delay?
* :meth:`DispatchPolicy.worker_free` — a worker has nothing in hand: what should
  it take next (or nothing: it patrols)?

It acts through the :class:`~govsim.policies.board.WorkBoard` (``assign``,
``enqueue``, ``nearest_free``, ``best_waiting``) and the simulation's clock
(``sim.after``). Parameters are a frozen dataclass, ``Params``, validated from
the scenario's ``policies.<name>`` mapping like every other part of the file.
Register a new policy with :func:`register_policy`; no engine code changes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

if TYPE_CHECKING:
    from govsim.agents.workers import GridWorker
    from govsim.engine import Simulation
    from govsim.issues import Issue


@dataclass(frozen=True)
class NoParams:
    """A policy without parameters."""


class DispatchPolicy(ABC):
    """Decides who handles what, and when."""

    name: ClassVar[str] = ""
    Params: ClassVar[type] = NoParams

    def __init__(self, sim: Simulation, params: Any) -> None:
        self.sim = sim
        self.board = sim.board
        self.params = params

    @abstractmethod
    def on_discovered(self, issue: Issue, channel: str, finder: GridWorker | None) -> None:
        """``issue`` just became known through ``channel``; ``finder`` is the worker who
        saw it on patrol (None for reports and alarms)."""

    @abstractmethod
    def worker_free(self, worker: GridWorker) -> None:
        """``worker`` has nothing in hand; assign it waiting work or leave it to patrol."""


P = TypeVar("P", bound=type[DispatchPolicy])
POLICIES: dict[str, type[DispatchPolicy]] = {}


def register_policy(cls: P) -> P:
    """Class decorator: make ``cls`` available as ``policy: <cls.name>`` in scenarios."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} needs a non-empty class attribute 'name'")
    POLICIES[cls.name] = cls
    return cls
