"""Figure labels in English and Chinese (图表标签), and the CJK font check.

Every piece of text a figure shows comes from :data:`LABELS` (key → English,
Chinese), and every metric's name and unit from the metric catalogue
(:mod:`govsim.plots.catalogue`, through :meth:`Labels.metric`). ``lang="zh"``
uses the Chinese labels when matplotlib knows a CJK font (:func:`cjk_font`);
when it knows none, the figure falls back to English with one warning instead
of drawing empty boxes.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

from govsim.plots.catalogue import metric_label

__all__ = ["CJK_FONTS", "LABELS", "Labels", "cjk_font", "effective_lang", "labels_for"]

#: Font families tried, in order, for Chinese labels.
CJK_FONTS = (
    "Noto Sans CJK SC", "Noto Sans SC", "Noto Sans CJK JP", "Noto Serif CJK SC", "Source Han Sans SC",
    "Source Han Sans CN", "Source Han Serif SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei",
    "SimHei", "Microsoft YaHei", "PingFang SC", "Hiragino Sans GB", "Heiti SC", "STHeiti",
    "AR PL UMing CN", "AR PL UKai CN",
)

LABELS: dict[str, tuple[str, str]] = {
    # resolution times
    "resolution_times": ("End-to-end resolution time", "事件办结时长"),
    "resolution_time_h": ("Resolution time: created → resolved (h)", "办结时长：发生 → 办结（小时）"),
    "share_resolved": ("Share of resolved issues (%)", "已办结事件占比（%）"),
    "model": ("Governance model", "治理模式"),
    "none_resolved": ("no resolved issues", "无已办结事件"),
    "ecdf_clipped": ("axis cut at the {q:.0%} quantile ({cut:.1f} h): {n:,} longer times not shown",
                     "横轴截至 {q:.0%} 分位数（{cut:.1f} 小时），其余 {n:,} 个更长时长未显示"),
    # time decomposition
    "time_decomposition": ("Where the time goes: resolved issues, mean per stage",
                           "各环节平均时长（已办结事件）"),
    "stack_total": ("{value:.2f} h = mean resolution time (n = {n:,})", "{value:.2f} 小时 = 平均办结时长（{n:,} 件）"),
    "decomposition_note": ("Each stage is averaged over the resolved issues created after the warm-up, so "
                           "the stages add up to their mean resolution time; a stage an issue skipped "
                           "counts 0 h.",
                           "各环节均按预热期后发生且已办结的事件计算平均值，故各环节之和等于其平均办结时长；"
                           "事件跳过的环节计 0 小时。"),
    "mean_h": ("Mean time (h)", "平均时长（小时）"),
    "discovery": ("Discovery", "发现"),
    "dispatch": ("Dispatch", "派遣"),
    "travel": ("Travel", "到场"),
    "handling": ("Handling", "处置"),
    # coverage map
    "coverage_visits": ("Patrol visits per grid", "各网格巡查频次"),
    "coverage_discovery_delay": ("Discovery delay per grid", "各网格发现时延"),
    "coverage_difference": ("{b} − {a}: {what}", "{b} − {a}：{what}"),
    "difference_of": ("Difference {b} − {a}: {label}", "差值 {b} − {a}：{label}"),
    "same_scale": ("(colour scale shared by the scenarios compared)", "（对比各方案使用同一色标）"),
    "visits_per_day": ("Patrol-point visits per day", "每日巡查点位次数"),
    "discovery_delay_h": ("Mean discovery delay (h)", "平均发现时延（小时）"),
    "x_km": ("x (km)", "x（千米）"),
    "y_km": ("y (km)", "y（千米）"),
    # backlog
    "backlog": ("Open issues over time", "未办结事件数变化"),
    "time_days": ("Time (days)", "时间（天）"),
    "open_issues": ("Issues (count)", "事件数（件）"),
    "known_open": ("known, unresolved", "已发现未办结"),
    "hidden": ("hidden", "未发现"),
    "warmup": ("warm-up", "预热期"),
    # utilisation
    "utilisation": ("Worker time use", "网格员时间分配"),
    "share_worked": ("Share of worked time (%)", "工作时间占比（%）"),
    "patrol": ("Patrol", "巡查"),
    "handle": ("Handling", "处置"),
    "idle": ("Idle", "空闲"),
    "utilisation_note": ("utilisation {value:.0%}", "利用率 {value:.0%}"),
    # experiments
    "forest": ("Paired differences from {baseline} ({conf:.0%} CI)",
               "与 {baseline} 的配对差异（{conf:.0%} 置信区间）"),
    "forest_n1": ("n = 1: no intervals", "n = 1：无置信区间"),
    "forest_significant": ("significant after Holm's correction", "Holm 校正后显著"),
    "forest_not_significant": ("not significant", "不显著"),
    "forest_interval": ("{conf:.0%} confidence interval", "{conf:.0%} 置信区间"),
    "difference": ("difference", "差异"),
    "sweep": ("Response to {x}", "{x} 的影响"),
    # dispute funnel
    "funnel": ("Dispute escalation funnel", "矛盾纠纷化解漏斗"),
    "disputes": ("Disputes", "矛盾纠纷"),
    "reached_community": ("Reached community room", "进入社区调解"),
    "reached_street": ("Reached street centre", "进入街道调解"),
    "reached_district": ("Reached district centre", "进入区级调解"),
    "unsettled": ("Unsettled", "未化解"),
    "n_disputes": ("Number of disputes", "纠纷数"),
    # calibration (标定): fitted and simulated against the case log
    "profile_fit": ("When cases become known: log vs simulation", "事件发现时间分布：工单与模拟"),
    "hour_of_week": ("Hour of the week", "一周内的小时"),
    "hour_of_day": ("Hour of the day", "一天内的小时"),
    "share_cases": ("Share of cases (%)", "事件占比（%）"),
    "observed": ("observed (log)", "实际（工单）"),
    "simulated": ("simulated", "模拟"),
    "fitted": ("fitted", "拟合"),
    "noise_band": ("95% range of a log of this size drawn from the model",
                   "按模型抽取同规模工单的 95% 范围"),
    "tvd_note": ("{what}: total-variation distance {value:.3f}", "{what}：总变差距离 {value:.3f}"),
    "day_0": ("Mon", "周一"), "day_1": ("Tue", "周二"), "day_2": ("Wed", "周三"), "day_3": ("Thu", "周四"),
    "day_4": ("Fri", "周五"), "day_5": ("Sat", "周六"), "day_6": ("Sun", "周日"),
    "category_mix": ("Category mix", "事件类别构成"),
    "cases_in_window": ("Cases in the log's window", "观测窗口内的事件数"),
    "channel_mix": ("Who found the cases", "事件发现渠道"),
    "staff_found": ("found by staff (patrol)", "工作人员发现（巡查）"),
    "resident_found": ("reported by residents", "居民上报"),
    "all_categories": ("all categories", "全部类别"),
    "daily_volume": ("Daily volume", "日均事件量"),
    "cases_per_day": ("Cases per day", "日均事件数"),
    "by_weekday": ("Cases by day of the week (the log's window)", "按星期统计的事件数（观测窗口）"),
    "replications": ("replications", "各次重复"),
    "interval95": ("95% interval", "95% 区间"),
    "closure_fit": ("Closure time (closed − created)", "办结时长（办结 − 立案）"),
    "closure_h": ("Closure time (log scale)", "办结时长（对数轴）"),
    "share_closed": ("Share closed (%)", "已办结占比（%）"),
    "closure_floor": ("times under {value} drawn at {value}", "不足 {value} 的按 {value} 绘制"),
    "closure_counts": ("{name}: {obs:,} in the log ({cens:,} open), {sim:,} simulated",
                       "{name}：工单 {obs:,} 件（{cens:,} 件未结），模拟 {sim:,} 件"),
    "no_closures": ("no closure times", "无办结时长"),
    "no_cases": ("no cases", "无事件"),
    "rate_map": ("Cases per day by grid", "各网格日均事件数"),
    "rate_fitted": ("Cases per day (fitted)", "日均事件数（拟合）"),
    "rate_observed": ("Cases per day (observed)", "日均事件数（实际）"),
    "fit_table": ("Check of the fit", "拟合检验"),
    "statistic": ("statistic", "统计量"),
    "interval": ("95% interval", "95% 区间"),
    "ok": ("ok", "达标"),
    # calibration report sections
    "report_title": ("Calibration report: {name}", "标定报告：{name}"),
    "sec_fitted": ("What was fitted", "拟合结果"),
    "sec_rows": ("Rows of the log", "工单数据行"),
    "sec_notes": ("Notes", "说明"),
    "sec_check": ("Check of the fit", "拟合检验"),
    "sec_figures": ("Figures", "图表"),
}


def cjk_font() -> str | None:
    """The first font family of :data:`CJK_FONTS` that matplotlib knows, else ``None``."""
    from matplotlib import font_manager

    known = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in known), None)


@dataclass(frozen=True)
class Labels:
    """The labels of one figure: ``labels("key", **fields)`` gives the text in ``lang``;
    ``font`` is the CJK font family to draw it with (``None`` for English)."""

    lang: str
    font: str | None = None

    def __call__(self, key: str, **fields: object) -> str:
        return self.text(LABELS[key], **fields)

    def text(self, pair: tuple[str, str], **fields: object) -> str:
        """One ``(English, Chinese)`` pair in ``lang``, with ``fields`` filled in (a figure's
        own labels, kept beside the figure, use this too)."""
        en, zh = pair
        text = zh if self.lang == "zh" else en
        return text.format(**fields) if fields else text

    def metric(self, name: str, unit: bool = True, difference: bool = False) -> str:
        """A summary metric's readable label with its unit, from the metric catalogue
        (:func:`govsim.plots.catalogue.metric_label`; its own name if the catalogue has none);
        ``difference=True``: the unit of a difference (percentage points for a share)."""
        return metric_label(name, self.lang, unit=unit, difference=difference)


def labels_for(lang: str) -> Labels:
    """Labels for ``lang`` (``"en"`` or ``"zh"``); ``"zh"`` without a CJK font warns once and
    gives English labels."""
    if lang not in ("en", "zh"):
        raise ValueError(f"lang must be 'en' or 'zh', got {lang!r}")
    if lang == "en":
        return Labels("en")
    font = cjk_font()
    if font is None:
        warnings.warn("lang='zh': no CJK font found for matplotlib (install e.g. Noto Sans CJK "
                      "or WenQuanYi); using English labels", stacklevel=3)
        return Labels("en")
    return Labels("zh", font)


def effective_lang(lang: str) -> str:
    """The language figures will use for ``lang``: ``"en"`` if ``"zh"`` has no font (warns once,
    so that figures made with the result do not warn again)."""
    return labels_for(lang).lang
