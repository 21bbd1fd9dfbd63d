"""Calibrate a scenario from a case log: the whole pipeline, and what it returns.

:func:`calibrate` reads and cleans the log (:mod:`~govsim.calibration.caselog`),
lays the grids (:mod:`~govsim.calibration.grids`), places the cases, and fits:

* **arrivals** — rate, hour-of-week profile and grid shares per category
  (:mod:`~govsim.calibration.arrivals`);
* **channels** — the share of each category found by staff (the log's staff
  channels: discovery by patrol in govsim) against reported by residents,
  reproduced through the report probability (with patrol detection 1, so staff
  find what residents do not report), corrected by simulation;
* **when cases arise** — the log shows when cases became *known*; the arrival
  profile is corrected by simulation so that the simulated discovery profile
  matches the log's (:func:`_correct_by_simulation`);
* **closure** — a log's created time is when a case became *known*, so
  closed − created is govsim's ``resolved_at − discovered_at``. Cases that staff
  find and close within hours are handled on the spot by the finder
  (``patrol_handles``; handling time fitted by maximum likelihood, family by AIC,
  :mod:`~govsim.calibration.durations`); the rest go to the category's
  department, whose working hours, staff and service time are fitted by
  simulation (:mod:`~govsim.calibration.capacity`).

The result, :class:`Calibration`, holds the scenario (``.scenario``, ``.to_yaml()``),
every fitted value with its uncertainty (``.tables``) and the row accounting
(``.rows``).
"""

from __future__ import annotations

import dataclasses
import math
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from govsim.calibration.arrivals import ArrivalFit, exposure_by_hour_of_week, fit_arrivals
from govsim.calibration.capacity import QUANTILES, DepartmentFit, fit_department, km_quantiles, working_hours
from govsim.calibration.errors import CalibrationError
from govsim.scenario.schema import WEEKDAYS, HoursConfig

#: Categories with fewer cases than this in the window are pooled into one.
MIN_CASES = 10
POOLED = "(other categories)"
#: Staff-found cases closed within this median are handled on the spot by the finder.
ON_THE_SPOT_H = 4.0
#: Closing staff-found cases on the spot may take at most this share of the patrolling
#: workers' hours (one worker per grid); beyond it the cases go to the department.
MAX_ON_SPOT_LOAD = 0.5
#: Fewer staff-found cases than this: too few to read the shifts from.
MIN_WORK_EVENTS = 30
#: A department fit whose quantiles miss by more than this (mean squared log-ratio, about
#: 22 % on average) is noted as loose.
POOR_FIT_LOSS = 0.05
#: Fewer department cases than this: no capacity fit (the closure distribution is used as
#: the service time, and the report says so).
MIN_DEPARTMENT_CASES = 30
REPORT_DELAY_MEAN_H = 0.5
POINTS_PER_GRID = 16
WARMUP_DAYS = 7


@dataclass
class CategoryFit:
    """What was fitted for one category."""

    name: str
    cases: int
    staff_cases: int
    staff_share: float
    staff_share_ci: tuple[float, float]
    report_prob: float
    patrol_handles: bool
    handling: Any | None  # DurationFit of the finder's handling (patrol_handles)
    department: DepartmentFit | None
    department_note: str = ""
    pooled_from: list[str] = field(default_factory=list)


