"""The comparison report (对比报告, ``govsim report``): tables and figures in one HTML or
Markdown file, the figures as PNG files next to it."""

from __future__ import annotations

import functools
import html
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from govsim.plots.catalogue import applicable, format_value, metric_label, unit_text
from govsim.plots.experiments import forest
from govsim.plots.output import run_figures, save_figures

if TYPE_CHECKING:
    from govsim.experiments.api import Comparison
    from govsim.result import Result

__all__ = ["CAPTIONS", "HTML_PAGE", "REPORT_LABELS", "Table", "html_table", "md_table", "render_page", "write_report"]

#: A table as its header and rows of text cells.
Table = tuple[list[str], list[list[str]]]

HTML_PAGE = """<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: sans-serif; max-width: 60em; margin: 2em auto; padding: 0 1em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }}
th, td {{ border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }}
th {{ background: #f2f2f2; }}
img {{ max-width: 100%; margin: 0.5em 0 1.5em; }}
.note {{ color: #555; }}
</style>
</head>
<body>
{body}
</body>
</html>
"""


#: The report's own texts (key → English, Chinese), in the manner of :data:`govsim.plots.labels.LABELS`.
REPORT_LABELS: dict[str, tuple[str, str]] = {
    "title": ("govsim: {names}", "govsim：{names}"),
    "vs": (" vs ", " 对比 "),
    "setting": ("{n} replication{s} per scenario, master seed {seed}, horizon {days:g} days, warm-up "
                "{warm:g} days; common random numbers (replication i of every scenario sees the same "
                "issues); {conf:.0%} Student-t intervals. Figures of single runs show replication 0. "
                "Metrics that do not apply (no value in any scenario, or a governance mechanism that "
                "is off) are left out.",
                "每个方案重复 {n} 次，主随机种子 {seed}，模拟时长 {days:g} 天，预热期 {warm:g} 天；"
                "共同随机数（各方案的第 i 次重复面对相同的事件）；{conf:.0%} Student-t 置信区间。"
                "单次运行的图表取第 0 次重复。不适用的指标（所有方案均无数值，或未启用的治理机制）不列出。"),
    "summary": ("Summary (mean ± half-width of the {conf:.0%} interval)",
                "指标汇总（均值 ± {conf:.0%} 置信区间半宽）"),
    "differences": ("Paired differences: {b} − {a}", "配对差异：{b} − {a}"),
    "differences_note": ("Means: shares in %, times in hours (h); differences: shares in percentage "
                         "points (pp); change: difference ÷ |{a} mean|; significant: after Holm's "
                         "correction over the metrics with a p-value.",
                         "均值：占比以 % 表示，时间以小时表示；差异：占比以百分点表示；变化率：差异 ÷ "
                         "|{a} 均值|；显著：对有 p 值的各指标做 Holm 校正后显著。"),
    "metric": ("Metric", "指标"),
    "difference": ("Difference", "差异"),
    "ci": ("{conf:.0%} CI", "{conf:.0%} 置信区间"),
    "change": ("Change (%)", "变化率（%）"),
    "significant": ("Significant (Holm)", "显著（Holm 校正）"),
    "yes": ("yes", "是"),
    "figures": ("Figures", "图表"),
    "h": ("h", "小时"),
}

#: A caption per figure (by the start of its file name), in both languages.
CAPTIONS: dict[str, tuple[str, str]] = {
    "forest": ("Paired differences from the baseline with their intervals; filled markers are "
               "significant after Holm's correction, open ones are not; shares in percentage points.",
               "与基准方案的配对差异及其置信区间；实心点为 Holm 校正后显著，空心点为不显著；占比以百分点表示。"),
    "resolution_times": ("Share of resolved issues resolved within a given time (ECDF), replication 0; "
                         "the time axis ends at the 99th percentile, as noted on the figure.",
                         "在给定时长内办结的已办结事件占比（经验分布函数），第 0 次重复；横轴截至第 99 百分位数，"
                         "图中注明。"),
    "time_decomposition": ("Mean time per stage over the resolved issues: each bar adds up to their "
                           "mean resolution time.",
                           "已办结事件各环节平均时长：每条的总长等于其平均办结时长。"),
    "backlog": ("Issues known and not yet closed over the run; the warm-up is shaded.",
                "运行期间已发现未办结的事件数；阴影为预热期。"),
    "utilisation": ("Share of grid workers' worked time per activity; utilisation = travel + handling.",
                    "网格员工作时间在各活动上的占比；利用率 = 到场 + 处置。"),
    "coverage_visits_difference": ("Per grid, patrol-point visits per day: compared scenario − baseline "
                                   "(red: more, blue: fewer).",
                                   "各网格每日巡查点位次数之差：对比方案 − 基准方案（红：更多，蓝：更少）。"),
    "coverage_discovery_delay_difference": ("Per grid, mean discovery delay: compared scenario − baseline "
                                            "(red: slower, blue: faster).",
                                            "各网格平均发现时延之差：对比方案 − 基准方案（红：更慢，蓝：更快）。"),
    "coverage_visits": ("Patrol-point visits per day in each grid.", "各网格每日巡查点位次数。"),
    "coverage_discovery_delay": ("Mean discovery delay in each grid (grey: nothing discovered).",
                                 "各网格平均发现时延（灰色：无已发现事件）。"),
    "shared_scale": (" The scenarios' maps share one colour scale.", "各方案的地图使用同一色标。"),
    "escalation_funnel": ("Disputes by the highest mediation level they reached.",
                          "矛盾纠纷按到达的最高调解层级统计。"),
}


