"""Calibrate a scenario to published summary figures (targets) instead of a case log.

A report on a district rarely comes with its case log; it gives a handful of
figures — "about 40,000 cases a month", "over 95 % closed", "mean handling time
under 7 hours". :func:`fit_targets` sets chosen scenario parameters so that the
model reproduces such figures, with the machinery of the log calibration
(:mod:`~govsim.calibration.capacity`): simulation-based optimisation on common
random numbers.

* A **target** is ``(metric, op, value)`` or ``(metric, op, value, tol)``: ``metric``
  is any key of :meth:`Result.summary` (docs/metrics.md) or a derived metric of
  :data:`DERIVED_METRICS`; ``op`` is ``"≈"`` (also ``"~"``, ``"=="``), ``">="``
  (``"≥"``, ``">"``) or ``"<="`` (``"≤"``, ``"<"``); ``tol`` is the relative
  tolerance of ``≈`` for ``met`` (default 5 %: "about").
* **vary** maps dotted scenario keys (as ``--set`` and ``overrides`` take them:
  ``categories.garbage.rate``, ``workers.per_grid``, ``departments.x.staff``,
  ``categories.x.handling.mean``) to bounds ``(low, high)``. Durations are varied in
  hours; integer fields (staff, mediators…) are rounded. Each key must name an existing
  numeric value of the scenario (a typo in a category would otherwise add a category).
* **Evaluation of a point**: ``n`` replications with the seeds of
  :func:`govsim.experiments.replicate` (replication ``i`` runs with
  ``replication_seed(seed, i)``) — the *same* seeds at every point (common random
  numbers), so the loss is a deterministic function of the parameters and the search
  does not chase noise. The model's value of a metric is its mean over the replications.
* **Loss**: the sum over targets of the squared relative miss, ``((model − wanted) /
  |wanted|)²`` for ``≈``; for ``>=`` / ``<=`` only a miss on the wrong side counts
  (a one-sided hinge), so a met inequality costs nothing. ``|wanted|`` is replaced by 1
  when the wanted value is 0.
* **Search**, in coordinates scaled to ``[0, 1]`` per key (logarithmic when the lower
  bound is positive): first the starting point (the scenario's current values, clipped to
  the bounds) — if every target is met there, it is returned unchanged; otherwise, with
  one key, bounded Brent (:func:`scipy.optimize.minimize_scalar`), with several,
  Nelder–Mead with bounds (:func:`scipy.optimize.minimize`), starting from the current
  values; at most ``max_evaluations`` points are simulated (repeated points are cached).
  The search stops early once every target is met, ``≈`` ones within a tenth of their
  tolerance (closer would only chase the replications' noise). A point inside the bounds
  that the schema rejects (``workers.per_grid`` must be a whole number or a share below 1)
  counts as infeasible (infinite loss; its message is in ``history["invalid"]``).
  The best point evaluated is returned (the starting point on a tie).
* **Result**: :class:`TargetFit` — the values, the scenario, and a table ``target, op,
  wanted, model, lower, upper, met, met_ci`` with the Student-t 95 % interval of each
  metric over the replications; ``met`` judges the model's mean (``≈``: within ``tol``),
  ``met_ci`` the whole interval (the interval lies inside the band or on the right side).

Derived metrics (:data:`DERIVED_METRICS`) are computed from each replication's issues
table over the issues of the summary (created at or after the warm-up); the *measured
days* are ``(horizon − warmup) / 24``. A **case** is an issue that became known
(``discovered_at`` set): what a case log or a report counts.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from govsim.distributions import Distribution
from govsim.suggest import closest, did_you_mean

__all__ = ["DERIVED_METRICS", "Target", "TargetFit", "derived_metrics", "fit_targets", "measure"]

#: Derived metrics: name → definition. All are over the issues of the summary (created at or
#: after the warm-up); a *case* is an issue that became known; *measured days* are
#: ``(horizon − warmup) / 24``.
DERIVED_METRICS: dict[str, str] = {
    "n_issues_per_day": "n_issues ÷ measured days",
    "n_issues_per_month": "n_issues ÷ measured days × 30 (issues that arose per 30 days)",
    "cases_per_day": "cases (issues discovered by the end) ÷ measured days",
    "cases_per_month": "cases ÷ measured days × 30 (cases registered per 30 days)",
    "closed_share": "share of cases resolved by the end (结案率: closed ÷ registered cases)",
    "closure_time_mean": "mean of resolved_at − discovered_at over resolved cases: from the case "
                         "becoming known to its closure, as a case log measures it (hours)",
    "closure_time_p50": "median of resolved_at − discovered_at over resolved cases (hours)",
    "closure_time_p90": "90th percentile of resolved_at − discovered_at over resolved cases (hours)",
    "dispatched_share": "share of cases sent to their handler by the dispatch policy (to a worker "
                        "or a department), i.e. not taken on at once by the worker who found them "
                        "on patrol, nor brought by residents straight to a mediation room (walk-in)",
    "auto_dispatch_share": "dispatched_share when the policy classifies and dispatches "
                           "automatically (smart_dispatch), else 0 (a manual chain or a call centre)",
    "patrol_found_share": "share of cases found first by patrol",
    "report_found_share": "share of cases found first by a resident report (hotline or app)",
    "sensor_found_share": "share of cases found first by a sensor or AI video",
}

#: Policies that classify and dispatch without a human in the chain.
AUTOMATIC_POLICIES = frozenset({"smart_dispatch"})

_OPS = {"≈": "≈", "~": "≈", "==": "≈", "=": "≈", "approx": "≈",
        ">=": ">=", "≥": ">=", ">": ">=", "<=": "<=", "≤": "<=", "<": "<="}


class Target(NamedTuple):
    """A published figure: ``metric op value`` (``op``: ``≈``, ``>=``, ``<=``); ``tol`` is the
    relative tolerance of ``≈`` used to say whether it is met."""

    metric: str
    op: str
    value: float
    tol: float = 0.05

    def miss(self, model: float) -> float:
        """Relative miss of ``model`` (signed for ``≈``, 0 when an inequality holds)."""
        scale = abs(self.value) if self.value != 0 else 1.0
        if not math.isfinite(model):
            return math.inf
        d = (model - self.value) / scale
        if self.op == ">=":
            return min(d, 0.0)
        if self.op == "<=":
            return max(d, 0.0)
        return d

    def met(self, model: float) -> bool:
        if not math.isfinite(model):
            return False
        if self.op == "≈":
            return abs(model - self.value) <= self.tol * (abs(self.value) if self.value != 0 else 1.0)
        return self.miss(model) == 0.0

    def met_interval(self, lower: float, upper: float) -> bool:
        if not (math.isfinite(lower) and math.isfinite(upper)):
            return False
        if self.op == "≈":
            return self.met(lower) and self.met(upper)
        return self.met(lower if self.op == ">=" else upper)

    def describe(self) -> str:
        return f"{self.metric} {self.op} {self.value:g}"


# --------------------------------------------------------------------------- metrics


def derived_metrics(issues: pd.DataFrame, horizon: float, warmup: float = 0.0,
                    policy: str = "") -> dict[str, float]:
    """The :data:`DERIVED_METRICS` of one run's issues table (``horizon``, ``warmup`` in hours)."""
    df = issues[issues["created_at"] >= warmup]
    days = max(horizon - warmup, 1e-9) / 24.0
    known = df["discovered_at"].notna().to_numpy()
    cases = df[known]
    n, k = len(df), len(cases)
    channel = cases["channel"].astype(str).to_numpy()
    resolved = (cases["status"].astype(str) == "resolved").to_numpy()
    closure = (cases["resolved_at"] - cases["discovered_at"]).to_numpy(float)[resolved]
    assigned = cases["assigned_at"].notna().to_numpy()
    dept = (cases["department"].notna().to_numpy() if "department" in cases
            else np.zeros(k, dtype=bool))
    on_the_spot = ((channel == "patrol") & ~dept
                   & (cases["assigned_at"].to_numpy(float) == cases["discovered_at"].to_numpy(float)))
    dispatched = assigned & ~on_the_spot & (channel != "walk_in")

    def share(mask: np.ndarray) -> float:
        return float(mask.mean()) if k else math.nan

    out = {
        "n_issues_per_day": n / days,
        "n_issues_per_month": n / days * 30.0,
        "cases_per_day": k / days,
        "cases_per_month": k / days * 30.0,
        "closed_share": share(resolved),
        "closure_time_mean": float(closure.mean()) if len(closure) else math.nan,
        "closure_time_p50": float(np.percentile(closure, 50)) if len(closure) else math.nan,
        "closure_time_p90": float(np.percentile(closure, 90)) if len(closure) else math.nan,
        "dispatched_share": share(dispatched),
        "patrol_found_share": share(channel == "patrol"),
        "report_found_share": share(channel == "report"),
        "sensor_found_share": share(channel == "sensor"),
    }
    out["auto_dispatch_share"] = out["dispatched_share"] if policy in AUTOMATIC_POLICIES else (
        0.0 if k else math.nan)
    return out