@dataclass
class Calibration:
    """A scenario fitted to a case log, with what it was fitted from."""

    data: dict[str, Any]  # the scenario document (inline grids and rate multipliers)
    arrivals: ArrivalFit
    categories: list[CategoryFit]
    rows: pd.DataFrame  # every class of row, its count and how it was handled
    grids: pd.DataFrame  # one row per grid: name, x_m, y_m, edge_m, households, community, street, cases
    window: tuple[pd.Timestamp, pd.Timestamp]
    source: str
    placement: dict[str, int]  # cases placed in a grid / not placeable
    notes: list[str]
    gridmap: Any = None  # the GridMap (polygons for maps)
    _points_dir: Any = field(default=None, repr=False)  # keeps the patrol points file of a map alive

    @property
    def scenario(self) -> Any:
        """The fitted :class:`~govsim.scenario.schema.Scenario` (validated)."""
        from govsim.scenario import load_scenario

        return load_scenario(self.data)

    def table(self) -> pd.DataFrame:
        """One row per category: rate with its interval, staff share with its interval,
        report probability, closure model and department fit."""
        rows = []
        arr = self.arrivals.table().set_index("category")
        for c in self.categories:
            a = arr.loc[c.name]
            d = c.department
            rows.append({
                "category": c.name, "cases": c.cases, "rate_per_day": a.rate_per_day,
                "rate_lower": a.rate_lower, "rate_upper": a.rate_upper,
                "staff_share": c.staff_share, "staff_lower": c.staff_share_ci[0],
                "staff_upper": c.staff_share_ci[1], "report_prob": c.report_prob,
                "patrol_detect": self.data["categories"][c.name]["patrol_detect"],
                "patrol_handles": c.patrol_handles,
                "handling": c.handling.describe() if c.handling is not None else "",
                "department_staff": d.staff if d else np.nan,
                "service_mean_h": d.service.mean if d else np.nan,
                "closure_p50_obs": d.observed[2] if d else np.nan,
                "closure_p50_fit": d.simulated[2] if d else np.nan,
                "closure_p90_obs": d.observed[4] if d else np.nan,
                "closure_p90_fit": d.simulated[4] if d else np.nan,
                "note": c.department_note,
            })
        return pd.DataFrame(rows)

    def to_yaml(self, path: str | Path) -> Path:
        """Write the scenario to ``path`` with the grids and rate multipliers in CSV files
        beside it (``<stem>_grids.csv``, ``<stem>_rates.csv``); every fitted number carries
        a comment saying what it came from."""
        from govsim.calibration.writer import write_scenario

        return write_scenario(self, Path(path))


