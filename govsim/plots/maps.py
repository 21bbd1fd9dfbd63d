"""The coverage map (巡查覆盖图): the district's grids coloured by patrol visits or discovery delay.

Grids are drawn as their real polygons when the scenario has ``territory.map_geojson``
(written by ``govsim calibrate`` from a map), else as squares of ``edge_m`` around
``(x_m, y_m)``. The helpers that turn polygons into patches are shared with the maps of
:mod:`govsim.plots.calibration`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import matplotlib as mpl
import numpy as np
from matplotlib.collections import PatchCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Patch, PathPatch, Rectangle
from matplotlib.path import Path as MplPath

from govsim.plots._base import finish, measured, new_figure
from govsim.plots.labels import labels_for

if TYPE_CHECKING:
    from govsim.result import Result
    from govsim.scenario.schema import Scenario

__all__ = ["coverage_difference", "coverage_map", "coverage_values", "grid_discovery_delay", "grid_patches",
           "grid_patches_of",
           "grid_visits_per_day", "read_map_geojson", "rings_path", "shapely_rings", "shared_limits"]

#: A polygon as rings of (x, y) vertices, the exterior first; a grid is a list of them.
Rings = list[np.ndarray]

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


# --- polygons ------------------------------------------------------------------------------

def _signed_area(ring: np.ndarray) -> float:
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def rings_path(parts: Sequence[Sequence[np.ndarray]], scale: float = 1.0) -> MplPath:
    """One compound path of a grid's polygon parts (each ``[exterior, *holes]``, rings of
    ``(x, y)`` vertices, closed or not) with every vertex divided by ``scale``. Exteriors are
    turned counter-clockwise and holes clockwise, so that holes are left unfilled; the
    vertices are otherwise the map's, in order."""
    verts, codes = [], []
    for part in parts:
        for i, ring in enumerate(part):
            r = np.asarray(ring, float).reshape(-1, 2)
            if len(r) >= 2 and np.array_equal(r[0], r[-1]):
                r = r[:-1]
            if len(r) < 3:
                continue
            if (_signed_area(r) > 0) != (i == 0):  # exterior CCW, holes CW
                r = r[::-1]
            verts.append(np.vstack([r, r[:1]]) / scale)
            codes += [MplPath.MOVETO] + [MplPath.LINETO] * (len(r) - 1) + [MplPath.CLOSEPOLY]
    if not verts:
        return MplPath(np.zeros((0, 2)))
    return MplPath(np.vstack(verts), codes)


def shapely_rings(geom: Any) -> list[Rings]:
    """The parts of a shapely Polygon or MultiPolygon as ``[[exterior, *holes], ...]``."""
    parts = getattr(geom, "geoms", [geom])
    return [[np.asarray(p.exterior.coords)[:, :2], *(np.asarray(h.coords)[:, :2] for h in p.interiors)]
            for p in parts if not p.is_empty]


def _geojson_rings(geometry: Any) -> list[Rings]:
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        kind = geometry.get("type") if isinstance(geometry, dict) else type(geometry).__name__
        raise ValueError(f"geometry must be a Polygon or MultiPolygon, got {kind}")
    coords = geometry.get("coordinates")
    polys = [coords] if geometry["type"] == "Polygon" else coords
    if not isinstance(polys, list) or not polys:
        raise ValueError("geometry has no coordinates")
    try:
        parts = [[np.asarray(ring, dtype=float)[:, :2] for ring in poly] for poly in polys]
    except (TypeError, ValueError, IndexError):
        raise ValueError("coordinates must be lists of [x, y] numbers") from None
    if any(not part or len(part[0]) < 3 or not np.isfinite(np.vstack(part)).all() for part in parts):
        raise ValueError("a polygon needs at least 3 finite [x, y] vertices")
    from govsim.limits import MAX_COORDINATE_M

    if any(np.abs(np.vstack(part)).max() > MAX_COORDINATE_M for part in parts):
        raise ValueError(f"a vertex lies beyond ±{MAX_COORDINATE_M:,} m: expected projected "
                         f"coordinates in metres")
    return parts


