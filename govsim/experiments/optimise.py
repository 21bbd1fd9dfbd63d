"""Optimisation under service targets (服务目标下的最优配置): the cheapest configuration that
meets every target with a stated confidence.

:func:`optimise` takes a scenario, the keys to vary (``{"workers.per_grid": "1..4"}``), the
targets (``"resolution_time_p90<=24h"``, ``"on_time_rate>=90%"``) and what to minimise (the
number of grid workers, or a yearly cost), and searches the candidates with a **sequential
procedure** that spends replications where the decision is close:

* **The test of one candidate.** Replications are added in looks (``n0``, ``2 n0``, ``4 n0``,
  …, ``max_n``). At each look, for every target not yet settled, a one-sided Student-t bound
  on the metric's mean at level ``1 − β`` decides: *met* when the bound on the meeting side
  is on the right side of the threshold (``mean + t·s/√n <= 24`` for ``<=``), *fails* when
  the bound on the other side is on the wrong side (``mean − t·s/√n > 24``), else one more
  look. A candidate *meets* when every target is met, *fails* as soon as one target fails,
  and is *undecided* when ``max_n`` replications settle neither.
* **Error control.** With ``L`` looks, each look tests at ``β = α_d / L`` (Bonferroni over the
  looks), so one (candidate, target) decision is wrong with probability at most ``α_d``.
  ``control="family"`` (default) sets ``α_d = (1 − confidence) / D``, with ``D`` the number
  of (candidate, target) decisions the search could make, fixed before it starts: with
  probability at least ``confidence`` *every* decision the search makes is right.
  ``control="decision"`` sets ``α_d = 1 − confidence`` for each decision alone.
* **Grid search** (``method="grid"``): the candidates are every combination of the varied
  values, examined in order of increasing cost. Under monotonicity (``monotone=True``: more
  of every varied key never worsens any target), a candidate below a failed one on every
  axis fails too, and a target met at a candidate is met above it; neither is run. The most
  generous candidate is looked at first (``n0`` replications): if it fails, nothing can meet
  the targets. The first candidate shown to meet every target is the answer; ``D`` is the
  number of candidates × targets, and all candidates share the replications' seeds (common
  random numbers).
* **Greedy allocation** (``method="greedy"``, the default when ``workers.communities`` is
  varied: one coordinate per community): start with every coordinate at its lowest value;
  test the allocation; if it does not meet the targets, run each allocation one step up
  (one coordinate raised by one value) on ``n0`` replications common with the current
  allocation's, and move to the one with the largest reduction of the shortfall per unit of
  added cost. Step ``k``'s allocation is tested on its own replications (master seed
  ``seed + k·2³²``), independent of everything that chose it, so the Bonferroni count ``D``
  is the longest possible path (plus the first look at the most generous allocation) ×
  targets. The result meets the targets with the stated confidence; it is the greedy
  allocation, not necessarily the cheapest.

Costs (:func:`staff_counts`, :func:`configuration_cost`) are counted from each candidate's
loaded configuration; see ``docs/optimise.md`` for what is counted. Every run goes through
:func:`govsim.experiments.api._execute` with a cache, so a look never recomputes the earlier
ones and identical candidates run once.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import numbers
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from govsim.experiments.api import (
    _Point, _base_overrides, _execute, _finish_store, _fmt, _load, _plain, _point_label,
    _with_source, format_table, point_hash,
)
from govsim.experiments.errors import ExperimentError
from govsim.experiments.executors import make_executor
from govsim.experiments.seeds import master_seed
from govsim.metrics import summary_keys
from govsim.suggest import did_you_mean

__all__ = [
    "COST_ROLES", "Decision", "Optimisation", "Staff", "Target", "configuration_cost", "look_schedule",
    "optimise", "parse_cost", "parse_target", "parse_vary", "staff_counts", "vary_values",
]

#: What ``costs=`` may price, per head (yearly, any currency): see :func:`staff_counts`.
COST_ROLES = ("worker", "mediator", "volunteer")
#: Most candidates a grid search may hold (each is a loaded scenario).
MAX_CANDIDATES = 2000
#: Master seed of step ``k`` of a greedy allocation: ``seed + k * BLOCK``.
BLOCK = 2**32
#: The key whose values are allocated community by community.
COMMUNITIES_KEY = "workers.communities"

Op = Literal["<=", ">="]

# --------------------------------------------------------------------------- parsing

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_RANGE = re.compile(rf"^\s*({_NUMBER})\s*\.\.\s*({_NUMBER})\s*(?::\s*({_NUMBER})\s*)?$")
_TARGET = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=|≤|≥|=<|=>|<|>|==|=)\s*(.*?)\s*$")


def vary_values(key: str, spec: Any) -> list[Any]:
    """The values of a varied key: ``"lo..hi"`` (whole numbers lo, lo+1, …, hi), ``"lo..hi:step"``
    (lo, lo+step, … up to hi; whole numbers if all three are), ``"v1,v2,…"`` (each read as
    YAML, as for ``--set``) or a list of values as given."""
    if isinstance(spec, str) and ".." not in spec:
        if "," not in spec:
            raise ExperimentError(f"--vary {key}={spec}: expected LO..HI, LO..HI:STEP or V1,V2,... (a single "
                                  f"value is a --set {key}={spec})")
        return vary_values(key, _listed(key, spec))
    if isinstance(spec, str):
        m = _RANGE.match(spec)
        if m is None:
            raise ExperimentError(f"--vary {key}={spec}: expected lo..hi or lo..hi:step (e.g. "
                                  f"workers.per_grid=1..4, channels.sensors.coverage=0..1:0.25)")
        lo_t, hi_t, step_t = m.groups()
        whole = all(t is None or re.fullmatch(r"[-+]?\d+", t) for t in (lo_t, hi_t, step_t))
        lo, hi = float(lo_t), float(hi_t)
        step = float(step_t) if step_t is not None else 1.0
        if step_t is None and not whole:
            raise ExperimentError(f"--vary {key}={spec}: ends that are not whole numbers need a step "
                                  f"(lo..hi:step, e.g. 0..1:0.25)")
        if not (math.isfinite(lo) and math.isfinite(hi) and math.isfinite(step)):
            raise ExperimentError(f"--vary {key}={spec}: expected finite numbers")
        if step <= 0:
            raise ExperimentError(f"--vary {key}={spec}: the step must be positive, got {step_t}")
        if lo > hi:
            raise ExperimentError(f"--vary {key}={spec}: lo ({lo_t}) is above hi ({hi_t})")
        count = math.floor((hi - lo) / step + 1e-9) + 1
        if count > MAX_CANDIDATES:
            raise ExperimentError(f"--vary {key}={spec}: {count} values; at most {MAX_CANDIDATES}")
        if whole:
            return [int(lo_t) + i * int(step) for i in range(count)]
        return [round(lo + i * step, 12) for i in range(count)]
    if isinstance(spec, (bytes, Mapping)) or not isinstance(spec, (Sequence, range, np.ndarray)):
        raise ExperimentError(f"vary[{key!r}]: expected 'lo..hi[:step]' or a list of values, got {spec!r}")
    values = [_plain(v) for v in spec]
    if not values:
        raise ExperimentError(f"vary[{key!r}] is empty: give at least one value")
    if len(set(map(repr, values))) != len(values):
        raise ExperimentError(f"vary[{key!r}]: a value is listed twice")
    return values


def _listed(key: str, spec: str) -> list[Any]:
    """``"1,2,4"`` → ``[1, 2, 4]``: each value read as YAML, as for ``--set``."""
    from govsim.scenario import ScenarioError, parse_override

    out = []
    for item in spec.split(","):
        if not item.strip():
            raise ExperimentError(f"--vary {key}={spec}: empty value (a stray comma?)")
        try:
            out.append(parse_override(f"{key}={item.strip()}")[1])
        except ScenarioError as err:
            raise ExperimentError(f"--vary {key}={spec}: " + "; ".join(err.messages)) from None
    return out


def parse_vary(text: str) -> tuple[str, list[Any]]:
    """``"workers.per_grid=1..4"`` → ``("workers.per_grid", [1, 2, 3, 4])``;
    ``"channels.sensors.coverage=0..1:0.5"`` → ``(…, [0.0, 0.5, 1.0])``."""
    key, sep, spec = str(text).partition("=")
    key = key.strip()
    if not sep or not key or not spec.strip():
        raise ExperimentError(f"--vary {text!r}: expected KEY=LO..HI or KEY=LO..HI:STEP (e.g. "
                              f"--vary workers.per_grid=1..4)")
    return key, vary_values(key, spec.strip())


def _metric_kind(metric: str) -> str:
    """``"time"`` (hours), ``"share"`` (between 0 and 1), ``"ratio"`` (a share that may exceed 1:
    utilisation) or ``"number"`` (counts, costs)."""
    if metric.endswith(("_rate", "_share", "_coverage")):
        return "share"
    if metric.endswith("_utilisation") or metric == "participation_end":
        return "ratio"
    if re.search(r"(_delay|_time|_wait)(_|$)", metric):
        return "time"
    return "number"


@dataclasses.dataclass(frozen=True)
class Decision:
    """A target's state at one look: ``verdict`` (``met``, ``fails``, ``undecided``), the mean
    and the one-sided bounds at level ``1 − β`` over ``n`` replications (NaN when implied)."""

    verdict: str
    mean: float
    lower: float
    upper: float
    n: int
    op: str = "<="

    @property
    def bound(self) -> float:
        """The bound that decided: the meeting side when met or undecided, the other when failed."""
        meeting_side = self.upper if self.op == "<=" else self.lower
        other_side = self.lower if self.op == "<=" else self.upper
        return other_side if self.verdict == "fails" else meeting_side


@dataclasses.dataclass(frozen=True)
class Target:
    """A service target (服务目标): ``metric op value`` with ``op`` ``<=`` or ``>=``, the value in
    the metric's own unit (hours for times, a share for rates)."""

    metric: str
    op: Op
    value: float
    text: str = ""

    def __str__(self) -> str:
        return self.text or f"{self.metric}{self.op}{self.value:g}"

    def decide(self, values: np.ndarray | Sequence[float], beta: float) -> Decision:
        """The one-sided Student-t decision on the replications ``values`` (NaN left out) at
        error level ``beta`` on each side."""
        x = np.asarray(values, dtype=float)
        x = x[~np.isnan(x)]
        n = int(x.size)
        mean = float(x.mean()) if n else math.nan
        if n < 2 or not math.isfinite(mean):
            return Decision("undecided", mean, math.nan, math.nan, n, self.op)
        half = float(stats.t.ppf(1.0 - beta, n - 1)) * float(x.std(ddof=1)) / math.sqrt(n)
        lower, upper = mean - half, mean + half
        if self.op == "<=":
            verdict = "met" if upper <= self.value else "fails" if lower > self.value else "undecided"
        else:
            verdict = "met" if lower >= self.value else "fails" if upper < self.value else "undecided"
        return Decision(verdict, mean, lower, upper, n, self.op)

    def gap(self, mean: float) -> float:
        """How far ``mean`` is from meeting the target, relative to the threshold (0: met)."""
        if not math.isfinite(mean):
            return 0.0
        short = mean - self.value if self.op == "<=" else self.value - mean
        return max(0.0, short) / (abs(self.value) or 1.0)


