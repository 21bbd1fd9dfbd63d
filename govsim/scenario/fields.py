"""Building blocks shared by the scenario sections: field documentation and weekly hours."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from govsim.scenario.convert import Clock
from govsim.schedule import WeeklyHours

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _doc(text: str, unit: str | None = None, **bounds: float) -> dict[str, Any]:
    meta: dict[str, Any] = {"doc": text, **bounds}
    if unit:
        meta["unit"] = unit
    return meta


@dataclass(frozen=True)
class HoursConfig:
    """Daily hours on some weekdays: a shift (班次), opening hours, a volunteer's duty."""

    start: Clock = field(default=8.0, metadata=_doc("start time of day", "h"))
    end: Clock = field(default=17.0, metadata=_doc("end time of day (earlier than start: ends next day)", "h"))
    days: list[Weekday] = field(
        default_factory=lambda: list(WEEKDAYS), metadata=_doc("weekdays (day 0 of a run is a Monday)"),
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
