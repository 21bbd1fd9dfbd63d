"""Unusual but plausible case logs against `govsim.calibrate`, `govsim.check_fit` and the CLI.

Each test is one case a researcher with another city's export could meet, asserting what
they should get: one clear CalibrationError naming the file / column / role, or a
sensible scenario that loads from its YAML and runs. Each was found failing by an
adversarial review and fixed (silent wrong results, tracebacks, unclear errors).
"""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import govsim
from govsim.calibration import CalibrationError, calibrate, check_fit
from govsim.cli import main

COLS = "created=created,closed=closed,category=category,channel=channel"
COLS_XY = COLS + ",lat=lat,lon=lon"
MAP = Path(__file__).parent / "data" / "grids_small.geojson"  # four grids near Jingshan, Beijing

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def make_log(n: int = 300, cats: tuple[str, ...] = ("A", "B", "C"), days: float = 7.0,
             start: str = "2024-03-04", seed: int = 1, staff_share: float = 0.3,
             closure_h: float = 5.0, coords: bool = True) -> pd.DataFrame:
    """A plain log: uniform arrivals over ``days`` from a Monday, exponential closure."""
    rng = np.random.default_rng(seed)
    created = pd.Timestamp(start) + pd.to_timedelta(np.sort(rng.uniform(0, days * 24, n)), unit="h")
    closed = created + pd.to_timedelta(rng.exponential(closure_h, n), unit="h")
    df = pd.DataFrame({
        "created": created.strftime("%Y-%m-%d %H:%M:%S"),
        "closed": pd.Series(closed).dt.strftime("%Y-%m-%d %H:%M:%S"),
        "category": rng.choice(list(cats), n),
        "channel": np.where(rng.uniform(size=n) < staff_share, "Staff", "Resident"),
    })
    if coords:  # a 2 km square near Beijing's Jingshan (inside the test map)
        df["lat"] = 39.90 + rng.uniform(0, 0.01, n)
        df["lon"] = 116.40 + rng.uniform(0, 0.02, n)
    return df


def fit(df, columns: str = COLS, **kw) -> govsim.Calibration:
    kw.setdefault("staff_channels", ["Staff"])
    kw.setdefault("simulate", False)
    return calibrate(df, columns, **kw)


def round_trip(cal: govsim.Calibration, tmp_path: Path, horizon: str = "9d") -> govsim.Scenario:
    """Write the calibration, load the YAML back, check the categories survive, run it."""
    path = cal.to_yaml(tmp_path / "district.yaml")
    scenario = govsim.load_scenario(path)
    assert list(scenario.categories) == list(cal.data["categories"])
    govsim.run(scenario, seed=1, overrides={"horizon": horizon})
    return scenario


def cli(*args: str) -> tuple[int, str]:
    err, out = io.StringIO(), io.StringIO()
    with redirect_stderr(err), redirect_stdout(out):
        code = main(list(args))
    return code, err.getvalue()


def shift_hours(shifts: list[dict]) -> float:
    """Hours per day covered by a scenario's worker shifts (union over shifts)."""
    on = np.zeros(24 * 60, bool)
    for s in shifts:
        a = sum(int(x) * m for x, m in zip(s["start"].split(":"), (60, 1)))
        b = sum(int(x) * m for x, m in zip(s["end"].split(":"), (60, 1)))
        idx = np.arange(a, a + ((b - a) % (24 * 60) or 24 * 60)) % (24 * 60)
        on[idx] = True
    return on.sum() / 60.0


# --- odd shapes of a log that work ------------------------------------------------------

def test_single_category_loads_and_runs(tmp_path) -> None:
    cal = fit(make_log(cats=("Graffiti",)))
    assert list(cal.data["categories"]) == ["Graffiti"]
    round_trip(cal, tmp_path)


def test_every_case_found_by_staff(tmp_path) -> None:
    cal = fit(make_log(staff_share=1.0))
    assert all(c.report_prob == 0.0 and c.staff_share == 1.0 for c in cal.categories)
    assert cal.data["channels"]["patrol"] is True
    round_trip(cal, tmp_path)


def test_no_case_found_by_staff(tmp_path) -> None:
    cal = fit(make_log(staff_share=0.0), staff_channels=[])
    assert cal.data["channels"]["patrol"] is False
    assert all(c.report_prob == 1.0 for c in cal.categories)
    round_trip(cal, tmp_path)