def read_map_geojson(scenario: Scenario, names: Sequence[str] | None = None) -> dict[str, list[Rings]] | None:
    """The grids' polygons of ``territory.map_geojson`` (metres, property ``name``), resolved
    relative to the scenario file, as ``{grid name: [[exterior, *holes], ...]}``; ``None``
    when the scenario has no map. Raises :class:`~govsim.scenario.ScenarioError` naming the
    file if it cannot be read or names a grid not in ``names``."""
    from govsim.scenario.errors import ScenarioError

    rel = scenario.territory.map_geojson
    if not rel:
        return None
    path = Path(rel)
    source = scenario.source
    if not path.is_absolute() and source and source != "<dict>":  # as the engine resolves grids_csv
        path = Path(source).parent / path

    def error(message: str) -> ScenarioError:
        return ScenarioError.single("territory.map_geojson", message, str(path))

    from govsim.limits import MAX_MAP_CHARS

    def no_constant(word: str) -> Any:
        raise ValueError(f"{word} is not a number JSON allows")

    try:
        if path.stat().st_size > MAX_MAP_CHARS:
            raise error(f"{path.stat().st_size:,} bytes: larger than a map file can be "
                        f"({MAX_MAP_CHARS:,})")
        doc = json.loads(path.read_text(encoding="utf-8"), parse_constant=no_constant)
    except FileNotFoundError:
        raise error("file not found") from None
    except (OSError, UnicodeDecodeError) as err:
        raise error(f"unreadable ({err})") from None
    except RecursionError:
        raise error("not a GeoJSON map: nested too deeply") from None
    except ValueError as err:
        raise error(f"not valid JSON ({err})") from None
    features = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(features, list):
        raise error("expected a GeoJSON FeatureCollection (an object with a list of features)")
    out: dict[str, list[Rings]] = {}
    for i, feat in enumerate(features):
        props = feat.get("properties") if isinstance(feat, dict) else None
        name = props.get("name") if isinstance(props, dict) else None
        if name is None:
            raise error(f"feature {i}: no property 'name' (the grid's name)")
        try:
            out.setdefault(str(name), []).extend(_geojson_rings(feat.get("geometry")))
        except ValueError as err:
            raise error(f"feature {i} ({name!r}): {err}") from None
    if names is not None:
        unknown = sorted(set(out) - {str(n) for n in names})
        if unknown:
            shown = ", ".join(repr(u) for u in unknown[:5])
            if len(unknown) > 5:
                shown += f" and {len(unknown) - 5} more"
            raise error(f"names {len(unknown)} grid{'s' if len(unknown) > 1 else ''} not in the scenario: {shown}")
    return out


def grid_patches(x_m: np.ndarray, y_m: np.ndarray, edge_m: np.ndarray,
                 shapes: Sequence[list[Rings] | None] | None = None,
                 scale: float = 1000.0) -> tuple[list[Patch], tuple[float, float, float, float]]:
    """One patch per grid, in units of ``scale`` metres (km by default): its polygon parts where
    ``shapes`` gives them, else the square of ``edge_m`` around ``(x_m, y_m)``. Returns the
    patches and the bounds ``(xmin, xmax, ymin, ymax)`` of them all."""
    patches: list[Patch] = []
    lo = np.array([np.inf, np.inf])
    hi = -lo
    for i, (x, y, e) in enumerate(zip(x_m, y_m, edge_m)):
        parts = shapes[i] if shapes is not None else None
        if parts:
            path = rings_path(parts, scale)
            patches.append(PathPatch(path))
            v = np.asarray(path.vertices)  # an array already; the stubs say ArrayLike
        else:
            x, y, e = x / scale, y / scale, e / scale
            patches.append(Rectangle((x - e / 2, y - e / 2), e, e))
            v = np.array([[x - e / 2, y - e / 2], [x + e / 2, y + e / 2]])
        if len(v):
            lo, hi = np.minimum(lo, v.min(axis=0)), np.maximum(hi, v.max(axis=0))
    if not np.isfinite(lo).all():
        return patches, (0.0, 1.0, 0.0, 1.0)
    return patches, (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))


def map_figure(patches: list[Patch], bounds: tuple[float, float, float, float], values: np.ndarray,
               cmap: Any, label: str, title: str, tr: Any, norm: Any = None) -> Figure:
    """A map of ``patches`` coloured by ``values`` (grey where NaN) with a colour bar."""
    cells = PatchCollection(patches, cmap=cmap, norm=norm, edgecolor="white", linewidth=0.5)
    finite = values[np.isfinite(values)]
    if norm is None:
        cells.set_norm(Normalize(*(finite.min(), finite.max()) if len(finite) else (0.0, 1.0)))
    cells.set_array(np.ma.masked_invalid(values))
    x0, x1, y0, y1 = bounds
    width, height = max(x1 - x0, 1e-9), max(y1 - y0, 1e-9)
    fig = new_figure(6.5, max(3.0, min(9.0, 6.5 * height / width * 0.85 + 0.8)))
    ax = fig.add_subplot()
    ax.add_collection(cells)
    if patches:
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_xlabel(tr("x_km"))
    ax.set_ylabel(tr("y_km"))
    fig.colorbar(cells, ax=ax, label=label, shrink=0.85)
    ax.set_title(title)
    return finish(fig, tr)


def coverage_values(result: Result, by: Literal["visits", "discovery_delay"] = "visits",
                    warmup: float | None = None) -> np.ndarray:
    """The value of each grid that :func:`coverage_map` colours it by: patrol-point visits per
    day, or mean discovery delay in hours (NaN where nothing was discovered)."""
    if by not in CMAPS:
        raise ValueError(f"by must be 'visits' or 'discovery_delay', got {by!r}")
    return grid_visits_per_day(result, warmup) if by == "visits" else grid_discovery_delay(result, warmup)


