"""Figures and tables that stand in print (issue 14) and readable table labels (issue 15): the
metric catalogue, shared colour scales and difference maps, time-decomposition bars that add up,
clipped ECDFs, forest-plot legends in percentage points, the report in Chinese, one rule for
hiding metrics, and the CLI's readable tables with ``--raw``. Font-agnostic: nothing here needs
a CJK font (Chinese text is checked in the report's HTML and in labels, not in rendered glyphs)."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PatchCollection  # noqa: E402
from matplotlib.container import ErrorbarContainer  # noqa: E402
from matplotlib.text import Text  # noqa: E402

import govsim  # noqa: E402
from govsim import plots  # noqa: E402
from govsim.cli import format_summary, main  # noqa: E402
from govsim.experiments.stats import metric_unit  # noqa: E402
from govsim.metrics import summary_keys  # noqa: E402
from govsim.plots import catalogue  # noqa: E402
from govsim.plots.maps import coverage_difference, coverage_values, shared_limits  # noqa: E402
from govsim.plots.output import run_figures  # noqa: E402
from govsim.plots.report import write_report  # noqa: E402
from govsim.plots.runs import stage_means  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TRAD = str(ROOT / "scenarios" / "traditional_patrol.yaml")
SMART = str(ROOT / "scenarios" / "smart_dispatch.yaml")
SHORT = {"horizon": "2d", "warmup": "6h"}


@pytest.fixture(scope="module")
def runs() -> dict[str, govsim.Result]:
    return {"trad": govsim.run(TRAD, seed=5, overrides=SHORT),
            "smart": govsim.run(SMART, seed=5, overrides=SHORT)}


@pytest.fixture(scope="module")
def comparison() -> govsim.experiments.Comparison:
    return govsim.compare([TRAD, SMART], n=2, seed=1, overrides={"horizon": "12h"},
                          executor="sequential", progress=False)


def texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text)]


# --- the metric catalogue -------------------------------------------------------------------


def test_every_summary_metric_has_a_label_and_a_unit_in_both_languages():
    for key in summary_keys():
        assert key in catalogue.METRICS, f"{key}: no entry in the metric catalogue"
        entry = catalogue.METRICS[key]
        assert entry.en and entry.zh and entry.en != entry.zh, key
        assert metric_unit(key), f"{key}: no unit"
        label_en, label_zh = catalogue.metric_label(key, "en"), catalogue.metric_label(key, "zh")
        unit_en, unit_zh = catalogue.unit_text(key, "en"), catalogue.unit_text(key, "zh")
        assert bool(unit_en) == (metric_unit(key) != "count"), key  # only counts go without
        if unit_en:
            assert label_en.endswith(f" ({unit_en})") and label_zh.endswith(f"（{unit_zh}）"), key
    assert catalogue.metric_label("resolution_time_mean") == "Resolution time, mean (h)"
    assert catalogue.metric_label("resolution_time_mean", "zh") == "平均办结时长（小时）"
    assert catalogue.metric_label("on_time_rate") == "On-time rate (%)"
    assert catalogue.metric_label("on_time_rate", difference=True) == "On-time rate (pp)"
    assert catalogue.metric_label("n_issues") == "Issues"


def test_a_metric_without_an_entry_keeps_its_own_name():
    assert catalogue.metric_label("study_thing") == "study_thing"
    assert catalogue.metric_label("study_share") == "study_share (%)"  # unit inferred from the name
    assert plots.labels.labels_for("en").metric("study_thing") == "study_thing"


def test_values_are_fixed_point_in_the_unit_of_their_label():
    fv = catalogue.format_value
    assert fv(0.81234, "resolution_rate") == "81.2"      # a share in %
    assert fv(-0.02024, "resolution_rate", signed=True) == "-2.0"  # a difference: pp
    assert fv(0.00001, "discovery_delay_mean") == "0.00"  # never an exponent
    assert fv(12345.678, "resolution_time_mean") == "12345.68"
    assert fv(0.0, "response_time_p90") == "0.00"
    assert fv(17.0, "backlog_end") == "17" and fv(17.3333, "backlog_end") == "17.33"
    assert fv(2.5, "discovery_delay_mean", signed=True) == "+2.50"
    assert fv(math.nan, "on_time_rate") == "–"


# --- one rule for the metrics that do not apply -------------------------------------------


def test_applicable_rule():
    values = pd.DataFrame({"a": [1.0, math.nan, 0.0, 0.0, 0.0], "b": [2.0, math.nan, 0.0, 1.0, math.nan]},
                          index=["n_issues", "mediation_wait_mean", "backlog_end", "handled_by_team",
                                 "volunteer_days"])
    keep = catalogue.applicable(values)
    # no value anywhere: out; a core count of 0: kept; a mechanism's metric 0 (or empty) everywhere: out
    assert keep.to_dict() == {"n_issues": True, "mediation_wait_mean": False, "backlog_end": True,
                              "handled_by_team": True, "volunteer_days": False}


def test_same_metrics_hidden_in_one_run_and_in_replications():
    short = {"horizon": "12h"}
    one = govsim.run(SMART, seed=3, overrides=short).summary()
    reps = govsim.replicate(SMART, n=2, seed=3, overrides=short, executor="sequential", progress=False)
    shown_one = set(format_summary(one).splitlines()[1:])
    shown_one = {line.rsplit(None, 1)[0].strip() for line in shown_one}
    shown_reps = set(catalogue.labelled(reps).table["metric"])
    assert shown_one == shown_reps
    assert catalogue.metric_label("mediation_wait_mean") not in shown_reps  # no disputes here
    assert catalogue.metric_label("resolution_time_mean") in shown_reps
    assert len(reps.table) == len(summary_keys())  # the library's table keeps every metric


def test_labelled_replications_show_shares_in_percent(comparison):
    reps = govsim.replicate(SMART, n=2, seed=3, overrides={"horizon": "12h"}, executor="sequential",
                            progress=False)
    shown = catalogue.labelled(reps).table.set_index("metric")
    raw = reps.table.set_index("metric")
    for col in ("mean", "ci_low", "ci_high"):
        assert shown.loc["On-time rate (%)", col] == pytest.approx(100 * raw.loc["on_time_rate", col],
                                                                   nan_ok=True)
        assert shown.loc["Resolution time, mean (h)", col] == pytest.approx(
            raw.loc["resolution_time_mean", col], nan_ok=True)
    text = catalogue.labelled(comparison).to_string()
    assert "Resolution time, mean" in text and "resolution_time_mean" not in text
    assert "mediation_wait_mean" not in text and "Mediation wait" not in text
    assert "resolution_time_mean" in comparison.to_string()  # the object itself is unchanged


# --- the command line: readable by default, --raw for scripts -------------------------------


def test_cli_run_and_compare_readable_and_raw(capsys):
    args = ["--seed", "2", "--set", "horizon=12h"]
    assert main(["run", SMART, *args]) == 0
    out = capsys.readouterr().out
    assert "Resolution time, mean (h)" in out and "Resolution rate (%)" in out
    assert "resolution_time_mean" not in out
    assert main(["run", SMART, *args, "--raw"]) == 0
    raw = capsys.readouterr().out
    assert "resolution_time_mean" in raw and "Resolution time" not in raw
    assert main(["compare", TRAD, SMART, *args]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("Discovered share (%)"))
    assert " pp " in row  # the difference of two shares, in percentage points
    assert main(["compare", TRAD, SMART, *args, "--raw"]) == 0
    assert capsys.readouterr().out.splitlines()[2].split()[0] == "n_issues"
    assert main(["run", SMART, *args, "-n", "2", "--jobs", "1", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "Resolution time, mean (h)" in out and "mediation_wait_mean" not in out


# --- figures ------------------------------------------------------------------------------


def test_stage_means_by_hand():
    nan = math.nan
    issues = pd.DataFrame({
        "status": ["resolved", "resolved", "hidden"],
        "created_at": [0.0, 1.0, 2.0], "discovered_at": [1.0, 2.0, nan],
        "assigned_at": [1.5, nan, nan],  # issue 2 went to a department: no worker
        "arrived_at": [2.5, nan, nan], "resolved_at": [4.5, 7.0, nan],
    })
    m = stage_means(issues)
    # issue 1: 1 + 0.5 + 1 + 2; issue 2: 1 + 0 + 0 + 5 (the skipped stages 0 h)
    assert m == {"discovery": 1.0, "dispatch": 0.25, "travel": 0.5, "handling": 3.5, "n": 2.0}
    total = m["discovery"] + m["dispatch"] + m["travel"] + m["handling"]
    assert total == pytest.approx((4.5 + 6.0) / 2)  # the mean resolution time of the two


def test_time_decomposition_adds_up_to_the_mean_resolution_time(runs):
    fig = plots.time_decomposition(runs)
    ax = fig.axes[0]
    widths = np.array([p.get_width() for p in ax.patches]).reshape(4, len(runs))
    for j, r in enumerate(runs.values()):
        s = r.summary()
        assert widths[:, j].sum() == pytest.approx(s["resolution_time_mean"], rel=1e-12)
        resolved = int((r.issues["status"][r.issues["created_at"] >= r.warmup] == "resolved").sum())
        assert any(f"{s['resolution_time_mean']:.2f} h = mean resolution time (n = {resolved:,})" in t
                   for t in texts(fig))
    assert any("resolved issues" in t and "add up" in t for t in texts(fig))  # the caption


def test_ecdf_axis_clipped_at_a_stated_quantile(runs):
    fig = plots.resolution_times(runs)
    ax = fig.axes[0]
    pooled = np.concatenate([(d["resolved_at"] - d["created_at"])[d["status"] == "resolved"].to_numpy()
                             for d in (r.issues[r.issues["created_at"] >= r.warmup] for r in runs.values())])
    cut = np.quantile(pooled, 0.99)
    assert ax.get_xlim()[1] == pytest.approx(cut)
    beyond = int((pooled > cut).sum())
    assert any(f"99% quantile ({cut:.1f} h): {beyond:,} longer" in t for t in texts(fig))
    assert "(%)" in ax.get_ylabel() and "(h)" in ax.get_xlabel()
    full = plots.resolution_times(runs, clip=None).axes[0]
    assert full.get_xlim()[1] >= pooled.max()
    with pytest.raises(ValueError, match="clip"):
        plots.resolution_times(runs, clip=1.5)


def test_forest_legend_and_percentage_points(comparison):
    metrics = ["resolution_time_mean", "on_time_rate"]
    fig = plots.forest(comparison, metrics)
    table = comparison.table.set_index("metric")
    for ax, m, scale in zip(fig.axes, metrics, (1.0, 100.0)):
        (bar,) = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
        assert bar.lines[0].get_xdata()[0] == pytest.approx(scale * table.loc[m, "difference"])
    assert fig.axes[0].get_ylabel() == "Resolution time, mean (h)"
    assert fig.axes[1].get_ylabel() == "On-time rate (pp)"
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["significant after Holm's correction", "not significant", "95% confidence interval"]


def test_comparison_maps_share_one_scale_and_have_a_difference_map(runs):
    figs = run_figures(runs)
    results = list(runs.values())
    for by in ("visits", "discovery_delay"):
        low, high = shared_limits(results, by)
        for i in (1, 2):
            (cells,) = [c for c in figs[f"coverage_{by}_{i}"].axes[0].collections
                        if isinstance(c, PatchCollection)]
            assert (cells.norm.vmin, cells.norm.vmax) == pytest.approx((low, high))
        diff_fig = figs[f"coverage_{by}_difference"]
        (cells,) = [c for c in diff_fig.axes[0].collections if isinstance(c, PatchCollection)]
        expected = coverage_values(results[1], by) - coverage_values(results[0], by)
        np.testing.assert_allclose(np.ma.filled(cells.get_array(), np.nan), expected)
        assert cells.norm.vmin == pytest.approx(-cells.norm.vmax)  # centred on 0
        assert cells.norm.vmax == pytest.approx(np.nanmax(np.abs(expected)))
        assert cells.get_cmap().name.startswith("RdBu_r")
        assert diff_fig.axes[1].get_ylabel().startswith("Difference smart − trad: ")


def test_difference_map_needs_the_same_district(runs):
    other = govsim.run(govsim.load_scenario({"name": "small", "horizon": "6h",
                                             "territory": {"rows": 2, "cols": 2},
                                             "categories": {"garbage": {"rate": 2.0}}}), seed=1)
    with pytest.raises(ValueError, match="same district"):
        coverage_difference(runs["trad"], other)


def test_report_in_chinese(tmp_path, comparison):
    two = {lab: govsim.run(sc, seed=1) for lab, sc in zip(comparison.labels, comparison.scenarios)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # figure_lang given: no font check, no warning
        files = write_report(comparison, two, tmp_path, lang="zh", figure_lang="en")
    page = files[-1].read_text(encoding="utf-8")
    assert '<html lang="zh">' in page
    for text in ("指标汇总", "配对差异：smart_dispatch − traditional_patrol", "<th>指标</th>", "<th>差异</th>",
                 "95% 置信区间", "平均办结时长（小时）", "平均办结时长", "图表", "各方案的地图使用同一色标",
                 "百分点"):
        assert text in page, text
    for identifier in ("resolution_time_mean", "mediation_wait_mean", "Summary", "Paired differences"):
        assert identifier not in page, identifier
    assert (tmp_path / "coverage_visits_difference.png").is_file()
    assert 'src="coverage_visits_difference.png"' in page
    en = write_report(comparison, two, tmp_path / "en", fmt="md")[-1].read_text(encoding="utf-8")
    assert "| Metric | traditional_patrol | smart_dispatch |" in en
    assert "| Resolution time, mean (h) |" in en


def test_sweep_share_axes_in_percent():
    from matplotlib.ticker import PercentFormatter

    sw = govsim.sweep(SMART, {"workers.per_grid": [1, 2]}, n=2, seed=1, overrides={"horizon": "6h"},
                      executor="sequential", progress=False)
    fig = plots.sweep_curves(sw, "workers.per_grid", ["worker_utilisation", "resolution_time_mean"])
    share, hours = fig.axes
    assert share.get_ylabel() == "Worker utilisation (%)"
    assert isinstance(share.yaxis.get_major_formatter(), PercentFormatter)
    assert hours.get_ylabel() == "Resolution time, mean (h)"
    assert not isinstance(hours.yaxis.get_major_formatter(), PercentFormatter)