def test_every_closure_zero_length(tmp_path) -> None:
    df = make_log()
    df["closed"] = df["created"]
    cal = fit(df)
    assert int(cal.rows.set_index("class").loc["closed at creation (zero length)", "count"]) == len(df)
    round_trip(cal, tmp_path)


def test_category_whose_cases_are_all_cancelled(tmp_path) -> None:
    df = make_log(n=400, cats=("A", "B"))
    df["status"] = "Closed"
    df.loc[:20, ["category", "status"]] = ["Withdrawn", "Cancelled"]
    cal = fit(df, COLS + ",status=status")
    note = cal.table().set_index("category").loc["Withdrawn", "note"]
    assert "none closed" in note and "borrowed" in note
    round_trip(cal, tmp_path)


def test_every_case_at_one_point_with_cells(tmp_path) -> None:
    df = make_log()
    df["lat"], df["lon"] = 39.905, 116.405
    cal = fit(df, COLS_XY, cell="500m")
    assert len(cal.grids) == 1 and cal.placement["placed"] == len(df)
    round_trip(cal, tmp_path)


def test_coordinates_all_missing_default_is_one_grid(tmp_path) -> None:
    df = make_log()
    df["lat"], df["lon"] = "", ""
    cal = fit(df, COLS_XY)
    assert len(cal.grids) == 1
    round_trip(cal, tmp_path)


def test_window_end_before_start_is_one_error() -> None:
    with pytest.raises(CalibrationError, match="window: start .* is after end"):
        fit(make_log(), window=("2024-03-08", "2024-03-05"))


def test_window_outside_the_data_is_one_error() -> None:
    with pytest.raises(CalibrationError, match="no usable rows.*outside the window"):
        fit(make_log(), window=("2030-01-01", "2030-02-01"))


YAML_NAMES = ["a: b", "#hash", "it's", 'say "hi"', "[x]", "{y}", "a, b", "&anchor", "*alias", "!tag",
              "|pipe", ">gt", "%pct", "@at", "占道经营", "true", "yes", "No", "~", "1", "0.5", "-dash",
              "? q", "key: {a: 1}", "x" * 300, "multi\nline", "back\\slash", "2024-01-01", "emoji 🚧",
              "(missing)"]


@pytest.mark.parametrize("name", YAML_NAMES, ids=[repr(n)[:20] for n in YAML_NAMES])
def test_yaml_special_category_names_round_trip(name, tmp_path) -> None:
    cal = fit(make_log(n=80, cats=(name, "Normal")), COLS_XY, cell="500m")
    # Control characters (a line break) are cleaned to a space when the log is read.
    assert name.replace("\n", " ") in cal.data["categories"]
    round_trip(cal, tmp_path)


def test_pooled_other_categories_round_trip(tmp_path) -> None:
    cal = fit(make_log(n=200, cats=tuple("ABCDEFGHIJKLMNOPQRSTUVWXYZ")))
    assert "(other categories)" in cal.data["categories"]
    round_trip(cal, tmp_path)


def test_category_names_differing_in_case_stay_apart_and_run(tmp_path) -> None:
    cal = fit(make_log(n=400, cats=("Graffiti", "graffiti", "GRAFFITI ", " Graffiti")))
    assert sorted(cal.data["categories"]) == ["GRAFFITI", "Graffiti", "graffiti"]  # spaces stripped
    round_trip(cal, tmp_path)


def test_parquet_typed_and_text_times_match_csv(tmp_path) -> None:
    pytest.importorskip("pyarrow")
    df = make_log()
    df.to_csv(tmp_path / "log.csv", index=False)
    df.to_parquet(tmp_path / "text.parquet")
    typed = df.assign(created=pd.to_datetime(df["created"]), closed=pd.to_datetime(df["closed"]))
    typed.to_parquet(tmp_path / "typed.parquet")
    rates = [fit(str(tmp_path / f), COLS_XY).table()["rate_per_day"].to_numpy()
             for f in ("log.csv", "text.parquet", "typed.parquet")]
    np.testing.assert_allclose(rates[1], rates[0])
    np.testing.assert_allclose(rates[2], rates[0])


def test_to_yaml_creates_missing_directories(tmp_path) -> None:
    path = fit(make_log()).to_yaml(tmp_path / "a" / "b" / "district.yaml")
    assert path.is_file() and (path.parent / "district_rates.csv").is_file()


