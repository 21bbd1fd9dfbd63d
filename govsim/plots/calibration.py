"""Figures of a calibration (标定) and of its check against the case log.

A :class:`~govsim.calibration.fit.Calibration` says what was fitted; a
:class:`~govsim.calibration.check.FitCheck` (from
:func:`govsim.calibration.check.compare_with_log`) holds the log's statistics and
each simulated replication's. Each function returns a Matplotlib ``Figure`` built
without pyplot, as every figure of :mod:`govsim.plots`:

* :func:`profile_fit` — when cases become known, by hour of the week and of the day:
  the log against the simulation, with the range a log of the same size drawn from the
  model would show;
* :func:`category_mix` — cases per category, the log beside the simulation;
* :func:`channel_mix` — the share found by staff (patrol) against reported by residents,
  per category, and overall against the simulation;
* :func:`daily_volume` — cases per day and by day of the week;
* :func:`closure_fit` — the distribution of closed − created per category (Kaplan–Meier
  where cases are still open), on a log time axis;
* :func:`rate_map` — cases per day in each grid, on the real polygons when the map has them;
* :func:`fit_table` — the check's table with its marks.

:func:`calibration_figures` makes all that apply (``govsim calibrate --report``).
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any, Literal

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from scipy import stats

from govsim.plots._base import finish, new_figure, no_data
from govsim.plots.labels import labels_for
from govsim.plots.maps import grid_patches, map_figure, shapely_rings

if TYPE_CHECKING:
    from govsim.calibration.check import FitCheck
    from govsim.calibration.fit import Calibration

__all__ = ["calibration_figures", "category_mix", "channel_mix", "closure_ecdf", "closure_fit", "daily_volume",
           "fit_table", "profile_fit", "rate_map"]

OBSERVED = "0.15"  # the log: near black
SIMULATED = "C0"
STAFF = "C2"
RESIDENTS = "0.8"
#: Closure times below this (hours) are drawn at it on the log axis: 1 minute.
CLOSURE_FLOOR_H = 1.0 / 60.0
#: Ticks of the closure time axis: hours and their labels.
TIME_TICKS = ((1 / 60, "1 min"), (10 / 60, "10 min"), (1.0, "1 h"), (6.0, "6 h"), (24.0, "1 d"),
              (168.0, "1 wk"), (720.0, "30 d"), (8760.0, "1 yr"))
OK_COLOURS = {True: "#e3f4e1", False: "#fbe1e1", None: "white"}
MARKS = {True: "✓", False: "✗", None: "–"}


# --- inputs ------------------------------------------------------------------------------

def _is_check(obj: Any) -> bool:
    from govsim.calibration.check import FitCheck

    return isinstance(obj, FitCheck)


def _need_check(check: Any, what: str) -> FitCheck:
    if not _is_check(check):
        raise TypeError(f"{what} needs a FitCheck (govsim.calibration.check.compare_with_log), "
                        f"got {type(check).__name__}")
    if not check.simulated:
        raise ValueError(f"{what}: the check has no simulated replication")
    return check


def _need_calibration(cal: Any, what: str) -> Calibration:
    from govsim.calibration.fit import Calibration

    if not isinstance(cal, Calibration):
        raise TypeError(f"{what} needs a Calibration (govsim.calibrate), got {type(cal).__name__}")
    return cal


def _replications(check: FitCheck, key: str) -> np.ndarray:
    """Each replication's value of ``key``: shape (n, ...)."""
    return np.array([np.asarray(s[key], float) for s in check.simulated])


