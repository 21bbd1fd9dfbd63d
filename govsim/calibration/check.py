"""How well does a scenario reproduce a case log? (``govsim check-fit``)

The scenario is run ``n`` times (independent replications); each run's issues
are read as a case log would record them — created when discovered (a log knows
nothing of the hidden time before), closed when resolved, found by staff when
found on patrol — over the measured period (after the warm-up). Each statistic
is compared with the log's:

* ``hour_of_day_tvd``, ``hour_of_week_tvd`` — total-variation distance between
  the observed and simulated profiles of when cases become known;
* ``category_mix_tvd`` — between the category mixes;
* ``daily_volume`` — cases per day (the log's over its true window);
* ``staff_share`` — the share of cases found by staff (patrol), and
  ``staff_share[c]`` the same for each of the largest categories;
* ``closure_p50[c]``, ``closure_p90[c]`` — median and 90th percentile of
  closed − created for the largest categories (Kaplan–Meier on both sides, so
  open cases count as censored).

``simulated`` is the mean over replications and ``lower``/``upper`` a 95 % interval
of that mean (Student t over replications). For the distances (TVD), ``simulated``
is the distance between the log and the replications' pooled profile, and
``lower``/``upper`` the range that sampling noise alone would give a log of the
same size drawn from the model (so a small log cannot meet a bar below that
noise, and the table shows it). ``ok`` applies the acceptance
bar (TVD of hours ≤ 0.05, category mix ≤ 0.03, volume within ±10 %, staff share
within ±5 points, closure median within ±25 % and p90 within ±40 %; a quantile under
6 minutes — cases closed at once — within 6 minutes).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from govsim.calibration.arrivals import exposure_by_hour_of_week, hour_of_week
from govsim.calibration.capacity import km_quantiles

TOLERANCE = {"hour_of_day_tvd": 0.05, "category_mix_tvd": 0.03, "daily_volume": 0.10,
             "staff_share": 0.05, "closure_p50": 0.25, "closure_p90": 0.40}
OTHER = "(other categories)"
#: An observed closure quantile below this (cases closed at once) is compared in absolute
#: terms: within this many hours.
NEAR_ZERO_H = 0.1


def tvd(p: np.ndarray, q: np.ndarray) -> float:
    """Total-variation distance between two histograms (normalised here)."""
    p = np.asarray(p, float)
    q = np.asarray(q, float)
    if p.sum() <= 0 or q.sum() <= 0:
        return float("nan")
    return 0.5 * float(np.abs(p / p.sum() - q / q.sum()).sum())


def log_statistics(how: np.ndarray, category: np.ndarray, staff: np.ndarray, closure: np.ndarray,
                   censored: np.ndarray, exposure_days: float, categories: list[str], top: list[str],
                   weight: np.ndarray | None = None) -> dict[str, Any]:
    """The raw statistics of one log, observed or simulated, for :func:`check_fit`.

    ``how`` is each case's hour of the week; ``weight`` re-weights simulated cases to the
    log's exposure of that hour of the week (so a simulated week is compared with, say, the
    Monday-to-Thursday the log observed); closure quantiles are unweighted.
    """
    w = np.ones(len(how)) if weight is None else np.asarray(weight, float)
    index = {c: i for i, c in enumerate(categories)}
    cat_i = np.array([index.get(c, -1) for c in category], dtype=np.int64)
    known = cat_i >= 0
    total = float(w.sum())
    out: dict[str, Any] = {
        "hod": np.bincount(how % 24, weights=w, minlength=24),
        "how": np.bincount(how, weights=w, minlength=168),
        "mix": np.bincount(cat_i[known], weights=w[known], minlength=len(categories)),
        "daily_volume": total / exposure_days if exposure_days > 0 else np.nan,
        "staff_share": float((w * staff).sum() / total) if total > 0 else np.nan,
    }
    for c in top:
        sel = (category == c) & np.isfinite(closure)
        q = km_quantiles(closure[sel], censored[sel], (0.5, 0.9)) if sel.any() else np.array([np.nan, np.nan])
        out[f"closure_p50[{c}]"], out[f"closure_p90[{c}]"] = q[0], q[1]
        in_c = category == c
        w_c = float(w[in_c].sum())
        out[f"staff_share[{c}]"] = float((w[in_c] * staff[in_c]).sum() / w_c) if w_c > 0 else np.nan
    return out


@dataclass
class FitCheck:
    """What :func:`check_fit` compared: the table, and the raw statistics behind it (the
    log's and each replication's histograms and quantiles), for figures and reports."""

    table: pd.DataFrame
    observed: dict[str, Any]
    simulated: list[dict[str, Any]]
    categories: list[str]  # of the mix histograms
    top: list[str]  # categories whose closure quantiles are compared
    closure_observed: dict[str, tuple[np.ndarray, np.ndarray]]  # category -> (durations, censored)
    closure_simulated: dict[str, tuple[np.ndarray, np.ndarray]]  # pooled over replications


def check_fit(scenario: Any, cases: str | Path | pd.DataFrame, columns: Mapping[str, str] | str, *,
              staff_channels: Sequence[str] = (), window: tuple[Any, Any] | None = None, n: int = 10,
              seed: int = 0, top: int = 5, holidays: Sequence[Any] | str = ()) -> pd.DataFrame:
    """Compare a scenario with a case log: one row per statistic with ``statistic,
    observed, simulated, lower, upper, ok`` (see the module docstring)."""
    return compare_with_log(scenario, cases, columns, staff_channels=staff_channels, window=window,
                            n=n, seed=seed, top=top, holidays=holidays).table


def compare_with_log(scenario: Any, cases: str | Path | pd.DataFrame, columns: Mapping[str, str] | str, *,
                     staff_channels: Sequence[str] = (), window: tuple[Any, Any] | None = None,
                     n: int = 10, seed: int = 0, top: int = 5, holidays: Sequence[Any] | str = ()) -> FitCheck:
    """:func:`check_fit` with everything it compared (:class:`FitCheck`). ``holidays`` (dates)
    are compared as Sundays: the simulated weeks have no holidays, so the log's holiday hours
    are matched with the model's Sundays."""
    from govsim.calibration.caselog import parse_columns, read_case_log
    from govsim.engine import run
    from govsim.experiments.seeds import replication_seed
    from govsim.scenario import load_scenario
    from govsim.scenario.schema import Scenario

    from govsim.calibration.errors import CalibrationError

    if n < 1:
        raise CalibrationError(f"n: expected at least 1 replication, got {n}")
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if isinstance(columns, str):
        columns = parse_columns(columns)
    from govsim.calibration.fit import _holiday_list

    holidays = _holiday_list(holidays)
    log = read_case_log(cases, columns, staff_channels=staff_channels, window=window)
    names = list(scenario.categories)
    df = log.cases
    cat = df["category"].astype(str).to_numpy(dtype=object)
    pooled = [n for n in names if n.startswith(OTHER[:-1])]  # the calibration's pooled categories
    fallback = pooled[-1] if pooled else None
    known = np.isin(cat, names)
    if not known.any():
        seen = list(pd.unique(cat))[:8]
        raise CalibrationError(
            f"none of the log's categories ({', '.join(map(str, seen))}{', ...' if len(set(cat)) > 8 else ''}) "
            f"is a category of the scenario ({', '.join(names[:8])}{', ...' if len(names) > 8 else ''}): "
            "is it the log the scenario was calibrated on?", log.source)
    cat = np.where(known, cat, fallback if fallback else "(not in the scenario)")
    mix_names = names + ([] if fallback or known.all() else ["(not in the scenario)"])
    if not log.window[1] > log.window[0]:
        raise CalibrationError(f"the log's window is empty ({log.window[0]} to {log.window[1]}): nothing "
                               "to compare rates and profiles with", log.source)
    top_names = [c for c in pd.Series(cat).value_counts().index if c in names][:top]
    exposure = exposure_by_hour_of_week(*log.window, holidays)
    exposure_days = float(exposure.sum()) / 24.0
    created = pd.DatetimeIndex(df["created"])
    ok_closure = df["closure_ok"].to_numpy(bool)
    observed = log_statistics(
        hour_of_week(created, holidays), cat, df["staff"].to_numpy(bool),
        np.where(ok_closure, df["duration_h"].to_numpy(float), np.nan), df["censored"].to_numpy(bool),
        exposure_days, mix_names, top_names)
    # Run past the measured period so that the cases found in it can close (a log records
    # closures long after its last case was created).
    finite = [v for k, v in observed.items() if k.startswith("closure_p90") and np.isfinite(v)]
    drain = min(max(finite, default=0.0) * 1.5, 30 * 24.0)
    measured = (scenario.warmup, scenario.horizon)
    unseen = (exposure > 0) & (_exposure_hours(*measured) == 0)
    if unseen.any():
        raise CalibrationError(
            f"the scenario's measured period ({measured[0]:g} h to {measured[1]:g} h) misses "
            f"{int(unseen.sum())} hours of the week that the log observed; give it at least a whole "
            "week after the warm-up (e.g. --set horizon=14d with a 7-day warm-up)",
            str(getattr(scenario, "source", None) or "<scenario>"))
    longer = dataclasses.replace(scenario, horizon=scenario.horizon + drain)
    sims = []
    for i in range(n):
        res = run(longer, seed=replication_seed(seed, i))
        sims.append(_simulated_statistics(res, measured, exposure, mix_names, top_names))
    obs_closure = {}
    durations = np.where(ok_closure, df["duration_h"].to_numpy(float), np.nan)
    for c in top_names:
        sel = (cat == c) & np.isfinite(durations)
        obs_closure[c] = (durations[sel], df["censored"].to_numpy(bool)[sel])
    sim_closure = {c: (np.concatenate([s["closure"][c][0] for s in sims]),
                       np.concatenate([s["closure"][c][1] for s in sims])) for c in top_names}
    return FitCheck(table=_compare(observed, sims, top_names), observed=observed, simulated=sims,
                    categories=mix_names, top=top_names, closure_observed=obs_closure,
                    closure_simulated=sim_closure)


