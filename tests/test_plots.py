"""govsim.plots: each figure shows what the tables say; zh labels and their fallback; Result.from_dir;
the `govsim plot` and `govsim report` commands."""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PatchCollection, PolyCollection  # noqa: E402
from matplotlib.container import ErrorbarContainer  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.text import Text  # noqa: E402

import govsim  # noqa: E402
from govsim import plots  # noqa: E402
from govsim.cli import main  # noqa: E402
from govsim.plots import labels as plot_labels  # noqa: E402
from govsim.plots.maps import grid_visits_per_day  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TRAD = str(ROOT / "scenarios" / "traditional_patrol.yaml")
SMART = str(ROOT / "scenarios" / "smart_dispatch.yaml")
SHORT = {"horizon": "2d", "warmup": "6h"}
DISPUTES = {
    "name": "disputes", "horizon": "20d",
    "territory": {"rows": 2, "cols": 2, "community_size": [1, 2], "street_size": [2, 1]},
    "categories": {
        "garbage": {"rate": 3.0},
        "neighbour_dispute": {"rate": 4.0, "patrol_detect": 0.3, "report": {"prob": 0.8, "delay": "4h"},
                              "dispute": {"on_spot_success": 0.4, "walk_in": 0.2}},
    },
    "mediation": {
        "community": {"mediators": 1, "success": 0.5, "referral_delay": "1d"},
        "street": {"mediators": 1, "success": 0.4, "referral_delay": "1d"},
        "district": {"mediators": 1, "success": 0.3, "referral_delay": "1d"},
    },
}


@pytest.fixture(scope="module")
def runs() -> dict[str, govsim.Result]:
    return {"trad": govsim.run(TRAD, seed=5, overrides=SHORT),
            "smart": govsim.run(SMART, seed=5, overrides=SHORT)}


@pytest.fixture(scope="module")
def dispute_run() -> govsim.Result:
    return govsim.run(govsim.load_scenario(DISPUTES), seed=2)


@pytest.fixture(scope="module")
def comparison() -> govsim.experiments.Comparison:
    return govsim.compare([TRAD, SMART], n=2, seed=1, overrides=SHORT, executor="sequential",
                          issues=True, progress=False)


@pytest.fixture(scope="module")
def sweep() -> govsim.experiments.Sweep:
    params = {"workers.per_grid": [1, 2], "policy": ["traditional_patrol", "smart_dispatch"]}
    return govsim.sweep(SMART, params, n=2, seed=1, overrides={"horizon": "1d"}, executor="sequential", progress=False)


@pytest.fixture(autouse=True)
def _close_and_check_pyplot():
    before = plt.get_fignums()
    yield
    assert plt.get_fignums() == before, "a plot function registered a figure with pyplot"
    plt.close("all")


def measured(result: govsim.Result) -> pd.DataFrame:
    return result.issues[result.issues["created_at"] >= result.warmup]


def texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text)]


# --- run-level figures -------------------------------------------------------------------------


def test_resolution_times_ecdf_one_line_per_model(runs):
    fig = plots.resolution_times(runs)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    lines = [ln for ln in ax.get_lines()]
    assert len(lines) == 2
    assert "Resolution time" in ax.get_xlabel()
    for line, r in zip(lines, runs.values()):
        d = measured(r)
        t = (d["resolved_at"] - d["created_at"])[d["status"] == "resolved"]
        assert np.nanmax(line.get_xdata()[np.isfinite(line.get_xdata())]) == pytest.approx(t.max())
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0].startswith("trad (n=") and legend[1].startswith("smart (n=")


def test_resolution_times_box(runs):
    fig = plots.resolution_times(runs, kind="box")
    ax = fig.axes[0]
    assert len(ax.patches) == 2
    assert [t.get_text() for t in ax.get_yticklabels()] == ["trad", "smart"]
    with pytest.raises(ValueError, match="kind"):
        plots.resolution_times(runs, kind="violin")


