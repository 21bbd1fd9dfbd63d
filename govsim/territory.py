"""Territory (辖区): district → street (街道) → community (社区) → grid (网格) → patrol point.

Grids are squares with patrol points (buildings, blocks) laid out on a small
lattice inside them, numbered in serpentine order so that walking the points in
order is a short tour. Everything is stored as flat arrays indexed by grid or
point id; travel time is distance / speed.
"""

from __future__ import annotations

import csv
import itertools
import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
from librt.vecs import vec
from mypy_extensions import i64
from scipy.spatial import cKDTree

from govsim.suggest import did_you_mean

if TYPE_CHECKING:
    from govsim.limits import Limits
    from govsim.scenario.schema import GridRow, TerritoryConfig

#: Grids whose neighbourhoods (:meth:`Territory.near`, :meth:`Territory.near_mask`) are
#: computed together when one of them is first asked for (one KD-tree query, one sort).
NEAR_BLOCK: Final = 128


@dataclass
class Territory:
    """Grids and patrol points of a district, as arrays."""

    grid_names: list[str]
    grid_x: np.ndarray  # centre, metres
    grid_y: np.ndarray
    grid_edge: np.ndarray  # metres
    grid_households: np.ndarray
    grid_area: np.ndarray  # index into area_types
    area_types: list[str]
    grid_community: np.ndarray  # index into communities
    communities: list[str]
    grid_street: np.ndarray  # index into streets
    streets: list[str]
    point_x: np.ndarray
    point_y: np.ndarray
    point_grid: np.ndarray
    point_weight: np.ndarray  # relative issue intensity (hotspots)
    grid_first_point: np.ndarray  # points of grid g are grid_first_point[g] : grid_first_point[g + 1]
    metric: str = "manhattan"

    def __post_init__(self) -> None:
        # vecs of numbers (librt.vecs): scalar access from the hot path is several times faster
        # than numpy's, and compiled, a read is one load of a C number (a list's item was a
        # pointer to a boxed number elsewhere in memory: in a year-long run, a cache miss)
        self._px: vec[float] = vec[float](self.point_x.tolist())
        self._py: vec[float] = vec[float](self.point_y.tolist())
        self._pgrid: vec[i64] = vec[i64](self.point_grid.tolist())
        self._manhattan = self.metric == "manhattan"
        self._tree: cKDTree | None = None
        # caches of the neighbourhoods: by radius, then a list by grid (None: not yet asked);
        # a float key and a list read, where a (grid, radius) key built a tuple and hashed it
        self._near: dict[float, list[tuple[vec[float], vec[i64]] | None]] = {}
        self._near_set: dict[float, list[frozenset[int] | None]] = {}
        self._near_mask: dict[float, list[int]] = {}  # −1: not yet asked
        # Largest distance from any position inside a grid to that grid's centre.
        half = float(self.grid_edge.max()) / 2
        self.centre_slack = 2 * half if self._manhattan else math.sqrt(2) * half

    def __reduce__(self) -> tuple[Any, ...]:
        # pickled and copied as its fields: the vecs (which do not pickle) and the caches are
        # rebuilt from them
        return (type(self), tuple(getattr(self, f.name) for f in fields(self)))

    # --- sizes ------------------------------------------------------------------
    @property
    def n_grids(self) -> int:
        return len(self.grid_names)

    @property
    def n_points(self) -> int:
        return len(self.point_x)

    def grid_points(self, grid: int) -> range:
        """Ids of the patrol points of ``grid``, in tour order."""
        return range(int(self.grid_first_point[grid]), int(self.grid_first_point[grid + 1]))

    def grid_of_point(self, point: int) -> int:
        return self._pgrid[point]

    # --- distances ------------------------------------------------------------------
    def distance(self, a: int, b: int) -> float:
        """Distance in metres between patrol points ``a`` and ``b``."""
        px, py = self._px, self._py
        if self._manhattan:
            return abs(px[a] - px[b]) + abs(py[a] - py[b])
        return math.hypot(px[a] - px[b], py[a] - py[b])

    def grids_near(self, grid: int, radius_m: float) -> list[tuple[float, int]]:
        """``(centre distance, grid)`` of grids whose centre lies within ``radius_m`` of
        ``grid``'s centre, nearest first (ties: lower grid first); a KD-tree query, never a
        full scan. :meth:`near` gives the same as two cached vecs."""
        distances, grids = self.near(grid, radius_m)
        return list(zip(distances, grids))

    def near(self, grid: int, radius_m: float) -> tuple[vec[float], vec[i64]]:
        """The centre distances and the grids of :meth:`grids_near`, as two vecs of numbers
        (cached; computed for a block of :data:`NEAR_BLOCK` grids at once)."""
        by_grid = self._near.get(radius_m)
        if by_grid is None:
            by_grid = self._near[radius_m] = [None] * self.n_grids
        found = by_grid[grid]
        if found is None:
            self._fill_near(by_grid, grid - grid % NEAR_BLOCK, radius_m)
            found = by_grid[grid]
            assert found is not None
        return found

    def _fill_near(self, by_grid: list[tuple[vec[float], vec[i64]] | None], first: int,
                   radius_m: float) -> None:
        """The neighbourhoods of grids ``first, first + 1, …`` (one block) into ``by_grid``: one
        KD-tree query and one sort for the block, each grid's the same as its own query gives
        (the grids within ``radius_m`` of its centre, by centre distance, then grid)."""
        if self._tree is None:
            self._tree = cKDTree(np.column_stack([self.grid_x, self.grid_y]))
        owners = np.arange(first, min(first + NEAR_BLOCK, self.n_grids))
        hits = self._tree.query_ball_point(np.column_stack([self.grid_x[owners], self.grid_y[owners]]),
                                           r=radius_m, p=1 if self._manhattan else 2)
        counts = [len(h) for h in hits]
        nb = np.fromiter(itertools.chain.from_iterable(hits), dtype=np.intp, count=sum(counts))
        owner = np.repeat(owners, counts)
        dx = np.abs(self.grid_x[nb] - self.grid_x[owner])  # (as _centre_distances, element by element)
        dy = np.abs(self.grid_y[nb] - self.grid_y[owner])
        d = dx + dy if self._manhattan else np.hypot(dx, dy)
        order = np.lexsort((nb, d, owner))  # by grid, then as near() orders: distance, then grid
        distances: list[float] = d[order].tolist()
        grids: list[int] = nb[order].tolist()
        start = 0
        for g, n in zip(owners.tolist(), counts):
            if by_grid[g] is None:
                by_grid[g] = (vec[float](distances[start:start + n]), vec[i64](grids[start:start + n]))
            start += n

    def near_mask(self, grid: int, radius_m: float) -> int:
        """The grids of :meth:`grids_near` as a bit mask (bit ``g`` set for grid ``g``; cached:
        a few hundred bytes per grid where a set takes kilobytes; computed for a block of
        :data:`NEAR_BLOCK` grids at once)."""
        by_grid = self._near_mask.get(radius_m)
        if by_grid is None:
            by_grid = self._near_mask[radius_m] = [-1] * self.n_grids
        found = by_grid[grid]
        if found < 0:
            first = grid - grid % NEAR_BLOCK
            owners = range(first, min(first + NEAR_BLOCK, self.n_grids))
            lists = [self.near(g, radius_m)[1] for g in owners]
            counts = [len(x) for x in lists]
            bits = np.zeros((len(owners), self.n_grids), dtype=bool)
            bits[np.repeat(np.arange(len(owners)), counts),
                 np.fromiter(itertools.chain.from_iterable(lists), dtype=np.intp, count=sum(counts))] = True
            packed = np.packbits(bits, axis=1, bitorder="little")  # each row as packbits packs it alone
            for j, g in enumerate(owners):
                if by_grid[g] < 0:
                    by_grid[g] = int.from_bytes(packed[j].tobytes(), "little")
            found = by_grid[grid]
        return found

    def grids_near_set(self, grid: int, radius_m: float) -> frozenset[int]:
        """The grids of :meth:`grids_near`, as a set (cached)."""
        by_grid = self._near_set.get(radius_m)
        if by_grid is None:
            by_grid = self._near_set[radius_m] = [None] * self.n_grids
        found = by_grid[grid]
        if found is None:
            found = by_grid[grid] = frozenset(self.near(grid, radius_m)[1])
        return found

    def _centre_distances(self, grid: int, others: np.ndarray) -> np.ndarray:
        dx = np.abs(self.grid_x[others] - self.grid_x[grid])
        dy = np.abs(self.grid_y[others] - self.grid_y[grid])
        return dx + dy if self._manhattan else np.hypot(dx, dy)

    # --- construction -----------------------------------------------------------------
    @classmethod
    def from_config(
        cls, cfg: TerritoryConfig, rng: np.random.Generator, base_dir: Path | None = None
    ) -> Territory:
        """Build the district of a scenario; ``rng`` draws households, area types and hotspots."""
        if cfg.grids_csv is not None:
            rows = read_grids_csv(Path(base_dir or ".") / cfg.grids_csv, limits=cfg.limits)
            return cls._from_rows(cfg, rows, rng, base_dir)
        if cfg.grids is not None:
            return cls._from_rows(cfg, list(cfg.grids), rng, base_dir)
        return cls._from_layout(cfg, rng)

    @classmethod
    def _from_layout(cls, cfg: TerritoryConfig, rng: np.random.Generator) -> Territory:
        n = cfg.rows * cfg.cols
        r, c = np.divmod(np.arange(n), cfg.cols)
        x = (c + 0.5) * cfg.edge_m
        y = (r + 0.5) * cfg.edge_m
        households = np.maximum(np.round(cfg.households.sample(rng, n)), 0.0)
        area_names = list(cfg.area_types)
        shares = np.array([cfg.area_types[a] for a in area_names], dtype=float)
        area = rng.choice(len(area_names), size=n, p=shares / shares.sum())
        cr, cc = cfg.community_size
        sr, sc = cfg.street_size
        comm_cols = -(-cfg.cols // cc)
        comm_r, comm_c = r // cr, c // cc
        community = comm_r * comm_cols + comm_c
        street_cols = -(-comm_cols // sc)
        street = (comm_r // sr) * street_cols + comm_c // sc
        return cls._assemble(
            cfg, rng,
            names=[f"g{i}" for i in range(n)], x=x, y=y,
            edge=np.full(n, float(cfg.edge_m)), households=households,
            area=area, area_names=area_names,
            community=community, communities=None,
            street=street, streets=None,
            points=np.full(n, cfg.points_per_grid),
        )

    @classmethod
    def _from_rows(cls, cfg: TerritoryConfig, rows: list[GridRow], rng: np.random.Generator,
                   base_dir: Path | None = None) -> Territory:
        n = len(rows)
        if n == 0:
            raise ValueError("the district has no grids")
        names = [g.name or f"g{i}" for i, g in enumerate(rows)]
        explicit = (read_points_csv(Path(base_dir or ".") / cfg.points_csv, names, cfg.limits)
                    if cfg.points_csv is not None else {})
        area_names = list(dict.fromkeys([*cfg.area_types, *(g.area_type for g in rows)]))
        comm_names = [g.community or f"c{i}" for i, g in enumerate(rows)]
        street_names = [g.street or "s0" for g in rows]
        communities = list(dict.fromkeys(comm_names))
        streets = list(dict.fromkeys(street_names))
        return cls._assemble(
            cfg, rng,
            names=names,
            x=np.array([g.x_m for g in rows], dtype=float),
            y=np.array([g.y_m for g in rows], dtype=float),
            edge=np.array([g.edge_m or cfg.edge_m for g in rows], dtype=float),
            households=np.array([g.households for g in rows], dtype=float),
            area=np.array([area_names.index(g.area_type) for g in rows]),
            area_names=area_names,
            community=np.array([communities.index(s) for s in comm_names]), communities=communities,
            street=np.array([streets.index(s) for s in street_names]), streets=streets,
            points=np.array([len(explicit[i][0]) if i in explicit else (g.points or cfg.points_per_grid)
                             for i, g in enumerate(rows)]),
            explicit=explicit,
        )

    @classmethod
    def _assemble(
        cls, cfg: TerritoryConfig, rng: np.random.Generator, *, names: list[str], x: np.ndarray,
        y: np.ndarray, edge: np.ndarray, households: np.ndarray, area: np.ndarray,
        area_names: list[str], community: np.ndarray, communities: list[str] | None,
        street: np.ndarray, streets: list[str] | None, points: np.ndarray,
        explicit: dict[int, tuple[np.ndarray, np.ndarray]] | None = None,
    ) -> Territory:
        px, py, pg = [], [], []
        for g in range(len(names)):
            if explicit and g in explicit:  # points inside a real polygon, in tour order
                gx, gy = explicit[g]
                px.append(gx)
                py.append(gy)
                pg.append(np.full(len(gx), g))
                continue
            ox, oy = lattice(int(points[g]), float(edge[g]))
            px.append(x[g] + ox)
            py.append(y[g] + oy)
            pg.append(np.full(len(ox), g))
        first = np.concatenate([[0], np.cumsum(points)]).astype(np.int64)
        n_points = int(first[-1])
        weight = np.maximum(np.asarray(cfg.point_weight.sample(rng, n_points), dtype=float), 0.0)
        if communities is None:
            communities = [f"c{i}" for i in range(int(community.max()) + 1)]
        if streets is None:
            streets = [f"s{i}" for i in range(int(street.max()) + 1)]
        return cls(
            grid_names=list(names), grid_x=np.asarray(x, float), grid_y=np.asarray(y, float),
            grid_edge=np.asarray(edge, float), grid_households=np.asarray(households, float),
            grid_area=np.asarray(area, np.int64), area_types=area_names,
            grid_community=np.asarray(community, np.int64), communities=communities,
            grid_street=np.asarray(street, np.int64), streets=streets,
            point_x=np.concatenate(px), point_y=np.concatenate(py),
            point_grid=np.concatenate(pg).astype(np.int64), point_weight=weight,
            grid_first_point=first, metric=cfg.distance,
        )


def lattice(n: int, edge: float) -> tuple[np.ndarray, np.ndarray]:
    """Offsets from the grid centre of ``n`` points on a near-square lattice, in
    serpentine (boustrophedon) order, so that visiting them in order is a short tour."""
    k = math.ceil(math.sqrt(n))
    rows = math.ceil(n / k)
    xs, ys = [], []
    for i in range(n):
        r, c = divmod(i, k)
        if r % 2:
            c = k - 1 - c
        xs.append((c + 0.5) * edge / k - edge / 2)
        ys.append((r + 0.5) * edge / rows - edge / 2)
    return np.array(xs), np.array(ys)


#: Longest field of a CSV file (the csv module's own limit; a longer one is refused clearly).
CSV_FIELD_CHARS = 131_072


def read_grids_csv(path: Path, limits: Limits | None = None) -> list[GridRow]:
    """Read a district table (one grid per row) into :class:`GridRow` records, validated
    like the rest of a scenario (errors name the file, the row and the column) and held
    to ``limits`` (default :data:`govsim.limits.DEFAULT`): at least one grid, at most
    ``limits.grids``, households and points within theirs."""
    from govsim.limits import DEFAULT, check_rows, exceeds
    from govsim.scenario.convert import build
    from govsim.scenario.errors import Problem, ScenarioError
    from govsim.scenario.schema import GridRow

    where = "territory.grids_csv"
    limits = limits or DEFAULT
    if not path.is_file():
        raise ScenarioError([Problem(where, f"file not found: {path}")], str(path))
    records = []
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            for rec in csv.DictReader(fh):
                records.append(rec)
                if len(records) > limits.grids:  # stop reading: the table is too large anyway
                    raise ScenarioError([Problem(where, exceeds("grids", f"more than {limits.grids:,}",
                                                                limits.grids, "grids in the file:"))], str(path))
    except UnicodeDecodeError as err:
        raise ScenarioError([Problem(where, f"not a UTF-8 text file ({err.reason} at byte {err.start}); "
                                            "save the table as CSV in UTF-8")], str(path)) from None
    except csv.Error as err:
        detail = (f"a field longer than {CSV_FIELD_CHARS:,} characters" if "field larger" in str(err)
                  else str(err))
        raise ScenarioError([Problem(where, f"not a readable CSV file: {detail}")], str(path)) from None
    except OSError as err:
        raise ScenarioError([Problem(where, f"cannot read the file: {err.strerror or err}")], str(path)) from None
    if not records:
        raise ScenarioError([Problem(where, "the table has no grids (expected a header line, e.g. "
                                            "x_m,y_m,households, and one line per grid)")], str(path))
    rows, problems = [], []
    for i, rec in enumerate(records):
        data = {k.strip(): _csv_value(v) for k, v in rec.items()
                if isinstance(k, str) and isinstance(v, str) and v != ""}
        try:
            rows.append(build(GridRow, data, path=f"row {i + 2}"))
        except ScenarioError as err:
            problems.extend(err.problems)
        if len(problems) >= 50:  # enough to see what is wrong with the file
            break
    if not problems:
        problems = check_rows(rows, limits, lambda i, col: where if i is None else f"row {i + 2}, column {col!r}")
    if problems:
        raise ScenarioError(problems, str(path))
    return rows


def _csv_value(text: str) -> object:
    text = text.strip()
    if not text.isascii():  # int() and float() read full-width '３００' as 300: keep it as text
        return text
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    return text


def read_points_csv(path: Path, grid_names: list[str],
                    limits: Limits | None = None) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Read a table of patrol points (columns ``grid``, ``x_m``, ``y_m``; each grid's points
    in tour order) into ``{grid index: (x, y)}``. Errors name the file, the row and the column;
    the table is held to ``limits`` (points per grid, points in all) and coordinates to
    :data:`govsim.limits.MAX_COORDINATE_M`."""
    from govsim.limits import DEFAULT, MAX_COORDINATE_M, exceeds
    from govsim.scenario.errors import Problem, ScenarioError

    limits = limits or DEFAULT
    where = "territory.points_csv"
    if not path.is_file():
        raise ScenarioError([Problem(where, f"file not found: {path}")], str(path))
    records = []
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            for rec in csv.DictReader(fh):
                records.append(rec)
                if len(records) > limits.points:  # stop reading: the table is too large anyway
                    raise ScenarioError([Problem(where, exceeds(
                        "points", f"more than {limits.points:,}", limits.points, "patrol points in the file:"))],
                        str(path))
    except (UnicodeDecodeError, csv.Error) as err:
        raise ScenarioError([Problem(where, f"not a readable UTF-8 CSV file ({err})")], str(path)) from None
    index = {name: g for g, name in enumerate(grid_names)}
    found: dict[int, tuple[list[float], list[float]]] = {}
    problems: list[Problem] = []
    for r, rec in enumerate(records, start=2):
        if len(problems) >= 20:
            break
        missing = [c for c in ("grid", "x_m", "y_m") if not (rec.get(c) or "").strip()]
        if missing:
            problems.append(Problem(f"row {r}", f"expected values in columns grid, x_m, y_m; missing {', '.join(missing)}"))
            continue
        grid = rec["grid"].strip()
        if grid not in index:
            problems.append(Problem(f"row {r}, column 'grid'", f"unknown grid {grid!r}"))
            continue
        xy = []
        for col in ("x_m", "y_m"):
            try:
                v = float(rec[col])
            except ValueError:
                v = math.nan
            if not math.isfinite(v) or abs(v) > MAX_COORDINATE_M:
                problems.append(Problem(f"row {r}, column {col!r}",
                                        f"expected a finite number of metres within ±{MAX_COORDINATE_M:,}, "
                                        f"got {rec[col]!r}"))
                v = math.nan
            xy.append(v)
        if len(xy) == 2 and all(math.isfinite(v) for v in xy):
            xs, ys = found.setdefault(index[grid], ([], []))
            xs.append(xy[0])
            ys.append(xy[1])
            if len(xs) == limits.points_per_grid + 1:
                problems.append(Problem(f"row {r}, column 'grid'", exceeds(
                    "points_per_grid", f"more than {limits.points_per_grid:,}", limits.points_per_grid,
                    f"patrol points of grid {grid!r}:")))
    if problems:
        raise ScenarioError(problems, str(path))
    return {g: (np.array(xs), np.array(ys)) for g, (xs, ys) in found.items()}


def read_rate_multipliers(path: Path, grid_names: list[str], categories: list[str],
                          limits: Limits | None = None) -> np.ndarray:
    """Read a table of rate multipliers (a column ``grid``, one column per category) into an
    array (category × grid); grids or categories missing from the table get 1. Errors name
    the file, the row and the column; a multiplier is held to ``limits.multiplier``."""
    from govsim.limits import DEFAULT, exceeds
    from govsim.scenario.errors import Problem, ScenarioError

    limits = limits or DEFAULT

    where = "territory.rate_multipliers_csv"
    if not path.is_file():
        raise ScenarioError([Problem(where, f"file not found: {path}")], str(path))
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = [h.strip() for h in next(reader, [])]
            records = list(reader)
    except (UnicodeDecodeError, csv.Error) as err:
        raise ScenarioError([Problem(where, f"not a readable UTF-8 CSV file ({err})")], str(path)) from None
    problems: list[Problem] = []
    if "grid" not in header:
        raise ScenarioError([Problem(where, f"expected a column 'grid'; columns: {', '.join(header)}")], str(path))
    grid_col = header.index("grid")
    cat_index = {name: i for i, name in enumerate(categories)}
    columns: list[tuple[int, int]] = []
    for j, name in enumerate(header):
        if j == grid_col:
            continue
        if name not in cat_index:
            problems.append(Problem(f"column {name!r}",
                                    f"not a category of the scenario{did_you_mean(name, categories)}"))
        else:
            columns.append((j, cat_index[name]))
    grid_index = {name: g for g, name in enumerate(grid_names)}
    out = np.ones((len(categories), len(grid_names)))
    seen: set[str] = set()
    for r, rec in enumerate(records, start=2):
        if not rec or all(not v.strip() for v in rec):
            continue
        if len(rec) != len(header):
            problems.append(Problem(f"row {r}", f"expected {len(header)} fields, got {len(rec)}"))
            continue
        grid = rec[grid_col].strip()
        if grid not in grid_index:
            problems.append(Problem(f"row {r}, column 'grid'", f"unknown grid {grid!r}"))
            continue
        if grid in seen:
            problems.append(Problem(f"row {r}, column 'grid'", f"grid {grid!r} appears twice"))
            continue
        seen.add(grid)
        for j, c in columns:
            text = rec[j].strip()
            if not text:
                continue
            try:
                value = float(text)
            except ValueError:
                value = math.nan
            if not math.isfinite(value) or value < 0:
                problems.append(Problem(f"row {r}, column {header[j]!r}",
                                        f"expected a finite number >= 0, got {text!r}"))
                continue
            if value > limits.multiplier:
                problems.append(Problem(f"row {r}, column {header[j]!r}",
                                        exceeds("multiplier", value, limits.multiplier)))
                continue
            out[c, grid_index[grid]] = value
    if problems:
        raise ScenarioError(problems, str(path))
    return out