def test_check_fit_with_one_replication() -> None:
    df = make_log()
    table = check_fit(fit(df).scenario, df, COLS, staff_channels=["Staff"], n=1)
    assert {"daily_volume", "staff_share", "category_mix_tvd"} <= set(table["statistic"])
    assert np.isfinite(table.set_index("statistic").loc["daily_volume", "simulated"])


def test_simulated_fit_of_a_single_category_log(tmp_path) -> None:
    cal = fit(make_log(n=300, cats=("A",), closure_h=0.2), simulate=True)
    round_trip(cal, tmp_path)


def test_cli_cell_zero_is_one_error(tmp_path) -> None:
    make_log().to_csv(tmp_path / "log.csv", index=False)
    code, err = cli("calibrate", str(tmp_path / "log.csv"), "--columns", COLS_XY, "--cell", "0",
                    "--no-simulation", "--out", str(tmp_path / "s.yaml"))
    assert code == 2 and err.startswith("error: --cell '0'")


# --- cases that fail today ---------------------------------------------------------------

def test_single_case_is_one_clear_error() -> None:
    with pytest.raises(CalibrationError, match="window"):
        fit(make_log(n=1, staff_share=0.0), staff_channels=[])


def test_all_cases_at_one_instant_is_one_clear_error() -> None:
    df = make_log()
    df["created"] = "2024-03-04 10:00:00"
    with pytest.raises(CalibrationError, match="window"):
        fit(df).scenario


def test_window_shorter_than_a_day_does_not_zero_the_unseen_hours() -> None:
    try:
        cal = fit(make_log(days=0.5))
    except CalibrationError as err:  # refusing a log this short is acceptable too
        assert "window" in str(err)
        return
    weekly = np.array(cal.data["categories"]["A"]["weekly"]).reshape(7, 24)
    assert weekly[:, 12:].mean() > 0.2 * weekly[:, :12].mean() or any("hour" in n for n in cal.notes)


def test_staff_finding_round_the_clock_gives_round_the_clock_shifts() -> None:
    cal = fit(make_log(n=600, staff_share=0.3))
    assert shift_hours(cal.data["workers"]["shifts"]) >= 20


def _staff_by_day_log() -> pd.DataFrame:
    """Staff find 30 % of the cases between 09:00 and 15:00 and close them in hours (median 3 h)."""
    df = make_log(n=600, closure_h=5.0, seed=2)
    rng = np.random.default_rng(2)
    created, closed = pd.to_datetime(df["created"]), pd.to_datetime(df["closed"])
    staff = df["channel"] == "Staff"
    day = created.dt.normalize() + pd.to_timedelta(rng.uniform(9, 15, len(df)), unit="h")
    new = created.where(~staff, day)
    df["created"] = new.dt.strftime("%Y-%m-%d %H:%M:%S")
    df["closed"] = (new + (closed - created)).dt.strftime("%Y-%m-%d %H:%M:%S")
    return df


def test_in_sample_volume_when_staff_take_hours_to_close() -> None:
    df = _staff_by_day_log()
    cal = fit(df, simulate=True)
    table = check_fit(cal.scenario, df, COLS, staff_channels=["Staff"], n=2).set_index("statistic")
    observed, simulated = table.loc["daily_volume", ["observed", "simulated"]]
    assert abs(simulated / observed - 1) <= 0.25


def test_log_where_no_case_was_ever_closed() -> None:
    df = make_log().rename(columns={"closed": "closed_at"})
    df["closed_at"] = ""
    try:
        cal = fit(df, COLS.replace("closed=closed", "closed=closed_at"))
    except CalibrationError as err:
        assert "closed_at" in str(err)
        return
    assert not any("borrowed" in n for n in cal.table()["note"])


def test_date_only_log_keeps_its_cases() -> None:
    df = make_log(coords=False)
    df["created"] = pd.to_datetime(df["created"]).dt.strftime("%Y-%m-%d")
    df["closed"] = pd.to_datetime(df["closed"]).dt.strftime("%Y-%m-%d")
    cal = fit(df)
    assert sum(c.cases for c in cal.categories) == len(df)


