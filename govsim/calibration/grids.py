"""The grids (网格) of a calibrated district, in metres.

Three ways to get them, most faithful first:

* :func:`grids_from_geojson` — the district's own grid map (a GeoJSON
  FeatureCollection of Polygon / MultiPolygon features in lon/lat);
* :func:`grids_from_cells` — square cells of a given size laid over the cases;
* :func:`grids_from_areas` — one grid per area named in the case log (a
  neighbourhood, a community), placed at the middle of its cases.

Each returns a :class:`GridMap`: a table of grids (``name, x_m, y_m, edge_m,
area_m2, households, community, street``) that maps onto
:class:`~govsim.scenario.schema.GridRow`, the grid polygons in metres, the
projection used, and :meth:`GridMap.assign` to put every case in its grid.

**Projection.** Lon/lat are projected to a *local azimuthal equidistant*
projection centred on the middle of the data's bounding box
(``+proj=aeqd +lat_0=… +lon_0=… +datum=WGS84 +units=m``). It works the same
anywhere on Earth (no UTM zone to pick, no zone edge cutting a city in two),
distances from the centre are exact, and for a district a few tens of
kilometres across, distances between any two points and areas are off by
about ``(r / R)² / 6`` (r the distance from the centre, R the Earth's
radius): under 0.001 % at 25 km, far below anything a grid simulation can
feel. Travel in govsim is measured in these metres, Manhattan or Euclidean.
(Data straddling the ±180° meridian is not handled.)

shapely and pyproj are needed (``pip install "govsim[geo]"``); they are
imported only when a map is built.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from govsim.calibration.errors import CalibrationError

if TYPE_CHECKING:  # pragma: no cover
    import shapely

__all__ = [
    "GridMap",
    "grids_from_geojson",
    "grids_from_cells",
    "grids_from_areas",
    "parse_length",
    "MAX_GEOJSON_BYTES",
    "MAX_CELLS",
    "MIN_AREA_EDGE_M",
    "ID_FIELDS",
    "COMMUNITY_FIELDS",
    "STREET_FIELDS",
    "HOUSEHOLDS_FIELDS",
]

#: GeoJSON files larger than this are refused (they are read whole into memory).
MAX_GEOJSON_BYTES = 200 * 1024 * 1024
#: Most square cells :func:`grids_from_cells` may lay over the cases' bounding box.
MAX_CELLS = 200_000
#: Floor of the edge of an area grid's convex hull (so a one-case area still has a size).
MIN_AREA_EDGE_M = 250.0
#: Edge of the grids laid on a lattice for a log that names areas but has no coordinates.
AREA_LATTICE_EDGE_M = 1000.0

#: Property names tried, in order and ignoring case, when a field is not given.
ID_FIELDS = ("id", "name", "grid_id", "grid", "网格编号", "网格名称", "网格")
COMMUNITY_FIELDS = ("community", "community_name", "社区", "社区名称", "neighborhood", "neighbourhood")
STREET_FIELDS = ("street", "street_name", "subdistrict", "街道", "街道名称", "街道办")
HOUSEHOLDS_FIELDS = ("households", "hh", "户数", "住户数", "总户数")

_WGS84_NAMES = {
    "EPSG:4326", "URN:OGC:DEF:CRS:EPSG::4326", "URN:OGC:DEF:CRS:EPSG:4326",
    "URN:OGC:DEF:CRS:OGC:1.3:CRS84", "URN:OGC:DEF:CRS:OGC::CRS84", "CRS84", "OGC:CRS84",
    "WGS84", "WGS 84",
}
_GRID_COLUMNS = ["name", "x_m", "y_m", "edge_m", "area_m2", "households", "community", "street"]


# --------------------------------------------------------------------------------------
# optional dependencies
# --------------------------------------------------------------------------------------
def _geo(source: str | None = None) -> tuple[Any, Any]:
    """``(shapely, pyproj)``, or a CalibrationError saying how to install them."""
    try:
        import pyproj
        import shapely
    except ImportError as err:  # pragma: no branch
        raise CalibrationError(
            f"grids: {err.name or 'shapely/pyproj'} is not installed; grid maps need shapely and "
            'pyproj: pip install "govsim[geo]"',
            source,
        ) from None
    return shapely, pyproj


def _local_crs(lon: np.ndarray, lat: np.ndarray) -> str:
    """A local azimuthal equidistant CRS centred on the middle of the bounding box."""
    lat_0 = round((float(np.min(lat)) + float(np.max(lat))) / 2, 4)
    lon_0 = round((float(np.min(lon)) + float(np.max(lon))) / 2, 4)
    return f"+proj=aeqd +lat_0={lat_0:g} +lon_0={lon_0:g} +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs"


def _as_float(a: Any, where: str, n: int | None = None) -> np.ndarray:
    try:
        arr = np.asarray(a, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise CalibrationError(f"{where}: expected numbers") from None
    if n is not None and len(arr) != n:
        raise CalibrationError(f"{where}: {len(arr)} values, expected {n} (one per case)")
    return arr


def _lonlat_ok(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Points with finite, in-range lon/lat (anything else counts as missing)."""
    with np.errstate(invalid="ignore"):
        return np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90)


