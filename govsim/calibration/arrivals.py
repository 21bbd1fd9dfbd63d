"""Arrivals fitted from a case log: rates by category, hour of the week and grid.

The model is govsim's own (:mod:`govsim.agents.residents`): per category *c*
a non-homogeneous Poisson process with intensity, in cases per hour,

    λ_c(grid g, hour of week w) = L_c × weekly_c(w) × share_c(g)

where ``weekly_c`` has mean 1 over the 168 hours of the week and ``share_c``
sums to 1 over the grids. Everything is estimated against the *exposure*: the
hours of each hour-of-week bin that the log actually observed (a log that
starts at 13:36 on a Wednesday and stops at 09:33 the next Thursday has seen
one Wednesday afternoon, two Thursday mornings…), never whole days.

Sparse cells are shrunk, not left at zero or wild, by empirical Bayes with a
gamma prior on Poisson counts (the Clayton–Kaldor estimator): a cell's
posterior mean rate is ``(n + a) / (E + a / prior)`` in units of the prior,
where ``E`` is the expected count under the pooled pattern and the prior
strength ``a`` is estimated per category by the method of moments from the
extra-Poisson dispersion of its counts. A category with many cases keeps its
own pattern; one with a handful borrows the pooled one.

* day of week: each category's day factors are shrunk to the pooled factors of
  all categories (7 values);
* hour of day: weekday and weekend profiles (24 each) per category, shrunk to
  the pooled weekday / weekend profile;
* grids: each category's counts by grid are shrunk to the grid's share of all
  cases (itself smoothed by half a case per grid, so a grid without cases is
  not given a zero rate).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from govsim.calibration.errors import CalibrationError

if TYPE_CHECKING:
    from pandas.api.typing import NaTType

HOURS_PER_WEEK = 168
WEEKEND = (5, 6)  # Saturday, Sunday (day 0 is a Monday, as in a govsim run)


Holidays = Sequence[Any]  # dates (anything pd.Timestamp takes) counted as Sundays


def _holiday_days(holidays: Holidays) -> np.ndarray:
    """The holidays as days (``datetime64[D]``); a value that is not a date is a
    :class:`CalibrationError` naming it."""
    if holidays is None or len(holidays) == 0:
        return np.empty(0, dtype="datetime64[D]")
    days = []
    for h in holidays:
        t: pd.Timestamp | NaTType
        try:
            t = pd.Timestamp(h)
        except (ValueError, TypeError):
            t = pd.NaT
        if pd.isna(t):
            raise CalibrationError(f"holidays: expected dates such as 2018-01-01, got {h!r}")
        days.append(t.normalize())
    return np.unique(pd.DatetimeIndex(days).to_numpy().astype("datetime64[D]"))


def exposure_by_hour_of_week(start: pd.Timestamp, end: pd.Timestamp, holidays: Holidays = ()) -> np.ndarray:
    """Hours of observation in each of the 168 hour-of-week bins (Monday 00:00 first)
    between ``start`` and ``end`` — fractional at both ends. The hours of a holiday count
    as a Sunday's."""
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    if end <= start:
        return np.zeros(HOURS_PER_WEEK)
    monday = start.normalize() - pd.Timedelta(days=start.day_of_week)
    a = (start - monday) / pd.Timedelta(hours=1)
    b = (end - monday) / pd.Timedelta(hours=1)
    first, last = int(np.floor(a)), int(np.ceil(b))
    edges = np.arange(first, last + 1, dtype=float)
    lo = np.maximum(edges[:-1], a)
    hi = np.minimum(edges[1:], b)
    bins = edges[:-1].astype(np.int64) % HOURS_PER_WEEK
    days = _holiday_days(holidays)
    if len(days):
        day = np.datetime64(monday.normalize().date(), "D") + (edges[:-1] // 24).astype("timedelta64[D]")
        on_holiday = np.isin(day, days)
        bins = np.where(on_holiday, 6 * 24 + bins % 24, bins)
    out = np.zeros(HOURS_PER_WEEK)
    np.add.at(out, bins, np.maximum(hi - lo, 0.0))
    return out


def hour_of_week(times: pd.Series | pd.DatetimeIndex, holidays: Holidays = ()) -> np.ndarray:
    """Hour-of-week bin (0 = Monday 00:00–01:00) of each timestamp; a holiday's hours are
    a Sunday's."""
    t = pd.DatetimeIndex(times)
    dow = t.day_of_week.to_numpy()
    days = _holiday_days(holidays)
    if len(days):
        dow = np.where(np.isin(t.normalize().to_numpy().astype("datetime64[D]"), days), 6, dow)
    return (dow * 24 + t.hour.to_numpy()).astype(np.int64)


def prior_strength(counts: np.ndarray, expected: np.ndarray) -> float:
    """Gamma prior shape ``a`` for Poisson counts around ``expected``, by the method of
    moments: Var(n) = E + E²/a. Returns a large number (no shrinkage needed... nor harmful)
    when there is no extra-Poisson dispersion."""
    e = expected.ravel()
    n = counts.ravel()
    keep = e > 0
    e, n = e[keep], n[keep]
    denom = float((e * e).sum())
    if denom <= 0:
        return 1e6
    phi = float(((n - e) ** 2 - n).sum()) / denom
    return float(1.0 / phi) if phi > 1e-6 else 1e6


def shrink(counts: np.ndarray, expected: np.ndarray, a: float) -> np.ndarray:
    """Posterior mean of the rate ratio ``θ`` (count / expected) under a Gamma(a, a) prior:
    ``(n + a) / (E + a)``. Cells with ``E = 0`` get the prior mean 1."""
    return (counts + a) / (expected + a)


@dataclass
class ArrivalFit:
    """Fitted arrival rates of every category."""

    categories: list[str]
    n_cases: np.ndarray  # per category, in the window
    exposure_h: float  # hours observed
    rate_per_day: np.ndarray  # per category: cases per day over the whole district (weekly mean)
    rate_ci: np.ndarray  # (n_categories, 2): 95% interval of rate_per_day (exact Poisson)
    weekly: np.ndarray  # (n_categories, 168), mean 1: the hour-of-week profile
    grid_share: np.ndarray  # (n_categories, n_grids), rows sum to 1
    prior_time: np.ndarray  # per category: prior strength of the hour-of-day shrinkage
    prior_space: np.ndarray  # per category: prior strength of the grid shrinkage
    unplaced: np.ndarray  # per category: cases without a grid (spread like the placed ones)
    days_unseen: list[int]  # days of the week the window never saw (pooled factor used)
    hours_unseen: int = 0  # (kind of day, hour) bins never observed: given the mean of the others

    def grid_rate(self) -> np.ndarray:
        """Expected cases per day, category × grid."""
        return self.rate_per_day[:, None] * self.grid_share

    def table(self) -> pd.DataFrame:
        """One row per category: cases, rate per day with its interval, shrinkage."""
        return pd.DataFrame({
            "category": self.categories, "cases": self.n_cases,
            "rate_per_day": self.rate_per_day, "rate_lower": self.rate_ci[:, 0],
            "rate_upper": self.rate_ci[:, 1], "weekend_share": self.weekend_share(),
            "prior_time": self.prior_time, "prior_space": self.prior_space, "unplaced": self.unplaced,
        })

    def weekend_share(self) -> np.ndarray:
        """Share of each category's cases that fall on Saturday and Sunday (fitted)."""
        return self.weekly[:, 5 * 24:].sum(axis=1) / self.weekly.sum(axis=1)


def fit_arrivals(created: pd.Series, category: np.ndarray, grid: np.ndarray, categories: list[str],
                 n_grids: int, window: tuple[pd.Timestamp, pd.Timestamp],
                 holidays: Holidays = ()) -> ArrivalFit:
    """Fit rates, hour-of-week profiles and grid shares.

    ``category`` holds category indices into ``categories``; ``grid`` grid indices,
    -1 for a case that could not be placed (it counts towards its category's rate and
    is spread over the grids like the placed cases). ``holidays`` (dates) are fitted as
    Sundays: their cases and their hours of exposure count as a Sunday's.
    """
    n_cat = len(categories)
    exposure = exposure_by_hour_of_week(*window, holidays)
    exposure_h = float(exposure.sum())
    how = hour_of_week(created, holidays)
    counts = np.zeros((n_cat, HOURS_PER_WEEK))
    np.add.at(counts, (category, how), 1.0)
    n_cases = counts.sum(axis=1)

    weekly, prior_time, unseen, hours_unseen = _weekly_profiles(counts, exposure)
    # Rate: N_c = L_c Σ_w weekly_c(w) e(w)  ⇒  L_c per hour; per day × 24.
    eff = (weekly * exposure).sum(axis=1)
    level = np.divide(n_cases, eff, out=np.zeros(n_cat), where=eff > 0)
    lo = stats.chi2.ppf(0.025, 2 * n_cases) / 2
    hi = stats.chi2.ppf(0.975, 2 * (n_cases + 1)) / 2
    lo = np.nan_to_num(lo, nan=0.0)
    scale = np.divide(24.0, eff, out=np.zeros(n_cat), where=eff > 0)

    grid_share, prior_space, unplaced = _grid_shares(category, grid, n_cat, n_grids)
    return ArrivalFit(
        categories=list(categories), n_cases=n_cases.astype(np.int64), exposure_h=exposure_h,
        rate_per_day=level * 24.0, rate_ci=np.column_stack([lo * scale, hi * scale]),
        weekly=weekly, grid_share=grid_share, prior_time=prior_time, prior_space=prior_space,
        unplaced=unplaced, days_unseen=unseen, hours_unseen=hours_unseen,
    )


def _weekly_profiles(counts: np.ndarray, exposure: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[int], int]:
    n_cat = counts.shape[0]
    by_day = counts.reshape(n_cat, 7, 24)
    exp_day = exposure.reshape(7, 24)
    day_exp = exp_day.sum(axis=1)
    seen = day_exp > 0
    unseen = [int(d) for d in np.flatnonzero(~seen)]
    # Pooled day factors (all categories), mean 1 over the days seen; an unseen day gets the
    # mean of the seen days of its kind (weekday / weekend), else 1.
    pooled_day = np.ones(7)
    total_day = by_day.sum(axis=(0, 2))
    pooled_day[seen] = total_day[seen] / day_exp[seen]
    pooled_day = _fill_unseen(pooled_day, seen)
    pooled_day /= pooled_day.mean()

    # Pooled hour-of-day profiles for weekdays and weekends.
    kinds = np.array([1 if d in WEEKEND else 0 for d in range(7)])
    pooled_hod = np.ones((2, 24))
    hours_unseen = 0
    for k in (0, 1):
        days = np.flatnonzero((kinds == k) & seen)
        if len(days):
            n = by_day[:, days, :].sum(axis=(0, 1))
            e = (exp_day[days] * pooled_day[days, None]).sum(axis=0)
            pooled_hod[k] = np.divide(n, e, out=np.zeros(24), where=e > 0)
            # An hour of the day this kind of day was never observed at: the mean of those seen
            # (a flat guess, noted), not a rate of 0.
            if (e <= 0).any() and (e > 0).any():
                hours_unseen += int((e <= 0).sum())
                pooled_hod[k][e <= 0] = pooled_hod[k][e > 0].mean()
    if not (kinds[seen] == 1).any():
        pooled_hod[1] = pooled_hod[0]
    if not (kinds[seen] == 0).any():
        pooled_hod[0] = pooled_hod[1]
    pooled_hod = np.maximum(pooled_hod, 1e-9)
    pooled_hod /= pooled_hod.mean(axis=1, keepdims=True)

    weekly = np.ones((n_cat, HOURS_PER_WEEK))
    prior = np.zeros(n_cat)
    for c in range(n_cat):
        nc = by_day[c]
        # Expected counts under the pooled pattern at this category's level.
        base = pooled_day[:, None] * pooled_hod[kinds]  # (7, 24)
        denom = float((base * exp_day).sum())
        level = nc.sum() / denom if denom > 0 else 0.0
        expected = level * base * exp_day
        a = prior_strength(nc[seen], expected[seen])
        # Day factors, then hour-of-day profiles by kind of day, each shrunk to the pooled ones.
        day_n = nc.sum(axis=1)
        day_e = expected.sum(axis=1)
        theta_day = np.where(seen, shrink(day_n, day_e, a), 1.0)
        hod = np.empty((2, 24))
        for k in (0, 1):
            days = np.flatnonzero((kinds == k) & seen)
            if len(days) == 0:
                hod[k] = 1.0
                continue
            e_k = (expected[days] * theta_day[days, None]).sum(axis=0)
            hod[k] = shrink(nc[days].sum(axis=0), e_k, a)
        profile = (pooled_day * theta_day)[:, None] * pooled_hod[kinds] * hod[kinds]
        weekly[c] = profile.ravel() / profile.mean()
        prior[c] = a
    return weekly, prior, unseen, hours_unseen


def _fill_unseen(day: np.ndarray, seen: np.ndarray) -> np.ndarray:
    out = day.copy()
    for d in np.flatnonzero(~seen):
        same = [e for e in range(7) if seen[e] and ((e in WEEKEND) == (d in WEEKEND))]
        out[d] = out[same].mean() if same else (out[seen].mean() if seen.any() else 1.0)
    return out


def _grid_shares(category: np.ndarray, grid: np.ndarray, n_cat: int,
                 n_grids: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    placed = grid >= 0
    counts = np.zeros((n_cat, n_grids))
    np.add.at(counts, (category[placed], grid[placed]), 1.0)
    unplaced = np.bincount(category[~placed], minlength=n_cat).astype(np.int64)
    grid_total = counts.sum(axis=0) + 0.5
    grid_w = grid_total / grid_total.sum()
    shares = np.empty((n_cat, n_grids))
    prior = np.zeros(n_cat)
    for c in range(n_cat):
        n_c = counts[c]
        expected = n_c.sum() * grid_w
        a = prior_strength(n_c, expected)
        theta = shrink(n_c, expected, a)
        rate = grid_w * theta
        shares[c] = rate / rate.sum()
        prior[c] = a
    return shares, prior, unplaced
