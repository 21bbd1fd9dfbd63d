"""The comparison report (对比报告, ``govsim report``): tables and figures in one HTML or
Markdown file, the figures as PNG files next to it."""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from govsim.experiments.api import _fmt
from govsim.plots.experiments import forest
from govsim.plots.output import run_figures, save_figures

if TYPE_CHECKING:
    from govsim.experiments.api import Comparison
    from govsim.result import Result

__all__ = ["HTML_PAGE", "Table", "html_table", "md_table", "render_page", "write_report"]

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


def _summary_table(cmp: Comparison) -> Table:
    means = cmp.means
    head = ["metric", *cmp.labels]
    rows = []
    for metric in dict.fromkeys(means["metric"]):
        cells = means[means["metric"] == metric].set_index("scenario")
        if cells["mean"].isna().all():
            continue
        row = [metric]
        for label in cmp.labels:
            m, hw = cells.at[label, "mean"], cells.at[label, "half_width"]
            row.append(_fmt(m) + (f" ± {_fmt(hw)}" if math.isfinite(hw) else ""))
        rows.append(row)
    return head, rows


def _difference_table(cmp: Comparison, label: str) -> Table:
    t = cmp.table[(cmp.table["scenario"] == label) & cmp.table["difference"].notna()]
    head = ["metric", cmp.baseline, label, "difference", f"{cmp.confidence:.0%} CI", "change",
            "significant (Holm)"]
    records: Iterable[Any] = t.itertuples()  # fields of the table's column types, unseen by mypy
    rows = [[r.metric, _fmt(r.mean_baseline), _fmt(r.mean_scenario), _fmt(r.difference),
             f"[{_fmt(r.ci_low)}, {_fmt(r.ci_high)}]",
             f"{r.change:+.1%}" if math.isfinite(r.change) else "–", "yes" if r.significant else ""]
            for r in records]
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
                 lang: str = "en") -> list[Path]:
    """Write ``out/report.html`` (or ``report.md``): the summary of each scenario (mean ± half
    width), the paired differences with intervals, the forest plot and the figures of
    ``runs`` (one run per scenario), saved as PNG files next to the report. Returns the files
    written, the report last."""
    if fmt not in ("html", "md"):
        raise ValueError(f"report format must be 'html' or 'md', got {fmt!r}")
    folder = Path(out)
    figures = {"forest": forest(cmp, lang=lang), **run_figures(runs, lang=lang)}
    written = save_figures(figures, folder, "png")
    sc = cmp.scenarios[0]
    title = f"govsim: {' vs '.join(cmp.labels)}"
    setting = (f"{cmp.n} replication{'s' if cmp.n != 1 else ''} per scenario, master seed "
               f"{cmp.seed}, horizon {sc.horizon / 24:g} days, warm-up {sc.warmup / 24:g} days; "
               f"common random numbers (replication i of every scenario sees the same issues); "
               f"{cmp.confidence:.0%} Student-t intervals. Figures of single runs show "
               f"replication 0.")
    parts: list[tuple[str, Any]] = [("h1", title), ("p", setting), ("h2", "Summary (mean ± half-width)"),
                                    ("table", _summary_table(cmp))]
    for label in cmp.labels[1:]:
        parts += [("h2", f"Paired differences: {label} − {cmp.baseline}"),
                  ("table", _difference_table(cmp, label))]
    parts.append(("h2", "Figures"))
    parts += [("img", f.name) for f in written]
    report = folder / f"report.{fmt}"
    report.write_text(render_page(parts, fmt, title, lang), encoding="utf-8")
    return [*written, report]
