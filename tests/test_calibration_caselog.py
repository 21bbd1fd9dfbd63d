"""Reading and cleaning a case log: govsim.calibration.caselog."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from govsim.calibration import CalibrationError
from govsim.calibration.caselog import REQUIRED, ROLES, CaseLog, parse_columns, read_case_log

DATA = Path(__file__).resolve().parents[2] / "shared/data/service-requests"
LA = DATA / "la311_2017-12-27_2018-01-04.csv"
BALTIMORE = DATA / "baltimore311_sample_2014-2019.csv"
LA_COLUMNS = {"created": "created", "closed": "closed", "category": "category", "channel": "channel",
              "lat": "lat", "lon": "lon", "area": "area_nc", "status": "status", "id": "request_id"}
BALT_COLUMNS = {"created": "CreatedDate", "closed": "CloseDate", "category": "SRType",
                "channel": "MethodReceived", "lat": "Latitude", "lon": "Longitude", "area": "Neighborhood",
                "status": "SRStatus", "id": "ServiceRequestNum"}

needs_la = pytest.mark.skipif(not LA.exists(), reason=f"shared data not found: {LA}")
needs_baltimore = pytest.mark.skipif(not BALTIMORE.exists(), reason=f"shared data not found: {BALTIMORE}")


def counts(log: CaseLog) -> dict[str, int]:
    return dict(zip(log.rows["class"], log.rows["count"]))


def check_accounting(log: CaseLog) -> None:
    """Every row read is dropped in exactly one class or kept in exactly one closure class."""
    rows = log.rows
    assert list(rows.columns[:3]) == ["class", "count", "action"] and "note" in rows.columns
    assert rows["class"].is_unique
    dropped = rows[rows["action"] == "dropped"]
    assert (dropped["kind"] == "dropped").all() and (rows.loc[rows["kind"] == "dropped", "action"] == "dropped").all()
    assert int(dropped["count"].sum()) + len(log.cases) == log.n_read
    kept = rows[rows["kind"] == "kept"]
    assert int(kept["count"].sum()) == len(log.cases)
    assert int(rows.loc[rows["kind"] != "flag", "count"].sum()) == log.n_read
    c = log.cases
    assert c["created"].is_monotonic_increasing and list(c.index) == list(range(len(c)))
    assert c["created"].dtype == "datetime64[ns]" and c["closed"].dtype == "datetime64[ns]"
    for col in ("lat", "lon", "duration_h"):
        assert c[col].dtype == np.float64
    for col in ("staff", "censored", "closure_ok"):
        assert c[col].dtype == bool
    assert c["created"].min() >= log.window[0] and c["created"].max() <= log.window[1]
    # closure_ok <=> a known non-negative duration or censored
    assert (c["closure_ok"] == (c["duration_h"].notna() & (c["duration_h"] >= 0))).all()
    assert c.loc[c["censored"], "closed"].isna().all()
    assert not c.loc[c["censored"], "duration_h"].isna().any()


# ---------------------------------------------------------------------------
# real logs


@pytest.fixture(scope="module")
def la_log() -> CaseLog:
    return read_case_log(LA, LA_COLUMNS, staff_channels=["Driver Self Report"])


@pytest.fixture(scope="module")
def la_raw() -> pd.DataFrame:
    return pd.read_csv(LA, dtype=str, keep_default_na=False)


@needs_la
def test_la_class_counts_match_plain_pandas(la_log: CaseLog, la_raw: pd.DataFrame) -> None:
    raw = la_raw
    created = pd.to_datetime(raw["created"], format="%Y-%m-%d %H:%M:%S")
    closed = pd.to_datetime(raw["closed"].replace("", None), format="%Y-%m-%d %H:%M:%S")
    dur = (closed - created).dt.total_seconds()
    negative = dur < 0
    cancelled = raw["status"].isin(["Cancelled"]) & ~negative
    never = (raw["closed"] == "") & ~negative & ~cancelled
    zero = (dur == 0) & ~cancelled
    normal = (dur > 0) & ~cancelled
    got = counts(la_log)
    assert la_log.n_read == len(raw) == 19_999
    assert got["closed before created"] == negative.sum() == 25
    assert got["never closed"] == never.sum() == 5
    assert got["closed at creation (zero length)"] == zero.sum() == 2_414
    assert got["cancelled"] == cancelled.sum() == 526
    assert got["closed normally"] == normal.sum()
    assert got["coordinates missing"] == ((raw["lat"] == "") | (raw["lon"] == "")).sum() == 2_855
    assert got["area missing"] == (raw["area_nc"] == "").sum() == 238
    for cls in ("exact duplicate row", "created missing", "created unparseable", "duplicate id",
                "outside the window", "closed unparseable"):
        assert got[cls] == 0
    assert not any(c.startswith("placeholder") for c in got)  # LA's busiest point holds 16 rows
    check_accounting(la_log)
    assert la_log.window == (created.min(), created.max())
    assert la_log.window == (pd.Timestamp("2017-12-27 13:36:22"), pd.Timestamp("2018-01-04 09:33:23"))
    c = la_log.cases
    assert c["staff"].sum() == (raw["channel"] == "Driver Self Report").sum()
    assert la_log.staff_channels == ("Driver Self Report",)
    assert c["censored"].sum() == 5 and c["closure_ok"].sum() == len(raw) - 25 - 526
    # censored at the end of the window
    cens = c[c["censored"]]
    expect = (la_log.window[1] - cens["created"]).dt.total_seconds() / 3600
    np.testing.assert_allclose(cens["duration_h"], expect)
    first = c.iloc[0]
    assert first["id"] == "1-866505430" and first["category"] == "Metal/Household Appliances"
    assert first["duration_h"] == pytest.approx((pd.Timestamp("2018-01-03 07:33:56")
                                                 - pd.Timestamp("2017-12-27 13:36:22")).total_seconds() / 3600)
    text = la_log.summary()
    assert "19,999 rows read" in text and "Driver Self Report" in text and "17.0%" in text


@needs_la
def test_la_window_cropping_counts(la_raw: pd.DataFrame) -> None:
    created = pd.to_datetime(la_raw["created"])
    log = read_case_log(LA, LA_COLUMNS, window=("2018-01-01", None))
    assert counts(log)["outside the window"] == (created < pd.Timestamp("2018-01-01")).sum()
    assert log.window == (pd.Timestamp("2018-01-01"), created.max())
    check_accounting(log)
    log = read_case_log(LA, LA_COLUMNS, window=("2017-12-28 00:00", "2017-12-29 12:00"))
    inside = created.between(pd.Timestamp("2017-12-28"), pd.Timestamp("2017-12-29 12:00"))
    assert len(log.cases) == inside.sum()
    assert counts(log)["outside the window"] == (~inside).sum()
    assert log.window == (pd.Timestamp("2017-12-28"), pd.Timestamp("2017-12-29 12:00"))
    assert log.window_days == pytest.approx(1.5)
    check_accounting(log)
    with pytest.raises(CalibrationError, match="no usable rows"):
        read_case_log(LA, LA_COLUMNS, window=("2030-01-01", None))
    with pytest.raises(CalibrationError, match="after end"):
        read_case_log(LA, LA_COLUMNS, window=("2018-01-02", "2018-01-01"))


@needs_baltimore
def test_baltimore_us_format_and_placeholder() -> None:
    raw = pd.read_csv(BALTIMORE, dtype=str, keep_default_na=False)
    log = read_case_log(BALTIMORE, BALT_COLUMNS, staff_channels=["Internal"],
                        cancelled=["Closed (Duplicate)", "Open (Duplicate)", "New (Duplicate)"])
    check_accounting(log)
    c = log.cases
    row = c[c["id"] == "18-00269879"].iloc[0]  # 04/12/2018 11:11:26 AM -> 04/12/2018 12:45:47 PM
    assert row["created"] == pd.Timestamp("2018-04-12 11:11:26")
    assert row["closed"] == pd.Timestamp("2018-04-12 12:45:47")
    assert np.isnan(row["lat"]) and np.isnan(row["lon"])  # it sits on the placeholder
    got = counts(log)
    placeholder = [k for k in got if k.startswith("placeholder coordinates")]
    assert placeholder == ["placeholder coordinates (39, -77)"]
    assert got[placeholder[0]] == ((raw["Latitude"] == "39") & (raw["Longitude"] == "-77")).sum() == 885
    assert got["coordinates missing"] == (raw["Latitude"] == "").sum()
    # a real, busy point (39.291328, -76.610353; 42 rows) is kept
    assert ((c["lat"] == 39.291328) & (c["lon"] == -76.610353)).sum() == 42
    # what is left far from Baltimore: 7 rows at (39, -76), too few to call a placeholder, and one stray
    located = c.dropna(subset=["lat"])
    assert (~located["lat"].between(39.1, 39.5)).sum() == 8
    assert got["cancelled"] == raw["SRStatus"].str.contains("Duplicate").sum()
    assert got["never closed"] == ((raw["CloseDate"] == "") & ~raw["SRStatus"].str.contains("Duplicate")).sum()
    assert c["staff"].mean() == pytest.approx((raw["MethodReceived"] == "Internal").mean())
    assert any("%m/%d/%Y %I:%M:%S %p" in n for n in log.notes)


# ---------------------------------------------------------------------------
# every class on a hand-made log


def handmade() -> pd.DataFrame:
    rows = [  # id, created, closed, category, channel, status, lat, lon
        ("1", "2024-01-01 08:00:00", "2024-01-01 10:00:00", "Litter", "Phone", "Closed", "31.20", "121.40"),
        ("1", "2024-01-01 08:00:00", "2024-01-01 10:00:00", "Litter", "Phone", "Closed", "31.20", "121.40"),
        ("1", "2024-01-01 09:00:00", "2024-01-01 11:00:00", "Litter", "Phone", "Closed", "31.20", "121.40"),
        ("2", "", "2024-01-01 11:00:00", "Litter", "Phone", "Closed", "31.21", "121.41"),
        ("3", "yesterday", "2024-01-01 11:00:00", "Litter", "Phone", "Closed", "31.21", "121.41"),
        ("4", "2024-01-01 12:00:00", "", "Noise", "App", "Open", "31.22", "121.42"),
        ("5", "2024-01-01 13:00:00", "soon", "Noise", "App", "Closed", "31.22", "121.42"),
        ("6", "2024-01-01 14:00:00", "2024-01-01 00:00:00", "Noise", "App", "Closed", "31.22", "121.42"),
        ("7", "2024-01-01 15:00:00", "2024-01-01 15:30:00", "Noise", "App", "CANCELLED", "31.22", "121.42"),
        ("8", "2024-01-01 16:00:00", "2024-01-01 16:00:00", "Litter", "Patrol", "Closed", "31.23", "121.43"),
        ("9", "2024-01-01 17:00:00", "2024-01-01 18:00:00", "", "Patrol", "Closed", "abc", "121.43"),
        ("10", "2024-01-01 18:00:00", "2024-01-01 19:00:00", "NULL", "", "Closed", "100", "121.43"),
        ("11", "2024-01-01 19:00:00", "2024-01-02 19:00:00", "Litter", "Phone", "Closed", "0", "0"),
        ("12", "2024-01-01 07:00:00", "2024-01-01 07:30:00", "Litter", "Phone", "Closed", "", ""),
    ]
    return pd.DataFrame(rows, columns=["id", "created", "closed", "category", "channel", "status", "lat", "lon"])


HAND_COLUMNS = {r: r for r in ("id", "created", "closed", "category", "channel", "status", "lat", "lon")}


def test_handmade_every_class() -> None:
    log = read_case_log(handmade(), HAND_COLUMNS, staff_channels=["Patrol"])
    assert log.source == "<DataFrame>" and log.n_read == 14
    check_accounting(log)
    got = counts(log)
    expected = {"exact duplicate row": 1, "created missing": 1, "created unparseable": 1, "duplicate id": 1,
                "outside the window": 0, "closed unparseable": 1, "closed before created": 1, "cancelled": 1,
                "never closed": 1, "closed at creation (zero length)": 1, "closed normally": 5,
                "category missing": 2, "channel missing": 1, "coordinates not numeric": 1,
                "coordinates out of range": 1, "coordinates (0, 0)": 1, "coordinates missing": 1}
    assert {k: got.get(k, 0) for k in expected} == expected
    action = dict(zip(log.rows["class"], log.rows["action"]))
    assert action["closed before created"] == "kept for arrivals, not for closure"
    assert action["closed unparseable"] == "kept for arrivals, not for closure"
    assert action["cancelled"] == "kept for arrivals, not for closure"
    assert action["never closed"] == "censored"
    assert action["exact duplicate row"] == "dropped"
    notes = dict(zip(log.rows["class"], log.rows["note"]))
    assert "'yesterday'" in notes["created unparseable"] and "row 5" in notes["created unparseable"]
    assert "'soon'" in notes["closed unparseable"]
    c = log.cases.set_index("id")
    assert list(log.cases["id"]) == ["12", "1", "4", "5", "6", "7", "8", "9", "10", "11"]  # created order
    assert log.cases.loc[log.cases["id"] == "1", "created"].item() == pd.Timestamp("2024-01-01 08:00")  # first kept
    assert c.loc["4", "censored"] and c.loc["4", "closure_ok"]
    assert c.loc["4", "duration_h"] == pytest.approx(19 - 12)  # open until the window's end, 19:00
    assert np.isnan(c.loc["5", "duration_h"]) and pd.isna(c.loc["5", "closed"]) and not c.loc["5", "closure_ok"]
    assert np.isnan(c.loc["6", "duration_h"]) and not c.loc["6", "closure_ok"]
    assert not c.loc["7", "closure_ok"]
    assert c.loc["8", "duration_h"] == 0 and c.loc["8", "closure_ok"] and c.loc["8", "staff"]
    assert c.loc["1", "duration_h"] == pytest.approx(2.0)
    assert c.loc["9", "category"] == "(missing)" and c.loc["10", "category"] == "(missing)"
    assert c.loc["10", "channel"] == "(missing)"
    for i in ("9", "10", "11", "12"):
        assert np.isnan(c.loc[i, "lat"]) and np.isnan(c.loc[i, "lon"])
    assert c.loc["1", "lat"] == pytest.approx(31.20)
    assert log.window == (pd.Timestamp("2024-01-01 07:00"), pd.Timestamp("2024-01-01 19:00"))
    assert c["area"].isna().all() and c["staff"].sum() == 2
    # cropping on the same log
    log = read_case_log(handmade(), HAND_COLUMNS, window=("2024-01-01 08:00", "2024-01-01 18:30"))
    check_accounting(log)
    assert counts(log)["outside the window"] == 2
    assert log.cases["created"].min() == pd.Timestamp("2024-01-01 08:00")


def test_no_channel_column_and_typed_dataframe() -> None:
    df = pd.DataFrame({"t0": pd.to_datetime(["2024-01-01 08:00", "2024-01-01 09:00", None]),
                       "t1": pd.to_datetime(["2024-01-01 09:00", None, "2024-01-01 10:00"]),
                       "kind": ["a", "b", "c"], "y": [31.2, np.nan, 31.3], "x": [121.4, 121.5, 121.6]})
    log = read_case_log(df, {"created": "t0", "closed": "t1", "category": "kind", "lat": "y", "lon": "x"})
    check_accounting(log)
    got = counts(log)
    assert got["created missing"] == 1 and got["never closed"] == 1 and got["coordinates missing"] == 1
    assert got["no channel column"] == 2 and (log.cases["channel"] == "").all() and not log.cases["staff"].any()
    assert log.cases["lat"].tolist()[0] == 31.2


def test_placeholder_found_generically() -> None:
    rng = np.random.default_rng(7)
    n = 2000
    lat = 31.2 + rng.normal(0, 0.03, n)
    lon = 121.45 + rng.normal(0, 0.03, n)
    lat[:40], lon[:40] = 31.0, 121.0        # integer-valued placeholder, 2% of rows
    lat[40:70], lon[40:70] = 30.0123, 120.5  # far-away placeholder, 1.5%
    lat[70:130], lon[70:130] = 31.2312, 121.4701  # a busy real place (a government office): kept
    df = pd.DataFrame({"c": "2024-01-01 08:00", "d": "2024-01-01 09:00", "k": "a",
                       "lat": lat.round(6).astype(str), "lon": lon.round(6).astype(str),
                       "id": np.arange(n).astype(str)})
    log = read_case_log(df, {"created": "c", "closed": "d", "category": "k", "lat": "lat", "lon": "lon",
                             "id": "id"})
    got = counts(log)
    assert got["placeholder coordinates (31, 121)"] == 40
    assert got["placeholder coordinates (30.0123, 120.5)"] == 30
    assert sum(k.startswith("placeholder") for k in got) == 2
    assert log.cases["lat"].isna().sum() == 70
    assert ((log.cases["lat"] == 31.2312) & (log.cases["lon"] == 121.4701)).sum() == 60


# ---------------------------------------------------------------------------
# timestamps


def one_time(value: str, **kw: object) -> pd.Timestamp:
    df = pd.DataFrame({"c": [value], "d": [""], "k": ["a"]})
    return read_case_log(df, {"created": "c", "closed": "d", "category": "k"}, **kw).cases["created"].iloc[0]


@pytest.mark.parametrize("value, expected", [
    ("2017-12-27 13:36:22", "2017-12-27 13:36:22"),
    ("2017-12-27T13:36:22", "2017-12-27 13:36:22"),
    ("2017-12-27 13:36:22.250", "2017-12-27 13:36:22.250"),
    ("2017-12-27T13:36:22.250000", "2017-12-27 13:36:22.250"),
    ("2017-12-27T13:36:22Z", "2017-12-27 13:36:22"),
    ("2017-12-27T13:36:22+08:00", "2017-12-27 13:36:22"),
    ("04/12/2018 11:11:26 AM", "2018-04-12 11:11:26"),
    ("04/12/2018 11:11:26 PM", "2018-04-12 23:11:26"),
    ("2018/04/12 11:11", "2018-04-12 11:11:00"),
    ("20180412111126", "2018-04-12 11:11:26"),
    ("201804121111", "2018-04-12 11:11:00"),
    ("1523531486", "2018-04-12 11:11:26"),      # Unix epoch seconds (UTC)
    ("1523531486250", "2018-04-12 11:11:26.250"),  # Unix epoch milliseconds
    ("2018年4月12日 11:11:26", "2018-04-12 11:11:26"),
])
def test_time_formats(value: str, expected: str) -> None:
    assert one_time(value) == pd.Timestamp(expected)


def test_time_zones() -> None:
    assert one_time("2017-12-27T13:36:22Z", tz="Asia/Shanghai") == pd.Timestamp("2017-12-27 21:36:22")
    assert one_time("2017-12-27T13:36:22-05:00", tz="Asia/Shanghai") == pd.Timestamp("2017-12-28 02:36:22")
    df = pd.DataFrame({"c": ["2017-12-27T13:36:22+08:00", "2017-12-27T13:36:22-05:00"], "d": "", "k": "a"})
    cols = {"created": "c", "closed": "d", "category": "k"}
    log = read_case_log(df, cols)  # both to the most common offset (a tie: the first), the zone dropped
    assert list(log.cases["created"]) == [pd.Timestamp("2017-12-27 13:36:22"), pd.Timestamp("2017-12-28 02:36:22")]
    assert counts(log)["created time-zone offset dropped"] == 1
    assert counts(log)["created time-zone offset converted"] == 1
    log = read_case_log(df, cols, tz="UTC")
    assert sorted(log.cases["created"]) == [pd.Timestamp("2017-12-27 05:36:22"), pd.Timestamp("2017-12-27 18:36:22")]
    with pytest.raises(CalibrationError, match="Mars/Olympus"):
        read_case_log(df, cols, tz="Mars/Olympus")


def test_mixed_offsets_give_right_durations() -> None:
    # the same instants written +08:00 and Z within a column, and closed in yet another offset
    created = pd.Series(pd.to_datetime(["2024-03-04 09:00", "2024-03-04 10:00", "2024-03-04 11:00",
                                        "2024-03-04 12:00"])).dt.tz_localize("+08:00")
    closed = created + pd.to_timedelta([1, 2, 3, 4], unit="h")
    df = pd.DataFrame({
        "c": [created[0].strftime("%Y-%m-%dT%H:%M:%S+08:00"),
              created[1].tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ"),
              created[2].strftime("%Y-%m-%dT%H:%M:%S+08:00"), created[3].strftime("%Y-%m-%d %H:%M:%S+0800")],
        "d": [t.tz_convert("-05:00").strftime("%Y-%m-%dT%H:%M:%S-05:00") for t in closed], "k": "a"})
    cols = {"created": "c", "closed": "d", "category": "k"}
    log = read_case_log(df, cols)
    check_accounting(log)
    assert list(log.cases["created"]) == list(created.dt.tz_localize(None))  # all in +08:00, the most common
    assert log.cases["duration_h"].tolist() == [1.0, 2.0, 3.0, 4.0]
    got = counts(log)
    assert got["created time-zone offset dropped"] == 3 and got["created time-zone offset converted"] == 1
    assert got["closed time-zone offset converted"] == 4 and got["closed before created"] == 0
    assert "+08:00" in dict(zip(log.rows["class"], log.rows["note"]))["closed time-zone offset converted"]
    log = read_case_log(df, cols, tz="Europe/London")
    assert log.cases["created"].iloc[0] == pd.Timestamp("2024-03-04 01:00")
    assert log.cases["duration_h"].tolist() == [1.0, 2.0, 3.0, 4.0]
    # zone-aware columns in different zones (a DataFrame): closed brought to created's zone
    typed = pd.DataFrame({"c": created.dt.tz_convert("Asia/Shanghai"), "d": closed.dt.tz_convert("UTC"), "k": "a"})
    log = read_case_log(typed, cols)
    assert log.cases["created"].iloc[0] == pd.Timestamp("2024-03-04 09:00")
    assert log.cases["duration_h"].tolist() == [1.0, 2.0, 3.0, 4.0]


def test_epoch_times() -> None:
    created = pd.Series(pd.date_range("2024-03-04 08:00", periods=6, freq="5h"))
    closed = created + pd.Timedelta(minutes=90)
    cols = {"created": "c", "closed": "d", "category": "k"}
    for unit in ("s", "ms"):
        df = pd.DataFrame({"c": created.astype(f"datetime64[{unit}]").astype("int64").astype(str),
                           "d": closed.astype(f"datetime64[{unit}]").astype("int64").astype(str), "k": "a"})
        log = read_case_log(df, cols)
        check_accounting(log)
        assert list(log.cases["created"]) == list(created) and (log.cases["duration_h"] == 1.5).all()
        assert counts(log)["created epoch times read as UTC"] == 6
        log = read_case_log(df, cols, tz="Asia/Shanghai")
        assert log.cases["created"].iloc[0] == pd.Timestamp("2024-03-04 16:00")
    # not epoch seconds (a digit short): refused, naming the column, not read as 1709-05-27 (%Y%m%d)
    df = pd.DataFrame({"c": (created.astype("datetime64[s]").astype("int64") // 1000).astype(str), "d": "", "k": "a"})
    with pytest.raises(CalibrationError, match=r"column 'c' \(created\): no value reads.*9-10 digits"):
        read_case_log(df, cols)
    # 9 digits read as epoch seconds: 1975, refused naming the years
    df = pd.DataFrame({"c": ["170951040", "170961040", "171951040"], "d": "", "k": "a"})
    with pytest.raises(CalibrationError, match=r"column 'c' \(created\): times in the year 1975 .*epoch seconds"):
        read_case_log(df, cols)
    df = pd.DataFrame({"c": ["1899-12-31 08:00"] * 3 + ["2024-01-01 08:00"], "d": "", "k": "a"})
    with pytest.raises(CalibrationError, match="the year 1899"):
        read_case_log(df, cols)


def test_date_only_log() -> None:
    rng = np.random.default_rng(3)
    n = 2000
    day = pd.Timestamp("2024-03-04") + pd.to_timedelta(rng.integers(0, 7, n), unit="D")
    lag = rng.integers(0, 3, n)
    df = pd.DataFrame({"c": day.strftime("%Y-%m-%d"),
                       "d": (day + pd.to_timedelta(lag, unit="D")).strftime("%Y-%m-%d"),
                       "k": rng.choice(["a", "b"], n), "id": np.arange(n).astype(str)})
    df.loc[0, "d"] = (day[0] - pd.Timedelta(days=1)).strftime("%Y-%m-%d")  # closed the day before: stays so
    cols = {"created": "c", "closed": "d", "category": "k"}
    log = read_case_log(df, cols)
    check_accounting(log)
    got = counts(log)
    assert len(log.cases) == n and got["exact duplicate row"] == 0  # same day and category: distinct cases
    assert got["identical rows (date-only times): kept"] > 1000
    assert got["created has dates only: times spread uniformly within the day; the hour-of-day profile "
               "is not fitted"] == n
    assert got["closed has dates only: times spread uniformly within the day"] == n
    assert log.window == (pd.Timestamp("2024-03-04"), pd.Timestamp("2024-03-11"))  # to the end of the last day
    c = log.cases
    assert (c["created"].dt.normalize() == c["created"].dt.floor("D")).all()
    hours = c["created"].dt.hour.value_counts()
    assert len(hours) == 24 and hours.max() < 3 * hours.min()  # flat, not every case at 00:00
    assert (c["created"] == c["created"].dt.floor("s")).all()
    assert got["closed before created"] == 1 and got["closed at creation (zero length)"] == 0
    same = c["closed"].dt.normalize() == c["created"].dt.normalize()
    assert (c.loc[same, "closed"] > c.loc[same, "created"]).all()  # never before created on the same day
    again = read_case_log(df, cols)  # seeded: the same times every time
    assert again.cases["created"].equals(c["created"]) and again.cases["closed"].equals(c["closed"])
    assert any("dates only" in note for note in log.notes)
    # with an id column, identical rows are true duplicates again
    dup = pd.concat([df, df.iloc[:5]], ignore_index=True)
    log = read_case_log(dup, {**cols, "id": "id"})
    assert counts(log)["exact duplicate row"] == 5 and len(log.cases) == n
    # created with dates only, closed with times: created drawn before a same-day closing time
    df2 = pd.DataFrame({"c": ["2024-03-04", "2024-03-04"], "d": ["2024-03-04 00:30:00", "2024-03-06 10:00"],
                        "k": "a"})
    c2 = read_case_log(df2, cols).cases.sort_values("closed")
    assert c2["created"].iloc[0] <= pd.Timestamp("2024-03-04 00:30") and c2["duration_h"].min() >= 0
    # a given window end is an instant: the last day's cases need the day after as the end
    assert read_case_log(df, cols, window=("2024-03-04", "2024-03-11")).n_dropped == 0
    # one time of day anywhere: not a date-only log, nothing drawn
    df3 = pd.DataFrame({"c": ["2024-03-04", "2024-03-05 00:00:00"], "d": "", "k": "a"})
    assert list(read_case_log(df3, cols).cases["created"]) == [pd.Timestamp("2024-03-04"), pd.Timestamp("2024-03-05")]


def test_control_characters_in_names() -> None:
    df = pd.DataFrame({"c": "2024-03-04 08:00", "d": "",
                       "k": ["占道\u2028经营", "cr\rx", "tab\tand  two", "a\x85\x00b", "\x01", "plain  two"],
                       "ch": ["Phone\n", "Phone", "App\x1f", "App", "App", "App"],
                       "ar": ["north\u2029", "north", "", "south", "south", "south"]})
    log = read_case_log(df, {"created": "c", "closed": "d", "category": "k", "channel": "ch", "area": "ar"})
    check_accounting(log)
    c = log.cases
    assert c["category"].tolist() == ["占道 经营", "cr x", "tab and two", "a b", "(missing)", "plain  two"]
    assert c["channel"].tolist() == ["Phone", "Phone", "App", "App", "App", "App"]
    assert c["area"].iloc[0] == "north"
    got = counts(log)
    assert got["category names with control characters cleaned"] == 5
    assert got["channel names with control characters cleaned"] == 2
    assert got["area names with control characters cleaned"] == 1
    assert got["category missing"] == 1
    note = dict(zip(log.rows["class"], log.rows["note"]))["category names with control characters cleaned"]
    assert "'cr\\rx' -> 'cr x'" in note


def test_day_month_order() -> None:
    cols = {"created": "c", "closed": "d", "category": "k"}
    dayfirst = pd.DataFrame({"c": ["03/04/2018 10:00", "25/04/2018 10:00"], "d": "", "k": "a"})
    assert sorted(read_case_log(dayfirst, cols).cases["created"]) == [pd.Timestamp("2018-04-03 10:00"),
                                                                       pd.Timestamp("2018-04-25 10:00")]
    # the sample can't tell, but a value far down the column can (not in the 2,000-value sample)
    many = ["03/04/2018 10:00"] * 5000 + ["25/04/2018 10:00"]
    big = pd.DataFrame({"c": many, "d": "", "k": "a", "id": [str(i) for i in range(len(many))]})
    log = read_case_log(big, {**cols, "id": "id"})
    assert log.cases["created"].iloc[0] == pd.Timestamp("2018-04-03 10:00")
    assert counts(log)["created unparseable"] == 0
    ambiguous = pd.DataFrame({"c": ["03/04/2018 10:00", "05/06/2018 10:00", "07/07/2018 10:00"], "d": "", "k": "a"})
    log = read_case_log(ambiguous, cols)
    assert log.cases["created"].iloc[0] == pd.Timestamp("2018-03-04 10:00")  # month-first
    assert counts(log)["created day/month order ambiguous"] == 2  # 07/07 reads the same both ways
    assert "month-first" in dict(zip(log.rows["class"], log.rows["action"]))["created day/month order ambiguous"]
    log = read_case_log(ambiguous, cols, dayfirst=True)
    assert log.cases["created"].iloc[0] == pd.Timestamp("2018-04-03 10:00")


def test_mixed_iso_precision_in_one_column() -> None:
    df = pd.DataFrame({"c": ["2024-01-01 08:00:00", "2024-01-01 09:00:00.5", "2024-01-02"], "d": "", "k": "a"})
    log = read_case_log(df, {"created": "c", "closed": "d", "category": "k"})
    assert list(log.cases["created"]) == [pd.Timestamp("2024-01-01 08:00"), pd.Timestamp("2024-01-01 09:00:00.5"),
                                          pd.Timestamp("2024-01-02")]


def test_time_column_that_is_not_a_time() -> None:
    df = pd.DataFrame({"c": ["2024-01-01 08:00"], "d": ["Litter"], "k": ["a"]})
    with pytest.raises(CalibrationError) as err:
        read_case_log(df, {"created": "c", "closed": "d", "category": "k"})
    assert "column 'd' (closed)" in str(err.value) and "'Litter'" in str(err.value)


# ---------------------------------------------------------------------------
# parse_columns


def test_parse_columns() -> None:
    assert parse_columns("created=Created Date, closed = Close Date ,category=SR Type,lat=Latitude") == {
        "created": "Created Date", "closed": "Close Date", "category": "SR Type", "lat": "Latitude"}
    assert set(REQUIRED) <= set(ROLES)
    with pytest.raises(CalibrationError) as err:
        parse_columns("crated=a,closed=b,category=c")
    assert "unknown role 'crated'" in str(err.value) and "did you mean 'created'" in str(err.value)
    with pytest.raises(CalibrationError) as err:
        parse_columns("created=a,category=Type, with comma,chanel=x,closed=")
    msg = str(err.value)
    assert "3 problems" in msg and "'with comma'" in msg and "','" in msg
    assert "did you mean 'channel'" in msg and "no column name for role 'closed'" in msg
    with pytest.raises(CalibrationError, match="given twice"):
        parse_columns("created=a,created=b")
    with pytest.raises(CalibrationError, match="empty"):
        parse_columns("  ")


# ---------------------------------------------------------------------------
# bad input


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


SMALL_CSV = ("id,created,closed,category,channel\n"
             "1,2024-01-01 08:00:00,2024-01-01 09:00:00,垃圾,Phone\n"
             "2,2024-01-01 08:30:00,,Noise,Patrol\n")
SMALL_COLUMNS = {"created": "created", "closed": "closed", "category": "category", "channel": "channel", "id": "id"}


def test_encodings_and_delimiters(tmp_path: Path) -> None:
    for name, data in [("utf8.csv", SMALL_CSV.encode("utf-8")),
                       ("bom.csv", SMALL_CSV.encode("utf-8-sig")),
                       ("utf16.csv", SMALL_CSV.encode("utf-16")),  # with a BOM
                       ("semicolon.csv", SMALL_CSV.replace(",", ";").encode("utf-8")),
                       ("tab.tsv", SMALL_CSV.replace(",", "\t").encode("utf-16"))]:
        log = read_case_log(write(tmp_path, name, data), SMALL_COLUMNS, staff_channels=["Patrol"])
        assert log.n_read == 2 and log.cases["category"].tolist() == ["垃圾", "Noise"], name
        assert log.cases["staff"].tolist() == [False, True]
    gbk = write(tmp_path, "gbk.csv", SMALL_CSV.encode("gb18030"))
    with pytest.raises(CalibrationError) as err:
        read_case_log(gbk, SMALL_COLUMNS)
    assert "gbk.csv" in str(err.value) and "not UTF-8" in str(err.value) and "encoding=" in str(err.value)
    assert read_case_log(gbk, SMALL_COLUMNS, encoding="gb18030").cases["category"].iloc[0] == "垃圾"


def test_file_errors(tmp_path: Path) -> None:
    cases = {
        "missing.csv": (None, "file not found"),
        "empty.csv": (b"", "file is empty"),
        "blank.csv": (b"\n\n  \n", "file is empty"),
        "header.csv": (b"id,created,closed,category,channel\n", "header only"),
        "binary.csv": (bytes(range(256)) * 8, "not a text file"),
        "book.csv": (b"PK\x03\x04" + b"\x01" * 100, "Excel"),
    }
    for name, (data, message) in cases.items():
        path = tmp_path / name if data is None else write(tmp_path, name, data)
        with pytest.raises(CalibrationError) as err:
            read_case_log(path, SMALL_COLUMNS)
        assert str(path) in str(err.value) and message in str(err.value), name
        assert err.value.source == str(path)


def test_mapping_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "log.csv", SMALL_CSV.encode())
    with pytest.raises(CalibrationError) as err:
        read_case_log(path, {**SMALL_COLUMNS, "created": "created_at", "lat": "Latitude"})
    msg = str(err.value)
    assert str(path) in msg and "2 problems" in msg
    assert "column 'created_at' (role 'created')" in msg and "did you mean 'created'" in msg
    assert "column 'Latitude' (role 'lat')" in msg and "columns: id, created, closed, category, channel" in msg
    with pytest.raises(CalibrationError) as err:
        read_case_log(path, {"created": "created", "category": "category"})
    assert "role 'closed': required but not mapped" in str(err.value) and str(path) in str(err.value)
    with pytest.raises(CalibrationError) as err:
        read_case_log(path, {"created": "created", "closed": "created", "category": "category"})
    assert "mapped to both 'created' and 'closed'" in str(err.value)
    with pytest.raises(CalibrationError) as err:
        read_case_log(path, {**SMALL_COLUMNS, "opened": "created"})
    assert "unknown role" in str(err.value) and "opened" in str(err.value)
    # surrounding spaces in a header are forgiven
    spaced = write(tmp_path, "spaced.csv", SMALL_CSV.replace("category,", " category ,", 1).encode())
    assert len(read_case_log(spaced, SMALL_COLUMNS).cases) == 2


def test_staff_channel_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "log.csv", SMALL_CSV.encode())
    with pytest.raises(CalibrationError) as err:
        read_case_log(path, SMALL_COLUMNS, staff_channels=["Patorl"])
    msg = str(err.value)
    assert str(path) in msg and "staff channel 'Patorl'" in msg and "did you mean 'Patrol'" in msg
    assert "Phone (1)" in msg and "column 'channel'" in msg
    log = read_case_log(path, SMALL_COLUMNS, staff_channels=["patrol"])  # case is forgiven
    assert log.staff_channels == ("Patrol",)
    no_channel = {k: v for k, v in SMALL_COLUMNS.items() if k != "channel"}
    with pytest.raises(CalibrationError) as err:
        read_case_log(path, no_channel, staff_channels=["Patrol"])
    assert "no channel column is mapped" in str(err.value) and str(path) in str(err.value)


@needs_la
def test_la_misspelt_staff_channel() -> None:
    with pytest.raises(CalibrationError) as err:
        read_case_log(LA, LA_COLUMNS, staff_channels=["Driver Self Reprot"])
    assert "did you mean 'Driver Self Report'" in str(err.value) and LA.name in str(err.value)


def test_parquet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pyarrow")
    csv = write(tmp_path, "log.csv", SMALL_CSV.encode())
    pq = tmp_path / "log.parquet"
    pd.read_csv(csv, dtype=str, keep_default_na=False).to_parquet(pq)
    a = read_case_log(csv, SMALL_COLUMNS).cases
    b = read_case_log(pq, SMALL_COLUMNS).cases
    pd.testing.assert_frame_equal(a, b)
    typed = tmp_path / "typed.pq"  # real timestamp and float columns
    pd.DataFrame({"created": pd.to_datetime(["2024-01-01 08:00"]), "closed": pd.to_datetime([None]),
                  "category": ["a"], "lat": [31.2], "lon": [121.4]}).to_parquet(typed)
    log = read_case_log(typed, {"created": "created", "closed": "closed", "category": "category",
                                "lat": "lat", "lon": "lon"})
    assert log.cases["censored"].item() and log.cases["lat"].item() == 31.2
    with pytest.raises(CalibrationError) as err:
        read_case_log(pq, {**SMALL_COLUMNS, "area": "district"})
    assert "log.parquet" in str(err.value) and "column 'district' (role 'area')" in str(err.value)
    fake = write(tmp_path, "fake.parquet", SMALL_CSV.encode())
    with pytest.raises(CalibrationError) as err:
        read_case_log(fake, SMALL_COLUMNS)
    assert "fake.parquet" in str(err.value) and "Parquet" in str(err.value)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)  # as if pyarrow were not installed
    with pytest.raises(CalibrationError) as err:
        read_case_log(pq, SMALL_COLUMNS)
    assert 'pip install "govsim[parquet]"' in str(err.value) and "log.parquet" in str(err.value)


def test_no_usable_rows() -> None:
    df = pd.DataFrame({"c": ["", "NULL"], "d": ["", ""], "k": ["a", "b"]})
    with pytest.raises(CalibrationError) as err:
        read_case_log(df, {"created": "c", "closed": "d", "category": "k"})
    assert "<DataFrame>" in str(err.value) and "no usable rows" in str(err.value)
    assert "created missing 2" in str(err.value)