def parse_target(text: str | Target) -> Target:
    """``"resolution_time_p90<=24h"``, ``"on_time_rate>=90%"``, ``"backlog_end<=10"``: a metric of
    :func:`govsim.metrics.summary_keys`, ``<=`` or ``>=``, and a value — a duration for a time
    metric (``24h``, ``30min``; a bare number is hours), a percentage or a number for a share."""
    from govsim.units import UnitError, parse_duration

    if isinstance(text, Target):
        return text
    if not isinstance(text, str):
        raise ExperimentError(f"a target is a text such as 'resolution_time_p90<=24h', got {text!r}")
    m = _TARGET.match(text)
    if m is None or not m.group(3):
        raise ExperimentError(f"--target {text!r}: expected METRIC<=VALUE or METRIC>=VALUE (e.g. "
                              f"resolution_time_p90<=24h, on_time_rate>=90%)")
    metric, op, value_text = m.groups()
    known = summary_keys()
    if metric not in known:
        raise ExperimentError(f"--target {text!r}: unknown metric {metric!r}"
                              + (did_you_mean(metric, known) or "; the metrics are listed in docs/metrics.md"))
    op = {"≤": "<=", "=<": "<=", "≥": ">=", "=>": ">="}.get(op, op)
    if op not in ("<=", ">="):
        raise ExperimentError(f"--target {text!r}: use <= or >= (a target is met or not by a mean, "
                              f"so < and <= mean the same here)")
    kind = _metric_kind(metric)
    value_text = value_text.strip()
    try:
        if value_text.endswith("%"):
            if kind == "time":
                raise ExperimentError(f"--target {text!r}: {metric} is a time; give a duration such as 24h")
            if kind == "number":
                raise ExperimentError(f"--target {text!r}: {metric} is a count or an amount, not a share; "
                                      f"give a number")
            value = float(value_text[:-1]) / 100.0
        else:
            try:
                value = float(value_text)
            except ValueError:
                if kind != "time":
                    raise ExperimentError(f"--target {text!r}: expected a number"
                                          + (" or a percentage" if kind in ("share", "ratio") else "")
                                          + f" for {metric}, got {value_text!r}") from None
                value = parse_duration(value_text)
    except UnitError as err:
        raise ExperimentError(f"--target {text!r}: {err}") from None
    if not math.isfinite(value):
        raise ExperimentError(f"--target {text!r}: expected a finite value")
    if (op == "<=" and value < 0) or (kind == "share" and op == ">=" and value > 1):
        bounds = "a share between 0 and 1" if kind == "share" else "never negative"
        raise ExperimentError(f"--target {text!r}: can never be met ({metric} is {bounds})")
    return Target(metric, "<=" if op == "<=" else ">=", value, text.strip())


