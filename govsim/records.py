"""Compact records kept during a run; tables are built from them once, at the end.

A row is appended to short Python lists, which are moved into typed arrays every few
thousand rows (a few bytes per entry); no pandas object is touched while the simulation
runs. The arrays are those
of the recorded columns of the ``patrols``, ``time_use`` and ``sessions`` specs in
:mod:`govsim.tables`, with typecodes from their dtypes.

Issues are kept as objects only while they are open: when an issue closes, its row of
the ``issues`` table is written to columnar chunks (:class:`IssueLog`), so that a run's
memory grows with its open backlog rather than with every issue it ever created.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final, cast

import numpy as np

from govsim.tables import ISSUES, PATROLS, SESSIONS, TIME_USE, TableSpec

if TYPE_CHECKING:
    from govsim.issues import Issue


#: Rows a table takes as Python lists before they are moved into its typed arrays.
BUFFER_ROWS: Final = 4096


class Columns:
    """The recorded columns of one table, each a typed array (typecode from its dtype).

    The latest rows wait in :attr:`buffers`, one Python list per column: appending to a
    list is several times cheaper than a call of a typed array's ``append``; every
    :data:`BUFFER_ROWS` rows, and before the columns are read, :meth:`flush` moves them into
    the arrays with one ``fromlist`` per column (the same values, exactly)."""

    __slots__ = ("spec", "fields", "arrays", "buffers")

    def __init__(self, spec: TableSpec) -> None:
        self.spec = spec
        self.fields = tuple((c.source, np.dtype(c.record_dtype)) for c in spec.recorded)
        self.arrays: tuple[array[Any], ...] = tuple(array(c.typecode) for c in spec.recorded)
        self.buffers: tuple[list[Any], ...] = tuple([] for _ in spec.recorded)  # for the hot loops

    def flush(self) -> None:
        """Move the buffered rows into the typed arrays."""
        for a, buf in zip(self.arrays, self.buffers):
            if buf:
                a.fromlist(buf)
                buf.clear()

    def values(self) -> dict[str, np.ndarray]:
        """The columns as numpy arrays, keyed by their record field: copies, so that a caller may
        hold them while the run goes on (a view would lock the typed array against growing)."""
        self.flush()
        return {name: np.array(a, dtype=dt) for (name, dt), a in zip(self.fields, self.arrays)}

    def take(self) -> dict[str, np.ndarray]:
        """The columns as numpy arrays that take over the typed arrays' memory (no copy); the
        columns start again empty."""
        self.flush()
        out = {name: np.frombuffer(a, dtype=dt) if len(a) else np.empty(0, dtype=dt)
               for (name, dt), a in zip(self.fields, self.arrays)}
        self.arrays = tuple(array(a.typecode) for a in self.arrays)
        return out


class Recorder:
    """Patrol segments, worker time use and station visits, as columns of typed arrays.

    Each method takes the values of its table's recorded columns in the spec's order.
    """

    def __init__(self) -> None:
        self.patrol_columns = Columns(PATROLS)
        self.time_use_columns = Columns(TIME_USE)
        self.session_columns = Columns(SESSIONS)
        #: the issues: objects while open, columnar chunks once closed
        self.issues = IssueLog()
        # each method unpacks its table's buffers (typed: native list appends when compiled)
        self._segment = cast("tuple[list[int], list[float], list[float], list[int], list[int]]",
                             self.patrol_columns.buffers)
        self._use = cast("tuple[list[int], list[int], list[float], list[float]]", self.time_use_columns.buffers)
        self._visit = cast("tuple[list[int], list[int], list[float], list[float], list[float]]",
                           self.session_columns.buffers)

    def patrol_segment(self, worker: int, start: float, end: float, k0: int, n_visits: int) -> None:
        """A worker patrolled from visit ``k0`` at ``start`` until ``end``, making ``n_visits`` visits."""
        w, s, e, k, n = self._segment
        w.append(worker)
        s.append(start)
        e.append(end)
        k.append(k0)
        n.append(n_visits)
        if len(w) >= BUFFER_ROWS:
            self.patrol_columns.flush()

    def time_use(self, worker: int, state: int, start: float, end: float) -> None:
        """A worker spent ``[start, end)`` in ``state`` (see :mod:`govsim.agents.workers`)."""
        w, st, s, e = self._use
        w.append(worker)
        st.append(state)
        s.append(start)
        e.append(end)
        if len(w) >= BUFFER_ROWS:
            self.time_use_columns.flush()

    def station_visit(self, station: int, issue: int, arrived: float, started: float, ended: float) -> None:
        """An issue was served at a station (``started``/``ended`` −1: turned away, queue full)."""
        st, i, a, s, e = self._visit
        st.append(station)
        i.append(issue)
        a.append(arrived)
        s.append(started)
        e.append(ended)
        if len(st) >= BUFFER_ROWS:
            self.session_columns.flush()

    def take(self) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]]:
        """The patrol segments, time use and station visits recorded so far (as
        :meth:`segments`, :meth:`time_uses` and :meth:`station_visits` give them, but without
        a copy: the arrays take over the recorder's memory), and the recorder starts empty.
        :meth:`govsim.result.Result.from_simulation` moves the records into the tables so."""
        return (self.patrol_columns.take(), self.time_use_columns.take(), self.session_columns.take())

    def station_visits(self) -> dict[str, np.ndarray]:
        """``station, issue_id, arrived, started, ended``."""
        return self.session_columns.values()

    def segments(self) -> dict[str, np.ndarray]:
        """``worker, start, end, k0, visits``."""
        return self.patrol_columns.values()

    def time_uses(self) -> dict[str, np.ndarray]:
        """``worker, state`` (int8 codes of :data:`~govsim.agents.workers.STATE_NAMES`), ``start, end``."""
        return self.time_use_columns.values()


class IssueLog:
    """The issues of a run (an issues-table spec's recorded columns), open or closed.

    An issue is registered when it arises (:meth:`arose`: it gets its ``row``, the
    order of arising) and is held as an object while it is open. When it closes
    (:meth:`closed`) its values are final: every :attr:`BLOCK` closed issues are read
    (:meth:`TableSpec.read`) into columns of numpy arrays that grow as needed (integers
    in the narrowest type that holds them), and the objects are no longer referenced
    from here. :meth:`values` gives the columns of all issues, closed and still open, in
    row order: the same values as reading every issue object at the end of the run, as
    long as nothing changes an issue after it closed (the engine never does).
    """

    BLOCK = 8192

    def __init__(self, spec: TableSpec = ISSUES) -> None:
        self.spec = spec
        # the issues spec's recorded columns, read by read_issues (compiled: native attribute reads)
        self._read_native = tuple((c.source, c.record_dtype) for c in spec.recorded) == ISSUE_FIELDS
        self.open: dict[int, Issue] = {}  # by row
        self.n = 0  # issues registered
        self._batch: list[Issue] = []  # closed, not yet in the columns
        self._size = 0  # closed issues in the columns
        self._rows = np.empty(0, dtype=np.int32)
        self._columns: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return self.n

    def arose(self, issue: Issue) -> None:
        """``issue`` arose: it takes the next row."""
        issue.row = self.n
        self.open[self.n] = issue
        self.n += 1

    def closed(self, issue: Issue) -> None:
        """``issue`` closed (resolved, lapsed, unsettled): its values are final."""
        if self.open.pop(issue.row, None) is None:
            return  # not registered here (a false alarm), or already closed
        batch = self._batch
        batch.append(issue)
        if len(batch) >= self.BLOCK:
            self._flush()

    def _flush(self) -> None:
        batch = self._batch
        if not batch:
            return
        self._batch = []
        new = {"row": _rows(batch), **self._read(batch)}
        old = {"row": self._rows, **self._columns}
        lo, hi = self._size, self._size + len(batch)
        capacity = len(self._rows)
        if hi > capacity:
            capacity = max(hi, 2 * capacity, self.BLOCK)
        grown = {}
        for name, values in new.items():
            column = old.get(name)
            dtype = values.dtype if column is None else column.dtype
            if dtype.kind == "i":
                dtype = _narrowest(values, dtype if column is not None else None)
            if column is None or len(column) < capacity or column.dtype != dtype:
                wider = np.empty(capacity, dtype=dtype)
                if column is not None:
                    wider[:lo] = column[:lo]
                column = wider
            column[lo:hi] = values
            grown[name] = column
        self._rows = grown.pop("row")
        self._columns = grown
        self._size = hi

    def _read(self, issues: list[Issue]) -> dict[str, np.ndarray]:
        """``self.spec.read(issues)``."""
        return read_issues(issues) if self._read_native else self.spec.read(issues)

    @property
    def n_closed(self) -> int:
        """Closed issues held (as columns)."""
        return self._size + len(self._batch)

    def release(self) -> None:
        """Forget every issue (once the issues table holds them): the columns are freed."""
        self.open = {}
        self.n = 0
        self._batch = []
        self._size = 0
        self._rows = np.empty(0, dtype=np.int32)
        self._columns = {}

    def values(self, release: bool = False) -> dict[str, np.ndarray]:
        """Every issue's recorded values (keyed by field, as :meth:`TableSpec.read` gives
        them), in row order. ``release``: forget them meanwhile (:meth:`release`), column by
        column, so that the log and the result are never both held whole."""
        self._flush()
        still_open = list(self.open.values())
        open_values, open_rows = self._read(still_open), _rows(still_open)
        n, size, rows, columns = self.n, self._size, self._rows[:self._size], self._columns
        assert size + len(still_open) == n, "every row is closed or open"
        if release:
            self.release()
        out = {}
        for name, values in open_values.items():
            column = np.empty(n, dtype=values.dtype)
            if size:
                column[rows] = (columns.pop(name) if release else columns[name])[:size]
            column[open_rows] = values
            out[name] = column
        return out


#: The recorded columns of :data:`~govsim.tables.ISSUES`, ``(source, record dtype)`` in order:
#: those :func:`read_issues` reads (an :class:`IssueLog` of another spec reads with the spec).
ISSUE_FIELDS: Final = (
    ("id", "int64"), ("category", "int64"), ("grid", "int64"), ("point", "int64"), ("priority", "int64"),
    ("initial_priority", "int64"), ("created_at", "float64"), ("discovered_at", "float64"),
    ("channel", "object"), ("queued_at", "float64"), ("assigned_at", "float64"), ("arrived_at", "float64"),
    ("resolved_at", "float64"), ("closed_at", "float64"), ("deadline_at", "float64"),
    ("escalated_at", "float64"), ("handler", "int64"), ("status", "object"), ("department", "object"),
    ("settled_level", "object"), ("path", "object"),
)


def read_issues(issues: list[Issue]) -> dict[str, np.ndarray]:
    """``ISSUES.read(issues)`` (the columns of :data:`ISSUE_FIELDS`, the same arrays), read
    issue attribute by attribute: in the compiled build each read is a native one, where
    the spec's generic reader looks every attribute up by name."""
    i64, f64 = np.int64, np.float64
    return {
        "id": np.array([i.id for i in issues], dtype=i64),
        "category": np.array([i.category for i in issues], dtype=i64),
        "grid": np.array([i.grid for i in issues], dtype=i64),
        "point": np.array([i.point for i in issues], dtype=i64),
        "priority": np.array([i.priority for i in issues], dtype=i64),
        "initial_priority": np.array([i.initial_priority for i in issues], dtype=i64),
        "created_at": np.array([i.created_at for i in issues], dtype=f64),
        "discovered_at": np.array([i.discovered_at for i in issues], dtype=f64),
        "channel": _objects([i.channel for i in issues]),
        "queued_at": np.array([i.queued_at for i in issues], dtype=f64),
        "assigned_at": np.array([i.assigned_at for i in issues], dtype=f64),
        "arrived_at": np.array([i.arrived_at for i in issues], dtype=f64),
        "resolved_at": np.array([i.resolved_at for i in issues], dtype=f64),
        "closed_at": np.array([i.closed_at for i in issues], dtype=f64),
        "deadline_at": np.array([i.deadline_at for i in issues], dtype=f64),
        "escalated_at": np.array([i.escalated_at for i in issues], dtype=f64),
        "handler": np.array([i.handler for i in issues], dtype=i64),
        "status": _objects([i.status for i in issues]),
        "department": _objects([i.department for i in issues]),
        "settled_level": _objects([i.settled_level for i in issues]),
        "path": _objects([i.path for i in issues]),
    }


def _objects(values: list[Any]) -> np.ndarray:
    # (as TableSpec.read makes an object column)
    return np.array(values, dtype=object) if values else np.empty(0, dtype=object)


def _narrowest(values: np.ndarray, at_least: np.dtype | None) -> np.dtype:
    """The narrowest integer type (at least ``at_least``) that holds ``values``: a closed
    issue's grid, point, category... take a byte or two instead of eight."""
    lo, hi = (int(values.min()), int(values.max())) if len(values) else (0, 0)
    for dt in (np.int8, np.int16, np.int32, np.int64):
        dtype = np.dtype(dt)
        if (at_least is None or dtype.itemsize >= at_least.itemsize) and \
                np.iinfo(dt).min <= lo and hi <= np.iinfo(dt).max:
            return dtype
    return np.dtype(np.int64)


def _rows(issues: Sequence[Issue]) -> np.ndarray:
    return np.fromiter((i.row for i in issues), dtype=np.int64, count=len(issues))
