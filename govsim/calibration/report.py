"""The calibration report (标定报告, ``govsim calibrate --report`` / ``govsim check-fit --report``).

:func:`write_report` writes, into one folder, ``report.md`` and ``report.html``
(self-contained apart from the PNG figures next to them):

* what was fitted, one row per category — cases, rate per day with its 95 %
  interval, staff share with its interval, report probability, closure model,
  the department's staff and service, observed against fitted closure median and
  90th percentile, and the fit's notes;
* every class of row of the log, with its count and how it was handled;
* the notes of the calibration;
* the check against the log (:func:`~govsim.calibration.check.compare_with_log`):
  each statistic, observed, simulated with its interval, the acceptance bar and a mark;
* the figures of :mod:`govsim.plots.calibration`.

Either part may be missing: ``govsim check-fit --report`` has a check and no
calibration, ``calibrate(...)`` alone a calibration and no check.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from govsim.plots.report import Table, render_page

if TYPE_CHECKING:
    from govsim.calibration.check import FitCheck
    from govsim.calibration.fit import Calibration

__all__ = ["write_report"]

FORMATS = ("md", "html")
MARKS = {True: "✓", False: "✗", None: "–"}

CAPTIONS = {
    "profile_fit": "When cases become known, by hour of the week and of the day: the log against the "
                   "replications pooled. The band is the 95% range of a log of this size drawn from the "
                   "simulated profile; the log outside it is a misfit, not noise.",
    "category_mix": "Cases per category in the log's window{what}.",
    "channel_mix": "Who found the cases: found by staff (the log's staff channels; patrol in the model) "
                   "against reported by residents, per category with the 95% (Wilson) interval of the "
                   "staff share{what}.",
    "daily_volume": "Cases per day, the log against the simulated mean with its 95% interval (dots: "
                    "replications), and cases by day of the week over the log's window.",
    "closure_fit": "Closure time (closed − created) of the largest categories as distribution functions, "
                   "the log against the pooled replications; Kaplan–Meier where cases are still open (a "
                   "curve then ends below 1). Log time axis; times under 1 minute drawn at 1 minute. "
                   "Dotted lines: the median and the 90th percentile, which the check compares.",
    "rate_map": "Cases per day in each grid as the scenario simulates them (every category's rate × its "
                "shrunk grid share){what}.",
    "fit_table": "The check's table: ✓ within the acceptance bar, ✗ outside it, – no bar.",
}


def _num(x: Any, digits: int = 4) -> str:
    if x is None:
        return "–"
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(v):
        return "–" if math.isnan(v) else ("∞" if v > 0 else "−∞")
    if v.is_integer() and abs(v) < 1e15:
        return f"{int(v):,}"
    if abs(v) >= 10 ** digits:
        return f"{v:,.0f}"
    return f"{v:.{digits}g}"


def _share(x: float) -> str:
    return f"{100 * x:.1f}%" if math.isfinite(x) else "–"


def _hours(hours: Any) -> str:
    if not hours:
        return "always open"
    from govsim.scenario.convert import format_hours

    out = []
    for h in hours:
        f = format_hours(h)
        days = f["days"]
        when = "daily" if len(days) == 7 else ",".join(str(d) for d in days)
        out.append(f"{f['start']}–{f['end']} {when}")
    return "; ".join(out)


def category_table(cal: Calibration) -> Table:
    """One row per category: what was fitted (see the module docstring)."""
    arr = cal.arrivals.table().set_index("category")
    head = ["category", "cases", "rate/day [95%]", "staff share [95%]", "report prob", "closure model",
            "department staff", "service", "closure p50 obs / fit (h)", "closure p90 obs / fit (h)", "notes"]
    rows = []
    for c in cal.categories:
        a = arr.loc[c.name]
        d = c.department
        if c.patrol_handles and c.handling is not None:
            model = f"staff-found: closed on the spot, {c.handling.describe()}; reported: the department"
        elif d is not None:
            model = "the department (reported and staff-found)"
        else:
            model = "default service"
        if d is None:
            staff = service = p50 = p90 = "–"
        else:
            staff = "ample (a delay)" if d.evaluations == 0 else _num(d.staff)
            service = (f"lognormal mean {_num(d.service.mean, 3)} h, sd {_num(d.service.sd, 3)} h; "
                       f"{_hours(d.hours)}")
            p50 = f"{_num(d.observed[2], 3)} / {_num(d.simulated[2], 3)}"
            p90 = f"{_num(d.observed[4], 3)} / {_num(d.simulated[4], 3)}"
        notes = c.department_note
        if c.pooled_from:
            notes = "; ".join(n for n in (f"pooled from {', '.join(c.pooled_from)}", notes) if n)
        lo, hi = c.staff_share_ci
        rows.append([c.name, _num(c.cases), f"{_num(a.rate_per_day)} [{_num(a.rate_lower)}, {_num(a.rate_upper)}]",
                     f"{_share(c.staff_share)} [{_share(lo)}, {_share(hi)}]", _num(round(c.report_prob, 4)),
                     model, staff, service, p50, p90, notes or ""])
    return head, rows


def rows_table(cal: Calibration) -> Table:
    """Every class of row of the log: its count and how it was handled."""
    r = cal.rows
    head = [str(c) for c in r.columns]
    return head, [[_num(v) if isinstance(v, (int, np.integer)) else str(v) for v in row]
                  for row in r.itertuples(index=False)]


def _bar(statistic: str) -> str:
    from govsim.calibration.check import NEAR_ZERO_H, TOLERANCE

    if statistic == "hour_of_week_tvd":
        return "none (shown)"
    if statistic.endswith("_tvd"):
        return f"≤ {TOLERANCE[statistic]:g}"
    if statistic == "daily_volume":
        return f"± {100 * TOLERANCE['daily_volume']:g}%"
    if statistic == "staff_share" or statistic.startswith("staff_share["):
        return f"± {100 * TOLERANCE['staff_share']:g} points"
    for q in ("p50", "p90"):
        if statistic.startswith(f"closure_{q}"):
            return (f"± {100 * TOLERANCE[f'closure_{q}']:g}% (± {NEAR_ZERO_H * 60:g} min when the log's "
                    f"is under {NEAR_ZERO_H * 60:g} min)")
    return ""


def _ok(value: Any) -> bool | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return bool(value)


def check_table(check: FitCheck) -> Table:
    """The check's table with the acceptance bar of each statistic and a mark."""
    head = ["statistic", "observed", "simulated", "95% interval", "bar", "ok"]
    rows = []
    r: Any  # a row: its fields have the table's column types, which mypy cannot see
    for r in check.table.itertuples(index=False):
        interval = (f"[{_num(r.lower)}, {_num(r.upper)}]"
                    if np.isfinite(r.lower) or np.isfinite(r.upper) else "–")
        rows.append([str(r.statistic), _num(r.observed), _num(r.simulated), interval, _bar(str(r.statistic)),
                     MARKS[_ok(r.ok)]])
    return head, rows