def _mean_interval(values: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Mean over replications (axis 0) and the half-width of its 95 % Student-t interval
    (``None`` with one replication), as in the check's table."""
    values = np.asarray(values, float)
    m = values.mean(axis=0)
    n = values.shape[0]
    if n < 2:
        return m, None
    return m, stats.t.ppf(0.975, n - 1) * values.std(axis=0, ddof=1) / math.sqrt(n)


def _table_row(check: FitCheck, statistic: str) -> dict[Hashable, Any] | None:
    t = check.table
    rows = t[t["statistic"] == statistic]
    return rows.iloc[0].to_dict() if len(rows) else None


def _fmt(x: Any) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    x = float(x)
    return f"{x:.4g}"


# --- profiles ----------------------------------------------------------------------------

def profile_fit(check: FitCheck, lang: str = "en") -> Figure:
    """When cases become known: the share of cases in each hour of the week (top, 168 bins)
    and of the day (bottom, 24 bins), the log (``observed``) against the replications
    pooled (``simulated``). The band is the 95 % range of each bin's share in a log of the
    log's size drawn from the simulated profile: the log outside it is a misfit, not noise.
    Titles give the total-variation distances of the check."""
    check = _need_check(check, "profile_fit")
    tr = labels_for(lang)
    fig = new_figure(10.0, 6.5)
    axes = fig.subplots(2, 1)
    for ax, key, what in ((axes[0], "how", "hour_of_week"), (axes[1], "hod", "hour_of_day")):
        obs = np.asarray(check.observed[key], float)
        pooled = _replications(check, key).sum(axis=0)
        x = np.arange(len(obs))
        if obs.sum() <= 0 or pooled.sum() <= 0:
            no_data(ax, tr("no_cases"))
            continue
        n = int(round(obs.sum()))
        sim = pooled / pooled.sum()
        lo = stats.binom.ppf(0.025, n, sim) / n
        hi = stats.binom.ppf(0.975, n, sim) / n
        ax.fill_between(x, lo, hi, step="mid", color=SIMULATED, alpha=0.18, linewidth=0, label=tr("noise_band"))
        ax.plot(x, sim, drawstyle="steps-mid", color=SIMULATED, linewidth=1.3, label=tr("simulated"))
        ax.plot(x, obs / obs.sum(), drawstyle="steps-mid", color=OBSERVED, linewidth=1.1, label=tr("observed"))
        ax.set_xlim(-0.5, len(obs) - 0.5)
        ax.set_ylim(bottom=0)
        ax.set_ylabel(tr("share_cases"))
        ax.set_xlabel(tr(what))
        ax.yaxis.set_major_formatter(mpl.ticker.PercentFormatter(1.0, decimals=1))
        if key == "how":
            for d in range(1, 7):
                ax.axvline(24 * d - 0.5, color="0.8", linewidth=0.8, zorder=0)
            ax.set_xticks([24 * d + 11.5 for d in range(7)], [tr(f"day_{d}") for d in range(7)])
            ax.set_xticks(np.arange(0, 168, 6) - 0.5, minor=True)
        else:
            ax.set_xticks(range(0, 24, 3))
        row = _table_row(check, f"{what}_tvd")
        if row is not None and row["simulated"] is not None and np.isfinite(row["simulated"]):
            ax.set_title(tr("tvd_note", what=tr(what), value=float(row["simulated"])), fontsize="medium")
    if axes[0].get_legend_handles_labels()[0]:
        axes[0].legend(loc="upper right", fontsize="small")
    fig.suptitle(tr("profile_fit"))
    return finish(fig, tr)


# --- categories and channels -------------------------------------------------------------

def category_mix(source: FitCheck | Calibration, lang: str = "en") -> Figure:
    """Cases per category. From a check: the log's counts (``observed``) beside the
    simulated ones (the mean over replications of the cases a log of the same window would
    record; a 95 % interval with two replications or more). From a calibration: the log's
    counts, each labelled with the fitted rate per day and its 95 % interval."""
    tr = labels_for(lang)
    sim: np.ndarray | None
    half: np.ndarray | None
    if _is_check(source):
        check = _need_check(source, "category_mix")
        names = list(check.categories)
        obs = np.asarray(check.observed["mix"], float)
        sim, half = _mean_interval(_replications(check, "mix"))
    else:
        cal = _need_calibration(source, "category_mix")
        names = list(cal.arrivals.categories)
        obs = np.asarray(cal.arrivals.n_cases, float)
        sim = half = None
    order = np.argsort(-obs, kind="stable")
    y = np.arange(len(names))
    fig = new_figure(8.0, max(2.5, (0.36 if sim is not None else 0.28) * len(names) + 1.3))
    ax = fig.add_subplot()
    height = 0.4 if sim is not None else 0.7
    shift = height / 2 if sim is not None else 0.0
    ax.barh(y - shift, obs[order], height=height, color=OBSERVED, label=tr("observed"))
    if sim is not None:
        ax.barh(y + shift, sim[order], height=height, color=SIMULATED, label=tr("simulated"),
                xerr=None if half is None else half[order], error_kw={"ecolor": "0.3", "capsize": 2})
        ax.legend(loc="lower right", fontsize="small")
    else:  # a calibration: cal is the source
        table = cal.arrivals.table().set_index("category")
        for yi, i in zip(y, order):
            r = table.loc[names[i]]
            ax.text(obs[i], float(yi), f"  {r.rate_per_day:.3g}/d [{r.rate_lower:.3g}, {r.rate_upper:.3g}]",
                    va="center", fontsize="x-small", color="0.3")
        ax.set_xlim(0, obs.max() * 1.35 if len(obs) and obs.max() > 0 else 1)
    ax.set_yticks(y, [names[i] for i in order])
    ax.invert_yaxis()
    ax.set_xlabel(tr("cases_in_window"))
    ax.set_title(tr("category_mix"))
    return finish(fig, tr)


def channel_mix(calibration: Calibration | None = None, check: FitCheck | None = None,
                lang: str = "en") -> Figure:
    """Who found the cases: for each category of the calibration, the share found by staff
    (patrol, the log's staff channels) and the share reported by residents, with the 95 %
    (Wilson) interval of the staff share; on top, all categories together, the log's share
    and, with a check, the simulated one (mean over replications, 95 % interval). The check
    keeps the staff share over all categories only, so the simulated bar is overall."""
    if calibration is None and check is None:
        raise TypeError("channel_mix needs a Calibration, a FitCheck or both")
    tr = labels_for(lang)
    rows: list[tuple[str, float, tuple[float, float] | None, str]] = []  # label, staff share, interval, colour
    if check is not None:
        check = _need_check(check, "channel_mix")
        rows.append((f"{tr('all_categories')}: {tr('observed')}", float(check.observed["staff_share"]), None,
                     OBSERVED))
        m, half = _mean_interval(_replications(check, "staff_share"))
        rows.append((f"{tr('all_categories')}: {tr('simulated')}", float(m),
                     None if half is None else (float(m - half), float(m + half)), SIMULATED))
    if calibration is not None:
        cal = _need_calibration(calibration, "channel_mix")
        if check is None:
            n = sum(c.cases for c in cal.categories)
            k = sum(c.staff_cases for c in cal.categories)
            rows.append((f"{tr('all_categories')}: {tr('observed')}", k / n if n else 0.0, None, OBSERVED))
        for c in sorted(cal.categories, key=lambda c: -c.cases):
            lo, hi = c.staff_share_ci
            rows.append((c.name, float(c.staff_share), (float(lo), float(hi)), STAFF))
    y = np.arange(len(rows))
    share = np.array([r[1] for r in rows])
    fig = new_figure(8.0, max(2.5, 0.38 * len(rows) + 1.4))
    ax = fig.add_subplot()
    ax.barh(y, share, height=0.7, color=[r[3] for r in rows], label=tr("staff_found"))
    ax.barh(y, 1.0 - share, left=share, height=0.7, color=RESIDENTS, label=tr("resident_found"))
    for yi, (_, s, ci, _) in zip(y, rows):
        if ci is not None:
            ax.errorbar(s, yi, xerr=[[s - ci[0]], [ci[1] - s]], color="0.2", capsize=2, linewidth=0.9)
        ax.text(min(max(s, ci[1] if ci else s), 0.9) + 0.01, float(yi), f"{s:.1%}", va="center",
                fontsize="x-small")
    ax.set_yticks(y, [r[0] for r in rows])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(mpl.ticker.PercentFormatter(1.0))
    ax.set_xlabel(tr("share_cases"))
    handles = [Patch(color=STAFF), Patch(color=RESIDENTS)]
    fig.legend(handles, [tr("staff_found"), tr("resident_found")], loc="outside lower center", ncols=2,
               fontsize="small", frameon=False)
    ax.set_title(tr("channel_mix"))
    return finish(fig, tr)


# --- volume ------------------------------------------------------------------------------

def daily_volume(check: FitCheck, lang: str = "en") -> Figure:
    """Cases per day (left): the log's against the simulated mean with the check's 95 %
    interval, and each replication as a dot. By day of the week (right): the cases the log
    recorded on each weekday of its window against the simulated ones (weighted to the same
    window, mean over replications)."""
    check = _need_check(check, "daily_volume")
    tr = labels_for(lang)
    fig = new_figure(10.0, 3.8)
    left, right = fig.subplots(1, 2, width_ratios=[1, 2.6])
    obs = float(check.observed["daily_volume"])
    reps = _replications(check, "daily_volume")
    m = float(np.nanmean(reps)) if len(reps) else math.nan
    row = _table_row(check, "daily_volume")
    lo, hi = (row["lower"], row["upper"]) if row is not None else (math.nan, math.nan)
    left.bar([0], [obs], color=OBSERVED, width=0.6, label=tr("observed"))
    left.bar([1], [m], color=SIMULATED, width=0.6, label=tr("simulated"))
    if np.isfinite(lo) and np.isfinite(hi):
        left.errorbar([1], [m], yerr=[[m - lo], [hi - m]], color="0.2", capsize=4, label=tr("interval95"))
    left.plot(np.full(len(reps), 1.0) + np.linspace(-0.15, 0.15, len(reps)) * (len(reps) > 1), reps, "o",
              color="0.35", markersize=3, label=tr("replications"))
    left.set_xticks([0, 1], [tr("observed"), tr("simulated")])
    left.set_xlim(-0.6, 1.6)
    left.set_ylabel(tr("cases_per_day"))
    left.set_title(tr("daily_volume"), fontsize="medium")
    by_day_obs = np.asarray(check.observed["how"], float).reshape(7, 24).sum(axis=1)
    sim_days, half = _mean_interval(_replications(check, "how").reshape(len(check.simulated), 7, 24).sum(axis=2))
    x = np.arange(7)
    right.bar(x - 0.2, by_day_obs, width=0.4, color=OBSERVED, label=tr("observed"))
    right.bar(x + 0.2, sim_days, width=0.4, color=SIMULATED, label=tr("simulated"),
              yerr=half, error_kw={"ecolor": "0.3", "capsize": 2})
    right.set_xticks(x, [tr(f"day_{d}") for d in range(7)])
    right.set_ylabel(tr("cases_in_window"))
    right.set_title(tr("by_weekday"), fontsize="medium")
    right.legend(fontsize="small")
    return finish(fig, tr)


# --- closure -----------------------------------------------------------------------------

def closure_ecdf(durations: np.ndarray, censored: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distribution function of closure times as steps: the times and the share closed
    by each (Kaplan–Meier, ``scipy.stats.ecdf`` with ``CensoredData``, where some cases are
    still open: the curve then runs on, flat, to the longest open case, and may end below 1).
    Empty arrays when nothing closed."""
    d = np.asarray(durations, float)
    c = np.asarray(censored, bool)
    ok = np.isfinite(d)
    d, c = d[ok], c[ok]
    if len(d) == 0 or c.all():
        return np.zeros(0), np.zeros(0)
    sample = stats.CensoredData.right_censored(d, c) if c.any() else d
    cdf = stats.ecdf(sample).cdf
    return np.asarray(cdf.quantiles, float), np.asarray(cdf.probabilities, float)


def closure_fit(check: FitCheck, category: str | None = None, lang: str = "en",
                floor_h: float = CLOSURE_FLOOR_H) -> Figure:
    """Closure time (closed − created) of ``category`` — or of each of the check's top
    categories, one panel each — as distribution functions, the log's against the pooled
    replications'. Kaplan–Meier where cases are still open (a curve may then end below 1,
    flat to the longest open case). The time axis is logarithmic so that days-long tails do
    not squash the hours; times under ``floor_h`` (1 minute; cases closed at once) are drawn
    at it. Dotted lines mark the median and the 90th percentile, the quantiles the check
    compares."""
    check = _need_check(check, "closure_fit")
    tr = labels_for(lang)
    if category is None:
        cats = list(check.top)
    else:
        if category not in check.closure_observed:
            raise ValueError(f"{category!r}: not among the check's categories with closure times "
                             f"({', '.join(map(repr, check.top))})")
        cats = [category]
    cols = min(max(len(cats), 1), 3)
    nrows = max(1, math.ceil(len(cats) / cols))
    fig = new_figure(4.3 * cols if len(cats) > 1 else 6.5, 3.4 * nrows + 0.5)
    axes = np.atleast_1d(fig.subplots(nrows, cols, squeeze=False)).ravel()
    for ax in axes[len(cats):]:
        ax.set_axis_off()
    if not cats:
        no_data(axes[0], tr("no_closures"))
    for ax, cat in zip(axes, cats):
        obs_d, obs_c = check.closure_observed[cat]
        sim_d, sim_c = check.closure_simulated.get(cat, (np.zeros(0), np.zeros(0, bool)))
        top = floor_h
        drawn = 0
        for (d, c), colour, label in (((obs_d, obs_c), OBSERVED, tr("observed")),
                                      ((sim_d, sim_c), SIMULATED, tr("simulated"))):
            t, p = closure_ecdf(d, c)
            if len(t) == 0:
                continue
            t = np.maximum(t, floor_h)
            ax.plot(np.r_[floor_h, t], np.r_[0.0, p], drawstyle="steps-post", color=colour, linewidth=1.3,
                    label=label)
            top = max(top, float(t[-1]))
            drawn += 1
        if not drawn:
            no_data(ax, tr("no_closures"))
            continue
        for q in (0.5, 0.9):
            ax.axhline(q, color="0.75", linestyle=":", linewidth=0.9, zorder=0)
        ax.set_xscale("log")
        ax.set_xlim(floor_h / 1.5, top * 1.5)
        ticks = [(h, t) for h, t in TIME_TICKS if floor_h / 1.5 <= h <= top * 1.5]
        ax.set_xticks([h for h, _ in ticks], [t for _, t in ticks])
        ax.xaxis.set_minor_formatter(mpl.ticker.NullFormatter())
        ax.set_ylim(0, 1.02)
        ax.yaxis.set_major_formatter(mpl.ticker.PercentFormatter(1.0))
        ax.set_xlabel(tr("closure_h"))
        ax.set_ylabel(tr("share_closed"))
        ax.set_title(tr("closure_counts", name=cat, obs=len(obs_d), cens=int(np.asarray(obs_c, bool).sum()),
                        sim=len(sim_d)), fontsize="small", wrap=True)
    if cats and axes[0].get_legend_handles_labels()[0]:
        axes[0].legend(loc="upper left", fontsize="small")
    floor = f"{floor_h * 60:g} min" if floor_h < 1 else f"{floor_h:g} h"
    fig.suptitle(f"{tr('closure_fit')} — {tr('closure_floor', value=floor)}")
    return finish(fig, tr)


# --- map ---------------------------------------------------------------------------------

def grid_rates(calibration: Calibration, by: Literal["fitted", "observed"] = "fitted") -> np.ndarray:
    """Cases per day in each grid: ``fitted`` — the expected rate the scenario simulates
    (every category's rate × its shrunk grid share; cases without a place spread like the
    placed ones); ``observed`` — the log's cases placed in the grid per day of the window."""
    cal = _need_calibration(calibration, "grid_rates")
    if by == "fitted":
        return np.asarray(cal.arrivals.grid_rate().sum(axis=0), float)
    if by == "observed":
        days = cal.arrivals.exposure_h / 24.0
        return cal.grids["cases"].to_numpy(float) / days if days > 0 else np.full(len(cal.grids), np.nan)
    raise ValueError(f"by must be 'fitted' or 'observed', got {by!r}")


def rate_map(calibration: Calibration, by: Literal["fitted", "observed"] = "fitted",
             lang: str = "en") -> Figure:
    """Cases per day in each grid (:func:`grid_rates`), on the grid map: the real polygons
    (with their holes and parts) when the calibration's map has them, else squares of
    ``edge_m`` around each grid's point ``(x_m, y_m)``. One patch per grid, in km."""
    cal = _need_calibration(calibration, "rate_map")
    tr = labels_for(lang)
    values = grid_rates(cal, by)
    g = cal.grids
    polygons = getattr(cal.gridmap, "polygons", None)
    shapes = [shapely_rings(p) for p in polygons] if polygons is not None else None
    x, y, edge = (g[c].to_numpy(dtype=float) for c in ("x_m", "y_m", "edge_m"))
    patches, bounds = grid_patches(x, y, edge, shapes)
    cmap = mpl.colormaps["YlOrRd"].with_extremes(bad="0.85")
    label = tr("rate_fitted") if by == "fitted" else tr("rate_observed")
    return map_figure(patches, bounds, values, cmap, label, f"{cal.data.get('name', '')}: {tr('rate_map')}", tr)


# --- the check's table -------------------------------------------------------------------

def fit_table(check: FitCheck, lang: str = "en") -> Figure:
    """The check's table as a figure: each statistic, the log's value, the simulated mean
    with its 95 % interval, and a mark — ✓ within the acceptance bar, ✗ outside it, – no bar
    (rows tinted to match)."""
    check = _need_check(check, "fit_table")
    tr = labels_for(lang)
    t = check.table
    cells, colours = [], []
    r: Any  # a row: its fields have the table's column types, which mypy cannot see
    for r in t.itertuples(index=False):
        ok = None if r.ok is None or (isinstance(r.ok, float) and math.isnan(r.ok)) else bool(r.ok)
        interval = f"[{_fmt(r.lower)}, {_fmt(r.upper)}]" if np.isfinite(r.lower) or np.isfinite(r.upper) else "–"
        cells.append([str(r.statistic), _fmt(r.observed), _fmt(r.simulated), interval, MARKS[ok]])
        colours.append([OK_COLOURS[ok]] * 5)
    fig = new_figure(9.0, 0.3 * len(cells) + 1.0)
    ax = fig.add_subplot()
    ax.set_axis_off()
    head = [tr("statistic"), tr("observed"), tr("simulated"), tr("interval"), tr("ok")]
    if cells:
        table = ax.table(cellText=cells, cellColours=colours, colLabels=head, loc="center",
                         colWidths=[0.44, 0.14, 0.14, 0.2, 0.06])
        table.auto_set_font_size(False)
        table.set_fontsize(8)
        table.scale(1, 1.25)
        for (i, j), cell in table.get_celld().items():
            if j == 0:
                cell.set_text_props(ha="left")
                cell.PAD = 0.03
            elif j == 4:
                cell.set_text_props(ha="center")
            if tr.font:  # the cells' texts are not among the figure's children (finish)
                cell.get_text().set_fontfamily([tr.font, "sans-serif"])
    else:
        no_data(ax, "–")
    bar = t["ok"].dropna()
    ax.set_title(f"{tr('fit_table')}: {int(bar.astype(bool).sum())}/{len(bar)} {MARKS[True]}")
    return finish(fig, tr)


# --- all of them -------------------------------------------------------------------------

def calibration_figures(calibration: Calibration | None = None, check: FitCheck | None = None,
                        lang: str = "en") -> dict[str, Figure]:
    """Every figure that applies, by file stem: with a check, the profiles, category mix,
    channel mix, daily volume, closure times and the table; with a calibration, the rate map
    (and, without a check, the category mix and channels of the log alone)."""
    if calibration is None and check is None:
        raise TypeError("calibration_figures needs a Calibration, a FitCheck or both")
    figs: dict[str, Figure] = {}
    if check is not None:
        figs["profile_fit"] = profile_fit(check, lang=lang)
        figs["category_mix"] = category_mix(check, lang=lang)
    elif calibration is not None:
        figs["category_mix"] = category_mix(calibration, lang=lang)
    figs["channel_mix"] = channel_mix(calibration, check, lang=lang)
    if check is not None:
        figs["daily_volume"] = daily_volume(check, lang=lang)
        if check.top:
            figs["closure_fit"] = closure_fit(check, lang=lang)
    if calibration is not None:
        figs["rate_map"] = rate_map(calibration, lang=lang)
    if check is not None:
        figs["fit_table"] = fit_table(check, lang=lang)
    return figs
