"""Figures of runs compared side by side: resolution times, time decomposition, backlog,
worker time use. Each takes a Result, ``{label: Result}`` or a list of Results."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from govsim.issues import Status
from govsim.metrics import TIME_USE_STATES, worker_hours
from govsim.plots._base import (
    IssueSource,
    Results,
    as_results,
    finish,
    issue_sets,
    model_colour,
    new_figure,
    no_data,
)
from govsim.plots.labels import Labels, labels_for

if TYPE_CHECKING:
    from govsim.result import Result

__all__ = ["STAGES", "backlog", "open_counts", "resolution_times", "stage_means", "time_decomposition",
           "time_use_shares", "utilisation"]

#: Stages of an issue's life and the two times that bound each (docs/metrics.md).
STAGES = (
    ("discovery", "created_at", "discovered_at"),
    ("dispatch", "discovered_at", "assigned_at"),
    ("travel", "assigned_at", "arrived_at"),
    ("handling", "arrived_at", "resolved_at"),
)
STAGE_COLOURS = ("#4c72b0", "#dd8452", "#55a868", "#c44e52")
STATE_COLOURS = {"patrol": "#8da0cb", "travel": "#fc8d62", "handle": "#e78ac3", "idle": "#d9d9d9"}


def resolution_times(results: IssueSource, kind: Literal["ecdf", "box"] = "ecdf",
                     warmup: float | None = None, lang: str = "en", clip: float | None = 0.99) -> Figure:
    """End-to-end resolution time (办结时长) per model: ``resolved_at − created_at`` of the
    resolved issues created after the warm-up, as an ECDF (one line per model) or box plots
    (whiskers at the 5th and 95th percentiles, no outliers drawn). ``results`` may also be an
    experiment run with ``issues=True`` (its replications pooled).

    The ECDF's time axis ends at the ``clip`` quantile of all models' times pooled (default
    the 99th percentile), so that a few long cases do not squeeze the rest into a corner; the
    figure says where it is cut and how many times lie beyond (the lines themselves hold
    every time). ``clip=None`` shows the whole range."""
    if kind not in ("ecdf", "box"):
        raise ValueError(f"kind must be 'ecdf' or 'box', got {kind!r}")
    if clip is not None and not 0.5 <= clip <= 1.0:
        raise ValueError(f"clip must be a quantile between 0.5 and 1 (or None), got {clip!r}")
    tr = labels_for(lang)
    sets = issue_sets(results, warmup)
    times = {lab: (d["resolved_at"] - d["created_at"])[d["status"] == Status.RESOLVED].dropna().to_numpy()
             for lab, d in sets.items()}
    fig = new_figure(7.0, 4.2 if kind == "ecdf" else 1.6 + 0.5 * len(times))
    ax = fig.add_subplot()
    if kind == "ecdf":
        for i, (lab, t) in enumerate(times.items()):
            if len(t):
                ax.ecdf(t, label=f"{lab} (n={len(t)})", color=model_colour(i))
            else:
                ax.plot([], [], label=f"{lab} ({tr('none_resolved')})", color=model_colour(i))
        ax.set_xlabel(tr("resolution_time_h"))
        ax.set_ylabel(tr("share_resolved"))
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_ylim(0, 1.02)
        ax.set_xlim(left=0)
        pooled = np.concatenate([t for t in times.values()] + [np.empty(0)])
        if clip is not None and clip < 1.0 and len(pooled):
            cut = float(np.quantile(pooled, clip))
            beyond = int((pooled > cut).sum())
            if beyond and cut > 0:
                ax.set_xlim(0, cut)
                ax.text(0.99, 0.03, tr("ecdf_clipped", q=clip, cut=cut, n=beyond), transform=ax.transAxes,
                        ha="right", va="bottom", fontsize="x-small", color="0.35")
        ax.legend(loc="center right")
        ax.grid(alpha=0.3)
    else:
        data = [t if len(t) else np.array([np.nan]) for t in times.values()]
        box = ax.boxplot(data, orientation="horizontal", whis=(5, 95), showfliers=False,
                         patch_artist=True, widths=0.6, medianprops={"color": "black"})
        for i, patch in enumerate(box["boxes"]):
            patch.set_facecolor(model_colour(i))
            patch.set_alpha(0.6)
        ax.set_yticks(range(1, len(times) + 1), labels=list(times))
        ax.invert_yaxis()
        ax.set_xlabel(tr("resolution_time_h"))
        ax.grid(axis="x", alpha=0.3)
    ax.set_title(tr("resolution_times"))
    return finish(fig, tr)


def stage_means(issues: pd.DataFrame) -> dict[str, float]:
    """Mean hours of each stage of :data:`STAGES` over the **resolved** issues of ``issues``, so
    that the stages add up to their mean resolution time (``resolution_time_mean`` of
    ``docs/metrics.md``): discovery ``discovered_at − created_at``, dispatch ``assigned_at −
    discovered_at``, travel ``arrived_at − assigned_at``, handling ``resolved_at − arrived_at``
    (for a dispute referred up the ladder, until it was settled). An issue closed without a
    worker's visit (no ``assigned_at`` or ``arrived_at``: handed to a department or a
    mechanism) spends 0 h in the stages it skipped and the rest in handling. ``n`` is the
    number of resolved issues."""
    done = issues[issues["status"] == Status.RESOLVED]
    bounds = [done[c].to_numpy(dtype=float) for c in ("created_at", "discovered_at", "assigned_at",
                                                      "arrived_at", "resolved_at")]
    for i in range(1, len(bounds)):  # a skipped stage ends where it began: 0 h
        bounds[i] = np.where(np.isnan(bounds[i]), bounds[i - 1], bounds[i])
    out = {name: float(np.mean(b - a)) if len(done) else math.nan
           for (name, _, _), a, b in zip(STAGES, bounds, bounds[1:])}
    out["n"] = float(len(done))
    return out


def time_decomposition(results: IssueSource, warmup: float | None = None, lang: str = "en") -> Figure:
    """Mean discovery, dispatch, travel and handling time (发现、派遣、到场、处置) per model, as
    stacked bars over the resolved issues created after the warm-up (:func:`stage_means`):
    each bar adds up to the mean resolution time of those issues (``resolution_time_mean``),
    written at its end with their number. The discovery and dispatch stages are therefore
    not ``discovery_delay_mean`` and ``dispatch_delay_mean``, which average over every issue
    discovered, or dispatched, resolved or not; the figure's caption says so."""
    tr = labels_for(lang)
    means = {lab: stage_means(d) for lab, d in issue_sets(results, warmup).items()}
    fig, ax, totals = _stacked_bars(means, dict(zip((s[0] for s in STAGES), STAGE_COLOURS)), tr)
    for yi, (total, m) in enumerate(zip(totals, means.values())):
        ax.text(total, yi, " " + tr("stack_total", value=total, n=int(m["n"])), va="center",
                fontsize="small")
    ax.set_xlabel(tr("mean_h"))
    ax.set_xlim(0, max(totals.max(), 1e-9) * 1.3)
    ax.set_title(tr("time_decomposition"))
    fig.supxlabel(_wrap(tr("decomposition_note"), 60 if tr.lang == "zh" else 115), fontsize="x-small",
                  color="0.35")
    return finish(fig, tr)


