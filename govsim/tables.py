"""Column specifications of the result tables: each table's columns declared once.

A :class:`TableSpec` names a table's columns, their dtypes and meanings. It builds
the table from the compact arrays recorded during a run (:meth:`TableSpec.frame`,
:meth:`TableSpec.from_records`), gives an empty table with the right columns
(:meth:`TableSpec.empty`), restores dtypes after a table is read back from CSV
(:meth:`TableSpec.coerce`) and writes the column documentation
(:meth:`TableSpec.markdown`).

The specs of the core tables of a :class:`~govsim.result.Result` are declared here
(:data:`CORE_TABLES`). They drive the :class:`~govsim.records.Recorder` (one typed array
per recorded column, its typecode from the dtype), the tables built at the end of a
run, ``Result.from_dir`` and the column tables of ``docs/metrics.md`` (rewritten by
:func:`update_docs`; a test checks they are current).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from govsim.agents.workers import STATE_NAMES
from govsim.issues import Channel, Status

#: dtypes a column may have: numpy dtype names, plus ``category`` and ``str`` (text or missing)
DTYPES = ("int64", "int8", "float64", "bool", "category", "str")
_NUMERIC = ("int64", "int8", "float64", "bool")
#: the ``array.array`` typecode a column of each recorded dtype is kept in during a run
TYPECODES = {"int64": "q", "int8": "b", "float64": "d", "bool": "B"}


@dataclass(frozen=True)
class Column:
    """One column: its name, dtype (one of :data:`DTYPES`) and meaning.

    For a table built from records (:class:`~govsim.issues.Issue` objects, the arrays
    of the :class:`~govsim.records.Recorder`), ``field`` names the record attribute
    the column is read from when it is not named like the column, and ``derived``
    marks a column computed when the table is built (from other columns, the
    territory...) rather than recorded. A ``category`` column is recorded as integer
    codes (−1: missing); ``categories`` are its categories when they are fixed (else
    they are given when the table is built, e.g. the scenario's issue categories).
    """

    name: str
    dtype: str
    doc: str
    unit: str = ""
    field: str = ""
    derived: bool = False
    categories: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.dtype not in DTYPES:
            raise ValueError(f"column {self.name!r}: dtype {self.dtype!r} is not one of {', '.join(DTYPES)}")
        if self.derived and self.field:
            raise ValueError(f"column {self.name!r}: a derived column is read from no field")
        if self.categories is not None and self.dtype != "category":
            raise ValueError(f"column {self.name!r}: categories given for a {self.dtype} column")

    @property
    def source(self) -> str:
        """The record attribute (or recorder field) the column is read from, unless it is derived."""
        return self.field or self.name

    @property
    def record_dtype(self) -> str:
        """The dtype its values are recorded in: its own; ``object`` for text; for a category,
        the integer codes (``int8`` when its categories are fixed and fewer than 128)."""
        if self.dtype == "category":
            return "int8" if self.categories is not None and len(self.categories) < 128 else "int64"
        return "object" if self.dtype == "str" else self.dtype

    @property
    def typecode(self) -> str:
        """The ``array.array`` typecode of the recorded values (text cannot be recorded in one)."""
        try:
            return TYPECODES[self.record_dtype]
        except KeyError:
            raise TypeError(f"column {self.name!r}: {self.dtype} values cannot be kept in a typed array") from None


@dataclass(frozen=True)
class TableSpec:
    """A result table: one row per ``row``; its columns in order."""

    name: str
    row: str
    columns: tuple[Column, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def recorded(self) -> tuple[Column, ...]:
        """The columns read from records (not derived), in order."""
        return tuple(c for c in self.columns if not c.derived)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name!r} has no column {name!r}")

    def frame(self, cols: Mapping[str, Any], copy: bool = False) -> pd.DataFrame:
        """The table from ``cols`` (a mapping with exactly this table's columns), in order;
        ``copy``: the table owns copies of the arrays (else it may share them)."""
        missing = [n for n in self.names if n not in cols]
        extra = [n for n in cols if n not in self.names]
        if missing or extra:
            raise ValueError(f"table {self.name!r}: missing columns {missing}, unexpected {extra}")
        return pd.DataFrame({n: cols[n] for n in self.names}, copy=copy)

    def read(self, records: Sequence[Any]) -> dict[str, np.ndarray]:
        """The recorded columns' values of ``records`` (objects with each column's
        :attr:`~Column.source` as an attribute), keyed by source, in their
        :attr:`~Column.record_dtype`: one C-level pass over the records per column."""
        n = len(records)
        out: dict[str, np.ndarray] = {}
        for c in self.recorded:
            values = map(attrgetter(c.source), records)
            if c.record_dtype == "object":
                out[c.source] = np.array(list(values), dtype=object) if n else np.empty(0, dtype=object)
            else:
                out[c.source] = np.fromiter(values, dtype=c.record_dtype, count=n)
        return out

    def from_records(self, values: Mapping[str, Any], derived: Mapping[str, Any] | None = None,
                     categories: Mapping[str, Sequence[str]] | None = None, copy: bool = False) -> pd.DataFrame:
        """The table from the recorded ``values`` (keyed by each column's
        :attr:`~Column.source`, as :meth:`read` and the recorder give them; a category as
        its codes) and the ``derived`` columns (keyed by name). ``categories`` gives the
        categories of category columns that have none declared; ``copy`` as for :meth:`frame`."""
        derived = derived or {}
        cols: dict[str, Any] = {}
        for c in self.columns:
            if c.derived:
                if c.name in derived:
                    cols[c.name] = derived[c.name]
                continue
            v = values[c.source]
            if c.dtype == "category":
                cats = c.categories if c.categories is not None else (categories or {})[c.name]
                v = pd.Categorical.from_codes(np.where(v < 0, -1, v), categories=pd.Index(list(cats)))
            cols[c.name] = v
        return self.frame(cols, copy=copy)

    def empty(self) -> pd.DataFrame:
        """The table with no rows and typed columns."""
        return pd.DataFrame({c.name: _empty(c) for c in self.columns})

    def coerce(self, df: pd.DataFrame, categories: Mapping[str, Sequence[str]] | None = None) -> pd.DataFrame:
        """``df`` (read back from a file) with this table's numeric and boolean dtypes restored
        (a CSV with no rows has no types), and its category columns whose categories are
        known (declared, or given in ``categories``). Text columns are left as read."""
        types = {c.name: c.dtype for c in self.columns if c.name in df.columns and c.dtype in _NUMERIC}
        out = df.astype(types) if types else df
        known = {c.name: c.categories if c.categories is not None else (categories or {}).get(c.name)
                 for c in self.columns if c.dtype == "category" and c.name in df.columns}
        cats = {n: pd.Categorical(out[n], categories=list(k)) for n, k in known.items() if k is not None}
        return out.assign(**cats) if cats else out

    def markdown(self) -> str:
        """The columns as a Markdown table (column, type, meaning)."""
        lines = ["| column | type | meaning |", "| --- | --- | --- |"]
        for c in self.columns:
            unit = f" ({c.unit})" if c.unit else ""
            lines.append(f"| `{c.name}` | {c.dtype} | {c.doc}{unit} |")
        return "\n".join(lines)


def _empty(c: Column) -> Any:
    if c.dtype == "category":
        return pd.Categorical([], categories=list(c.categories or ()))
    if c.dtype == "str":
        return np.empty(0, dtype=object)
    return np.empty(0, dtype=c.dtype)


def _codes(names: Sequence[str]) -> str:
    return ", ".join(f"`{n}`" for n in names)


# --- the core tables of a Result --------------------------------------------------------
ISSUES = TableSpec("issues", "issue, with its whole history", (
    Column("issue_id", "int64", "0, 1, 2… in order of creation", field="id"),
    Column("category", "category", "category name (the scenario's categories)"),
    Column("grid", "int64", "grid where it arose (a row of `grids`)"),
    Column("community", "category", "community (社区) of the grid", derived=True),
    Column("street", "category", "street (街道) of the grid", derived=True),
    Column("point", "int64", "patrol point (building, block) where it arose"),
    Column("priority", "int64", "priority at the end (1 = most urgent); differs from `initial_priority` "
                                "if it escalated"),
    Column("initial_priority", "int64", "priority when it arose"),
    Column("created_at", "float64", "when it arose (its existence starts, hidden)", "h"),
    Column("discovered_at", "float64", "when it first became known, through `channel`", "h"),
    Column("channel", "str", f"how it first became known: {_codes(Channel.ALL)} (`report`: residents, by "
                             "hotline or app); empty if never discovered"),
    Column("queued_at", "float64", "when it last entered a waiting queue (no free worker could take it)", "h"),
    Column("assigned_at", "float64", "when a worker was sent (for a patrol find: started on it)", "h"),
    Column("arrived_at", "float64", "when the worker reached it", "h"),
    Column("resolved_at", "float64", "when handling ended (a dispute: when it was settled)", "h"),
    Column("closed_at", "float64", "`resolved_at`, or when it lapsed or left the mediation ladder unsettled",
           "h"),
    Column("deadline_at", "float64", "`created_at` + the category's `deadline` (infinite if none)", "h"),
    Column("escalated_at", "float64", "when its priority was raised (if it was)", "h"),
    Column("handler", "int64", "worker who handled it (a row of `workers`), −1 if none"),
    Column("status", "str", f"state at the end of the run: {_codes(Status.ALL)}"),
    Column("department", "str", "department it was referred to; empty if none"),
    Column("settled_level", "str", "mediation level where a dispute was settled (`grid`, `community`, "
                                   "`street`, `district`; `city`: a city's mediation centre); empty if not "
                                   "settled there"),
    Column("path", "str", "levels a dispute went through, e.g. `grid>community`, or `council` for a "
                          "collective matter taken to a resident council; `\"\"` if none"),
))

FALSE_ALARMS = TableSpec("false_alarms", "sensor false alarm and the trip it cost", (
    Column("alarm_id", "int64", "0, 1, 2… in order of the alarms", field="id"),
    Column("grid", "int64", "grid of the alarm"),
    Column("point", "int64", "patrol point of the alarm"),
    Column("created_at", "float64", "when the sensor raised it", "h"),
    Column("assigned_at", "float64", "when a worker was sent", "h"),
    Column("arrived_at", "float64", "when the worker reached the point", "h"),
    Column("resolved_at", "float64", "when the check on site ended", "h"),
    Column("handler", "int64", "worker sent, −1 if none"),
    Column("status", "str", "state at the end of the run (as for `issues`)"),
))

PATROLS = TableSpec("patrols", "patrol segment: a stretch of a worker's uninterrupted patrol", (
    Column("worker", "int64", "the worker"),
    Column("grid", "int64", "the worker's home grid", derived=True),
    Column("start", "float64", "when it arrived at visit `first_visit` of its route", "h"),
    Column("end", "float64", "when the patrol was interrupted or ended", "h"),
    Column("first_visit", "int64", "number of its first visit along the route", field="k0"),
    Column("visits", "int64", "patrol-point visits made"),
))

TIME_USE = TableSpec("time_use", "stretch of a worker's working time spent in one state", (
    Column("worker", "int64", "the worker"),
    Column("state", "category", "`patrol` (walking the route), `travel` (walking to an issue, or back to "
                                "the route), `handle` (on site), `idle` (on shift with nothing to do, when "
                                "patrol is off); `off` is a category but never a row", categories=STATE_NAMES),
    Column("start", "float64", "start of the stretch", "h"),
    Column("end", "float64", "end of the stretch", "h"),
))

WORKERS = TableSpec("workers", "worker, with its hours per state over the whole run", (
    Column("worker", "int64", "worker id (as in `time_use`, `patrols` and the issues' `handler`)"),
    Column("home_grid", "int64", "first grid it covers"),
    Column("n_grids", "int64", "grids it covers"),
    Column("shift", "int64", "its shift (index in the scenario's shifts)"),
    Column("n_handled", "int64", "issues it finished handling"),
    Column("kind", "str", "`grid_worker`, `volunteer`, `team`, `alliance` or `property_staff`"),
    Column("role", "str", "a team role or an alliance unit's name; empty for others"),
    Column("trained", "bool", "whether it was trained (`governance.training`)"),
    Column("patrol_h", "float64", "hours in state `patrol`", "h"),
    Column("travel_h", "float64", "hours in state `travel`", "h"),
    Column("handle_h", "float64", "hours in state `handle`", "h"),
    Column("idle_h", "float64", "hours in state `idle`", "h"),
    Column("worked_h", "float64", "hours worked: the sum of the four (overtime included)", "h"),
    Column("utilisation", "float64", "(`travel_h` + `handle_h`) ÷ `worked_h`; NaN if it never worked"),
))

#: the grids table's own columns; the governance mechanisms' grid columns
#: (:attr:`govsim.mechanisms.Mechanism.grid_columns`) follow, then :data:`PARTICIPATION_END`
GRID_COLUMNS = (
    Column("grid", "int64", "grid index: 0, 1, 2…"),
    Column("name", "str", "grid name"),
    Column("community", "str", "community (社区) it belongs to"),
    Column("street", "str", "street (街道) it belongs to"),
    Column("area_type", "str", "area type (multiplies the rates of some categories)"),
    Column("households", "float64", "households living in it"),
    Column("x_m", "float64", "x of its centre", "m"),
    Column("y_m", "float64", "y of its centre", "m"),
    Column("edge_m", "float64", "edge length", "m"),
    Column("n_points", "int64", "patrol points in it"),
    Column("sensor", "bool", "whether it has sensors or AI video (`channels.sensors`)"),
    Column("app", "bool", "whether residents can report by app (`channels.app`)"),
)
PARTICIPATION_END = Column("participation_end", "float64", "residents' participation at the end of the run "
                                                           "(the reference level when participation is not "
                                                           "modelled)")


def grids_spec() -> TableSpec:
    """The grids table: its own columns, the registered mechanisms' grid columns (0 in a run
    without the mechanism), then ``participation_end``."""
    from govsim.mechanisms import MECHANISMS

    extra = tuple(c for m in MECHANISMS.values() for c in m.grid_columns)
    return TableSpec("grids", "grid (网格) of the district", GRID_COLUMNS + extra + (PARTICIPATION_END,))


SESSIONS = TableSpec("sessions", "visit of an issue to a station (mediation room, department, hotline centre)", (
    Column("station", "int64", "the station (a row of `stations`)"),
    Column("issue_id", "int64", "the issue"),
    Column("arrived", "float64", "when it arrived at the station", "h"),
    Column("started", "float64", "when its session started (NaN: turned away, or still waiting at the end)",
           "h"),
    Column("ended", "float64", "when its session ended (NaN: turned away, or not ended by the end of the run)", "h"),
    Column("turned_away", "bool", "whether it was turned away (queue full)", derived=True),
    Column("wait", "float64", "`started` − `arrived`", "h", derived=True),
))

STATIONS = TableSpec("stations", "station (mediation room, department, hotline centre), over the whole run", (
    Column("station", "int64", "station index: 0, 1, 2…"),
    Column("name", "str", "station name (a mediation room: `level:place`, e.g. `community:c0`)"),
    Column("kind", "str", "`mediation`, `department` or `hotline`"),
    Column("level", "str", "a mediation room's level (`community`, `street`, `district`); empty otherwise"),
    Column("grid", "int64", "grid where a room sits; −1 for others"),
    Column("mean_queue", "float64", "time-average queue length over the run, kept by the station"),
    Column("mean_busy", "float64", "time-average busy servers over the run, kept by the station"),
    Column("n_arrived", "int64", "jobs that arrived"),
    Column("n_turned_away", "int64", "jobs turned away (queue full)"),
    Column("n_served", "int64", "jobs whose session started"),
    Column("n_waiting_end", "int64", "jobs still waiting at the end"),
    Column("wait_mean", "float64", "mean wait of the jobs served", "h"),
    Column("wait_p90", "float64", "90th percentile of their wait", "h"),
    Column("p_wait", "float64", "share of the jobs served that waited at all"),
    Column("busy_h", "float64", "busy server-hours", "h"),
    Column("scheduled_h", "float64", "server-hours on duty", "h"),
    Column("utilisation", "float64", "`busy_h` ÷ `scheduled_h`"),
))

def core_tables() -> dict[str, TableSpec]:
    """The core tables of a Result, in the order ``Result.to_dir`` writes them (the grids
    table with the registered mechanisms' columns)."""
    return {s.name: s for s in (ISSUES, FALSE_ALARMS, PATROLS, WORKERS, grids_spec(), SESSIONS, STATIONS,
                                TIME_USE)}


def all_tables() -> dict[str, TableSpec]:
    """The core tables and those of every registered governance mechanism."""
    from govsim.mechanisms import MECHANISMS

    out = core_tables()
    out.update({spec.name: spec for m in MECHANISMS.values() for spec in m.tables})
    return out


def __getattr__(name: str) -> Any:
    # GRIDS and CORE_TABLES follow the mechanism registry (a mechanism may add grid columns)
    if name == "GRIDS":
        return grids_spec()
    if name == "CORE_TABLES":
        return core_tables()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --- documentation ---------------------------------------------------------------------
_MARKED = re.compile(r"(<!-- columns: (\w+) -->\n)(.*?)(<!-- end columns -->)", re.S)


def sync_markdown(text: str, specs: Mapping[str, TableSpec] | None = None) -> str:
    """``text`` with the table between each ``<!-- columns: NAME -->`` and
    ``<!-- end columns -->`` replaced by ``specs[NAME].markdown()`` (default: :func:`all_tables`)."""
    specs = all_tables() if specs is None else specs

    def table(m: re.Match[str]) -> str:
        if m.group(2) not in specs:
            raise KeyError(f"<!-- columns: {m.group(2)} -->: no such table (known: {', '.join(specs)})")
        return f"{m.group(1)}{specs[m.group(2)].markdown()}\n{m.group(4)}"

    return _MARKED.sub(table, text)


def update_docs(*paths: str | Path) -> list[Path]:
    """Rewrite the marked column tables of Markdown files (default: this checkout's
    ``docs/metrics.md``) from the specs; returns the files changed."""
    changed = []
    for p in paths or (Path(__file__).resolve().parents[1] / "docs" / "metrics.md",):
        path = Path(p)
        text = path.read_text(encoding="utf-8")
        new = sync_markdown(text)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(path)
    return changed
