"""Reading and cleaning a case log (事件台账): one row per case, every odd row counted.

A case log is what a 12345 hotline, a 数字城管 system or a 311 service exports:
one row per case with when it became known (立案时间, ``created``), when it was
closed (结案时间, ``closed``), its category (事件类型), the channel it came
through (来源: a resident's call or app report, or found by staff on patrol),
where it was (coordinates, an area name) and its status.

:func:`read_case_log` reads such a log from a CSV file, a Parquet file or a
DataFrame, given which column plays which role (:data:`ROLES`), and returns a
:class:`CaseLog`: the usable cases with parsed times and durations, the true
observation window, and a ``rows`` table that accounts for every input row::

    log = read_case_log("la311.csv", parse_columns(
        "created=created,closed=closed,category=category,channel=channel,lat=lat,lon=lon"),
        staff_channels=["Driver Self Report"])
    print(log.summary())

Row accounting (``CaseLog.rows``; columns ``class``, ``count``, ``action``,
``kind``, ``note``). Rows of ``kind`` ``'dropped'`` and ``'kept'`` partition the
input: every row read is in exactly one of them, so their counts sum to
``n_read`` and the ``'kept'`` counts sum to ``len(cases)``. The dropped classes,
in the order they are applied:

* ``exact duplicate row`` — every mapped column equal to an earlier row's (not when
  ``created`` has dates only and no id is mapped: then two cases of one day look alike,
  so such rows are kept and flagged ``identical rows (date-only times): kept``);
* ``created missing`` — empty creation time;
* ``created unparseable`` — a creation time that reads as no time;
* ``duplicate id`` — an id (when mapped) already seen with different content; the first is kept;
* ``outside the window`` — created before ``window[0]`` or after ``window[1]``.

The kept rows are split by what they give closure fitting, first match wins:

* ``closed unparseable`` and ``closed before created`` — kept for arrivals, not for closure;
* ``cancelled`` — status (when mapped) in ``cancelled``: a known case, but its closure is no service time;
* ``never closed`` — no closing time: right-censored at the end of the window;
* ``closed at creation (zero length)`` — real for work found and done by staff on the spot;
* ``closed normally`` — a positive duration.

Rows of kind ``'flag'`` count properties of kept rows and may overlap:
``coordinates missing``, ``coordinates not numeric``, ``coordinates out of range``,
``coordinates (0, 0)``, ``placeholder coordinates (LAT, LON)`` (found from the
data, see :func:`read_case_log`), ``category missing``, ``channel missing``,
``no channel column``, ``area missing``, ``<role> names with control characters cleaned``
(category, channel, area), ``<role> day/month order ambiguous``,
``<role> time-zone offset dropped`` / ``converted`` / ``missing``, ``<role> epoch times
read as UTC`` / ``converted``, ``created has dates only: ...`` / ``closed has dates only:
...``, ``identical rows (date-only times): kept``. Row numbers in notes are 1-based
data rows (the header is not counted).

Times (see :func:`read_case_log`): one zone for both columns (``tz``, else the created
column's own), Unix epoch numbers read as UTC, and a time of day drawn (seeded,
:data:`SPREAD_SEED`) for a column with dates only, so the window of a date-only log
runs to the end of its last day.

Every problem with the input itself (a missing file, an unknown column, a
misspelt staff channel...) raises one :class:`CalibrationError` listing all of them.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from govsim.calibration.errors import CalibrationError
from govsim.suggest import did_you_mean

if TYPE_CHECKING:
    from pandas.api.typing import NaTType

__all__ = ["ROLES", "REQUIRED", "SPREAD_SEED", "CaseLog", "parse_columns", "read_case_log"]

ROLES: tuple[str, ...] = ("created", "closed", "category", "channel", "lat", "lon", "area", "status", "id")
"""Column roles a case log can map: 立案时间 created, 结案时间 closed, 事件类型 category,
来源 channel, coordinates lat/lon, area (社区/网格 name), status, case id."""

REQUIRED: tuple[str, ...] = ("created", "closed", "category")
"""Roles every case log must map."""

# Roles that must each have a column of their own (a time can't also be a category).
_OWN_COLUMN = ("created", "closed", "lat", "lon")

# Text read as "no value" in any column (exports write these for empty cells).
_NULLS = ("", "NA", "N/A", "n/a", "na", "NaN", "nan", "NAN", "NULL", "null", "Null", "None", "none",
          "NaT", "nat", "#N/A", "-")

MISSING = "(missing)"
"""What an empty category or channel becomes."""

_PARQUET_EXT = (".parquet", ".pq")
_PARQUET_HINT = 'reading Parquet needs pyarrow: pip install "govsim[parquet]"'

# Candidate timestamp formats, tried on a sample of each time column; ties go to
# the earlier one (so month-first beats day-first when both read everything).
# The order tag keeps the fallback cascade from mixing day-first and month-first.
_FORMATS: tuple[tuple[str, str], ...] = (
    ("%Y-%m-%d %H:%M:%S", "ymd"), ("%Y-%m-%dT%H:%M:%S", "ymd"),
    ("%Y-%m-%d %H:%M:%S.%f", "ymd"), ("%Y-%m-%dT%H:%M:%S.%f", "ymd"),
    ("%Y-%m-%d %H:%M", "ymd"), ("%Y-%m-%dT%H:%M", "ymd"), ("%Y-%m-%d", "ymd"),
    ("ISO8601", "ymd"),
    ("%Y/%m/%d %H:%M:%S", "ymd"), ("%Y/%m/%d %H:%M", "ymd"), ("%Y/%m/%d", "ymd"),
    ("%Y%m%d%H%M%S", "ymd"), ("%Y%m%d%H%M", "ymd"), ("%Y%m%d", "ymd"),
    ("%Y年%m月%d日 %H:%M:%S", "ymd"), ("%Y年%m月%d日 %H:%M", "ymd"), ("%Y年%m月%d日", "ymd"),
    ("%m/%d/%Y %I:%M:%S %p", "mdy"), ("%m/%d/%Y %I:%M %p", "mdy"), ("%m/%d/%Y %H:%M:%S", "mdy"),
    ("%m/%d/%Y %H:%M", "mdy"), ("%m/%d/%Y", "mdy"), ("%m/%d/%y %H:%M", "mdy"), ("%m/%d/%y", "mdy"),
    ("%d/%m/%Y %I:%M:%S %p", "dmy"), ("%d/%m/%Y %I:%M %p", "dmy"), ("%d/%m/%Y %H:%M:%S", "dmy"),
    ("%d/%m/%Y %H:%M", "dmy"), ("%d/%m/%Y", "dmy"), ("%d/%m/%y %H:%M", "dmy"), ("%d/%m/%y", "dmy"),
    ("%d.%m.%Y %H:%M:%S", "dmy"), ("%d.%m.%Y %H:%M", "dmy"), ("%d.%m.%Y", "dmy"),
    ("%d-%m-%Y %H:%M:%S", "dmy"), ("%d-%m-%Y %H:%M", "dmy"), ("%d-%m-%Y", "dmy"),
)
_SAMPLE = 2000
# A time followed by a UTC offset or Z: group 1 is the wall time, group 2 the offset.
_TZ_SUFFIX = re.compile(r"^(.*\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[AaPp][Mm])?)\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$")
_DM_LEAD = r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-]\d{2,4}"
# Unix epoch times: 9-10 digits are seconds (1973-2286), 12-13 milliseconds.
_EPOCH_S = r"\d{9,10}(?:\.\d+)?"
_EPOCH_MS = r"\d{12,13}"
# Times mostly outside these years are a misread format: one clear error.
_YEAR_LO, _YEAR_HI = pd.Timestamp("1990-01-01"), pd.Timestamp("2101-01-01")
# All-digit formats and the width of their values.
_COMPACT = {"%Y%m%d%H%M%S": 14, "%Y%m%d%H%M": 12, "%Y%m%d": 8}
_DAY_NS = 86_400 * 10**9
_NAT = np.iinfo(np.int64).min
# Control characters replaced by a space in category, channel and area names: C0, DEL, C1, U+2028/9.
_CONTROL = "[\x00-\x1f\x7f-\x9f\u2028\u2029]"

SPREAD_SEED = 12345
"""Seed of the :class:`numpy.random.Generator` that draws a time of day for date-only logs
(``np.random.default_rng(np.random.SeedSequence(SPREAD_SEED).spawn(2))``: created, closed),
so reading the same file twice gives the same times."""

# Placeholder coordinates: one exact point holding at least this share and count of
# the located rows, and far from the rest or integer-valued.
_PLACEHOLDER_SHARE = 0.005
_PLACEHOLDER_MIN_ROWS = 20

# Row classes, in the order they are applied and listed.
_DROPPED = (
    ("exact duplicate row", "every mapped column equal to an earlier row's"),
    ("created missing", "no creation time"),
    ("created unparseable", "creation time not readable as a time"),
    ("duplicate id", "id already seen with different content; the first row is kept"),
    ("outside the window", "created outside the observation window"),
)
_KEPT = (
    ("closed unparseable", "kept for arrivals, not for closure", "closing time not readable as a time"),
    ("closed before created", "kept for arrivals, not for closure", "negative duration"),
    ("cancelled", "kept for arrivals, not for closure", "status says cancelled"),
    ("never closed", "censored", "no closing time: right-censored at the end of the window"),
    ("closed at creation (zero length)", "kept", "duration 0 (real for work found and closed by staff)"),
    ("closed normally", "kept", "positive duration"),
)


@dataclass
class CaseLog:
    """A cleaned case log: the usable cases, the observation window, and an account of every row.

    ``cases`` holds the usable rows, one per case, sorted by creation time (stable:
    ties keep file order), index reset. Columns:

    * ``created`` (立案时间): ``datetime64[ns]``, naive local wall time;
    * ``closed`` (结案时间): ``datetime64[ns]``, ``NaT`` when never closed or unreadable;
    * ``category`` (事件类型): str, ``'(missing)'`` when empty;
    * ``channel`` (来源): str, ``'(missing)'`` when empty, ``''`` when no channel column is mapped;
    * ``staff``: bool, the channel is one of ``staff_channels`` (found by staff, e.g. on patrol);
    * ``lat``, ``lon``: float64, NaN when missing, invalid or a placeholder;
    * ``area``: str, NaN when missing or not mapped;
    * ``id``, ``status``: str, ``''`` when not mapped;
    * ``duration_h``: float64 hours from created to closed; for a censored case the hours
      from created to ``window[1]`` (the time it was observed open); NaN when the row is
      not usable for closure;
    * ``censored``: bool, never closed: still open at ``window[1]``;
    * ``closure_ok``: bool, usable for closure fitting (``duration_h >= 0`` known, or censored).

    ``window`` is the true observation window ``[start, end]``: the first and last
    creation times unless given, so a log that ends mid-day is not read as whole days;
    when ``created`` has dates only, the first day's midnight and the end of the last day.
    ``rows`` accounts for every input row (see the module docstring), ``notes`` says
    how the times were read (format per column, day/month choice, time zones).
    """

    cases: pd.DataFrame
    window: tuple[pd.Timestamp, pd.Timestamp]
    rows: pd.DataFrame
    source: str
    n_read: int
    staff_channels: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    columns: dict[str, str] = field(default_factory=dict)

    @property
    def n_dropped(self) -> int:
        """Rows read but not kept."""
        return int(self.rows.loc[self.rows["kind"] == "dropped", "count"].sum())

    @property
    def window_days(self) -> float:
        """Length of the observation window, days."""
        return (self.window[1] - self.window[0]) / pd.Timedelta(days=1)

    def summary(self) -> str:
        """A few lines for humans: rows read and kept, window, categories, channels, closure."""
        c = self.cases
        n = len(c)
        lines = [f"{self.source}: {self.n_read:,} rows read, {n:,} kept, {self.n_dropped:,} dropped"]
        dropped = self.rows[(self.rows["kind"] == "dropped") & (self.rows["count"] > 0)]
        if len(dropped):
            lines.append("  dropped: " + ", ".join(f"{r['class']} {r['count']:,}" for _, r in dropped.iterrows()))
        rate = f", {n / self.window_days:,.1f} cases/day" if self.window_days > 0 else ""
        lines.append(f"  window {self.window[0]} -> {self.window[1]} ({self.window_days:.2f} days{rate})")
        cats = c["category"].value_counts()
        top = ", ".join(f"{k} {v / n:.0%}" for k, v in cats.head(5).items())
        lines.append(f"  {len(cats)} {'category' if len(cats) == 1 else 'categories'}: {top}{', ...' if len(cats) > 5 else ''}")
        if (c["channel"] != "").any():
            chans = c["channel"].value_counts()
            lines.append("  channels: " + ", ".join(f"{k} {v / n:.0%}" for k, v in chans.head(6).items())
                         + (", ..." if len(chans) > 6 else ""))
        if self.staff_channels:
            lines.append(f"  staff share ({', '.join(self.staff_channels)}): {c['staff'].mean():.1%}")
        kept = self.rows[self.rows["kind"] == "kept"].set_index("class")["count"]
        lines.append(f"  closure: {int(c['closure_ok'].sum()):,} usable ({int(kept['closed normally']):,} "
                     f"closed, {int(kept['closed at creation (zero length)']):,} at creation, "
                     f"{int(kept['never closed']):,} censored), "
                     f"{int((~c['closure_ok']).sum()):,} kept for arrivals only")
        flags = self.rows[(self.rows["kind"] == "flag") & (self.rows["count"] > 0)]
        if len(flags):
            lines.append("  flagged: " + ", ".join(f"{r['class']} {r['count']:,}" for _, r in flags.iterrows()))
        return "\n".join(lines)


# ---------------------------------------------------------------------------
# column mapping


def _did_you_mean(word: str, choices: Sequence[str]) -> str:
    return did_you_mean(word, choices, style="clause", case="fold_fallback")


def _list(values: Sequence[Any], limit: int = 30) -> str:
    shown = ", ".join(str(v) for v in list(values)[:limit])
    return shown + (f", ... ({len(values)} in all)" if len(values) > limit else "")


def parse_columns(text: str) -> dict[str, str]:
    """Parse a column mapping written as ``'created=COL,closed=COL,category=COL,lat=Latitude'``.

    Items are separated by ``,``; each is ``role=column`` (split at the first ``=``).
    Spaces around roles and names are stripped; spaces inside a column name are kept
    (``created=Created Date``). A column name containing ``,`` or ``=`` can't be given
    this way: pass a mapping to :func:`read_case_log` instead. Roles are :data:`ROLES`;
    an unknown or repeated role, an item without ``=`` or an empty name raises one
    :class:`CalibrationError` listing every problem (with a did-you-mean for roles).
    """
    problems: list[str] = []
    out: dict[str, str] = {}
    if not isinstance(text, str) or not text.strip():
        raise CalibrationError("columns: empty mapping; expected role=column items such as "
                               "'created=COL,closed=COL,category=COL'")
    for item in text.split(","):
        if not item.strip():
            continue
        if "=" not in item:
            problems.append(f"columns item {item.strip()!r}: expected role=column; a column name containing "
                            "',' or '=' can't be given in this form, pass a mapping to read_case_log instead")
            continue
        role, name = (part.strip() for part in item.split("=", 1))
        if role not in ROLES:
            problems.append(f"columns item {item.strip()!r}: unknown role {role!r}{_did_you_mean(role, ROLES)}"
                            f" (roles: {', '.join(ROLES)})")
            continue
        if not name:
            problems.append(f"columns item {item.strip()!r}: no column name for role {role!r}")
            continue
        if role in out:
            problems.append(f"columns item {item.strip()!r}: role {role!r} given twice "
                            f"({out[role]!r} and {name!r})")
            continue
        out[role] = name
    if problems:
        raise CalibrationError(problems)
    return out


def _check_mapping(columns: Mapping[str, str], available: Sequence[str]) -> tuple[dict[str, str], list[str]]:
    """Resolve the mapping against the file's columns; every problem is collected."""
    problems: list[str] = []
    mapping: dict[str, str] = {}
    if not isinstance(columns, Mapping):
        raise CalibrationError(f"columns: expected a mapping role -> column name (see parse_columns), "
                               f"got {type(columns).__name__}")
    avail = [str(c) for c in available]
    stripped: dict[str, list[str]] = {}
    for c in avail:
        stripped.setdefault(c.strip(), []).append(c)
    for role, name in columns.items():
        if role not in ROLES:
            problems.append(f"role {role!r}: unknown role{_did_you_mean(str(role), ROLES)} "
                            f"(roles: {', '.join(ROLES)})")
            continue
        if not isinstance(name, str) or not name.strip():
            problems.append(f"role {role!r}: expected a column name, got {name!r}")
            continue
        if name in avail:
            mapping[role] = name
        elif len(stripped.get(name.strip(), [])) == 1:  # same name but for surrounding spaces
            mapping[role] = stripped[name.strip()][0]
        else:
            problems.append(f"column {name!r} (role {role!r}): no such column{_did_you_mean(name, avail)} "
                            f"(columns: {_list(avail)})")
    for role in REQUIRED:
        if role not in columns:
            problems.append(f"role {role!r}: required but not mapped; map it to one of the columns: "
                            f"{_list(avail)}")
    roles = [r for r in ROLES if r in mapping]
    for i, a in enumerate(roles):
        for b in roles[i + 1:]:
            if mapping[a] == mapping[b] and (a in _OWN_COLUMN or b in _OWN_COLUMN):
                own = a if a in _OWN_COLUMN else b
                problems.append(f"column {mapping[a]!r}: mapped to both {a!r} and {b!r}; "
                                f"{own!r} needs a column of its own")
    return mapping, problems


