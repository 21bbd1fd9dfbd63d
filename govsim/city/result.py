"""The result of a city run: every district's tables as one, a city summary, per-district breakdowns.

The core tables of each district (``issues``, ``false_alarms``, ``patrols``,
``workers``, ``grids``, ``sessions``, ``stations``, ``time_use``) are concatenated
in district order with a ``district`` column first; ids are made unique across the
city by offsetting each district's by the sizes of the districts before it (issue
and alarm ids, workers, grids, patrol points, stations; ``district_*`` columns keep
nothing else: the district's own id is the city id minus the district's offset,
see :attr:`CityResult.offsets`). The shared 12345 centre is one more station
(``district`` ``city``) and its visits are sessions like any other; the ``calls``
table has one row per call to it. So are the city's shared departments (in the order of
the city file) and mediation centre, after the 12345 centre: their sessions carry the
city ids of the districts' issues.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from govsim import metrics
from govsim.tables import core_tables

if TYPE_CHECKING:
    from govsim.city.centre import CentreOutcome
    from govsim.city.services import StationOutcome

__all__ = ["CityResult", "DistrictOutput", "table_hashes"]

CITY = "city"  # the `district` of the shared services' rows

#: metrics of the shared 12345 centre in the city summary
HOTLINE_KEYS = ("calls", "duplicate_call_share", "call_wait_mean", "call_wait_p90", "call_wait_max",
                "operator_utilisation", "calls_waiting_end")

#: metrics of the city's shared departments and mediation centre in the city summary
SERVICE_KEYS = ("settled_city_share", "city_mediation_wait_mean", "city_mediation_turned_away",
                "city_department_wait_mean", "city_department_utilisation")

#: how the facts every run keeps (``Result.governance``) pool over a city's districts (the
#: mechanisms' own: :attr:`govsim.mechanisms.Mechanism.pooling`)
CORE_POOLING = {"participation_end": "households", "infrastructure_cost_per_year": "sum"}

#: id columns of the governance mechanisms' tables, by name (any table): what each is offset by
MECHANISM_ID_COLUMNS = {"issue_id": "issue", "worker": "worker", "grid": "grid"}

#: columns holding ids, by table: what each is offset by (``issue``, ``worker``, ``grid``,
#: ``point``, ``station``); -1 (none) stays -1
ID_COLUMNS: dict[str, dict[str, str]] = {
    "issues": {"issue_id": "issue", "grid": "grid", "point": "point", "handler": "worker"},
    "false_alarms": {"alarm_id": "issue", "grid": "grid", "point": "point", "handler": "worker"},
    "patrols": {"worker": "worker", "grid": "grid"},
    "workers": {"worker": "worker", "home_grid": "grid"},
    "grids": {"grid": "grid"},
    "sessions": {"station": "station", "issue_id": "issue"},
    "stations": {"station": "station", "grid": "grid"},
    "time_use": {"worker": "worker"},
}


@dataclass
class DistrictOutput:
    """What a shard returns for one district: its tables and summary, sizes, cost."""

    index: int
    name: str
    tables: dict[str, pd.DataFrame]
    mechanism_tables: dict[str, pd.DataFrame]
    summary: pd.Series
    station_table: pd.DataFrame  # per station, jobs arriving after the warm-up
    sizes: dict[str, int]  # issue (ids incl. false alarms), worker, grid, point, station
    dispute_categories: list[str]
    made_known: np.ndarray  # local ids of issues that a call to the shared centre made known
    facts: dict[str, float] = field(default_factory=dict)  # Result.governance: what the mechanisms kept
    households: float = 0.0  # the district's households (the weight of its shares in the city's)
    n_unlisted: int = 0  # calls made that the centre was not given (duplicates: false, sharded)
    seconds: float = 0.0
    peak_rss_mib: float = 0.0
    host: str = ""


@dataclass
class CityResult:
    """Tables and metrics of one city run (the districts' runs and the shared services)."""

    name: str
    seed: Any
    horizon: float
    warmup: float
    districts: list[str]
    outputs: list[DistrictOutput] = field(repr=False)
    centre: CentreOutcome | None = field(default=None, repr=False)
    centre_name: str = "city_hotline"
    #: the city's shared departments and mediation centre: what each did with the hand-offs
    services: list[StationOutcome] = field(default_factory=list, repr=False)
    #: per district, what its ids were offset by: {"issue": .., "worker": .., "grid": .., ...}
    offsets: list[dict[str, int]] = field(default_factory=list, repr=False)
    #: sharded with ``duplicates: false``: one row per pass of the districts (calls given to the
    #: centre, calls made, calls that changed since the pass before, calls made that it was not given)
    convergence: list[dict[str, int]] = field(default_factory=list, repr=False)
    _tables: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.outputs = sorted(self.outputs, key=lambda o: o.index)
        run = {k: 0 for k in ("issue", "worker", "grid", "point", "station")}
        self.offsets = []
        for out in self.outputs:
            self.offsets.append(dict(run))
            for k in run:
                run[k] += out.sizes[k]
        self._totals = run

    # --- tables ---------------------------------------------------------------------------
    def table(self, name: str) -> pd.DataFrame:
        """Core table ``name`` of the whole city (see the module's docstring)."""
        if name not in self._tables:
            if name not in core_tables():
                raise KeyError(f"no table {name!r}; tables: {', '.join(core_tables())}")
            parts = [_offset(out.tables[name], name, out.name, off) for out, off in zip(self.outputs, self.offsets)]
            if name == "sessions":
                if self.centre is not None:
                    parts.append(self._centre_sessions())
                parts += [self._service_sessions(j) for j in range(len(self.services))]
            if name == "stations":
                if self.centre is not None:
                    parts.append(self._centre_station(0.0))
                parts += [self._service_station(j, 0.0) for j in range(len(self.services))]
            self._tables[name] = _concat(parts, self.districts)
        return self._tables[name]

    issues = property(lambda self: self.table("issues"), doc="One row per issue of every district.")
    false_alarms = property(lambda self: self.table("false_alarms"), doc="One row per sensor false alarm.")
    patrols = property(lambda self: self.table("patrols"), doc="One row per patrol segment.")
    workers = property(lambda self: self.table("workers"), doc="One row per worker.")
    grids = property(lambda self: self.table("grids"), doc="One row per grid of the city.")
    sessions = property(lambda self: self.table("sessions"), doc="One row per visit of an issue to a station.")
    stations = property(lambda self: self.table("stations"), doc="One row per station, the shared centre last.")
    time_use = property(lambda self: self.table("time_use"), doc="One row per stretch of a worker's time.")

    @property
    def mechanism_tables(self) -> dict[str, pd.DataFrame]:
        """The governance mechanisms' tables, concatenated with a ``district`` column first; the
        columns ``issue_id``, ``worker`` and ``grid`` hold city ids, as in the core tables."""
        names = dict.fromkeys(n for out in self.outputs for n in out.mechanism_tables)
        return {n: _concat([_offset(out.mechanism_tables[n], n, out.name, off, MECHANISM_ID_COLUMNS)
                            for out, off in zip(self.outputs, self.offsets) if n in out.mechanism_tables],
                           self.districts) for n in names}

    def pooled_facts(self) -> dict[str, float]:
        """The facts the districts' runs kept (``Result.governance``), pooled over the city by
        each fact's rule (:data:`CORE_POOLING`, the mechanisms' ``pooling``): a share of
        households as the household-weighted mean — a district where the mechanism is off
        (the fact absent) counts 0, a district that reports NaN (not modelled there, e.g.
        participation) is left out —, a cost as the sum; NaN for a fact without a rule."""
        from govsim.mechanisms import MECHANISMS

        rules = dict(CORE_POOLING)
        for mech in MECHANISMS.values():
            rules |= mech.pooling
        weight = np.array([o.households for o in self.outputs], dtype=float)
        out = {}
        for name in dict.fromkeys(k for o in self.outputs for k in o.facts):
            values = np.array([o.facts.get(name, 0.0) for o in self.outputs], dtype=float)
            rule = rules.get(name)
            if rule == "sum":
                out[name] = float(values.sum())
            elif rule == "households":
                has = ~np.isnan(values)
                w = weight[has]
                out[name] = float((values[has] * w).sum() / w.sum()) if w.sum() > 0 else math.nan
            else:
                out[name] = math.nan
        return out

    @property
    def calls(self) -> pd.DataFrame:
        """One row per call to the shared 12345 centre: the caller's district, the issue (city
        id), priority, when it arrived, started and ended, its wait, and whether it made the
        issue known (``False``: a duplicate, the grid already knew or the issue had closed)."""
        if self.centre is None:
            return pd.DataFrame(columns=["district", "issue_id", "priority", "arrived", "started", "ended",
                                         "wait", "made_known"])
        c = self.centre
        d = c.calls.district
        issue_off = np.array([o["issue"] for o in self.offsets], dtype=np.int64)
        known = np.zeros(len(d), dtype=bool)
        for k, out in enumerate(self.outputs):
            rows = np.flatnonzero(d == k)
            known[rows] = np.isin(c.calls.issue[rows], out.made_known)
        return pd.DataFrame({
            "district": pd.Categorical(np.asarray(self.districts, dtype=object)[d], categories=self.districts),
            "issue_id": c.calls.issue + issue_off[d], "priority": c.calls.priority,
            "arrived": c.arrived, "started": c.started, "ended": c.ended,
            "wait": c.started - c.arrived, "made_known": known})

    def _centre_sessions(self) -> pd.DataFrame:
        calls = self.calls
        return pd.DataFrame({"district": calls["district"].astype(str),
                             "station": np.full(len(calls), self._totals["station"], dtype=np.int64),
                             "issue_id": calls["issue_id"], "arrived": calls["arrived"],
                             "started": calls["started"], "ended": calls["ended"],
                             "turned_away": np.zeros(len(calls), dtype=bool), "wait": calls["wait"]})

    def _centre_station(self, warmup: float) -> pd.DataFrame:
        assert self.centre is not None
        c = self.centre
        info = pd.DataFrame({"station": [self._totals["station"]], "name": [self.centre_name],
                             "kind": ["hotline"], "level": [""], "grid": [-1],
                             "mean_queue": [c.mean_queue], "mean_busy": [c.mean_busy]})
        sessions = self._centre_sessions()
        table = metrics.station_table(sessions, info, [c.groups] * (self._totals["station"] + 1),
                                      warmup, self.horizon)
        return table.assign(district=CITY)

    def _service_index(self, j: int) -> int:
        """City station id of shared service ``j`` (after the districts' and the 12345 centre)."""
        return self._totals["station"] + (self.centre is not None) + j

    def _service_sessions(self, j: int) -> pd.DataFrame:
        o = self.services[j]
        h = o.handoffs
        issue_off = np.array([off["issue"] for off in self.offsets], dtype=np.int64)
        refused = o.refused
        started = np.where(refused, np.nan, o.started)
        return pd.DataFrame({
            "district": np.asarray(self.districts, dtype=object)[h.district] if len(h) else np.empty(0, object),
            "station": np.full(len(h), self._service_index(j), dtype=np.int64),
            "issue_id": h.issue + (issue_off[h.district] if len(h) else 0), "arrived": h.time,
            "started": started, "ended": np.where(refused, np.nan, o.ended), "turned_away": refused,
            "wait": started - h.time})

    def _service_station(self, j: int, warmup: float) -> pd.DataFrame:
        o = self.services[j]
        index = self._service_index(j)
        info = pd.DataFrame({"station": [index], "name": [o.spec.name], "kind": [o.spec.kind],
                             "level": [o.spec.level], "grid": [-1],
                             "mean_queue": [o.mean_queue], "mean_busy": [o.mean_busy]})
        table = metrics.station_table(self._service_sessions(j), info, [o.groups] * (index + 1), warmup,
                                      self.horizon)
        return table.assign(district=CITY)

    # --- metrics ----------------------------------------------------------------------------
    def by_district(self) -> pd.DataFrame:
        """Per-district breakdown: each district's own summary (one row per district, warm-up
        excluded), as :meth:`govsim.result.Result.summary` gives it; with a city mediation
        centre, also ``settled_city_share`` (the district's disputes settled there)."""
        table = pd.DataFrame([out.summary.rename(out.name) for out in self.outputs])
        if any(o.spec.kind == "mediation" for o in self.services):
            table["settled_city_share"] = [
                _settled_city_share(out.tables["issues"], out.dispute_categories, self.warmup)
                for out in self.outputs]
        return table

    def summary(self) -> pd.Series:
        """Headline metrics of the whole city (definitions in ``docs/metrics.md``), warm-up
        excluded: the core metrics computed on the city's tables (coverage: the districts'
        pooled by their patrol points and grids); the governance mechanisms' metrics measured
        on the city's tables with the districts' facts pooled (:meth:`pooled_facts`; the
        infrastructure cost summed); the shared 12345 centre's (:data:`HOTLINE_KEYS`) and the
        shared departments' and mediation centre's (:data:`SERVICE_KEYS`)."""
        warmup = self.warmup
        issues = self.issues
        out: dict[str, float] = metrics.issue_metrics(issues, self.horizon, warmup)
        points = np.array([o.sizes["point"] for o in self.outputs], dtype=float)
        grids = np.array([o.sizes["grid"] for o in self.outputs], dtype=float)
        for key, weight in (("point_coverage", points), ("grid_coverage", grids)):
            values = np.array([o.summary[key] for o in self.outputs], dtype=float)
            out[key] = float((values * weight).sum() / weight.sum()) if weight.sum() else math.nan
        hours = metrics.worker_hours(self.time_use, self._totals["worker"], warmup, self.horizon)
        out["worker_utilisation"] = metrics.utilisation(hours[(self.workers["kind"] == "grid_worker").to_numpy()])
        out["n_false_alarms"] = int((self.false_alarms["created_at"] >= warmup).sum())
        disputes = sorted({c for o in self.outputs for c in o.dispute_categories})
        out |= metrics.dispute_metrics(issues, disputes, warmup)
        shared = [self._service_station(j, warmup) for j in range(len(self.services))]
        stations = pd.concat([o.station_table for o in self.outputs] + shared, ignore_index=True)
        out |= metrics.station_metrics(stations, issues)
        out |= metrics.governance_metrics(issues, self.workers, self.time_use, self.mechanism_tables,
                                          self.pooled_facts(), warmup, self.horizon)
        out |= self._hotline_metrics(warmup)
        out |= self._service_metrics(issues, disputes, shared)
        keys = list(metrics.summary_keys()) + list(HOTLINE_KEYS) + list(SERVICE_KEYS)
        return pd.Series({k: out[k] for k in keys}, name=self.name)

    def _service_metrics(self, issues: pd.DataFrame, disputes: list[str],
                         shared: list[pd.DataFrame]) -> dict[str, float]:
        """The city's departments (waits pooled over their served cases, utilisation over their
        scheduled hours) and mediation centre (disputes settled there, wait, turned away)."""
        out = dict.fromkeys(SERVICE_KEYS, math.nan)
        rows = pd.concat(shared, ignore_index=True) if shared else None
        if rows is None:
            return out
        for kind, wait_key in (("mediation", "city_mediation_wait_mean"), ("department", "city_department_wait_mean")):
            mine = rows[rows["kind"] == kind]
            served = mine["n_served"].sum()
            if len(mine):
                out[wait_key] = float((mine["wait_mean"].fillna(0) * mine["n_served"]).sum() / served) \
                    if served else math.nan
        depts = rows[rows["kind"] == "department"]
        if len(depts) and depts["scheduled_h"].sum() > 0:
            out["city_department_utilisation"] = float(depts["busy_h"].sum() / depts["scheduled_h"].sum())
        centre = rows[rows["kind"] == "mediation"]
        if len(centre):
            out["settled_city_share"] = _settled_city_share(issues, disputes, self.warmup)
            out["city_mediation_turned_away"] = int(centre["n_turned_away"].sum())
        return out

    def _hotline_metrics(self, warmup: float) -> dict[str, float]:
        if self.centre is None:
            return dict.fromkeys(HOTLINE_KEYS, math.nan)
        calls = self.calls
        calls = calls[calls["arrived"] >= warmup]
        wait = calls["wait"].dropna()
        row = self._centre_station(warmup).iloc[0]
        n = len(calls)
        return {"calls": n,
                "duplicate_call_share": float((~calls["made_known"]).mean()) if n else math.nan,
                "call_wait_mean": float(wait.mean()) if len(wait) else math.nan,
                "call_wait_p90": float(wait.quantile(0.9)) if len(wait) else math.nan,
                "call_wait_max": float(wait.max()) if len(wait) else math.nan,
                "operator_utilisation": float(row["utilisation"]),
                "calls_waiting_end": int(calls["started"].isna().sum())}

    def hashes(self) -> dict[str, str]:
        """SHA-256 of every table (core tables and ``calls``): equal hashes, equal results."""
        return table_hashes({**{n: self.table(n) for n in core_tables()}, "calls": self.calls})

    # --- output -----------------------------------------------------------------------------
    def to_dir(self, path: str | Path) -> list[Path]:
        """Write the city's tables as CSV, ``summary.csv`` and ``by_district.csv`` to ``path``."""
        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        tables = {**{n: self.table(n) for n in core_tables()}, "calls": self.calls, **self.mechanism_tables}
        for name, df in tables.items():
            f = out / f"{name}.csv"
            df.to_csv(f, index=False)
            written.append(f)
        f = out / "summary.csv"
        self.summary().to_frame("value").to_csv(f, index_label="metric")
        written.append(f)
        f = out / "by_district.csv"
        self.by_district().to_csv(f, index_label="district")
        written.append(f)
        return written

    def __repr__(self) -> str:
        n = sum(o.sizes["issue"] for o in self.outputs)
        return (f"CityResult({self.name!r}, seed={self.seed}, districts={len(self.outputs)}, "
                f"issue and alarm ids={n}, horizon={self.horizon:g}h)")


def _settled_city_share(issues: pd.DataFrame, disputes: list[str], warmup: float) -> float:
    """Share of the disputes created at or after ``warmup`` that the city's centre settled."""
    d = issues[(issues["created_at"] >= warmup) & issues["category"].isin(disputes)]
    return float((d["settled_level"] == "city").mean()) if len(d) else math.nan


def _offset(df: pd.DataFrame, table: str, district: str, off: dict[str, int],
            columns: dict[str, str] | None = None) -> pd.DataFrame:
    """``df`` of ``district`` with its ids made the city's (``columns``: the id columns, by
    default the core table's) and a ``district`` column first."""
    df = df.copy()
    for col, kind in (ID_COLUMNS.get(table, {}) if columns is None else columns).items():
        if col in df.columns and off[kind]:
            v = df[col].to_numpy()
            df[col] = np.where(v >= 0, v + off[kind], v)
    df.insert(0, "district", district)
    return df


def _concat(parts: list[pd.DataFrame], districts: list[str]) -> pd.DataFrame:
    """Concatenate, keeping categorical columns categorical (their categories united)."""
    parts = [p for p in parts if p is not None]
    if not parts:
        return pd.DataFrame()
    cats = list(dict.fromkeys(c for p in parts for c in p.columns if isinstance(p[c].dtype, pd.CategoricalDtype)))
    united = {}
    for c in cats:  # categories in order of appearance (a state's codes keep their meaning)
        values = [p[c] if isinstance(p[c].dtype, pd.CategoricalDtype) else p[c].astype("category")
                  for p in parts if c in p.columns]
        united[c] = pd.api.types.union_categoricals(values).categories
    parts = [p.astype({c: pd.CategoricalDtype(united[c]) for c in cats if c in p.columns}) for p in parts]
    out = pd.concat(parts, ignore_index=True)
    out["district"] = pd.Categorical(out["district"], categories=[*districts, CITY])
    return out


def table_hashes(tables: dict[str, pd.DataFrame]) -> dict[str, str]:
    """SHA-256 of each table's values (row order and dtypes included)."""
    out = {}
    for name, df in tables.items():
        h = hashlib.sha256()
        h.update(",".join(f"{c}:{df[c].dtype}" for c in df.columns).encode())
        h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
        out[name] = h.hexdigest()
    return out
