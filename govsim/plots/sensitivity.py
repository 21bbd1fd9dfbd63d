"""Figures of a sensitivity analysis (敏感性分析): the Morris μ*–σ plane and Sobol S1/ST bars.

Both take the :class:`~govsim.experiments.sensitivity.Sensitivity` returned by
:func:`govsim.sensitivity`, draw one panel per analysed metric, and show the noise
floor of the simulation (grey): an index inside it cannot be told from noise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.figure import Figure

from govsim.plots._base import finish, model_colour, new_figure, no_data
from govsim.plots.labels import Labels, labels_for

if TYPE_CHECKING:
    from govsim.experiments.sensitivity import Sensitivity

__all__ = ["TEXT", "morris_plane", "sensitivity_figure", "sobol_bars"]

#: The texts of these figures (key → English, Chinese), as :data:`govsim.plots.labels.LABELS`.
TEXT: dict[str, tuple[str, str]] = {
    "morris": ("Morris screening ({n} trajectories × {r} replications)",
               "Morris 筛选（{n} 条轨迹 × {r} 次重复）"),
    "sobol": ("Sobol indices (N = {n}, {r} replications)", "Sobol 指数（N = {n}，{r} 次重复）"),
    "mu_star": ("μ*: mean |elementary effect| over a factor's range", "μ*：因素全程的平均绝对基本效应"),
    "sigma": ("σ: spread of the effects", "σ：基本效应的离散程度"),
    "sigma_eq_mu": ("σ = μ*", "σ = μ*"),
    "index": ("Sobol index (share of variance)", "Sobol 指数（方差占比）"),
    "first": ("S1 (alone)", "S1（单独）"),
    "total": ("ST (with interactions)", "ST（含交互）"),
    "noise_floor": ("noise floor", "噪声下限"),
    "no_indices": ("no indices: {why}", "无指数：{why}"),
}


def _text(tr: Labels, key: str, **fields: object) -> str:
    return tr.text(TEXT[key], **fields)


def _metrics(sens: Sensitivity, metrics: Sequence[str] | None) -> list[str]:
    chosen = list(metrics) if metrics else sens.metrics
    unknown = [m for m in chosen if m not in sens.metrics]
    if unknown:
        raise ValueError(f"{unknown[0]!r} was not analysed; analysed: {', '.join(sens.metrics)}")
    return chosen


def _panels(count: int, width: float, height: float) -> tuple[Figure, list[Any]]:
    ncols = min(count, 2)
    nrows = math.ceil(count / ncols)
    fig = new_figure(width * ncols, height * nrows + 0.5)
    axes = list(fig.subplots(nrows, ncols, squeeze=False).ravel())
    for ax in axes[count:]:
        ax.set_visible(False)
    return fig, axes[:count]


def _noise(sens: Sensitivity, metric: str) -> tuple[float, str]:
    row = sens.noise_row(metric)
    return float(row["floor"]), str(row["note"])


def morris_plane(sens: Sensitivity, metrics: Sequence[str] | None = None, lang: str = "en") -> Figure:
    """Morris μ*–σ plane (Morris 筛选图): per metric, each factor at (μ*, σ) with μ*'s interval;
    far right matters, high up interacts or is not linear; the grey band is the noise floor."""
    tr = labels_for(lang)
    chosen = _metrics(sens, metrics)
    fig, axes = _panels(len(chosen), 5.0, 3.9)
    for ax, metric in zip(axes, chosen):
        t = sens.metric(metric)
        floor, note = _noise(sens, metric)
        mu, conf, sigma = (t[c].to_numpy(dtype=float) for c in ("mu_star", "mu_star_conf", "sigma"))
        if not np.isfinite(mu).any():
            no_data(ax, _text(tr, "no_indices", why=note or "–"))
            ax.set_title(tr.metric(metric, unit=False), fontsize="medium")
            continue
        top = float(np.nanmax(np.r_[mu + conf, sigma, floor if math.isfinite(floor) else 0.0]))
        top = top * 1.1 if top > 0 else 1.0
        if math.isfinite(floor) and floor > 0:
            ax.axvspan(0, floor, color="0.85", zorder=0, label=_text(tr, "noise_floor"))
        ax.plot([0, top], [0, top], color="0.5", linewidth=0.8, linestyle="--",
                label=_text(tr, "sigma_eq_mu"))
        for j, factor in enumerate(t.index):
            ax.errorbar([mu[j]], [sigma[j]], xerr=[conf[j]], fmt="o",
                        color=model_colour(j), capsize=3)
            ax.annotate(str(factor), (mu[j], sigma[j]), textcoords="offset points", xytext=(4, 4),
                        fontsize="x-small", color=model_colour(j))
        ax.set_xlim(-0.02 * top, top)
        ax.set_ylim(-0.02 * top, top)
        ax.set_xlabel(_text(tr, "mu_star"), fontsize="small")
        ax.set_ylabel(_text(tr, "sigma"), fontsize="small")
        ax.set_title(tr.metric(metric, unit=False), fontsize="medium")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="x-small", loc="upper left")
    fig.suptitle(_text(tr, "morris", n=sens.n, r=sens.replications), fontsize="medium")
    return finish(fig, tr)


def sobol_bars(sens: Sensitivity, metrics: Sequence[str] | None = None, lang: str = "en") -> Figure:
    """Sobol indices as a tornado chart (Sobol 指数图): per metric, S1 and ST of each factor with
    their intervals, the largest ST on top; the grey band is the noise floor of ST."""
    tr = labels_for(lang)
    chosen = _metrics(sens, metrics)
    k = len(sens.factors)
    fig, axes = _panels(len(chosen), 5.5, 0.9 + 0.45 * k)
    for ax, metric in zip(axes, chosen):
        t = sens.metric(metric)
        floor, note = _noise(sens, metric)
        if not np.isfinite(t["ST"].to_numpy(dtype=float)).any():
            no_data(ax, _text(tr, "no_indices", why=note or "–"))
            ax.set_title(tr.metric(metric, unit=False), fontsize="medium")
            continue
        t = t.sort_values("ST", ascending=False)
        pos = np.arange(len(t), dtype=float)
        h = 0.38
        if math.isfinite(floor) and floor > 0:
            ax.axvspan(0, floor, color="0.85", zorder=0, label=_text(tr, "noise_floor"))
        ax.barh(pos - h / 2, t["ST"], height=h, xerr=t["ST_conf"], color="C0", alpha=0.45,
                capsize=2, label=_text(tr, "total"))
        ax.barh(pos + h / 2, t["S1"], height=h, xerr=t["S1_conf"], color="C0", capsize=2,
                label=_text(tr, "first"))
        ax.axvline(0, color="0.3", linewidth=0.8)
        ax.set_yticks(pos, labels=[str(f) for f in t.index], fontsize="x-small")
        ax.set_ylim(len(t) - 0.5, -0.5)
        ax.set_xlabel(_text(tr, "index"), fontsize="small")
        ax.set_title(tr.metric(metric, unit=False), fontsize="medium")
        ax.grid(axis="x", alpha=0.3)
        ax.legend(fontsize="x-small", loc="lower right")
    fig.suptitle(_text(tr, "sobol", n=sens.n, r=sens.replications), fontsize="medium")
    return finish(fig, tr)


def sensitivity_figure(sens: Sensitivity, metrics: Sequence[str] | None = None,
                       lang: str = "en") -> Figure:
    """The figure of a sensitivity analysis: :func:`morris_plane` or :func:`sobol_bars`."""
    draw = morris_plane if sens.method == "morris" else sobol_bars
    return draw(sens, metrics=metrics, lang=lang)
