"""The cost–service figure of an optimisation (成本—服务帕累托前沿).

:func:`pareto_front` draws every configuration :func:`govsim.optimise` ran — cost (or grid
workers) across, a service metric up, with its confidence interval — joins the
non-dominated ones (no other configuration is at most as costly *and* at least as good, and
better in one), draws the target as a line and marks the chosen configuration.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from govsim.experiments.stats import metric_unit
from govsim.plots._base import finish, model_colour, new_figure, no_data
from govsim.plots.labels import Labels, labels_for

if TYPE_CHECKING:
    from govsim.experiments.optimise import Optimisation

__all__ = ["pareto_front", "pareto_mask"]

#: This figure's own labels (English, Chinese), in the manner of :data:`govsim.plots.labels.LABELS`.
PARETO_LABELS: dict[str, tuple[str, str]] = {
    "title": ("Cost and service of the configurations examined", "各方案的成本与服务水平"),
    "cost": ("Yearly cost", "年度成本"),
    "workers": ("Grid workers (all shifts)", "网格员人数（各班次合计）"),
    "front": ("non-dominated (Pareto front)", "非劣方案（帕累托前沿）"),
    "chosen": ("chosen", "选定方案"),
    "target": ("target", "服务目标"),
    "meets": ("meets the targets", "达标"),
    "fails": ("fails a target", "未达标"),
    "undecided": ("undecided", "未定"),
    "screened": ("screened only (greedy step)", "仅筛选（贪心步骤）"),
    "interval": ("{conf:.0%} interval", "{conf:.0%} 置信区间"),
    "nothing": ("no configuration was run", "无已运行方案"),
}


def _say(tr: Labels, key: str, **fields: object) -> str:
    return tr.text(PARETO_LABELS[key], **fields)


def _short(v: object) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def pareto_mask(cost: Sequence[float] | np.ndarray, value: Sequence[float] | np.ndarray,
                lower_is_better: bool = True) -> np.ndarray:
    """Which points are non-dominated: no other point costs at most as much and is at least
    as good, and strictly better in one of the two. NaN values are never on the front."""
    c = np.asarray(cost, dtype=float)
    v = np.asarray(value, dtype=float)
    if not lower_is_better:
        v = -v
    ok = ~(np.isnan(c) | np.isnan(v))
    mask = np.zeros(len(c), dtype=bool)
    for i in np.flatnonzero(ok):
        others = ok & (c <= c[i]) & (v <= v[i]) & ((c < c[i]) | (v < v[i]))
        mask[i] = not others.any()
    return mask


def pareto_front(result: Optimisation, metric: str | None = None, x: str | None = None,
                 lang: str = "en") -> Figure:
    """The cost–service figure of ``result``: ``x`` is ``"cost"`` or ``"workers"`` (default: what
    was minimised), ``metric`` a summary metric (default: the first target's). Every
    configuration with runs is drawn with its interval (green: meets the targets; red: fails
    one; grey: undecided, or only screened by a greedy step), the non-dominated ones are joined, the target is a dashed line and
    the chosen configuration a star."""
    tr = labels_for(lang)
    metric = metric or result.targets[0].metric
    x = x or result.minimise
    if x not in ("cost", "workers"):
        raise ValueError(f"x must be 'cost' or 'workers', got {x!r}")
    target = next((t for t in result.targets if t.metric == metric), None)
    lower_is_better = target.op == "<=" if target is not None else True
    table = result.candidates
    rows = []
    for _, row in table.iterrows():
        mean, low, high, n = result.interval(int(row["candidate"]), metric)
        if n == 0 or not math.isfinite(mean):
            continue
        verdict = str(row["verdict"])
        rows.append((float(row[x]), mean, low, high, verdict, int(row["candidate"])))
    keys = [k for k in result.vary if k in table.columns]
    names = {int(r["candidate"]): (", ".join(_short(r[k]) for k in keys) if 0 < len(keys) <= 3
                                   else f"#{int(r['candidate'])}") for _, r in table.iterrows()}
    fig = new_figure(6.4, 4.4)
    ax = fig.add_subplot()
    if not rows:
        no_data(ax, _say(tr, "nothing"))
        return finish(fig, tr)
    xs = np.array([r[0] for r in rows])
    ys = np.array([r[1] for r in rows])
    colours = {"meets": "C2", "fails": "C3"}
    seen: set[str] = set()
    for xv, mean, low, high, verdict, _ in rows:
        kind = verdict if verdict in colours else "screened" if verdict == "not examined" else "undecided"
        err = [[mean - low], [high - mean]] if math.isfinite(low) and math.isfinite(high) else None
        ax.errorbar([xv], [mean], yerr=err, fmt="o" if kind != "screened" else ".",
                    color=colours.get(kind, "0.55"), capsize=3,
                    markersize=5, label=_say(tr, kind) if kind not in seen else None, zorder=3)
        seen.add(kind)
    if len(rows) <= 16:
        for xv, mean, *_, cid in rows:
            ax.annotate(names.get(cid, ""), (xv, mean), textcoords="offset points", xytext=(6, 4),
                        fontsize="x-small", color="0.3")
    front = pareto_mask(xs, ys, lower_is_better)
    order = np.argsort(xs[front], kind="stable")
    ax.plot(xs[front][order], ys[front][order], "-", color=model_colour(0), linewidth=1.2,
            label=_say(tr, "front"), zorder=2)
    if target is not None:
        ax.axhline(target.value, color="0.3", linestyle="--", linewidth=1, label=f"{_say(tr, 'target')}: {target}")
    if result.chosen_candidate is not None:
        chosen = [r for r in rows if r[5] == result.chosen_candidate]
        if chosen:
            ax.plot([chosen[0][0]], [chosen[0][1]], marker="*", markersize=16, color="gold",
                    markeredgecolor="k", linestyle="none", label=_say(tr, "chosen"), zorder=4)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_xlabel(_say(tr, x) + (f" ({', '.join(keys)})" if 0 < len(keys) <= 3 and len(rows) <= 16 else ""))
    ax.set_ylabel(tr.metric(metric))
    if metric_unit(metric) == "share":  # the label says %: so do the ticks
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", title=_say(tr, "interval", conf=result.confidence),
              title_fontsize="small")
    fig.suptitle(_say(tr, "title"), fontsize="medium")
    return finish(fig, tr)
