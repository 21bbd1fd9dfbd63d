"""Limits (限额) on the size of a study: what a scenario may ask for before it is refused.

A scenario that would not fit in memory or time, or that holds a value no study can
mean (a walking speed of 4,000 km/h, a duration of a billion weeks, 10^40 issues per
household), is refused when it is read, with the limit in the message, never with a
``MemoryError`` or a numpy error an hour into the run.

The limits are generous defaults (a city of 20,000 grids over a year fits with a wide
margin); a genuinely huge study raises them **in its scenario file**, so that the
file says what it needs and runs the same on every machine::

    limits:
      grids: 1000000       # grids in the district
      issues: 50000000     # expected issues in one run

or for one run, ``--set limits.issues=5e7``. See ``docs/reliability.md``.

The limit on durations applies while a file is being read (every duration,
including those inside distributions, policies' and mechanisms' parameters); the
loader activates the scenario's limits with :func:`using`. The others are checked by
:func:`check_scenario` (at load) and by the grids CSV reader (when the district is
built).
"""

from __future__ import annotations

import contextlib
import contextvars
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from govsim.params import Duration
from govsim.params import doc as _doc

if TYPE_CHECKING:
    from govsim.scenario.errors import Problem
    from govsim.scenario.schema import GridRow, Scenario

__all__ = ["Limits", "DEFAULT", "current", "using", "exceeds", "check_scenario", "estimate"]

#: Nesting depth of a scenario document (mappings and lists); not a study-size limit.
MAX_DEPTH = 64
#: Characters of a scenario file (50 MB: a district of 100,000 grids written inline fits).
MAX_DOCUMENT_CHARS = 50_000_000
#: Largest coordinate (x or y, metres) of a grid centre, a patrol point or a map vertex:
#: 100,000 km, beyond any projected coordinate system (UTM northings are below 10^7 m).
MAX_COORDINATE_M = 100_000_000
#: Characters of a map file (``territory.map_geojson``): a city's grids with detailed outlines fit.
MAX_MAP_CHARS = 500_000_000


@dataclass(frozen=True)
class Limits:
    """Limits on the size of a study (raise them for a genuinely huge one; docs/reliability.md)."""

    grids: int = field(default=200_000, metadata=_doc("most grids in the district", gt=0))
    points_per_grid: int = field(default=10_000, metadata=_doc("most patrol points in one grid", gt=0))
    points: int = field(default=5_000_000, metadata=_doc("most patrol points in the district", gt=0))
    workers: int = field(default=200_000, metadata=_doc("most grid workers (all shifts)", gt=0))
    issues: float = field(
        default=10_000_000,
        metadata=_doc("most issues expected in one run (Σ rate × households / 1000 × days, and false alarms)",
                      gt=0),
    )
    households: float = field(default=1_000_000, metadata=_doc("most households in one grid", gt=0))
    rate: float = field(default=10_000, metadata=_doc("largest category rate", "1/(1000 hh·d)", gt=0))
    multiplier: float = field(
        default=1_000, metadata=_doc("largest rate multiplier (area_multipliers, rate_multipliers, "
                                     "point_weight)", gt=0),
    )
    speed_kmh: float = field(default=200.0, metadata=_doc("fastest travel speed", "km/h", gt=0))
    duration: Duration = field(
        default=520 * 7 * 24.0,
        metadata=_doc("longest duration anywhere in the file (the horizon, a handling time, "
                      "a distribution's mean or sd)", "h", gt=0),
    )


DEFAULT = Limits()
_ACTIVE: contextvars.ContextVar[Limits] = contextvars.ContextVar("govsim_limits", default=DEFAULT)


def current() -> Limits:
    """The limits in force (the scenario's while it is being read; else the defaults)."""
    return _ACTIVE.get()


@contextlib.contextmanager
def using(limits: Limits | None) -> Iterator[Limits]:
    """Put ``limits`` in force for the block (``None``: the defaults)."""
    token = _ACTIVE.set(limits or DEFAULT)
    try:
        yield limits or DEFAULT
    finally:
        _ACTIVE.reset(token)