def _wrap(text: str, width: int) -> str:
    """``text`` in lines of at most ``width`` characters (Chinese has no spaces: cut anywhere)."""
    import textwrap

    if " " in text:
        return textwrap.fill(text, width)
    return "\n".join(text[i:i + width] for i in range(0, len(text), width))


def _stacked_bars(rows: dict[str, dict[str, float]], colours: dict[str, str],
                  tr: Labels) -> tuple[Figure, Axes, np.ndarray]:
    """One horizontal bar per model (``rows``: label → part → value), parts stacked in the order
    and colours of ``colours``, with the legend below; returns the figure, axes and totals."""
    fig = new_figure(7.0, 1.8 + 0.6 * len(rows))
    ax = fig.add_subplot()
    y = np.arange(len(rows))
    left = np.zeros(len(rows))
    for part, colour in colours.items():
        width = np.nan_to_num([r[part] for r in rows.values()])
        ax.barh(y, width, left=left, height=0.6, color=colour, label=tr(part))
        left += width
    ax.set_yticks(y, labels=list(rows))
    ax.invert_yaxis()
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25 if len(rows) < 3 else -0.12),
              ncols=len(colours), frameon=False)
    return fig, ax, left


def _hours(step: float | str) -> float:
    from govsim.units import parse_duration

    hours = float(step) if isinstance(step, (int, float)) else parse_duration(step)
    if not hours > 0:
        raise ValueError(f"step must be a positive duration, got {step!r}")
    return hours


