"""The metric catalogue (指标目录): every built-in summary metric's readable label and unit, in
English and Chinese, and the one rule for which metrics apply to a run.

Figures, the HTML report and the command line's tables take their metric names from here
(:func:`metric_label`); the library's tables (``Result.summary()``, ``Comparison.table``…)
keep the identifiers. The unit of a metric is :func:`govsim.experiments.stats.metric_unit`'s
(``"h"``, ``"share"``, ``"count"``…); a share is shown in per cent and a difference of shares
in percentage points. A metric registered by study code has no entry: it is shown under its
own name, with the unit ``metric_unit`` infers from that name.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["METRICS", "MetricText", "applicable", "format_summary_table", "format_value", "labelled",
           "metric_label", "unit_text"]


@dataclass(frozen=True)
class MetricText:
    """A metric's readable name in English and Chinese (without the unit)."""

    en: str
    zh: str


#: Readable names of the built-in summary metrics (``govsim.metrics.summary_keys()``).
METRICS: dict[str, MetricText] = {
    # issues (事件)
    "n_issues": MetricText("Issues", "事件数"),
    "resolution_rate": MetricText("Resolution rate", "办结率"),
    "lapsed_share": MetricText("Lapsed share", "自行消失占比"),
    "discovered_share": MetricText("Discovered share", "发现率"),
    "discovery_delay_mean": MetricText("Discovery delay, mean", "平均发现时延"),
    "discovery_delay_p50": MetricText("Discovery delay, median", "发现时延中位数"),
    "discovery_delay_p90": MetricText("Discovery delay, p90", "发现时延 P90"),
    "dispatch_delay_mean": MetricText("Dispatch delay, mean", "平均派遣时延"),
    "response_time_mean": MetricText("Response time, mean", "平均响应时间"),
    "response_time_p90": MetricText("Response time, p90", "响应时间 P90"),
    "resolution_time_mean": MetricText("Resolution time, mean", "平均办结时长"),
    "resolution_time_p50": MetricText("Resolution time, median", "办结时长中位数"),
    "resolution_time_p90": MetricText("Resolution time, p90", "办结时长 P90"),
    "on_time_rate": MetricText("On-time rate", "按时办结率"),
    "point_coverage": MetricText("Patrol-point coverage", "点位巡查覆盖率"),
    "grid_coverage": MetricText("Grid coverage", "网格覆盖率"),
    "backlog_end": MetricText("Backlog at end", "期末积压"),
    "hidden_end": MetricText("Hidden at end", "期末未发现"),
    "worker_utilisation": MetricText("Worker utilisation", "网格员利用率"),
    "n_false_alarms": MetricText("False alarms", "误报数"),
    # disputes and stations (矛盾纠纷、调解)
    "n_disputes": MetricText("Disputes", "纠纷数"),
    "dispute_resolution_rate": MetricText("Dispute resolution rate", "纠纷化解率"),
    "settled_grid_share": MetricText("Settled on the spot", "网格就地化解占比"),
    "settled_community_share": MetricText("Settled in community", "社区化解占比"),
    "settled_street_share": MetricText("Settled in street", "街道化解占比"),
    "settled_district_share": MetricText("Settled in district", "区级化解占比"),
    "unsettled_share": MetricText("Unsettled share", "未化解占比"),
    "mediation_wait_mean": MetricText("Mediation wait, mean", "平均调解等待"),
    "mediator_utilisation": MetricText("Mediator utilisation", "调解员利用率"),
    "department_backlog_end": MetricText("Department backlog at end", "部门期末积压"),
    # governance mechanisms (党建引领)
    "liaison_household_share": MetricText("Households with a liaison", "有联络员的住户占比"),
    "liaison_contact_share": MetricText("Households contacted", "已联系住户占比"),
    "liaison_found_share": MetricText("Found by liaisons", "联络员发现占比"),
    "participation_end": MetricText("Residents' participation at end", "期末居民参与率"),
    "volunteer_days": MetricText("Volunteer days", "志愿服务人天"),
    "volunteer_handled": MetricText("Handled by volunteers", "志愿者处置数"),
    "problems_per_volunteer_day": MetricText("Problems per volunteer day", "每人天处置问题数"),
    "handled_by_team": MetricText("Handled by local teams", "网格团队处置数"),
    "handled_by_alliance": MetricText("Handled by the alliance", "共建联盟处置数"),
    "handled_by_property_staff": MetricText("Handled by property staff", "物业人员处置数"),
    "council_topics": MetricText("Council topics", "议事协商议题数"),
    "council_agreement_rate": MetricText("Council agreement rate", "议事协商达成率"),
    "council_time_mean": MetricText("Council time, mean", "平均议事时长"),
    "council_backlog_end": MetricText("Council backlog at end", "期末待议议题"),
    "infrastructure_cost": MetricText("Infrastructure cost", "设施成本"),
    # a city's shared services (市级共享服务, govsim.city)
    "calls": MetricText("Calls to the city's 12345", "12345来电数"),
    "duplicate_call_share": MetricText("Duplicate calls", "重复来电占比"),
    "call_wait_mean": MetricText("Call wait, mean", "平均来电等待"),
    "call_wait_p90": MetricText("Call wait, p90", "来电等待 P90"),
    "call_wait_max": MetricText("Call wait, max", "最长来电等待"),
    "operator_utilisation": MetricText("Operator utilisation", "话务员利用率"),
    "calls_waiting_end": MetricText("Calls waiting at end", "期末待接来电"),
    "settled_city_share": MetricText("Settled at the city centre", "市级化解占比"),
    "city_mediation_wait_mean": MetricText("City mediation wait, mean", "市级平均调解等待"),
    "city_mediation_turned_away": MetricText("Turned away by the city centre", "市级调解中心拒收数"),
    "city_department_wait_mean": MetricText("City department wait, mean", "市级部门平均等待"),
    "city_department_utilisation": MetricText("City department utilisation", "市级部门利用率"),
}