def _area_codes(area: Any) -> tuple[np.ndarray, list[str]]:
    """``(codes, labels)``: each case's area as an index into ``labels``, the distinct
    area values as stripped text (sorted); missing or blank areas get -1.

    Only the distinct raw values are turned into text, so this is fast on a long log.
    """
    raw = np.asarray(area, dtype=object).reshape(-1)
    codes, uniques = pd.factorize(raw)
    text = [str(u).strip() for u in uniques]
    labels = sorted(set(text) - {""})
    where = {t: i for i, t in enumerate(labels)}
    to_label = np.array([where.get(t, -1) for t in text] + [-1], dtype=np.int64)
    return to_label[codes], labels  # code -1 (missing) picks the trailing -1


# --------------------------------------------------------------------------------------
# lengths
# --------------------------------------------------------------------------------------
_UNITS = {"": 1.0, "m": 1.0, "米": 1.0, "km": 1000.0, "公里": 1000.0, "千米": 1000.0}
_LENGTH = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([a-zA-Z米公里千]*)\s*$")


def parse_length(text: str | float, *, where: str = "--cell") -> float:
    """Metres in ``text``: ``500``, ``'500m'``, ``'500 m'``, ``'1km'``, ``'1.5 km'``,
    ``'500米'``, ``'1公里'``. A positive finite number is required."""
    if isinstance(text, (int, float, np.integer, np.floating)) and not isinstance(text, bool):
        value = float(text)
    else:
        m = _LENGTH.match(str(text))
        unit = m.group(2).lower() if m else None
        if m is None or unit not in _UNITS:
            raise CalibrationError(f"{where} {text!r}: expected a length like '500m' or '1km'")
        value = float(m.group(1)) * _UNITS[unit]
    if not math.isfinite(value) or value <= 0:
        raise CalibrationError(f"{where} {text!r}: the length must be a positive number of metres")
    return value


