"""The governance mechanism interface (治理机制) and its registry.

A mechanism is one optional section of a scenario's ``governance:`` mapping
(``governance.liaison``, ``governance.councils``…). Like a dispatch policy it is a
small class registered by name; the engine asks the registry for the mechanisms
a scenario turns on and calls their hooks at fixed points of a run, in
registration order. A mechanism overrides only the hooks it needs:

=====================  =========================================================
at load time           :meth:`Mechanism.references` (names it refers to, checked
                       against the scenario) and :meth:`Mechanism.check`
building the district  :meth:`~Mechanism.shape_participation`,
                       :meth:`~Mechanism.rate_changes` (thinning arrivals),
                       :meth:`~Mechanism.takes_categories` (off the work board),
                       :meth:`~Mechanism.train` (grid workers),
                       :meth:`~Mechanism.hire` (responders who do not patrol),
                       :meth:`~Mechanism.discovery_times` (a discovery channel),
                       :meth:`~Mechanism.start` (its SimPy processes)
while the clock runs   :meth:`~Mechanism.take` (an issue is handed over to it)
after the run          :meth:`~Mechanism.facts` (stored in ``run.json``),
                       :meth:`~Mechanism.grid_values` (columns of the grids
                       table), :meth:`~Mechanism.table_rows` (its own tables),
                       and, for every registered mechanism whether on or off,
                       :meth:`~Mechanism.measure` (its summary metrics)
=====================  =========================================================

Register a new mechanism with :func:`register_mechanism`; no engine, policy,
result or metrics code changes (``docs/mechanisms.md``).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import numpy as np
import pandas as pd

from govsim.issues import Status

if TYPE_CHECKING:
    from govsim.agents.participation import Participation, RateChange
    from govsim.agents.responders import Hiring
    from govsim.agents.workers import GridWorker
    from govsim.engine import Simulation
    from govsim.issues import Issue
    from govsim.rng import RandomStreams
    from govsim.scenario.schema import Scenario
    from govsim.tables import Column, TableSpec


@dataclass
class References:
    """Names a mechanism's settings refer to, each with its field path (``governance.…``):
    checked against the scenario when it is loaded, so ``govsim validate`` catches them."""

    categories: list[tuple[str, str]] = field(default_factory=list)
    communities: list[tuple[str, str]] = field(default_factory=list)
    area_types: list[tuple[str, str]] = field(default_factory=list)
    grid_ids: list[tuple[str, int]] = field(default_factory=list)

    def category(self, path: str, names: Collection[str] | Mapping[str, Any] | None) -> None:
        """Add the category names of a list (``path[i]``) or of a mapping's keys (``path.name``)."""
        self.categories += _named(path, names)

    def community(self, path: str, names: Collection[str] | Mapping[str, Any] | None) -> None:
        self.communities += _named(path, names)


def check_multipliers(rates: Mapping[str, float], key: str = "rate_multipliers") -> list[tuple[str, str]]:
    """Problems with rate multipliers of an intervention: each must be in [0, 1]."""
    return [(f"{key}.{c}", f"expected a multiplier in [0, 1] (interventions lower rates), got {m}")
            for c, m in rates.items() if not 0.0 <= m <= 1.0]


def _named(path: str, names: Collection[str] | Mapping[str, Any] | None) -> list[tuple[str, str]]:
    if not names:
        return []
    if isinstance(names, Mapping):
        return [(f"{path}.{n}", n) for n in names]
    return [(f"{path}[{i}]", n) for i, n in enumerate(names)]


class RunView:
    """What :meth:`Mechanism.measure` sees of a finished run: its tables, the mechanisms'
    facts, and the measured period ``[warmup, horizon)``."""

    def __init__(self, issues: pd.DataFrame, workers: pd.DataFrame, time_use: pd.DataFrame,
                 tables: Mapping[str, pd.DataFrame], facts: Mapping[str, float], warmup: float,
                 horizon: float) -> None:
        self.all_issues = issues
        self.workers = workers
        self.time_use = time_use
        self.tables = tables
        self.facts = facts
        self.warmup = warmup
        self.horizon = horizon

    @cached_property
    def issues(self) -> pd.DataFrame:
        """The issues created at or after the warm-up."""
        from govsim.metrics import after_warmup

        return after_warmup(self.all_issues, self.warmup)

    @cached_property
    def handled_by_kind(self) -> pd.Series:
        """Issues resolved by a worker, counted by the worker's ``kind``."""
        df = self.issues
        kind = self.workers["kind"].to_numpy()
        handler = df["handler"].to_numpy()
        handled = (df["status"] == Status.RESOLVED).to_numpy() & (handler >= 0)
        return pd.Series(kind[handler[handled]]).value_counts()

    def handled_by(self, kind: str) -> int:
        """Issues created in the measured period and resolved by workers of ``kind``."""
        return int(self.handled_by_kind.get(kind, 0))

    def fact(self, name: str, default: float = math.nan) -> float:
        return float(self.facts.get(name, default))