def calibrate(cases: str | Path | pd.DataFrame, columns: Mapping[str, str] | str, *,
              staff_channels: Sequence[str] = (), grids: str | Path | None = None,
              cell: float | str | None = None, areas: bool = False,
              window: tuple[Any, Any] | None = None, name: str | None = None,
              seed: int | None = 0, simulate: bool = True, min_cases: int = MIN_CASES,
              holidays: Sequence[Any] | str = (), tz: str | None = None) -> Calibration:
    """Fit a scenario to a case log.

    ``columns`` maps roles to the log's columns (``{"created": ..., "closed": ...,
    "category": ..., "channel": ..., "lat": ..., "lon": ..., "area": ...}`` or the CLI's
    ``"created=COL,closed=COL,..."``). Grids: a GeoJSON map (``grids``), square cells of
    ``cell`` metres (or ``"500m"``) over the cases' points, or the log's own ``areas``;
    by default cells of 1 km when the log has coordinates, else its areas, else one grid.
    ``simulate=False`` skips the simulation-based steps (department capacity, channel
    correction), e.g. for a quick look. ``holidays`` (dates) are fitted as Sundays — a
    holiday Monday would otherwise read as a quiet Monday; the simulated weeks have none.
    ``tz`` converts time-zone-aware timestamps to that zone's wall time.
    """
    from govsim.calibration.caselog import parse_columns, read_case_log

    if isinstance(columns, str):
        columns = parse_columns(columns)
    if isinstance(cell, str):
        from govsim.calibration.grids import parse_length

        cell = parse_length(cell)  # a bad size is an error before the log is read
    log = read_case_log(cases, columns, staff_channels=staff_channels, window=window, tz=tz)
    source = log.source
    df = log.cases
    seed = 0 if seed is None else int(seed)
    holidays = _holiday_list(holidays)
    notes: list[str] = list(getattr(log, "notes", ()))
    _check_usable(log, df, notes)

    try:
        gridmap, grid = _lay_grids(df, columns, grids, cell, areas, notes, source)
    except CalibrationError as err:
        raise err if err.source else err.with_source(str(source)) from None
    names, cat_idx, pooled = _categories(df["category"].to_numpy(dtype=object), min_cases)
    pooled_name = names[-1] if pooled else POOLED
    if pooled:
        notes.append(f"{_plural(len(pooled), 'category', 'categories')} with fewer than {min_cases} cases pooled into "
                     f"{pooled_name!r}: {', '.join(pooled)}")
    arrivals = fit_arrivals(df["created"], cat_idx, grid, names, len(gridmap.grids), log.window, holidays)
    if arrivals.days_unseen:
        notes.append("days of the week the log never saw, given the pooled pattern of their kind: "
                     + ", ".join(WEEKDAYS[d] for d in arrivals.days_unseen))
    if arrivals.hours_unseen:
        notes.append(f"{arrivals.hours_unseen} hours of the day the log never saw: their rate is the mean "
                     "of the hours it saw (a flat guess)")

    monday = _monday(log.window[0])
    window_h = (log.window[1] - monday) / pd.Timedelta(hours=1)
    created_h = ((df["created"] - monday) / pd.Timedelta(hours=1)).to_numpy()
    staff = df["staff"].to_numpy(bool)
    duration = df["duration_h"].to_numpy(float)
    censored = df["censored"].to_numpy(bool)
    usable = df["closure_ok"].to_numpy(bool)
    closed = df["closed"].to_numpy()
    day_exposure = exposure_by_hour_of_week(*log.window, holidays).reshape(7, 24).sum(axis=1)
    # Staff find cases only while on shift: the span holding 98% of them (closures, below,
    # run past closing time by the length of a session, so departments use 90%).
    shifts = (working_hours(df.loc[staff, "created"].to_numpy(), coverage=0.98, day_exposure=day_exposure,
                            holidays=holidays)
              if staff.any() else None)
    if shifts is None and staff.sum() >= MIN_WORK_EVENTS:  # staff find cases round the clock
        shifts = [HoursConfig(start=0.0, end=23 + 59 / 60)]
        notes.append("staff find cases at every hour: workers patrol round the clock (00:00–23:59)")
    elif shifts is None and staff.any():
        notes.append(f"only {int(staff.sum())} staff-found cases: too few to read shifts from; 08:00–16:00 assumed")
    # Patrolling workers' hours in the window (one per grid): what closing on the spot may use.
    shift_h = sum(h.weekly().hours_between(0.0, 168.0) for h in (shifts or [HoursConfig(start=8.0, end=16.0)]))
    weeks = (log.window[1] - log.window[0]) / pd.Timedelta(weeks=1)  # a float (a long window × many grids
    load = {"available": len(gridmap.grids) * shift_h * weeks, "used": 0.0}  # would overflow a Timedelta)
    cat_fits = []
    for c, cname in enumerate(names):
        in_c = cat_idx == c
        cat_fits.append(_fit_category(cname, in_c, staff, duration, censored, usable, closed, created_h,
                                      window_h, seed + c, simulate, pooled if cname == pooled_name else [],
                                      holidays, load))
    default_name = "calibrated" if isinstance(cases, pd.DataFrame) else (Path(str(source)).stem or "calibrated")
    data = _scenario_document(name or default_name, source, log, gridmap,
                              arrivals, cat_fits, shifts, seed)
    points_dir = None
    if gridmap.polygons is not None:
        # Patrol points inside the real polygons (the same file goes beside the written YAML).
        points_dir = tempfile.TemporaryDirectory(prefix="govsim-calibration-")
        points = gridmap.patrol_points(POINTS_PER_GRID, np.random.default_rng(np.random.SeedSequence(seed)))
        points["grid"] = gridmap.grids["name"].to_numpy()[points["grid"].to_numpy()]
        points_path = Path(points_dir.name) / "points.csv"
        points.round(1).to_csv(points_path, index=False)
        data["territory"]["points_csv"] = str(points_path)
    grids_table = gridmap.grids.copy()
    grids_table["cases"] = np.bincount(grid[grid >= 0], minlength=len(grids_table))
    cal = Calibration(data=data, arrivals=arrivals, categories=cat_fits, rows=log.rows,
                      grids=grids_table, window=log.window, source=str(source),
                      placement={"placed": int((grid >= 0).sum()), "not placed": int((grid < 0).sum())},
                      notes=notes, gridmap=gridmap, _points_dir=points_dir)
    if simulate:
        _correct_by_simulation(cal, seed)
    return cal