# ---------------------------------------------------------------------------
# reading


def _sniff_encoding(head: bytes, encoding: str | None) -> str:
    if encoding:
        return encoding
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if head.startswith(b"PK\x03\x04"):
        raise CalibrationError("not a CSV file: it looks like a ZIP archive or an Excel workbook; "
                               "export the sheet as CSV (UTF-8) or Parquet")
    if b"\x00" in head:
        raise CalibrationError("not a text file (it contains NUL bytes); expected a CSV in UTF-8 or "
                               "UTF-16 (with a byte-order mark), or a Parquet file")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError as exc:
        raise CalibrationError(
            f"not UTF-8 text (byte 0x{head[exc.start]:02x} at offset {exc.start}); save it as UTF-8, "
            "or pass encoding= (e.g. 'gb18030' for a GBK export)") from None
    return "utf-8"


def _sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_csv(path: Path, columns: Mapping[str, str], encoding: str | None) -> tuple[pd.DataFrame, dict[str, str]]:
    if not path.exists():
        raise CalibrationError("file not found")
    if path.is_dir():
        raise CalibrationError("is a directory, not a case log file")
    with path.open("rb") as fh:
        head = fh.read(1 << 16)
    if not head.strip():
        raise CalibrationError("file is empty")
    if head.startswith(b"PAR1"):
        return _read_parquet(path, columns)
    enc = _sniff_encoding(head, encoding)
    try:
        text = head.decode(enc, errors="ignore")
    except LookupError:
        raise CalibrationError(f"encoding {enc!r}: unknown encoding") from None
    lines = [ln for ln in text.lstrip("\ufeff").splitlines() if ln.strip()]
    if not lines:
        raise CalibrationError("file is empty (no header line)")
    sep = _sniff_delimiter(lines[0])
    opts: dict[str, Any] = dict(sep=sep, encoding=enc, dtype=str, keep_default_na=False, na_filter=False,
                                encoding_errors="strict", skipinitialspace=False)
    try:
        header = list(pd.read_csv(path, nrows=0, **opts).columns)
        mapping, problems = _check_mapping(columns, header)
        if problems:
            raise CalibrationError(problems)
        df = pd.read_csv(path, usecols=list(dict.fromkeys(mapping.values())), **opts)
    except UnicodeError as exc:
        # a UnicodeDecodeError has a reason; a bare UnicodeError (utf-16 without a BOM) only a message
        reason = getattr(exc, "reason", None) or str(exc)
        raise CalibrationError(f"can't be decoded as {enc} ({reason}); save it as UTF-8, or pass "
                               "encoding= (e.g. 'gb18030' for a GBK export)") from None
    except pd.errors.EmptyDataError:
        raise CalibrationError("file is empty (no header line)") from None
    except pd.errors.ParserError as exc:
        raise CalibrationError(f"not a well-formed CSV file: {str(exc).strip()}") from None
    if len(df) == 0:
        raise CalibrationError("no data rows (the file has a header only)")
    return df, mapping