#: How a unit is written after a label, per language; a count has none.
_UNIT_TEXT: dict[str, tuple[str, str]] = {
    "h": ("h", "小时"),
    "share": ("%", "%"),
    "pp": ("pp", "百分点"),
    "volunteer-days": ("volunteer-days", "人天"),
    "per volunteer-day": ("per volunteer-day", "每人天"),
    "currency": ("currency units", "货币单位"),
}


def _unit(name: str) -> str:
    from govsim.experiments.stats import metric_unit

    return metric_unit(name)


def unit_text(name: str, lang: str = "en", difference: bool = False) -> str:
    """How the unit of metric ``name`` is written in ``lang`` (``""`` for a count or an unknown
    unit); ``difference=True``: the unit of a difference of two values (a share's is
    percentage points)."""
    unit = _unit(name)
    if difference and unit == "share":
        unit = "pp"
    pair = _UNIT_TEXT.get(unit)
    if pair is None:
        return ""
    return pair[1] if lang == "zh" else pair[0]


def metric_label(name: str, lang: str = "en", unit: bool = True, difference: bool = False) -> str:
    """The readable label of metric ``name`` in ``lang`` (``"en"`` or ``"zh"``), with its unit in
    brackets (``"Discovery delay, mean (h)"``, ``"平均发现时延（小时）"``) unless ``unit=False``;
    a metric without an entry keeps its own name."""
    text = METRICS.get(name)
    label = name if text is None else (text.zh if lang == "zh" else text.en)
    u = unit_text(name, lang, difference) if unit else ""
    if not u:
        return label
    return f"{label}（{u}）" if lang == "zh" else f"{label} ({u})"


def format_value(x: Any, name: str, signed: bool = False) -> str:
    """A metric's value (or a difference of two) as a table cell, fixed-point in the unit of
    its label: a share in per cent (a difference of shares: percentage points) with one
    decimal, hours and other amounts with two decimals, a count as a whole number when it is
    one (a mean of counts with two decimals); ``–`` for a missing value; ``signed``: ``+``
    before positive values. The unit itself is in the column's or row's label."""
    if isinstance(x, str):
        return x
    if x is None or pd.isna(x):
        return "–"
    v = float(x)
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    unit = _unit(name)
    if unit == "share":
        text = f"{100.0 * v:.1f}"
    elif unit in ("count", "") and v.is_integer() and abs(v) < 1e15:
        text = f"{int(v):d}"
    else:
        text = f"{v:.2f}"
    if signed and v > 0:
        text = "+" + text
    return text


