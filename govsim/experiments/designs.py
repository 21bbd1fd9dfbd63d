"""Experimental designs (试验设计): which points an experiment runs.

A *design* is a table: one row per point, one column per dotted scenario key
(``workers.per_grid``, ``sensors.coverage``, ``policy`` …), each cell the value
that key takes at that point, written as in a scenario file (``2``, ``0.3``,
``"45min"``, ``"smart_dispatch"``). :func:`govsim.sweep` runs any design with
``design=`` — a DataFrame or a CSV file — and every point with the same
replication seeds (common random numbers).

Designs built here:

* :func:`full_factorial` — every combination of listed levels (what
  ``sweep(params=...)`` runs);
* :func:`latin_hypercube` and :func:`sobol_design` — space-filling samples of
  :class:`Factor` ranges, from :mod:`scipy.stats.qmc` (scrambled, seeded);
* :func:`read_design` — a table written by hand or by another tool, checked
  cell by cell (the file, row and column of any bad cell are named).

A :class:`Factor` maps the unit interval onto its range: a continuous factor
linearly, an integer factor (``workers.per_grid=1,4``: both ends whole numbers)
onto equally likely whole numbers, and a factor with a unit (``45min,3h`` is
refused; ``10min,60min`` is a number of minutes) keeps its unit. The same
mapping serves the sensitivity methods, which sample the unit hypercube.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from govsim.experiments.errors import ExperimentError

__all__ = ["Factor", "as_factors", "full_factorial", "latin_hypercube", "parse_factor", "read_design",
           "sobol_design", "unit_design"]

_WITH_UNIT = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-z]+)\s*$")


@dataclass(frozen=True)
class Factor:
    """A scenario key varied over ``[low, high]``.

    ``integer``: whole numbers from ``low`` to ``high``, each equally likely;
    ``unit``: values are written with it (``"12.5min"``), as a scenario file would.
    """

    key: str
    low: float
    high: float
    integer: bool = False
    unit: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.key, str) or not self.key.strip():
            raise ExperimentError(f"a factor needs a dotted scenario key, got {self.key!r}")
        for name in ("low", "high"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
                raise ExperimentError(f"factor {self.key}: {name} must be a finite number, got {v!r}")
        if not self.low < self.high:
            raise ExperimentError(f"factor {self.key}: low ({self.low:g}) must be below high "
                                  f"({self.high:g})")
        if self.integer and not (float(self.low).is_integer() and float(self.high).is_integer()):
            raise ExperimentError(f"factor {self.key}: an integer factor needs whole-number ends, "
                                  f"got {self.low:g} and {self.high:g}")

    @property
    def levels(self) -> int | None:
        """How many distinct values an integer factor takes (None: continuous)."""
        return int(self.high - self.low) + 1 if self.integer else None

    def number(self, u: np.ndarray) -> np.ndarray:
        """The factor's numeric values at unit-interval positions ``u`` (in [0, 1])."""
        u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        if self.integer:
            k = np.floor(self.low + u * (self.high - self.low + 1.0))
            return np.minimum(k, self.high)
        return self.low + u * (self.high - self.low)

    def value(self, x: float) -> Any:
        """One numeric value as a scenario file writes it (``3``, ``0.25``, ``"12.5min"``)."""
        v: Any = int(x) if self.integer else float(x)
        return f"{v!r}{self.unit}" if self.unit else v

    def describe(self) -> str:
        kind = "whole numbers" if self.integer else "uniform"
        return f"{self.key} ∈ [{self.value(self.low)}, {self.value(self.high)}] ({kind})"


def _end(text: str, key: str, spec: str) -> tuple[float, str, bool]:
    """One end of a range: (number, unit, is_integer)."""
    from govsim.scenario import ScenarioError, parse_override

    try:
        value = parse_override(f"{key}={text}")[1]
    except ScenarioError as err:
        raise ExperimentError(f"{spec!r}: " + "; ".join(err.messages)) from None
    if isinstance(value, bool):
        raise ExperimentError(f"{spec!r}: {text.strip()!r} is not a number")
    if isinstance(value, numbers.Integral):
        return float(value), "", True
    if isinstance(value, numbers.Real):
        return float(value), "", False
    m = _WITH_UNIT.match(str(value))
    if m is None:
        raise ExperimentError(f"{spec!r}: {text.strip()!r} is neither a number nor a number with a "
                              f"unit (such as 30min)")
    return float(m.group(1)), m.group(2), False


