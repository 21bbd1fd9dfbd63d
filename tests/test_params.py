from __future__ import annotations

import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from govsim import params
from govsim.distributions import Fixed, LogNormal
from govsim.params import (
    WEEKDAYS,
    Clock,
    Dist,
    Duration,
    HoursConfig,
    NumberDist,
    ShiftConfig,
    doc,
    hours_overlap,
    office_hours,
)
from govsim.scenario.convert import build, format_dist, format_hours, reference_markdown
from govsim.scenario.errors import ScenarioError

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class DeskParams:
    """Parameters of a made-up policy, declared with govsim.params only."""

    handling: Dist = field(default_factory=lambda: LogNormal(0.5, 0.25), metadata=doc("time per case", "h"))
    households: NumberDist = field(default_factory=lambda: Fixed(300.0), metadata=doc("households"))
    delay: Duration = field(default=0.25, metadata=doc("delay before the desk acts", "h", gt=0))
    opens: Clock = field(default=9.0, metadata=doc("opening time", "h"))
    hours: list[HoursConfig] = field(default_factory=office_hours, metadata=doc("staff hours"))

    def _check(self) -> list[tuple[str, str]]:
        return hours_overlap(self.hours)


def messages(data: object) -> dict[str, str]:
    with pytest.raises(ScenarioError) as info:
        build(DeskParams, data, path="policies.desk")
    return {p.path: p.message for p in info.value.problems}


# --------------------------------------------------------------------------- import graph


def test_params_does_not_import_the_scenario_package() -> None:
    # govsim/__init__.py imports the whole package, so load govsim.params on its own
    code = textwrap.dedent(f"""
        import sys, types
        pkg = types.ModuleType("govsim")
        pkg.__path__ = [{str(ROOT / "govsim")!r}]
        sys.modules["govsim"] = pkg
        import govsim.params
        print(" ".join(sorted(m for m in sys.modules if m.startswith("govsim"))))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert "govsim.params" in out
    assert not [m for m in out if m.startswith(("govsim.scenario", "govsim.policies", "govsim.agents"))]


def test_scenario_modules_re_export_the_same_objects() -> None:
    from govsim.scenario import convert, fields, schema

    for name in ("Parser", "Duration", "Clock", "Dist", "NumberDist"):
        assert getattr(convert, name) is getattr(params, name)
    for name in ("WEEKDAYS", "Weekday", "HoursConfig", "ShiftConfig", "hours_overlap", "office_hours", "doc"):
        assert getattr(fields, name) is getattr(params, name)
    assert fields._doc is params.doc
    for name in ("WEEKDAYS", "HoursConfig", "ShiftConfig", "Dist", "Duration", "NumberDist", "hours_overlap"):
        assert getattr(schema, name) is getattr(params, name)


# --------------------------------------------------------------------------- building blocks


def test_doc_builds_field_metadata() -> None:
    assert doc("walking speed", "km/h", gt=0) == {"doc": "walking speed", "gt": 0, "unit": "km/h"}
    assert doc("households") == {"doc": "households"}


def test_office_hours_are_monday_to_friday_nine_to_five() -> None:
    hours = office_hours()
    assert hours == [HoursConfig(start=9.0, end=17.0, days=["mon", "tue", "wed", "thu", "fri"])]
    assert hours[0].weekly().hours_between(0.0, 7 * 24.0) == pytest.approx(40.0)
    assert office_hours() is not hours  # a fresh list for each default


def test_weekdays_and_shift_alias() -> None:
    assert WEEKDAYS == ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    assert ShiftConfig is HoursConfig
    assert HoursConfig(start=22.0, end=6.0, days=["sat"]).weekly().hours_between(0.0, 7 * 24.0) == 8.0


def test_hours_overlap() -> None:
    morning = HoursConfig(start=8.0, end=12.0, days=["mon"])
    afternoon = HoursConfig(start=12.0, end=17.0, days=["mon"])
    assert hours_overlap([morning, afternoon]) == []
    assert hours_overlap(None) == [] and hours_overlap([morning]) == []
    late = HoursConfig(start=11.0, end=13.0, days=["mon"])
    assert hours_overlap([morning, late]) == [
        ("hours", "entries overlap (e.g. on mon at 11:00); each entry puts the whole staff on duty, so merge them")]
    overnight = HoursConfig(start=22.0, end=9.0, days=["sun"])  # runs into Monday morning
    assert hours_overlap([morning, overnight])[0][1].startswith("entries overlap (e.g. on mon at 08:00)")


# --------------------------------------------------------------------------- fields in a parameter class


def test_parameter_class_builds_from_a_file_mapping() -> None:
    desk = build(DeskParams, {
        "handling": {"dist": "lognormal", "mean": "20min", "sd": "10min"},
        "households": {"dist": "uniform", "low": 20, "high": 80},
        "delay": "5min",
        "opens": "08:30",
        "hours": [{"start": "08:00", "end": "12:00", "days": ["sat"]}],
    })
    assert desk.handling == LogNormal(1 / 3, 1 / 6)
    assert desk.households.spec() == {"dist": "uniform", "low": 20.0, "high": 80.0}
    assert desk.delay == pytest.approx(5 / 60) and desk.opens == 8.5
    assert desk.hours == [HoursConfig(start=8.0, end=12.0, days=["sat"])]
    assert build(DeskParams, {}) == DeskParams()


def test_parameter_class_reports_every_problem_with_its_path() -> None:
    assert messages({
        "handling": {"dist": "lognormal", "mean": "20min", "sd": "-1h"},
        "delay": "0min",
        "opens": "25:00",
        "hours": [{"start": "08:00", "end": "12:00"}, {"start": "8h", "days": ["mo"]}],
        "hourz": [],
    }) == {
        "policies.desk.hourz": "unknown key; did you mean 'hours'?",
        "policies.desk.handling.sd": "expected a non-negative duration, got '-1h'",
        "policies.desk.delay": "expected a duration > 0, got '0min'",
        "policies.desk.opens": "expected a time of day between '00:00' and '24:00', got '25:00'",
        "policies.desk.hours[1].start": "expected a time of day between '00:00' and '24:00', got '8h'",
        "policies.desk.hours[1].days[0]": (
            "expected one of 'mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun', got 'mo'; did you mean 'mon'?"),
    }


def test_cross_field_check_of_hours() -> None:
    found = messages({"hours": [{"start": "08:00", "end": "12:00"}, {"start": "11:00", "end": "13:00"}]})
    assert found == {"policies.desk.hours": "entries overlap (e.g. on mon at 11:00); each entry puts the whole "
                                            "staff on duty, so merge them"}


def test_formatting_back_to_file_values() -> None:
    assert format_dist(LogNormal(0.5, 0.25)) == {"dist": "lognormal", "mean": "30min", "sd": "15min"}
    assert format_dist(Fixed(0.0)) == 0
    assert format_hours(HoursConfig(start=8.5, end=17.0, days=["mon"])) == {
        "start": "08:30", "end": "17:00", "days": ["mon"]}


def test_reference_shows_types_defaults_and_bounds() -> None:
    text = reference_markdown(DeskParams)
    assert "| `delay` | duration > 0 | `15min` | h | delay before the desk acts |" in text
    assert '| `opens` | time of day | `"09:00"` | h | opening time |' in text
    assert "`{dist: lognormal, mean: 30min, sd: 15min}`" in text
    assert "`hours[].days`" in text