def _summary(cal: Calibration | None, check: FitCheck | None) -> list[tuple[str, Any]]:
    parts: list[tuple[str, Any]] = []
    if cal is not None:
        w0, w1 = cal.window
        days = (w1 - w0) / pd.Timedelta(days=1)
        n = int(np.asarray(cal.arrivals.n_cases).sum())
        parts.append(("p", f"Fitted from {cal.source}: {n:,} cases in {len(cal.categories)} categories, "
                           f"created {w0:%Y-%m-%d %H:%M} to {w1:%Y-%m-%d %H:%M} ({days:.2f} days); "
                           f"{len(cal.grids)} grids ({getattr(cal.gridmap, 'kind', '?')}); "
                           f"{cal.placement.get('placed', 0):,} cases placed in a grid, "
                           f"{cal.placement.get('not placed', 0):,} not."))
    if check is not None:
        n = len(check.simulated)
        parts.append(("p", f"Check: {n} replication{'s' if n != 1 else ''} of the scenario, read as a log "
                           "records cases (created when discovered, closed when resolved, staff-found when "
                           "found on patrol) over the measured period and weighted to the log's window; "
                           f"closure times compared for the {len(check.top)} largest categories."))
    return parts


def write_report(out_dir: str | Path, calibration: Calibration | None = None, check: FitCheck | None = None,
                 *, lang: str = "en", formats: Sequence[str] = FORMATS) -> Path:
    """Write the calibration report into ``out_dir``: the PNG figures and ``report.md`` and/or
    ``report.html`` (``formats``). Returns the HTML report's path, or the Markdown one when no
    HTML was asked for. ``lang="zh"`` labels the figures and headings in Chinese when a CJK
    font is installed (else English, with one warning)."""
    from govsim.plots.calibration import calibration_figures
    from govsim.plots.labels import effective_lang, labels_for
    from govsim.plots.output import save_figures

    if calibration is None and check is None:
        raise TypeError("write_report needs a Calibration, a FitCheck or both")
    formats = tuple(dict.fromkeys(formats))
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise ValueError(f"formats must be some of {', '.join(FORMATS)}, got {list(formats)!r}")
    lang = effective_lang(lang)
    tr = labels_for(lang)
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    figures = calibration_figures(calibration, check, lang=lang)
    written = save_figures(figures, folder, "png")

    name = calibration.data.get("name", "") if calibration is not None else "check of the fit"
    title = tr("report_title", name=name)
    parts: list[tuple[str, Any]] = [("h1", title), *_summary(calibration, check)]
    notes: list[str] = []
    if calibration is not None:
        parts += [("h2", tr("sec_fitted")),
                  ("p", "Rates are cases per day over the whole district (a weekly mean) with exact Poisson "
                        "intervals; the staff share is the share the log's staff channels found, with a "
                        "Wilson interval; the closure quantiles are Kaplan–Meier (observed) against the "
                        "fitted model's."),
                  ("table", category_table(calibration)),
                  ("h2", tr("sec_rows")),
                  ("table", rows_table(calibration))]
        notes += list(calibration.notes)
    if check is None:
        notes.append("No check against the log was run, so there are no observed-against-simulated figures: "
                     "write the report with a check (govsim.calibration.check.compare_with_log, or "
                     "`govsim calibrate --report`) for them.")
    if calibration is None:
        notes.append("No calibration was given (`govsim check-fit`): what was fitted, the rows of the log "
                     "and the rate map are in the report of `govsim calibrate --report`.")
    parts += [("h2", tr("sec_notes")), ("ul", notes)]
    if check is not None:
        bar = check.table["ok"].map(_ok).dropna()
        parts += [("h2", tr("sec_check")),
                  ("p", f"{int(bar.sum())} of {len(bar)} statistics within the acceptance bar. For the "
                        "distances (TVD) the simulated value is the distance between the log and the pooled "
                        "replications, and the interval the range sampling noise alone would give a log of "
                        "the same size; otherwise the interval is the 95% Student-t interval of the "
                        "simulated mean over replications."),
                  ("table", check_table(check))]
    parts.append(("h2", tr("sec_figures")))
    for f in written:
        what = ""
        if f.stem == "category_mix":
            what = (": the log beside the simulation (mean over replications)" if check is not None else
                    ", each labelled with the fitted rate per day and its 95% interval")
        elif f.stem == "channel_mix":
            what = ("; all categories together, the log against the simulation (the check keeps the "
                    "staff share over all categories only)" if check is not None else "")
        elif f.stem == "rate_map":
            kind = getattr(calibration.gridmap, "kind", "") if calibration is not None else ""
            polys = calibration is not None and getattr(calibration.gridmap, "polygons", None) is not None
            what = ("; the grids drawn as the map's polygons" if polys else
                    f"; grids ({kind}) drawn as squares of their area around their point, so they may overlap")
        parts += [("p", CAPTIONS.get(f.stem, f.stem).format(what=what)), ("img", f.name)]

    out: dict[str, Path] = {}
    for fmt in formats:
        report = folder / f"report.{fmt}"
        report.write_text(render_page(parts, fmt, title, lang), encoding="utf-8")
        out[fmt] = report
    return out.get("html", out.get("md"))  # type: ignore[return-value]
