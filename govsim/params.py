"""Typed parameter fields shared by scenarios, policies and governance mechanisms.

A parameter class (a scenario section, a policy's ``Params``, a mechanism's
config) is a frozen dataclass whose field annotations say how a value in a
scenario file is read; :func:`govsim.scenario.convert.build` does the reading.
This module holds the annotations and small building blocks they share, so a
policy can declare its parameters without importing the scenario package:

* :data:`Duration`, :data:`Clock`, :data:`Dist`, :data:`NumberDist`: values
  that need parsing (``"15min"``, ``"08:00"``, a distribution spec), declared
  as ``Annotated[T, Parser(...)]``; add more with :class:`Parser`.
* :func:`doc`: a field's metadata (description, unit, bounds).
* :class:`HoursConfig` (alias :data:`ShiftConfig`), :data:`Weekday`,
  :data:`WEEKDAYS`, :func:`office_hours`, :func:`hours_overlap`: daily hours on
  some weekdays (a shift, opening hours, a volunteer's duty)::

      @dataclass(frozen=True)
      class Params:
          handling: Dist = field(default=Fixed(0.5), metadata=doc("time to handle an issue", "h"))
          hours: list[HoursConfig] = field(default_factory=office_hours, metadata=doc("staff hours"))

This module imports only :mod:`govsim.distributions`, :mod:`govsim.units` and
:mod:`govsim.schedule` (never :mod:`govsim.scenario`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import numpy as np

from govsim.distributions import _DIMENSIONLESS, Distribution, Fixed, parse_distribution, parse_number
from govsim.schedule import WeeklyHours
from govsim.units import format_duration, parse_clock, parse_duration

__all__ = [
    "WEEKDAYS",
    "Clock",
    "Dist",
    "Duration",
    "HoursConfig",
    "NumberDist",
    "Parser",
    "ShiftConfig",
    "Weekday",
    "doc",
    "hours_overlap",
    "office_hours",
]


# --------------------------------------------------------------------------- parsed values


@dataclass(frozen=True)
class Parser:
    """Marker for ``Annotated[T, Parser(func, expected)]``: the raw value is parsed by ``func``.

    ``func(raw)`` returns the typed value or raises ``ValueError`` (or
    ``TypeError``); the exception message becomes the problem message at the
    field's path. A message that starts with a sub-key (``"sd: must be > 0"``)
    for a mapping or list value is reported at that sub-path
    (``...handling.sd``).

    ``expected`` completes "expected ..." (``"a duration such as '2h'"``);
    ``name`` is the short type name in the reference and in bound messages
    (``"duration"``); ``fmt`` turns a parsed value back into plain data as it
    would be written in a file (used to show defaults and bounds).
    """

    func: Callable[[Any], Any]
    expected: str
    name: str | None = None
    fmt: Callable[[Any], Any] | None = None

    @property
    def label(self) -> str:
        return self.name or self.expected


def _fmt_duration(hours: float) -> Any:
    return 0 if hours == 0 else format_duration(hours)


def _fmt_clock(hours: float) -> str:
    minutes = int(round(float(hours) * 60.0))
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _fmt_number(x: float) -> Any:
    x = float(x)
    return int(x) if x.is_integer() and abs(x) < 1e15 else x


def _fmt_dist(dist: Any, value_fmt: Callable[[float], Any]) -> Any:
    """A distribution as written in a file, its values shown with ``value_fmt``.

    Anything that is not a :class:`Distribution` is returned as it is (the
    caller makes it plain data).
    """
    if not isinstance(dist, Distribution):
        return dist
    if isinstance(dist, Fixed):
        return value_fmt(dist.value)
    out: dict[str, Any] = {}
    for key, value in dist.spec().items():
        if key == "dist" or key in _DIMENSIONLESS:  # plain numbers whatever the values are
            out[key] = list(value) if isinstance(value, (list, tuple)) else value
        elif key == "of":
            out[key] = _fmt_dist(getattr(dist, "of"), value_fmt)
        elif isinstance(value, (list, tuple)):
            out[key] = [value_fmt(v) for v in value]
        else:
            out[key] = value_fmt(value)
    return out


def _parse_number_dist(spec: Any) -> Distribution:
    return parse_distribution(spec, value_parser=parse_number)


#: A duration with a unit (``"15min"``, ``"2h"``, ``"1d"``), in float hours.
Duration = Annotated[
    float,
    Parser(
        parse_duration,
        "a duration such as '15min', '2h' or '1d'",
        name="duration",
        fmt=_fmt_duration,
    ),
]

#: A time of day ``"HH:MM"``, in float hours since midnight.
Clock = Annotated[
    float,
    Parser(parse_clock, 'a time of day such as "08:00"', name="time of day", fmt=_fmt_clock),
]

#: A distribution of durations: ``"15min"`` or ``{dist: lognormal, mean: 20min, sd: 10min}``.
Dist = Annotated[
    Distribution,
    Parser(
        parse_distribution,
        "a duration such as '15min' or a distribution such as "
        "{dist: lognormal, mean: 20min, sd: 10min}",
        name="duration or distribution",
        fmt=functools.partial(_fmt_dist, value_fmt=_fmt_duration),
    ),
]

#: A distribution of plain numbers: ``300`` or ``{dist: uniform, low: 20, high: 80}``.
NumberDist = Annotated[
    Distribution,
    Parser(
        _parse_number_dist,
        "a number such as 300 or a distribution such as {dist: uniform, low: 20, high: 80}",
        name="number or distribution",
        fmt=functools.partial(_fmt_dist, value_fmt=_fmt_number),
    ),
]


# --------------------------------------------------------------------------- field metadata


def doc(text: str, unit: str | None = None, **bounds: float) -> dict[str, Any]:
    """Metadata of a parameter field: its description, unit and numeric bounds.

    ``bounds`` are ``ge``, ``gt``, ``le``, ``lt`` (checked when a file is read,
    and shown in the reference), e.g.
    ``field(default=2.0, metadata=doc("walking speed", "km/h", gt=0))``.
    """
    meta: dict[str, Any] = {"doc": text, **bounds}
    if unit:
        meta["unit"] = unit
    return meta


# --------------------------------------------------------------------------- weekly hours

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
#: Weekday names in order; day 0 of a run is a Monday.
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class HoursConfig:
    """Daily hours on some weekdays: a shift (班次), opening hours, a volunteer's duty."""

    start: Clock = field(default=8.0, metadata=doc("start time of day", "h"))
    end: Clock = field(default=17.0, metadata=doc("end time of day (earlier than start: ends next day)", "h"))
    days: list[Weekday] = field(
        default_factory=lambda: list(WEEKDAYS), metadata=doc("weekdays (day 0 of a run is a Monday)"),
    )

    def _check(self) -> list[tuple[str, str]]:
        problems = []
        if self.start == self.end:
            problems.append(("end", "expected a positive length (start == end)"))
        if not self.days:
            problems.append(("days", "expected at least one weekday"))
        return problems

    def weekly(self) -> WeeklyHours:
        return WeeklyHours(self.start, self.end, [WEEKDAYS.index(d) for d in self.days])


ShiftConfig = HoursConfig


def office_hours() -> list[HoursConfig]:
    """Office hours (办公时间), Monday to Friday 09:00–17:00: a ``default_factory``."""
    return [HoursConfig(start=9.0, end=17.0, days=["mon", "tue", "wed", "thu", "fri"])]


def hours_overlap(hours: list[HoursConfig] | None) -> list[tuple[str, str]]:
    """A problem if two entries of a list of opening hours overlap (each entry puts the
    whole staff on duty, so an overlap would count them twice)."""
    if not hours or len(hours) < 2:
        return []
    week = np.zeros(7 * 24 * 60, dtype=np.int8)
    for h in hours:
        length = round(((h.end - h.start) % 24.0 or 24.0) * 60)
        for d in h.days:
            start = WEEKDAYS.index(d) * 1440 + round(h.start * 60)
            week[np.arange(start, start + length) % len(week)] += 1
    if week.max() > 1:
        minute = int(np.argmax(week > 1))
        day, rest = divmod(minute, 1440)
        return [("hours", f"entries overlap (e.g. on {WEEKDAYS[day]} at {rest // 60:02d}:{rest % 60:02d}); "
                          "each entry puts the whole staff on duty, so merge them")]
    return []