# --------------------------------------------------------------------------------------
# the map
# --------------------------------------------------------------------------------------
@dataclass(eq=False)
class GridMap:
    """The grids of a calibrated district, in a metric projection.

    ``grids`` has one row per grid: ``name`` (unique), ``x_m, y_m`` (a point
    *inside* the grid, in the projection's metres), ``edge_m`` (the edge of the
    square of the same area, ``sqrt(area_m2)``, what govsim simulates),
    ``area_m2``, ``households`` (NaN when the map does not say), ``community``
    and ``street``. ``polygons`` are the grids in the same metres (None for
    ``areas`` grids, which have no map). ``crs`` is the projection (a PROJ
    string, see the module docstring for why a local azimuthal equidistant
    one). ``kind`` is ``'map'``, ``'cells'`` or ``'areas'``; ``cell_origin``
    is ``(x0, y0, size_m)`` of the cell lattice for ``'cells'``.
    """

    grids: pd.DataFrame
    polygons: list[shapely.Polygon | shapely.MultiPolygon] | None
    crs: str
    kind: str
    cell_origin: tuple[float, float, float] | None = None

    def __len__(self) -> int:
        return len(self.grids)

    # --- projection -------------------------------------------------------------
    @cached_property
    def _transformer(self) -> Any:
        _, pyproj = _geo()
        return pyproj.Transformer.from_crs("EPSG:4326", self.crs, always_xy=True)

    def to_metric(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Project lon/lat (degrees, WGS84) to ``crs`` metres; missing or out-of-range
        coordinates give NaN."""
        lon = _as_float(lon, "lon")
        lat = _as_float(lat, "lat", len(lon))
        ok = _lonlat_ok(lon, lat)
        x = np.full(len(lon), np.nan)
        y = np.full(len(lon), np.nan)
        if ok.any():
            px, py = self._transformer.transform(lon[ok], lat[ok])
            x[ok], y[ok] = px, py
        bad = ~(np.isfinite(x) & np.isfinite(y))
        x[bad] = y[bad] = np.nan
        return x, y

    # --- assignment -------------------------------------------------------------
    @cached_property
    def _prepared(self) -> tuple[np.ndarray, np.ndarray]:
        shapely, _ = _geo()
        polys = np.asarray(self.polygons, dtype=object)
        shapely.prepare(polys)
        return polys, shapely.bounds(polys)

    @cached_property
    def _cell_lookup(self) -> tuple[np.ndarray, float, float, float]:
        x0, y0, size = self.cell_origin  # type: ignore[misc]
        col = np.floor((self.grids["x_m"].to_numpy() - x0) / size).astype(np.int64)
        row = np.floor((self.grids["y_m"].to_numpy() - y0) / size).astype(np.int64)
        table = np.full((int(row.max()) + 1, int(col.max()) + 1), -1, dtype=np.int64)
        table[row, col] = np.arange(len(row))
        return table, x0, y0, size

    @cached_property
    def _area_index(self) -> pd.Index:
        return pd.Index(self.grids["name"].astype(object).to_numpy(), dtype=object)

    @cached_property
    def _centre_tree(self) -> Any:
        from scipy.spatial import cKDTree

        return cKDTree(self.grids[["x_m", "y_m"]].to_numpy(dtype=float))

    def assign(self, lon: np.ndarray, lat: np.ndarray, area: np.ndarray | None = None) -> np.ndarray:
        """Index (into ``grids``) of the grid of each case; -1 when it is in no grid or
        cannot be placed.

        * ``'map'``: the polygon containing the point (a point on a shared edge goes to
          the first of the grids in map order; so does a point where polygons overlap);
          ``area`` is ignored.
        * ``'cells'``: the cell containing the point (cells are half-open,
          ``[x0 + c·size, x0 + (c+1)·size)``); ``area`` is ignored.
        * ``'areas'``: the grid named by the case's ``area``, whether or not it has
          coordinates; a case whose area is missing or not one of the grids goes to the
          grid with the nearest centre if it has coordinates; only cases with neither are -1.
        """
        lon = _as_float(lon, "lon")
        lat = _as_float(lat, "lat", len(lon))
        n = len(lon)
        out = np.full(n, -1, dtype=np.int64)
        if self.kind == "areas":
            if area is not None:
                codes, labels = _area_codes(area)
                if len(codes) != n:
                    raise CalibrationError(f"area: {len(codes)} values, expected {n} (one per case)")
                to_grid = np.r_[self._area_index.get_indexer(pd.Index(labels, dtype=object)), -1]
                out[:] = to_grid[codes]
            todo = np.flatnonzero(out < 0)
            if len(todo) and self.crs:
                x, y = self.to_metric(lon[todo], lat[todo])
                ok = np.isfinite(x)
                if ok.any():
                    _, nearest = self._centre_tree.query(np.column_stack([x[ok], y[ok]]))
                    out[todo[ok]] = nearest
            return out
        x, y = self.to_metric(lon, lat)
        ok = np.isfinite(x)
        if self.kind == "cells":
            table, x0, y0, size = self._cell_lookup
            idx = np.flatnonzero(ok)
            col = np.floor((x[idx] - x0) / size)
            row = np.floor((y[idx] - y0) / size)
            inside = (col >= 0) & (col < table.shape[1]) & (row >= 0) & (row < table.shape[0])
            idx = idx[inside]
            out[idx] = table[row[inside].astype(np.int64), col[inside].astype(np.int64)]
            return out
        shapely, _ = _geo()
        # Points sorted by x: each polygon looks only at the slab of points within its
        # x-range, then its bounding box, then tests them (prepared, vectorised). Faster
        # than building a million shapely points for an STRtree query.
        idx = np.flatnonzero(ok)
        idx = idx[np.argsort(x[idx], kind="stable")]
        xs, ys = x[idx], y[idx]
        polys, bounds = self._prepared
        lo = np.searchsorted(xs, bounds[:, 0], side="left")
        hi = np.searchsorted(xs, bounds[:, 2], side="right")
        for g in range(len(polys)):
            if hi[g] <= lo[g]:
                continue
            yy = ys[lo[g]:hi[g]]
            cand = lo[g] + np.flatnonzero((yy >= bounds[g, 1]) & (yy <= bounds[g, 3]))
            cand = cand[out[idx[cand]] < 0]  # the first grid in map order wins
            if len(cand):
                hit = shapely.intersects_xy(polys[g], xs[cand], ys[cand])
                out[idx[cand[hit]]] = g
        return out

    # --- patrol points ----------------------------------------------------------
    def patrol_points(self, per_grid: int, rng: np.random.Generator) -> pd.DataFrame:
        """``per_grid`` patrol points inside each grid, as columns ``grid, x_m, y_m``,
        grid by grid, each grid's points in serpentine order (a short tour).

        With polygons: a square lattice of about ``per_grid`` points clipped to the
        polygon (thinned evenly if it gives too many, topped up by uniform rejection
        sampling from ``rng`` if too few). Without polygons (``'areas'``): the lattice of
        :func:`govsim.territory.lattice` in the equivalent square around ``(x_m, y_m)``.
        Deterministic for a given ``rng`` state.
        """
        from govsim.territory import lattice

        per_grid = int(per_grid)
        if per_grid <= 0:
            raise CalibrationError(f"per_grid {per_grid}: must be a positive number of points")
        n = len(self.grids)
        gx = self.grids["x_m"].to_numpy(dtype=float)
        gy = self.grids["y_m"].to_numpy(dtype=float)
        edge = self.grids["edge_m"].to_numpy(dtype=float)
        if self.polygons is None or self.kind == "cells":
            # Cells are squares centred on (x_m, y_m): the lattice is the clipped lattice.
            xs, ys = [], []
            for e in np.unique(edge):
                ox, oy = lattice(per_grid, float(e))
                xs.append((e, ox))
                ys.append(oy)
            offsets = {e: (ox, oy) for (e, ox), oy in zip(xs, ys)}
            px = np.empty((n, per_grid))
            py = np.empty((n, per_grid))
            for e, (ox, oy) in offsets.items():
                sel = edge == e
                px[sel] = gx[sel, None] + ox
                py[sel] = gy[sel, None] + oy
            return pd.DataFrame({
                "grid": np.repeat(np.arange(n), per_grid),
                "x_m": px.reshape(-1), "y_m": py.reshape(-1),
            })
        shapely, _ = _geo()
        px_all, py_all = [], []
        for poly in self.polygons:
            px, py = _points_in_polygon(shapely, poly, per_grid, rng)
            px_all.append(px)
            py_all.append(py)
        return pd.DataFrame({
            "grid": np.repeat(np.arange(n), per_grid),
            "x_m": np.concatenate(px_all), "y_m": np.concatenate(py_all),
        })


def _points_in_polygon(shapely: Any, poly: Any, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    xmin, ymin, xmax, ymax = poly.bounds
    area = poly.area
    step = math.sqrt(area / k)
    xs = np.arange(xmin + step / 2, xmax, step)
    ys = np.arange(ymin + step / 2, ymax, step)
    lx, ly = (a.reshape(-1) for a in np.meshgrid(xs, ys))
    inside = shapely.contains_xy(poly, lx, ly)
    lx, ly = lx[inside], ly[inside]
    if len(lx) > k:
        keep = np.round(np.linspace(0, len(lx) - 1, k)).astype(np.int64)
        lx, ly = lx[keep], ly[keep]
    elif len(lx) < k:
        extra_x, extra_y = [lx], [ly]
        need = k - len(lx)
        for _ in range(50):
            m = max(16, 4 * need * max(1, int((xmax - xmin) * (ymax - ymin) / max(area, 1e-9))))
            m = min(m, 1_000_000)
            rx = rng.uniform(xmin, xmax, m)
            ry = rng.uniform(ymin, ymax, m)
            ok = shapely.contains_xy(poly, rx, ry)
            rx, ry = rx[ok][:need], ry[ok][:need]
            extra_x.append(rx)
            extra_y.append(ry)
            need -= len(rx)
            if need == 0:
                break
        if need > 0:  # a sliver rejection sampling cannot hit: fall back on one inside point
            p = shapely.point_on_surface(poly)
            extra_x.append(np.full(need, p.x))
            extra_y.append(np.full(need, p.y))
        lx, ly = np.concatenate(extra_x), np.concatenate(extra_y)
    # Serpentine order: bands of height `step`, alternately left->right and right->left.
    band = np.floor((ly - ymin) / step).astype(np.int64)
    key = np.where(band % 2 == 0, lx, -lx)
    order = np.lexsort((key, band))
    return lx[order], ly[order]


# --------------------------------------------------------------------------------------
# building blocks
# --------------------------------------------------------------------------------------
def _frame(names: list[str], x: ArrayLike, y: ArrayLike, area_m2: ArrayLike, households: ArrayLike,
           community: list[str], street: list[str]) -> pd.DataFrame:
    area = np.asarray(area_m2, dtype=float)
    return pd.DataFrame({
        "name": pd.Series(names, dtype=object).astype(str),
        "x_m": np.asarray(x, dtype=float), "y_m": np.asarray(y, dtype=float),
        "edge_m": np.sqrt(area), "area_m2": area,
        "households": np.asarray(households, dtype=float),
        "community": pd.Series(community, dtype=object).astype(str),
        "street": pd.Series(street, dtype=object).astype(str),
    }, columns=_GRID_COLUMNS)


def _inside_points(shapely: Any, polys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The centroid of each polygon if it lies inside it, else a point on its surface."""
    c = shapely.centroid(polys)
    cx, cy = shapely.get_x(c), shapely.get_y(c)
    inside = shapely.contains_xy(polys, cx, cy)
    if not inside.all():
        s = shapely.point_on_surface(polys[~inside])
        cx[~inside], cy[~inside] = shapely.get_x(s), shapely.get_y(s)
    return cx, cy


# --------------------------------------------------------------------------------------
# GeoJSON
# --------------------------------------------------------------------------------------
def _pick_field(given: str | None, candidates: tuple[str, ...], keys: list[str], label: str,
                problems: list[str]) -> str | None:
    if given is not None:
        if given not in keys:
            shown = ", ".join(keys[:20]) + (", ..." if len(keys) > 20 else "")
            problems.append(f"property {given!r}: no feature has it (the {label} field); "
                            f"properties: {shown or '(none)'}")
            return None
        return given
    lower = {k.lower(): k for k in reversed(keys)}
    for c in candidates:
        if c.lower() in lower:
            return lower[c.lower()]
    return None


def _declared_crs(doc: dict, pyproj: Any) -> Any | None:
    """The pyproj CRS a GeoJSON declares, or None for WGS84 lon/lat (or nothing)."""
    crs = doc.get("crs")
    if crs is None:
        return None
    name = None
    if isinstance(crs, dict):
        props = crs.get("properties")
        if isinstance(props, dict):
            name = props.get("name") or props.get("href")
    elif isinstance(crs, str):
        name = crs
    if not isinstance(name, str) or not name.strip():
        raise CalibrationError(f"crs: cannot read the declared crs {json.dumps(crs)[:80]}")
    if name.strip().upper() in _WGS84_NAMES:
        return None
    try:
        declared = pyproj.CRS.from_user_input(name.strip())
    except Exception:
        raise CalibrationError(
            f"crs {name!r}: unknown coordinate reference system; give the map in lon/lat (WGS84)") from None
    if declared.equals(pyproj.CRS("EPSG:4326"), ignore_axis_order=True):
        return None
    return declared


def grids_from_geojson(path: str | Path, *, id_field: str | None = None, community_field: str | None = None,
                       street_field: str | None = None, households_field: str | None = None) -> GridMap:
    """Read a grid map: a GeoJSON FeatureCollection, one Polygon or MultiPolygon feature per grid.

    Coordinates are lon/lat (WGS84, as GeoJSON requires); a map declaring another
    ``crs`` (the old ``{"type": "name", "properties": {"name": "EPSG:…"}}`` member)
    is transformed with pyproj. Mind that Chinese web maps often use GCJ-02 or BD-09
    ("火星坐标"), offset by a few hundred metres, which no ``crs`` member declares.

    Properties, when a field is not named, are looked up ignoring case among:

    * name: :data:`ID_FIELDS` (``id``, ``name``, ``grid_id``, ``grid``, ``网格编号``,
      ``网格名称``, ``网格``), then the feature's own ``id``, else ``g<index>``;
    * community: :data:`COMMUNITY_FIELDS` (``community``, ``社区``, …); default one per
      grid (named as the grid);
    * street: :data:`STREET_FIELDS` (``street``, ``街道``, …); default ``'district'``;
    * households: :data:`HOUSEHOLDS_FIELDS` (``households``, ``户数``, …); NaN when absent
      or null.

    An invalid polygon (self-intersecting...) is repaired with ``make_valid``; one that
    is empty after repair is an error. Every problem found is reported at once in a
    :class:`CalibrationError` naming the file and the feature or property.
    """
    source = str(path)
    shapely, pyproj = _geo(source)
    path = Path(path)
    try:
        if not path.is_file():
            raise CalibrationError(f"file not found: {path}")
        size = path.stat().st_size
        if size > MAX_GEOJSON_BYTES:
            raise CalibrationError(
                f"file is {size / 2**20:.0f} MB, over the {MAX_GEOJSON_BYTES / 2**20:.0f} MB limit for a "
                "grid map; simplify the polygons or keep only the district's grids")
        try:
            doc = json.loads(path.read_text(encoding="utf-8-sig"))
        except UnicodeDecodeError as err:
            raise CalibrationError(f"not UTF-8 text: {err}") from None
        except json.JSONDecodeError as err:
            raise CalibrationError(f"line {err.lineno}, column {err.colno}: not valid JSON: {err.msg}") from None
        return _from_geojson_doc(doc, shapely, pyproj, id_field, community_field, street_field, households_field)
    except CalibrationError as err:
        raise err.with_source(source) from None


def _from_geojson_doc(doc: Any, shapely: Any, pyproj: Any, id_field: str | None, community_field: str | None,
                      street_field: str | None, households_field: str | None) -> GridMap:
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        got = doc.get("type") if isinstance(doc, dict) else type(doc).__name__
        raise CalibrationError(f"type: expected a GeoJSON FeatureCollection, got {got!r}")
    features = doc.get("features")
    if not isinstance(features, list):
        raise CalibrationError("features: expected a list of features")
    if not features:
        raise CalibrationError("features: the collection is empty; a grid map needs at least one polygon")
    declared = _declared_crs(doc, pyproj)

    problems: list[str] = []
    props_list: list[dict] = []
    geoms: list[Any] = []
    for i, feat in enumerate(features):
        where = f"feature {i}"
        if not isinstance(feat, dict) or feat.get("type") != "Feature":
            problems.append(f"{where}: not a GeoJSON Feature")
            props_list.append({})
            geoms.append(None)
            continue
        props = feat.get("properties") or {}
        if not isinstance(props, dict):
            problems.append(f"{where}: properties must be an object")
            props = {}
        props_list.append(props)
        geoms.append(_read_geometry(shapely, feat.get("geometry"), where, problems))

    keys = list(dict.fromkeys(k for p in props_list for k in p))
    id_key = _pick_field(id_field, ID_FIELDS, keys, "grid id", problems)
    comm_key = _pick_field(community_field, COMMUNITY_FIELDS, keys, "community", problems)
    street_key = _pick_field(street_field, STREET_FIELDS, keys, "street", problems)
    hh_key = _pick_field(households_field, HOUSEHOLDS_FIELDS, keys, "households", problems)

    names: list[str] = []
    for i, (feat, props) in enumerate(zip(features, props_list)):
        value = props.get(id_key) if id_key is not None else None
        if value is None and id_key is not None:
            if id_field is not None:
                problems.append(f"feature {i}, property {id_key!r}: missing; every grid needs a name")
        if value is None and isinstance(feat, dict) and id_field is None:
            value = feat.get("id")
        names.append(f"g{i}" if value is None else str(value).strip())
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name == "":
            problems.append(f"feature {i}, property {id_key!r}: empty grid name")
        elif name in seen:
            problems.append(f"feature {i}: duplicate grid id {name!r} (also feature {seen[name]})")
        else:
            seen[name] = i

    def labels(key: str | None, default: list[str], label: str) -> list[str]:
        if key is None:
            return default
        out = []
        for i, props in enumerate(props_list):
            v = props.get(key)
            if v is None or str(v).strip() == "":
                problems.append(f"feature {i}, property {key!r}: missing {label} name")
                out.append("")
            else:
                out.append(str(v).strip())
        return out

    community = labels(comm_key, list(names), "community")
    street = labels(street_key, ["district"] * len(names), "street")
    households = np.full(len(names), np.nan)
    if hh_key is not None:
        for i, props in enumerate(props_list):
            v = props.get(hh_key)
            if v is None or (isinstance(v, str) and v.strip() == ""):
                continue
            try:
                h = float(v.replace(",", "").strip()) if isinstance(v, str) else float(v)
                if isinstance(v, bool):
                    raise ValueError
            except (TypeError, ValueError):
                problems.append(f"feature {i}, property {hh_key!r}: expected a number of households, got {v!r}")
                continue
            if not math.isfinite(h) or h < 0:
                problems.append(f"feature {i}, property {hh_key!r}: households must be a number >= 0, got {v!r}")
                continue
            households[i] = h
    if problems:  # file-wide problems first, then feature by feature
        def order(p: str) -> int:
            m = re.match(r"feature (\d+)", p)
            return int(m.group(1)) if m else -1
        raise CalibrationError(sorted(problems, key=order))

    polys = np.asarray(geoms, dtype=object)
    if declared is not None:
        to_wgs = pyproj.Transformer.from_crs(declared, "EPSG:4326", always_xy=True)
        polys = shapely.transform(polys, lambda c: np.column_stack(to_wgs.transform(c[:, 0], c[:, 1])))
    xmin, ymin, xmax, ymax = shapely.total_bounds(polys)
    if not (np.isfinite([xmin, ymin, xmax, ymax]).all() and -180 <= xmin and xmax <= 180
            and -90 <= ymin and ymax <= 90):
        hint = "" if declared is not None else "; if the map is projected, declare its crs"
        raise CalibrationError(
            f"coordinates: bounds ({xmin:g}, {ymin:g}, {xmax:g}, {ymax:g}) are not lon/lat degrees{hint}")
    crs = _local_crs(np.array([xmin, xmax]), np.array([ymin, ymax]))
    fwd = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    metric = shapely.transform(polys, lambda c: np.column_stack(fwd.transform(c[:, 0], c[:, 1])))
    area = shapely.area(metric)
    x, y = _inside_points(shapely, metric)
    grids = _frame(names, x, y, area, households, community, street)
    return GridMap(grids=grids, polygons=list(metric), crs=crs, kind="map")


def _read_geometry(shapely: Any, geom: Any, where: str, problems: list[str]) -> Any:
    from shapely.geometry import shape

    if not isinstance(geom, dict):
        problems.append(f"{where}: no geometry")
        return None
    gtype = geom.get("type")
    if gtype not in ("Polygon", "MultiPolygon"):
        problems.append(f"{where}: geometry is a {gtype}, expected a Polygon or MultiPolygon")
        return None
    try:
        g = shape(geom)
    except Exception as err:  # noqa: BLE001 - shapely/GEOS raise assorted errors
        problems.append(f"{where}: unreadable {gtype}: {err}")
        return None
    if g.has_z:
        g = shapely.force_2d(g)
    if not g.is_valid:
        g = shapely.make_valid(g)
        if g.geom_type == "GeometryCollection":
            parts = [p for p in g.geoms if p.geom_type in ("Polygon", "MultiPolygon")]
            g = shapely.union_all(parts) if parts else shapely.Polygon()
        if g.geom_type not in ("Polygon", "MultiPolygon"):
            g = shapely.Polygon()
    if g.is_empty or g.area <= 0:
        problems.append(f"{where}: the {gtype} is empty or has no area")
        return None
    return g


# --------------------------------------------------------------------------------------
# cells
# --------------------------------------------------------------------------------------
def grids_from_cells(lon: np.ndarray, lat: np.ndarray, size_m: float | str, *, min_cases: int = 1) -> GridMap:
    """Square cells of ``size_m`` metres (or a length such as ``'500m'``, ``'1km'``)
    laid over the cases with coordinates, in the local projection.

    The lattice is anchored at ``(floor(min x), floor(min y))`` of the cases, in whole
    metres; cell ``r{row}c{col}`` spans ``[x0 + col·size, x0 + (col+1)·size)`` and the
    same in y. Cells with at least ``min_cases`` cases are kept. Communities are blocks
    of 2 × 2 cells (``c{row // 2}_{col // 2}``), streets blocks of 4 × 4 communities
    (``s{row // 8}_{col // 8}``). Households are unknown (NaN). A size for which the
    cases' bounding box spans more than :data:`MAX_CELLS` cells is refused.
    """
    shapely, _ = _geo()
    size = parse_length(size_m)
    min_cases = int(min_cases)
    if min_cases < 1:
        raise CalibrationError(f"min_cases {min_cases}: must be at least 1")
    lon = _as_float(lon, "lon")
    lat = _as_float(lat, "lat", len(lon))
    ok = _lonlat_ok(lon, lat)
    if not ok.any():
        raise CalibrationError("lat/lon: no case has coordinates; cells need located cases")
    crs = _local_crs(lon[ok], lat[ok])
    gm = GridMap(grids=_frame([], [], [], [], [], [], []), polygons=[], crs=crs, kind="cells")
    x, y = gm.to_metric(lon[ok], lat[ok])
    x0, y0 = math.floor(float(x.min())), math.floor(float(y.min()))
    col = np.floor((x - x0) / size).astype(np.int64)
    row = np.floor((y - y0) / size).astype(np.int64)
    ncols, nrows = int(col.max()) + 1, int(row.max()) + 1
    if ncols * nrows > MAX_CELLS:
        span = f"{(x.max() - x0) / 1000:.1f} km × {(y.max() - y0) / 1000:.1f} km"
        smallest = math.sqrt((x.max() - x0) * (y.max() - y0) / MAX_CELLS)
        raise CalibrationError(
            f"--cell {size:g} m: too small for the data, {nrows} × {ncols} = {nrows * ncols:,} cells over "
            f"{span} (at most {MAX_CELLS:,}); use a larger size, at least about {math.ceil(smallest / 10) * 10:g} m")
    counts = np.bincount(row * ncols + col, minlength=nrows * ncols)
    keep = np.flatnonzero(counts >= min_cases)
    if len(keep) == 0:
        raise CalibrationError(f"min_cases {min_cases}: no {size:g} m cell has that many cases (most: {counts.max()})")
    r, c = np.divmod(keep, ncols)
    cx0 = x0 + c * size
    cy0 = y0 + r * size
    polys = shapely.box(cx0, cy0, cx0 + size, cy0 + size)
    names = [f"r{a}c{b}" for a, b in zip(r.tolist(), c.tolist())]
    community = [f"c{a // 2}_{b // 2}" for a, b in zip(r.tolist(), c.tolist())]
    street = [f"s{a // 8}_{b // 8}" for a, b in zip(r.tolist(), c.tolist())]
    gm.grids = _frame(names, cx0 + size / 2, cy0 + size / 2, np.full(len(keep), size * size),
                      np.full(len(keep), np.nan), community, street)
    gm.polygons = list(polys)
    gm.cell_origin = (float(x0), float(y0), float(size))
    return gm


# --------------------------------------------------------------------------------------
# areas
# --------------------------------------------------------------------------------------
def grids_from_areas(area: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> GridMap:
    """One grid per distinct area value of the log (missing/blank areas ignored),
    named by the value (as text, sorted).

    Its centre is the median x and median y of its cases, snapped to the case nearest
    to that point (so it lies among them); its area is that of the convex hull of its
    cases, at least :data:`MIN_AREA_EDGE_M` squared; ``edge_m = sqrt(area_m2)``; there
    are no polygons. Each area is its own community; the street is ``'district'``.
    See :meth:`GridMap.assign` for how cases are placed. An area none of whose cases
    has coordinates cannot be placed and is an error.
    """
    _geo()
    from scipy.spatial import ConvexHull, QhullError

    all_codes, names = _area_codes(area)
    lon = _as_float(lon, "lon", len(all_codes))
    lat = _as_float(lat, "lat", len(all_codes))
    known = all_codes >= 0
    if not known.any():
        raise CalibrationError("area: no case names an area")
    ok = _lonlat_ok(lon, lat)
    if not ok.any():
        return _area_lattice(names)
    codes = all_codes[known]
    located = ok[known]
    placed = np.bincount(codes[located], minlength=len(names)) > 0
    unplaced = np.flatnonzero(~placed).tolist()
    if unplaced:
        shown = ", ".join(repr(names[i]) for i in unplaced[:10]) + (", ..." if len(unplaced) > 10 else "")
        raise CalibrationError(
            f"area: {len(unplaced)} area(s) have no case with coordinates, so their grids cannot be "
            f"placed: {shown}")
    crs = _local_crs(lon[ok], lat[ok])
    gm = GridMap(grids=_frame([], [], [], [], [], [], []), polygons=None, crs=crs, kind="areas")
    sel = np.flatnonzero(known)[located]
    code = codes[located]
    x, y = gm.to_metric(lon[sel], lat[sel])
    df = pd.DataFrame({"code": code, "x": x, "y": y})
    med = df.groupby("code")[["x", "y"]].median().to_numpy()
    d = np.hypot(x - med[code, 0], y - med[code, 1])
    order = np.lexsort((d, code))
    first = order[np.r_[True, code[order][1:] != code[order][:-1]]]
    cx, cy = x[first], y[first]  # one per code, in code order (codes 0..k-1 all present)
    by = np.argsort(code, kind="stable")
    bounds = np.searchsorted(code[by], np.arange(len(names) + 1))
    xy = np.column_stack([x[by], y[by]])
    hull = np.zeros(len(names))
    for k in range(len(names)):  # one qhull call per area, not per case
        pts = xy[bounds[k]:bounds[k + 1]]
        if len(pts) >= 3:
            try:
                hull[k] = ConvexHull(pts).volume  # in 2-D the "volume" is the area
            except QhullError:  # all cases on a line or at one point
                pass
    area_m2 = np.maximum(hull, MIN_AREA_EDGE_M ** 2)
    gm.grids = _frame(names, cx, cy, area_m2, np.full(len(names), np.nan), list(names),
                      ["district"] * len(names))
    return gm


def _area_lattice(names: list[str], edge_m: float = AREA_LATTICE_EDGE_M) -> GridMap:
    """Areas of a log without coordinates: one square grid of ``edge_m`` per area, laid
    on a near-square lattice in name order (distances between them mean nothing; the
    calibration notes it)."""
    n = len(names)
    k = max(1, int(np.ceil(np.sqrt(n))))
    r, c = np.divmod(np.arange(n), k)
    gm = GridMap(grids=_frame(list(names), (c + 0.5) * edge_m, (r + 0.5) * edge_m,
                              np.full(n, edge_m ** 2), np.full(n, np.nan), list(names),
                              ["district"] * n),
                 polygons=None, crs="", kind="areas")
    return gm


if __name__ == "__main__":  # timing: python -m govsim.calibration.grids
    import time

    rng = np.random.default_rng(0)
    n = 1_000_000
    lon = rng.uniform(116.30, 116.50, n)
    lat = rng.uniform(39.85, 40.00, n)
    t = time.perf_counter()
    cells = grids_from_cells(lon, lat, "200m")
    print(f"cells: {len(cells)} cells built in {time.perf_counter() - t:.2f} s")
    t = time.perf_counter()
    g = cells.assign(lon, lat)
    print(f"cells: assigned {n:,} points in {time.perf_counter() - t:.2f} s ({(g >= 0).mean():.1%} placed)")

    # a 100-polygon map: a 10 x 10 lattice of irregular 400-gons, written as GeoJSON
    import tempfile

    feats = []
    ang = np.linspace(0, 2 * np.pi, 401)[:-1]
    for i in range(10):
        for j in range(10):
            cx, cy = 116.31 + 0.018 * i, 39.86 + 0.0135 * j
            rad = rng.uniform(0.9, 1.0, len(ang))
            ring = np.column_stack([cx + 0.0099 * rad * np.cos(ang), cy + 0.0074 * rad * np.sin(ang)]).tolist()
            ring.append(ring[0])
            feats.append({"type": "Feature", "properties": {"id": f"g{i}_{j}"},
                          "geometry": {"type": "Polygon", "coordinates": [ring]}})
    with tempfile.NamedTemporaryFile("w", suffix=".geojson", delete=False) as fh:
        json.dump({"type": "FeatureCollection", "features": feats}, fh)
    gmap = grids_from_geojson(fh.name)
    Path(fh.name).unlink()
    t = time.perf_counter()
    g = gmap.assign(lon, lat)
    print(f"map: assigned {n:,} points to {len(gmap)} polygons in {time.perf_counter() - t:.2f} s "
          f"({(g >= 0).mean():.1%} placed)")
    t = time.perf_counter()
    gmap.patrol_points(16, np.random.default_rng(1))
    print(f"map: patrol points in {time.perf_counter() - t:.2f} s")

    area = np.array([f"area {k}" for k in range(300)], dtype=object)[rng.integers(0, 300, n)]
    area[rng.random(n) < 0.05] = None
    t = time.perf_counter()
    areas = grids_from_areas(area, lon, lat)
    print(f"areas: {len(areas)} grids built in {time.perf_counter() - t:.2f} s")
    t = time.perf_counter()
    g = areas.assign(lon, lat, area)
    print(f"areas: assigned {n:,} points in {time.perf_counter() - t:.2f} s ({(g >= 0).mean():.1%} placed)")
