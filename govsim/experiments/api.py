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
from govsim.experiments.stats import aggregate, paired_differences
from govsim.experiments.store import ResultsStore
from govsim.metrics import summary_keys
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
    (per metric: ``mean, sd, ci_low, ci_high, half_width, n``), ``.issues`` if asked for."""

    def __init__(self, scenario: Any, runs: pd.DataFrame, table: pd.DataFrame, n: int, seed: int,
                 confidence: float, info: dict[str, Any], issues: pd.DataFrame | None) -> None:
        self.scenario = scenario
        self.name = scenario.name
        self.runs, self.table, self.n, self.seed = runs, table, n, seed
        self.confidence, self.info, self.issues = confidence, info, issues

    def interval(self, metric: str) -> tuple[float, float]:
        """``(ci_low, ci_high)`` of ``metric``."""
        row = self.table.set_index("metric").loc[metric]
        assert isinstance(row, pd.Series)  # one row: the metrics are unique
        return float(row["ci_low"]), float(row["ci_high"])

    def to_string(self, metrics: Sequence[str] | None = None) -> str:
        sc = self.scenario
        warm = f", warm-up {format_duration(sc.warmup)} excluded" if sc.warmup else ""
        head = (f"{self.name}: {self.n} replication{'s' if self.n != 1 else ''} (seed {self.seed}, "
                f"horizon {sc.horizon / 24:g} days{warm}; {_ci_note(self.n, self.confidence)})")
        t = self.table if metrics is None else self.table[self.table["metric"].isin(metrics)]
        return head + "\n" + format_table(t, index="metric")


class Comparison(_Experiment):
    """Paired comparison of scenarios on common random numbers.

    ``.runs``: one row per scenario × replication. ``.table``: per compared scenario
    and metric, ``difference`` = scenario − baseline (mean of the per-replication
    differences), its ``sd``, interval, ``n`` pairs, ``significant`` (the interval
    excludes 0) and relative ``change``. ``.means``: each scenario's own intervals.
    """

    def __init__(self, labels: list[str], scenarios: list[Any], runs: pd.DataFrame,
                 table: pd.DataFrame, means: pd.DataFrame, n: int, seed: int, confidence: float,
                 info: dict[str, Any], issues: pd.DataFrame | None) -> None:
        self.labels, self.scenarios = labels, scenarios
        self.baseline = labels[0]
        self.runs, self.table, self.means, self.n, self.seed = runs, table, means, n, seed
        self.confidence, self.info, self.issues = confidence, info, issues

    def significant(self, scenario: str | None = None) -> list[str]:
        """Metrics whose difference from the baseline is significant (for ``scenario``,
        default the first compared one)."""
        scenario = scenario or self.labels[1]
        t = self.table[(self.table["scenario"] == scenario) & self.table["significant"]]
        return t["metric"].tolist()

    def to_string(self, metrics: Sequence[str] | None = None) -> str:
        parts = []
        for label in self.labels[1:]:
            t = self.table[self.table["scenario"] == label]
            if metrics is not None:
                t = t[t["metric"].isin(metrics)]
            show = pd.DataFrame({
                "metric": t["metric"], self.baseline: t["mean_baseline"], label: t["mean_scenario"],
                "difference": t["difference"], "ci_low": t["ci_low"], "ci_high": t["ci_high"],
                "change": [f"{c:+.1%}" if pd.notna(c) and math.isfinite(c) else "–" for c in t["change"]],
                "sig": t["significant"],
            })
            parts.append(
                f"{self.baseline} vs {label}: paired differences ({label} − {self.baseline}) over "
                f"{self.n} replication{'s' if self.n != 1 else ''}, seed {self.seed}, common random "
                f"numbers; {_ci_note(self.n, self.confidence)}"
                + ("; * = interval excludes 0" if self.n >= 2 else "")
                + "\n" + format_table(show, index="metric"))
        return "\n\n".join(parts)


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


def replicate(scenario: Any, n: int = 10, seed: int | None = None, *, warmup: Any = None,
              overrides: Mapping[str, Any] | None = None, executor: Any = None,
              jobs: int | None = None, scheduler: Any = None, out: str | Path | None = None,
              force: bool = False, progress: bool | None = None, issues: bool = False,
              confidence: float = 0.95) -> Replications:
    n = _check_n(n)
    sc = _load(scenario, _base_overrides(overrides, warmup))
    seed = master_seed(seed, sc)
    point = _Point(0, sc.name, {}, sc, point_hash(sc))
    runs, issue_table, info = _execute(
        "replicate", [point], n, seed, executor=executor, jobs=jobs, scheduler=scheduler, out=out,
        force=force, progress=progress, issues=issues, extra={})
    runs = runs.drop(columns="point")
    table = aggregate(runs, list(summary_keys()), confidence)
    _finish_store(info, {"runs": runs, "table": table})
    if issue_table is not None:
        issue_table = issue_table.drop(columns="_point")
    return Replications(sc, runs, table, n, seed, confidence, info, issue_table)


replicate.__doc__ = """``n`` replications of ``scenario`` (a path, dict or Scenario): per-replication
    summaries (``.runs``) and, per metric, the mean, standard deviation and Student-t
    confidence interval (``.table``: ``metric, mean, sd, ci_low, ci_high, half_width, n``).