def parse_factor(text: str) -> Factor:
    """``"workers.per_grid=1,4"`` → an integer factor; ``"participation.report_probability=0.2,0.8"``
    → a continuous one; ``"report_delay.mean=10min,60min"`` → minutes, written with the unit.
    A factor is integer when both ends are written as whole numbers (``1,4``; ``1.0,4.0`` is
    continuous)."""
    key, sep, rest = str(text).partition("=")
    key = key.strip()
    parts = rest.split(",")
    if not sep or not key or len(parts) != 2 or not all(p.strip() for p in parts):
        raise ExperimentError(f"{text!r}: expected KEY=LOW,HIGH (e.g. workers.per_grid=1,4 or "
                              f"participation.report_probability=0.2,0.8)")
    (lo, u1, i1), (hi, u2, i2) = (_end(p, key, text) for p in parts)
    if u1 != u2:
        raise ExperimentError(f"{text!r}: both ends need the same unit, got {u1 or 'none'!r} and "
                              f"{u2 or 'none'!r}")
    return Factor(key, lo, hi, integer=i1 and i2 and not u1, unit=u1)


def as_factors(factors: Any) -> list[Factor]:
    """Factors from a :class:`Factor`, a ``"key=low,high"`` text, a list of those, or a mapping
    ``{key: (low, high)}``; at least one, each key once."""
    if isinstance(factors, (str, Factor)):
        factors = [factors]
    if isinstance(factors, Mapping):
        factors = [Factor(str(k), *v) if isinstance(v, (tuple, list)) else v for k, v in factors.items()]
    try:
        out = [f if isinstance(f, Factor) else parse_factor(f) for f in factors]
    except TypeError:
        raise ExperimentError("factors must be a list of Factor or 'key=low,high' texts") from None
    if not out:
        raise ExperimentError("at least one factor (key=low,high) is needed")
    keys = [f.key for f in out]
    dup = sorted({k for k in keys if keys.count(k) > 1})
    if dup:
        raise ExperimentError(f"factor {dup[0]} is given twice")
    return out


_factors = as_factors


def unit_design(factors: Sequence[Factor | str], u: np.ndarray) -> pd.DataFrame:
    """The design whose row ``i`` puts every factor at unit position ``u[i, j]``."""
    fs = _factors(factors)
    u = np.asarray(u, dtype=float)
    if u.ndim != 2 or u.shape[1] != len(fs):
        raise ExperimentError(f"expected an array of shape (points, {len(fs)}), got {u.shape}")
    cols: dict[str, Any] = {}
    for j, f in enumerate(fs):
        x = f.number(u[:, j])
        if f.unit:
            cols[f.key] = pd.Series([f.value(v) for v in x], dtype=object)
        else:
            cols[f.key] = x.astype(np.int64) if f.integer else x
    return pd.DataFrame(cols)


def full_factorial(levels: Mapping[str, Sequence[Any]]) -> pd.DataFrame:
    """Every combination of the levels (the first key varies slowest)."""
    if not isinstance(levels, Mapping) or not levels:
        raise ExperimentError("full_factorial needs a dict of key: list of levels")
    keys = list(levels)
    lists = [list(v) for v in levels.values()]
    for k, v in zip(keys, lists):
        if not v:
            raise ExperimentError(f"{k}: no levels")
    index = pd.MultiIndex.from_product(lists, names=keys)
    return index.to_frame(index=False)