def _read_parquet(path: Path, columns: Mapping[str, str]) -> tuple[pd.DataFrame, dict[str, str]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise CalibrationError(_PARQUET_HINT) from None
    if not path.exists():
        raise CalibrationError("file not found")
    try:
        names = pq.read_schema(path).names
    except Exception as exc:  # pyarrow raises ArrowInvalid / OSError for non-Parquet content
        raise CalibrationError(f"not a readable Parquet file ({exc})") from None
    mapping, problems = _check_mapping(columns, names)
    if problems:
        raise CalibrationError(problems)
    df = pq.read_table(path, columns=list(dict.fromkeys(mapping.values()))).to_pandas()
    if len(df) == 0:
        raise CalibrationError("no data rows")
    return df, mapping


def _load(source: str | Path | pd.DataFrame, columns: Mapping[str, str],
          encoding: str | None) -> tuple[pd.DataFrame, dict[str, str]]:
    if isinstance(source, pd.DataFrame):
        mapping, problems = _check_mapping(columns, [str(c) for c in source.columns])
        if problems:
            raise CalibrationError(problems)
        by_name = {str(c): c for c in source.columns}
        df = source[[by_name[c] for c in dict.fromkeys(mapping.values())]].copy()
        df.columns = list(dict.fromkeys(mapping.values()))
        if len(df) == 0:
            raise CalibrationError("no data rows")
        return df.reset_index(drop=True), mapping
    path = Path(source)
    if path.suffix.lower() in _PARQUET_EXT:
        return _read_parquet(path, columns)
    return _read_csv(path, columns, encoding)


# ---------------------------------------------------------------------------
# values


def _text(s: pd.Series, role: str | None = None, col: str | None = None,
          flags: list[tuple[str, np.ndarray, str, str]] | None = None) -> tuple[pd.Series, np.ndarray]:
    """Stripped text and a mask of empty / null-like cells.

    With ``role`` (category, channel, area), control characters (C0, DEL, C1, U+2028,
    U+2029) are replaced by a space, runs of spaces in those values collapsed, and the
    rows counted in ``flags`` as ``'<role> names with control characters cleaned'``.
    """
    t = s.astype(str)
    if role is not None and flags is not None:
        dirty = t.str.contains(_CONTROL, regex=True).to_numpy(dtype=bool, na_value=False)
        if dirty.any():
            before = t[dirty]
            after = before.str.replace(_CONTROL, " ", regex=True).str.replace(" {2,}", " ", regex=True)
            t = t.copy()
            t[dirty] = after
            pairs = pd.DataFrame({"a": before.to_numpy(), "b": after.str.strip().to_numpy()}).drop_duplicates("a")
            eg = ", ".join(f"{a!r} -> {b!r}" for a, b in pairs.head(3).itertuples(index=False, name=None))
            flags.append((f"{role} names with control characters cleaned", dirty, "kept, cleaned",
                          f"column {col!r}: control characters (line breaks, tabs, U+2028 ...) replaced by a "
                          f"space, e.g. {eg}" + (f" ({len(pairs):,} names in all)" if len(pairs) > 3 else "")))
    t = t.str.strip()
    empty = t.isna().to_numpy() | t.isin(_NULLS).to_numpy()
    return t.where(~empty, ""), empty


def _examples(values: pd.Series, mask: np.ndarray, k: int = 3) -> str:
    idx = np.flatnonzero(mask)[:k]
    if not len(idx):
        return ""
    return "e.g. " + ", ".join(f"row {i + 1}: {values.iloc[i]!r}" for i in idx)


def _swap_dm(fmt: str) -> str:
    return fmt.replace("%m", "\0").replace("%d", "%m").replace("\0", "%d")


def _try(values: pd.Series, fmt: str) -> pd.Series:
    width = _COMPACT.get(fmt)
    if width:  # strptime takes '201804121111' for %Y%m%d%H%M%S (11:01:01): only values of the full width
        values = values.where(values.str.len() == width)
    try:
        out = pd.to_datetime(values, format=fmt, errors="coerce", utc=True)
    except (ValueError, TypeError, OverflowError):
        return pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    return out


@dataclass
class _Times:
    """A parsed time column before zones are reconciled and dates-only spread."""

    ns: np.ndarray            # int64 ns of the wall time as written (NaT where empty or unreadable)
    empty: np.ndarray         # bool
    bad: np.ndarray           # bool: not empty but not readable
    text: pd.Series           # the text read (for examples in notes)
    role: str
    where: str
    offsets: np.ndarray | None = None  # float minutes east of UTC per value, NaN where none written
    zone: Any = None          # the zone of a typed zone-aware column
    epoch: str = ""           # 'seconds' / 'milliseconds' when read as Unix epoch times (UTC)
    date_only: bool = False   # every value a date without time of day

    @property
    def ok(self) -> np.ndarray:
        return self.ns != _NAT


def _ns(values: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """Naive datetime values as int64 nanoseconds (NaT -> _NAT)."""
    return np.asarray(values, dtype="datetime64[ns]").view(np.int64).copy()


def _parse_times(raw: pd.Series, role: str, col: str, dayfirst: bool | None,
                 flags: list[tuple[str, np.ndarray, str, str]], notes: list[str]) -> _Times:
    """Parse a time column to wall times as written, with the UTC offsets found (zones: :func:`_reconcile_zones`)."""
    where = f"column {col!r} ({role})"
    n = len(raw)
    offsets: np.ndarray | None  # minutes east of UTC per row, where the times carry them
    if pd.api.types.is_datetime64_any_dtype(raw.dtype):  # typed input (Parquet, DataFrame)
        ts = raw.reset_index(drop=True)
        offsets = zone = None
        if isinstance(ts.dtype, pd.DatetimeTZDtype):
            zone = ts.dt.tz
            wall = ts.dt.tz_localize(None)
            utc = ts.dt.tz_convert("UTC").dt.tz_localize(None)
            offsets = ((_ns(wall) - _ns(utc)) / 6e10).astype(np.float64)  # a fresh array
            offsets[_ns(wall) == _NAT] = np.nan
            ts = wall
        ns = _ns(ts)
        t = _Times(ns=ns, empty=ns == _NAT, bad=np.zeros(n, bool), text=ts.astype(str), role=role, where=where,
                   offsets=offsets, zone=zone)
        _check_years(t)
        return t

    text, empty = _text(raw)
    filled = np.flatnonzero(~empty)
    if not len(filled):
        return _Times(ns=np.full(n, _NAT, np.int64), empty=empty, bad=np.zeros(n, bool), text=text,
                      role=role, where=where)
    pick = np.unique(np.linspace(0, len(filled) - 1, min(_SAMPLE, len(filled))).astype(np.int64))
    sample = text.iloc[filled[pick]]

    # Unix epoch times: all digits, 9-10 of them (seconds) or 12-13 (milliseconds); before %Y%m%d...
    sec = sample.str.fullmatch(_EPOCH_S).to_numpy(dtype=bool, na_value=False)
    ms = sample.str.fullmatch(_EPOCH_MS).to_numpy(dtype=bool, na_value=False)
    unit: Literal["", "s", "ms"] = ""
    if sec.mean() >= 0.9:
        unit, pattern = "s", _EPOCH_S
    elif ms.mean() >= 0.9:
        as_ms = pd.to_datetime(pd.to_numeric(sample[ms], errors="coerce"), unit="ms", errors="coerce")
        if ((as_ms >= _YEAR_LO) & (as_ms < _YEAR_HI)).mean() > 0.5:  # else e.g. %Y%m%d%H%M
            unit, pattern = "ms", _EPOCH_MS
    if unit:
        match = text.str.fullmatch(pattern).to_numpy(dtype=bool, na_value=False) & ~empty
        num = pd.to_numeric(text.where(match, None), errors="coerce")
        parsed = pd.to_datetime(num, unit=unit, errors="coerce")
        ns = _ns(parsed)
        bad = (ns == _NAT) & ~empty
        word = "seconds" if unit == "s" else "milliseconds"
        notes.append(f"{where}: Unix epoch {word} (UTC)")
        offsets = np.where(ns == _NAT, np.nan, 0.0)
        t = _Times(ns=ns, empty=empty, bad=bad, text=text, role=role, where=where, offsets=offsets, epoch=word)
        _check_years(t)
        return t

    # Time-zone offsets: read the wall time as written, keep the offsets (reconciled later).
    offsets = None
    if sample.str.match(_TZ_SUFFIX).any():
        parts = text.str.extract(_TZ_SUFFIX)
        has = parts[0].notna().to_numpy()
        text = text.where(~has, parts[0])
        sample = text.iloc[filled[pick]]
        uniq = parts[1][has].unique()
        minutes = {u: _offset_minutes(u) for u in uniq}
        offsets = parts[1].map(minutes).to_numpy(dtype=np.float64, na_value=np.nan).copy()

    cands = [(f, o) for f, o in _FORMATS
             if dayfirst is None or o == "ymd" or o == ("dmy" if dayfirst else "mdy")]
    scores = [(int(_try(sample, f).notna().sum()), i) for i, (f, _) in enumerate(cands)]
    best_n, best_i = max(scores, key=lambda si: (si[0], -si[1]))
    fmt, order = cands[best_i]
    if best_n < 0.9 * len(sample):
        mixed_n = int(_try(sample, "mixed").notna().sum())
        if mixed_n > best_n:
            fmt, order, best_n = "mixed", "ymd", mixed_n
            notes.append(f"{where}: no single known format fits; parsed value by value (format='mixed', slow)")
    if best_n == 0:
        digits = bool(sample.str.fullmatch(r"\d+(?:\.\d+)?").all())
        hint = ("; all digits, but Unix epoch times have 9-10 digits (seconds) or 12-13 (milliseconds), "
                "dates 8 (YYYYMMDD)" if digits else "")
        raise CalibrationError(f"{where}: no value reads as a date or time, "
                               f"{_examples(text, ~empty)}{hint}; is the column mapped right?")

    if order in ("mdy", "dmy") and dayfirst is None:
        other = _swap_dm(fmt)
        if int(_try(sample, other).notna().sum()) == best_n:  # the sample can't tell: look at every value
            lead = text.iloc[filled].str.extract(_DM_LEAD)
            a = pd.to_numeric(lead[0], errors="coerce")
            b = pd.to_numeric(lead[1], errors="coerce")
            first_big, second_big = bool((a > 12).any()), bool((b > 12).any())
            if first_big and not second_big:
                fmt, order = (other, "dmy") if order == "mdy" else (fmt, order)
            elif second_big and not first_big:
                fmt, order = (other, "mdy") if order == "dmy" else (fmt, order)
            elif not first_big and not second_big:
                if order == "dmy":
                    fmt, order = other, "mdy"
                amb = np.zeros(n, bool)
                amb[filled] = ((a != b) & a.notna() & b.notna()).to_numpy()
                flags.append((f"{role} day/month order ambiguous", amb, "kept (read month-first)",
                              f"{where}: every value has day and month <= 12, so day-first would also read; "
                              f"read month-first ({fmt}); pass dayfirst=True if the log is day-first"))
    notes.append(f"{where}: format {fmt}")

    parsed = _try(text, fmt)
    used = [fmt]
    bad = parsed.isna().to_numpy() & ~empty
    if bad.any():  # a few values in another format: try the others that read part of the sample
        for score, i in sorted(scores, key=lambda si: (-si[0], si[1])):
            f, o = cands[i]
            if score == 0 or f == fmt or (o != "ymd" and o != order):
                continue
            idx = np.flatnonzero(bad)
            more = _try(text.iloc[idx], f)
            ok = more.notna().to_numpy()
            if ok.any():
                parsed.iloc[idx[ok]] = more.iloc[ok]
                bad[idx[ok]] = False
                used.append(f)
                notes.append(f"{where}: {int(ok.sum()):,} values read with format {f}")
            if not bad.any():
                break
    ns = _ns(parsed.dt.tz_localize(None))
    if offsets is not None:
        offsets[ns == _NAT] = np.nan
    t = _Times(ns=ns, empty=empty, bad=bad, text=text, role=role, where=where, offsets=offsets)
    _check_years(t)
    ok = t.ok
    if offsets is None and ok.any() and not (ns[ok] % _DAY_NS).any():  # every value at midnight
        clock = [f for f in used if f in ("ISO8601", "mixed")]
        t.date_only = (all("%H" not in f and "%I" not in f for f in used if f not in clock)
                       and not (clock and text[ok].str.contains(r"\d:\d", regex=True).any()))
    return t


def _check_years(t: _Times) -> None:
    """Most values outside 1990-2100: a misread format (epoch numbers read as %Y%m%d...), one clear error."""
    ok = t.ok
    n_ok = int(ok.sum())
    if not n_ok:
        return
    odd = ok & ((t.ns < _YEAR_LO.value) | (t.ns >= _YEAR_HI.value))
    if odd.sum() * 2 <= n_ok:
        return
    years = pd.DatetimeIndex(t.ns[odd].view("datetime64[ns]")).year
    lo, hi = int(years.min()), int(years.max())
    span = f"the year {lo}" if lo == hi else f"the years {lo}\u2013{hi}"
    digits = bool(t.text[ok].head(200).str.fullmatch(r"\d+(?:\.\d+)?").all())
    hint = (f"read as Unix epoch {t.epoch}; is the column mapped right?" if t.epoch
            else "epoch seconds? they have 9-10 digits, milliseconds 12-13" if digits
            else "is the column mapped right?")
    raise CalibrationError(f"{t.where}: times in {span} ({int(odd.sum()):,} of the {n_ok:,} values read, "
                           f"outside {_YEAR_LO.year}-{_YEAR_HI.year - 1}); not a date format govsim recognises "
                           f"({hint}), {_examples(t.text, odd)}")


def _fmt_offset(minutes: float) -> str:
    if minutes == 0:
        return "+00:00 (UTC)"
    sign = "-" if minutes < 0 else "+"
    m = int(round(abs(minutes)))
    return f"{sign}{m // 60:02d}:{m % 60:02d}"


def _most_common(off: np.ndarray) -> float:
    """The most common offset; ties go to the one met first."""
    has = ~np.isnan(off)
    uniq, first, count = np.unique(off[has], return_index=True, return_counts=True)
    return float(uniq[np.lexsort((first, -count))[0]])


def _reconcile_zones(cols: Sequence[_Times], tz: str | None,
                     flags: list[tuple[str, np.ndarray, str, str]], notes: list[str]) -> None:
    """Bring the time columns to one zone, in place: ``tz`` when given, else created's (or closed's) own.

    Values written with an offset (or zone-aware, or epoch = UTC) are instants: they are
    converted to ``tz``; without ``tz``, to the zone of a zone-aware created column or to
    the created column's most common offset (a fixed offset; closed's own when created has
    none), and the zone dropped. Values without an offset are taken as wall time there.
    """
    target: Any = tz
    source = "the tz given"
    if target is None:
        for t in cols:
            if t.zone is not None:
                target, source = t.zone, f"the zone of the {t.role} column"
                break
            if t.offsets is not None and (~np.isnan(t.offsets)).any():
                target = _most_common(t.offsets)
                one = len(np.unique(t.offsets[~np.isnan(t.offsets)])) == 1
                source = ("the epoch times' UTC" if t.epoch
                          else f"the {t.role} column's {'offset' if one else 'most common offset'}")
                break
    if target is None:
        return
    converted = False
    for t in cols:
        if t.offsets is None:
            continue
        off = t.offsets
        has = ~np.isnan(off)
        if not has.any():
            continue
        utc = t.ns[has] - np.round(off[has] * 6e10).astype(np.int64)
        if isinstance(target, float):
            local = utc + np.int64(round(target * 6e10))
            same = has & (off == target)
            moved = has & (off != target)
            goal = _fmt_offset(target)
        else:
            local = _ns(pd.DatetimeIndex(utc.view("datetime64[ns]")).tz_localize("UTC")
                        .tz_convert(target).tz_localize(None))
            same = has if (not tz and t.zone is not None and str(t.zone) == str(target)) else np.zeros_like(has)
            moved = has & ~same
            goal = str(target)
        changed = t.ns.copy()
        changed[has] = local
        t.ns = changed
        converted |= bool(moved.any())
        if t.zone is not None:
            notes.append(f"{t.where}: time-zone-aware values ({t.zone}) converted to {goal}" if moved.any() else
                         f"{t.where}: time-zone-aware values ({t.zone}); wall time kept, zone dropped")
        if t.epoch:
            if same.any():
                flags.append((f"{t.role} epoch times read as UTC", same, "kept, UTC wall time",
                              f"{t.where}: Unix epoch {t.epoch} read as UTC wall time; pass tz= (an IANA zone) "
                              "for local time, or the hour-of-day profile is UTC's"))
            if moved.any():
                flags.append((f"{t.role} epoch times converted", moved, "kept",
                              f"{t.where}: Unix epoch {t.epoch} (UTC) converted to {goal} ({source})"))
        elif t.zone is None:
            if same.any():
                flags.append((f"{t.role} time-zone offset dropped", same, "kept",
                              f"{t.where}: offset {goal} ({source}) dropped, wall time as written kept "
                              "(pass tz= to convert to an IANA zone)"))
            if moved.any():
                vals, cnt = np.unique(off[moved], return_counts=True)
                written = ", ".join(f"{_fmt_offset(v)} {c:,}" for v, c in zip(vals, cnt))
                dst = ("" if tz else "; if the offsets are one zone's winter and summer time, pass tz= (an IANA "
                       "zone) to keep local wall time")
                flags.append((f"{t.role} time-zone offset converted", moved, "kept",
                              f"{t.where}: times written with offsets {written} converted to {goal} "
                              f"({source}) and the zone dropped, so durations are right{dst}"))
        naive = ~has & t.ok
        if naive.any():
            flags.append((f"{t.role} time-zone offset missing", naive, "kept, wall time as written",
                          f"{t.where}: no offset written, taken as wall time in {goal}"))
    if converted and not tz and isinstance(target, float):
        notes.append(f"times with different UTC offsets converted to {_fmt_offset(target)} ({source})")


def _spread_dates(created: _Times, closed: _Times, flags: list[tuple[str, np.ndarray, str, str]],
                  notes: list[str]) -> None:
    """Draw a time of day for date-only values, in place (seeded: :data:`SPREAD_SEED`).

    A date-only creation time is drawn uniformly within its day, before the closing time
    when that is known and on the same day. A date-only closing time is drawn uniformly
    within its day but never before the creation time (on the creation day: uniformly
    between the creation time and the end of the day), so no zero-length or negative
    duration is made up; a closing day before the creation day stays negative.
    """
    if not (created.date_only or closed.date_only):
        return
    g_created, g_closed = (np.random.default_rng(s) for s in np.random.SeedSequence(SPREAD_SEED).spawn(2))
    day = np.int64(_DAY_NS)
    if created.date_only:
        ok = created.ok
        lo = created.ns
        hi = lo + day
        if not closed.date_only:
            same = ok & closed.ok & (closed.ns >= lo) & (closed.ns < hi)
            hi = np.where(same, closed.ns, hi)
        u = g_created.random(len(lo))  # whole seconds
        created.ns = np.where(ok, lo + np.floor(u * (hi - lo) / 1e9).astype(np.int64) * 10**9, _NAT)
        flags.append(("created has dates only: times spread uniformly within the day; "
                      "the hour-of-day profile is not fitted", ok, "kept, time of day drawn",
                      f"{created.where}: no time of day in any value; each case's creation time drawn uniformly "
                      f"within its day (before its closing time on the same day; seeded, {SPREAD_SEED}), and "
                      "the window ends at the end of the last day"))
        notes.append(f"{created.where}: dates only; creation times spread uniformly within the day "
                     f"(seed {SPREAD_SEED}), the hour-of-day profile is not fitted")
    if closed.date_only:
        ok = closed.ok
        lo = closed.ns
        hi = lo + day
        after = ok & created.ok & (created.ns > lo) & (created.ns < hi)
        lo = np.where(after, created.ns, lo)
        u = g_closed.random(len(lo))  # whole seconds
        closed.ns = np.where(ok, lo + np.floor(u * (hi - lo) / 1e9).astype(np.int64) * 10**9, _NAT)
        flags.append(("closed has dates only: times spread uniformly within the day", ok,
                      "kept, time of day drawn",
                      f"{closed.where}: no time of day in any value; each closing time drawn uniformly within its "
                      "day, never before the creation time (on the creation day: between it and the end of the "
                      f"day; seeded, {SPREAD_SEED}), so durations are right on average, not case by case"))
        notes.append(f"{closed.where}: dates only; closing times spread uniformly within the day, never before "
                     "the creation time")


def _offset_minutes(s: Any) -> float:
    if not isinstance(s, str):
        return np.nan
    if s in ("Z", "UTC", "GMT"):
        return 0.0
    sign = -1.0 if s[0] == "-" else 1.0
    digits = s[1:].replace(":", "")
    return sign * (int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) >= 4 else 0))