# --- pieces of the pipeline --------------------------------------------------------------

def _monday(t: pd.Timestamp) -> pd.Timestamp:
    t = pd.Timestamp(t)
    return t.normalize() - pd.Timedelta(days=int(t.day_of_week))


def _lay_grids(df: pd.DataFrame, columns: Mapping[str, str], grids: Any, cell: Any, areas: bool,
               notes: list[str], source: Any) -> tuple[Any, np.ndarray]:
    from govsim.calibration import grids as G

    lon = df["lon"].to_numpy(float) if "lon" in df else np.full(len(df), np.nan)
    lat = df["lat"].to_numpy(float) if "lat" in df else np.full(len(df), np.nan)
    area = df["area"].to_numpy(dtype=object) if "area" in df and "area" in columns else None
    has_xy = bool(np.isfinite(lon).any())
    chosen = sum(x is not None and x is not False for x in (grids, cell, areas or None))
    if chosen > 1:
        raise CalibrationError("give one of a grid map, a cell size or areas, not several", str(source))
    if grids is not None:
        if not has_xy:
            raise CalibrationError(_no_coordinates("a grid map", columns), str(source))
        gridmap = G.grids_from_geojson(grids)
    elif areas:
        if area is None:
            raise CalibrationError("--areas needs an area column: map area=COL", str(source))
        gridmap = G.grids_from_areas(area, lon, lat)
    elif cell is not None or has_xy:
        if not has_xy:
            raise CalibrationError(_no_coordinates("cells", columns), str(source))
        size = G.parse_length(cell if cell is not None else 1000.0)
        if cell is None:
            notes.append("grids: square cells of 1 km over the cases' points (give --cell, --areas or --grids)")
        gridmap = G.grids_from_cells(lon, lat, size)
    elif area is not None:
        gridmap = G.grids_from_areas(area, lon, lat)
        notes.append("grids: the log's own areas (no coordinates)")
    else:
        gridmap = _one_grid()
        notes.append("grids: the log has no usable coordinates and no areas, so the district is one grid")
        return gridmap, np.zeros(len(df), dtype=np.int64)
    if gridmap.kind == "areas" and not gridmap.crs:
        notes.append("grids: the log's areas have no coordinates, so they are laid on a lattice of "
                     "1 km squares; travel distances between them mean nothing")
    grid = gridmap.assign(lon, lat, area) if gridmap.kind == "areas" else gridmap.assign(lon, lat)
    n_out = int((grid < 0).sum())
    if n_out == len(grid) and len(grid):
        where = f"map {Path(str(grids)).name}" if grids is not None else gridmap.kind
        raise CalibrationError(f"no case falls in any grid of the {where} ({len(gridmap.grids)} grids): "
                               "check that the map and the cases' coordinates cover the same place "
                               "(lat/lon not swapped, the same datum)", str(source))
    if n_out:
        notes.append(f"{n_out:,} cases could not be placed in a grid (no usable coordinates, or outside "
                     "the map); they count in their category's rate and are spread over the grids like "
                     "the placed ones")
    return gridmap, np.asarray(grid, dtype=np.int64)


def _no_coordinates(what: str, columns: Mapping[str, str]) -> str:
    if "lat" in columns and "lon" in columns:
        return (f"{what} need the cases' coordinates, and no row of lat={columns['lat']}, "
                f"lon={columns['lon']} has usable ones (empty, not numbers — decimal commas? — or out "
                "of range: lat and lon swapped?); see the row classes of the log")
    return f"{what} need the cases' coordinates: map lat=COL,lon=COL"