class Mechanism:
    """A governance mechanism: a ``governance.<name>`` section and the hooks it takes part through.

    ``Config`` is a frozen dataclass validated from the section like every other part
    of a scenario file (bounds in field metadata, cross-field checks in ``_check``).
    An instance exists only in a run whose scenario has the section; ``metrics``,
    ``grid_columns``, ``tables`` and :meth:`measure` belong to the class and are
    present in every run (0 or NaN when the mechanism is off).
    """

    #: key under ``governance:``
    name: ClassVar[str] = ""
    #: what it is, with the Chinese term: the section's documentation
    title: ClassVar[str] = ""
    Config: ClassVar[type] = type(None)
    #: summary metrics it contributes (in this order, after the core metrics)
    metrics: ClassVar[tuple[str, ...]] = ()
    #: a discovery channel (发现渠道) it adds, e.g. ``"liaison"``
    channel: ClassVar[str | None] = None
    #: its channel tells the grid directly, skipping a policy's report chain
    direct: ClassVar[bool] = False
    #: columns it adds to the ``grids`` table (0 in every grid when it is off)
    grid_columns: ClassVar[tuple[Column, ...]] = ()
    #: tables of its own in a Result (``Result.tables[name]``, ``to_dir``/``from_dir``)
    tables: ClassVar[tuple[TableSpec, ...]] = ()
    #: how each of its :meth:`facts` pools over the districts of a city (``govsim.city``):
    #: ``"households"`` (a share of households: the household-weighted mean, a district
    #: where the mechanism is off counting 0, one that reports NaN left out) or ``"sum"``;
    #: a fact not listed is NaN in the city's summary (each district's own summary keeps it)
    pooling: ClassVar[dict[str, str]] = {}

    def __init__(self, sim: Simulation, cfg: Any) -> None:
        self.sim = sim
        self.cfg = cfg

    # --- load time ---------------------------------------------------------------------
    @classmethod
    def references(cls, cfg: Any) -> References:
        """The categories, communities, area types and grid ids that ``cfg`` names."""
        return References()

    @classmethod
    def check(cls, cfg: Any, scenario: Scenario) -> list[tuple[str, str]]:
        """Cross-section checks beyond :meth:`references`: ``(field path, message)`` pairs."""
        return []

    # --- building the district ---------------------------------------------------------
    def shape_participation(self, participation: Participation) -> None:
        """Set residents' participation (居民参与度) by grid, before or from some time on."""

    def rate_changes(self) -> list[RateChange]:
        """Interventions that prevent problems: rate multipliers applied by thinning arrivals."""
        return []

    def takes_categories(self) -> Collection[str]:
        """Categories this mechanism takes off the work board (no worker is skilled for them)."""
        return ()

    def train(self, workers: list[GridWorker]) -> None:
        """Change the grid workers (skills, speed) before the run."""

    def hire(self, hiring: Hiring) -> None:
        """Add responders who do not patrol (``hiring.add(...)``)."""

    def discovery_times(self, c: int, name: str, t: np.ndarray, grid: np.ndarray,
                        streams: RandomStreams) -> np.ndarray | None:
        """When this mechanism's :attr:`channel` finds each new issue of category ``c``
        created at ``t`` in ``grid`` (inf: never); None: not for this category."""
        return None

    def start(self) -> None:
        """Start its SimPy processes (called once the district is built)."""

    # --- while the clock runs --------------------------------------------------------
    def take(self, issue: Issue) -> bool:
        """Offered ``issue`` once it is classified: take it over (True) or leave it (False)."""
        return False

    # --- after the run ---------------------------------------------------------------
    def facts(self) -> dict[str, float]:
        """Numbers about the run kept in ``Result.governance`` and ``run.json``."""
        return {}

    def grid_values(self) -> dict[str, np.ndarray]:
        """Values of :attr:`grid_columns`, one per grid."""
        return {}

    def table_rows(self) -> dict[str, pd.DataFrame]:
        """Its :attr:`tables`, built once at the end of the run."""
        return {}

    @classmethod
    def measure(cls, run: RunView) -> dict[str, float]:
        """Values of :attr:`metrics` (all of them, also when the mechanism is off)."""
        return {}


M = TypeVar("M", bound=type[Mechanism])
MECHANISMS: dict[str, type[Mechanism]] = {}


def register_mechanism(cls: M) -> M:
    """Class decorator: make ``cls`` available as ``governance.<cls.name>`` in scenarios.

    Its metrics must not clash with those of the core or of other mechanisms, nor its
    tables with other tables. Registering a class again under the same name replaces it.
    """
    if not cls.name:
        raise ValueError(f"{cls.__name__} needs a non-empty class attribute 'name'")
    from govsim.metrics import CORE_KEYS, TAIL_KEYS

    others = [m for n, m in MECHANISMS.items() if n != cls.name]
    taken = set(CORE_KEYS) | set(TAIL_KEYS) | {k for m in others for k in m.metrics}
    clash = sorted(taken & set(cls.metrics))
    if clash:
        raise ValueError(f"mechanism {cls.name!r}: metric names already in use: {', '.join(clash)}")
    tables = {t.name for m in others for t in m.tables}
    clash = sorted(tables & {t.name for t in cls.tables})
    if clash:
        raise ValueError(f"mechanism {cls.name!r}: table names already in use: {', '.join(clash)}")
    MECHANISMS[cls.name] = cls
    return cls


def unregister_mechanism(name: str) -> None:
    """Remove a mechanism registered by study code (for tests and notebooks)."""
    MECHANISMS.pop(name, None)