def test_date_only_log_rates_and_profile() -> None:
    df = make_log(n=700, coords=False)
    df["id"] = np.arange(len(df))
    df["created"] = pd.to_datetime(df["created"]).dt.strftime("%Y-%m-%d")
    df["closed"] = pd.to_datetime(df["closed"]).dt.strftime("%Y-%m-%d")
    cal = fit(df, COLS + ",id=id")
    assert abs(cal.table()["rate_per_day"].sum() / 100.0 - 1) <= 0.1  # 700 cases over 7 whole days
    weekly = np.array(cal.data["categories"]["A"]["weekly"]).reshape(7, 24)
    assert weekly[:, 1:].max() > 0  # not every arrival at midnight


def test_epoch_seconds_are_read_or_refused() -> None:
    df = make_log(n=700)
    df["id"] = np.arange(len(df))
    for col in ("created", "closed"):
        df[col] = (pd.to_datetime(df[col]).astype("int64") // 10**9).astype(str)
    try:
        cal = fit(df, COLS + ",id=id")
    except CalibrationError as err:
        assert "created" in str(err)
        return
    assert cal.window[0].year == 2024 and sum(c.cases for c in cal.categories) == len(df)


def _zoned(df: pd.DataFrame) -> tuple[pd.Series, pd.Series, float]:
    created = pd.to_datetime(df["created"]).dt.tz_localize("Asia/Shanghai")
    closed = pd.to_datetime(df["closed"]).dt.tz_localize("Asia/Shanghai")
    return created, closed, float(((closed - created).dt.total_seconds() / 3600).median())


def test_mixed_offsets_within_a_column() -> None:
    df = make_log(n=200, closure_h=2.0, staff_share=0.0)
    created, closed, true_median = _zoned(df)
    utc = created.dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    df["created"] = np.where(df.index % 2 == 0, created.dt.strftime("%Y-%m-%dT%H:%M:%S+08:00"), utc)
    df["closed"] = closed.dt.strftime("%Y-%m-%dT%H:%M:%S+08:00")
    try:
        cal = fit(df, staff_channels=[], min_cases=1000)  # one pooled category
    except CalibrationError as err:
        assert "created" in str(err)
        return
    assert abs(cal.categories[0].department.observed[2] / true_median - 1) < 0.2


def test_created_and_closed_in_different_zones() -> None:
    df = make_log(n=200, closure_h=2.0, staff_share=0.0)
    created, closed, true_median = _zoned(df)
    df["created"] = created.dt.strftime("%Y-%m-%dT%H:%M:%S+08:00")
    df["closed"] = closed.dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        cal = fit(df, staff_channels=[], min_cases=1000)
    except CalibrationError as err:
        assert "closed" in str(err)
        return
    assert int(cal.rows.set_index("class").loc["closed before created", "count"]) == 0
    assert abs(cal.categories[0].department.observed[2] / true_median - 1) < 0.2


def test_map_with_no_case_inside_is_one_error() -> None:
    df = make_log()
    df["lat"], df["lon"] = df["lat"] - 9.9, df["lon"] + 3.6  # Hangzhou, not Beijing
    with pytest.raises(CalibrationError, match="grids_small.geojson"):
        fit(df, COLS_XY, grids=str(MAP))


@pytest.mark.parametrize("variant", ["empty", "decimal comma", "swapped"])
def test_unusable_coordinates_with_cells_name_the_columns(variant, tmp_path) -> None:
    df = make_log().rename(columns={"lat": "Latitude", "lon": "Longitude"})
    if variant == "empty":
        df["Latitude"], df["Longitude"] = "", ""
    elif variant == "decimal comma":
        for c in ("Latitude", "Longitude"):
            df[c] = df[c].map(lambda v: f"{v:.5f}".replace(".", ","))
    else:
        df["Latitude"], df["Longitude"] = df["Longitude"].to_numpy(), df["Latitude"].to_numpy()
    path = tmp_path / "log.csv"
    df.to_csv(path, sep=";", index=False)
    with pytest.raises(CalibrationError) as err:
        fit(str(path), COLS + ",lat=Latitude,lon=Longitude", cell="500m")
    assert "Latitude" in str(err.value)


def test_area_without_coordinates_error_names_the_file(tmp_path) -> None:
    df = make_log()
    df["area"] = np.where(df.index % 2 == 0, "north", "south")
    df.loc[df["area"] == "south", ["lat", "lon"]] = np.nan
    path = tmp_path / "log.csv"
    df.to_csv(path, index=False)
    with pytest.raises(CalibrationError) as err:
        fit(str(path), COLS_XY + ",area=area", areas=True)
    assert str(err.value).startswith(str(path))


def test_log_category_named_like_the_pool(tmp_path) -> None:
    df = make_log(n=400, cats=("A", "B"))
    df.loc[:30, "category"] = "(other categories)"
    df.loc[31:35, "category"] = "rare"
    cal = fit(df)
    assert len({c.name for c in cal.categories}) == len(cal.categories)
    round_trip(cal, tmp_path)


def test_category_named_grid(tmp_path) -> None:
    round_trip(fit(make_log(cats=("grid", "litter"))), tmp_path)


def test_category_name_with_unicode_line_separator(tmp_path) -> None:
    round_trip(fit(make_log(cats=("占道\u2028经营", "litter"))), tmp_path)


def test_category_name_with_carriage_return(tmp_path) -> None:
    round_trip(fit(make_log(cats=("cr\rx", "litter"))), tmp_path)


def test_cli_out_below_a_file_is_one_error(tmp_path) -> None:
    make_log().to_csv(tmp_path / "log.csv", index=False)
    (tmp_path / "notes.txt").write_text("x")
    code, err = cli("calibrate", str(tmp_path / "log.csv"), "--columns", COLS, "--no-simulation",
                    "--out", str(tmp_path / "notes.txt" / "district.yaml"))
    assert code == 2 and err.startswith("error:")


def test_cli_out_is_a_directory_is_one_error(tmp_path) -> None:
    make_log().to_csv(tmp_path / "log.csv", index=False)
    (tmp_path / "out").mkdir()
    code, err = cli("calibrate", str(tmp_path / "log.csv"), "--columns", COLS, "--no-simulation",
                    "--out", str(tmp_path / "out"))
    assert code == 2 and err.startswith("error:")


def test_cli_report_onto_a_file_is_one_error(tmp_path) -> None:
    make_log().to_csv(tmp_path / "log.csv", index=False)
    (tmp_path / "report").write_text("x")
    code, err = cli("calibrate", str(tmp_path / "log.csv"), "--columns", COLS, "--no-simulation",
                    "--out", str(tmp_path / "s.yaml"), "--report", str(tmp_path / "report"))
    assert code == 2 and err.startswith("error:")


def test_check_fit_with_only_unknown_categories() -> None:
    scenario = fit(make_log()).scenario
    with pytest.raises(CalibrationError, match="Pothole"):
        check_fit(scenario, make_log(cats=("Pothole", "Streetlight")), COLS, staff_channels=["Staff"], n=1)


def test_check_fit_with_a_single_case() -> None:
    scenario = fit(make_log()).scenario
    with pytest.raises(CalibrationError, match="window"):
        check_fit(scenario, make_log(n=1, staff_share=0.0), COLS, n=1)


def test_check_fit_with_no_replications() -> None:
    df = make_log()
    with pytest.raises(CalibrationError, match="n"):
        check_fit(fit(df).scenario, df, COLS, staff_channels=["Staff"], n=0)


def test_calibrate_seed_none() -> None:
    fit(make_log(), seed=None)


def test_one_holiday_given_as_a_string() -> None:
    cal = fit(make_log(), holidays="2024-03-04")
    assert cal.scenario is not None


def test_window_far_beyond_the_data_is_noted() -> None:
    cal = fit(make_log(), window=("2024-03-04", "2024-04-30"))
    assert any("window" in n for n in cal.notes)


def test_utf16_without_a_bom_is_a_clear_error(tmp_path):
    # a bare UnicodeError (no BOM to tell the byte order) is reported like any undecodable file
    f = tmp_path / "cases.csv"
    f.write_bytes("created,closed,category\n2024-01-01 08:00,2024-01-01 09:00,litter\n".encode("utf-16-le"))
    from govsim.calibration.caselog import read_case_log

    with pytest.raises(CalibrationError, match="can't be decoded as utf-16"):
        read_case_log(f, {"created": "created", "closed": "closed", "category": "category"}, encoding="utf-16")


def test_many_cells_over_a_long_window_do_not_overflow():
    # 3,213 cells of 500 m × a week of shift hours once overflowed a nanosecond Timedelta
    la = Path(__file__).resolve().parents[1] / "notebooks" / "data" / "la311_2017-12-27_2018-01-04.csv"
    cal = calibrate(la, "created=created,closed=closed,category=category,channel=channel,lat=lat,lon=lon",
                    cell="500m", staff_channels=["Driver Self Report"], simulate=False)
    assert len(cal.scenario.territory.grids or []) > 3000