def _simulated_statistics(res: Any, measured: tuple[float, float], exposure: np.ndarray, names: list[str],
                          top: list[str]) -> dict[str, Any]:
    iss = res.issues
    t = iss["discovered_at"].to_numpy(float)
    keep = np.isfinite(t) & (t >= measured[0]) & (t < measured[1])
    t = t[keep]
    how = np.floor(t).astype(np.int64) % 168
    closed = iss["closed_at"].to_numpy(float)[keep]
    end = res.horizon
    censored = ~np.isfinite(closed)
    closure = np.where(censored, end - t, closed - t)
    sim_exposure = _exposure_hours(*measured)
    weight = np.divide(exposure[how], sim_exposure[how], out=np.zeros(len(how)), where=sim_exposure[how] > 0)
    category = iss["category"].astype(str).to_numpy(dtype=object)[keep]
    out = log_statistics(how, category, iss["channel"].to_numpy(dtype=object)[keep] == "patrol", closure,
                         censored, float(exposure.sum()) / 24.0, names, top, weight=weight)
    out["closure"] = {c: (closure[category == c], censored[category == c]) for c in top}
    return out


def _exposure_hours(start_h: float, end_h: float) -> np.ndarray:
    """Hours of each hour-of-week bin in ``[start_h, end_h)`` of a run (day 0 a Monday)."""
    origin = pd.Timestamp("2024-01-01")  # a Monday, like day 0 of a run
    return exposure_by_hour_of_week(origin + pd.Timedelta(hours=start_h), origin + pd.Timedelta(hours=end_h))