""" + _RUN_DOC


def _labels(scenarios: Any) -> tuple[list[str], list[Any]]:
    if isinstance(scenarios, Mapping):
        labels, items = [str(k) for k in scenarios], list(scenarios.values())
        return labels, items
    if isinstance(scenarios, (str, Path)) or not isinstance(scenarios, Iterable):
        raise ExperimentError("compare needs two or more scenarios (a list, or a dict of label: scenario)")
    return [], list(scenarios)


def compare(scenarios: Sequence[Any] | Mapping[str, Any], n: int = 10, seed: int | None = None, *,
            warmup: Any = None, overrides: Mapping[str, Any] | None = None, executor: Any = None,
            jobs: int | None = None, scheduler: Any = None, out: str | Path | None = None,
            force: bool = False, progress: bool | None = None, issues: bool = False,
            confidence: float = 0.95) -> Comparison:
    n = _check_n(n)
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
    runs, issue_table, info = _execute(
        "compare", points, n, seed, executor=executor, jobs=jobs, scheduler=scheduler, out=out,
        force=force, progress=progress, issues=issues, extra={})
    runs.insert(0, "scenario", [labels[p] for p in runs["point"]])
    runs = runs.drop(columns="point")
    by = {label: runs[runs["scenario"] == label] for label in labels}
    diffs = []
    for label in labels[1:]:
        d = paired_differences(by[labels[0]], by[label], list(summary_keys()), confidence)
        d.insert(0, "scenario", label)
        diffs.append(d)
    table = pd.concat(diffs, ignore_index=True)
    means = pd.concat([aggregate(by[label], list(summary_keys()), confidence).assign(scenario=label)
                       for label in labels], ignore_index=True)
    means = means[["scenario", *means.columns[:-1]]]
    _finish_store(info, {"runs": runs, "table": table, "means": means})
    if issue_table is not None:
        issue_table.insert(0, "scenario", [labels[p] for p in issue_table["_point"]])
        issue_table = issue_table.drop(columns="_point")
    return Comparison(labels, loaded, runs, table, means, n, seed, confidence, info, issue_table)


compare.__doc__ = """Paired comparison of two or more scenarios (a list, or a dict ``label: scenario``;
    the first is the baseline) with common random numbers: replication ``i`` of every
    scenario uses the same seed streams, so both see the same issues. ``.table`` gives, for
    each other scenario and metric, the mean of the per-replication differences (scenario −
    baseline), its interval and whether it is ``significant`` (the interval excludes 0).
""" + _RUN_DOC


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