def _window_bound(value: Any, name: str, tz: str | None) -> pd.Timestamp | None:
    if value is None:
        return None
    ts: pd.Timestamp | NaTType  # pd.Timestamp(None), pd.Timestamp("NaT") are NaT
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise CalibrationError(f"window {name}: {value!r} is not a date or time") from None
    if pd.isna(ts):
        raise CalibrationError(f"window {name}: {value!r} is not a date or time")
    if ts.tzinfo is not None:
        ts = (ts.tz_convert(tz) if tz else ts).tz_localize(None)
    return ts


def _placeholders(lat: np.ndarray, lon: np.ndarray, valid: np.ndarray) -> list[tuple[float, float, int, str]]:
    """Exact points holding an implausible share of located rows and far from the rest or integer."""
    nv = int(valid.sum())
    if nv < _PLACEHOLDER_MIN_ROWS:
        return []
    pts = pd.DataFrame({"lat": lat[valid], "lon": lon[valid]})
    counts = pts.value_counts(sort=True)
    cands = counts[counts >= max(_PLACEHOLDER_MIN_ROWS, _PLACEHOLDER_SHARE * nv)]
    if cands.empty:
        return []
    is_cand = np.zeros(nv, bool)
    for (la, lo) in cands.index:
        is_cand |= (pts["lat"].to_numpy() == la) & (pts["lon"].to_numpy() == lo)
    rest = pts[~is_cand]
    if len(rest) >= _PLACEHOLDER_MIN_ROWS:
        q = rest.quantile([0.01, 0.99])
        box = {}
        for c in ("lat", "lon"):
            # pandas-stubs reject a float row label in .loc[row, col] (a scalar here)
            lo_q, hi_q = float(q.loc[0.01, c]), float(q.loc[0.99, c])  # type: ignore[arg-type,index]
            pad = 0.5 * (hi_q - lo_q)
            box[c] = (lo_q - pad, hi_q + pad)
    else:
        box = None
    found = []
    for (la, lo), k in zip(cands.index, cands):  # .items(), but its keys are typed Hashable
        integer = float(la).is_integer() and float(lo).is_integer()
        outside = box is not None and not (box["lat"][0] <= la <= box["lat"][1]
                                           and box["lon"][0] <= lo <= box["lon"][1])
        if integer or outside:
            why = []
            if outside:
                assert box is not None  # outside implies a box
                why.append(f"outside the box of the other points "
                           f"(lat {box['lat'][0]:.4g}..{box['lat'][1]:.4g}, "
                           f"lon {box['lon'][0]:.4g}..{box['lon'][1]:.4g})")
            if integer:
                why.append("integer-valued")
            found.append((float(la), float(lo), int(k),
                          f"{int(k):,} rows ({k / nv:.1%} of located rows) at exactly ({la:g}, {lo:g}), "
                          + " and ".join(why) + "; read as 'no location'"))
    return found