def _one_grid() -> Any:
    from govsim.calibration.grids import GridMap

    table = pd.DataFrame({"name": ["g0"], "x_m": [500.0], "y_m": [500.0], "edge_m": [1000.0],
                          "area_m2": [1e6], "households": [np.nan], "community": ["c0"], "street": ["s0"]})
    return GridMap(grids=table, polygons=None, crs="", kind="areas")


def _categories(values: np.ndarray, min_cases: int) -> tuple[list[str], np.ndarray, list[str]]:
    counts = pd.Series(values).value_counts()
    keep = [str(k) for k, v in counts.items() if v >= min_cases]
    pooled = sorted(str(k) for k, v in counts.items() if v < min_cases)
    pooled_name = _pooled_name(keep)
    names = keep + ([pooled_name] if pooled else [])
    index = {n: i for i, n in enumerate(names)}
    pooled_i = index.get(pooled_name, -1)
    idx = np.array([index.get(str(v), pooled_i) for v in pd.unique(values)])
    codes = pd.Categorical(values, categories=pd.unique(values)).codes
    return names, idx[codes].astype(np.int64), pooled


def _pooled_name(names: Sequence[str]) -> str:
    """The name of the pooled rare categories: :data:`POOLED`, unless the log has a category
    of that very name."""
    name = POOLED
    while name in names:
        name = name[:-1] + ", pooled)"
    return name


def _holiday_list(holidays: Sequence[Any] | str | None) -> list[Any]:
    """Holidays as a list: one date, a comma-separated string, or a sequence of dates."""
    if holidays is None:
        return []
    if isinstance(holidays, str):
        return [h.strip() for h in holidays.split(",") if h.strip()]
    return list(holidays)


def _check_usable(log: Any, df: pd.DataFrame, notes: list[str]) -> None:
    """Refuse a log that cannot be calibrated, with the reason; note an over-long window."""
    w0, w1 = log.window
    if not w1 > w0:
        raise CalibrationError(
            f"the log's window is empty ({w0} to {w1}): rates need cases spread over time "
            "(give --window START,END if the log covers a known period)", log.source)
    if not (df["closure_ok"].to_numpy(bool) & ~df["censored"].to_numpy(bool)).any():
        raise CalibrationError(
            f"column {log.columns.get('closed', '?')!r} (closed): no case has a usable closed time (all "
            "empty, unparseable, cancelled or before created), so closure cannot be fitted; map closed=COL "
            "to the column of closing times", log.source)
    created = pd.DatetimeIndex(df["created"])
    gap = (w1 - created.max()) / pd.Timedelta(days=1)
    lead = (created.min() - w0) / pd.Timedelta(days=1)
    if max(gap, lead) > 1:
        notes.append(f"the window runs {lead:.1f} days before the first case and {gap:.1f} days after the "
                     "last: rates count those days as observed with no cases")


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"


def _wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return (max(0.0, mid - half), min(1.0, mid + half))


