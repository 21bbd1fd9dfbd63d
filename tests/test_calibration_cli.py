"""`govsim calibrate` and `govsim check-fit` on a real case log (Los Angeles 311), and every
class of bad request → one message naming the file and the column, exit 2."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from govsim.cli import main

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "service-requests"
LA = DATA / "la311_2017-12-27_2018-01-04.csv"
COLUMNS = ("created=created,closed=closed,category=category,channel=channel,lat=lat,lon=lon,"
           "area=area_nc,status=status,id=request_id")
STAFF = "Driver Self Report"
FIRST = ",2017-12-31 23:59:59"  # the first window of the log: 27 Dec 13:36 to 31 Dec

needs_la = pytest.mark.skipif(not LA.is_file(), reason=f"the shared case logs are not at {DATA}")


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("la") / "la.yaml"
    code = main(["calibrate", str(LA), "--columns", COLUMNS, "--staff-channels", STAFF, "--areas",
                 "--window", FIRST, "--seed", "1", "--out", str(out)])
    assert code == 0
    return out


@needs_la
def test_calibrate_writes_a_valid_scenario(calibrated, capsys) -> None:
    text = calibrated.read_text(encoding="utf-8")
    assert "Bulky Items:" in text and "# per 1,000 households per day" in text
    assert "closed before created: 12 (kept for arrivals, not for closure)" in text
    assert main(["validate", str(calibrated)]) == 0
    capsys.readouterr()
    assert main(["run", str(calibrated), "--set", "horizon=8d", "--set", "warmup=1d"]) == 0
    assert "Issues" in capsys.readouterr().out


@needs_la
def test_calibrated_la_reproduces_its_window(calibrated, capsys) -> None:
    """In sample (the window it was fitted on) the bar of the issue holds for the volume,
    the category mix, the staff share and the closure times of the largest categories."""
    assert main(["check-fit", str(calibrated), str(LA), "--columns", COLUMNS, "--staff-channels", STAFF,
                 "--window", FIRST, "-n", "2"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split()[-1] for line in out.splitlines()[1:] if line.strip()
            and not line.split()[0].isdigit()}
    for stat in ("category_mix_tvd", "daily_volume", "staff_share", "closure_p50[Bulky", "closure_p90[Bulky"):
        assert rows.get(stat) == "True", (stat, out)


@needs_la
@pytest.mark.parametrize("args, words", [
    (["--columns", "created=opened,closed=closed,category=category"], ["opened", "created"]),
    (["--columns", "created=created,closed=closed,category=category,channel=channel",
      "--staff-channels", "Driver Self Reprot"], ["Driver Self Reprot", "did you mean"]),
    (["--columns", "created=created,closed=closed"], ["category"]),
    (["--columns", COLUMNS, "--window", "2017-12-27"], ["--window"]),
    (["--columns", "created=created,closed=closed,category=category", "--areas"], ["area=COL"]),
])
def test_bad_requests_exit_2_with_one_message(tmp_path, capsys, args, words) -> None:
    code = main(["calibrate", str(LA), *args, "--out", str(tmp_path / "x.yaml"), "--no-simulation"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("error: ") and "Traceback" not in err
    for w in words:
        assert w in err, err


def test_missing_file_exits_2(tmp_path, capsys) -> None:
    code = main(["calibrate", str(tmp_path / "nope.csv"), "--columns",
                 "created=a,closed=b,category=c", "--out", str(tmp_path / "x.yaml")])
    err = capsys.readouterr().err
    assert code == 2 and "nope.csv" in err


def test_a_log_with_no_usable_rows_exits_2(tmp_path, capsys) -> None:
    path = tmp_path / "cases.csv"
    pd.DataFrame({"a": ["not a time", ""], "b": ["", ""], "c": ["x", "y"]}).to_csv(path, index=False)
    code = main(["calibrate", str(path), "--columns", "created=a,closed=b,category=c",
                 "--out", str(tmp_path / "x.yaml")])
    err = capsys.readouterr().err
    assert code == 2 and "cases.csv" in err, err