def test_resolution_times_from_an_experiment(comparison):
    fig = plots.resolution_times(comparison)
    assert len(fig.axes[0].get_lines()) == 2
    with pytest.raises(ValueError, match="issues=True"):
        plots.resolution_times(govsim.replicate(SMART, n=1, overrides={"horizon": "6h"}, progress=False))


def test_time_decomposition_matches_summary(runs):
    fig = plots.time_decomposition(runs)
    ax = fig.axes[0]
    assert len(ax.patches) == 4 * len(runs)
    widths = np.array([p.get_width() for p in ax.patches]).reshape(4, len(runs))
    for j, r in enumerate(runs.values()):  # each stage over the resolved issues: they add up
        d = measured(r)
        d = d[d["status"] == "resolved"]
        assert d[["assigned_at", "arrived_at"]].notna().all().all()  # no skipped stage here
        assert widths[0, j] == pytest.approx((d["discovered_at"] - d["created_at"]).mean())
        assert widths[1, j] == pytest.approx((d["assigned_at"] - d["discovered_at"]).mean())
        assert widths[2, j] == pytest.approx((d["arrived_at"] - d["assigned_at"]).mean())
        assert widths[3, j] == pytest.approx((d["resolved_at"] - d["arrived_at"]).mean())
        assert widths[:, j].sum() == pytest.approx(r.summary()["resolution_time_mean"])
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["Discovery", "Dispatch", "Travel", "Handling"]


def test_coverage_map_one_cell_per_grid_coloured_by_visits(runs):
    r = runs["smart"]
    fig = plots.coverage_map(r)
    ax = fig.axes[0]
    (cells,) = [c for c in ax.collections if isinstance(c, PatchCollection)]
    assert len(cells.get_paths()) == len(r.grids)
    v = r.visits
    v = v[(v["time"] >= r.warmup) & (v["time"] < r.horizon)]
    days = (r.horizon - r.warmup) / 24
    expected = v.groupby("grid").size().reindex(r.grids["grid"], fill_value=0).to_numpy() / days
    np.testing.assert_allclose(cells.get_array(), expected)
    cells.update_scalarmappable()
    colours = cells.get_facecolors()
    np.testing.assert_allclose(colours, cells.cmap(cells.norm(expected)), atol=1e-6)
    assert "per day" in fig.axes[1].get_ylabel()  # the colour bar's unit


def test_coverage_map_discovery_delay(runs):
    r = runs["trad"]
    fig = plots.coverage_map(r, by="discovery_delay")
    (cells,) = fig.axes[0].collections
    d = measured(r)
    expected = (d["discovered_at"] - d["created_at"]).groupby(d["grid"]).mean().reindex(r.grids["grid"])
    np.testing.assert_allclose(np.ma.filled(cells.get_array(), np.nan), expected.to_numpy())
    order = np.argsort(expected.to_numpy())
    cells.update_scalarmappable()
    lum = cells.get_facecolors()[:, :3] @ [0.299, 0.587, 0.114]
    assert np.all(np.diff(lum[order]) <= 1e-9)  # magma_r: longer delay, darker cell
    assert fig.axes[1].get_ylabel() == "Mean discovery delay (h)"
    with pytest.raises(ValueError, match="by must be"):
        plots.coverage_map(r, by="issues")


def test_backlog_counts_known_open_issues(runs):
    fig = plots.backlog(runs, step="2h", hidden=True)
    ax = fig.axes[0]
    lines = ax.get_lines()
    assert len(lines) == 2 * len(runs)
    r = runs["trad"]
    t_days, known = lines[0].get_xdata(), lines[0].get_ydata()
    i = len(t_days) // 2
    t = t_days[i] * 24
    iss = r.issues
    closed = iss["closed_at"].fillna(np.inf)
    assert known[i] == ((iss["discovered_at"] <= t) & (closed > t)).sum()
    hidden = lines[1].get_ydata()
    assert hidden[i] == ((iss["created_at"] <= t) & ~(iss["discovered_at"] <= t) & (closed > t)).sum()
    assert len(plots.backlog(runs).axes[0].get_lines()) == len(runs)