def _known_metrics() -> list[str]:
    from govsim.metrics import SUMMARY_KEYS

    return list(SUMMARY_KEYS) + list(DERIVED_METRICS)


def measure(scenario: Any, n: int = 3, seed: int = 0, *, overrides: Mapping[str, Any] | None = None,
            executor: Any = None, jobs: int | None = 1) -> pd.DataFrame:
    """One row per replication (``replication``, then every summary metric and every derived
    metric) of ``n`` replications of ``scenario`` with master ``seed`` — the seeds of
    :func:`govsim.replicate`, so the numbers are those ``govsim replicate -n N --seed S``
    prints for the summary metrics."""
    from govsim.experiments.api import replicate

    rep = replicate(scenario, n=n, seed=seed, overrides=overrides, executor=executor, jobs=jobs,
                    issues=True, progress=False)
    sc = rep.scenario
    issues = rep.issues
    assert issues is not None  # asked for: issues=True
    rows = []
    i: Any  # a replication number (pandas-stubs type a group's key as any scalar)
    for i, part in issues.groupby("replication", sort=True):
        rows.append({"replication": int(i),
                     **derived_metrics(part, sc.horizon, sc.warmup, sc.policy)})
    derived = pd.DataFrame(rows)
    return rep.runs.merge(derived, on="replication", how="left")