def parse_cost(text: str) -> tuple[str, float]:
    """``"worker=60000"`` → ``("worker", 60000.0)`` (a yearly cost per head)."""
    role, sep, amount = str(text).partition("=")
    role = role.strip()
    if not sep or not role or not amount.strip():
        raise ExperimentError(f"--cost {text!r}: expected ROLE=AMOUNT (e.g. --cost worker=60000)")
    try:
        value = float(amount)
    except ValueError:
        raise ExperimentError(f"--cost {text!r}: expected a number, got {amount.strip()!r}") from None
    return role, value


def _check_costs(costs: Mapping[str, Any] | None) -> dict[str, float]:
    out: dict[str, float] = {}
    if costs is None:
        return out
    if not isinstance(costs, Mapping):
        raise ExperimentError(f"costs must be a dict such as {{'worker': 60000}}, got {costs!r}")
    for role, amount in costs.items():
        if role not in COST_ROLES:
            raise ExperimentError(f"cost {role!r}: unknown; expected one of {', '.join(COST_ROLES)}"
                                  + did_you_mean(str(role), COST_ROLES))
        if isinstance(amount, bool) or not isinstance(amount, numbers.Real) or not math.isfinite(amount) \
                or amount < 0:
            raise ExperimentError(f"cost {role}: expected a finite number >= 0, got {amount!r}")
        out[role] = float(amount)
    return out


# --------------------------------------------------------------------------- counting


@dataclasses.dataclass(frozen=True)
class Staff:
    """Who a configuration employs, and its yearly infrastructure cost (see :func:`staff_counts`)."""

    workers: int
    mediators: int
    volunteers: int
    sensor_grids: int
    app_grids: int
    infrastructure: float  # per year


_TERRITORIES: dict[str, Any] = {}


def _territory(scenario: Any) -> Any:
    """The district of a scenario (built once per territory section: only its grids and
    communities are used here)."""
    from govsim.scenario import scenario_hash
    from govsim.territory import Territory

    base = Path(scenario.source).parent if scenario.source and scenario.source != "<dict>" else None
    key = scenario_hash({"territory": (scenario.raw or {}).get("territory"), "dir": str(base)})
    if key not in _TERRITORIES:
        if len(_TERRITORIES) > 64:
            _TERRITORIES.clear()
        _TERRITORIES[key] = Territory.from_config(scenario.territory, np.random.default_rng(0), base)
    return _TERRITORIES[key]


def staff_counts(scenario: Any) -> Staff:
    """Head counts of a loaded scenario:

    * ``workers``: grid workers, every shift counted (each shift has its own workers), with
      ``workers.communities`` applied — exactly the workers a run hires;
    * ``mediators``: ``mediators`` × rooms of each configured level (one room per community,
      per street, or one for the district); several opening-hours entries do not multiply them;
    * ``volunteers``: volunteer mediators (``mediation.volunteers``: ``mediators`` × rooms of
      their level) plus volunteer service days (``governance.volunteers``: ``per_community`` ×
      communities × entries of its ``hours``, each entry having its own volunteers);
    * ``sensor_grids``, ``app_grids`` and ``infrastructure``, their yearly cost
      (``cost_per_grid`` of each), as in the metric ``infrastructure_cost``.

    Responders of other mechanisms (teams, alliance units, property staff) are not counted.
    """
    from govsim.engine import worker_layout

    terr = _territory(scenario)
    workers = len(worker_layout(terr, scenario.workers)) * len(scenario.workers.shifts)
    rooms = {"community": len(terr.communities), "street": len(terr.streets), "district": 1}
    med = scenario.mediation
    mediators = sum(level.mediators * rooms[name] for name, level in med.levels())
    volunteers = sum(v.mediators * rooms[v.level] for v in med.volunteers if getattr(med, v.level) is not None)
    for name, cfg in scenario.governance.active():
        if name == "volunteers":
            volunteers += cfg.per_community * len(terr.communities) * len(cfg.hours)
    ch = scenario.channels

    def grids(cfg: Any) -> int:
        if not cfg.enabled:
            return 0
        if cfg.grid_ids is not None:
            return len({g for g in cfg.grid_ids if 0 <= g < terr.n_grids})
        return int(round(cfg.coverage * terr.n_grids))

    sensors, app = grids(ch.sensors), grids(ch.app)
    return Staff(workers, mediators, volunteers, sensors, app,
                 sensors * ch.sensors.cost_per_grid + app * ch.app.cost_per_grid)


def configuration_cost(staff: Staff, costs: Mapping[str, float]) -> float:
    """Yearly cost: ``costs`` per head (worker, mediator, volunteer) plus the infrastructure."""
    return (costs.get("worker", 0.0) * staff.workers + costs.get("mediator", 0.0) * staff.mediators
            + costs.get("volunteer", 0.0) * staff.volunteers + staff.infrastructure)