def _text(pair: tuple[str, str], lang: str, **fields: Any) -> str:
    text = pair[1] if lang == "zh" else pair[0]
    return text.format(**fields) if fields else text


def _caption(name: str, lang: str) -> str | None:
    key = max((k for k in CAPTIONS if name.startswith(k) and k != "shared_scale"), key=len, default=None)
    return None if key is None else _text(CAPTIONS[key], lang)


def _summary_table(cmp: Comparison, lang: str = "en") -> Table:
    """Each scenario's mean ± half-width per metric, readable labels with units; metrics that do
    not apply (:func:`govsim.plots.catalogue.applicable`) are left out."""
    means = cmp.means
    tr = functools.partial(_text, lang=lang)
    head = [tr(REPORT_LABELS["metric"]), *cmp.labels]
    wide = means.pivot(index="metric", columns="scenario", values="mean")
    wide = wide.reindex(index=list(dict.fromkeys(means["metric"])), columns=cmp.labels)
    keep = applicable(wide)
    rows = []
    for metric in wide.index[keep.to_numpy()]:
        cells = means[means["metric"] == metric].set_index("scenario")
        row = [metric_label(metric, lang)]
        for label in cmp.labels:
            m, hw = cells.at[label, "mean"], cells.at[label, "half_width"]
            row.append(format_value(m, metric) + (f" ± {format_value(hw, metric)}" if math.isfinite(hw) else ""))
        rows.append(row)
    return head, rows


def _with_unit(value: str, metric: str, lang: str, difference: bool = False) -> str:
    u = unit_text(metric, lang, difference)
    if value == "–" or not u:
        return value
    return f"{value}%" if u == "%" else f"{value} {u}"


def _difference_table(cmp: Comparison, label: str, lang: str = "en") -> Table:
    """The paired differences of ``label`` from the baseline, each cell in its unit (shares in
    %, their differences in pp, times in h); metrics that do not apply are left out."""
    t = cmp.table[(cmp.table["scenario"] == label) & cmp.table["difference"].notna()]
    wide = t.set_index("metric")[["mean_baseline", "mean_scenario"]]
    t = t[applicable(wide).to_numpy()]
    tr = functools.partial(_text, lang=lang)
    head = [tr(REPORT_LABELS["metric"]), cmp.baseline, label, tr(REPORT_LABELS["difference"]),
            tr(REPORT_LABELS["ci"], conf=cmp.confidence), tr(REPORT_LABELS["change"]),
            tr(REPORT_LABELS["significant"])]
    records: Iterable[Any] = t.itertuples()  # fields of the table's column types, unseen by mypy
    rows = []
    for r in records:
        m = r.metric

        def level(x: Any, m: str = m) -> str:
            return _with_unit(format_value(x, m), m, lang)

        def diff(x: Any, m: str = m) -> str:
            return _with_unit(format_value(x, m, signed=True), m, lang, difference=True)

        rows.append([metric_label(m, lang, unit=False), level(r.mean_baseline), level(r.mean_scenario),
                     diff(r.difference), f"[{diff(r.ci_low)}, {diff(r.ci_high)}]",
                     f"{100 * r.change:+.1f}" if math.isfinite(r.change) else "–",
                     tr(REPORT_LABELS["yes"]) if r.significant else ""])
    return head, rows


def html_table(table: Table) -> str:
    """A table as HTML (cells escaped)."""
    head, rows = table
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "\n".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table>\n<tr>{th}</tr>\n{body}\n</table>"


def md_table(table: Table) -> str:
    """A table as Markdown (``|`` in cells escaped)."""
    head, rows = table

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    return "\n".join([line(head), line(["---"] * len(head)), *map(line, rows)])


