"""Figures of experiments: the comparison forest plot and sweep response curves."""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Real
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from govsim.plots._base import finish, model_colour, new_figure, no_data
from govsim.plots.labels import labels_for

if TYPE_CHECKING:
    from govsim.experiments.api import Comparison, Sweep

__all__ = ["FOREST_METRICS", "forest", "sweep_curves"]

#: Metrics of the forest plot unless others are asked for (those with no value are left out).
FOREST_METRICS = (
    "discovered_share", "discovery_delay_mean", "dispatch_delay_mean", "response_time_mean",
    "resolution_time_mean", "resolution_rate", "on_time_rate", "point_coverage",
    "worker_utilisation", "dispute_resolution_rate", "mediation_wait_mean",
)


def forest(comparison: Comparison, metrics: Sequence[str] | None = None, lang: str = "en") -> Figure:
    """Forest plot (森林图) of a :func:`govsim.compare` comparison: per metric, one panel with its
    own unit, the paired difference (scenario − baseline) of each compared scenario and its
    interval (from ``comparison.table``); differences of shares in percentage points, of times
    in hours. Filled markers are significant after Holm's correction over the metrics compared
    (the table's ``significant``), open ones are not; a legend below says so and gives the
    interval's level."""
    from matplotlib.lines import Line2D

    from govsim.experiments.stats import metric_unit

    tr = labels_for(lang)
    table = comparison.table
    if metrics is None:
        have = table.groupby("metric")["difference"].apply(lambda d: d.notna().any())
        metrics = [m for m in FOREST_METRICS if have.get(m, False)]
    unknown = [m for m in metrics if m not in set(table["metric"])]
    if unknown:
        raise ValueError(f"unknown metric {unknown[0]!r}")
    others = comparison.labels[1:]
    fig = new_figure(7.5, 1.5 + 0.35 * max(len(metrics), 1) * (len(others) + 1))
    if not metrics:
        ax = fig.add_subplot()
        no_data(ax, "–")
        return finish(fig, tr)
    axes = fig.subplots(len(metrics), 1, squeeze=False)[:, 0]
    for ax, metric in zip(axes, metrics):
        rows = table[table["metric"] == metric].set_index("scenario")
        scale = 100.0 if metric_unit(metric) == "share" else 1.0  # shares: percentage points
        for j, label in enumerate(others):
            r = rows.loc[label]
            assert isinstance(r, pd.Series)  # one row: the scenarios are unique
            d, lo, hi = (scale * float(r[c]) for c in ("difference", "ci_low", "ci_high"))
            err = [[d - lo], [hi - d]] if math.isfinite(lo) and math.isfinite(hi) else None
            ax.errorbar([d], [j], xerr=err, fmt="o", color=model_colour(j + 1), capsize=3,
                        markerfacecolor=model_colour(j + 1) if bool(r["significant"]) else "white")
        ax.axvline(0, color="0.4", linewidth=0.8)
        ax.set_yticks(range(len(others)), labels=others if len(others) > 1 else [""])
        ax.set_ylim(len(others) - 0.5, -0.5)
        ax.set_ylabel(tr.metric(metric, difference=True), rotation=0, ha="right", va="center",
                      fontsize="small")
        ax.tick_params(axis="x", labelsize="small")
        ax.grid(axis="x", alpha=0.3)
    what = others[0] if len(others) == 1 else tr("difference")
    note = f"  ({tr('forest_n1')})" if comparison.n < 2 else f"  (n = {comparison.n})"
    fig.suptitle(tr("forest", baseline=comparison.baseline, conf=comparison.confidence) + f": {what}{note}", fontsize="medium")
    grey = "0.3"
    keys = [Line2D([], [], marker="o", color=grey, linestyle="none", label=tr("forest_significant")),
            Line2D([], [], marker="o", color=grey, markerfacecolor="white", linestyle="none",
                   label=tr("forest_not_significant"))]
    if comparison.n >= 2:
        keys.append(Line2D([], [], color=grey, marker="|", markersize=8,
                           label=tr("forest_interval", conf=comparison.confidence)))
    fig.legend(handles=keys, loc="outside lower center", ncols=len(keys), fontsize="small",
               frameon=False)
    return finish(fig, tr)


def _is_numeric(values: Sequence[object]) -> bool:
    return all(isinstance(v, Real) and not isinstance(v, bool) for v in values)


def sweep_curves(sweep: Sweep, x: str, metrics: str | Sequence[str], hue: str | None = None,
                 lang: str = "en") -> Figure:
    """Response curves (响应曲线) of a :func:`govsim.sweep`: one panel per metric, its mean
    against swept key ``x`` with the confidence band, one line per value of ``hue`` (another
    swept key). Any other swept key must have a single value."""
    from matplotlib.ticker import PercentFormatter

    from govsim.experiments.stats import metric_unit

    tr = labels_for(lang)
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    for key in (x, hue):
        if key is not None and key not in sweep.params:
            raise ValueError(f"{key!r} is not a swept key; swept: {', '.join(sweep.params)}")
    rest = [k for k in sweep.params if k not in (x, hue) and len(sweep.params[k]) > 1]
    if rest:
        raise ValueError(f"swept key {rest[0]!r} has several values: pass it as hue=, or sweep "
                         f"it alone")
    xs = list(sweep.params[x])
    numeric = _is_numeric(xs)
    pos = {v: (float(v) if numeric else float(i)) for i, v in enumerate(xs)}
    hues = list(sweep.params[hue]) if hue else [None]
    ncols = 2 if len(metrics) == 4 else min(len(metrics), 3)
    nrows = math.ceil(len(metrics) / ncols)
    fig = new_figure(4.2 * ncols, 3.4 * nrows + 0.4)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, metric in zip(axes, metrics):
        t = sweep.table[sweep.table["metric"] == metric]
        if t.empty:
            raise ValueError(f"unknown metric {metric!r}")
        for j, h in enumerate(hues):
            rows = t if h is None else t[t[hue] == h]
            rows = rows.assign(_x=rows[x].map(pos)).sort_values("_x")
            colour = model_colour(j)
            ax.plot(rows["_x"], rows["mean"], marker="o", color=colour,
                    label=None if h is None else f"{hue}={h}")
            lo, hi = rows["ci_low"].to_numpy(dtype=float), rows["ci_high"].to_numpy(dtype=float)
            if np.isfinite(lo).any():
                ax.fill_between(rows["_x"].to_numpy(dtype=float), lo, hi, color=colour, alpha=0.2,
                                linewidth=0)
        if not numeric or len(xs) <= 12:
            ax.set_xticks(list(pos.values()), labels=[str(v) for v in xs])
        ax.set_xlabel(x)
        ax.set_ylabel(tr.metric(metric))
        if metric_unit(metric) == "share":
            ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.grid(alpha=0.3)
        if hue:
            ax.legend(fontsize="small")
    for ax in axes[len(metrics):]:
        ax.set_visible(False)
    fig.suptitle(tr("sweep", x=x) + f"  (n = {sweep.n})", fontsize="medium")
    return finish(fig, tr)