# --------------------------------------------------------------------------- the procedure


def look_schedule(n0: int, max_n: int) -> list[int]:
    """Replications after each look: ``n0, 2 n0, 4 n0, …`` below ``max_n``, then ``max_n``."""
    out = [n0]
    while out[-1] < max_n:
        out.append(min(2 * out[-1], max_n))
    return out


@dataclasses.dataclass
class _Candidate:
    """One configuration the search knows of, with what its test has found."""

    id: int
    params: dict[str, Any]  # dotted key: value (for tables)
    overrides: dict[str, Any]  # what is applied to the base scenario
    point: _Point
    staff: Staff
    cost: float
    objective: float
    coords: tuple[Any, ...]
    block: int = 0  # the replications' master seed is seed + block · 2³²
    role: str = "candidate"
    looks: int = 0
    decisions: list[Decision | None] = dataclasses.field(default_factory=list)
    verdict: str | None = None
    failed: int | None = None  # the target that failed
    implied_by: int | None = None
    order: int | None = None
    screen: dict[str, float] | None = None  # greedy: the means that chose the next step

    @property
    def n(self) -> int:
        return max((d.n for d in self.decisions if d is not None), default=0)


class _Search:
    """The shared machinery: runs through ``_execute`` with one cache per seed block, the looks
    of a candidate's sequential test, and the bookkeeping of runs."""

    def __init__(self, base: Any, targets: list[Target], schedule: list[int], beta: float, seed: int,
                 objective: str, costs: dict[str, float], executor: Any, out: Path | None, force: bool,
                 progress: bool | None) -> None:
        self.base, self.targets, self.schedule, self.beta = base, targets, schedule, beta
        self.seed, self.objective, self.costs = seed, objective, costs
        self.executor, self.out, self.force, self.progress = executor, out, force, progress
        self.caches: dict[int, dict[tuple[str, int], dict[str, Any]]] = {}
        self.runs: dict[tuple[str, int], pd.DataFrame] = {}  # (hash, block) -> runs by replication
        self.opened: set[Path] = set()
        self.computed = 0
        self.reused = 0
        self.executor_name = ""
        self.candidates: list[_Candidate] = []
        self.examined = 0
        self.base_hash = point_hash(base)

    # --- candidates ---------------------------------------------------------------------
    def candidate(self, params: dict[str, Any], overrides: dict[str, Any], coords: tuple[Any, ...],
                  block: int = 0, role: str = "candidate") -> _Candidate:
        from govsim.scenario import load_scenario

        index = len(self.candidates)
        label = _point_label(params)
        try:
            sc = load_scenario(self.base.raw, overrides=overrides)
            sc = dataclasses.replace(sc, source=self.base.source)
            staff = staff_counts(sc)
        except Exception as err:
            err = _with_source(err, self.base.source)
            from govsim.scenario import ScenarioError

            if isinstance(err, (ScenarioError, ExperimentError)):
                raise ExperimentError(f"candidate {label}: {err}") from None
            raise
        cost = configuration_cost(staff, self.costs)
        objective = float(staff.workers) if self.objective == "workers" else cost
        cand = _Candidate(index, params, overrides, _Point(0, label, params, sc, point_hash(sc)), staff,
                          cost, objective, coords, block, role, decisions=[None] * len(self.targets))
        self.candidates.append(cand)
        return cand

    # --- running ------------------------------------------------------------------------
    def block_seed(self, block: int) -> int:
        return self.seed + block * BLOCK

    def results(self, cand: _Candidate, block: int | None = None) -> pd.DataFrame:
        return self.runs.get((cand.point.hash, cand.block if block is None else block), pd.DataFrame())

    def run(self, cands: Sequence[_Candidate], n: int) -> None:
        """Replications ``0 … n−1`` of every candidate in ``cands`` (each on its own seed block),
        from the cache, the store or computed; one batch per block when there is no store."""
        groups: dict[int, list[_Candidate]] = {}
        for c in cands:
            groups.setdefault(c.block, []).append(c)
        for b, group in groups.items():
            todo = [c for c in dict((c.point.hash, c) for c in group).values()
                    if len(self.results(c, b)) < n]
            if not todo:
                continue
            if self.out is None:
                self._execute(todo, n, b, None)
            else:
                for c in todo:
                    self._execute([c], n, b, self.out / "points" / f"{c.point.hash[:16]}-s{self.block_seed(b)}")

    def _execute(self, cands: list[_Candidate], n: int, block: int, out: Path | None) -> None:
        seed = self.block_seed(block)
        points = [dataclasses.replace(c.point, index=i) for i, c in enumerate(cands)]
        force = self.force and out is not None and out not in self.opened
        if out is not None:
            self.opened.add(out)
        runs, _, info = _execute(
            "optimise", points, n, seed, executor=self.executor, jobs=None, scheduler=None, out=out,
            force=force, progress=self.progress, issues=False, cache=self.caches.setdefault(seed, {}),
            extra={"scenario": self.base.source, "base_hash": self.base_hash})
        _finish_store(info, {"runs": runs})
        before = sum(len(self.results(c, block)) for c in cands)
        self.computed += info["computed"]
        self.reused += max(0, info["reused"] - before)
        self.executor_name = info["executor"]
        for i, c in enumerate(cands):
            self.runs[(c.point.hash, block)] = runs[runs["point"] == i].drop(columns="point") \
                .set_index("replication").sort_index()

    # --- the sequential test ---------------------------------------------------------------
    def test(self, cand: _Candidate, looks: int | None = None) -> str | None:
        """Look at ``cand`` until its verdict is known (or ``looks`` looks are done)."""
        if cand.order is None:
            cand.order = self.examined
            self.examined += 1
        stop = len(self.schedule) if looks is None else min(looks, len(self.schedule))
        if all(d is not None and d.verdict == "implied" for d in cand.decisions):
            cand.verdict = "meets"  # every target met below it (monotonicity): nothing to run
        while cand.verdict is None and cand.looks < stop:
            n = self.schedule[cand.looks]
            self.run([cand], n)
            runs = self.results(cand).iloc[:n]
            if cand.looks == 0 and self.examined == 1:
                self._check_defined(cand, runs)
            for j, target in enumerate(self.targets):
                d = cand.decisions[j]
                if d is not None and d.verdict != "undecided":
                    continue
                d = target.decide(runs[target.metric].to_numpy(dtype=float), self.beta)
                cand.decisions[j] = d
                if d.verdict == "fails":
                    cand.verdict, cand.failed = "fails", j
                    break
            cand.looks += 1
            if cand.verdict is None and all(d is not None and d.verdict in ("met", "implied")
                                            for d in cand.decisions):
                cand.verdict = "meets"
        if cand.verdict is None and cand.looks == len(self.schedule):
            cand.verdict = "undecided"
        return cand.verdict

    def _check_defined(self, cand: _Candidate, runs: pd.DataFrame) -> None:
        for t in self.targets:
            if runs[t.metric].isna().all():
                raise ExperimentError(
                    f"target {t}: {t.metric} has no value in any run of {cand.point.label} (does "
                    f"the scenario produce it? e.g. mediation_wait_mean needs mediation rooms, "
                    f"dispute metrics need a category with a dispute: section)")

    def implied(self, cand: _Candidate, j: int) -> None:
        cand.decisions[j] = Decision("implied", math.nan, math.nan, math.nan, 0, self.targets[j].op)