def _fit_category(name: str, in_c: np.ndarray, staff: np.ndarray, duration: np.ndarray,
                  censored: np.ndarray, usable: np.ndarray, closed: np.ndarray, created_h: np.ndarray,
                  window_h: float, seed: int, simulate: bool, pooled: list[str],
                  holidays: Sequence[Any] = (), load: dict[str, float] | None = None) -> CategoryFit:
    from govsim.calibration.durations import fit_duration

    n = int(in_c.sum())
    k = int((in_c & staff).sum())
    share = k / n if n else 0.0
    handling = None
    handling_note = load_note = ""
    on_spot = False
    s_ok = in_c & staff & usable
    if s_ok.sum() >= 10 and km_quantiles(duration[s_ok], censored[s_ok], (0.5,))[0] <= ON_THE_SPOT_H:
        # Staff close these within hours: the finder handles them on the spot, if the
        # patrolling workers have the time for it.
        work = float(np.minimum(duration[s_ok & ~censored], ON_THE_SPOT_H).sum())
        if load is None or load["used"] + work <= MAX_ON_SPOT_LOAD * load["available"]:
            if load is not None:
                load["used"] += work
            on_spot = True
            # The finder's handling time: fitted to the staff cases closed within the cut-off
            # (the rest were evidently not closed on the spot; their share is in the note).
            quick = s_ok & ~censored & (duration <= ON_THE_SPOT_H)
            handling = fit_duration(duration[quick])
            late = int((s_ok & ~quick).sum())
            if late:
                handling_note = (f"{late} of {int(s_ok.sum())} staff-found cases took longer than "
                                 f"{ON_THE_SPOT_H:g} h; the model closes every staff-found case on the spot")
        else:
            load_note = ("staff close these within hours, but closing them on the spot would take more "
                         f"than {MAX_ON_SPOT_LOAD:.0%} of the patrolling workers' time (one per grid): "
                         "they go to the department")
    to_dept = in_c & usable & (~staff if on_spot else np.ones_like(staff))
    department, note = None, ""
    n_dept = int(to_dept.sum())
    closed_dept = to_dept & ~censored
    if not closed_dept.any():
        # Nothing of this category was ever closed in the log: borrow the closure times of
        # every category, so its cases still go where cases go (a department), and say so.
        pool = usable & ~censored
        department = _delay_department(fit_duration(duration[pool]), duration[pool], censored[pool])
        note = (f"none closed in the log ({_plural(n, 'case')}, cancelled, never closed or with unusable "
                "closing times): closure borrowed from all categories (an always-open department with "
                "ample staff)")
    elif n_dept < MIN_DEPARTMENT_CASES or not simulate:
        department = _delay_department(fit_duration(duration[closed_dept]), duration[to_dept], censored[to_dept])
        note = (f"{_plural(n_dept, 'case')}: too few to fit a capacity; the closure distribution is the "
                "service time of an always-open department with ample staff"
                if simulate else "capacity not fitted (simulate=False)")
    else:
        hours = working_hours(closed[to_dept & ~censored], holidays=holidays)
        department = fit_department(created_h[to_dept], duration[to_dept], censored[to_dept], hours,
                                    window_h, seed=seed)
        notes_d = []
        if department.acts_as_delay:
            notes_d.append(f"acts as a delay: twice the staff moves the median closure by "
                           f"{department.staff_response:+.0%} (scheduled work or waiting for working hours, "
                           "not a queue), so a capacity what-if will not move it")
        if department.at_bound:
            notes_d.append(f"the search stopped at its bound for the {' and '.join(department.at_bound)}: "
                           "the fit is poor")
        if department.loss > POOR_FIT_LOSS:
            notes_d.append("closure quantiles fitted loosely (observed/simulated: " + ", ".join(
                f"p{int(100 * q)} {o:.0f}/{m:.0f} h" for q, o, m in
                zip(QUANTILES, department.observed, department.simulated)) + ")")
        days_off = [d for d in WEEKDAYS if hours is not None and all(d not in h.days for h in hours)]
        if days_off:
            notes_d.append(f"days off {', '.join(days_off)}: hardly any closures then in the log "
                           "(a holiday in a short log can cause this)")
        note = "; ".join(notes_d)
    return CategoryFit(name=name, cases=n, staff_cases=k, staff_share=share,
                       staff_share_ci=_wilson(k, n), report_prob=min(1.0, max(0.0, 1.0 - share)),
                       patrol_handles=on_spot, handling=handling, department=department,
                       department_note="; ".join(n for n in (handling_note, load_note, note) if n),
                       pooled_from=list(pooled))


def _delay_department(fit: Any, duration: np.ndarray, censored: np.ndarray) -> DepartmentFit:
    from govsim.distributions import LogNormal

    dist = fit.distribution()
    mean = max(float(dist.mean), 1e-3)
    sd = max(float(dist.sd), 1e-3)
    q = km_quantiles(duration, censored)
    return DepartmentFit(staff=10_000, service=LogNormal(mean, sd), hours=None, utilisation=0.0,
                         observed=q, simulated=np.asarray(fit.quantile(np.array(QUANTILES))),
                         loss=math.nan, evaluations=0, n_cases=len(duration))