def test_utilisation_matches_summary(runs):
    fig = plots.utilisation(runs)
    ax = fig.axes[0]
    assert len(ax.patches) == 4 * len(runs)
    widths = np.array([p.get_width() for p in ax.patches]).reshape(4, len(runs))
    np.testing.assert_allclose(widths.sum(axis=0), 1.0)
    for j, r in enumerate(runs.values()):
        assert widths[1, j] + widths[2, j] == pytest.approx(r.summary()["worker_utilisation"])


def test_escalation_funnel_counts(dispute_run):
    r = dispute_run
    fig = plots.escalation_funnel(r)
    ax = fig.axes[0]
    d = measured(r)
    d = d[d["category"] == "neighbour_dispute"]
    levels = d["path"].str.split(">")
    expected = [len(d), *(int(levels.map(lambda p, lv=lv: lv in p).sum())
                          for lv in ("community", "street", "district")),
                int((d["status"] == "unsettled").sum())]
    assert [round(p.get_width()) for p in ax.patches] == expected
    assert expected[0] == r.summary()["n_disputes"]
    assert expected[1] > expected[2] > expected[3] > 0 and expected[4] > 0
    assert [t.get_text() for t in ax.get_yticklabels()][0] == "Disputes"


def test_list_of_results_and_bad_input(runs):
    fig = plots.utilisation([runs["trad"], runs["trad"]])
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert ticks == ["A: traditional_patrol", "B: traditional_patrol"]
    with pytest.raises(TypeError, match="Result"):
        plots.backlog({"x": 1})


# --- experiments ---------------------------------------------------------------------------


def test_forest_one_interval_per_metric(comparison):
    metrics = ["discovery_delay_mean", "resolution_time_mean", "worker_utilisation"]
    fig = plots.forest(comparison, metrics)
    assert len(fig.axes) == 3
    table = comparison.table.set_index("metric")
    for ax, m, scale in zip(fig.axes, metrics, (1, 1, 100)):  # a share's difference in pp
        (bar,) = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
        (segment,) = bar.lines[2][0].get_segments()
        np.testing.assert_allclose(segment[:, 0],
                                   scale * table.loc[m, ["ci_low", "ci_high"]].to_numpy(dtype=float))
        assert bar.lines[0].get_xdata()[0] == pytest.approx(scale * table.loc[m, "difference"])
    assert "traditional_patrol" in fig._suptitle.get_text()
    default = plots.forest(comparison)
    defined = set(comparison.table.loc[comparison.table["difference"].notna(), "metric"])
    assert len(default.axes) == len([m for m in plots.experiments.FOREST_METRICS if m in defined])


def test_sweep_curves_lines_and_bands(sweep):
    fig = plots.sweep_curves(sweep, "workers.per_grid", ["worker_utilisation", "resolution_time_mean"],
                             hue="policy")
    assert len(fig.axes) == 2
    for ax in fig.axes:
        assert len([ln for ln in ax.get_lines()]) == 2
        assert len([c for c in ax.collections if isinstance(c, PolyCollection)]) == 2
    util = sweep.metric("worker_utilisation")
    y = fig.axes[0].get_lines()[0].get_ydata()
    np.testing.assert_allclose(y, util.xs("traditional_patrol", level="policy")["mean"].to_numpy())
    with pytest.raises(ValueError, match="policy"):
        plots.sweep_curves(sweep, "workers.per_grid", "worker_utilisation")
    with pytest.raises(ValueError, match="not a swept key"):
        plots.sweep_curves(sweep, "workers.speed_kmh", "worker_utilisation")


# --- languages -------------------------------------------------------------------------------