def _dominates(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    """``a`` is at least ``b`` on every ordered axis and equal on the unordered ones."""
    for x, y in zip(a, b):
        if _ordered(x) and _ordered(y):
            if x < y:
                return False
        elif x != y:
            return False
    return True


def _ordered(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


# --------------------------------------------------------------------------- grid search


def _grid_search(s: _Search, grid: dict[str, list[Any]], monotone: bool) -> tuple[_Candidate | None, str]:
    keys = list(grid)
    for combo in itertools.product(*grid.values()):
        params = dict(zip(keys, combo))
        s.candidate(params, dict(params), tuple(combo))
    cands = s.candidates
    _check_objectives(cands, s.objective)
    # cheapest first; at equal cost the most generous first (if it fails, those below it fail)
    order = sorted(cands, key=lambda c: (c.objective, c.cost,
                                         tuple(-v if _ordered(v) else 0 for v in c.coords), c.id))
    if monotone and all(all(_ordered(v) for v in vals) for vals in grid.values()):
        top = next(c for c in cands if all(c.coords[i] == max(grid[k]) for i, k in enumerate(keys)))
        top.role = "probe"
        if s.test(top, looks=1) == "fails":
            return None, _fails_text(s, top, "the most generous candidate")
    failed: list[_Candidate] = []
    met: list[tuple[_Candidate, int]] = []
    for cand in order:
        if cand.verdict is not None:
            if cand.verdict == "meets":
                return cand, ""
            continue
        if monotone:
            above = next((f for f in failed if _dominates(f.coords, cand.coords)), None)
            if above is not None:
                cand.verdict, cand.implied_by, cand.failed = "fails", above.id, above.failed
                continue
            for below, j in met:
                if cand.decisions[j] is None and _dominates(cand.coords, below.coords):
                    s.implied(cand, j)
        verdict = s.test(cand)
        if verdict == "meets":
            return cand, ""
        if verdict == "fails":
            failed.append(cand)
        met += [(cand, j) for j, d in enumerate(cand.decisions) if d is not None and d.verdict == "met"]
    return None, "no candidate meets every target"


def _fails_text(s: _Search, cand: _Candidate, what: str) -> str:
    assert cand.failed is not None
    t, d = s.targets[cand.failed], cand.decisions[cand.failed]
    assert d is not None
    side = "lower" if t.op == "<=" else "upper"
    return (f"{what} ({cand.point.label}) fails {t}: mean {_fmt(d.mean)}, {side} bound "
            f"{_fmt(d.bound)} over {d.n} replications, so no candidate can meet it")


def _check_objectives(cands: Sequence[_Candidate], objective: str) -> None:
    if len(cands) > 1 and len({c.objective for c in cands}) == 1:
        what = ("grid workers" if objective == "workers"
                else "cost (per head costs= and channels' cost_per_grid)")
        raise ExperimentError(f"every candidate has the same {what}, {_fmt(cands[0].objective)}: "
                              f"nothing to minimise. Vary what changes it, or give costs= "
                              f"(--cost worker=... / mediator=... / volunteer=...) for what you vary")


# --------------------------------------------------------------------------- greedy allocation


def _greedy_search(s: _Search, coords: list[tuple[str, list[Any]]], communities: list[str],
                   screen_n: int) -> tuple[_Candidate | None, str]:
    """Marginal allocation: from the lowest allocation, raise one coordinate at a time."""
    n_steps = sum(len(v) - 1 for _, v in coords)
    seen: dict[tuple[tuple[int, ...], int], _Candidate] = {}

    def make(state: tuple[int, ...], block: int, role: str = "candidate") -> _Candidate:
        if (state, block) in seen:
            return seen[(state, block)]
        values = [levels[i] for (_, levels), i in zip(coords, state)]
        params = {(f"{COMMUNITIES_KEY}.{k}" if k in communities else k): v
                  for (k, _), v in zip(coords, values)}
        overrides = {k: v for (k, _), v in zip(coords, values) if k not in communities}
        if communities:
            overrides[COMMUNITIES_KEY] = {k: v for (k, _), v in zip(coords, values) if k in communities}
        cand = s.candidate(params, overrides, tuple(values), block, role)
        seen[(state, block)] = cand
        return cand

    state = tuple(0 for _ in coords)
    top = make(tuple(len(v) - 1 for _, v in coords), n_steps + 1, "probe")
    current = make(state, 0)
    _check_objectives([current, *(make(_up(state, i), 0, "screened") for i in range(len(coords))
                                  if len(coords[i][1]) > 1)], s.objective)
    if s.test(top, looks=1) == "fails":
        return None, _fails_text(s, top, "the most generous allocation")
    for step in range(n_steps + 1):
        current = make(state, step, "candidate")
        verdict = s.test(current)
        if verdict == "meets":
            return current, ""
        ups = [i for i in range(len(coords)) if state[i] + 1 < len(coords[i][1])]
        if not ups:
            break
        nbs = [make(_up(state, i), step, "screened") for i in ups]
        s.run([current, *nbs], screen_n)
        here = _shortfall(s, current, screen_n)
        best, best_key = ups[0], -math.inf
        for i, nb in zip(ups, nbs):
            means = s.results(nb).iloc[:screen_n]
            nb.screen = {t.metric: float(means[t.metric].mean()) for t in s.targets}
            gain = here - _shortfall(s, nb, screen_n)
            extra = nb.objective - current.objective
            key = gain / extra if extra > 0 else (math.inf if gain > 0 else gain)
            if key > best_key:
                best, best_key = i, key
        state = _up(state, best)
    return None, "no allocation along the greedy path meets every target"


def _up(state: tuple[int, ...], i: int) -> tuple[int, ...]:
    return state[:i] + (state[i] + 1,) + state[i + 1:]


def _shortfall(s: _Search, cand: _Candidate, n: int) -> float:
    runs = s.results(cand).iloc[:n]
    return sum(t.gap(float(runs[t.metric].mean())) for t in s.targets)


# --------------------------------------------------------------------------- the result


class Optimisation:
    """The result of :func:`optimise`.

    * ``found``: a configuration was shown to meet every target; ``chosen``: its varied values
      (``None`` if not found); ``message``: why none was found.
    * ``estimates``: at the chosen configuration, per target: ``target, metric, op, threshold,
      mean, bound, level, n, decision`` — the mean and the one-sided bound (at ``level``) of
      the look that decided it.
    * ``candidates``: every configuration the search knew of: ``candidate``, the varied values,
      ``workers, mediators, volunteers, cost, objective``, ``role`` (``probe``: the first look at
      the most generous one; ``screened``: run only to choose the next greedy step),
      ``examined`` (order), ``verdict`` (``meets``, ``fails``, ``undecided``, ``not examined``;
      ``first look: no failure`` for a probe the search did not need further),
      ``n`` (replications of its test), ``implied_by`` and per target its mean, bound and decision.
    * ``runs``: one row per run used: candidate, ``block`` (its master seed is ``seed + block · 2³²``),
      replication, every metric.
    * ``total_runs`` against ``brute_force_runs`` (every candidate × ``max_n``).
    """

    def __init__(self, search: _Search, chosen: _Candidate | None, message: str, *, method: str,
                 vary: dict[str, list[Any]], confidence: float, control: str, alpha_decision: float,
                 decisions: int, max_n: int, brute_force: int) -> None:
        self.scenario = search.base
        self.targets = search.targets
        self.minimise = search.objective
        self.costs = dict(search.costs)
        self.method, self.vary, self.confidence, self.control = method, vary, confidence, control
        self.seed, self.schedule = search.seed, list(search.schedule)
        self.alpha_decision, self.alpha_look, self.decisions = alpha_decision, search.beta, decisions
        self.max_n = max_n
        self.found = chosen is not None
        self.chosen = dict(chosen.params) if chosen is not None else None
        self.chosen_candidate = chosen.id if chosen is not None else None
        self.message = message
        self._search = search
        self.candidates = self._candidate_table(search)
        self.estimates = self._estimates(chosen)
        self.runs = self._runs(search)
        self.total_runs = len(self.runs)
        self.brute_force_runs = brute_force
        self.info = {"executor": search.executor_name, "computed": search.computed,
                     "reused": search.reused}
        self.undecided_cheaper = ([] if chosen is None else
                                  [c.id for c in search.candidates if c.verdict == "undecided"
                                   and c.objective <= chosen.objective and c.id != chosen.id])

    @property
    def cost(self) -> float | None:
        """The chosen configuration's yearly cost (None if none was found)."""
        c = self._chosen()
        return c.cost if c is not None else None

    @property
    def workers(self) -> int | None:
        """The chosen configuration's grid workers (all shifts)."""
        c = self._chosen()
        return c.staff.workers if c is not None else None

    def _chosen(self) -> _Candidate | None:
        return None if self.chosen_candidate is None else self._search.candidates[self.chosen_candidate]

    def _candidate_table(self, s: _Search) -> pd.DataFrame:
        rows = []
        for c in s.candidates:
            row: dict[str, Any] = {"candidate": c.id, **c.params, "workers": c.staff.workers,
                                   "mediators": c.staff.mediators, "volunteers": c.staff.volunteers,
                                   "cost": c.cost, "objective": c.objective, "role": c.role,
                                   "examined": c.order,
                                   "verdict": c.verdict or ("not examined" if c.order is None
                                                            else "first look: no failure"),
                                   "n": c.n, "implied_by": c.implied_by}
            for t, d in zip(s.targets, c.decisions):
                row[t.metric] = d.mean if d is not None else (c.screen or {}).get(t.metric, math.nan)
                row[f"{t.metric}_bound"] = d.bound if d is not None else math.nan
                row[f"{t.metric}_decision"] = d.verdict if d is not None else ""
            rows.append(row)
        table = pd.DataFrame(rows)
        for col in ("examined", "implied_by"):
            table[col] = table[col].astype("Int64")
        return table

    def _estimates(self, chosen: _Candidate | None) -> pd.DataFrame:
        cols = ["target", "metric", "op", "threshold", "mean", "bound", "level", "n", "decision"]
        if chosen is None:
            return pd.DataFrame(columns=cols)
        rows = []
        for t, d in zip(self.targets, chosen.decisions):
            assert d is not None
            rows.append({"target": str(t), "metric": t.metric, "op": t.op, "threshold": t.value,
                         "mean": d.mean, "bound": d.bound,
                         "level": 1.0 - self.alpha_look if d.verdict != "implied" else math.nan,
                         "n": d.n, "decision": d.verdict})
        return pd.DataFrame(rows, columns=cols)

    def _runs(self, s: _Search) -> pd.DataFrame:
        parts = []
        used: set[tuple[str, int]] = set()
        for c in s.candidates:
            runs = s.results(c)
            if runs.empty or (c.point.hash, c.block) in used:
                continue
            used.add((c.point.hash, c.block))
            df = runs.reset_index()
            df.insert(0, "candidate", c.id)
            df.insert(1, "block", c.block)
            parts.append(df)
        if not parts:
            return pd.DataFrame(columns=["candidate", "block", "replication"])
        return pd.concat(parts, ignore_index=True)

    def interval(self, candidate: int, metric: str) -> tuple[float, float, float, int]:
        """``(mean, ci_low, ci_high, n)``: a two-sided Student-t interval at ``confidence`` of
        ``metric`` over every run of ``candidate`` (for figures)."""
        from govsim.experiments.stats import t_interval

        c = self._search.candidates[candidate]
        runs = self._search.results(c)
        if runs.empty or metric not in runs:
            return math.nan, math.nan, math.nan, 0
        ci = t_interval(runs[metric].to_numpy(dtype=float), self.confidence)
        return ci["mean"], ci["ci_low"], ci["ci_high"], int(ci["n"])

    def pareto(self, metric: str | None = None, x: str | None = None, lang: str = "en") -> Any:
        """The cost–service figure (:func:`govsim.plots.pareto.pareto_front`)."""
        from govsim.plots.pareto import pareto_front

        return pareto_front(self, metric=metric, x=x, lang=lang)

    def __repr__(self) -> str:
        return self.to_string()

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:  # IPython
        p.text(self.to_string())

    def to_string(self) -> str:
        sc = self.scenario
        what = "the fewest grid workers" if self.minimise == "workers" else "the lowest yearly cost"
        vary = "; ".join(f"{k} ∈ {_show_values(v)}" for k, v in self.vary.items())
        lines = [f"{sc.name}: the configuration with {what} meeting every target "
                 f"({self.confidence:.0%} {'family-wise' if self.control == 'family' else 'per decision'}, "
                 f"seed {self.seed}, horizon {sc.horizon / 24:g} days)",
                 f"varied: {vary}",
                 "targets: " + "; ".join(str(t) for t in self.targets),
                 f"procedure: {'greedy allocation' if self.method == 'greedy' else 'candidates in order of cost'}, "
                 f"looks at n = {', '.join(map(str, self.schedule))}; each decision at error "
                 f"{self.alpha_decision:.3g}"
                 + (f" (1 − confidence over {self.decisions} possible decisions)" if self.control == "family" else "")
                 + f", each look at {self.alpha_look:.3g}"]
        if self.found:
            c = self._chosen()
            assert c is not None
            heads = [f"{v} {k}" for k, v in (("grid workers", c.staff.workers), ("mediators", c.staff.mediators),
                                              ("volunteers", c.staff.volunteers)) if v]
            cost = f"cost {c.cost:,.0f} a year; " if self.costs or c.staff.infrastructure else ""
            lines.append(f"chosen: {_point_label(c.params)} ({cost}{', '.join(heads)})")
            est = self.estimates.copy()
            est["bound"] = [("≤ " if op == "<=" else "≥ ") + _fmt(b) if math.isfinite(b) else "(implied)"
                            for op, b in zip(est["op"], est["bound"])]
            lines.append(format_table(est[["target", "mean", "bound", "n", "decision"]]))
            if self.undecided_cheaper:
                k = len(self.undecided_cheaper)
                lines.append(f"note: {k} candidate{'s' if k > 1 else ''} costing no more "
                             f"({', '.join(map(str, self.undecided_cheaper))}) stayed undecided after "
                             f"{self.max_n} replications: the chosen one is the cheapest shown to meet "
                             f"every target")
        else:
            lines.append(f"none found ({self.confidence:.0%} confidence): {self.message}")
        lines.append("candidates examined:")
        lines.append(self._examined_text())
        lines.append(f"runs: {self.total_runs} (computed {self.info['computed']}, reused "
                     f"{self.info['reused']}); brute force: {self.brute_force_runs} "
                     f"({self.brute_force_runs // self.max_n} candidates × {self.max_n})")
        return "\n".join(lines)

    def _examined_text(self) -> str:
        t = self.candidates[self.candidates["examined"].notna() | self.candidates["implied_by"].notna()]
        if t.empty:
            return "(none)"
        cols = ["candidate", *[c for c in t.columns if c in self._search.candidates[0].params],
                "workers", *(["cost"] if self.minimise == "cost" else []), "n", "verdict"]
        show = t[cols].copy()
        show["verdict"] = [v + (f" (below {int(i)})" if pd.notna(i) else "")
                           for v, i in zip(t["verdict"], t["implied_by"])]
        show["role"] = t["role"].where(t["role"] == "probe", "")
        if "cost" in show:
            show["cost"] = [f"{v:,.0f}" for v in show["cost"]]
        for tg in self.targets:
            show[tg.metric] = [_fmt(m) if pd.notna(m) else "–" for m in t[tg.metric]]
        show = show.assign(_order=t["examined"].fillna(10**9)).sort_values(["_order", "candidate"])
        return format_table(show.drop(columns="_order"))


def _show_values(values: list[Any]) -> str:
    if len(values) > 6:
        return f"{{{values[0]}, {values[1]}, …, {values[-1]}}} ({len(values)} values)"
    return "{" + ", ".join(str(v) for v in values) + "}"


# --------------------------------------------------------------------------- the API


def optimise(scenario: Any, vary: Mapping[str, Any], targets: str | Target | Sequence[str | Target], *,
             minimise: str = "workers", costs: Mapping[str, float] | None = None,
             confidence: float = 0.95, n0: int = 5, max_n: int = 80, seed: int | None = None,
             method: str = "auto", monotone: bool = True, control: str = "family",
             warmup: Any = None, overrides: Mapping[str, Any] | None = None, executor: Any = None,
             jobs: int | None = None, scheduler: Any = None, out: str | Path | None = None,
             force: bool = False, progress: bool | None = None) -> Optimisation:
    base = _load(scenario, _base_overrides(overrides, warmup))
    seed = master_seed(seed, base)
    if not isinstance(vary, Mapping) or not vary:
        raise ExperimentError("vary must be a dict of dotted key: 'lo..hi[:step]' or list of values, "
                              "e.g. {'workers.per_grid': '1..4'}")
    grid = {str(k): vary_values(str(k), v) for k, v in vary.items()}
    target_list = [parse_target(t) for t in ([targets] if isinstance(targets, (str, Target)) else targets)]
    if not target_list:
        raise ExperimentError("give at least one target, e.g. 'resolution_time_p90<=24h'")
    if minimise not in ("workers", "cost"):
        raise ExperimentError(f"minimise={minimise!r}: expected 'workers' or 'cost'"
                              + did_you_mean(str(minimise), ["workers", "cost"]))
    price = _check_costs(costs)
    if not (isinstance(confidence, numbers.Real) and 0.5 <= float(confidence) < 1):
        raise ExperimentError(f"confidence must be in [0.5, 1), got {confidence!r}")
    for name, v in (("n0", n0), ("max_n", max_n)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 2:
            raise ExperimentError(f"{name} must be a whole number >= 2 (a bound needs two replications), got {v!r}")
    if max_n < n0:
        raise ExperimentError(f"max_n ({max_n}) must be at least n0 ({n0})")
    if control not in ("family", "decision"):
        raise ExperimentError(f"control={control!r}: expected 'family' or 'decision'")
    if method not in ("auto", "grid", "greedy"):
        raise ExperimentError(f"method={method!r}: expected 'auto', 'grid' or 'greedy'")
    if method == "auto":
        method = "greedy" if COMMUNITIES_KEY in grid else "grid"
    if method == "grid" and COMMUNITIES_KEY in grid:
        raise ExperimentError(f"{COMMUNITIES_KEY} is allocated community by community: use method='greedy' "
                              f"(or vary {COMMUNITIES_KEY}.NAME for one community)")
    if method == "greedy" and not monotone:
        raise ExperimentError("the greedy allocation assumes monotonicity (more never hurts); "
                              "use method='grid' with monotone=False")

    communities: list[str] = []
    coords: list[tuple[str, list[Any]]] = []
    for key, values in grid.items():
        if key == COMMUNITIES_KEY:
            communities = list(_territory(base).communities)
            coords += [(name, values) for name in communities]
        else:
            coords.append((key, values))
    if method == "greedy":
        bad = [(k, v) for k, v in coords if not all(_ordered(x) for x in v)]
        if bad:
            raise ExperimentError(f"the greedy allocation raises numbers step by step; {bad[0][0]} has "
                                  f"{_show_values(bad[0][1])}")
        coords = [(k, sorted(v)) for k, v in coords]
        n_cands = 1
        for _, v in coords:
            n_cands *= len(v)
        decisions = (sum(len(v) - 1 for _, v in coords) + 2) * len(target_list)
    else:
        n_cands = math.prod(len(v) for v in grid.values())
        if n_cands > MAX_CANDIDATES:
            raise ExperimentError(f"{n_cands} candidates; at most {MAX_CANDIDATES} in a grid search "
                                  f"(use fewer values, or a step)")
        decisions = n_cands * len(target_list)
    schedule = look_schedule(int(n0), int(max_n))
    alpha = 1.0 - float(confidence)
    alpha_d = alpha / decisions if control == "family" else alpha
    beta = alpha_d / len(schedule)

    ex, owned = make_executor(executor, jobs=jobs, scheduler=scheduler, n_tasks=int(n0))
    out_dir = Path(out) if out is not None else None
    search = _Search(base, target_list, schedule, beta, seed, minimise, price, ex, out_dir, force, progress)
    try:
        if method == "greedy":
            chosen, message = _greedy_search(search, coords, communities, int(n0))
        else:
            chosen, message = _grid_search(search, grid, monotone)
    finally:
        if owned:
            ex.close()
    result = Optimisation(search, chosen, message, method=method, vary=grid, confidence=float(confidence),
                          control=control, alpha_decision=alpha_d, decisions=decisions, max_n=int(max_n),
                          brute_force=n_cands * int(max_n))
    if out_dir is not None:
        _write(result, out_dir)
    return result


optimise.__doc__ = """The cheapest configuration of ``scenario`` that meets every target with the stated
    confidence, found by a sequential procedure (see :mod:`govsim.experiments.optimise`).

    ``vary``: dotted key → ``"lo..hi"`` (whole numbers), ``"lo..hi:step"`` or a list of values;
    ``workers.communities`` → one value per community, allocated greedily. ``targets``: texts
    such as ``"resolution_time_p90<=24h"``, ``"on_time_rate>=90%"`` (or :class:`Target`).
    ``minimise``: ``"workers"`` (grid workers, all shifts) or ``"cost"`` (yearly: ``costs`` per
    head — ``{"worker": 60000, "mediator": 50000, "volunteer": 5000}`` — plus the sensors' and
    the app's ``cost_per_grid``). ``confidence``: with ``control="family"`` the probability that
    every decision of the search is right (Bonferroni over the possible decisions and the
    looks); with ``"decision"``, of each decision alone. Looks at ``n0, 2 n0, …, max_n``
    replications. ``method``: ``"grid"`` (every combination, in order of cost), ``"greedy"``
    (marginal allocation) or ``"auto"``. ``monotone``: more of every varied key never worsens a
    target (grid: prune with it). ``seed``, ``warmup``, ``overrides``, ``executor``, ``jobs``,
    ``scheduler``, ``progress`` as for :func:`govsim.sweep`; ``out``: a directory keeping every
    run (``points/`` holds one results store per candidate; rerunning reuses them, also with
    other targets) and ``optimise.json``, ``candidates.csv``, ``runs.csv``.
    """


def _write(result: Optimisation, out: Path) -> None:
    from govsim.experiments.store import atomic_write, atomic_write_text

    try:
        out.mkdir(parents=True, exist_ok=True)
        summary = {
            "kind": "optimise", "scenario": result.scenario.source, "seed": result.seed,
            "vary": _plain(result.vary), "targets": [str(t) for t in result.targets],
            "minimise": result.minimise, "costs": result.costs, "confidence": result.confidence,
            "control": result.control, "method": result.method, "looks": result.schedule,
            "alpha_decision": result.alpha_decision, "alpha_look": result.alpha_look,
            "possible_decisions": result.decisions, "found": result.found, "chosen": _plain(result.chosen),
            "message": result.message, "total_runs": result.total_runs,
            "brute_force_runs": result.brute_force_runs,
            "estimates": json.loads(result.estimates.to_json(orient="records")),
        }
        atomic_write_text(out / "optimise.json", json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
        table = result.candidates.copy()
        for c in table.columns:
            if table[c].dtype == object:
                table[c] = table[c].map(lambda v: json.dumps(v) if isinstance(v, (dict, list)) else v)
        atomic_write(out / "candidates.csv", lambda tmp: table.to_csv(tmp, index=False))
        atomic_write(out / "runs.csv", lambda tmp: result.runs.to_csv(tmp, index=False))
    except OSError as err:
        raise ExperimentError(f"{out}: cannot write the results ({err.strerror or err})") from None