def interval_table(runs: pd.DataFrame, targets: Mapping[str, Target],
                   confidence: float = 0.95) -> pd.DataFrame:
    """``target, metric, op, wanted, model, lower, upper, met, met_ci`` of each target over the
    replications in ``runs`` (Student-t interval of the mean)."""
    from govsim.experiments.stats import t_interval

    rows = []
    for name, t in targets.items():
        ci = t_interval(runs[t.metric].to_numpy(float), confidence)
        rows.append({"target": name, "metric": t.metric, "op": t.op, "wanted": t.value,
                     "model": ci["mean"], "lower": ci["ci_low"], "upper": ci["ci_high"],
                     "met": t.met(ci["mean"]), "met_ci": t.met_interval(ci["ci_low"], ci["ci_high"])})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- inputs


def _check_targets(targets: Mapping[str, Any]) -> dict[str, Target]:
    if not isinstance(targets, Mapping) or not targets:
        raise ValueError("targets must be a non-empty dict of name: (metric, op, value[, tol]), e.g. "
                         "{'volume': ('cases_per_month', '≈', 40000)}")
    known = _known_metrics()
    out: dict[str, Target] = {}
    for name, spec in targets.items():
        where = f"target {name!r}"
        if isinstance(spec, Mapping):
            spec = (spec.get("metric"), spec.get("op"), spec.get("value"), spec.get("tol", 0.05))
        if isinstance(spec, (str, bytes)) or not isinstance(spec, (tuple, list)) or len(spec) not in (3, 4):
            raise ValueError(f"{where}: expected (metric, op, value) or (metric, op, value, tol), got {spec!r}")
        metric, op, value = spec[0], spec[1], spec[2]
        tol = spec[3] if len(spec) == 4 else 0.05
        if metric not in known:
            hint = did_you_mean(str(metric), known, style="clause", n=3) or (
                "; see docs/metrics.md and govsim.calibration.targets.DERIVED_METRICS")
            raise ValueError(f"{where}: unknown metric {metric!r}{hint}")
        if op not in _OPS:
            raise ValueError(f"{where} ({metric}): unknown comparison {op!r}; use one of "
                             "'≈' (or '~', '=='), '>=' (or '≥'), '<=' (or '≤')")
        for label, x in (("value", value), ("tol", tol)):
            if isinstance(x, bool) or not isinstance(x, numbers.Real) or not math.isfinite(float(x)):
                raise ValueError(f"{where} ({metric}): {label} must be a finite number, got {x!r}")
        if tol < 0:
            raise ValueError(f"{where} ({metric}): tol must be >= 0, got {tol!r}")
        out[str(name)] = Target(str(metric), _OPS[op], float(value), float(tol))
    return out


