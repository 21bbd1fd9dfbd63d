"""The result of a run: pandas tables built once, at the end, from compact records.

Tables (one row per...):

* ``issues`` — issue, with its whole history (see ``docs/metrics.md`` for columns);
* ``false_alarms`` — sensor false alarm and the trip it cost;
* ``patrols`` — patrol segment (a worker's uninterrupted patrol), from which
  ``visits`` (one row per visit of a patrol point) is expanded exactly on demand;
* ``time_use`` — stretch of a worker's on-shift time in one state;
* ``workers`` — worker, with its hours per state and utilisation;
* ``grids`` — grid of the district;
* ``sessions`` — visit of an issue to a station (mediation room, department, hotline centre);
* ``stations`` — station, with its waits and utilisation.

:meth:`Result.summary` gives the headline metrics as a pandas Series.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from govsim import metrics
from govsim.agents.stations import TURNED_AWAY, ServerGroup
from govsim.issues import Issue
from govsim.policies.routes import FixedCycle
from govsim.records import IssueLog
from govsim.tables import FALSE_ALARMS, ISSUES, PATROLS, SESSIONS, STATIONS, TIME_USE, core_tables

if TYPE_CHECKING:
    from govsim.tables import TableSpec
    from govsim.engine import Simulation
    from govsim.policies.routes import PatrolRoute
    from govsim.scenario.schema import Scenario
    from govsim.territory import Territory

ISSUE_COLUMNS = ISSUES.names


class Result:
    """Tables and metrics of one run."""

    def __init__(
        self, *, scenario: Scenario, seed: Any, issue_records: list[Issue] | IssueLog, alarm_records: list[Issue],
        category_names: list[str], territory: Territory,
        patrols: pd.DataFrame, time_use: pd.DataFrame, worker_info: pd.DataFrame, grids: pd.DataFrame,
        point_grid: np.ndarray, routes: list[PatrolRoute], sessions: pd.DataFrame,
        station_info: pd.DataFrame, station_groups: list[list[ServerGroup]], dispute_categories: list[str],
        tables: dict[str, pd.DataFrame] | None = None, governance: dict[str, float] | None = None,
    ) -> None:
        self.scenario = scenario
        self.seed = seed
        self.horizon = scenario.horizon
        self.warmup = scenario.warmup
        self._issue_records: list[Issue] | IssueLog | None = issue_records
        self._alarm_records = alarm_records
        self._category_names = category_names
        self._territory = territory
        self.patrols = patrols
        self.time_use = time_use
        self.grids = grids
        self._worker_info = worker_info
        self._point_grid = point_grid
        self._routes = routes
        self.sessions = sessions
        self._station_info = station_info
        self._station_groups = station_groups
        self.dispute_categories = dispute_categories
        tables = tables or {}
        #: the governance mechanisms' own tables, by name (empty for a mechanism that is off)
        self.tables = {spec.name: tables[spec.name] if tables.get(spec.name) is not None else spec.empty()
                       for spec in _mechanism_tables()}
        self.governance = dict(governance or {})  # facts the mechanisms kept about the run (Mechanism.facts)

    @property
    def council_topics(self) -> pd.DataFrame:
        """One row per deliberation of a topic at a resident council's sitting."""
        return self.tables["council_topics"]

    # --- construction ---------------------------------------------------------------------
    @classmethod
    def from_simulation(cls, sim: Simulation) -> Result:
        """The result of ``sim``, once its clock has stopped. The records move into the
        tables: the simulation's recorder is emptied, and its issue log once the issues
        table is built (on first use)."""
        terr = sim.territory
        cat_names = sim.categories.names
        # the records move into the tables (without a copy; the recorder starts empty)
        seg, uses, visits = sim.records.take()
        home = np.array([w.grids[0] for w in sim.workers], dtype=np.int64)
        patrols = PATROLS.from_records(seg, {"grid": home[seg["worker"]]})
        time_use = TIME_USE.from_records(uses)
        worker_info = pd.DataFrame({
            "worker": [w.id for w in sim.workers],
            "home_grid": home,
            "n_grids": [len(w.grids) for w in sim.workers],
            "shift": [w.shift_index for w in sim.workers],
            "n_handled": [w.n_handled for w in sim.workers],
            "kind": [w.kind for w in sim.workers],
            "role": [w.role for w in sim.workers],
            "trained": [w.trained for w in sim.workers],
        })
        has_sensor = np.zeros(terr.n_grids, dtype=bool)
        has_sensor[sim.sensor_grids] = True
        grids = pd.DataFrame({
            "grid": np.arange(terr.n_grids), "name": terr.grid_names,
            "community": [terr.communities[c] for c in terr.grid_community],
            "street": [terr.streets[s] for s in terr.grid_street],
            "area_type": [terr.area_types[a] for a in terr.grid_area],
            "households": terr.grid_households, "x_m": terr.grid_x, "y_m": terr.grid_y,
            "edge_m": terr.grid_edge, "n_points": np.diff(terr.grid_first_point), "sensor": has_sensor,
            "app": np.isin(np.arange(terr.n_grids), sim.app_grids),
            **_grid_columns(sim),
            "participation_end": sim.participation.at(np.arange(terr.n_grids), sim.horizon),
        })
        turned_away = visits["started"] == TURNED_AWAY
        started = np.where(turned_away, np.nan, visits["started"])
        ended = np.where(turned_away, np.nan, visits["ended"])
        sessions = SESSIONS.from_records(visits | {"started": started, "ended": ended},
                                         {"turned_away": turned_away, "wait": started - visits["arrived"]})
        station_info = pd.DataFrame({
            "station": [st.index for st in sim.stations], "name": [st.name for st in sim.stations],
            "kind": [st.kind for st in sim.stations], "level": [st.level for st in sim.stations],
            "grid": [st.grid for st in sim.stations],
            "mean_queue": [st.queue_area / sim.horizon for st in sim.stations],
            "mean_busy": [st.busy_area / sim.horizon for st in sim.stations],
        })
        if not sim.stations:  # no rows to take types from: the spec's
            station_info = STATIONS.empty()[list(station_info.columns)]
        disputes = [n for n, p in zip(cat_names, sim.categories.on_spot_success) if p is not None]
        chan = sim.scenario.channels
        governance: dict[str, float] = {}
        tables: dict[str, pd.DataFrame] = {}
        for m in sim.mechanisms:
            governance |= m.facts()
            tables |= m.table_rows()
        governance["participation_end"] = sim.participation.mean(sim.horizon)
        governance["infrastructure_cost_per_year"] = (len(sim.sensor_grids) * chan.sensors.cost_per_grid
                                                      + len(sim.app_grids) * chan.app.cost_per_grid)
        return cls(scenario=sim.scenario, seed=sim.seed, issue_records=sim.issue_log,
                   alarm_records=sim.false_alarms, category_names=cat_names, territory=terr,
                   patrols=patrols, time_use=time_use, worker_info=worker_info, grids=grids,
                   point_grid=terr.point_grid, routes=[w.route for w in sim.workers],
                   sessions=sessions, station_info=station_info,
                   station_groups=[list(st.groups) for st in sim.stations], dispute_categories=disputes,
                   tables=tables, governance=governance)

    # --- tables --------------------------------------------------------------------------
    @cached_property
    def issues(self) -> pd.DataFrame:
        """One row per issue with its whole history (columns: ``docs/metrics.md``)."""
        records = self._issue_records
        if isinstance(records, IssueLog):
            values = records.values(release=True)  # the table holds them from now on
        else:
            values = ISSUES.read(records or [])
        self._issue_records = None
        return _issue_table(values, self._category_names, self._territory)

    @cached_property
    def false_alarms(self) -> pd.DataFrame:
        """One row per sensor false alarm and the trip it cost."""
        return FALSE_ALARMS.from_records(FALSE_ALARMS.read(self._alarm_records))

    @cached_property
    def workers(self) -> pd.DataFrame:
        """One row per worker: hours per state over the whole run, utilisation, issues handled."""
        hours = metrics.worker_hours(self.time_use, len(self._worker_info), 0.0, self.horizon)
        return self._worker_info.merge(hours, on="worker")

    @cached_property
    def stations(self) -> pd.DataFrame:
        """One row per station over the whole run: arrivals, waits, utilisation, mean queue."""
        return self.station_table(0.0)

    def station_table(self, warmup: float | None = None) -> pd.DataFrame:
        """Per station, for jobs arriving in ``[warmup, horizon)``: ``n_arrived, n_turned_away,
        n_served, n_waiting_end, wait_mean, wait_p90, p_wait`` (share of served jobs that waited
        at all), ``busy_h``,
        ``scheduled_h`` (server-hours on duty) and ``utilisation``; plus ``mean_queue`` and
        ``mean_busy``, time averages over the whole run kept by the station itself."""
        warmup = self.warmup if warmup is None else warmup
        return metrics.station_table(self.sessions, self._station_info, self._station_groups,
                                     warmup, self.horizon)

    def iter_visits(self) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """``(worker, points, times)`` of every patrol visit, one worker at a time."""
        p = self.patrols
        return self._expand(p["worker"].to_numpy(), p["start"].to_numpy(), p["first_visit"].to_numpy(),
                            p["visits"].to_numpy())

    def _expand(self, worker: np.ndarray, start: np.ndarray, k0: np.ndarray,
                n: np.ndarray) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """``(worker, points, times)`` of the visits of the patrol segments given by columns,
        one worker at a time."""
        if len(worker) == 0:
            return
        order = np.argsort(worker, kind="stable")
        worker, start, k0, n = worker[order], start[order], k0[order], n[order]
        bounds = np.flatnonzero(np.diff(worker)) + 1
        for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, len(worker)]):
            w = int(worker[lo])
            route = self._routes[w]
            counts = n[lo:hi]
            total = int(counts.sum())
            if total == 0:
                continue
            seg_first = np.repeat(np.cumsum(counts) - counts, counts)
            ks = np.repeat(k0[lo:hi], counts) + (np.arange(total) - seg_first)
            points, offsets = route.visits(ks)
            _, off0 = route.visits(k0[lo:hi])
            times = np.repeat(start[lo:hi] - off0, counts) + offsets
            yield w, points, times

    @cached_property
    def visits(self) -> pd.DataFrame:
        """One row per patrol-point visit: ``worker, grid, point, time`` (expanded from
        ``patrols``; large for long runs of big districts — prefer :meth:`coverage`)."""
        parts = [(np.full(len(pts), w), pts, t) for w, pts, t in self.iter_visits()]
        if not parts:
            return pd.DataFrame({"worker": [], "grid": [], "point": [], "time": []})
        w = np.concatenate([x[0] for x in parts])
        pts = np.concatenate([x[1] for x in parts])
        t = np.concatenate([x[2] for x in parts])
        order = np.lexsort((w, t))
        return pd.DataFrame({"worker": w[order], "grid": self._point_grid[pts[order]],
                             "point": pts[order], "time": t[order]})

    def coverage(self, warmup: float | None = None) -> pd.DataFrame:
        """Per day (whole days after the warm-up): share of patrol points and of grids visited."""
        warmup = self.warmup if warmup is None else warmup
        days = metrics.coverage_days(self.horizon, warmup)
        return metrics.coverage_table(self._points_seen(days), self._point_grid, len(self.grids), days)

    def _points_seen(self, days: list[tuple[float, float]]) -> np.ndarray:
        """Days × patrol points: visited at least once that day. Exact, as if every visit were
        expanded from the patrol segments (:meth:`iter_visits`), but without expanding them on
        fixed-cycle routes: a segment whose first and last visits fall in one day visits, that
        day, a run of consecutive places of its cycle (all of them if it is at least one
        cycle long). Segments across a day's bounds, and other routes, are expanded."""
        starts = np.array([d[0] for d in days])
        ends = np.array([d[1] for d in days])
        seen = np.zeros((len(days), len(self._point_grid)), dtype=bool)
        p = self.patrols
        if len(p) == 0:
            return seen
        worker = p["worker"].to_numpy()
        start = p["start"].to_numpy()
        k0 = p["first_visit"].to_numpy()
        n = p["visits"].to_numpy()
        routes = self._routes
        fixed = np.array([isinstance(r, FixedCycle) for r in routes], dtype=bool)
        cycles = [r.cycle if isinstance(r, FixedCycle) else np.empty(0, np.int64) for r in routes]
        length = np.array([len(c) for c in cycles], dtype=np.int64)
        block = np.concatenate([[0], np.cumsum(length)[:-1]])  # where each route's cycle starts
        cum = np.concatenate([r.cum if isinstance(r, FixedCycle) else np.empty(0) for r in routes])
        period = np.array([r.period if isinstance(r, FixedCycle) else 0.0 for r in routes])
        on_cycle = np.flatnonzero(fixed[worker])
        cycle_points = np.concatenate(cycles) if cycles else np.empty(0, np.int64)
        expanded = np.ones(len(p), dtype=bool)  # segments left to expand visit by visit
        # Per segment on a cycle that lies within one day: that day and its run of places of
        # the concatenated cycles, [lo, hi) (two runs if it wraps round). Segments are taken
        # in blocks (in the order recorded, nearly by time), to keep the arrays small.
        for b0 in range(0, len(on_cycle), 1 << 14):
            sel = on_cycle[b0:b0 + (1 << 14)]
            w, ks, L = worker[sel], k0[sel], length[worker[sel]]
            # the first and last visits' times, computed as iter_visits computes every visit's
            per, first = period[w], block[w]
            base = start[sel] - _cycle_offset(ks, L, per, cum, first)
            t_first = base + _cycle_offset(ks, L, per, cum, first)
            t_last = base + _cycle_offset(ks + n[sel] - 1, L, per, cum, first)
            day = np.searchsorted(starts, t_first, side="right") - 1
            ok = ((day >= 0) & (day == np.searchsorted(starts, t_last, side="right") - 1)
                  & (t_last < ends[np.clip(day, 0, None)]))
            expanded[sel[ok]] = False
            d, w, L, ks = day[ok], w[ok], L[ok], ks[ok]
            i0 = ks % L
            count = np.minimum(n[sel][ok], L)
            lo = block[w] + i0
            wraps = i0 + count > L
            hi = np.where(wraps, block[w] + L, lo + count)
            _mark_runs(seen, np.concatenate([d, d[wraps]]),  # the part after a wrap: [block, block + i0 + count − L)
                       np.concatenate([lo, block[w][wraps]]),
                       np.concatenate([hi, (block[w] + i0 + count - L)[wraps]]), cycle_points)
        # the rest, visit by visit
        rest = expanded
        for _, points, times in self._expand(worker[rest], start[rest], k0[rest], n[rest]):
            metrics.mark_visits(seen, starts, ends, points, times)
        return seen

    # --- metrics -----------------------------------------------------------------------
    def summary(self, warmup: float | None = None) -> pd.Series:
        """Headline metrics (definitions in ``docs/metrics.md``); warm-up excluded."""
        warmup = self.warmup if warmup is None else warmup
        out = metrics.issue_metrics(self.issues, self.horizon, warmup)
        cov = self.coverage(warmup)
        out["point_coverage"] = float(cov["point_coverage"].mean())
        out["grid_coverage"] = float(cov["grid_coverage"].mean())
        hours = metrics.worker_hours(self.time_use, len(self._worker_info), warmup, self.horizon)
        out["worker_utilisation"] = metrics.utilisation(hours[self._worker_info["kind"] == "grid_worker"])
        out["n_false_alarms"] = int((self.false_alarms["created_at"] >= warmup).sum())
        out |= metrics.dispute_metrics(self.issues, self.dispute_categories, warmup)
        out |= metrics.station_metrics(self.station_table(warmup), self.issues)
        out |= metrics.governance_metrics(self.issues, self._worker_info, self.time_use, self.tables,
                                          self.governance, warmup, self.horizon)
        return pd.Series({k: out[k] for k in metrics.SUMMARY_KEYS}, name=self.scenario.name)

    # --- output ------------------------------------------------------------------------
    def to_dir(self, path: str | Path, fmt: str = "auto") -> list[Path]:
        """Write the tables (and the summary) to ``path``: Parquet if pyarrow is installed and
        ``fmt`` is ``auto`` or ``parquet``, else CSV, and ``run.json`` (the scenario and seed,
        for :meth:`from_dir`). Returns the files written."""
        import json

        if fmt in ("auto", "parquet"):
            try:
                import pyarrow  # noqa: F401
            except ImportError:
                if fmt == "parquet":
                    raise ImportError('writing Parquet tables needs pyarrow: pip install "govsim[parquet]" '
                                      '(or write CSV: fmt="csv", --format csv)') from None
                fmt = "csv"
            else:
                fmt = "parquet"
        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        tables = {**{name: getattr(self, name) for name in core_tables()},
                  **self.tables}
        for name, df in tables.items():
            f = out / f"{name}.{fmt}"
            if fmt == "parquet":
                df.to_parquet(f, index=False)
            else:
                df.to_csv(f, index=False)
            written.append(f)
        f = out / "summary.csv"
        self.summary().to_frame("value").to_csv(f, index_label="metric")
        written.append(f)
        f = out / "run.json"  # what was run, so that from_dir can rebuild the district and routes
        seed = self.seed
        if isinstance(seed, np.random.SeedSequence):
            seed = {"entropy": seed.entropy, "spawn_key": list(seed.spawn_key)}
        source = self.scenario.source
        if source and Path(source).is_file():
            source = str(Path(source).resolve())
        info = {"format": "govsim-run-dir/1", "name": self.scenario.name, "seed": seed,
                "horizon": self.horizon, "warmup": self.warmup, "source": source,
                "dispute_categories": self.dispute_categories, "governance": self.governance,
                "scenario": self.scenario.raw}
        # strict JSON: a NaN or infinite number (a fact of a mechanism that had nothing to
        # measure) is written null, and read back as NaN by from_dir
        text = json.dumps(_json_safe(info), indent=1, ensure_ascii=False, default=str, allow_nan=False)
        f.write_text(text + "\n", encoding="utf-8")
        written.append(f)
        return written

    @classmethod
    def from_dir(cls, path: str | Path) -> Result:
        """Read back a run written by :meth:`to_dir` (``govsim run --out DIR``): its tables as
        written, with the district and patrol routes rebuilt from the scenario and seed in
        ``run.json`` (nothing is simulated again), so that visits, coverage and the summary
        work as on the original run. Raises ``ValueError`` if ``path`` holds no such run."""
        import dataclasses
        import json

        from govsim.engine import Simulation
        from govsim.scenario import load_scenario

        src = Path(path)
        try:
            info = json.loads((src / "run.json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ValueError(f"{src}: no run.json: not a directory written by `govsim run --out` "
                             f"(or by an older govsim: run it again)") from None
        except (OSError, ValueError) as err:
            raise ValueError(f"{src / 'run.json'}: unreadable ({err})") from None
        if isinstance(info.get("governance"), dict):  # facts written null were NaN
            info["governance"] = {k: math.nan if v is None else v for k, v in info["governance"].items()}
        tables = {}
        for name in core_tables():
            parquet, csv = src / f"{name}.parquet", src / f"{name}.csv"
            if not (parquet.exists() or csv.exists()):
                raise ValueError(f"{src}: {name}.parquet or {name}.csv is missing")
            tables[name] = pd.read_parquet(parquet) if parquet.exists() else pd.read_csv(csv)
        scenario = load_scenario(info["scenario"])
        if info.get("source"):
            scenario = dataclasses.replace(scenario, source=info["source"])
        seed = info["seed"]
        if isinstance(seed, dict):
            seed = np.random.SeedSequence(seed["entropy"], spawn_key=tuple(seed["spawn_key"]))
        try:
            sim = Simulation(scenario, seed)
        except KeyError as err:  # a policy or route registered by a module not imported here
            raise ValueError(f"{src}: cannot rebuild scenario {scenario.name!r}: unknown {err}; "
                             f"import the module that registers it first") from None
        terr = sim.territory  # the categories of the issues' category columns
        known = {"category": sim.categories.names, "community": terr.communities, "street": terr.streets}
        for name, spec in core_tables().items():  # dtypes as written (an empty CSV has none)
            tables[name] = spec.coerce(tables[name], known if name == "issues" else None)
        issues, time_use, sessions = tables["issues"], tables["time_use"], tables["sessions"]
        hours = [f"{state}_h" for state in metrics.TIME_USE_STATES] + ["worked_h", "utilisation"]
        issues["path"] = issues["path"].astype(object).where(issues["path"].notna(), "").astype(str)
        out = cls(scenario=scenario, seed=seed, issue_records=[], alarm_records=[],
                  category_names=sim.categories.names, territory=sim.territory,
                  patrols=tables["patrols"], time_use=time_use,
                  worker_info=tables["workers"].drop(columns=hours),
                  grids=tables["grids"], point_grid=sim.territory.point_grid,
                  routes=[w.route for w in sim.workers], sessions=sessions,
                  station_info=tables["stations"][["station", "name", "kind", "level", "grid",
                                                   "mean_queue", "mean_busy"]],
                  station_groups=[list(st.groups) for st in sim.stations],
                  dispute_categories=info["dispute_categories"],
                  tables=_read_mechanism_tables(src), governance=info.get("governance"))
        for name in ("issues", "false_alarms", "workers", "stations"):  # the tables as written
            out.__dict__[name] = tables[name]
        return out

    def __repr__(self) -> str:
        return (f"Result({self.scenario.name!r}, seed={self.seed}, issues={len(self.issues)}, "
                f"horizon={self.horizon:g}h)")


def _mechanism_tables() -> list[TableSpec]:
    from govsim.mechanisms import MECHANISMS

    return [spec for m in MECHANISMS.values() for spec in m.tables]


def _grid_columns(sim: Simulation) -> dict[str, np.ndarray]:
    """Columns of the grids table contributed by the governance mechanisms (0 when off)."""
    from govsim.mechanisms import MECHANISMS

    on = {type(m).name: m.grid_values() for m in sim.mechanisms}
    zeros = np.zeros(sim.territory.n_grids)
    return {col.name: on.get(name, {}).get(col.name, zeros)
            for name, m in MECHANISMS.items() for col in m.grid_columns}


def _read_mechanism_tables(src: Path) -> dict[str, pd.DataFrame]:
    """The mechanisms' tables of a run directory (missing ones: an older govsim, or a
    mechanism registered after the run was written — left empty)."""
    out = {}
    for spec in _mechanism_tables():
        parquet, csv = src / f"{spec.name}.parquet", src / f"{spec.name}.csv"
        if parquet.exists():
            out[spec.name] = pd.read_parquet(parquet)
        elif csv.exists():
            df = pd.read_csv(csv)
            out[spec.name] = spec.coerce(df) if len(df) else spec.empty()
    return out


def _issue_table(values: dict[str, np.ndarray], cat_names: list[str], terr: Territory) -> pd.DataFrame:
    """The issue records (their recorded values, as :meth:`TableSpec.read` gives them) as a
    table (its spec: :data:`govsim.tables.ISSUES`); community and street from the grid."""
    grid = values["grid"]
    return ISSUES.from_records(values, {
        "community": pd.Categorical.from_codes(terr.grid_community[grid], pd.Index(terr.communities)),
        "street": pd.Categorical.from_codes(terr.grid_street[grid], pd.Index(terr.streets)),
    }, categories={"category": cat_names})


def _mark_runs(seen: np.ndarray, day: np.ndarray, lo: np.ndarray, hi: np.ndarray,
               cycle_points: np.ndarray, step: int = 4) -> None:
    """Mark in ``seen`` (days × points) the points of places ``[lo, hi)`` of the concatenated
    cycles ``cycle_points`` as visited on ``day``, a few days at a time."""
    if len(day) == 0:
        return
    order = np.argsort(day, kind="stable")
    day, lo, hi = day[order], lo[order], hi[order]
    width = len(cycle_points) + 1
    d0 = int(day[0])
    while d0 <= day[-1]:
        a, b = np.searchsorted(day, [d0, d0 + step])
        if a < b:
            nd = min(step, len(seen) - d0)
            at = (day[a:b] - d0) * width
            change = (np.bincount(at + lo[a:b], minlength=nd * width)
                      - np.bincount(at + hi[a:b], minlength=nd * width))
            covered = np.cumsum(change.reshape(nd, width), axis=1)[:, :-1] > 0
            rows, cols = np.nonzero(covered)
            seen[rows + d0, cycle_points[cols]] = True
        d0 = int(day[b]) if b < len(day) else d0 + step  # on to the next day with runs


def _cycle_offset(k: np.ndarray, length: np.ndarray, period: np.ndarray, cum: np.ndarray,
                  first: np.ndarray) -> np.ndarray:
    """Offsets of visits ``k`` of fixed cycles (each of its ``length``, ``period`` and place
    ``first`` of its cumulative step times in ``cum``), as :meth:`FixedCycle.visits` computes them."""
    q, i = np.divmod(k, length)
    return q * period + cum[first + i]


def _json_safe(obj: Any) -> Any:
    """``obj`` with every NaN or infinite float replaced by None (strict JSON)."""
    if isinstance(obj, float) or (isinstance(obj, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    return obj
