"""Calibration recovers a known truth: simulate a scenario, export its issues as a case log
(created = discovered, closed = closed, staff = found on patrol), calibrate, compare."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import govsim
from govsim.calibration import CalibrationError, calibrate, check_fit
from govsim.calibration.arrivals import exposure_by_hour_of_week, fit_arrivals, hour_of_week
from govsim.calibration.capacity import km_quantiles, working_hours

ORIGIN = pd.Timestamp("2024-01-01")  # a Monday, like day 0 of a run
DAYTIME = [0.2] * 7 + [1.5] * 12 + [0.5] * 5
WEEKLY = DAYTIME * 5 + [0.5 * w for w in DAYTIME] * 2  # weekends at half the weekday level
GRIDS = [{"name": f"g{i}", "x_m": 150 + 300 * (i % 3), "y_m": 150 + 300 * (i // 3), "households": 1000}
         for i in range(6)]

TRUTH = {
    "name": "truth", "horizon": "35d", "warmup": "7d",
    "territory": {"grids": GRIDS, "points_per_grid": 16, "rate_multipliers": {"litter": {"g1": 3.0}}},
    "categories": {
        "litter": {"rate": 20.0, "weekly": WEEKLY, "department": "cleaning", "patrol_handles": True,
                   "patrol_detect": 1.0, "handling": {"dist": "lognormal", "mean": "5min", "sd": "2min"},
                   "report": {"prob": 0.5, "delay": {"dist": "exponential", "mean": "30min"}}},
        "dumping": {"rate": 8.0, "weekly": WEEKLY, "department": "bulk", "patrol_detect": 0.0,
                    "report": {"prob": 1.0, "delay": {"dist": "exponential", "mean": "30min"}}},
    },
    "departments": {
        "cleaning": {"staff": 12, "hours": [{"start": "08:00", "end": "18:00",
                                             "days": ["mon", "tue", "wed", "thu", "fri", "sat"]}],
                     "service": {"dist": "lognormal", "mean": "1h", "sd": "30min"}},
        "bulk": {"staff": 5, "hours": [{"start": "08:00", "end": "16:00"}],
                 "service": {"dist": "lognormal", "mean": "30min", "sd": "15min"}},
    },
    "workers": {"per_grid": 1, "shifts": [{"start": "08:00", "end": "16:00"}]},
    "policy": "smart_dispatch",
}
COLUMNS = {"created": "created", "closed": "closed", "category": "category", "channel": "channel",
           "area": "area", "lat": "lat", "lon": "lon"}


def _points() -> tuple[np.ndarray, np.ndarray]:
    from govsim.engine import Simulation
    from govsim.scenario import load_scenario

    terr = Simulation(load_scenario(TRUTH), 11).territory
    return terr.point_x, terr.point_y


POINTS = _points()


def export_log(result: govsim.Result, warmup: float, horizon: float) -> pd.DataFrame:
    """The issues discovered in [warmup, horizon) as a case log would record them."""
    iss = result.issues
    t = iss["discovered_at"]
    iss = iss[np.isfinite(t) & (t >= warmup) & (t < horizon)]
    hours = pd.to_timedelta(iss["discovered_at"].to_numpy(), unit="h")
    closed = pd.to_timedelta(iss["closed_at"].to_numpy(), unit="h")
    area = result.grids["name"].astype(str).to_numpy()[iss["grid"].to_numpy()]
    # Where: the patrol point, in degrees (a local tangent plane at 30° N, 120° E is exact
    # enough over a kilometre).
    x, y = POINTS[0][iss["point"].to_numpy()], POINTS[1][iss["point"].to_numpy()]
    lat = 30.0 + y / 111_320.0
    lon = 120.0 + x / (111_320.0 * math.cos(math.radians(30.0)))
    return pd.DataFrame({
        "created": (ORIGIN + hours).strftime("%Y-%m-%d %H:%M:%S"),
        "closed": pd.Series(ORIGIN + closed).dt.strftime("%Y-%m-%d %H:%M:%S").fillna("").to_numpy(),
        "category": iss["category"].astype(str).to_numpy(),
        "channel": np.where(iss["channel"] == "patrol", "Staff", "Resident"),
        "area": area,
        "lat": lat,
        "lon": lon,
    })


@pytest.fixture(scope="module")
def truth_log() -> pd.DataFrame:
    res = govsim.run(TRUTH, seed=11)
    return export_log(res, 7 * 24.0, 35 * 24.0)


@pytest.fixture(scope="module")
def fitted(truth_log: pd.DataFrame) -> govsim.Calibration:
    return calibrate(truth_log, COLUMNS, staff_channels=["Staff"], areas=True, seed=1)


def test_rates_recovered_within_their_intervals(fitted) -> None:
    table = fitted.arrivals.table().set_index("category")
    truth = {"litter": 20.0 * 8, "dumping": 8.0 * 6}  # per day: rate × Σ multipliers (1000 hh each)
    for cat, rate in truth.items():
        row = table.loc[cat]
        assert row.rate_lower <= rate <= row.rate_upper, (cat, rate, row.rate_lower, row.rate_upper)
        # (an exact Poisson interval at 95%; the truth is the expected arrivals per day)


def test_weekly_profile_recovered(fitted) -> None:
    true = np.array(WEEKLY) / np.mean(WEEKLY)
    true_weekend = true[120:].sum() / true.sum()
    for c, name in enumerate(fitted.arrivals.categories):
        n = fitted.arrivals.n_cases[c]
        # The arrival profile written to the scenario: the log's discovery profile, corrected
        # by simulation for the time to discovery (the log knows only discovery times).
        weekly = np.asarray(fitted.data["categories"][name]["weekly"])
        share = weekly[120:].sum() / weekly.sum()
        se = math.sqrt(true_weekend * (1 - true_weekend) / n)
        assert abs(share - true_weekend) < 4 * se, (name, share, true_weekend)
    # Daytime against night, weekdays: the fitted profile keeps the factor 1.5 / 0.2.
    w = np.asarray(fitted.data["categories"]["litter"]["weekly"])
    day, night = w[8:19].mean(), w[0:7].mean()
    assert 4 < day / night < 15


def test_grid_shares_recovered(fitted) -> None:
    c = fitted.arrivals.categories.index("litter")
    names = list(fitted.grids["name"])
    share = fitted.arrivals.grid_share[c, names.index("g1")]
    n = fitted.arrivals.n_cases[c]
    assert abs(share - 3 / 8) < 4 * math.sqrt(3 / 8 * 5 / 8 / n)
    # The multipliers written to the scenario put grid g1 at three times the others.
    mult = fitted.data["territory"]["rate_multipliers"]["litter"]
    others = np.mean([mult[g] for g in names if g != "g1"])
    assert 2.4 < mult["g1"] / others < 3.8


def test_channels_recovered(fitted) -> None:
    litter = next(f for f in fitted.categories if f.name == "litter")
    dumping = next(f for f in fitted.categories if f.name == "dumping")
    assert dumping.staff_cases == 0 and fitted.data["categories"]["dumping"]["patrol_detect"] == 0
    lo, hi = litter.staff_share_ci
    width = hi - lo
    # The report probability after the simulation-based correction is the truth, within
    # twice the staff share's own interval (the correction is itself a simulation estimate).
    assert abs(litter.report_prob - 0.5) < width + 0.02, litter.report_prob


def test_handling_and_department_recovered(fitted) -> None:
    litter = next(f for f in fitted.categories if f.name == "litter")
    assert litter.patrol_handles
    # Within 4 standard errors, the project's bar for every statistical test (the 95%
    # interval's half-width is 1.96 of them).
    lo, hi = litter.handling.mean_ci
    se = (hi - lo) / (2 * 1.96)
    assert abs(litter.handling.mean - 5 / 60) < 4 * se, (litter.handling.mean, lo, hi)
    dumping = next(f for f in fitted.categories if f.name == "dumping")
    d = dumping.department
    assert d.hours is not None
    assert (d.hours[0].start, d.hours[0].end) == (8.0, 16.0)
    assert d.hours[0].days == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]  # the default: every day
    # The truth's departments are queues (5 and 12 staff): twice the staff shortens closure,
    # and the fit says so (a log of scheduled work would show no response).
    assert d.staff_response < -0.05 and not d.acts_as_delay, d.staff_response
    # The fitted station reproduces the closure quantiles it was fitted to.
    rel = np.abs(d.simulated[[2, 4]] / d.observed[[2, 4]] - 1)
    assert (rel < 0.15).all(), (d.observed, d.simulated)


def test_fitted_scenario_reproduces_the_log(fitted, truth_log) -> None:
    table = check_fit(fitted.scenario, truth_log, COLUMNS, staff_channels=["Staff"], n=3, seed=2)
    by = table.set_index("statistic")
    for stat in ("hour_of_day_tvd", "category_mix_tvd", "daily_volume", "staff_share"):
        assert by.loc[stat, "ok"], by.loc[stat]


def test_to_yaml_round_trip(fitted, tmp_path: Path) -> None:
    path = fitted.to_yaml(tmp_path / "district.yaml")
    text = path.read_text(encoding="utf-8")
    assert "# per 1,000 households per day" in text and "[95%" in text
    assert (tmp_path / "district_grids.csv").exists() and (tmp_path / "district_rates.csv").exists()
    from_file = govsim.run(str(path), seed=3, overrides={"horizon": "9d"}).issues
    in_memory = govsim.run(fitted.scenario, seed=3, overrides={"horizon": "9d"}).issues
    cols = ["created_at", "grid", "category", "discovered_at", "channel"]
    pd.testing.assert_frame_equal(from_file[cols], in_memory[cols], check_exact=False, rtol=1e-6)


def test_exposure_counts_the_true_window() -> None:
    # Wednesday 13:30 to the next Thursday 09:30: 8 days minus 4 hours.
    e = exposure_by_hour_of_week(pd.Timestamp("2017-12-27 13:30"), pd.Timestamp("2018-01-04 09:30"))
    assert e.sum() == pytest.approx(8 * 24 - 4)
    assert e[2 * 24 + 13] == pytest.approx(0.5 + 1)  # Wed 13:00–14:00: a half, then a whole
    assert e[3 * 24 + 9] == pytest.approx(1 + 0.5)  # Thu 09:00–10:00: a whole, then a half
    assert e[0] == pytest.approx(1.0)  # Monday 00:00 seen once


def test_sparse_cells_are_shrunk_not_zero() -> None:
    rng = np.random.default_rng(0)
    n = 400
    created = pd.Series(pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.uniform(0, 14 * 24, n), unit="h"))
    category = np.r_[np.zeros(n - 3, int), np.ones(3, int)]  # a category with 3 cases
    grid = rng.integers(0, 10, n)
    fit = fit_arrivals(created, category, grid, ["big", "tiny"], 10,
                       (pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-15")))
    assert (fit.grid_share[1] > 0).all() and (fit.weekly[1] > 0).all()
    # With 3 cases the tiny category borrows the pooled pattern: no grid gets most of it.
    assert fit.grid_share[1].max() < 0.5


def test_working_hours_from_timestamps() -> None:
    rng = np.random.default_rng(1)
    days = rng.integers(0, 5, 500)  # Monday..Friday
    hours = rng.uniform(9, 17, 500)
    t = pd.Timestamp("2024-01-01") + pd.to_timedelta(days * 24 + hours, unit="h")
    h = working_hours(t.to_numpy())
    assert h is not None and h[0].days == ["mon", "tue", "wed", "thu", "fri"]
    assert 9 <= h[0].start <= 10 and 16 <= h[0].end <= 17


def test_km_quantiles_use_censored_cases() -> None:
    d = np.array([1.0, 2.0, 3.0, 4.0, 10.0, 10.0])
    c = np.array([False, False, False, False, True, True])
    q = km_quantiles(d, c, (0.5,))
    assert q[0] == 3.0  # the censored ones are longer than every closure: median is the 3rd
    assert km_quantiles(d, c, (0.9,))[0] == math.inf


def test_hour_of_week_bins() -> None:
    t = pd.Series(pd.to_datetime(["2024-01-01 00:30", "2024-01-07 23:59"]))  # Monday, Sunday
    assert list(hour_of_week(t)) == [0, 167]


def test_bad_requests_are_clear(truth_log) -> None:
    with pytest.raises(CalibrationError) as err:
        calibrate(truth_log, COLUMNS, staff_channels=["Staff"], areas=True, cell=500)
    assert "not several" in str(err.value)
    with pytest.raises(CalibrationError) as err:
        calibrate(truth_log.drop(columns=["area"]), {k: v for k, v in COLUMNS.items() if k != "area"},
                  areas=True)
    assert "area=COL" in str(err.value)


def test_a_grid_map_puts_patrol_points_inside_the_polygons(tmp_path: Path) -> None:
    """With a GeoJSON map, patrol points lie inside each grid's polygon, in the scenario run
    in memory and in the written YAML alike."""
    shapely = pytest.importorskip("shapely")
    rng = np.random.default_rng(3)
    n = 600
    lon = rng.uniform(116.400, 116.430, n)
    lat = rng.uniform(39.900, 39.916, n)
    created = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.uniform(0, 14 * 24, n), unit="h")
    log = pd.DataFrame({"created": created.astype(str), "closed": (created + pd.Timedelta(hours=3)).astype(str),
                        "category": rng.choice(["noise", "litter"], n), "lat": lat, "lon": lon})
    cal = calibrate(log, "created=created,closed=closed,category=category,lat=lat,lon=lon",
                    grids=Path(__file__).parent / "data" / "grids_small.geojson", simulate=False)
    from govsim.engine import Simulation

    terr = Simulation(cal.scenario, 0).territory
    polys = {name: poly for name, poly in zip(cal.grids["name"], cal.gridmap.polygons)}
    for g, name in enumerate(terr.grid_names):
        pts = list(terr.grid_points(g))
        assert len(pts) == 16
        inside = shapely.contains_xy(polys[name], terr.point_x[pts], terr.point_y[pts])
        assert inside.all(), name
    path = cal.to_yaml(tmp_path / "map.yaml")
    assert (tmp_path / "map_points.csv").exists() and "points_csv: map_points.csv" in path.read_text()
    written = Simulation(govsim.load_scenario(str(path)), 0).territory
    assert np.allclose(written.point_x, terr.point_x) and np.allclose(written.point_y, terr.point_y)


def test_check_refuses_a_measured_period_shorter_than_the_logs_week(fitted, truth_log) -> None:
    short = govsim.load_scenario(fitted.data, overrides={"horizon": "9d"})
    with pytest.raises(CalibrationError) as err:
        check_fit(short, truth_log, COLUMNS, staff_channels=["Staff"], n=1)
    assert "whole week" in str(err.value)
    assert fitted.data["name"] == "calibrated"  # a DataFrame log has no file name to borrow


@pytest.mark.parametrize("seed", range(6))
def test_the_fast_station_replay_equals_the_simpy_station(seed) -> None:
    """The department fit replays a station without SimPy; it must give the very closure
    times that a ServiceStation on SimPy gives, ties at opening and closing times included."""
    from govsim.calibration.capacity import simulate_closure
    from govsim.distributions import LogNormal
    from govsim.scenario.fields import HoursConfig

    rng = np.random.default_rng(seed)
    n = 400
    arrivals = np.sort(rng.uniform(0, 2 * 168, n))
    arrivals[::7] = np.floor(arrivals[::7])  # on the hour: ties with opening and closing
    hours = [HoursConfig(start=float(rng.integers(6, 10)), end=float(rng.integers(15, 20)),
                         days=["mon", "tue", "wed", "thu", "fri", "sat"][: int(rng.integers(3, 7))])]
    if seed % 3 == 0:
        hours = None
    service = LogNormal(float(rng.uniform(0.2, 3.0)), float(rng.uniform(0.1, 2.0)))
    staff = int(rng.integers(1, 6))
    fast = simulate_closure(arrivals, staff, hours, service, seed, 24 * 60.0, engine="fast")
    slow = simulate_closure(arrivals, staff, hours, service, seed, 24 * 60.0, engine="simpy")
    np.testing.assert_array_equal(fast, slow)


def test_holidays_are_fitted_and_compared_as_sundays() -> None:
    # One week from Monday; Wednesday is a holiday.
    start, end = pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-08")
    e = exposure_by_hour_of_week(start, end, ["2024-01-03"])
    assert e[2 * 24:3 * 24].sum() == 0 and e[6 * 24:].sum() == pytest.approx(48)
    how = hour_of_week(pd.Series(pd.to_datetime(["2024-01-03 10:30", "2024-01-04 10:30"])), ["2024-01-03"])
    assert list(how) == [6 * 24 + 10, 3 * 24 + 10]
    with pytest.raises(CalibrationError) as err:
        exposure_by_hour_of_week(start, end, ["not a day"])
    assert "holidays" in str(err.value) and "not a day" in str(err.value)
