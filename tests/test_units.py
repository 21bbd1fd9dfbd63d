from __future__ import annotations

import numpy as np
import pytest
import yaml

from govsim.units import (
    HOURS_PER_DAY,
    UnitError,
    format_duration,
    parse_clock,
    parse_duration,
)


@pytest.mark.parametrize(
    ("text", "hours"),
    [
        ("30s", 30 / 3600),
        ("15min", 0.25),
        ("15 min", 0.25),
        ("2h", 2.0),
        ("1.5h", 1.5),
        ("1d", 24.0),
        ("2w", 336.0),
        ("90 sec", 90 / 3600),
        ("1 second", 1 / 3600),
        ("10 seconds", 10 / 3600),
        ("1 minute", 1 / 60),
        ("5 minutes", 5 / 60),
        ("3hr", 3.0),
        ("1 hour", 1.0),
        ("4 hours", 4.0),
        ("2 days", 48.0),
        ("1 day", 24.0),
        ("1 week", 168.0),
        ("3 weeks", 504.0),
        (".5h", 0.5),
        ("1e1min", 10 / 60),
        ("  2H ", 2.0),
        ("0min", 0.0),
    ],
)
def test_parse_duration_units(text: str, hours: float) -> None:
    assert parse_duration(text) == pytest.approx(hours, rel=1e-12)


@pytest.mark.parametrize("zero", [0, 0.0, "0", "0.0", np.int64(0)])
def test_bare_zero_allowed(zero: object) -> None:
    assert parse_duration(zero) == 0.0


@pytest.mark.parametrize("zero", [0, "0"])
def test_bare_zero_can_be_disallowed(zero: object) -> None:
    with pytest.raises(UnitError, match="expected a duration with a unit"):
        parse_duration(zero, allow_bare_zero=False)
    assert parse_duration("0h", allow_bare_zero=False) == 0.0


def test_bare_number_message() -> None:
    with pytest.raises(UnitError) as info:
        parse_duration(7)
    assert str(info.value) == (
        "expected a duration with a unit such as '15min', '2h' or '1d', got 7"
    )


@pytest.mark.parametrize("bad", [7, 1.5, "7", "2.5", np.float64(3.0), True, False, None, [1], "h", ""])
def test_parse_duration_rejects_unitless_and_non_values(bad: object) -> None:
    with pytest.raises(UnitError, match="expected a duration with a unit"):
        parse_duration(bad)


def test_parse_duration_rejects_negative_and_unknown_unit() -> None:
    with pytest.raises(UnitError, match="non-negative"):
        parse_duration("-5min")
    with pytest.raises(UnitError, match="unknown unit 'm'"):
        parse_duration("5m")
    with pytest.raises(UnitError, match="unknown unit 'parsecs'"):
        parse_duration("3 parsecs")


def test_unit_error_is_value_error_without_path() -> None:
    assert issubclass(UnitError, ValueError)
    with pytest.raises(UnitError) as info:
        parse_duration("abc")
    assert ":" not in str(info.value).split(",")[0]


@pytest.mark.parametrize(
    ("text", "hours"),
    [("00:00", 0.0), ("08:00", 8.0), ("8:00", 8.0), ("17:30", 17.5), ("23:59", 23 + 59 / 60), ("24:00", 24.0)],
)
def test_parse_clock(text: str, hours: float) -> None:
    assert parse_clock(text) == pytest.approx(hours)


@pytest.mark.parametrize("bad", ["24:01", "25:00", "12:60", "12", "noon", "12:5", True, 8.0, None])
def test_parse_clock_rejects(bad: object) -> None:
    with pytest.raises(UnitError, match="time of day"):
        parse_clock(bad)


def test_parse_clock_unquoted_yaml_asks_for_quotes() -> None:
    value = yaml.safe_load("start: 17:30")["start"]
    assert value == 1050  # YAML 1.1 sexagesimal
    with pytest.raises(UnitError, match=r'quoted.*"17:30"'):
        parse_clock(value)
    assert parse_clock(yaml.safe_load('start: "17:30"')["start"]) == 17.5


@pytest.mark.parametrize(
    ("hours", "text"),
    [
        (0.0, "0"),
        (0.25, "15min"),
        (2.0, "2h"),
        (48.0, "2d"),
        (1.5, "1.5h"),
        (36.0, "1.5d"),
        (168.0, "1w"),
        (240.0, "10d"),
        (30 / 3600, "30s"),
        (0.5 / 60, "30s"),
        (2.25, "135min"),
        (30.0, "30h"),
        (13.37, "13.37h"),
        (1.2345678, "1.23457h"),
        (0.1, "6min"),
        (1 / 7200, "0.5s"),
        (100.0, "100h"),
        (-2.0, "-2h"),
    ],
)
def test_format_duration(hours: float, text: str) -> None:
    assert format_duration(hours) == text


@pytest.mark.parametrize(
    "hours", [0.25, 1.5, 2, 48, 336, 0.1, 7 / 60, 1 / 3600, 13.37, 1000.0, 100 / 3, 0.1234567, 1e-6]
)
def test_format_duration_round_trips(hours: float) -> None:
    assert parse_duration(format_duration(hours)) == pytest.approx(hours, rel=5e-6)


def test_hours_per_day() -> None:
    assert HOURS_PER_DAY == 24.0
