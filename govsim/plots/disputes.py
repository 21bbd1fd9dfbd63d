"""The dispute escalation funnel (矛盾纠纷化解漏斗) up the four-level linkage (四级联动)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from govsim.issues import Status
from govsim.plots._base import finish, measured, new_figure
from govsim.plots.labels import labels_for

if TYPE_CHECKING:
    from govsim.result import Result

__all__ = ["FUNNEL_STAGES", "escalation_funnel", "funnel_counts"]

#: The funnel's rows: all disputes, those that reached each mediation level, those unsettled.
FUNNEL_STAGES = ("disputes", "reached_community", "reached_street", "reached_district", "unsettled")


def funnel_counts(result: Result, warmup: float | None = None) -> dict[str, int]:
    """Disputes created after the warm-up (as ``n_disputes``), how many of them reached the
    community room, the street and the district centre (the level is in their ``path``),
    and how many ended unsettled."""
    issues = measured(result.issues, result.warmup if warmup is None else warmup)
    d = issues[issues["category"].isin(result.dispute_categories)]
    levels = d["path"].fillna("").astype(str).str.split(">")
    out = {"disputes": len(d)}
    for level in ("community", "street", "district"):
        out[f"reached_{level}"] = int(levels.map(lambda p, lv=level: lv in p).sum())
    out["unsettled"] = int((d["status"] == Status.UNSETTLED).sum())
    return out


def escalation_funnel(result: Result, warmup: float | None = None, lang: str = "en") -> Figure:
    """Disputes (矛盾纠纷) → reached the community room → street centre → district centre →
    unsettled, as a centred funnel of bars with counts and shares of all disputes."""
    tr = labels_for(lang)
    counts = funnel_counts(result, warmup)
    values = np.array([counts[s] for s in FUNNEL_STAGES], dtype=float)
    top = max(values[0], 1.0)
    fig = new_figure(7.0, 3.6)
    ax = fig.add_subplot()
    y = np.arange(len(values))
    colours = ["#4c72b0", "#6a8fc7", "#8eaedb", "#b5cdeb", "#c44e52"]
    ax.barh(y, values, left=(top - values) / 2, height=0.7, color=colours)
    for yi, v in zip(y, values):
        share = f" ({v / values[0]:.1%})" if values[0] and yi else ""
        ax.text(top / 2, float(yi), f"{int(v):,}{share}", ha="center", va="center", fontsize="small",
                color="black")
    ax.set_yticks(y, labels=[tr(s) for s in FUNNEL_STAGES])
    ax.invert_yaxis()
    ax.set_xlim(0, top)
    ax.set_xticks([])
    ax.spines[["top", "right", "bottom"]].set_visible(False)
    ax.set_xlabel(tr("n_disputes"))
    ax.set_title(f"{result.scenario.name}: {tr('funnel')}")
    return finish(fig, tr)