def latin_hypercube(factors: Sequence[Factor | str], n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` points of a scrambled Latin hypercube (:class:`scipy.stats.qmc.LatinHypercube`):
    each factor's range cut into ``n`` equal slices, one point in each."""
    from scipy.stats import qmc

    fs = _factors(factors)
    n = _count(n)
    sampler = qmc.LatinHypercube(d=len(fs), rng=np.random.default_rng(seed))
    return unit_design(fs, sampler.random(n))


def sobol_design(factors: Sequence[Factor | str], n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` points of a scrambled Sobol sequence (:class:`scipy.stats.qmc.Sobol`); ``n`` is
    rounded up to a power of two, which keeps the sequence balanced."""
    from scipy.stats import qmc

    fs = _factors(factors)
    n = _count(n)
    m = max(0, math.ceil(math.log2(n)))
    sampler = qmc.Sobol(d=len(fs), scramble=True, rng=np.random.default_rng(seed))
    return unit_design(fs, sampler.random_base2(m))


def _count(n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ExperimentError(f"the number of design points must be a positive integer, got {n!r}")
    return int(n)


def _cell(x: Any) -> Any:
    """A design cell as a scenario value: numpy scalars become Python numbers."""
    return x.item() if isinstance(x, np.generic) else x


def read_design(design: pd.DataFrame | str | Path) -> pd.DataFrame:
    """A design from a DataFrame or a CSV file (one column per dotted key), checked: named
    columns, unique, at least one row, no empty or non-finite cell. CSV cells are read as
    pandas reads them (numbers as numbers, the rest as text, such as ``45min``)."""
    where = "the design"
    if isinstance(design, (str, Path)):
        where = str(design)
        df = _read_csv(Path(design), where)
        first_row = 2  # the header is line 1
    elif isinstance(design, pd.DataFrame):
        df = design.copy()
        first_row = 0
    else:
        raise ExperimentError(f"a design is a DataFrame or a CSV file, got {type(design).__name__}")
    if df.shape[1] == 0:
        raise ExperimentError(f"{where}: no columns; expected one column per dotted scenario key")
    names = [str(c).strip() for c in df.columns]
    for j, name in enumerate(names):
        if not name or name.startswith("Unnamed:"):
            raise ExperimentError(f"{where}: column {j + 1} has no name; expected a dotted scenario "
                                  f"key such as workers.per_grid")
    dup = sorted({c for c in names if names.count(c) > 1})
    if dup:
        raise ExperimentError(f"{where}: column {dup[0]!r} appears twice")
    df.columns = names
    if len(df) == 0:
        raise ExperimentError(f"{where}: no rows; expected one row per design point")
    for name in names:
        col = df[name]
        for i, x in enumerate(col):
            bad = (x is None or (isinstance(x, str) and not x.strip())
                   or (isinstance(x, (float, np.floating)) and not math.isfinite(float(x))))
            if bad:
                row = i + first_row
                label = f"line {row}" if first_row else f"row {row}"
                raise ExperimentError(f"{where}: {label}, column {name!r}: empty or non-finite "
                                      f"value {x!r}; every point needs a value for every key")
        if col.dtype == object:
            df[name] = pd.Series([_cell(x) for x in col], index=df.index, dtype=object).infer_objects()
    return df.reset_index(drop=True)


def _read_csv(path: Path, where: str) -> pd.DataFrame:
    """The cells of a CSV design, each an int, a float or a text; ragged lines are named."""
    import csv
    import io

    if not path.is_file():
        raise ExperimentError(f"{where}: design file not found")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ExperimentError(f"{where}: not a UTF-8 text file") from None
    except OSError as err:
        raise ExperimentError(f"{where}: cannot read the design ({err.strerror or err})") from None
    try:
        rows = [r for r in csv.reader(io.StringIO(text, newline="")) if r]
    except csv.Error as err:
        raise ExperimentError(f"{where}: not a readable CSV design ({err})") from None
    if not rows:
        raise ExperimentError(f"{where}: no columns; expected one column per dotted scenario key")
    header, body = rows[0], rows[1:]
    for line, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise ExperimentError(f"{where}: line {line} has {len(row)} cells; the header has "
                                  f"{len(header)}: not a readable CSV design")
    return pd.DataFrame([[_csv_cell(c) for c in row] for row in body],
                        columns=pd.Index(header, dtype=object), dtype=object)


def _csv_cell(text: str) -> Any:
    """A CSV cell: an integer, else a float, else the text itself (stripped)."""
    s = text.strip()
    try:
        return int(s)
    except ValueError:
        pass
    try:
        return float(s)
    except ValueError:
        return s