def _scenario_document(name: str, source: Any, log: Any, gridmap: Any, arrivals: ArrivalFit,
                       cats: list[CategoryFit], shifts: Any, seed: int) -> dict[str, Any]:
    from govsim.scenario.convert import format_dist, format_hours, to_plain

    g = gridmap.grids
    households = g["households"].to_numpy(float)
    known_hh = np.isfinite(households) & (households > 0)
    if not known_hh.all():
        households = np.where(known_hh, households, 1000.0)
    total_kh = households.sum() / 1000.0
    window_days = (log.window[1] - log.window[0]) / pd.Timedelta(days=1)
    grid_rows = [{"name": str(r.name), "x_m": round(float(r.x_m), 1), "y_m": round(float(r.y_m), 1),
                  "households": float(h), "edge_m": round(max(float(r.edge_m), 1.0), 1),
                  "community": str(r.community), "street": str(r.street)}
                 for r, h in zip(g.itertuples(index=False), households)]
    rate_rows: dict[str, dict[str, float]] = {}
    categories: dict[str, Any] = {}
    departments: dict[str, Any] = {}
    grid_rate = arrivals.grid_rate()
    for c, fit in enumerate(cats):
        rate = float(arrivals.rate_per_day[c]) / total_kh  # per 1,000 households per day
        expected = rate * households / 1000.0
        mult = np.divide(grid_rate[c], expected, out=np.ones_like(expected), where=expected > 0)
        rate_rows[fit.name] = {str(n): round(float(m), 4) for n, m in zip(g["name"], mult)}
        cat: dict[str, Any] = {
            "rate": float(f"{rate:.6g}"),
            "weekly": [round(float(w), 4) for w in arrivals.weekly[c]],
            "priority": 3,
            "patrol_detect": 1.0 if fit.staff_cases else 0.0,
            "report": {"prob": round(fit.report_prob, 4),
                       "delay": {"dist": "exponential", "mean": f"{REPORT_DELAY_MEAN_H * 60:g}min"}},
        }
        if fit.department is not None:
            dept_name = fit.name
            cat["department"] = dept_name
            cat["patrol_handles"] = fit.patrol_handles
            d = fit.department
            departments[dept_name] = {
                "staff": int(d.staff),
                "hours": None if d.hours is None else [format_hours(h) for h in d.hours],
                "service": format_dist(d.service),
            }
        if fit.handling is not None:
            cat["handling"] = format_dist(fit.handling.distribution())
        categories[fit.name] = cat
    speed = _patrol_speed(float(np.median(g["edge_m"])), shifts)
    doc: dict[str, Any] = {
        "name": name,
        "description": (f"Calibrated from {Path(str(source)).name}: {len(log.cases):,} cases, "
                        f"{log.window[0]:%Y-%m-%d %H:%M} to {log.window[1]:%Y-%m-%d %H:%M} "
                        f"({window_days:.2f} days), {len(g)} grids ({gridmap.kind})"),
        "horizon": f"{WARMUP_DAYS + max(7, math.ceil(window_days))}d",
        "warmup": f"{WARMUP_DAYS}d",
        "seed": seed,
        "territory": {"grids": grid_rows, "points_per_grid": POINTS_PER_GRID, "distance": "euclidean",
                      "rate_multipliers": rate_rows},
        "categories": categories,
        "departments": departments,
        "workers": {"per_grid": 1, "speed_kmh": speed, "route": "fixed_cycle",
                    "shifts": [format_hours(h) for h in shifts] if shifts else [{"start": "08:00", "end": "16:00"}]},
        "channels": {"patrol": any(f.staff_cases for f in cats), "reports": {"enabled": True}},
        "policy": "smart_dispatch",
    }
    return to_plain(doc)