# ---------------------------------------------------------------------------
# the reader


def read_case_log(source: str | Path | pd.DataFrame, columns: Mapping[str, str], *,
                  staff_channels: Sequence[str] = (),
                  window: tuple[str | pd.Timestamp | None, str | pd.Timestamp | None] | None = None,
                  cancelled: Sequence[str] = ("Cancelled", "Canceled", "Duplicate"),
                  tz: str | None = None,
                  encoding: str | None = None,
                  dayfirst: bool | None = None) -> CaseLog:
    """Read and clean a case log (事件台账); count every odd row.

    Parameters
    ----------
    source
        A CSV file (delimiter ``,``, ``;``, tab or ``|``; UTF-8 with or without BOM, or
        UTF-16 with BOM), a Parquet file (``.parquet``/``.pq``, needs pyarrow) or a DataFrame.
        Only the mapped columns are read, as text.
    columns
        Role -> column name (:data:`ROLES`; :data:`REQUIRED` must be there), e.g. from
        :func:`parse_columns`.
    staff_channels
        Channel values meaning "found by staff" (巡查发现, e.g. ``'Driver Self Report'``,
        ``'Internal'``). Each must occur in the channel column (exactly, or but for case).
    window
        ``(start, end)`` of the observation; rows created outside are dropped and counted.
        ``None`` on a side (or no window) means the log's own first / last creation time.
        Bounds are instants: ``'2018-01-03'`` means midnight at its start (so for a log with
        dates only, the day after the last day kept is the end).
    cancelled
        Status values (case-insensitive, whole value) meaning the case was cancelled: kept
        for arrivals, not for closure. Used only when a status column is mapped.
    tz
        IANA zone. Times written with a UTC offset (or ``Z``, or zone-aware, or Unix epoch
        numbers, which are UTC) are converted to it; times without one are taken as wall
        time there. Without ``tz``, both columns are brought to the created column's zone:
        its most common offset (a fixed offset; ties go to the one met first), or the zone
        of a zone-aware column, so that ``+08:00`` and ``Z`` rows, or a created column
        in ``+08:00`` and a closed one in ``Z``, give the right durations; a column whose
        values all carry that offset keeps its wall time as written. Flags in ``rows``
        say what was dropped or converted. For a zone with daylight-saving time, give
        ``tz`` to keep local wall time (a fixed offset shifts the summer hours by one).
    encoding
        Text encoding of a CSV without BOM when not UTF-8 (e.g. ``'gb18030'``).
    dayfirst
        Force day-first (True) or month-first (False) reading of ``DD/MM`` vs ``MM/DD``
        dates; by default the data decide, and month-first wins when every value reads
        both ways (flagged in ``rows``).

    Timestamps are read in the usual formats (ISO with ``T``, fractional seconds, ``Z`` or
    an offset; ``04/12/2018 11:11:26 AM``; ``2018/04/12 11:11``; ``2018年4月12日``; dates
    alone; Unix epoch seconds (9-10 digits) or milliseconds (12-13) ...): the format is
    chosen per column from a sample of up to 2,000 values and the whole column is parsed
    with it (values in another format that part of the sample also had are read with that
    one). A column whose times mostly fall outside 1990-2100 is a misread format: one
    error naming the column and the years.

    A column with dates only (every value at midnight, no time written) gets a time of
    day drawn uniformly within each day by a seeded generator (:data:`SPREAD_SEED`), so
    the hour-of-day profile is flat (not fitted) instead of every case at 00:00; a closing
    date gets a time within its day but never before the creation time. The window then
    ends at the end of the last day. Without an id column, identical rows of a date-only
    log are kept (flagged), not dropped as duplicates.

    Category, channel and area names have control characters (C0, C1, U+2028, U+2029)
    replaced by a space (flagged).

    Coordinates that are missing, not numbers, out of range, (0, 0), or a placeholder are
    set to NaN and flagged, the rows kept. A placeholder is one exact point holding at
    least 0.5% (and 20) of the located rows that is integer-valued or lies outside the
    1st-99th percentile box of the other points widened by half its size on each side.

    Raises
    ------
    CalibrationError
        Naming the file and every problem: file missing, empty, header only, binary or
        undecodable; a required role not mapped; a mapped column not in the file; two
        roles sharing a column where that makes no sense; a staff channel not among the
        channel values (or no channel column); an unreadable window or zone; no usable rows.
    """
    name = "<DataFrame>" if isinstance(source, pd.DataFrame) else str(source)
    try:
        return _read_case_log(source, columns, staff_channels=staff_channels, window=window,
                              cancelled=cancelled, tz=tz, encoding=encoding, dayfirst=dayfirst)
    except CalibrationError as exc:
        raise exc.with_source(exc.source or name) from None