def render_page(parts: Sequence[tuple[str, Any]], fmt: str, title: str, lang: str = "en") -> str:
    """A report page from its parts, in order: ``("h1" | "h2" | "h3" | "p", text)``,
    ``("ul", [item, ...])``, ``("table", Table)`` or ``("img", file name)``; ``fmt`` is
    ``"html"`` (a whole page, :data:`HTML_PAGE`) or ``"md"``. Text is escaped for HTML."""
    if fmt == "html":
        tags = {"h1": "<h1>{}</h1>", "h2": "<h2>{}</h2>", "h3": "<h3>{}</h3>", "p": '<p class="note">{}</p>'}

        def tag(k: str, v: Any) -> str:
            if k == "table":
                return html_table(v)
            if k == "img":
                return f'<img src="{html.escape(v)}" alt="{html.escape(v)}">'
            if k == "ul":
                return "<ul>\n" + "\n".join(f"<li>{html.escape(i)}</li>" for i in v) + "\n</ul>"
            return tags[k].format(html.escape(v))

        body = "\n".join(tag(k, v) for k, v in parts)
        return HTML_PAGE.format(lang=lang, title=html.escape(title), body=body)
    if fmt != "md":
        raise ValueError(f"report format must be 'html' or 'md', got {fmt!r}")
    marks = {"h1": "# {}", "h2": "## {}", "h3": "### {}", "p": "{}", "img": "![{0}]({0})"}
    return "\n\n".join(md_table(v) if k == "table" else "\n".join(f"* {i}" for i in v) if k == "ul" else
                       marks[k].format(v) for k, v in parts) + "\n"


def write_report(cmp: Comparison, runs: Mapping[str, Result], out: str | Path, fmt: str = "html",
                 lang: str = "en", figure_lang: str | None = None) -> list[Path]:
    """Write ``out/report.html`` (or ``report.md``): the summary of each scenario (mean ± half
    width), the paired differences with intervals, the forest plot and the figures of
    ``runs`` (one run per scenario), saved as PNG files next to the report, each with a
    caption. Metrics are named by the metric catalogue, with units; those that do not apply
    are left out (:func:`govsim.plots.catalogue.applicable`). ``lang="zh"``: headings,
    captions, metric names and table headers in Chinese (对比报告); the figures too when a CJK
    font is installed (``figure_lang``, default :func:`~govsim.plots.labels.effective_lang`
    of ``lang``: English figures, with one warning, when there is none). Returns the files
    written, the report last."""
    from govsim.plots.labels import effective_lang

    if fmt not in ("html", "md"):
        raise ValueError(f"report format must be 'html' or 'md', got {fmt!r}")
    if lang not in ("en", "zh"):
        raise ValueError(f"lang must be 'en' or 'zh', got {lang!r}")
    folder = Path(out)
    figure_lang = effective_lang(lang) if figure_lang is None else figure_lang
    figures = {"forest": forest(cmp, lang=figure_lang), **run_figures(runs, lang=figure_lang)}
    written = save_figures(figures, folder, "png")
    sc = cmp.scenarios[0]
    tr = functools.partial(_text, lang=lang)
    title = tr(REPORT_LABELS["title"], names=tr(REPORT_LABELS["vs"]).join(cmp.labels))
    setting = tr(REPORT_LABELS["setting"], n=cmp.n, s="s" if cmp.n != 1 else "", seed=cmp.seed,
                 days=sc.horizon / 24, warm=sc.warmup / 24, conf=cmp.confidence)
    parts: list[tuple[str, Any]] = [("h1", title), ("p", setting),
                                    ("h2", tr(REPORT_LABELS["summary"], conf=cmp.confidence)),
                                    ("table", _summary_table(cmp, lang))]
    for label in cmp.labels[1:]:
        parts += [("h2", tr(REPORT_LABELS["differences"], a=cmp.baseline, b=label)),
                  ("table", _difference_table(cmp, label, lang)),
                  ("p", tr(REPORT_LABELS["differences_note"], a=cmp.baseline))]
    parts.append(("h2", tr(REPORT_LABELS["figures"])))
    shared = any("_difference" in f.stem for f in written)  # maps of one district: one scale
    for f in written:
        parts.append(("img", f.name))
        caption = _caption(f.stem, lang)
        if caption and shared and f.stem.startswith("coverage_") and "_difference" not in f.stem:
            caption += _text(CAPTIONS["shared_scale"], lang)
        if caption:
            parts.append(("p", caption))
    report = folder / f"report.{fmt}"
    report.write_text(render_page(parts, fmt, title, lang), encoding="utf-8")
    return [*written, report]
