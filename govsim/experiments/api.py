"""Replications, paired comparisons and sweeps: :func:`replicate`, :func:`compare`, :func:`sweep`.

Each experiment is a set of *points* (scenarios: one for :func:`replicate`, one
per scenario for :func:`compare`, one per parameter combination for
:func:`sweep`) times ``n`` replications. Replication ``i`` of every point runs
with the seed sequence ``SeedSequence(seed, spawn_key=(i,))``
(:mod:`govsim.experiments.seeds`): independent across replications, common
across points (common random numbers), and the same whatever executor runs it.
Results come back as small objects with ``.runs`` (tidy: one row per point ×
replication) and ``.table`` (aggregated, with Student-t intervals).
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import math
import numbers
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from govsim.experiments.errors import ExperimentError
from govsim.experiments.executors import make_executor
from govsim.experiments.runner import RunTask, plugin_modules, run_task
from govsim.experiments.seeds import master_seed
from govsim.experiments.stats import (
    aggregate,
    holm_adjust,
    interval_method,
    metric_unit,
    paired_differences,
    replications_needed,
)
from govsim.experiments.store import ResultsStore
from govsim.metrics import summary_keys
from govsim.suggest import did_you_mean
from govsim.units import format_duration

__all__ = ["Comparison", "Replications", "Sweep", "compare", "replicate", "sweep"]

#: the built-in metrics (a mechanism registered by study code adds its own: see summary_keys)
METRICS = list(summary_keys())  # the built-ins at import time; functions ask summary_keys()
#: Metrics shown by ``Sweep.to_string()`` (and ``govsim sweep``) unless others are asked for.
HEADLINE_METRICS = ("discovery_delay_mean", "resolution_time_mean", "on_time_rate",
                    "worker_utilisation")


# --------------------------------------------------------------------------- points


@dataclasses.dataclass
class _Point:
    index: int
    label: str
    params: dict[str, Any]
    scenario: Any  # Scenario
    hash: str


def _duration_text(warmup: Any) -> Any:
    """A warm-up as the scenario file would write it: numbers are hours."""
    if isinstance(warmup, numbers.Real) and not isinstance(warmup, bool):
        return f"{float(warmup)!r}h" if warmup else 0
    return warmup


def _with_source(err: Exception, source: str | None) -> Exception:
    from govsim.scenario import ScenarioError

    if isinstance(err, ScenarioError) and err.source in (None, "<dict>") and source:
        return err.with_source(source)
    return err


def _load(scenario: Any, overrides: Mapping[str, Any] | None) -> Any:
    """A validated Scenario from a path, a dict or a Scenario, with ``overrides`` applied."""
    from govsim.scenario import load_scenario
    from govsim.scenario.schema import Scenario

    if isinstance(scenario, Scenario):
        if scenario.raw is None:
            raise ExperimentError("this Scenario has no .raw document; load it with "
                                  "govsim.load_scenario(path_or_dict)")
        if not overrides:
            return scenario
        try:
            loaded = load_scenario(scenario.raw, overrides=overrides)
        except Exception as err:
            raise _with_source(err, scenario.source) from None
        return dataclasses.replace(loaded, source=scenario.source)
    if isinstance(scenario, (str, Path, Mapping)):
        return load_scenario(scenario, overrides=overrides)
    raise ExperimentError(f"expected a scenario (file path, dict or Scenario), got {type(scenario).__name__}")


def _base_overrides(overrides: Mapping[str, Any] | None, warmup: Any) -> dict[str, Any]:
    out = dict(overrides or {})
    if warmup is not None:
        out["warmup"] = _duration_text(warmup)
    return out


def _absolute(source: str | None) -> str | None:
    """A scenario file's path made absolute, so that workers started in another directory
    (Dask) find the files it names (grids_csv) relative to it."""
    if source and source != "<dict>" and Path(source).exists():
        return str(Path(source).resolve())
    return source


def point_hash(scenario: Any) -> str:
    """Content hash of a loaded scenario: its merged document, plus the grids CSV it reads."""
    from govsim.scenario import scenario_hash

    h = scenario_hash(scenario.raw)
    csv = scenario.territory.grids_csv
    if csv:
        base = Path(scenario.source).parent if scenario.source and scenario.source != "<dict>" else Path(".")
        try:
            data = (base / csv).read_bytes()
        except OSError:
            data = b""
        h = hashlib.sha256((h + hashlib.sha256(data).hexdigest()).encode()).hexdigest()
    return h


def _check_n(n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ExperimentError(f"n (replications) must be a positive integer, got {n!r}")
    return int(n)


def _plain(x: Any) -> Any:
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, Mapping):
        return {str(k): _plain(v) for k, v in x.items()}
    return x


# --------------------------------------------------------------------------- running


def _progress(total: int, initial: int, desc: str, enabled: bool | None) -> Any:
    if enabled is None:
        enabled = total - initial > 1 and sys.stderr.isatty()
    if not enabled:
        return None
    from tqdm import tqdm

    class _Bar(tqdm):  # no monitor thread: the process stays single-threaded (safe to fork)
        monitor_interval = 0

    return _Bar(total=total, initial=initial, desc=desc, unit="run", file=sys.stderr,
                dynamic_ncols=True)


def _execute(kind: str, points: list[_Point], n: int, seed: int, *, executor: Any, jobs: Any,
             scheduler: Any, out: Any, force: bool, progress: bool | None, issues: bool,
             extra: dict[str, Any], cache: dict[tuple[str, int], dict[str, Any]] | None = None,
             ) -> tuple[pd.DataFrame, pd.DataFrame | None, dict[str, Any]]:
    """Run (or load) every point × replication; the tidy runs table, the issues and info.

    Points with the same content hash run once per replication (a run is determined by the
    scenario and its seed, so their results are equal). ``cache`` (keyed by point hash and
    replication) lends results computed earlier in this process, and receives the new ones:
    a sequential procedure that adds replications does not recompute the first ones.
    """
    results: dict[tuple[int, int], dict[str, Any]] = {}
    store = None
    if out is not None:
        definition = {"kind": kind, "seed": seed, **_plain(extra),
                      "points": [{"point": p.index, "label": p.label, "params": _plain(p.params),
                                  "scenario": p.scenario.source, "name": p.scenario.name,
                                  "hash": p.hash} for p in points]}
        store = ResultsStore(out, definition, force=force)

    def same_run(res: dict[str, Any], point: int) -> dict[str, Any]:
        return res if res["point"] == point else {**res, "point": point}

    try:
        if store is not None:
            store.open(n)
        tasks = []
        waiting: dict[tuple[str, int], list[int]] = {}  # (hash, replication) -> points
        for p in points:
            plugins = plugin_modules(p.scenario)
            for i in range(n):
                stored = store.load(p.index, i, issues) if store is not None else None
                if (stored is None and cache is not None and (p.hash, i) in cache
                        and (not issues or "issues" in cache[(p.hash, i)])):
                    stored = same_run(cache[(p.hash, i)], p.index)
                    if store is not None:
                        store.save(stored)
                if stored is not None:
                    results[(p.index, i)] = stored
                elif (p.hash, i) in waiting:
                    waiting[(p.hash, i)].append(p.index)
                else:
                    waiting[(p.hash, i)] = [p.index]
                    tasks.append(RunTask(p.index, i, seed, p.scenario.raw, _absolute(p.scenario.source),
                                         plugins, issues))
        hashes = {p.index: p.hash for p in points}
        ex, owned = make_executor(executor, jobs=jobs, scheduler=scheduler, n_tasks=len(tasks))
        info = {"executor": "", "computed": len(tasks), "reused": len(results)}
        bar = _progress(len(points) * n, len(results), kind, progress) if tasks else None
        stream = ex.map(run_task, tasks) if tasks else iter(())
        try:
            for res in stream:
                key = (hashes[res["point"]], res["replication"])
                if cache is not None:
                    cache[key] = res
                for index in waiting[key]:
                    one = same_run(res, index)
                    if store is not None:
                        store.save(one)
                    results[(index, res["replication"])] = one
                if bar is not None:
                    bar.update(len(waiting[key]))
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
            if bar is not None:
                bar.close()
            info["executor"] = ex.describe()
            if owned:
                ex.close()
    finally:
        if store is not None:
            store.close()
    keys = sorted(results)
    metrics = list(summary_keys())  # once: the registry is read per call
    runs = pd.DataFrame([[results[k]["summary"].get(m, math.nan) for m in metrics] for k in keys],
                        columns=metrics, dtype=float)
    runs.insert(0, "point", np.array([k[0] for k in keys], dtype=np.int64))
    runs.insert(1, "replication", np.array([k[1] for k in keys], dtype=np.int64))
    issue_table = None
    if issues:
        parts = []
        for k in keys:
            df = results[k]["issues"].copy()
            df.insert(0, "_point", k[0])
            df.insert(1, "replication", k[1])
            parts.append(df)
        issue_table = pd.concat(parts, ignore_index=True) if parts else None
    info["store"] = store
    return runs, issue_table, info


def _finish_store(info: dict[str, Any], tables: dict[str, pd.DataFrame]) -> None:
    store = info.pop("store", None)
    if store is None:
        return
    for name, table in tables.items():
        store.write_table(name, table, parquet=name == "runs")


# --------------------------------------------------------------------------- formatting


def _fmt(x: Any) -> str:
    if isinstance(x, (bool, np.bool_)):
        return "*" if x else ""
    if isinstance(x, str):
        return x
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if isinstance(x, (int, np.integer)):
        return f"{int(x):d}"
    x = float(x)
    if x.is_integer() and abs(x) >= 1 and abs(x) < 1e15:
        return f"{int(x):d}"
    return f"{x:.4g}"


def format_table(table: pd.DataFrame, index: str | None = None) -> str:
    """Aligned text of a table (numbers to 4 significant digits, NaN as –)."""
    t = table.set_index(index) if index else table
    t = t.copy()
    for c in t.columns:
        t[c] = [_fmt(v) for v in t[c]]
    if index:
        t.index.name = None
    return t.to_string(index=bool(index))


def _ci_note(n: int, confidence: float) -> str:
    if n < 2:
        return "n=1: no confidence intervals (NaN); use n >= 2"
    return f"{confidence:.0%} Student-t intervals over {n} replications"


def _interval_note(n: int, confidence: float, methods: Iterable[str]) -> str:
    """:func:`_ci_note`, and which rows have bootstrap intervals."""
    note = _ci_note(n, confidence)
    if "bootstrap" in set(methods):
        note += " (BCa bootstrap for the percentile metrics: column interval)"
    return note


def _signed(x: float) -> str:
    if x == 0:
        return "0"
    text = _fmt(x)
    return text if x < 0 else "+" + text


def _fmt_level(x: Any, unit: str) -> str:
    """A mean in its unit: shares in %, hours with ``h``."""
    if x is None or pd.isna(x):
        return "–"
    if unit == "share":
        return f"{_fmt(100.0 * float(x))}%"
    return f"{_fmt(x)} h" if unit == "h" else _fmt(x)


def _fmt_diff(x: Any, unit: str) -> str:
    """A difference in its unit, signed: shares in percentage points (pp), hours with ``h``."""
    if x is None or pd.isna(x):
        return "–"
    x = float(x)
    if unit == "share":
        return f"{_signed(100.0 * x)} pp"
    return f"{_signed(x)} h" if unit == "h" else _signed(x)


def _fmt_change(change: Any, low: Any, high: Any, n: int) -> str:
    """A relative change and its interval, in %."""
    if change is None or pd.isna(change) or not math.isfinite(change):
        return "–"
    text = f"{change:+.1%}"
    if n < 2:
        return text
    if pd.isna(low) or pd.isna(high):
        return text + " [unbounded]"
    return text + f" [{low:+.1%}, {high:+.1%}]"


class _Experiment:
    """Common parts of the result objects."""

    runs: pd.DataFrame
    table: pd.DataFrame
    n: int
    seed: int
    confidence: float
    info: dict[str, Any]
    issues: pd.DataFrame | None

    def __repr__(self) -> str:
        return self.to_string()

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:  # IPython
        p.text(self.to_string())

    def to_string(self, metrics: Sequence[str] | None = None) -> str:  # pragma: no cover
        raise NotImplementedError


class Replications(_Experiment):
    """``n`` replications of one scenario: ``.runs`` (one row per replication), ``.table``
    (per metric: ``mean, sd, ci_low, ci_high, half_width, n``), ``.methods`` (per metric, the
    interval's method: ``"t"`` or ``"bootstrap"``), ``.issues`` if asked for. With
    ``n="auto"``: ``.precision`` (per chosen metric, the half-width reached against its
    target) and ``.note``; ``.n`` is the number of replications used."""

    def __init__(self, scenario: Any, runs: pd.DataFrame, table: pd.DataFrame, n: int, seed: int,
                 confidence: float, info: dict[str, Any], issues: pd.DataFrame | None, *,
                 methods: pd.Series | None = None, precision: pd.DataFrame | None = None,
                 note: str = "") -> None:
        self.scenario = scenario
        self.name = scenario.name
        self.runs, self.table, self.n, self.seed = runs, table, n, seed
        self.confidence, self.info, self.issues = confidence, info, issues
        if methods is None:
            methods = pd.Series("t", index=table["metric"].tolist(), name="interval", dtype=object)
        self.methods = methods
        self.precision, self.note = precision, note

    def interval(self, metric: str) -> tuple[float, float]:
        """``(ci_low, ci_high)`` of ``metric``."""
        row = self.table.set_index("metric").loc[metric]
        assert isinstance(row, pd.Series)  # one row: the metrics are unique
        return float(row["ci_low"]), float(row["ci_high"])

    def to_string(self, metrics: Sequence[str] | None = None) -> str:
        sc = self.scenario
        warm = f", warm-up {format_duration(sc.warmup)} excluded" if sc.warmup else ""
        t = self.table if metrics is None else self.table[self.table["metric"].isin(metrics)]
        methods = [self.methods.get(m, "t") for m in t["metric"]]
        head = (f"{self.name}: {self.n} replication{'s' if self.n != 1 else ''} (seed {self.seed}, "
                f"horizon {sc.horizon / 24:g} days{warm}; "
                f"{_interval_note(self.n, self.confidence, methods)})")
        if "bootstrap" in methods:
            t = t.assign(interval=methods)
        elif "interval" in t:
            t = t.drop(columns="interval")  # every row Student-t: the header says so
        text = head + "\n" + format_table(t, index="metric")
        if self.note:
            text += "\n" + self.note
        return text


class Comparison(_Experiment):
    """Paired comparison of scenarios on common random numbers.

    ``.runs``: one row per scenario × replication. ``.table``: per compared scenario and
    metric, its ``unit``, ``difference`` = scenario − baseline (mean of the per-replication
    differences), its ``sd``, interval (``interval``: ``"t"`` or ``"bootstrap"``), ``n``
    pairs, the two-sided ``p_value`` of no difference, ``p_holm`` (Holm-adjusted over the
    metrics with a p-value, within each compared scenario), ``significant`` (``p_holm < 1 −
    confidence``), ``significant_unadjusted`` (the interval excludes 0, metric by metric) and
    the relative ``change`` (difference ÷ |baseline mean|) with its interval ``change_low``,
    ``change_high``. ``.means``: each scenario's own intervals. With ``n="auto"``:
    ``.precision`` and ``.note`` as for :class:`Replications`.
    """

    def __init__(self, labels: list[str], scenarios: list[Any], runs: pd.DataFrame,
                 table: pd.DataFrame, means: pd.DataFrame, n: int, seed: int, confidence: float,
                 info: dict[str, Any], issues: pd.DataFrame | None, *,
                 precision: pd.DataFrame | None = None, note: str = "") -> None:
        self.labels, self.scenarios = labels, scenarios
        self.baseline = labels[0]
        self.runs, self.table, self.means, self.n, self.seed = runs, table, means, n, seed
        self.confidence, self.info, self.issues = confidence, info, issues
        self.precision, self.note = precision, note

    def significant(self, scenario: str | None = None, *, metrics: Sequence[str] | None = None,
                    correction: str | None = "holm") -> list[str]:
        """Metrics whose difference from the baseline is significant at level ``1 −
        confidence``, for ``scenario`` (default: the first compared one).

        ``correction="holm"`` (default): Holm's step-down correction over the family of
        metrics tested — ``metrics`` if given, else every metric with a p-value for that
        scenario — so that the chance of any false "significant" in the family is at most
        ``1 − confidence``. ``correction=None``: each metric on its own (its interval
        excludes 0), with that chance growing with the number of metrics looked at."""
        scenario = self.labels[1] if scenario is None else scenario
        if scenario not in self.labels[1:]:
            raise ExperimentError(f"scenario {scenario!r} is not compared with the baseline "
                                  f"{self.baseline!r}; compared: {', '.join(self.labels[1:])}")
        t = self.table[self.table["scenario"] == scenario]
        if metrics is not None:
            chosen = [metrics] if isinstance(metrics, str) else list(metrics)
            known = t["metric"].tolist()
            for m in chosen:
                if m not in known:
                    raise ExperimentError(f"unknown metric {m!r}{did_you_mean(m, known, style='clause')}")
            t = t[t["metric"].isin(chosen)]
        if correction is None:
            column = "significant_unadjusted" if "significant_unadjusted" in t else "significant"
            return t.loc[t[column].astype(bool), "metric"].tolist()
        if correction != "holm":
            raise ExperimentError(f"correction must be 'holm' or None, got {correction!r}")
        if "p_value" not in t:  # a table stored before p-values existed
            raise ExperimentError("this comparison's table has no p-values (stored by an older "
                                  "govsim); run it again")
        adjusted = holm_adjust(t["p_value"].to_numpy(dtype=float))
        return t.loc[adjusted < 1.0 - self.confidence, "metric"].tolist()

    def to_string(self, metrics: Sequence[str] | None = None) -> str:
        parts = []
        for label in self.labels[1:]:
            full = self.table[self.table["scenario"] == label]
            t = full if metrics is None else full[full["metric"].isin(metrics)]
            units = (t["unit"].tolist() if "unit" in t else [metric_unit(m) for m in t["metric"]])
            methods = t["interval"].tolist() if "interval" in t else ["t"] * len(t)
            nan = [math.nan] * len(t)
            lows = t["change_low"].tolist() if "change_low" in t else nan
            highs = t["change_high"].tolist() if "change_high" in t else nan
            show = pd.DataFrame({
                "metric": t["metric"],
                self.baseline: [_fmt_level(v, u) for v, u in zip(t["mean_baseline"], units)],
                label: [_fmt_level(v, u) for v, u in zip(t["mean_scenario"], units)],
                "difference": [_fmt_diff(v, u) for v, u in zip(t["difference"], units)],
                "ci_low": [_fmt_diff(v, u) for v, u in zip(t["ci_low"], units)],
                "ci_high": [_fmt_diff(v, u) for v, u in zip(t["ci_high"], units)],
                "change": [_fmt_change(c, lo, hi, int(k))
                           for c, lo, hi, k in zip(t["change"], lows, highs, t["n"])],
            })
            if "bootstrap" in methods:
                show["interval"] = methods
            show["sig"] = t["significant"].astype(bool).to_numpy()
            if self.n < 2:
                star = ""
            elif "p_value" in full:
                family = int(full["p_value"].notna().sum())
                star = (f"; * = significant after Holm's correction over the {family} metric"
                        f"{'s' if family != 1 else ''} with a p-value (family-wise error rate "
                        f"<= {1 - self.confidence:.0%})")
            else:
                star = "; * = interval excludes 0"
            head = (f"{self.baseline} vs {label}: paired differences ({label} − {self.baseline}) over "
                    f"{self.n} replication{'s' if self.n != 1 else ''}, seed {self.seed}, common random "
                    f"numbers; {_interval_note(self.n, self.confidence, methods)}{star}")
            foot = ("means: shares in %, hours in h; differences: shares in percentage points (pp); "
                    f"change: relative change (difference ÷ |{self.baseline} mean|)"
                    + (f" with its {self.confidence:.0%} interval" if self.n >= 2 else ""))
            parts.append(head + "\n" + format_table(show, index="metric") + "\n" + foot)
        text = "\n\n".join(parts)
        if self.note:
            text += "\n" + self.note
        return text


class Sweep(_Experiment):
    """A sweep over the points of a design: ``.points`` (one row per point: ``point`` and the
    value of each varied key), ``.runs`` (point, values, replication, metrics), ``.table``
    (point, values, then per metric ``mean, sd, ci_low, ci_high, half_width, n``).
    ``.factorial``: the points are a full factorial of ``.params`` (key: its levels)."""

    def __init__(self, scenario: Any, params: dict[str, list[Any]], points: pd.DataFrame,
                 runs: pd.DataFrame, table: pd.DataFrame, n: int, seed: int, confidence: float,
                 info: dict[str, Any], issues: pd.DataFrame | None, *, factorial: bool = True) -> None:
        self.scenario, self.params, self.points = scenario, params, points
        self.runs, self.table, self.n, self.seed = runs, table, n, seed
        self.confidence, self.info, self.issues = confidence, info, issues
        self.factorial = factorial

    @property
    def keys(self) -> list[str]:
        """The varied keys, in the design's column order."""
        return [c for c in self.points.columns if c != "point"]

    def metric(self, name: str) -> pd.DataFrame:
        """The rows of ``.table`` for one metric, indexed by the varied keys (by ``point`` for a
        design whose rows repeat a combination)."""
        known = summary_keys()
        if name not in known:
            raise KeyError(f"unknown metric {name!r}; known: {', '.join(known)}")
        t = self.table[self.table["metric"] == name]
        keys = self.keys or ["point"]
        if t.duplicated(subset=keys).any():
            keys = ["point"]
        return t.set_index(keys)[["mean", "sd", "ci_low", "ci_high", "half_width", "n"]]

    def to_xarray(self) -> Any:
        """The runs as an :class:`xarray.Dataset`: one variable per metric. A full factorial has
        one dimension per varied key plus ``replication``; another design has dimensions
        ``point`` and ``replication``, with the keys as coordinates along ``point``.
        Needs xarray (``pip install "govsim[xarray]"``)."""
        try:
            import xarray as xr
        except ImportError:
            raise ImportError('Sweep.to_xarray needs xarray: pip install "govsim[xarray]"') from None
        metrics = [c for c in self.runs.columns if c in set(summary_keys())]
        keys = self.keys
        if self.factorial and keys and not self.points.duplicated(subset=keys).any():
            frame = self.runs.set_index([*keys, "replication"])[metrics]
            ds = xr.Dataset.from_dataframe(frame)
        else:
            frame = self.runs.set_index(["point", "replication"])[metrics]
            ds = xr.Dataset.from_dataframe(frame)
            pts = self.points.set_index("point")
            for k in keys:
                ds = ds.assign_coords({k: ("point", pts.loc[ds["point"].values, k].to_numpy())})
        ds.attrs.update({"scenario": str(self.scenario.name), "seed": int(self.seed),
                         "replications": int(self.n),
                         "note": "replication i of every point uses the same seed streams "
                                 "(common random numbers)"})
        return ds

    def to_string(self, metrics: Sequence[str] | None = None) -> str:
        metrics = list(metrics or HEADLINE_METRICS)
        show = self.points.copy()
        for m in metrics:
            t = self.table[self.table["metric"] == m].set_index("point")
            show[m] = [f"{_fmt(t.at[p, 'mean'])} ± {_fmt(t.at[p, 'half_width'])}"
                       if self.n >= 2 else _fmt(t.at[p, "mean"]) for p in show["point"]]
        head = (f"{self.scenario.name}: sweep of {len(self.points)} point"
                f"{'s' if len(self.points) != 1 else ''} × {self.n} replication"
                f"{'s' if self.n != 1 else ''} (seed {self.seed}, common random numbers across "
                f"points; {_ci_note(self.n, self.confidence)}"
                + ("; mean ± half-width" if self.n >= 2 else "") + ")")
        return head + "\n" + format_table(show, index="point")


# --------------------------------------------------------------------------- the API


_RUN_DOC = """
    ``seed`` is the master seed (default: the scenario's ``seed`` key, else 0);
    replication ``i`` runs with ``SeedSequence(seed, spawn_key=(i,))``.
    ``warmup`` (a duration such as ``"2d"``, or hours) replaces the scenario's warm-up:
    issues created before it, and worker time and patrols before it, are excluded from
    every metric. ``overrides`` are dotted keys as for :func:`govsim.load_scenario`.

    Execution: ``executor`` is ``None`` (local processes on all cores when there is more
    than one run, else in this process), ``"sequential"``, ``"processes"``, an
    :class:`~govsim.experiments.executors.Executor` (reused) or a
    ``dask.distributed.Client``; ``jobs`` sets the number of processes (1: sequential);
    ``scheduler`` a Dask scheduler address (``"tcp://host:8786"``). Results are the same
    whichever runs them. ``progress``: a tqdm bar (default: only on a terminal).

    ``out``: a directory for the results store (one file per finished run, written
    atomically, and a manifest); running again with the same arguments skips the finished
    runs. A directory holding another experiment is an error unless ``force=True``.
    ``issues=True`` also keeps each run's issues table (``.issues``: the issues of every run,
    after a ``replication`` column and ``scenario`` (compare) or ``sweep_point`` (sweep)).
    ``confidence``: level of the intervals (0.95).
"""


#: replications of the pilot of ``n="auto"``
AUTO_PILOT = 10


def _replications_asked(n: Any, precision: Any, metrics: Any, max_n: Any,
                        pilot: Any) -> tuple[bool, Any, float, list[str], int, int]:
    """``n`` checked, or for ``n="auto"`` its settings: (auto, n, precision, metrics, max_n, pilot)."""
    if isinstance(n, str) and n == "auto":
        return (True, n, *_auto_settings(precision, metrics, max_n, pilot))
    return False, _check_n(n), precision, [], max_n, pilot


def _auto_settings(precision: Any, metrics: Any, max_n: Any, pilot: Any) -> tuple[float, list[str], int, int]:
    """The checked arguments of ``n="auto"``: precision, metrics, max_n, pilot."""
    if (isinstance(precision, bool) or not isinstance(precision, numbers.Real)
            or not 0 < float(precision) < 1):
        raise ExperimentError(f"precision must be a share of the mean between 0 and 1 (0.05 for "
                              f"5%), got {precision!r}")
    for name, value in (("max_n", max_n), ("pilot", pilot)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 2:
            raise ExperimentError(f"{name} must be a whole number of replications >= 2, got {value!r}")
    if pilot > max_n:
        raise ExperimentError(f"the pilot ({pilot} replications) is larger than max_n ({max_n})")
    known = summary_keys()
    chosen = list(HEADLINE_METRICS) if metrics is None else (
        [metrics] if isinstance(metrics, str) else list(metrics))
    if not chosen:
        raise ExperimentError("metrics is empty: name the metrics whose precision decides n")
    for m in chosen:
        if m not in known:
            raise ExperimentError(f"unknown metric {m!r}{did_you_mean(m, known, style='clause')}; "
                                  f"the metrics are those of govsim.metrics.summary_keys()")
    return float(precision), chosen, int(max_n), int(pilot)


def _precision_table(table: pd.DataFrame, metrics: Sequence[str], precision: float, mean: str,
                     confidence: float) -> pd.DataFrame:
    """Per metric of ``metrics`` in ``table``: its ``mean`` column's value, the half-width, the
    target ``precision × |mean|``, the precision ``achieved`` (half-width ÷ |mean|), whether
    the target is ``reached`` and the replications ``needed`` at the spread seen so far
    (NaN when it cannot be said: an undefined metric, a mean of 0)."""
    values = dict(zip(table["metric"], table[mean].to_numpy(dtype=float)))
    halves = dict(zip(table["metric"], table["half_width"].to_numpy(dtype=float)))
    counts = dict(zip(table["metric"], table["n"].to_numpy(dtype=np.int64)))
    rows = []
    for m in metrics:
        value, half, n = float(values[m]), float(halves[m]), int(counts[m])
        target = precision * abs(value)
        achieved = half / abs(value) if value and math.isfinite(half) else math.nan
        reached = bool(math.isfinite(half) and math.isfinite(target) and half <= target)
        needed = math.nan
        if not reached and n >= 2 and math.isfinite(half) and target > 0:
            needed = replications_needed(half, n, target, confidence)
        rows.append({"metric": m, "mean": value, "half_width": half, "target": target,
                     "achieved": achieved, "reached": reached, "needed": needed})
    return pd.DataFrame(rows, columns=["metric", "mean", "half_width", "target", "achieved",
                                       "reached", "needed"])


def _run_auto(run: Any, precision: float, max_n: int, pilot: int) -> tuple[Any, pd.DataFrame, int]:
    """Replications until the half-width of every chosen metric is within ``precision ×
    |mean|``: ``run(n, first)`` runs (or reuses) replications ``0..n−1`` and returns
    ``(result, precision table)``. A pilot of ``pilot``; then, while a metric is not precise
    enough, the largest number it needs at the spread seen so far — at least one more, at
    most twice as many as now (a spread overestimated by a small pilot does not overshoot
    far) — and the check again, up to ``max_n``."""
    n = min(pilot, max_n)
    result, table = run(n, True)
    while n < max_n:
        pending = table[~table["reached"] & table["needed"].notna()]
        if pending.empty:
            break
        n = min(max_n, 2 * n, max(n + 1, int(pending["needed"].max())))
        result, table = run(n, False)
    return result, table, n


def _auto_note(table: pd.DataFrame, n: int, max_n: int, pilot: int, what: str) -> str:
    """What ``n="auto"`` did, per metric: the half-width reached as a share of |mean|."""
    def achieved(r: Any) -> str:
        return f"{r.achieved:.1%}" if math.isfinite(r.achieved) else "undefined"

    rows = list(table.itertuples())
    ok = [f"{r.metric} {achieved(r)}" for r in rows if r.reached]
    missed = [f"{r.metric} {achieved(r)}" for r in rows if not r.reached]
    text = f"n=auto: {n} replications (pilot {pilot}, at most {max_n}) for {what}"
    if ok:
        text += "; reached: " + ", ".join(ok)
    if missed:
        stop = "stopped at max_n" if n >= max_n else "cannot be judged"
        text += f"; NOT reached ({stop}): " + ", ".join(missed)
    return text


def replicate(scenario: Any, n: int | str = 10, seed: int | None = None, *, warmup: Any = None,
              overrides: Mapping[str, Any] | None = None, executor: Any = None,
              jobs: int | None = None, scheduler: Any = None, out: str | Path | None = None,
              force: bool = False, progress: bool | None = None, issues: bool = False,
              confidence: float = 0.95, precision: float = 0.05,
              metrics: Sequence[str] | None = None, max_n: int = 200,
              pilot: int = AUTO_PILOT) -> Replications:
    auto, n, precision, chosen, max_n, pilot = _replications_asked(n, precision, metrics, max_n, pilot)
    sc = _load(scenario, _base_overrides(overrides, warmup))
    seed = master_seed(seed, sc)
    point = _Point(0, sc.name, {}, sc, point_hash(sc))
    cache: dict[tuple[str, int], dict[str, Any]] = {}
    keys = list(summary_keys())
    computed = 0
    check: pd.DataFrame | None

    def run(count: int, first: bool) -> tuple[Any, pd.DataFrame | None]:
        nonlocal computed
        runs, issue_table, info = _execute(
            "replicate", [point], count, seed, executor=executor, jobs=jobs, scheduler=scheduler,
            out=out, force=force and first, progress=progress, issues=issues, extra={}, cache=cache)
        computed += info["computed"]
        runs = runs.drop(columns="point")
        table = aggregate(runs, keys, confidence, bootstrap_seed=seed)
        check = _precision_table(table, chosen, precision, "mean", confidence) if auto else None
        return (runs, issue_table, info, table), check

    if auto:
        (runs, issue_table, info, table), check, n = _run_auto(run, precision, max_n, pilot)
        note = _auto_note(check, n, max_n, pilot, f"half-widths <= {precision:.3g} × |mean|")
        info["computed"] = computed
    else:
        (runs, issue_table, info, table), check = run(int(n), True)
        note = ""
    _finish_store(info, {"runs": runs, "table": table})
    if issue_table is not None:
        issue_table = issue_table.drop(columns="_point")
    methods = pd.Series(table["interval"].tolist(), index=table["metric"].tolist(), name="interval",
                        dtype=object)
    return Replications(sc, runs, table, int(n), seed, confidence, info, issue_table,
                        methods=methods, precision=check, note=note)


_AUTO_DOC = """
    ``n="auto"``: as many replications as it takes for the half-width of each of ``metrics``
    (default: the headline metrics) to be at most ``precision × |mean|`` (``precision=0.05``:
    5%{what}). A pilot of ``pilot`` replications (10) gives the spread; then the replications
    needed at that spread are run (the first ones are reused, not recomputed), the spread is
    re-estimated and so on, up to ``max_n`` (200). ``.n`` is the number used, ``.precision``
    the half-width reached per metric against its target, ``.note`` says it in words (also
    when ``max_n`` stopped it before the target).
"""

replicate.__doc__ = """``n`` replications of ``scenario`` (a path, dict or Scenario): per-replication
    summaries (``.runs``) and, per metric, the mean, standard deviation and confidence
    interval (``.table``: ``metric, mean, sd, ci_low, ci_high, half_width, n``): Student-t,
    or for the percentile metrics (``*_p50``, ``*_p90``) from 10 replications on a BCa
    bootstrap interval seeded from ``seed`` (``.methods`` says which).
""" + _AUTO_DOC.format(what="") + _RUN_DOC


def _labels(scenarios: Any) -> tuple[list[str], list[Any]]:
    if isinstance(scenarios, Mapping):
        labels, items = [str(k) for k in scenarios], list(scenarios.values())
        return labels, items
    if isinstance(scenarios, (str, Path)) or not isinstance(scenarios, Iterable):
        raise ExperimentError("compare needs two or more scenarios (a list, or a dict of label: scenario)")
    return [], list(scenarios)


def _comparison_tables(labels: list[str], runs: pd.DataFrame, seed: int,
                       confidence: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The paired differences of each scenario with the first (``table``) and each scenario's
    own intervals (``means``), from the runs of a comparison."""
    keys = list(summary_keys())
    by = {label: runs[runs["scenario"] == label] for label in labels}
    diffs = []
    for k, label in enumerate(labels[1:], start=1):
        d = paired_differences(by[labels[0]], by[label], keys, confidence, bootstrap_seed=seed,
                               stream=k)
        d.insert(0, "scenario", label)
        diffs.append(d)
    table = pd.concat(diffs, ignore_index=True)
    means = pd.concat([aggregate(by[label], keys, confidence, bootstrap_seed=seed,
                                 stream=k).assign(scenario=label)
                       for k, label in enumerate(labels)], ignore_index=True)
    means = means[["scenario", *means.columns[:-1]]]
    return table, means


def compare(scenarios: Sequence[Any] | Mapping[str, Any], n: int | str = 10, seed: int | None = None, *,
            warmup: Any = None, overrides: Mapping[str, Any] | None = None, executor: Any = None,
            jobs: int | None = None, scheduler: Any = None, out: str | Path | None = None,
            force: bool = False, progress: bool | None = None, issues: bool = False,
            confidence: float = 0.95, precision: float = 0.05,
            metrics: Sequence[str] | None = None, max_n: int = 200,
            pilot: int = AUTO_PILOT) -> Comparison:
    auto, n, precision, chosen, max_n, pilot = _replications_asked(n, precision, metrics, max_n, pilot)
    labels, items = _labels(scenarios)
    if len(items) < 2:
        raise ExperimentError(f"compare needs two or more scenarios, got {len(items)}")
    base = _base_overrides(overrides, warmup)
    loaded = [_load(s, base) for s in items]
    if not labels:
        names = [s.name for s in loaded]
        if len(set(names)) == len(names):
            labels = names
        elif len(names) == 2:
            labels = [f"A: {names[0]}", f"B: {names[1]}"]
        else:
            labels = [f"{i}: {name}" for i, name in enumerate(names)]
    seed = master_seed(seed, loaded[0])
    points = [_Point(i, labels[i], {}, sc, point_hash(sc)) for i, sc in enumerate(loaded)]
    cache: dict[tuple[str, int], dict[str, Any]] = {}
    computed = 0
    check: pd.DataFrame | None

    def run(count: int, first: bool) -> tuple[Any, pd.DataFrame | None]:
        nonlocal computed
        runs, issue_table, info = _execute(
            "compare", points, count, seed, executor=executor, jobs=jobs, scheduler=scheduler,
            out=out, force=force and first, progress=progress, issues=issues, extra={}, cache=cache)
        computed += info["computed"]
        runs.insert(0, "scenario", [labels[p] for p in runs["point"]])
        runs = runs.drop(columns="point")
        table, means = _comparison_tables(labels, runs, seed, confidence)
        check = None
        if auto:
            check = pd.concat([_precision_table(table[table["scenario"] == label], chosen, precision,
                                                "mean_baseline", confidence).assign(scenario=label)
                               for label in labels[1:]], ignore_index=True)
            check = check[["scenario", *check.columns[:-1]]]
        return (runs, issue_table, info, table, means), check

    if auto:
        (runs, issue_table, info, table, means), check, n = _run_auto(run, precision, max_n, pilot)
        shown = check.assign(metric=[f"{s}: {m}" if len(labels) > 2 else m
                                     for s, m in zip(check["scenario"], check["metric"])])
        note = _auto_note(shown, n, max_n, pilot, f"half-widths of the differences <= "
                                                  f"{precision:.3g} × |{labels[0]} mean|")
        info["computed"] = computed
    else:
        (runs, issue_table, info, table, means), check = run(int(n), True)
        note = ""
    _finish_store(info, {"runs": runs, "table": table, "means": means})
    if issue_table is not None:
        issue_table.insert(0, "scenario", [labels[p] for p in issue_table["_point"]])
        issue_table = issue_table.drop(columns="_point")
    return Comparison(labels, loaded, runs, table, means, int(n), seed, confidence, info, issue_table,
                      precision=check, note=note)


compare.__doc__ = """Paired comparison of two or more scenarios (a list, or a dict ``label: scenario``;
    the first is the baseline) with common random numbers: replication ``i`` of every
    scenario uses the same seed streams, so both see the same issues. ``.table`` gives, for
    each other scenario and metric, the mean of the per-replication differences (scenario −
    baseline) in the metric's ``unit``, its interval, the p-value of no difference, whether
    it is ``significant`` after Holm's correction over the metrics (``significant_unadjusted``:
    its own interval excludes 0) and the relative ``change`` with its interval. See
    :class:`Comparison`.
""" + _AUTO_DOC.format(what=" of the baseline's mean, for the differences' half-widths") + _RUN_DOC


def _grid(params: Mapping[str, Any]) -> dict[str, list[Any]]:
    if not isinstance(params, Mapping):
        raise ExperimentError("params must be a dict of dotted key: list of values, "
                              "e.g. {'workers.per_grid': [1, 2, 3]}")
    grid: dict[str, list[Any]] = {}
    for key, values in params.items():
        if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
            raise ExperimentError(f"params[{key!r}] must be a list of values, got {values!r}")
        values = [_plain(v) for v in values]
        if not values:
            raise ExperimentError(f"params[{key!r}] is empty: give at least one value")
        grid[str(key)] = values
    return grid


def _point_label(params: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items()) or "base"


def sweep(scenario: Any, params: Mapping[str, Sequence[Any]] | None = None, n: int = 10,
          seed: int | None = None, *, design: pd.DataFrame | str | Path | None = None,
          warmup: Any = None, overrides: Mapping[str, Any] | None = None, executor: Any = None,
          jobs: int | None = None, scheduler: Any = None, out: str | Path | None = None,
          force: bool = False, progress: bool | None = None, issues: bool = False,
          confidence: float = 0.95) -> Sweep:
    from govsim.experiments.designs import full_factorial, read_design

    n = _check_n(n)
    if (params is None) == (design is None):
        raise ExperimentError("sweep needs either params (levels for a full factorial) or design "
                              "(a table of points: DataFrame or CSV file), not both")
    if design is None:
        assert params is not None
        grid = _grid(params)
        table = full_factorial(grid)
        extra: dict[str, Any] = {"params": grid}
        where = None
    else:
        table = read_design(design)
        grid = {str(k): list(dict.fromkeys(_plain(v) for v in table[k])) for k in table.columns}
        where = str(design) if isinstance(design, (str, Path)) else "the design"
        extra = {"design": list(table.columns), "design_points": len(table)}
    base = _load(scenario, _base_overrides(overrides, warmup))
    seed = master_seed(seed, base)
    points = design_points(base, table, where)
    runs, issue_table, info = _execute(
        "sweep", points, n, seed, executor=executor, jobs=jobs, scheduler=scheduler, out=out,
        force=force, progress=progress, issues=issues,
        extra={"scenario": base.source, "base_hash": point_hash(base), **extra})
    point_table = pd.DataFrame({"point": np.arange(len(points), dtype=np.int64)})
    for key in table.columns:
        point_table[key] = pd.Series([p.params[key] for p in points], dtype=object)
        point_table[key] = point_table[key].infer_objects()
    runs = point_table.merge(runs, on="point", how="right")
    tables = []
    metrics = list(summary_keys())
    for p, group in runs.groupby("point", sort=True):
        t = aggregate(group, metrics, confidence)
        t.insert(0, "point", p)
        tables.append(t)
    agg = point_table.merge(pd.concat(tables, ignore_index=True), on="point", how="right")
    _finish_store(info, {"runs": runs, "table": agg})
    if issue_table is not None:  # "point" is the issue's patrol point there
        issue_table = issue_table.rename(columns={"_point": "sweep_point"})
    return Sweep(base, grid, point_table, runs, agg, n, seed, confidence, info, issue_table,
                 factorial=design is None)


def design_points(base: Any, table: pd.DataFrame, where: str | None = None) -> list[_Point]:
    """One point per row of a design table: ``base`` with the row's dotted keys applied.
    A bad value names the design (``where``), its row and the key."""
    from govsim.scenario import load_scenario

    points = []
    records = table.to_dict(orient="records")
    for i, row in enumerate(records):
        values = {str(k): _plain(v) for k, v in row.items()}
        try:
            sc = load_scenario(base.raw, overrides=values)
        except Exception as err:
            err = _with_source(err, base.source)
            if where is not None:
                raise ExperimentError(f"{where}, point {i} ({_point_label(values)}): {err}") from None
            raise err from None
        sc = dataclasses.replace(sc, source=base.source)
        points.append(_Point(i, _point_label(values), values, sc, point_hash(sc)))
    return points


sweep.__doc__ = """Sweep of ``scenario`` over the points of a design, ``n`` replications per point,
    the same seeds at every point (common random numbers).

    ``params`` (dotted key: list of values, e.g. ``{"workers.per_grid": [1, 2, 3],
    "policy": ["traditional_patrol", "smart_dispatch"]}``) runs the full factorial (the
    first key varies slowest); ``design`` (a DataFrame or CSV file, one column per dotted
    key, one row per point — e.g. from :func:`govsim.experiments.designs.latin_hypercube`)
    runs exactly its rows. Points that are the same scenario run once.
    ``.runs``: one row per point × replication; ``.table``: per point and metric.
""" + _RUN_DOC