def applicable(values: pd.DataFrame, governance: Iterable[str] | None = None) -> pd.Series:
    """Which metrics apply (the one rule of every summary table, one run or many): ``values``
    has one row per metric (index: the identifiers) and one column per scenario (or
    replication, or the means); a metric does not apply when it has no value in any column
    (e.g. dispute metrics of a run without disputes), or when it is a governance mechanism's
    metric (``govsim.metrics.governance_keys()`` unless ``governance`` is given) that is 0
    in every column (the mechanism is off). Returns a boolean Series on ``values.index``."""
    if governance is None:
        from govsim.metrics import governance_keys

        governance = governance_keys()
    numeric = values.apply(pd.to_numeric, errors="coerce")
    unused = numeric.isna().all(axis=1)
    mechanism = numeric.index.isin(list(governance))
    unused |= mechanism & numeric.fillna(0).eq(0).all(axis=1)
    return ~unused


def format_summary_table(table: pd.DataFrame, lang: str = "en",
                         differences: Sequence[str] = ("difference",), hide: bool = True) -> pd.DataFrame:
    """A table of metrics (index: the identifiers; one column per scenario, and columns of
    differences) made readable: each metric named by :func:`metric_label` with its unit,
    values fixed-point in that unit (:func:`format_value`), the columns named in
    ``differences`` signed with their unit written out (``+2.0 pp``, ``-0.62 h``); text cells
    are kept and true/false become ``✓``/empty. ``hide``: leave out the metrics that do not
    apply (:func:`applicable`, judged on the other numeric columns, or on all of them when
    every column is a difference)."""
    if hide:
        levels = [c for c in table.columns if c not in differences and c != "change"
                  and pd.api.types.is_numeric_dtype(table[c]) and not pd.api.types.is_bool_dtype(table[c])]
        table = table[applicable(table[levels or list(table.columns)]).to_numpy()]
    out = pd.DataFrame(index=[metric_label(str(m), lang) for m in table.index])
    for c in table.columns:
        cells = []
        for m, x in table[c].items():
            if isinstance(x, (bool, np.bool_)):
                cells.append("✓" if x else "")
            elif c in differences:
                text, u = format_value(x, str(m), signed=True), unit_text(str(m), lang, True)
                cells.append(text if text == "–" or not u else f"{text}%" if u == "%" else f"{text} {u}")
            else:
                cells.append(format_value(x, str(m)))
        out[c] = cells
    return out


def labelled(experiment: Any, lang: str = "en") -> Any:
    """A copy of a :class:`~govsim.experiments.api.Replications` or
    :class:`~govsim.experiments.api.Comparison` whose ``to_string()`` shows readable metric
    names and leaves out the metrics that do not apply (the rule of :func:`applicable`, as
    for one run). Replications: each metric named with its unit, shares' values in per cent;
    a comparison already writes units in its cells, so its metrics are named without. The
    original object (and its tables, for scripts) is unchanged."""
    import copy

    from govsim.experiments.api import Comparison, Replications

    new = copy.copy(experiment)
    if isinstance(experiment, Replications):
        t = experiment.table
        keep = applicable(t.set_index("metric")[["mean"]]).to_numpy()
        t = t[keep].copy()
        share = t["metric"].map(lambda m: _unit(m) == "share").to_numpy(dtype=bool)
        for c in ("mean", "sd", "ci_low", "ci_high", "half_width"):
            if c in t:
                t[c] = t[c].astype(float).where(~share, 100.0 * t[c].astype(float))
        names = {m: metric_label(m, lang) for m in t["metric"]}
        t["metric"] = t["metric"].map(names)
        new.table = t
        new.methods = experiment.methods.rename(index=names)
        return new
    if isinstance(experiment, Comparison):
        t = experiment.table
        pieces = []
        for _, part in t.groupby("scenario", sort=False):
            keep = applicable(part.set_index("metric")[["mean_baseline", "mean_scenario"]]).to_numpy()
            pieces.append(part[keep])
        t = pd.concat(pieces) if pieces else t
        units = t["unit"] if "unit" in t else t["metric"].map(_unit)
        new.table = t.assign(unit=units, metric=t["metric"].map(lambda m: metric_label(m, lang, unit=False)))
        return new
    raise TypeError(f"expected Replications or a Comparison, got {type(experiment).__name__}")
