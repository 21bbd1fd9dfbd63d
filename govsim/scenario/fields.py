"""Building blocks shared by the scenario sections: field documentation and weekly hours.

They live in :mod:`govsim.params` (shared with policies and governance
mechanisms); this module re-exports them for the scenario package.
"""

from __future__ import annotations

from govsim.params import WEEKDAYS, HoursConfig, ShiftConfig, Weekday, doc, hours_overlap, office_hours

#: Former name of :func:`govsim.params.doc`.
_doc = doc

__all__ = ["WEEKDAYS", "HoursConfig", "ShiftConfig", "Weekday", "doc", "hours_overlap", "office_hours"]
