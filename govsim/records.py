"""Compact records kept during a run; tables are built from them once, at the end.

Appending to typed arrays costs a fraction of a microsecond and a few bytes per
entry; no pandas object is touched while the simulation runs. The arrays are those
of the recorded columns of the ``patrols``, ``time_use`` and ``sessions`` specs in
:mod:`govsim.tables`, with typecodes from their dtypes.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from typing import Any

import numpy as np

from govsim.tables import PATROLS, SESSIONS, TIME_USE, TableSpec


class Columns:
    """The recorded columns of one table, each a typed array (typecode from its dtype)."""

    __slots__ = ("spec", "fields", "arrays", "appends")

    def __init__(self, spec: TableSpec) -> None:
        self.spec = spec
        self.fields = tuple((c.source, np.dtype(c.record_dtype)) for c in spec.recorded)
        self.arrays: tuple[array[Any], ...] = tuple(array(c.typecode) for c in spec.recorded)
        self.appends: tuple[Callable[[Any], None], ...] = tuple(a.append for a in self.arrays)  # for the hot loops

    def values(self) -> dict[str, np.ndarray]:
        """The columns as numpy arrays, keyed by their record field: copies, so that a caller may
        hold them while the run goes on (a view would lock the typed array against growing)."""
        return {name: np.array(a, dtype=dt) for (name, dt), a in zip(self.fields, self.arrays)}


class Recorder:
    """Patrol segments, worker time use and station visits, as columns of typed arrays.

    Each method takes the values of its table's recorded columns in the spec's order.
    """

    def __init__(self) -> None:
        self.patrol_columns = Columns(PATROLS)
        self.time_use_columns = Columns(TIME_USE)
        self.session_columns = Columns(SESSIONS)
        # each method unpacks its table's bound appends: no attribute look-up per column
        self._segment = self.patrol_columns.appends
        self._use = self.time_use_columns.appends
        self._visit = self.session_columns.appends

    def patrol_segment(self, worker: int, start: float, end: float, k0: int, n_visits: int) -> None:
        """A worker patrolled from visit ``k0`` at ``start`` until ``end``, making ``n_visits`` visits."""
        w, s, e, k, n = self._segment
        w(worker)
        s(start)
        e(end)
        k(k0)
        n(n_visits)

    def time_use(self, worker: int, state: int, start: float, end: float) -> None:
        """A worker spent ``[start, end)`` in ``state`` (see :mod:`govsim.agents.workers`)."""
        w, st, s, e = self._use
        w(worker)
        st(state)
        s(start)
        e(end)

    def station_visit(self, station: int, issue: int, arrived: float, started: float, ended: float) -> None:
        """An issue was served at a station (``started``/``ended`` −1: turned away, queue full)."""
        st, i, a, s, e = self._visit
        st(station)
        i(issue)
        a(arrived)
        s(started)
        e(ended)

    def station_visits(self) -> dict[str, np.ndarray]:
        """``station, issue_id, arrived, started, ended``."""
        return self.session_columns.values()

    def segments(self) -> dict[str, np.ndarray]:
        """``worker, start, end, k0, visits``."""
        return self.patrol_columns.values()

    def time_uses(self) -> dict[str, np.ndarray]:
        """``worker, state`` (int8 codes of :data:`~govsim.agents.workers.STATE_NAMES`), ``start, end``."""
        return self.time_use_columns.values()