@dataclass(frozen=True)
class _Param:
    key: str
    low: float
    high: float
    start: float
    integer: bool
    duration: bool
    log: bool

    def to_unit(self, x: float) -> float:
        if self.log:
            return (math.log(x) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        return (x - self.low) / (self.high - self.low)

    def from_unit(self, u: float) -> float:
        u = min(max(float(u), 0.0), 1.0)
        if self.log:
            x = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        else:
            x = self.low + u * (self.high - self.low)
        x = min(max(x, self.low), self.high)
        return float(round(x)) if self.integer else float(f"{x:.6g}")

    def written(self, x: float) -> Any:
        """The value as the scenario file takes it."""
        if self.duration:
            return f"{x:g}h"
        return int(round(x)) if self.integer else x


def _walk(scenario: Any, key: str) -> tuple[Any, Any, str]:
    """The current value at dotted ``key`` of a loaded scenario, the annotation of the field
    (or None) and the annotation of its parent field."""
    from govsim.scenario import ScenarioError
    from govsim.scenario.loader import _split_key

    try:
        segments = _split_key(key)
    except ValueError as err:
        raise ScenarioError.single(key, str(err), "vary") from None
    obj: Any = scenario
    annotation: Any = None
    parent_annotation: Any = ""
    walked = ""
    for seg in segments:
        here = f"{walked}.{seg}" if walked and not isinstance(seg, int) else (
            f"{walked}[{seg}]" if isinstance(seg, int) else str(seg))
        parent_annotation = annotation
        if isinstance(seg, int):
            if not isinstance(obj, (list, tuple)) or seg >= len(obj):
                raise ScenarioError.single(key, f"{walked!r} has no item [{seg}]", "vary")
            obj, annotation = obj[seg], None
        elif isinstance(obj, Mapping):
            if seg not in obj:
                options = [str(k) for k in obj]
                close = closest(str(seg), options)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise ScenarioError.single(
                    key, f"{walked or 'the scenario'!r} has no {seg!r}; {hint}it has: "
                         f"{', '.join(options) or 'nothing'}", "vary")
            obj, annotation = obj[seg], None
        elif dataclasses.is_dataclass(obj) and not isinstance(obj, Distribution):  # a distribution: below
            fields = {f.name: f for f in dataclasses.fields(obj) if not f.metadata.get("internal")}
            if seg not in fields:
                hint = did_you_mean(str(seg), fields, style="clause")
                raise ScenarioError.single(key, f"{walked or 'the scenario'!r} has no key {seg!r}{hint}",
                                           "vary")
            obj, annotation = getattr(obj, seg), fields[seg].type
        elif obj is not None and hasattr(obj, str(seg)) and not str(seg).startswith("_"):
            obj, annotation = getattr(obj, str(seg)), None  # a distribution's mean, sd…
        else:
            shown = "not set" if obj is None else f"{type(obj).__name__} {obj!r}"
            raise ScenarioError.single(key, f"{walked!r} is {shown}, so it has no {seg!r}", "vary")
        walked = here
    return obj, annotation, str(parent_annotation or "")


def _raw_value(raw: Mapping[str, Any] | None, key: str) -> Any:
    from govsim.scenario.loader import _split_key

    obj: Any = raw
    for seg in _split_key(key):
        if isinstance(seg, int):
            obj = obj[seg] if isinstance(obj, list) and seg < len(obj) else None
        else:
            obj = obj.get(seg) if isinstance(obj, Mapping) else None
        if obj is None:
            return None
    return obj


def _check_vary(scenario: Any, vary: Mapping[str, Any]) -> list[_Param]:
    from govsim.scenario import ScenarioError

    if not isinstance(vary, Mapping) or not vary:
        raise ValueError("vary must be a non-empty dict of dotted key: (low, high), e.g. "
                         "{'categories.garbage.rate': (1.0, 6.0)}")
    params = []
    for key, bounds in vary.items():
        key = str(key)
        value, annotation, parent = _walk(scenario, key)
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ScenarioError.single(key, f"only numbers can be fitted; this key is "
                                            f"{type(value).__name__} {value!r}", "vary")
        if (isinstance(bounds, (str, bytes)) or not isinstance(bounds, (tuple, list)) or len(bounds) != 2
                or any(isinstance(b, bool) or not isinstance(b, numbers.Real) or not math.isfinite(float(b))
                       for b in bounds)):
            raise ValueError(f"vary[{key!r}]: bounds must be two finite numbers (low, high), got {bounds!r}")
        low, high = float(bounds[0]), float(bounds[1])
        if not low < high:
            raise ValueError(f"vary[{key!r}]: the lower bound must be below the upper, got ({low:g}, {high:g})")
        raw = _raw_value(scenario.raw, key)
        ann = str(annotation or "")
        duration = isinstance(raw, str) or "Duration" in ann or (
            raw is None and annotation is None and parent.startswith("Dist"))
        integer = ann == "int" or ann.startswith("int ")
        start = min(max(float(value), low), high)
        params.append(_Param(key, low, high, float(round(start)) if integer else start, integer, duration,
                             log=low > 0))
    return params


# --------------------------------------------------------------------------- the fit


@dataclass
class TargetFit:
    """A scenario fitted to summary targets.

    ``params``: the fitted value of each varied key (durations in hours), ``start``: the
    starting values; ``overrides``: the values as a scenario file takes them; ``scenario``:
    the base scenario with them; ``table``: ``target, metric, op, wanted, model, lower,
    upper, met, met_ci`` at the best point (95 % Student-t intervals over the ``n``
    replications); ``runs``: every metric of every replication at the best point;
    ``history``: one row per evaluated point (its values, loss, and each target's model
    value)."""

    params: dict[str, float]
    start: dict[str, float]
    overrides: dict[str, Any]
    scenario: Any
    table: pd.DataFrame
    runs: pd.DataFrame
    history: pd.DataFrame
    loss: float
    evaluations: int
    n: int
    seed: int
    targets: dict[str, Target]

    @property
    def all_met(self) -> bool:
        return bool(self.table["met"].all())

    def to_string(self) -> str:
        from govsim.experiments.api import format_table

        head = (f"{self.scenario.name}: fitted to {len(self.targets)} target"
                f"{'s' if len(self.targets) != 1 else ''} with {self.n} replication"
                f"{'s' if self.n != 1 else ''} per point (seed {self.seed}, common random numbers), "
                f"{self.evaluations} point{'s' if self.evaluations != 1 else ''} simulated, loss "
                f"{self.loss:.4g}")
        values = "\n".join(f"  {k} = {self.overrides[k]}   (start {self.start[k]:g})" for k in self.params)
        return head + "\n" + values + "\n" + format_table(self.table, index="target")

    def __repr__(self) -> str:
        return self.to_string()

    def to_markdown(self) -> str:
        """The table as Markdown: target, wanted, model [95 % interval], met."""
        lines = ["| target | wanted | model | 95% interval | met |", "| --- | --- | --- | --- | --- |"]
        for r in self.table.itertuples(index=False):
            lines.append(f"| {r.target} ({r.metric}) | {r.op} {r.wanted:.4g} | {r.model:.4g} | "
                         f"{r.lower:.4g} – {r.upper:.4g} | {'yes' if r.met else 'no'} |")
        return "\n".join(lines)


def fit_targets(scenario: Any, targets: Mapping[str, Any], vary: Mapping[str, tuple[float, float]], *,
                n: int = 3, seed: int = 0, overrides: Mapping[str, Any] | None = None,
                max_evaluations: int = 40, executor: Any = None, jobs: int | None = 1) -> TargetFit:
    """Set the keys of ``vary`` within their bounds so that ``scenario`` (a path, dict or
    Scenario, with ``overrides`` applied first) reproduces ``targets``; see the module
    docstring for the targets, the loss and the search. ``n`` replications per point with
    master ``seed`` (common random numbers across points); at most ``max_evaluations``
    points. ``executor``/``jobs`` run the replications as :func:`govsim.replicate` does
    (default: in this process). Raises :class:`~govsim.scenario.ScenarioError` for a key that
    is not a number of the scenario, ``ValueError`` for bad bounds or targets."""
    from scipy import optimize

    from govsim.experiments.api import _check_n, _load
    from govsim.experiments.executors import make_executor
    from govsim.experiments.seeds import master_seed
    from govsim.scenario import ScenarioError

    n = _check_n(n)
    if isinstance(max_evaluations, bool) or not isinstance(max_evaluations, numbers.Integral) or max_evaluations < 1:
        raise ValueError(f"max_evaluations must be a positive integer, got {max_evaluations!r}")
    base = _load(scenario, overrides)
    seed = master_seed(seed, base)
    checked = _check_targets(targets)
    params = _check_vary(base, vary)
    # Both bounds must give a valid scenario (a probability bounded above 1 is caught now).
    for p in params:
        for x in (p.low, p.high):
            _load(base, {p.key: p.written(float(round(x)) if p.integer else x)})

    ex, owned = make_executor(executor, jobs=jobs, n_tasks=n)
    cache: dict[tuple[float, ...], tuple[float, pd.DataFrame]] = {}
    history: list[dict[str, Any]] = []

    def evaluate_values(values: tuple[float, ...]) -> float:
        if values in cache:
            return cache[values][0]
        if len(cache) >= max_evaluations:
            raise _Budget
        point = {p.key: p.written(v) for p, v in zip(params, values)}
        try:
            runs = measure(base, n=n, seed=seed, overrides=point, executor=ex)
        except ScenarioError as err:  # an interior point the schema rejects: infeasible
            cache[values] = (math.inf, pd.DataFrame())
            history.append({**{p.key: v for p, v in zip(params, values)}, "loss": math.inf,
                            "invalid": "; ".join(err.messages)})
            return math.inf
        means = {name: float(np.nanmean(runs[t.metric].to_numpy(float))) if runs[t.metric].notna().any()
                 else math.nan for name, t in checked.items()}
        loss = float(sum(t.miss(means[name]) ** 2 for name, t in checked.items()))
        cache[values] = (loss, runs)
        history.append({**{p.key: v for p, v in zip(params, values)}, "loss": loss,
                        **{f"model:{name}": m for name, m in means.items()}})
        if all(_close_enough(t, means[name]) for name, t in checked.items()):
            raise _Done
        return loss

    def evaluate_unit(u: Any) -> float:
        u = np.atleast_1d(np.asarray(u, float))
        return evaluate_values(tuple(p.from_unit(x) for p, x in zip(params, u)))

    start_values = tuple(p.start for p in params)
    try:
        try:
            evaluate_values(start_values)
        except _Done:
            pass
        if not interval_table(cache[start_values][1], checked)["met"].all():
            try:
                if len(params) == 1:
                    optimize.minimize_scalar(evaluate_unit, bounds=(0.0, 1.0), method="bounded",
                                             options={"xatol": 1e-3, "maxiter": max_evaluations})
                else:
                    u0 = np.array([p.to_unit(p.start) for p in params])
                    simplex = [u0]
                    for i in range(len(params)):
                        step = np.zeros(len(params))
                        step[i] = 0.25 if u0[i] <= 0.75 else -0.25
                        simplex.append(u0 + step)
                    optimize.minimize(evaluate_unit, u0, method="Nelder-Mead",
                                      bounds=[(0.0, 1.0)] * len(params),
                                      options={"maxfev": max_evaluations, "xatol": 1e-3, "fatol": 1e-6,
                                               "initial_simplex": np.array(simplex)})
            except (_Budget, _Done):
                pass
    finally:
        if owned:
            ex.close()
    best = min(cache, key=lambda v: (cache[v][0], v != start_values))
    loss, runs = cache[best]
    chosen = {p.key: p.written(v) for p, v in zip(params, best)}
    fitted = _load(base, chosen)
    return TargetFit(params={p.key: v for p, v in zip(params, best)},
                     start={p.key: p.start for p in params}, overrides=chosen, scenario=fitted,
                     table=interval_table(runs, checked), runs=runs, history=pd.DataFrame(history),
                     loss=loss, evaluations=len(cache), n=n, seed=seed, targets=checked)


class _Budget(Exception):
    """The evaluation budget is spent."""


class _Done(Exception):
    """Every target is met, ``≈`` ones within a tenth of their tolerance: searching on would
    only chase the replications' noise."""


def _close_enough(t: Target, model: float) -> bool:
    if t.op != "≈":
        return t.met(model)
    return abs(t.miss(model)) <= t.tol / 10
