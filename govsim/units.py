"""Quantities with units in scenario files.

Time inside govsim is measured in **float hours**. Scenario files must state
units explicitly (``"15min"``, ``"2h"``, ``"1d"``); the only bare number that is
accepted as a duration is zero. Times of day are ``"HH:MM"`` strings.

Errors raise :class:`UnitError` with a short message that does not contain the
location of the value: callers prefix the field path.
"""

from __future__ import annotations

import math
import numbers
import re

__all__ = [
    "HOURS_PER_DAY",
    "UnitError",
    "parse_duration",
    "parse_clock",
    "format_duration",
]

HOURS_PER_DAY = 24.0

#: Hours per unit, keyed by every accepted (lower-case) spelling.
_UNIT_HOURS: dict[str, float] = {}
for _names, _hours in (
    (("s", "sec", "secs", "second", "seconds"), 1.0 / 3600.0),
    (("min", "mins", "minute", "minutes"), 1.0 / 60.0),
    (("h", "hr", "hrs", "hour", "hours"), 1.0),
    (("d", "day", "days"), HOURS_PER_DAY),
    (("w", "wk", "wks", "week", "weeks"), 7.0 * HOURS_PER_DAY),
):
    for _name in _names:
        _UNIT_HOURS[_name] = _hours
del _names, _hours, _name

_EXPECTED = "expected a duration with a unit such as '15min', '2h' or '1d'"
_DURATION_RE = re.compile(
    r"^\s*(?P<num>[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(?P<unit>[A-Za-z]*)\s*$",
    re.ASCII,  # only the digits 0-9: a full-width '２h' is refused, not read as 2 h
)
_CLOCK_RE = re.compile(r"^\s*(?P<h>\d{1,2}):(?P<m>\d{2})\s*$", re.ASCII)

#: Units used by :func:`format_duration`, largest first.
_FORMAT_UNITS: tuple[tuple[str, float], ...] = (
    ("w", 7.0 * HOURS_PER_DAY),
    ("d", HOURS_PER_DAY),
    ("h", 1.0),
    ("min", 1.0 / 60.0),
    ("s", 1.0 / 3600.0),
)


class UnitError(ValueError):
    """A value could not be read as a quantity with a unit."""


def _show(value: object) -> str:
    """Display ``value`` in a message (numpy scalars as plain numbers)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return str(int(value))
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return repr(float(value))
    return repr(value)


def parse_duration(value: object, *, allow_bare_zero: bool = True) -> float:
    """Parse a duration such as ``"15min"`` or ``"1.5 h"`` into hours.

    Accepted units: ``s/sec/second(s)``, ``min/minute(s)``, ``h/hr/hour(s)``,
    ``d/day(s)``, ``w/week(s)`` (case-insensitive). A bare ``0`` (number or
    string) is accepted when ``allow_bare_zero`` is true; any other bare number,
    a negative or non-finite duration, or a ``bool`` raises :class:`UnitError`.
    """
    if isinstance(value, bool) or not isinstance(value, (str, numbers.Real)):
        raise UnitError(f"{_EXPECTED}, got {_show(value)}")
    if isinstance(value, numbers.Real):
        if value == 0 and allow_bare_zero:
            return 0.0
        raise UnitError(f"{_EXPECTED}, got {_show(value)}")

    match = _DURATION_RE.match(value)
    if match is None:
        raise UnitError(f"{_EXPECTED}, got {value!r}")
    number = float(match["num"])
    unit = match["unit"]
    if not unit:
        if number == 0 and allow_bare_zero:
            return 0.0
        raise UnitError(f"{_EXPECTED}, got {value!r}")
    hours_per_unit = _UNIT_HOURS.get(unit.lower())
    if hours_per_unit is None:
        raise UnitError(
            f"{_EXPECTED}, got {value!r} (unknown unit {unit!r}; use s, min, h, d or w)"
        )
    hours = number * hours_per_unit
    if not math.isfinite(hours):
        raise UnitError(f"expected a finite duration, got {value!r}")
    if hours < 0:
        raise UnitError(f"expected a non-negative duration, got {value!r}")
    from govsim.limits import current, exceeds  # lazy: limits imports params, which imports units

    longest = current().duration
    if hours > longest:
        raise UnitError(exceeds("duration", repr(value), format_duration(longest)))
    return hours + 0.0  # normalise -0.0


def parse_clock(value: object) -> float:
    """Parse a time of day ``"HH:MM"`` (``"00:00"`` to ``"24:00"``) into hours since midnight.

    Numbers are rejected: YAML 1.1 reads an unquoted ``17:30`` as the integer
    1050 (minutes), so the message asks for the value to be quoted.
    """
    if isinstance(value, str):
        match = _CLOCK_RE.match(value)
        if match is not None:
            h, m = int(match["h"]), int(match["m"])
            if m < 60 and (h < 24 or (h == 24 and m == 0)):
                return h + m / 60.0
        raise UnitError(f"expected a time of day between '00:00' and '24:00', got {value!r}")
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        minutes = int(value)
        if 0 <= minutes <= 24 * 60:
            hint = f"{minutes // 60:02d}:{minutes % 60:02d}"
            raise UnitError(
                f"expected a time of day as a quoted string such as \"08:00\", got {minutes} "
                f"(YAML reads an unquoted {minutes // 60}:{minutes % 60:02d} as a number; "
                f"write \"{hint}\" in quotes)"
            )
    raise UnitError(
        f"expected a time of day as a quoted string such as \"08:00\", got {_show(value)}"
    )


def _strip_number(x: float, decimals: int) -> str:
    text = f"{x:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def format_duration(hours: float) -> str:
    """Format a duration in hours compactly, e.g. ``0.25 -> "15min"``, ``48 -> "2d"``.

    Picks the largest unit (w, d, h, min, s) in which the value is at least
    one (weeks only for values like ``2w``). The value is shown there if it has
    at most one decimal (``1.5h``, ``1.5d``), else in the next smaller unit if
    whole there (``30h``, ``135min``), else with six significant digits
    (``13.37h``, ``1.23457h``). The result parses back with
    :func:`parse_duration` to within a relative 5e-6 when ``hours >= 0``.
    """
    hours = float(hours)
    if math.isnan(hours):
        return "nan"
    if hours < 0:
        return "-" + format_duration(-hours)
    if math.isinf(hours):
        return "inf"
    if hours == 0:
        return "0"
    index = next(
        (i for i, (_, size) in enumerate(_FORMAT_UNITS) if hours / size >= 1.0 - 1e-9),
        None,
    )
    if index == 0 and not _is_multiple(hours / _FORMAT_UNITS[0][1], 0.1):
        index = 1  # weeks only when they read naturally ("2w", "1.5w")
    if index is None:  # under one second
        return f"{hours * 3600.0:.6g}s"
    unit, size = _FORMAT_UNITS[index]
    amount = hours / size
    if _is_multiple(amount, 0.1):
        return _strip_number(amount, 1) + unit
    if index + 1 < len(_FORMAT_UNITS):
        smaller, small_size = _FORMAT_UNITS[index + 1]
        if _is_multiple(hours / small_size, 1.0):
            return _strip_number(hours / small_size, 0) + smaller
    return f"{amount:.6g}{unit}"


def _is_multiple(x: float, step: float) -> bool:
    """Whether ``x`` is (up to rounding noise) a whole multiple of ``step``."""
    k = round(x / step)
    return math.isclose(x, k * step, rel_tol=1e-9, abs_tol=1e-9)