def test_zh_without_cjk_font_falls_back_with_one_warning(runs, monkeypatch):
    monkeypatch.setattr(plot_labels, "cjk_font", lambda: None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = plots.time_decomposition(runs, lang="zh")
    assert len(caught) == 1 and "CJK" in str(caught[0].message)
    assert caught[0].filename == __file__  # points at the caller
    assert fig.axes[0].get_xlabel() == "Mean time (h)"


def test_zh_labels_with_a_cjk_font(runs, dispute_run, monkeypatch):
    monkeypatch.setattr(plot_labels, "cjk_font", lambda: "DejaVu Sans")  # pretend it is one
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plots.time_decomposition(runs, lang="zh")
        funnel = plots.escalation_funnel(dispute_run, lang="zh")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "平均时长（小时）"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["发现", "派遣", "到场", "处置"]
    assert ax.xaxis.label.get_fontfamily()[0] == "DejaVu Sans"
    assert "矛盾纠纷" in [t.get_text() for t in funnel.axes[0].get_yticklabels()]
    with pytest.raises(ValueError, match="lang"):
        plots.backlog(runs, lang="fr")


def test_every_label_has_both_languages():
    for key, (en, zh) in plot_labels.LABELS.items():
        assert en and zh and en != zh or key in ("x_km", "y_km"), key


# --- reading runs back, and the command line ------------------------------------------------


def test_from_dir_round_trip(tmp_path, dispute_run):
    dispute_run.to_dir(tmp_path, fmt="csv")
    back = govsim.Result.from_dir(tmp_path)
    pd.testing.assert_series_equal(back.summary(), dispute_run.summary(), check_exact=False)
    np.testing.assert_allclose(grid_visits_per_day(back), grid_visits_per_day(dispute_run))
    assert plots.disputes.funnel_counts(back) == plots.disputes.funnel_counts(dispute_run)
    with pytest.raises(ValueError, match="run.json"):
        govsim.Result.from_dir(tmp_path / "nothing")


def test_cli_plot_run_dir_and_stores(tmp_path, capsys):
    run_dir, figs = tmp_path / "run", tmp_path / "figs"
    assert main(["run", SMART, "--set", "horizon=1d", "--out", str(run_dir)]) == 0
    assert main(["plot", str(run_dir), "--out", str(figs), "--format", "svg"]) == 0
    out = capsys.readouterr().out
    names = {f.name for f in figs.iterdir()}
    assert {"resolution_times.svg", "time_decomposition.svg", "backlog.svg", "utilisation.svg",
            "coverage_visits.svg", "coverage_discovery_delay.svg"} <= names
    assert all(str(figs / n) in out for n in names)
    store = tmp_path / "store"
    assert main(["compare", TRAD, SMART, "-n", "2", "--set", "horizon=6h", "--jobs", "1", "--quiet",
                 "--out", str(store)]) == 0
    assert main(["plot", str(store), "--out", str(tmp_path / "f2")]) == 0
    assert (tmp_path / "f2" / "forest.png").stat().st_size > 0


@pytest.mark.parametrize("args, message", [
    (["plot", "no/such/dir", "--out", "x"], "no such directory"),
    (["plot", ".", "--out", "x"], "run.json"),
])
def test_cli_plot_bad_input(args, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_cli_report_html_and_md(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(plot_labels, "cjk_font", lambda: None)
    out = tmp_path / "rep"
    assert main(["report", TRAD, SMART, "-n", "2", "--set", "horizon=1d", "--jobs", "1", "--quiet",
                 "--out", str(out), "--lang", "zh"]) == 0
    captured = capsys.readouterr()
    assert captured.err.count("warning:") == 1
    page = (out / "report.html").read_text(encoding="utf-8")  # in Chinese, figures in English
    assert "配对差异：smart_dispatch − traditional_patrol" in page
    assert "平均办结时长" in page and "95% 置信区间" in page
    for img in ("forest.png", "resolution_times.png", "coverage_visits_1.png"):
        assert f'src="{img}"' in page and (out / img).is_file()
    assert main(["report", TRAD, SMART, "-n", "2", "--set", "horizon=1d", "--jobs", "1", "--quiet",
                 "--out", str(out), "--format", "md"]) == 0
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "| Metric | traditional_patrol | smart_dispatch |" in md and "![forest.png](forest.png)" in md
    assert "Paired differences: smart_dispatch − traditional_patrol" in md
