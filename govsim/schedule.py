"""Weekly hours: shifts of workers, opening hours of rooms and departments.

Day 0 of a run is a Monday; ``days`` are weekday numbers (0 = Monday).
"""

from __future__ import annotations

import math
from collections.abc import Sequence


class WeeklyHours:
    """Daily hours ``start``–``end`` (hours of the day; ``end < start`` runs past midnight)
    on some weekdays."""

    def __init__(self, start: float, end: float, days: Sequence[int] = range(7)) -> None:
        self.start = start % 24.0
        self.length = (end - start) % 24.0 or 24.0
        self.days = frozenset(days)
        if not self.days:
            raise ValueError("weekly hours need at least one day")

    def window(self, t: float) -> tuple[float, float]:
        """``(start, end)`` of the window in progress at ``t``, or else of the next one."""
        day = math.floor(t / 24.0) - 1
        for d in range(day, day + 9):
            if d % 7 in self.days:
                s = d * 24.0 + self.start
                e = s + self.length
                if e > t:
                    return s, e
        raise AssertionError("unreachable: some weekday is in every 9-day span")  # pragma: no cover

    def is_open(self, t: float) -> bool:
        s, _ = self.window(t)
        return s <= t

    def hours_between(self, t0: float, t1: float) -> float:
        """Scheduled hours within ``[t0, t1)``."""
        total, t = 0.0, t0
        while t < t1:
            s, e = self.window(t)
            if s >= t1:
                break
            total += min(e, t1) - max(s, t)
            t = e
        return total

    def __repr__(self) -> str:
        return f"WeeklyHours(start={self.start:g}, length={self.length:g}, days={sorted(self.days)})"