def _show(x: float | str) -> str:
    if isinstance(x, str):
        return x
    x = float(x)
    if x.is_integer() and abs(x) < 1e15:
        return f"{int(x):,}".replace(",", "_") if abs(x) >= 100_000 else str(int(x))
    return f"{x:.6g}"


_HOW = ("a study that really needs more can raise it in the scenario (limits: {{{name}: ...}}, "
        "or --set limits.{name}=...; see docs/reliability.md)")


def exceeds(name: str, value: Any, limit: float | str, what: str = "") -> str:
    """The message for ``value`` over limit ``name``: the limit, and how to raise it.

    Without ``what``: ``expected at most 200 (limits.speed_kmh), got 4000; ...``; with it
    (a derived quantity): ``<what> <value>, over limits.<name> = <limit>; ...``.
    """
    if isinstance(value, str):
        shown = value
    elif isinstance(value, int) and abs(value) >= 10**15:
        shown = f"about 10^{len(str(abs(value))) - 1}"  # maybe too large for a float (1e308 rows × cols)
    else:
        shown = str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else f"{float(value):.6g}"
    how = _HOW.format(name=name)
    if what:
        return f"{what} {shown}, over limits.{name} = {_show(limit)}; {how}"
    return f"expected at most {_show(limit)} (limits.{name}), got {shown}; {how}"


# --------------------------------------------------------------------------- the estimate


@dataclass(frozen=True)
class Estimate:
    """What a run of a scenario would need: grids, patrol points, workers, expected issues."""

    grids: int
    points: int
    workers: int
    issues: float


def _households_mean(scenario: Scenario) -> float:
    try:
        return max(float(scenario.territory.households.mean), 0.0)
    except (AttributeError, ValueError, OverflowError):
        return 0.0


def estimate(scenario: Scenario, rows: list[GridRow] | None = None) -> Estimate | None:
    """The size of a run of ``scenario``; ``rows`` are the grids of a grids CSV (None:
    the district is the file's own). None when the district is not known."""
    terr = scenario.territory
    if rows is None and terr.grids_csv is not None:
        return None
    if rows is None and terr.grids is not None:
        rows = list(terr.grids)
    if rows is not None:
        n = len(rows)
        points = sum(int(g.points or terr.points_per_grid) for g in rows)
        households = [float(g.households) for g in rows]
        areas = [g.area_type for g in rows]
        names = [g.name or f"g{i}" for i, g in enumerate(rows)]
    else:
        n = terr.rows * terr.cols
        points = n * terr.points_per_grid
        households = []
        areas = []
        names = []
    per_grid = scenario.workers.per_grid
    per_shift = n * int(per_grid) if per_grid >= 1 else max(1, round(per_grid * n))
    workers = per_shift * len(scenario.workers.shifts)
    days = scenario.horizon / 24.0
    shares = {a: max(s, 0.0) for a, s in terr.area_types.items()}
    total_share = sum(shares.values()) or 1.0
    issues = 0.0
    for cname, cat in scenario.categories.items():
        by_grid = (terr.rate_multipliers or {}).get(cname, {})
        if rows is not None:
            load = sum(hh * cat.area_multipliers.get(a, 1.0) * by_grid.get(name, 1.0)
                       for hh, a, name in zip(households, areas, names))
        else:
            area_factor = sum(s * cat.area_multipliers.get(a, 1.0) for a, s in shares.items()) / total_share
            largest = max(by_grid.values(), default=1.0)
            load = n * _households_mean(scenario) * area_factor * max(largest, 1.0)
        issues += cat.rate * load / 1000.0 * days
    sensors = scenario.channels.sensors
    if sensors.enabled:
        covered = len(sensors.grid_ids) if sensors.grid_ids is not None else sensors.coverage * n
        issues += sensors.false_alarms_per_day * covered * days
    return Estimate(grids=n, points=points, workers=workers, issues=issues)