def grid_patches_of(result: Result) -> tuple[list[Patch], tuple[float, float, float, float]]:
    """A run's grids as patches (the map's polygons when the scenario has one, else squares)
    and their bounds (km): what every map of a run is drawn on."""
    g = result.grids
    names = g["name"].astype(str).tolist()
    polygons = read_map_geojson(result.scenario, names)
    shapes = [polygons.get(n) for n in names] if polygons else None
    x, y, edge = (g[c].to_numpy(dtype=float) for c in ("x_m", "y_m", "edge_m"))
    return grid_patches(x, y, edge, shapes)


def coverage_map(result: Result, by: Literal["visits", "discovery_delay"] = "visits",
                 warmup: float | None = None, lang: str = "en",
                 limits: tuple[float, float] | None = None) -> Figure:
    """The district's grids (网格), coloured by patrol-point visits per day (``by="visits"``)
    or by mean discovery delay in hours (``"discovery_delay"``, grey where nothing was
    discovered), after the warm-up; a colour bar gives the unit. Grids are drawn as the
    polygons of the scenario's ``territory.map_geojson`` when it has one (a grid the file
    leaves out as its square), else as squares of ``edge_m``.

    ``limits=(low, high)`` fixes the colour scale, so that maps of several scenarios share
    one (:func:`shared_limits`; the same colour then means the same value in each); by
    default the scale spans this map's own values."""
    tr = labels_for(lang)
    values = coverage_values(result, by, warmup)
    patches, bounds = grid_patches_of(result)
    cmap = mpl.colormaps[CMAPS[by]].with_extremes(bad="0.85")
    label = tr("visits_per_day") if by == "visits" else tr("discovery_delay_h")
    norm = None
    if limits is not None:
        low, high = float(limits[0]), float(limits[1])
        if not (np.isfinite(low) and np.isfinite(high) and low <= high):
            raise ValueError(f"limits must be two finite numbers (low, high) with low <= high, got {limits!r}")
        norm = Normalize(low, high if high > low else low + 1e-9)
    title = f"{result.scenario.name}: {tr('coverage_' + by)}"
    fig = map_figure(patches, bounds, values, cmap, label, title, tr, norm=norm)
    if limits is not None:
        fig.axes[0].set_title(f"{title}\n{tr('same_scale')}", fontsize="medium")
        finish(fig, tr)
    return fig


def shared_limits(results: Sequence[Result], by: Literal["visits", "discovery_delay"] = "visits",
                  warmup: float | None = None) -> tuple[float, float]:
    """One colour scale ``(low, high)`` for the coverage maps of ``results``: the range of all
    their grids' values (``(0, 1)`` if none has a value)."""
    values = np.concatenate([coverage_values(r, by, warmup) for r in results])
    finite = values[np.isfinite(values)]
    return (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)


def coverage_difference(a: Result, b: Result, by: Literal["visits", "discovery_delay"] = "visits",
                        warmup: float | None = None, lang: str = "en",
                        labels: tuple[str, str] | None = None) -> Figure:
    """Difference map (差值图) of two runs of the same district: per grid, ``b − a`` of the value
    :func:`coverage_map` shows (visits per day, or mean discovery delay in hours), on a
    diverging colour map centred on 0 (blue below, red above; grey where either has no
    value). ``labels``: the two runs' names (default: their scenarios')."""
    import matplotlib.colors as mcolors

    ga, gb = a.grids, b.grids
    same = len(ga) == len(gb) and all(
        np.allclose(ga[c].to_numpy(dtype=float), gb[c].to_numpy(dtype=float)) for c in ("x_m", "y_m", "edge_m"))
    if not same:
        raise ValueError("coverage_difference needs two runs of the same district (the same grids); "
                         f"got {len(ga)} and {len(gb)} grids in different places")
    tr = labels_for(lang)
    name_a, name_b = labels or (a.scenario.name, b.scenario.name)
    diff = coverage_values(b, by, warmup) - coverage_values(a, by, warmup)
    finite = diff[np.isfinite(diff)]
    half = float(np.abs(finite).max()) if len(finite) else 0.0
    norm = mcolors.CenteredNorm(0.0, half if half > 0 else 1.0)
    cmap = mpl.colormaps["RdBu_r"].with_extremes(bad="0.85")
    what = tr("visits_per_day") if by == "visits" else tr("discovery_delay_h")
    patches, bounds = grid_patches_of(a)
    return map_figure(patches, bounds, diff, cmap, tr("difference_of", a=name_a, b=name_b, label=what),
                      tr("coverage_difference", a=name_a, b=name_b, what=tr("coverage_" + by)), tr, norm=norm)