def open_counts(issues: pd.DataFrame, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """At each of ``times``: issues known and not closed (``discovered_at ≤ t < closed_at``),
    and issues hidden (``created_at ≤ t < discovered_at``, not lapsed)."""
    def n_by(col: pd.Series) -> np.ndarray:
        return np.searchsorted(np.sort(col.dropna().to_numpy()), times, side="right")

    found = issues["discovered_at"].notna()
    known = n_by(issues["discovered_at"]) - n_by(issues.loc[found, "closed_at"])
    hidden = (n_by(issues["created_at"]) - n_by(issues["discovered_at"])
              - n_by(issues.loc[~found, "closed_at"]))
    return known, hidden


def backlog(results: Results, step: float | str = "1h", hidden: bool = False,
            lang: str = "en") -> Figure:
    """Open issues over the whole run (积压): known and not yet closed, one line per model,
    sampled every ``step`` (hours or a duration such as ``"30min"``); with ``hidden=True`` also
    the issues not yet discovered (dashed). The warm-up is shaded."""
    tr = labels_for(lang)
    runs = as_results(results)
    dt = _hours(step)
    fig = new_figure(7.5, 4.0)
    ax = fig.add_subplot()
    warm = max(r.warmup for r in runs.values())
    if warm > 0:
        ax.axvspan(0, warm / 24.0, color="0.92", label=tr("warmup"), zorder=0)
    for i, (lab, r) in enumerate(runs.items()):
        t = np.arange(0.0, r.horizon + dt / 2, dt)
        known, unseen = open_counts(r.issues, t)
        ax.step(t / 24.0, known, where="post", color=model_colour(i), label=f"{lab}: {tr('known_open')}")
        if hidden:
            ax.step(t / 24.0, unseen, where="post", color=model_colour(i), linestyle="--",
                    label=f"{lab}: {tr('hidden')}")
    ax.set_xlabel(tr("time_days"))
    ax.set_ylabel(tr("open_issues"))
    ax.set_xlim(0, max(r.horizon for r in runs.values()) / 24.0)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize="small")
    ax.set_title(tr("backlog"))
    return finish(fig, tr)


def time_use_shares(result: Result, warmup: float | None = None) -> dict[str, float]:
    """Share of all workers' worked time in each state of ``TIME_USE_STATES`` within
    ``[warmup, horizon)``."""
    w = result.warmup if warmup is None else warmup
    workers = result.workers
    hours = worker_hours(result.time_use, len(workers), w, result.horizon)
    if "kind" in workers:  # as worker_utilisation: grid workers only
        hours = hours[workers["kind"].to_numpy() == "grid_worker"]
    worked = hours["worked_h"].sum()
    return {s: float(hours[f"{s}_h"].sum() / worked) if worked > 0 else math.nan for s in TIME_USE_STATES}


def utilisation(results: Results, warmup: float | None = None, lang: str = "en") -> Figure:
    """Worker time use (网格员时间分配): share of worked time on patrol, travelling, handling and
    idle per model (after the warm-up), as stacked bars; utilisation = travel + handling."""
    tr = labels_for(lang)
    shares = {lab: time_use_shares(r, warmup) for lab, r in as_results(results).items()}
    fig, ax, _ = _stacked_bars(shares, STATE_COLOURS, tr)
    for yi, s in enumerate(shares.values()):
        busy = s["travel"] + s["handle"]
        if math.isnan(busy):
            no_data(ax, "–")
            continue
        ax.text(1.01, yi, tr("utilisation_note", value=busy), va="center", fontsize="small",
                transform=ax.get_yaxis_transform())
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter("{x:.0%}")
    ax.set_xlabel(tr("share_worked"))
    ax.set_title(tr("utilisation"))
    return finish(fig, tr)
