"""The dispatch policy interface (派单策略) and its registry.

A policy is a small class that answers two questions:

* where an issue that has just become known goes (found by a patrolling worker,
  reported by residents, raised by a sensor, picked up by a party member): the
  base class lets the worker who found it handle it when it can, and otherwise
  calls the policy's :meth:`DispatchPolicy.route`;
* :meth:`DispatchPolicy.worker_free` — a worker has nothing in hand: what should
  it take next (or nothing: it patrols)?

It acts through the :class:`~govsim.policies.board.WorkBoard` (``assign``,
``enqueue``, ``nearest_free``, ``best_waiting``), the simulation's clock
(``sim.after``) and :meth:`DispatchPolicy.send`, the common last step (hand
over, else the nearest free worker, else the queue). Parameters are a frozen
dataclass, ``Params``, validated from the scenario's ``policies.<name>`` mapping
like every other part of the file. Register a new policy with
:func:`register_policy`; no engine code changes.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from mypy_extensions import mypyc_attr

from govsim.issues import Status

if TYPE_CHECKING:
    from govsim.agents.workers import GridWorker
    from govsim.engine import Simulation
    from govsim.issues import Issue


@mypyc_attr(native_class=False)  # a plain Python class in the compiled build too (pickled to workers)
@dataclass(frozen=True)
class NoParams:
    """A policy without parameters."""


ParamsT = TypeVar("ParamsT")  # a policy's parameters (its Params dataclass)


@mypyc_attr(allow_interpreted_subclasses=True)  # a study's own policy, compiled build too
class DispatchPolicy(ABC, Generic[ParamsT]):
    """Decides who handles what, and when."""

    name: ClassVar[str] = ""
    Params: ClassVar[type] = NoParams

    def __init__(self, sim: Simulation, params: ParamsT) -> None:
        self.sim = sim
        self.board = sim.board
        self.params: ParamsT = params

    def on_discovered(self, issue: Issue, channel: str, finder: GridWorker | None) -> None:
        """``issue`` just became known through ``channel``; ``finder`` is the worker who
        saw it on patrol (None for reports, alarms and other channels). The finder handles
        it if it can; otherwise it is :meth:`route`\\ d."""
        if finder is not None and finder.can_handle(issue):
            self.board.assign(issue, finder)
        else:
            self.route(issue, channel)

    def route(self, issue: Issue, channel: str) -> None:
        """Where a known issue goes when its finder (if any) cannot handle it: through the
        policy's report chain, then usually :meth:`send`. ``self.direct(channel)`` says
        whether the channel tells the grid directly and skips the chain."""
        raise NotImplementedError(f"policy {self.name!r} must implement route() or on_discovered()")

    def direct(self, channel: str) -> bool:
        """True if ``channel`` tells the grid directly (a party member's liaison), so a report
        chain such as the hotline is skipped."""
        return channel in self.sim.direct_channels

    def send(self, issue: Issue, radius_m: float = math.inf, own_grid_only: bool = False) -> None:
        """The last step of a route: if ``issue`` is still waiting for a decision (it may have
        lapsed on the way), hand it over (council, department) or assign the nearest free
        qualified worker within ``radius_m`` (of its own grid only, if asked), else queue it."""
        if issue.status is not Status.REPORTED:
            return
        if self.sim.hand_over(issue):
            return
        worker = self.board.nearest_free(issue, radius_m, own_grid_only=own_grid_only)
        if worker is not None:
            self.board.assign(issue, worker)
        else:
            self.board.enqueue(issue)

    @abstractmethod
    def worker_free(self, worker: GridWorker) -> None:
        """``worker`` has nothing in hand; assign it waiting work or leave it to patrol."""


P = TypeVar("P", bound=type[DispatchPolicy[Any]])
POLICIES: dict[str, type[DispatchPolicy]] = {}


def register_policy(cls: P) -> P:
    """Class decorator: make ``cls`` available as ``policy: <cls.name>`` in scenarios."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} needs a non-empty class attribute 'name'")
    POLICIES[cls.name] = cls
    return cls
