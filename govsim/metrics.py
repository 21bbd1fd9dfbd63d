"""Metrics (指标) computed from a run's tables. Exact definitions: ``docs/metrics.md``.

All functions are pure: tables in, numbers out. Times are hours from the start
of the run; the warm-up ``[0, warmup)`` is excluded: issues created in it are not
counted, and worker time and patrol visits are clipped to ``[warmup, horizon)``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from govsim.issues import Status

TIME_USE_STATES = ("patrol", "travel", "handle", "idle")

#: metrics of every run: issues, patrol coverage, workers, disputes, stations
CORE_KEYS = (
    "n_issues", "resolution_rate", "lapsed_share", "discovered_share",
    "discovery_delay_mean", "discovery_delay_p50", "discovery_delay_p90",
    "dispatch_delay_mean", "response_time_mean", "response_time_p90",
    "resolution_time_mean", "resolution_time_p50", "resolution_time_p90",
    "on_time_rate", "point_coverage", "grid_coverage", "backlog_end", "hidden_end",
    "worker_utilisation", "n_false_alarms",
    "n_disputes", "dispute_resolution_rate", "settled_grid_share", "settled_community_share",
    "settled_street_share", "settled_district_share", "unsettled_share",
    "mediation_wait_mean", "mediator_utilisation", "department_backlog_end",
)
#: metrics after the governance mechanisms' own: the cost of sensors and the app
TAIL_KEYS = ("infrastructure_cost",)


def governance_keys() -> tuple[str, ...]:
    """Metrics of the registered governance mechanisms (in registration order), then
    :data:`TAIL_KEYS`: zero (or NaN) in a scenario without them."""
    from govsim.mechanisms import MECHANISMS

    return tuple(k for m in MECHANISMS.values() for k in m.metrics) + TAIL_KEYS


def summary_keys() -> tuple[str, ...]:
    """The metrics of :meth:`Result.summary`, in order: :data:`CORE_KEYS`, then
    :func:`governance_keys` (including those of mechanisms registered by study code)."""
    return CORE_KEYS + governance_keys()


if TYPE_CHECKING:
    SUMMARY_KEYS: tuple[str, ...]
    GOVERNANCE_KEYS: tuple[str, ...]


def __getattr__(name: str) -> tuple[str, ...]:
    # SUMMARY_KEYS and GOVERNANCE_KEYS follow the registry: a mechanism registered by
    # study code adds its metrics to both.
    if name == "SUMMARY_KEYS":
        return summary_keys()
    if name == "GOVERNANCE_KEYS":
        return governance_keys()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


LADDER_LEVELS = ("grid", "community", "street", "district")


def _stats(values: pd.Series, prefix: str, quantiles: Iterable[int]) -> dict[str, float]:
    v = values.dropna().to_numpy(dtype=float)
    out = {f"{prefix}_mean": float(v.mean()) if len(v) else math.nan}
    for q in quantiles:
        out[f"{prefix}_p{q}"] = float(np.percentile(v, q)) if len(v) else math.nan
    return out


def after_warmup(issues: pd.DataFrame, warmup: float) -> pd.DataFrame:
    """The issues created at or after ``warmup`` (``issues`` itself, not a copy, when that is
    all of them)."""
    keep = issues["created_at"].to_numpy() >= warmup
    return issues if keep.all() else issues[keep]


def issue_metrics(issues: pd.DataFrame, horizon: float, warmup: float = 0.0) -> dict[str, float]:
    """Counts, shares and time statistics of the issues created in ``[warmup, horizon)``."""
    df = after_warmup(issues, warmup)
    n = len(df)
    status = df["status"]
    out: dict[str, float] = {
        "n_issues": n,
        "resolution_rate": float((status == Status.RESOLVED).mean()) if n else math.nan,
        "lapsed_share": float((status == Status.LAPSED).mean()) if n else math.nan,
        "discovered_share": float(df["discovered_at"].notna().mean()) if n else math.nan,
    }
    out |= _stats(df["discovered_at"] - df["created_at"], "discovery_delay", (50, 90))
    out["dispatch_delay_mean"] = _stats(df["assigned_at"] - df["discovered_at"], "d", ())["d_mean"]
    out |= _stats(df["arrived_at"] - df["discovered_at"], "response_time", (90,))
    out |= _stats(df["resolved_at"] - df["created_at"], "resolution_time", (50, 90))
    deadline = df["deadline_at"].to_numpy()
    due = deadline <= horizon  # (column by column: a filtered copy of the table is large)
    out["on_time_rate"] = (float((df["resolved_at"].to_numpy()[due] <= deadline[due]).mean())
                           if due.any() else math.nan)
    open_known = status.isin([Status.REPORTED, Status.WAITING, Status.ASSIGNED, Status.IN_PROGRESS])
    out["backlog_end"] = int(open_known.sum())
    out["hidden_end"] = int((status == Status.HIDDEN).sum())
    return out


def coverage_days(horizon: float, warmup: float = 0.0) -> list[tuple[float, float]]:
    """The days over which coverage is measured: the whole days within
    ``[warmup, horizon)``, or that interval itself when it holds no whole day."""
    first = math.ceil(warmup / 24.0 - 1e-9)
    last = math.floor(horizon / 24.0 + 1e-9)
    if last <= first:
        return [(warmup, horizon)]
    return [(d * 24.0, d * 24.0 + 24.0) for d in range(first, last)]


def coverage_by_day(visits: Iterable[tuple[np.ndarray, np.ndarray]], point_grid: np.ndarray,
                    n_grids: int, days: list[tuple[float, float]]) -> pd.DataFrame:
    """Share of patrol points and of grids visited at least once in each day.

    ``visits`` yields ``(points, times)`` array pairs (e.g. one per worker).
    """
    seen = np.zeros((len(days), len(point_grid)), dtype=bool)
    starts = np.array([d[0] for d in days])
    ends = np.array([d[1] for d in days])
    for points, times in visits:
        mark_visits(seen, starts, ends, points, times)
    return coverage_table(seen, point_grid, n_grids, days)


def mark_visits(seen: np.ndarray, starts: np.ndarray, ends: np.ndarray, points: np.ndarray,
                times: np.ndarray) -> None:
    """Mark in ``seen`` (days × points) the visits of ``points`` at ``times`` that fall in a
    day ``[starts[d], ends[d])``."""
    day = np.searchsorted(starts, times, side="right") - 1
    ok = (day >= 0) & (times < ends[np.clip(day, 0, None)])
    seen[day[ok], points[ok]] = True


def coverage_table(seen: np.ndarray, point_grid: np.ndarray, n_grids: int,
                   days: list[tuple[float, float]], block: int = 8) -> pd.DataFrame:
    """The coverage table from ``seen`` (days × points: visited at least once that day):
    share of points and of grids (a grid counts if any of its points was visited)."""
    n_points = len(point_grid)
    grid_seen = np.zeros((len(days), n_grids), dtype=bool)
    for d0 in range(0, len(days), block):  # a few days at a time: the index arrays stay small
        rows, cols = np.nonzero(seen[d0:d0 + block])
        grid_seen[rows + d0, point_grid[cols]] = True
    return pd.DataFrame({
        "day_start": np.array([d[0] for d in days]), "day_end": np.array([d[1] for d in days]),
        "point_coverage": seen.mean(axis=1) if n_points else np.nan,
        "grid_coverage": grid_seen.mean(axis=1) if n_grids else np.nan,
    })


def worker_hours(time_use: pd.DataFrame, n_workers: int, t0: float, t1: float) -> pd.DataFrame:
    """Hours per worker and state (a categorical of :data:`TIME_USE_STATES` first) within ``[t0, t1)``, with ``worked`` (on shift, including
    overtime) and ``utilisation`` (share of worked time travelling to or handling issues)."""
    # clipped to [t0, t1), in place (a year's time use has over a million rows)
    hours = np.clip(time_use["end"].to_numpy(), t0, t1)
    hours -= np.clip(time_use["start"].to_numpy(), t0, t1)
    w = time_use["worker"].to_numpy()
    s = time_use["state"].cat.codes.to_numpy()
    table = np.zeros((n_workers, len(TIME_USE_STATES)))
    np.add.at(table, (w, s), hours)
    out = pd.DataFrame(table, columns=[f"{st}_h" for st in TIME_USE_STATES])
    out.insert(0, "worker", np.arange(n_workers))
    out["worked_h"] = table.sum(axis=1)
    busy = out["travel_h"] + out["handle_h"]
    out["utilisation"] = np.divide(busy, out["worked_h"], out=np.full(n_workers, np.nan),
                                   where=out["worked_h"].to_numpy() > 0)
    return out


def utilisation(hours: pd.DataFrame) -> float:
    """Pooled utilisation: all travel and handling hours over all worked hours."""
    worked = hours["worked_h"].sum()
    return float((hours["travel_h"].sum() + hours["handle_h"].sum()) / worked) if worked > 0 else math.nan


def dispute_metrics(issues: pd.DataFrame, dispute_categories: list[str], warmup: float = 0.0) -> dict[str, float]:
    """化解率 and where disputes were settled, over disputes created at or after ``warmup``."""
    d = issues[(issues["created_at"] >= warmup) & issues["category"].isin(dispute_categories)]
    n = len(d)
    out: dict[str, float] = {"n_disputes": n}
    share = (lambda mask: float(mask.mean())) if n else (lambda mask: math.nan)
    out["dispute_resolution_rate"] = share(d["status"] == Status.RESOLVED)
    for level in LADDER_LEVELS:
        out[f"settled_{level}_share"] = share(d["settled_level"] == level)
    out["unsettled_share"] = share(d["status"] == Status.UNSETTLED)
    return out


def station_table(sessions: pd.DataFrame, info: pd.DataFrame, groups: list[list], t0: float,
                  t1: float) -> pd.DataFrame:
    """Per-station waits and utilisation for jobs arriving in ``[t0, t1)`` (see Result.station_table).
    Waits are over the jobs that started service; those still waiting at the end are counted in
    ``n_waiting_end``."""
    s = sessions[sessions["arrived"] >= t0]
    g = s.groupby("station")
    out = info.copy()
    idx = out["station"]
    out["n_arrived"] = idx.map(g.size()).fillna(0).astype(int)
    out["n_turned_away"] = idx.map(g["turned_away"].sum()).fillna(0).astype(int)
    served = s[s["started"].notna()]
    gs = served.groupby("station")
    out["n_served"] = idx.map(gs.size()).fillna(0).astype(int)
    out["n_waiting_end"] = out["n_arrived"] - out["n_turned_away"] - out["n_served"]
    out["wait_mean"] = idx.map(gs["wait"].mean())
    out["wait_p90"] = idx.map(gs["wait"].quantile(0.9))
    out["p_wait"] = idx.map(gs["wait"].apply(lambda w: float((w > 1e-12).mean())))
    # busy server-hours inside [t0, t1), whatever the arrival time
    started = sessions["started"].clip(lower=t0, upper=t1)
    ended = sessions["ended"].fillna(t1).clip(lower=t0, upper=t1)
    busy = (ended - started).where(~sessions["turned_away"], 0.0)
    out["busy_h"] = idx.map(busy.groupby(sessions["station"]).sum()).fillna(0.0)
    out["scheduled_h"] = [sum(gr.count * (gr.hours.hours_between(t0, t1) if gr.hours else t1 - t0)
                              for gr in groups[i]) for i in idx]
    out["utilisation"] = np.divide(out["busy_h"], out["scheduled_h"],
                                   out=np.full(len(out), np.nan), where=out["scheduled_h"].to_numpy() > 0)
    return out


def station_metrics(stations: pd.DataFrame, issues: pd.DataFrame) -> dict[str, float]:
    """Mediation waits and utilisation pooled over rooms; what departments still hold at the end."""
    rooms = stations[stations["kind"] == "mediation"]
    served = rooms["n_served"].sum()
    wait = (rooms["wait_mean"].fillna(0) * rooms["n_served"]).sum() / served if served else math.nan
    sched = rooms["scheduled_h"].sum()
    return {
        "mediation_wait_mean": float(wait),
        "mediator_utilisation": float(rooms["busy_h"].sum() / sched) if sched > 0 else math.nan,
        "department_backlog_end": int(((issues["status"] == Status.REFERRED)
                                       & issues["department"].notna()).sum()),
    }


def governance_metrics(issues: pd.DataFrame, workers: pd.DataFrame, time_use: pd.DataFrame,
                       tables: Mapping[str, pd.DataFrame], facts: Mapping[str, float], warmup: float,
                       horizon: float) -> dict[str, float]:
    """Metrics of every registered governance mechanism (each measures its own, also when it
    is off: counts and shares 0, rates without a denominator NaN), and the infrastructure
    cost within ``[warmup, horizon)``. ``tables`` are the mechanisms' tables, ``facts``
    the numbers they kept about the run (``Result.governance``)."""
    from govsim.mechanisms import MECHANISMS, RunView

    specs = [spec for mech in MECHANISMS.values() for spec in mech.tables]
    tables = {spec.name: tables[spec.name] if spec.name in tables else spec.empty() for spec in specs}
    view = RunView(issues, workers, time_use, tables, facts, warmup, horizon)
    out: dict[str, float] = {}
    for mech in MECHANISMS.values():
        out |= mech.measure(view)
    per_year = facts.get("infrastructure_cost_per_year", 0.0)
    out["infrastructure_cost"] = per_year * (horizon - warmup) / (365 * 24.0)
    return out