def _patrol_speed(edge_m: float, shifts: Any) -> float:
    """Walking pace (4 km/h) unless a grid's patrol cycle (about 16 points over its area,
    ~4 edges of travel) would not fit in half a shift: then the pace of a vehicle crew."""
    shift_h = 8.0
    if shifts:
        h = shifts[0]
        shift_h = (h.end - h.start) % 24 or 24.0
    cycle_km = 4 * edge_m / 1000.0
    needed = cycle_km / max(shift_h / 2 - 16 * 2 / 60, 0.5)
    return float(round(max(4.0, needed), 1))


def _correct_by_simulation(cal: Calibration, seed: int, rounds: int = 3, weeks: int = 4) -> None:
    """Simulate and correct, ``rounds`` times, what the log shows only after discovery.

    * **When cases become known.** The log's hour-of-week profile is that of *discovery*;
      patrol finds the unreported issues only during shifts, so arrivals with that same
      profile would be discovered later still. Each category's arrival profile is
      multiplied by observed / simulated discovery profile (a Richardson–Lucy
      deconvolution step; a bin's ratio is shrunk towards 1 by its simulated count).
    * **Who found them.** Where the simulated staff share of a category differs from the
      log's (patrol finds some issues before residents report them), the report
      probability moves by the difference; where residents already report everything and
      staff still find too many, the patrol detection probability is scaled down (staff
      pass things they do not log).
    """
    from govsim.engine import run

    names = [f.name for f in cal.categories]
    for _ in range(rounds):
        scenario = cal.scenario
        horizon = scenario.warmup + weeks * 168.0
        res = run(scenario, seed=seed, overrides={"horizon": f"{horizon}h"})
        iss = res.issues
        t = iss["discovered_at"].to_numpy(float)
        keep = np.isfinite(t) & (t >= scenario.warmup)
        how = np.floor(t[keep]).astype(np.int64) % 168
        cat = pd.Categorical(iss["category"].astype(str).to_numpy()[keep], categories=names).codes
        patrol = (iss["channel"].to_numpy(dtype=object)[keep] == "patrol")
        counts = np.zeros((len(names), 168))
        ok = cat >= 0
        np.add.at(counts, (cat[ok], how[ok]), 1.0)
        for c, fit in enumerate(cal.categories):
            doc = cal.data["categories"][fit.name]
            n_c = counts[c].sum()
            if n_c > 0:
                # Compared by kind of day (weekday, weekend) and hour: 48 bins, not 168, so
                # one simulation's noise does not leak into the profile.
                target = _by_day_kind(cal.arrivals.weekly[c] * n_c / cal.arrivals.weekly[c].sum())
                simulated = _by_day_kind(counts[c])
                ratio = (target + 0.5) / (simulated + 0.5)
                weight = simulated / (simulated + 20.0)
                ratio = np.exp(weight * np.log(ratio))
                arrival = np.asarray(doc["weekly"], float) * ratio[_DAY_KIND_OF_HOUR]
                doc["weekly"] = [round(float(w), 4) for w in arrival / arrival.mean()]
            if fit.staff_cases == 0 or not (cat == c).any():
                continue
            sim = float(patrol[cat == c].mean())
            new_p = min(1.0, max(0.0, fit.report_prob + (sim - fit.staff_share)))
            if new_p >= 1.0 and sim > fit.staff_share and sim > 0:
                doc["patrol_detect"] = round(float(doc["patrol_detect"]) * fit.staff_share / sim, 4)
            fit.report_prob = float(new_p)
            doc["report"]["prob"] = round(float(new_p), 4)


#: For each hour of the week, its bin among (weekday, weekend) × 24 hours.
_DAY_KIND_OF_HOUR = np.array([(24 if d >= 5 else 0) + h for d in range(7) for h in range(24)])


def _by_day_kind(weekly_counts: np.ndarray) -> np.ndarray:
    """Hour-of-week counts summed into (weekday, weekend) × hour-of-day bins."""
    return np.bincount(_DAY_KIND_OF_HOUR, weights=weekly_counts, minlength=48)

