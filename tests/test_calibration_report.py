"""The calibration report and its figures (govsim.plots.calibration): each figure shows what the
calibration and the check hold; the report files hold the tables and every row class; zh labels;
real polygons on the rate map, in the written scenario and on the coverage map; a bad map file."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PatchCollection  # noqa: E402
from matplotlib.container import BarContainer  # noqa: E402
from matplotlib.path import Path as MplPath  # noqa: E402
from matplotlib.text import Text  # noqa: E402

import govsim  # noqa: E402
from govsim import plots  # noqa: E402
from govsim.calibration.check import compare_with_log  # noqa: E402
from govsim.calibration.report import write_report  # noqa: E402
from govsim.cli import main  # noqa: E402
from govsim.plots import calibration as pc  # noqa: E402
from govsim.plots import labels as plot_labels  # noqa: E402
from govsim.scenario import ScenarioError  # noqa: E402

SMALL = Path(__file__).resolve().parent / "data" / "grids_small.geojson"
COLUMNS = "created=created,closed=closed,category=category,channel=channel,lat=lat,lon=lon"
START = pd.Timestamp("2024-01-01")  # a Monday


def synthetic_log(n: int = 700, seed: int = 3) -> pd.DataFrame:
    """A week of cases over the four grids of grids_small.geojson (and beyond them): three
    categories, half the litter found by staff and closed at once, the rest in about a day,
    5 % still open; an area column by longitude."""
    rng = np.random.default_rng(seed)
    hours = rng.uniform(0, 7 * 24, n)
    hours = np.where(rng.random(n) < 0.7, np.floor(hours / 24) * 24 + rng.uniform(8, 18, n), hours)
    created = START + pd.to_timedelta(np.sort(hours), unit="h")
    cat = rng.choice(["litter", "dumping", "noise"], n, p=[0.6, 0.3, 0.1])
    staff = (cat == "litter") & (rng.random(n) < 0.5)
    dur = np.where(staff, rng.exponential(0.3, n), rng.lognormal(np.log(20), 1.0, n))
    closed = pd.Series(created + pd.to_timedelta(dur, unit="h")).dt.strftime("%Y-%m-%d %H:%M:%S")
    lon = rng.uniform(116.400, 116.430, n)
    lat = rng.uniform(39.900, 39.916, n)
    return pd.DataFrame({"created": created.strftime("%Y-%m-%d %H:%M:%S"),
                         "closed": np.where(rng.random(n) < 0.05, "", closed),
                         "category": cat, "channel": np.where(staff, "Staff", "Resident"),
                         "lat": lat, "lon": lon, "area": np.where(lon < 116.415, "west", "east")})


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    return synthetic_log()


@pytest.fixture(scope="module")
def cal(log) -> govsim.Calibration:
    return govsim.calibrate(log, COLUMNS, staff_channels=["Staff"], grids=SMALL, simulate=False, name="small")


@pytest.fixture(scope="module")
def scenario_file(cal, tmp_path_factory) -> Path:
    return cal.to_yaml(tmp_path_factory.mktemp("small") / "small.yaml")


@pytest.fixture(scope="module")
def check(scenario_file, log):
    return compare_with_log(str(scenario_file), log, COLUMNS, staff_channels=["Staff"], n=2, seed=1)


def bars(ax, label: str) -> BarContainer:
    return next(c for c in ax.containers if isinstance(c, BarContainer) and c.get_label() == label)


def line(ax, label: str):
    return next(ln for ln in ax.get_lines() if ln.get_label() == label)


# --- figures -----------------------------------------------------------------------------

def test_profile_lines_are_the_histograms(check) -> None:
    fig = pc.profile_fit(check)
    for ax, key in zip(fig.axes, ("how", "hod")):
        obs = check.observed[key]
        pooled = np.sum([s[key] for s in check.simulated], axis=0)
        assert len(line(ax, "observed (log)").get_ydata()) == len(obs) == (168 if key == "how" else 24)
        np.testing.assert_allclose(line(ax, "observed (log)").get_ydata(), obs / obs.sum())
        np.testing.assert_allclose(line(ax, "simulated").get_ydata(), pooled / pooled.sum())
        tvd = check.table.set_index("statistic").loc[f"hour_of_{'week' if key == 'how' else 'day'}_tvd",
                                                     "simulated"]
        assert f"{tvd:.3f}" in ax.get_title()


def test_category_mix_bars_are_the_counts(check, cal) -> None:
    ax = pc.category_mix(check).axes[0]
    order = np.argsort(-check.observed["mix"], kind="stable")
    widths = [p.get_width() for p in bars(ax, "observed (log)")]
    np.testing.assert_allclose(widths, check.observed["mix"][order])
    sim = np.mean([s["mix"] for s in check.simulated], axis=0)
    np.testing.assert_allclose([p.get_width() for p in bars(ax, "simulated")], sim[order])
    assert [t.get_text() for t in ax.get_yticklabels()] == [check.categories[i] for i in order]
    ax = pc.category_mix(cal).axes[0]  # the log alone, from the calibration
    np.testing.assert_allclose([p.get_width() for p in bars(ax, "observed (log)")], cal.arrivals.n_cases)


def test_channel_mix_bars_are_the_staff_shares(check, cal) -> None:
    ax = pc.channel_mix(cal, check).axes[0]
    staff = [p.get_width() for p in bars(ax, "found by staff (patrol)")]
    cats = sorted(cal.categories, key=lambda c: -c.cases)
    expected = [check.observed["staff_share"], np.mean([s["staff_share"] for s in check.simulated]),
                *[c.staff_share for c in cats]]
    np.testing.assert_allclose(staff, expected)
    residents = [p.get_width() for p in bars(ax, "reported by residents")]
    np.testing.assert_allclose(np.add(staff, residents), 1.0)
    assert [t.get_text() for t in ax.get_yticklabels()][2:] == [c.name for c in cats]


def test_daily_volume_bars(check) -> None:
    left, right = pc.daily_volume(check).axes[:2]
    assert bars(left, "observed (log)")[0].get_height() == pytest.approx(check.observed["daily_volume"])
    assert bars(left, "simulated")[0].get_height() == pytest.approx(
        np.mean([s["daily_volume"] for s in check.simulated]))
    np.testing.assert_allclose([p.get_height() for p in bars(right, "observed (log)")],
                               check.observed["how"].reshape(7, 24).sum(axis=1))


def test_closure_ecdf_lines_cross_at_the_checked_quantiles(check) -> None:
    fig = pc.closure_fit(check)
    table = check.table.set_index("statistic")
    assert len([ax for ax in fig.axes if ax.get_lines()]) == len(check.top) >= 2
    for ax, cat in zip(fig.axes, check.top):
        assert ax.get_xscale() == "log"
        obs = line(ax, "observed (log)")
        x, y = obs.get_xdata(), obs.get_ydata()
        for q in (50, 90):
            want = max(table.loc[f"closure_p{q}[{cat}]", "observed"], pc.CLOSURE_FLOOR_H)
            assert x[np.argmax(y >= q / 100 - 1e-12)] == pytest.approx(want), (cat, q)
        d, censored = check.closure_observed[cat]
        assert x[-1] == pytest.approx(d.max())  # the line runs to the longest case, closed or open
        t, p = pc.closure_ecdf(d, censored)
        assert y[-1] == pytest.approx(p[-1])
        assert (p[-1] < 1.0) == bool(censored.any() and d[censored].max() >= d[~censored].max())
        sd, sc = check.closure_simulated[cat]
        np.testing.assert_allclose(line(ax, "simulated").get_ydata()[1:], pc.closure_ecdf(sd, sc)[1])
    one = pc.closure_fit(check, check.top[0])
    assert len(one.axes) == 1 and check.top[0] in one.axes[0].get_title()
    with pytest.raises(ValueError, match="not among"):
        pc.closure_fit(check, "no such category")


def test_kaplan_meier_where_cases_are_open() -> None:
    t, p = pc.closure_ecdf(np.array([1.0, 2.0, 3.0, 4.0]), np.array([False, False, True, True]))
    np.testing.assert_allclose(t, [1.0, 2.0, 3.0, 4.0])  # runs on to the longest open case
    np.testing.assert_allclose(p, [0.25, 0.5, 0.5, 0.5])  # flat there, below 1


def _vertex_set(v: np.ndarray) -> np.ndarray:
    return np.unique(np.round(v, 6), axis=0)


def test_rate_map_draws_the_polygons_one_patch_per_grid(cal) -> None:
    fig = pc.rate_map(cal)
    coll = next(c for c in fig.axes[0].collections if isinstance(c, PatchCollection))
    paths = coll.get_paths()
    assert len(paths) == len(cal.grids) == 4
    for path, poly in zip(paths, cal.gridmap.polygons):
        rings = [r for part in pc.shapely_rings(poly) for r in part]
        assert (path.codes == MplPath.MOVETO).sum() == len(rings)  # every part and hole
        np.testing.assert_allclose(_vertex_set(path.vertices), _vertex_set(np.vstack(rings) / 1000.0))
    np.testing.assert_allclose(coll.get_array(), cal.arrivals.grid_rate().sum(axis=0))
    observed = pc.rate_map(cal, by="observed").axes[0].collections[0].get_array()
    np.testing.assert_allclose(observed, cal.grids["cases"] / (cal.arrivals.exposure_h / 24))


def test_rate_map_squares_without_polygons(log) -> None:
    areas = govsim.calibrate(log, COLUMNS + ",area=area", staff_channels=["Staff"], areas=True, simulate=False)
    assert areas.gridmap.polygons is None
    coll = pc.rate_map(areas).axes[0].collections[0]
    assert len(coll.get_paths()) == len(areas.grids) == 2
    for path, g in zip(coll.get_paths(), areas.grids.itertuples()):
        lo, hi = path.vertices.min(axis=0), path.vertices.max(axis=0)
        np.testing.assert_allclose(hi - lo, g.edge_m / 1000.0)
        np.testing.assert_allclose((lo + hi) / 2, [g.x_m / 1000.0, g.y_m / 1000.0])


def test_fit_table_marks(check) -> None:
    fig = pc.fit_table(check)
    cells = fig.axes[0].tables[0].get_celld()
    assert len(cells) == 5 * (len(check.table) + 1)
    texts = [c.get_text().get_text() for c in cells.values()]
    for stat in check.table["statistic"]:
        assert stat in texts
    ok = check.table["ok"]
    assert texts.count("✓") == int((ok == True).sum())  # noqa: E712
    assert texts.count("✗") == int((ok == False).sum())  # noqa: E712


# --- the report --------------------------------------------------------------------------

def test_report_files_hold_the_tables_rows_and_figures(cal, check, tmp_path) -> None:
    out = write_report(tmp_path / "rep", cal, check)
    assert out == tmp_path / "rep" / "report.html"
    md = (tmp_path / "rep" / "report.md").read_text(encoding="utf-8")
    page = out.read_text(encoding="utf-8")
    for name in ("profile_fit", "category_mix", "channel_mix", "daily_volume", "closure_fit", "rate_map",
                 "fit_table"):
        assert (tmp_path / "rep" / f"{name}.png").stat().st_size > 1000
        assert f"![{name}.png]({name}.png)" in md and f'src="{name}.png"' in page
    for c in cal.categories:
        assert f"| {c.name} | {c.cases:,} |" in md
    for r in cal.rows.itertuples(index=False):  # every class of row, with its count
        assert f"| {r[0]} | {int(r[1]):,} |" in md
    for note in cal.notes:
        assert note in md
    for stat in check.table["statistic"]:
        assert f"| {stat} |" in md and f"<td>{stat}</td>" in page
    assert md.count("✓") + md.count("✗") >= check.table["ok"].notna().sum()
    assert "<table>" in page and "## What was fitted" in md and "## Check of the fit" in md


def test_report_of_a_check_alone_and_of_a_calibration_alone(cal, check, tmp_path) -> None:
    md = write_report(tmp_path / "check", check=check, formats=("md",))
    assert md.name == "report.md" and not (md.parent / "report.html").exists()
    assert not (md.parent / "rate_map.png").exists() and (md.parent / "closure_fit.png").exists()
    assert "## Check of the fit" in md.read_text(encoding="utf-8")
    page = write_report(tmp_path / "cal", cal)
    assert not (page.parent / "profile_fit.png").exists() and (page.parent / "rate_map.png").exists()
    assert "No check against the log" in page.read_text(encoding="utf-8")
    with pytest.raises(TypeError):
        write_report(tmp_path / "none")
    with pytest.raises(ValueError, match="formats"):
        write_report(tmp_path / "x", cal, formats=("pdf",))


@pytest.mark.filterwarnings("ignore:Glyph")  # DejaVu Sans stands in for a CJK font
def test_zh_labels_switch(check, cal, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(plot_labels, "cjk_font", lambda: "DejaVu Sans")  # pretend it is one
    fig = pc.profile_fit(check, lang="zh")
    assert "一周内的小时" in fig.axes[0].get_xlabel() and "周一" in [t.get_text() for t in
                                                                 fig.axes[0].get_xticklabels()]
    assert all("DejaVu Sans" in t.get_fontfamily() for t in fig.findobj(Text) if t.get_text())
    assert "各网格日均事件数" in pc.rate_map(cal, lang="zh").axes[0].get_title()
    table = pc.fit_table(check, lang="zh").axes[0].tables[0]
    assert table[0, 4].get_text().get_text() == "达标"
    assert "DejaVu Sans" in table[1, 0].get_text().get_fontfamily()
    md = write_report(tmp_path / "zh", cal, lang="zh", formats=("md",)).read_text(encoding="utf-8")
    assert "# 标定报告：small" in md and "## 拟合结果" in md


def test_zh_without_a_cjk_font_warns_once_and_draws_english(check, cal, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(plot_labels, "cjk_font", lambda: None)
    with pytest.warns(UserWarning, match="CJK") as caught:
        fig = pc.closure_fit(check, lang="zh")
    assert len(caught) == 1 and "Closure time" in fig.axes[0].get_xlabel()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        write_report(tmp_path / "zh", cal, lang="zh", formats=("md",))
    assert len([w for w in caught if "CJK" in str(w.message)]) == 1


# --- real polygons in the scenario and on the coverage map -------------------------------

def test_written_scenario_has_the_map(cal, scenario_file) -> None:
    text = scenario_file.read_text(encoding="utf-8")
    assert "  map_geojson: small_map.geojson  # " in text
    doc = json.loads((scenario_file.parent / "small_map.geojson").read_text(encoding="utf-8"))
    assert [f["properties"]["name"] for f in doc["features"]] == cal.grids["name"].tolist()
    b01 = doc["features"][2]["geometry"]
    assert b01["type"] == "MultiPolygon" and len(b01["coordinates"]) == 2
    hole = doc["features"][1]["geometry"]["coordinates"]
    assert len(hole) == 2  # A02 keeps its hole
    ext = np.array(doc["features"][0]["geometry"]["coordinates"][0])
    np.testing.assert_allclose(ext, np.asarray(cal.gridmap.polygons[0].exterior.coords), atol=0.01)
    assert govsim.load_scenario(str(scenario_file)).territory.map_geojson == "small_map.geojson"


def test_coverage_map_draws_the_scenario_polygons(scenario_file, tmp_path) -> None:
    res = govsim.run(str(scenario_file), seed=1, overrides={"horizon": "30h", "warmup": "6h"})
    doc = json.loads((scenario_file.parent / "small_map.geojson").read_text(encoding="utf-8"))
    for r in (res, govsim.Result.from_dir(tmp_path / "run") if res.to_dir(tmp_path / "run", "csv") else None):
        coll = next(c for c in plots.coverage_map(r).axes[0].collections if isinstance(c, PatchCollection))
        assert len(coll.get_paths()) == 4
        for path, feat in zip(coll.get_paths(), doc["features"]):
            g = feat["geometry"]
            polys = [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]
            rings = [np.array(r) for p in polys for r in p]
            assert (path.codes == MplPath.MOVETO).sum() == len(rings)
            np.testing.assert_allclose(_vertex_set(path.vertices), _vertex_set(np.vstack(rings) / 1000.0))


SQUARE_DISTRICT = {"name": "four", "horizon": "1d", "warmup": "2h", "territory": {"rows": 2, "cols": 2},
                   "categories": {"garbage": {"rate": 3.0}}}


def _feature(name: str, x0: float) -> dict:
    ring = [[x0, 0], [x0 + 900, 0], [x0 + 900, 900], [x0, 900], [x0, 0]]
    return {"type": "Feature", "properties": {"name": name}, "geometry": {"type": "Polygon", "coordinates": [ring]}}


@pytest.mark.parametrize("content, words", [
    (None, ["file not found"]),
    ("{not json", ["not valid JSON"]),
    (json.dumps({"type": "Feature"}), ["FeatureCollection"]),
    (json.dumps({"type": "FeatureCollection", "features": [_feature("g0", 0), _feature("nowhere", 1000)]}),
     ["not in the scenario", "'nowhere'"]),
    (json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},
                                                            "geometry": None}]}), ["no property 'name'"]),
    (json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "g0"}, "geometry": {"type": "Point", "coordinates": [0, 0]}}]}),
     ["Polygon or MultiPolygon", "'g0'"]),
])
def test_bad_map_geojson_is_a_clear_error(tmp_path, content, words) -> None:
    f = tmp_path / "map.geojson"
    if content is not None:
        f.write_text(content, encoding="utf-8")
    yaml_file = tmp_path / "four.yaml"
    doc = {**SQUARE_DISTRICT, "territory": {**SQUARE_DISTRICT["territory"], "map_geojson": "map.geojson"}}
    yaml_file.write_text(json.dumps(doc), encoding="utf-8")  # JSON is YAML
    res = govsim.run(str(yaml_file), seed=1)
    with pytest.raises(ScenarioError) as err:
        plots.coverage_map(res)
    msg = str(err.value)
    assert str(f) in msg and "territory.map_geojson" in msg, msg
    for w in words:
        assert w in msg, msg


def test_partial_map_keeps_squares_for_the_rest(tmp_path) -> None:
    (tmp_path / "map.geojson").write_text(json.dumps({"type": "FeatureCollection",
                                                      "features": [_feature("g0", 0)]}), encoding="utf-8")
    doc = {**SQUARE_DISTRICT, "territory": {**SQUARE_DISTRICT["territory"], "map_geojson": "map.geojson"}}
    (tmp_path / "four.yaml").write_text(json.dumps(doc), encoding="utf-8")
    res = govsim.run(str(tmp_path / "four.yaml"), seed=1)
    paths = plots.coverage_map(res).axes[0].collections[0].get_paths()
    assert len(paths) == 4
    np.testing.assert_allclose(_vertex_set(paths[0].vertices), [[0, 0], [0, 0.9], [0.9, 0], [0.9, 0.9]])


# --- the command line --------------------------------------------------------------------

def test_cli_calibrate_and_check_fit_write_reports(log, tmp_path, capsys) -> None:
    csv = tmp_path / "log.csv"
    log.to_csv(csv, index=False)
    common = ["--columns", COLUMNS, "--staff-channels", "Staff"]
    assert main(["calibrate", str(csv), *common, "--grids", str(SMALL), "--out", str(tmp_path / "s.yaml"),
                 "--report", str(tmp_path / "cal")]) == 0
    out = capsys.readouterr().out
    assert "in-sample check (3 replications)" in out and f"wrote {tmp_path / 'cal' / 'report.html'}" in out
    md = (tmp_path / "cal" / "report.md").read_text(encoding="utf-8")
    assert "3 replications" in md and (tmp_path / "cal" / "rate_map.png").exists()
    assert main(["check-fit", str(tmp_path / "s.yaml"), str(csv), *common, "-n", "1",
                 "--report", str(tmp_path / "chk")]) == 0
    out = capsys.readouterr().out
    assert "closure_p50[litter]" in out and "statistics within the acceptance bar" in out
    assert (tmp_path / "chk" / "report.html").exists() and (tmp_path / "chk" / "closure_fit.png").exists()
