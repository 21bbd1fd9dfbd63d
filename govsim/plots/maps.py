"""The coverage map (巡查覆盖图): the district's grids coloured by patrol visits or discovery delay."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import matplotlib as mpl
import numpy as np
from matplotlib.collections import PatchCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from govsim.plots._base import finish, measured, new_figure
from govsim.plots.labels import labels_for

if TYPE_CHECKING:
    from govsim.result import Result

__all__ = ["coverage_map", "grid_discovery_delay", "grid_visits_per_day"]

CMAPS = {"visits": "viridis", "discovery_delay": "magma_r"}


def grid_visits_per_day(result: Result, warmup: float | None = None) -> np.ndarray:
    """Patrol-point visits per day in each grid, over ``[warmup, horizon)``."""
    w = result.warmup if warmup is None else warmup
    grids = result.grids
    point_grid = np.repeat(grids["grid"].to_numpy(), grids["n_points"].to_numpy())
    counts = np.zeros(len(grids))
    for _, points, times in result.iter_visits():
        inside = (times >= w) & (times < result.horizon)
        counts += np.bincount(point_grid[points[inside]], minlength=len(grids))
    days = (result.horizon - w) / 24.0
    return counts / days if days > 0 else np.full(len(grids), np.nan)


def grid_discovery_delay(result: Result, warmup: float | None = None) -> np.ndarray:
    """Mean discovery delay (``discovered_at − created_at``, hours) of the issues created in
    each grid after the warm-up; NaN where none was discovered."""
    issues = measured(result.issues, result.warmup if warmup is None else warmup)
    delay = (issues["discovered_at"] - issues["created_at"]).groupby(issues["grid"]).mean()
    return delay.reindex(result.grids["grid"]).to_numpy(dtype=float)


def coverage_map(result: Result, by: Literal["visits", "discovery_delay"] = "visits",
                 warmup: float | None = None, lang: str = "en") -> Figure:
    """The district's grids (网格) as squares, coloured by patrol-point visits per day
    (``by="visits"``) or by mean discovery delay in hours (``"discovery_delay"``, grey where
    nothing was discovered), after the warm-up; a colour bar gives the unit."""
    if by not in CMAPS:
        raise ValueError(f"by must be 'visits' or 'discovery_delay', got {by!r}")
    tr = labels_for(lang)
    values = grid_visits_per_day(result, warmup) if by == "visits" else grid_discovery_delay(result, warmup)
    g = result.grids
    x, y, edge = (g[c].to_numpy(dtype=float) / 1000.0 for c in ("x_m", "y_m", "edge_m"))
    squares = [Rectangle((xi - e / 2, yi - e / 2), e, e) for xi, yi, e in zip(x, y, edge)]
    cmap = mpl.colormaps[CMAPS[by]].with_extremes(bad="0.85")
    finite = values[np.isfinite(values)]
    norm = Normalize(*(finite.min(), finite.max()) if len(finite) else (0.0, 1.0))
    cells = PatchCollection(squares, cmap=cmap, norm=norm, edgecolor="white", linewidth=0.5)
    cells.set_array(np.ma.masked_invalid(values))
    width = float(np.ptp(x + edge / 2)) + float(edge.max()) if len(g) else 1.0
    height = float(np.ptp(y + edge / 2)) + float(edge.max()) if len(g) else 1.0
    fig = new_figure(6.5, max(3.0, min(9.0, 6.5 * height / max(width, 1e-9) * 0.85 + 0.8)))
    ax = fig.add_subplot()
    ax.add_collection(cells)
    if len(g):
        ax.set_xlim((x - edge / 2).min(), (x + edge / 2).max())
        ax.set_ylim((y - edge / 2).min(), (y + edge / 2).max())
    ax.set_aspect("equal")
    ax.set_xlabel(tr("x_km"))
    ax.set_ylabel(tr("y_km"))
    label = tr("visits_per_day") if by == "visits" else tr("discovery_delay_h")
    fig.colorbar(cells, ax=ax, label=label, shrink=0.85)
    ax.set_title(f"{result.scenario.name}: {tr('coverage_' + by)}")
    return finish(fig, tr)