# --------------------------------------------------------------------------- the checks


def check_rows(rows: list[GridRow], limits: Limits, where: Any) -> list[Problem]:
    """Problems of a district table over the limits; ``where(i, column)`` is the path of a cell."""
    from govsim.scenario.errors import Problem

    problems: list[Problem] = []
    if len(rows) > limits.grids:
        problems.append(Problem(where(None, None), exceeds("grids", len(rows), limits.grids, "grids in the district:")))
    for i, g in enumerate(rows):
        if g.households > limits.households:
            problems.append(Problem(where(i, "households"), exceeds("households", g.households, limits.households)))
        if g.points is not None and g.points > limits.points_per_grid:
            problems.append(Problem(where(i, "points"), exceeds("points_per_grid", g.points, limits.points_per_grid)))
        if len(problems) >= 20:
            break
    return problems


def check_scenario(scenario: Scenario, rows: list[GridRow] | None = None) -> list[Problem]:
    """Every value of ``scenario`` over its limits, and its estimated size over them
    (``rows``: the grids read from its grids CSV, if any)."""
    from govsim.scenario.errors import Problem

    lim = scenario.limits
    problems: list[Problem] = []

    def over(path: str, name: str, value: float, limit: float, what: str = "") -> None:
        if value > limit:
            problems.append(Problem(path, exceeds(name, value, limit, what)))

    terr = scenario.territory
    if terr.grids is None and terr.grids_csv is None:
        n = terr.rows * terr.cols
        if n > lim.grids:
            key = "territory.cols" if terr.cols >= terr.rows else "territory.rows"
            problems.append(Problem(key, exceeds("grids", n, lim.grids,
                                                 f"grids of the layout {terr.rows} × {terr.cols}:")))
    over("territory.points_per_grid", "points_per_grid", terr.points_per_grid, lim.points_per_grid)
    for key, dist in (("households", terr.households), ("point_weight", terr.point_weight)):
        limit, name = (lim.households, "households") if key == "households" else (lim.multiplier, "multiplier")
        for stat in ("mean", "sd"):
            try:
                value = float(getattr(dist, stat))
            except (AttributeError, ValueError, OverflowError):
                continue
            if not math.isfinite(value) or value > limit:
                problems.append(Problem(f"territory.{key}", exceeds(name, value, limit, f"its {stat} is")))
                break
    if terr.grids is not None:
        problems += check_rows(list(terr.grids), lim,
                               lambda i, col: "territory.grids" if i is None else f"territory.grids[{i}].{col}")
    for cat_name, by_grid in (terr.rate_multipliers or {}).items():
        for grid, mult in by_grid.items():
            over(f"territory.rate_multipliers.{cat_name}.{grid}", "multiplier", mult, lim.multiplier)
    for cname, cat in scenario.categories.items():
        over(f"categories.{cname}.rate", "rate", cat.rate, lim.rate)
        for area, mult in cat.area_multipliers.items():
            over(f"categories.{cname}.area_multipliers.{area}", "multiplier", mult, lim.multiplier)
    over("workers.speed_kmh", "speed_kmh", scenario.workers.speed_kmh, lim.speed_kmh)
    if problems:  # the estimate would only repeat them
        return problems
    size = estimate(scenario, rows)
    if size is None:
        return problems
    if size.points > lim.points:
        problems.append(Problem("territory", exceeds("points", size.points, lim.points,
                                                     "patrol points in the district:")))
    if size.workers > lim.workers:
        problems.append(Problem("workers", exceeds("workers", size.workers, lim.workers,
                                                   "grid workers (all shifts):")))
    if size.issues > lim.issues:
        problems.append(Problem("", exceeds(
            "issues", f"{size.issues:.3g}", lim.issues,
            f"issues expected in one run (Σ rate × households / 1000 × {scenario.horizon / 24:g} days):")))
    return problems