def _read_case_log(source: str | Path | pd.DataFrame, columns: Mapping[str, str], *,
                   staff_channels: Sequence[str], window: Any, cancelled: Sequence[str],
                   tz: str | None, encoding: str | None, dayfirst: bool | None) -> CaseLog:
    name = "<DataFrame>" if isinstance(source, pd.DataFrame) else str(source)
    if tz is not None:
        try:
            pd.Timestamp("2000-01-01", tz=tz)
        except Exception:
            raise CalibrationError(f"tz {tz!r}: unknown time zone (use an IANA name such as "
                                   "'Asia/Shanghai' or 'America/Los_Angeles')") from None
    if isinstance(staff_channels, str):
        staff_channels = (staff_channels,)
    if window is not None and (not isinstance(window, (tuple, list)) or len(window) != 2):
        raise CalibrationError(f"window: expected (start, end), got {window!r}")
    bounds = (None, None) if window is None else (_window_bound(window[0], "start", tz),
                                                  _window_bound(window[1], "end", tz))
    if bounds[0] is not None and bounds[1] is not None and bounds[0] > bounds[1]:
        raise CalibrationError(f"window: start {bounds[0]} is after end {bounds[1]}")
    if staff_channels and isinstance(columns, Mapping) and "channel" not in columns:
        # reported together with any mapping problems
        pre = [f"staff_channels {list(staff_channels)}: given, but no channel column is mapped "
               "(map one with channel=COLUMN)"]
    else:
        pre = []
    try:
        df, mapping = _load(source, columns, encoding)
    except CalibrationError as exc:
        raise CalibrationError(exc.problems + pre, exc.source) from None
    if pre:
        raise CalibrationError(pre)
    n = len(df)
    col = mapping
    flag_masks: list[tuple[str, np.ndarray, str, str]] = []  # (class, mask over all rows, action, note)
    notes: list[str] = []

    # -- times
    ct = _parse_times(df[col["created"]], "created", col["created"], dayfirst, flag_masks, notes)
    dt = _parse_times(df[col["closed"]], "closed", col["closed"], dayfirst, flag_masks, notes)
    _reconcile_zones((ct, dt), tz, flag_masks, notes)
    date_only = ct.date_only
    if date_only:
        day_ns = ct.ns.copy()  # the dates as written, for the window
    _spread_dates(ct, dt, flag_masks, notes)
    c_empty, c_bad, c_text = ct.empty, ct.bad, ct.text
    d_empty, d_bad, d_text = dt.empty, dt.bad, dt.text
    created = pd.Series(ct.ns.view("datetime64[ns]"))
    closed = pd.Series(dt.ns.view("datetime64[ns]"))

    # -- text roles
    category, cat_empty = _text(df[col["category"]], "category", col["category"], flag_masks)
    if "channel" in col:
        channel, ch_empty = _text(df[col["channel"]], "channel", col["channel"], flag_masks)
    else:
        channel, ch_empty = pd.Series("", index=df.index, dtype=str), np.zeros(n, bool)
    problems: list[str] = []
    staff_resolved: list[str] = []
    if staff_channels:
        seen = channel[~ch_empty].value_counts()
        by_fold: dict[str, list[str]] = {}
        for v in seen.index:
            by_fold.setdefault(str(v).casefold(), []).append(str(v))
        for s in staff_channels:
            s = str(s).strip()
            if s in seen.index:
                staff_resolved.append(s)
            elif len(by_fold.get(s.casefold(), [])) == 1:
                staff_resolved.append(by_fold[s.casefold()][0])
            else:
                problems.append(f"staff channel {s!r}: not among the values of column {col['channel']!r}"
                                f"{_did_you_mean(s, list(map(str, seen.index)))} "
                                f"(values: {_list([f'{k} ({v:,})' for k, v in seen.items()])})")
    if problems:
        raise CalibrationError(problems)
    status, _ = _text(df[col["status"]]) if "status" in col else (pd.Series("", index=df.index, dtype=str), None)
    ids, id_empty = _text(df[col["id"]]) if "id" in col else (None, None)

    # -- dropped classes, in order
    code = np.zeros(n, np.int8)  # 0 kept, k>0: _DROPPED[k-1]
    if date_only and ids is None:
        # Whole days and no id: identical rows are most likely distinct cases of one day.
        flag_masks.append(("identical rows (date-only times): kept", _exact_duplicates(df), "kept",
                           "rows equal in every mapped column to an earlier one are kept, not dropped as "
                           "exact duplicates: with dates only and no id column, two cases of the same "
                           "category on the same day look identical (map an id column to drop true duplicates)"))
    else:
        code[_exact_duplicates(df)] = 1
    code[(code == 0) & c_empty] = 2
    code[(code == 0) & c_bad] = 3
    if ids is not None:
        assert id_empty is not None  # read with ids
        live = (code == 0) & ~id_empty
        dup = np.zeros(n, bool)
        dup[live] = ids[live].duplicated(keep="first").to_numpy()
        code[dup] = 4
    live = code == 0
    cvals = created.to_numpy()
    start, end = bounds
    outside = np.zeros(n, bool)
    # np.datetime64(a datetime64, unit) converts the unit; numpy's stubs lack that signature
    if start is not None:
        outside |= live & (cvals < np.datetime64(start.to_datetime64(), "ns"))  # type: ignore[call-overload]
    if end is not None:
        outside |= live & (cvals > np.datetime64(end.to_datetime64(), "ns"))  # type: ignore[call-overload]
    code[outside] = 5
    keep = code == 0
    if not keep.any():
        counts = ", ".join(f"{cls} {int((code == k + 1).sum()):,}" for k, (cls, _) in enumerate(_DROPPED)
                           if (code == k + 1).any())
        raise CalibrationError(f"no usable rows: all {n:,} rows dropped ({counts})")
    kc = (day_ns if date_only else ct.ns)[keep]
    w0 = start if start is not None else pd.Timestamp(int(kc.min()))
    # dates only: the log runs to the end of its last day, not that day's midnight
    w1 = end if end is not None else pd.Timestamp(int(kc.max()) + (_DAY_NS if date_only else 0))

    # -- closure classes of kept rows, first match wins
    dvals = closed.to_numpy()
    if "status" in col:
        folded = {str(c).strip().casefold() for c in cancelled}
        is_cancel = status.str.casefold().isin(folded).to_numpy()
    else:
        is_cancel = np.zeros(n, bool)
    with np.errstate(invalid="ignore"):
        dur_ns = (dvals - cvals).astype("timedelta64[ns]").astype(np.int64).astype(np.float64)
    has_d = ~np.isnat(dvals) & ~np.isnat(cvals)
    dur_ns[~has_d] = np.nan
    kclass = np.full(n, -1, np.int8)
    order_masks = [d_bad, has_d & (dur_ns < 0), is_cancel, d_empty, has_d & (dur_ns == 0), has_d & (dur_ns > 0)]
    for k, m in enumerate(order_masks):
        kclass[keep & (kclass < 0) & m] = k
    assert not (keep & (kclass < 0)).any()
    censored = keep & (kclass == 3)
    usable = keep & ((kclass == 4) | (kclass == 5))
    duration_h = np.full(n, np.nan)
    duration_h[usable] = dur_ns[usable] / 3.6e12
    w1_ns = np.datetime64(w1.to_datetime64(), "ns")  # type: ignore[call-overload]  # as above
    duration_h[censored] = (w1_ns - cvals[censored]).astype("timedelta64[ns]").astype(np.int64) / 3.6e12

    # -- flags on kept rows
    if cat_empty.any():
        category = category.where(~cat_empty, MISSING)
    flag_masks.append(("category missing", cat_empty, f"kept as {MISSING!r}",
                       f"column {col['category']!r}: empty category"))
    if "channel" in col:
        if ch_empty.any():
            channel = channel.where(~ch_empty, MISSING)
        flag_masks.append(("channel missing", ch_empty, f"kept as {MISSING!r}",
                           f"column {col['channel']!r}: empty channel"))
    else:
        flag_masks.append(("no channel column", np.ones(n, bool), "kept, channel ''",
                           "no channel column mapped: channel mix and staff share unknown"))
    if "area" in col:
        area, area_empty = _text(df[col["area"]], "area", col["area"], flag_masks)
        area = area.where(~area_empty, np.nan)
        flag_masks.append(("area missing", area_empty, "kept, area NaN", f"column {col['area']!r}: empty area"))
    else:
        area = pd.Series(np.nan, index=df.index, dtype=object)
    lat = np.full(n, np.nan)
    lon = np.full(n, np.nan)
    if "lat" in col or "lon" in col:
        if "lat" not in col or "lon" not in col:
            one = "lat" if "lat" in col else "lon"
            flag_masks.append(("coordinates missing", np.ones(n, bool), "kept, no location",
                               f"only {one} is mapped: a location needs both lat and lon"))
        else:
            lat, lat_e = _num(df[col["lat"]])
            lon, lon_e = _num(df[col["lon"]])
            missing = lat_e | lon_e
            notnum = ~missing & (np.isnan(lat) | np.isnan(lon))
            with np.errstate(invalid="ignore"):
                rng = ~missing & ~notnum & ((np.abs(lat) > 90) | (np.abs(lon) > 180))
            zero = ~missing & ~notnum & ~rng & (lat == 0) & (lon == 0)
            where = f"columns {col['lat']!r}, {col['lon']!r}"
            flag_masks += [
                ("coordinates missing", missing, "kept, no location", f"{where}: empty"),
                ("coordinates not numeric", notnum, "kept, no location",
                 f"{where}: not numbers, {_examples(df[col['lat']].astype(str) + ', ' + df[col['lon']].astype(str), notnum & keep)}"),
                ("coordinates out of range", rng, "kept, no location", f"{where}: |lat| > 90 or |lon| > 180"),
                ("coordinates (0, 0)", zero, "kept, no location", f"{where}: (0, 0)"),
            ]
            bad_xy = missing | notnum | rng | zero
            valid = keep & ~bad_xy
            for la, lo, _k, note in _placeholders(lat, lon, valid):
                m = ~bad_xy & (lat == la) & (lon == lo)
                flag_masks.append((f"placeholder coordinates ({la:g}, {lo:g})", m, "kept, no location",
                                   f"{where}: {note}"))
                bad_xy = bad_xy | m
            lat = np.where(bad_xy, np.nan, lat)
            lon = np.where(bad_xy, np.nan, lon)

    # -- rows table
    records = []
    for k, (cls, note) in enumerate(_DROPPED):
        m = code == k + 1
        extra = ""
        if cls == "created unparseable" and m.any():
            extra = "; " + _examples(c_text, m)
        elif cls == "outside the window":
            extra = f"; window {w0} -> {w1}"
        records.append((cls, int(m.sum()), "dropped", "dropped", note + extra))
    for k, (cls, action, note) in enumerate(_KEPT):
        m = keep & (kclass == k)
        extra = ""
        if cls == "closed unparseable" and m.any():
            extra = "; " + _examples(d_text, m)
        elif cls == "closed before created" and m.any():
            extra = "; " + _examples(c_text + " -> " + d_text, m)
        elif cls == "cancelled":
            extra = f" ({', '.join(map(str, cancelled))})" if "status" in col else "; no status column mapped"
        records.append((cls, int(m.sum()), action, "kept", note + extra))
    for cls, m, action, note in flag_masks:
        cnt = int((m & keep).sum())
        if cnt:
            records.append((cls, cnt, action, "flag", note))
    rows = pd.DataFrame.from_records(records, columns=["class", "count", "action", "kind", "note"])
    rows["count"] = rows["count"].astype(np.int64)

    # -- cases, in created order
    idx = np.flatnonzero(keep)
    idx = idx[np.argsort(cvals[idx], kind="stable")]
    staff = channel.isin(staff_resolved).to_numpy() if staff_resolved else np.zeros(n, bool)
    def take(s: pd.Series) -> pd.Series:  # keeps Arrow-backed strings as they are (no Python objects)
        return s.iloc[idx].reset_index(drop=True)

    cases = pd.DataFrame({
        "created": take(created).astype("datetime64[ns]"),
        "closed": take(closed).astype("datetime64[ns]"),
        "category": take(category).astype(str),
        "channel": take(channel).astype(str),
        "staff": staff[idx],
        "lat": lat[idx].astype(np.float64),
        "lon": lon[idx].astype(np.float64),
        "area": take(area),
        "id": take(ids).astype(str) if ids is not None else pd.Series("", index=range(len(idx)), dtype=str),
        "status": take(status).astype(str),
        "duration_h": duration_h[idx],
        "censored": censored[idx],
        "closure_ok": (usable | censored)[idx],
    })
    return CaseLog(cases=cases, window=(pd.Timestamp(w0), pd.Timestamp(w1)), rows=rows, source=name,
                   n_read=n, staff_channels=tuple(staff_resolved), notes=tuple(notes), columns=dict(mapping))


def _exact_duplicates(df: pd.DataFrame) -> np.ndarray:
    """Rows equal in every mapped column to an earlier row."""
    try:
        return df.duplicated(keep="first").to_numpy()
    except TypeError:  # unhashable cells (lists in a DataFrame source)
        return df.astype(str).duplicated(keep="first").to_numpy()


def _num(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Numbers of a coordinate column and a mask of empty cells (non-numbers come back NaN)."""
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        v = s.to_numpy(dtype=np.float64, na_value=np.nan)
        return v, np.isnan(v)
    t, empty = _text(s)
    v = pd.to_numeric(t.where(~empty, None), errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    return v, empty