def _compare(obs: dict[str, Any], sims: list[dict[str, Any]], top: list[str]) -> pd.DataFrame:
    rows = []

    def interval(values: list[float]) -> tuple[float, float, float]:
        v = np.asarray(values, float)
        v = v[np.isfinite(v)]
        if len(v) == 0:
            return (np.nan, np.nan, np.nan)
        m = float(v.mean())
        if len(v) < 2:
            return (m, np.nan, np.nan)
        h = float(stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))
        return (m, m - h, m + h)

    rng = np.random.default_rng(np.random.SeedSequence(20261127))
    for key, what, tol in (("hod", "hour_of_day_tvd", TOLERANCE["hour_of_day_tvd"]),
                           ("how", "hour_of_week_tvd", None),
                           ("mix", "category_mix_tvd", TOLERANCE["category_mix_tvd"])):
        pooled = np.sum([s[key] for s in sims], axis=0)
        m = tvd(obs[key], pooled)
        lo, hi = _noise_interval(pooled, int(round(obs[key].sum())), rng)
        rows.append({"statistic": what, "observed": np.nan, "simulated": m, "lower": lo, "upper": hi,
                     "ok": bool(m <= tol) if tol is not None else None})
    m, lo, hi = interval([s["daily_volume"] for s in sims])
    o = obs["daily_volume"]
    rows.append({"statistic": "daily_volume", "observed": o, "simulated": m, "lower": lo, "upper": hi,
                 "ok": bool(abs(m / o - 1) <= TOLERANCE["daily_volume"])})
    m, lo, hi = interval([s["staff_share"] for s in sims])
    o = obs["staff_share"]
    rows.append({"statistic": "staff_share", "observed": o, "simulated": m, "lower": lo, "upper": hi,
                 "ok": bool(abs(m - o) <= TOLERANCE["staff_share"])})
    for c in top:
        key = f"staff_share[{c}]"
        m, lo, hi = interval([s[key] for s in sims])
        o = obs[key]
        rows.append({"statistic": key, "observed": o, "simulated": m, "lower": lo, "upper": hi,
                     "ok": bool(np.isfinite(m) and abs(m - o) <= TOLERANCE["staff_share"])})
        for q in ("p50", "p90"):
            key = f"closure_{q}[{c}]"
            m, lo, hi = interval([s[key] for s in sims])
            o = obs[key]
            if np.isfinite(o) and np.isfinite(m) and o < NEAR_ZERO_H:  # closed at once: absolute
                ok = abs(m - o) <= NEAR_ZERO_H
            else:
                ok = bool(np.isfinite(o) and np.isfinite(m) and abs(m / o - 1) <= TOLERANCE[f"closure_{q}"])
            rows.append({"statistic": key, "observed": o, "simulated": m, "lower": lo, "upper": hi, "ok": ok})
    return pd.DataFrame(rows, columns=["statistic", "observed", "simulated", "lower", "upper", "ok"])


def _noise_interval(profile: np.ndarray, n: int, rng: np.random.Generator,
                    draws: int = 400) -> tuple[float, float]:
    """95 % range of the TVD between ``profile`` and a log of ``n`` cases drawn from it: the
    distance that sampling noise alone gives when the model is exactly right."""
    p = np.asarray(profile, float)
    if n <= 0 or p.sum() <= 0:
        return (np.nan, np.nan)
    p = p / p.sum()
    samples = rng.multinomial(n, p, size=draws) / n
    d = 0.5 * np.abs(samples - p).sum(axis=1)
    return float(np.quantile(d, 0.025)), float(np.quantile(d, 0.975))

