"""Sensitivity analysis (敏感性分析): which scenario parameters move a metric, and how much.

Two global methods, both from SALib (``pip install "govsim[sensitivity]"``), over
:class:`~govsim.experiments.designs.Factor` ranges (``workers.per_grid=1,3``,
``policies.smart_dispatch.radius_m=500,3000``, ``workers.dwell=1min,5min``):

* **Morris screening** (``method="morris"``): ``n`` one-at-a-time trajectories
  through a grid of ``levels`` levels of every factor, ``n · (k + 1)`` points for
  ``k`` factors. Per factor, ``mu_star`` is the mean absolute elementary effect —
  the change of the metric, in its own units, when the factor goes over its full
  range — with a bootstrap interval, and ``sigma`` their spread (large when the
  effect depends on the other factors or is not linear). Cheap: to sort many
  factors into those that matter and those that do not.
* **Sobol indices** (``method="sobol"``): Saltelli's sample, ``N · (k + 2)``
  points (``N · (2k + 2)`` with second-order indices). ``S1`` is the share of the
  metric's variance over the factor ranges that a factor explains alone, ``ST``
  the share it takes part in, interactions included; each with a bootstrap interval.

The sample is drawn in the unit hypercube and mapped onto each factor's range
(:func:`~govsim.experiments.designs.unit_design`; whole-number factors onto whole
numbers, factors with a unit keep it), then the points run with
:func:`govsim.sweep` — ``replications`` runs per point, replication ``i`` of every
point with the same seeds (common random numbers), the results store under
``out``, any executor. The indices are computed on the **point means** (the mean
of the replications of each point).

**Simulation noise.** A point mean still carries the noise of its replications.
With common random numbers the part of the noise shared by every point (a busy
replication is busy at every point) cancels between points and moves no index;
what is left is the point × replication interaction of a two-way analysis of the
runs (replications as blocks), ``crn_noise_var``. Divided by the replications
and by the variance of the point means it is the **noise share**: the share of
the variance of the point means that is simulation noise. It is the most that
noise adds to a total index ``ST`` (noise that is independent from point to
point adds exactly that; noise correlated between neighbouring points adds less)
and it adds nothing on average to ``S1``, only spread, which the bootstrap
interval carries. For Morris the same noise gives a factor without effect a
``mu_star`` of at most ``(2/√π) · sqrt(crn_noise_var / R) / step`` (``step`` the share of the
factor's range a Morris step covers).
These are the **noise floors**: indices below them cannot be told from noise.

Why not a dummy factor? A key the scenario ignores (a cost, a parameter of a
policy that is not used) gives *exactly* zero indices under common random
numbers — the points that differ only in it are the same runs — so it tests
the plumbing, not the noise (the test suite uses it that way). A dummy that
re-draws the random numbers would measure the noise without common random
numbers, overstating it, at the price of extra runs. The interaction variance
measures the noise that does reach the indices from the replications already run;
``tests/test_sensitivity.py`` checks it against a noise-only dummy factor of a
test function, where the dummy's indices are known to be the floor.

Seeds: from master seed ``s`` the sample is drawn with
``numpy.random.default_rng([s, 0x53454E53, 0])`` and the bootstrap with
``[s, 0x53454E53, 1]``, streams independent of the replications'
(``SeedSequence(s, spawn_key=(i,))``); the same arguments give the same indices.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from govsim.experiments.designs import Factor, as_factors, unit_design
from govsim.experiments.errors import ExperimentError

__all__ = ["DEFAULT_N", "METHODS", "Sensitivity", "analyse", "noise_decomposition", "sample",
           "sensitivity"]

METHODS = ("morris", "sobol")
#: ``n`` when none is given: Morris trajectories, Sobol base points.
DEFAULT_N = {"morris": 10, "sobol": 64}
INSTALL_HINT = 'sensitivity analysis needs SALib: pip install "govsim[sensitivity]"'
_SALT = 0x53454E53  # "SENS": the sample's and the bootstrap's streams, apart from the runs'
_SAMPLE, _BOOTSTRAP = 0, 1

INDEX_COLUMNS = {
    "morris": ("metric", "factor", "mu_star", "mu_star_conf", "mu", "sigma", "noise_floor",
               "above_noise"),
    "sobol": ("metric", "factor", "S1", "S1_conf", "ST", "ST_conf", "noise_floor", "above_noise"),
}
NOISE_COLUMNS = ("metric", "points", "replications", "point_means_var", "noise_var",
                 "crn_noise_var", "noise_share", "noise_share_without_crn", "floor", "note")


def _salib() -> SimpleNamespace:
    """SALib's Morris and Sobol samplers and analysers, or an ImportError naming the extra."""
    try:
        from SALib.analyze import morris as analyze_morris
        from SALib.analyze import sobol as analyze_sobol
        from SALib.sample import morris as sample_morris
        from SALib.sample import sobol as sample_sobol
    except ImportError:
        raise ImportError(INSTALL_HINT) from None
    return SimpleNamespace(sample_morris=sample_morris, sample_sobol=sample_sobol,
                           analyze_morris=analyze_morris, analyze_sobol=analyze_sobol)


def _rng(seed: int, purpose: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), _SALT, purpose])


def _method(method: Any) -> str:
    if not isinstance(method, str) or method.strip().lower() not in METHODS:
        raise ExperimentError(f"unknown method {method!r}; expected one of: {', '.join(METHODS)} "
                              f"(morris: screening, sobol: variance shares)")
    return method.strip().lower()


_factors = as_factors


def _count(n: Any, what: str, least: int) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < least:
        raise ExperimentError(f"{what} must be a whole number >= {least}, got {n!r}")
    return int(n)


def _problem(k: int) -> dict[str, Any]:
    return {"num_vars": k, "names": [f"x{j}" for j in range(k)], "bounds": [[0.0, 1.0]] * k}


def morris_step(levels: int) -> float:
    """Δ, the step of a Morris trajectory in the unit interval: ``levels / (2 (levels − 1))``."""
    return levels / (2.0 * (levels - 1))


def sample(method: str, factors: Sequence[Factor | str], n: int, seed: int = 0, *, levels: int = 4,
           second_order: bool = False) -> tuple[np.ndarray, pd.DataFrame]:
    """The unit sample (points × factors, in [0, 1]) and the design it maps to.

    Morris: ``n`` trajectories of ``k + 1`` points on a grid of ``levels`` levels.
    Sobol: Saltelli's sample of ``n`` base points (rounded up to a power of two, which keeps the
    Sobol' sequence balanced), ``n (k + 2)`` points, or ``n (2k + 2)`` with ``second_order``.
    """
    method = _method(method)
    fs = _factors(factors)
    n = _count(n, "n (Morris trajectories or Sobol base points)", 2)
    lib = _salib()
    problem = _problem(len(fs))
    rng = _rng(seed, _SAMPLE)
    if second_order and method != "sobol":
        raise ExperimentError("second-order indices are Sobol indices: use method='sobol' "
                              "(--method sobol)")
    if method == "morris":
        levels = _count(levels, "levels (of the Morris grid)", 2)
        if levels % 2:
            raise ExperimentError(f"levels must be even (Morris steps go half-way across the grid), "
                                  f"got {levels}")
        unit = lib.sample_morris.sample(problem, n, num_levels=levels, seed=rng)
    else:
        n = 1 << max(1, math.ceil(math.log2(n)))
        unit = lib.sample_sobol.sample(problem, n, calc_second_order=bool(second_order), seed=rng)
    unit = np.asarray(unit, dtype=float)
    return unit, unit_design(fs, unit)


# --------------------------------------------------------------------------- noise


def point_means(values: np.ndarray) -> np.ndarray:
    """The mean of each point's defined replications (NaN for a point with none)."""
    y = np.asarray(values, dtype=float)
    y = y[:, None] if y.ndim == 1 else y
    ok = np.isfinite(y)
    count = ok.sum(axis=1)
    total = np.where(ok, y, 0.0).sum(axis=1)
    return np.divide(total, count, out=np.full(len(y), math.nan), where=count > 0)


def noise_decomposition(values: np.ndarray) -> dict[str, float]:
    """How much of the variance of the point means is simulation noise, from the runs
    ``values[point, replication]`` (replication ``i`` of every point on the same seeds).

    Two-way analysis with replications as blocks, on the points whose replications are all
    defined: ``noise_var`` is the pooled variance within a point (the replication noise);
    ``crn_noise_var`` the point × replication interaction mean square, the noise that common
    random numbers do not share between points; ``point_means_var`` the variance of the point
    means; ``noise_share`` = ``crn_noise_var / R / point_means_var``, the share of it that is
    noise; ``noise_share_without_crn`` the share independent seeds at every point would have
    given, ``(noise_var / R) / (point_means_var − crn_noise_var / R + noise_var / R)``. NaN
    where undefined (one replication, fewer than two points, or point means that do not vary).
    """
    y = np.asarray(values, dtype=float)
    if y.ndim == 1:
        y = y[:, None]
    means = point_means(y)
    ok = np.isfinite(means)
    v_means = float(np.var(means[ok], ddof=1)) if ok.sum() >= 2 else math.nan
    full = y[np.isfinite(y).all(axis=1)]
    p, r = full.shape
    out = {"points": float(p), "replications": float(y.shape[1]), "point_means_var": v_means,
           "noise_var": math.nan, "crn_noise_var": math.nan, "noise_share": math.nan,
           "noise_share_without_crn": math.nan}
    if r < 2 or p < 2:
        return out
    row = full.mean(axis=1, keepdims=True)
    col = full.mean(axis=0, keepdims=True)
    within = float(((full - row) ** 2).sum() / (p * (r - 1)))
    inter = float(((full - row - col + full.mean()) ** 2).sum() / ((p - 1) * (r - 1)))
    out.update(noise_var=within, crn_noise_var=inter)
    if v_means > 0:
        signal = max(v_means - inter / r, 0.0)  # the factors' part of the variance of the means
        out.update(noise_share=inter / r / v_means,
                   noise_share_without_crn=within / r / (signal + within / r))
    return out


def _steps(factors: Sequence[Factor | str], unit: np.ndarray, levels: int) -> np.ndarray:
    """Per step of the Morris trajectories (rows ``i → i+1`` of each trajectory): how far the
    factor that moved went, as a share of its range, over the grid step Δ — 1 for a continuous
    factor; for a whole-number factor the values do not sit exactly on the grid (``1,2`` on a
    4-level grid: every step goes the whole range, 1.5 Δ). Shape ``(trajectories, k)``; NaN at
    the last row of each trajectory. Steps of factors given by name count as Δ."""
    k = unit.shape[1]
    delta = morris_step(levels)
    pos = unit.copy()
    for j, f in enumerate(factors):
        if isinstance(f, Factor) and f.integer:
            pos[:, j] = (f.number(unit[:, j]) - f.low) / (f.high - f.low)
    out = np.full(unit.shape[0], np.nan)
    for t in range(0, unit.shape[0], k + 1):
        for i in range(t, t + k):
            moved = int(np.argmax(np.abs(unit[i + 1] - unit[i])))
            if not math.isclose(abs(unit[i + 1, moved] - unit[i, moved]), delta, rel_tol=1e-9):
                raise ExperimentError(f"row {i + 1} of the Morris sample is not a step of "
                                      f"{delta:.4g} ({levels} levels) from row {i}: pass the "
                                      f"levels the sample was drawn with")
            step = abs(pos[i + 1, moved] - pos[i, moved])
            out[i] = step / delta if step > 0 else 1.0
    return out


def _morris_outputs(unit: np.ndarray, y: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """The outputs with each step of a trajectory divided by its relative length (:func:`_steps`):
    SALib divides every output step by Δ, so its elementary effects become the change of the
    metric per full range of the factor that actually moved."""
    k = unit.shape[1]
    out = y.astype(float).copy()
    for t in range(0, len(y), k + 1):
        for i in range(t, t + k):
            out[i + 1] = out[i] + (y[i + 1] - y[i]) / steps[i]
    return out


def _morris_floors(unit: np.ndarray, steps: np.ndarray, noise_sd: float, levels: int) -> np.ndarray:
    """``mu_star`` of each factor if it had no effect and the point means carried noise of sd
    ``noise_sd``, independent from point to point: an elementary effect is then
    ``N(0, 2 sd²) / step``, whose mean absolute value is ``(2/√π) sd / step``; averaged over the
    factor's steps (in its range: ``steps · Δ``)."""
    k = unit.shape[1]
    delta = morris_step(levels)
    inverse: list[list[float]] = [[] for _ in range(k)]
    for t in range(0, unit.shape[0], k + 1):
        for i in range(t, t + k):
            moved = int(np.argmax(np.abs(unit[i + 1] - unit[i])))
            inverse[moved].append(1.0 / (steps[i] * delta))
    return np.array([2.0 / math.sqrt(math.pi) * noise_sd * float(np.mean(v)) if v else math.nan
                     for v in inverse])


# --------------------------------------------------------------------------- analysis


def analyse(method: str, factors: Sequence[Factor | str] | Sequence[str], unit: np.ndarray,
            values: Mapping[str, np.ndarray], *, levels: int = 4, second_order: bool = False,
            confidence: float = 0.95, resamples: int = 1000, seed: int = 0,
            ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """Indices of each metric from the runs at the points of a unit sample.

    ``factors``: the factors (or just their names), in the sample's column order; ``unit``: the
    sample from :func:`sample`; ``values``: per metric an array ``[point, replication]`` (or
    one value per point). Returns ``(indices, noise, second)``: ``indices`` one row per metric
    and factor (:data:`INDEX_COLUMNS`; an index's interval is ``value ± conf``, a normal
    bootstrap interval at ``confidence`` from ``resamples`` resamples; ``noise_floor`` the value
    of that index that noise alone would give, ``above_noise`` whether the interval lies above
    it); ``noise`` one row per metric (:data:`NOISE_COLUMNS`, see :func:`noise_decomposition`;
    ``floor`` is the largest noise floor of its indices); ``second`` the second-order Sobol
    indices (``S2``, ``S2_conf`` per pair of factors) or ``None``. A metric undefined at some
    point, or that does not vary at all (Sobol), gets NaN indices and a ``note``.

    Morris elementary effects are the metric's change per full range of a factor: a
    whole-number factor's steps, which do not fall exactly on the grid, are measured in its
    values (:func:`_steps`).
    """
    method = _method(method)
    names = [f.key if isinstance(f, Factor) else str(f) for f in factors]
    k = len(names)
    unit = np.asarray(unit, dtype=float)
    if unit.ndim != 2 or unit.shape[1] != k:
        raise ExperimentError(f"expected a unit sample of shape (points, {k}), got {unit.shape}")
    if not 0.0 < confidence < 1.0:
        raise ExperimentError(f"confidence must be in (0, 1), got {confidence!r}")
    resamples = _count(resamples, "resamples", 10)
    per = k + 1 if method == "morris" else (2 * k + 2 if second_order else k + 2)
    if unit.shape[0] % per or unit.shape[0] < 2 * per:
        what = "trajectory" if method == "morris" else "base point"
        raise ExperimentError(f"a {method} sample of {k} factors has {per} points per {what} "
                              f"(at least two of them); got {unit.shape[0]} points")
    lib = _salib()
    problem = _problem(k)
    steps = _steps(factors, unit, levels) if method == "morris" else None
    rows: list[dict[str, Any]] = []
    noise_rows: list[dict[str, Any]] = []
    second: list[dict[str, Any]] = []
    for metric, raw in values.items():
        y = np.asarray(raw, dtype=float)
        y = y[:, None] if y.ndim == 1 else y
        if y.shape[0] != unit.shape[0]:
            raise ExperimentError(f"{metric}: {y.shape[0]} values for {unit.shape[0]} points")
        noise = noise_decomposition(y)
        means = point_means(y)
        undefined = int((~np.isfinite(means)).sum())
        note = ""
        result: Any = None
        rng = _rng(seed, _BOOTSTRAP)  # the same resamples for every metric
        if undefined:
            note = f"undefined at {undefined} of {len(means)} points: no indices"
        elif method == "sobol" and np.ptp(means) == 0:
            note = "the same at every point: no factor moves it (no variance to share)"
        elif method == "morris":
            assert steps is not None
            result = lib.analyze_morris.analyze(problem, unit, _morris_outputs(unit, means, steps),
                                                num_resamples=resamples, conf_level=confidence,
                                                num_levels=levels, seed=rng)
        else:
            result = lib.analyze_sobol.analyze(problem, means, calc_second_order=second_order,
                                               num_resamples=resamples, conf_level=confidence,
                                               seed=rng)
        if not note and noise["replications"] < 2:
            note = "one replication per point: simulation noise not separated"
        crn = noise["crn_noise_var"]
        if method == "sobol":
            floors = np.full(k, noise["noise_share"])
        elif math.isfinite(crn):
            assert steps is not None
            floors = _morris_floors(unit, steps, math.sqrt(crn / noise["replications"]), levels)
        else:
            floors = np.full(k, math.nan)
        floor = float(np.nanmax(floors)) if np.isfinite(floors).any() else math.nan
        noise_rows.append({"metric": metric, **noise, "floor": floor, "note": note})
        cols = INDEX_COLUMNS[method][2:-2]
        for j, name in enumerate(names):
            vals = {c: float(np.asarray(result[c])[j]) if result is not None else math.nan for c in cols}
            value, conf = (vals["ST"], vals["ST_conf"]) if method == "sobol" else (
                vals["mu_star"], vals["mu_star_conf"])
            above: Any = pd.NA
            if math.isfinite(floors[j]) and math.isfinite(value):
                above = bool(value - conf > floors[j])
            rows.append({"metric": metric, "factor": name, **vals, "noise_floor": float(floors[j]),
                         "above_noise": above})
        if method == "sobol" and second_order:
            for a in range(k):
                for b in range(a + 1, k):
                    s2 = float(result["S2"][a, b]) if result is not None else math.nan
                    c2 = float(result["S2_conf"][a, b]) if result is not None else math.nan
                    second.append({"metric": metric, "factor_a": names[a], "factor_b": names[b],
                                   "S2": s2, "S2_conf": c2})
    indices = pd.DataFrame(rows, columns=list(INDEX_COLUMNS[method]))
    indices["above_noise"] = indices["above_noise"].astype("boolean")
    noise_table = pd.DataFrame(noise_rows, columns=list(NOISE_COLUMNS))
    for c in ("points", "replications"):
        noise_table[c] = noise_table[c].astype(np.int64)
    s2_table = (pd.DataFrame(second, columns=["metric", "factor_a", "factor_b", "S2", "S2_conf"])
                if method == "sobol" and second_order else None)
    return indices, noise_table, s2_table


# --------------------------------------------------------------------------- results


def _write_csv(table: pd.DataFrame, path: Path) -> None:
    table.to_csv(path, index=False)


def _g(x: float) -> str:
    return "–" if not math.isfinite(x) else f"{x:.2g}"


class Sensitivity:
    """A sensitivity analysis: ``.indices`` (per metric and factor), ``.noise`` (per metric),
    ``.second`` (second-order Sobol indices, if asked for), the points and runs underneath in
    ``.sweep`` (a :class:`~govsim.experiments.api.Sweep`), the unit sample ``.unit`` and
    ``.factors``. ``to_string()`` prints it; :meth:`figure` draws it."""

    def __init__(self, scenario: Any, method: str, factors: list[Factor], n: int, levels: int,
                 second_order: bool, unit: np.ndarray, sweep: Any, indices: pd.DataFrame,
                 noise: pd.DataFrame, second: pd.DataFrame | None, confidence: float,
                 resamples: int) -> None:
        self.scenario, self.method, self.factors, self.n = scenario, method, factors, n
        self.levels, self.second_order, self.unit, self.sweep = levels, second_order, unit, sweep
        self.indices, self.noise, self.second = indices, noise, second
        self.confidence, self.resamples = confidence, resamples

    @property
    def replications(self) -> int:
        return int(self.sweep.n)

    @property
    def seed(self) -> int:
        return int(self.sweep.seed)

    @property
    def info(self) -> dict[str, Any]:
        return dict(self.sweep.info)

    @property
    def metrics(self) -> list[str]:
        return list(dict.fromkeys(self.indices["metric"]))

    @property
    def points(self) -> int:
        return int(self.unit.shape[0])

    def metric(self, name: str) -> pd.DataFrame:
        """The indices of one metric, indexed by factor."""
        if name not in self.metrics:
            raise KeyError(f"{name!r} was not analysed; analysed: {', '.join(self.metrics)}")
        t = self.indices[self.indices["metric"] == name].drop(columns="metric")
        return t.set_index("factor")

    def noise_row(self, metric: str) -> dict[str, Any]:
        """The row of ``.noise`` of one metric, as a dict."""
        rows = self.noise[self.noise["metric"] == metric].to_dict(orient="records")
        if not rows:
            raise KeyError(f"{metric!r} was not analysed; analysed: {', '.join(self.metrics)}")
        return {str(k): v for k, v in rows[0].items()}

    def noise_statement(self, metric: str) -> str:
        """One sentence on the simulation noise of ``metric`` and the indices it hides."""
        row = self.noise_row(metric)
        if row["note"]:
            return str(row["note"])
        share, without = float(row["noise_share"]), float(row["noise_share_without_crn"])
        if not math.isfinite(share):
            return "noise not estimated"
        what = "ST" if self.method == "sobol" else "mu_star"
        floor = float(row["floor"])
        return (f"the simulation noise is {share:.1%} of the variance of the point means "
                f"({without:.1%} without common random numbers); {what} below ~{_g(floor)} "
                f"cannot be told from noise")

    def to_string(self, metrics: Sequence[str] | None = None) -> str:
        from govsim.experiments.api import format_table

        if self.method == "morris":
            what = (f"Morris screening: {self.n} trajectories on a {self.levels}-level grid, "
                    f"{self.points} points")
            legend = ("mu_star: mean |elementary effect| (the metric's change over a factor's full "
                      "range, in its units), ± its interval; sigma: their spread (interactions, "
                      "non-linearity)")
        else:
            pts = f"N = {self.n} base points × ({'2k + 2' if self.second_order else 'k + 2'})"
            what = f"Sobol indices: Saltelli sample, {pts} = {self.points} points"
            legend = ("S1: share of the variance a factor explains alone; ST: with its "
                      "interactions; ± their intervals")
        runs = self.points * self.replications
        head = [f"{self.scenario.name}: {what} × {self.replications} replication"
                f"{'s' if self.replications != 1 else ''} = {runs:,} runs (seed {self.seed}, "
                f"common random numbers across points)",
                f"indices on the point means; {self.confidence:.0%} bootstrap intervals "
                f"({self.resamples} resamples); {legend}",
                "factors: " + "; ".join(f.describe() for f in self.factors)]
        parts = ["\n".join(head)]
        for metric in (metrics or self.metrics):
            t = self.metric(metric).reset_index()
            t["above_noise"] = ["–" if pd.isna(v) else ("yes" if v else "no") for v in t["above_noise"]]
            t = t.rename(columns={"above_noise": "above noise"})
            parts.append(f"{metric}: {self.noise_statement(metric)}\n" + format_table(t, index="factor"))
        if self.second is not None:
            t = self.second if not metrics else self.second[self.second["metric"].isin(metrics)]
            parts.append("second-order indices S2 (pairs)\n" + format_table(t))
        return "\n\n".join(parts)

    def __repr__(self) -> str:
        return self.to_string()

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:  # IPython
        p.text(self.to_string())

    def figure(self, metrics: Sequence[str] | None = None, lang: str = "en") -> Any:
        """The figure: Morris μ*–σ plane or Sobol S1/ST bars, one panel per metric
        (:func:`govsim.plots.sensitivity.sensitivity_figure`)."""
        from govsim.plots.sensitivity import sensitivity_figure

        return sensitivity_figure(self, metrics=metrics, lang=lang)

    def write(self, directory: str | Path) -> list[Path]:
        """Write ``indices.csv``, ``noise.csv`` (and ``second_order.csv``) to ``directory``."""
        from govsim.experiments.store import atomic_write

        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        tables = {"indices": self.indices, "noise": self.noise}
        if self.second is not None:
            tables["second_order"] = self.second
        files = []
        for name, table in tables.items():
            path = d / f"{name}.csv"
            try:
                atomic_write(path, partial(_write_csv, table))
            except OSError as err:
                raise ExperimentError(f"{path}: cannot write ({err.strerror or err})") from None
            files.append(path)
        return files


# --------------------------------------------------------------------------- the API


def sensitivity(scenario: Any, factors: Sequence[Factor | str] | Mapping[str, Any], *,
                method: str = "morris", n: int | None = None, replications: int = 2,
                metrics: Sequence[str] | None = None, seed: int | None = None, warmup: Any = None,
                overrides: Mapping[str, Any] | None = None, executor: Any = None,
                jobs: int | None = None, scheduler: Any = None, out: str | Path | None = None,
                force: bool = False, progress: bool | None = None, levels: int = 4,
                second_order: bool = False, confidence: float = 0.95,
                resamples: int = 1000) -> Sensitivity:
    from govsim.experiments.api import HEADLINE_METRICS, _base_overrides, _check_n, _load, sweep
    from govsim.experiments.seeds import master_seed
    from govsim.metrics import summary_keys

    method = _method(method)
    fs = _factors(factors)
    n = DEFAULT_N[method] if n is None else n
    replications = _check_n(replications)
    known = summary_keys()
    if isinstance(metrics, str):
        metrics = [metrics]
    chosen = list(metrics) if metrics else list(HEADLINE_METRICS)
    unknown = [m for m in chosen if m not in known]
    if unknown:
        raise ExperimentError(f"unknown metric {unknown[0]!r}; known: {', '.join(known)}")
    base = _load(scenario, _base_overrides(overrides, warmup))
    seed = master_seed(seed, base)
    unit, design = sample(method, fs, n, seed, levels=levels, second_order=second_order)
    if method == "sobol":
        n = unit.shape[0] // (2 * len(fs) + 2 if second_order else len(fs) + 2)
    sw = sweep(base, design=design, n=replications, seed=seed, executor=executor, jobs=jobs,
               scheduler=scheduler, out=out, force=force, progress=progress)
    runs = sw.runs
    values = {m: runs.pivot(index="point", columns="replication", values=m)
              .sort_index().to_numpy(dtype=float) for m in chosen}
    indices, noise, second = analyse(method, fs, unit, values, levels=levels,
                                     second_order=second_order, confidence=confidence,
                                     resamples=resamples, seed=seed)
    result = Sensitivity(base, method, fs, int(n), levels, second_order, unit, sw, indices, noise,
                         second, confidence, resamples)
    if out is not None:
        result.write(out)
    return result


sensitivity.__doc__ = """Global sensitivity analysis of ``scenario`` over ``factors`` (``Factor`` objects or
    ``"key=low,high"`` texts: ``"workers.per_grid=1,3"`` whole numbers, ``"workers.dwell=1min,5min"``
    with a unit; or a dict ``{key: (low, high)}``) with SALib.

    ``method="morris"``: ``n`` trajectories (default 10), ``n (k + 1)`` points on a grid of
    ``levels`` levels; ``.indices`` has ``mu_star`` (mean absolute elementary effect: the
    metric's change over a factor's full range), ``mu_star_conf``, ``mu``, ``sigma``.
    ``method="sobol"``: Saltelli's sample of ``n`` base points (default 64, rounded up to a power
    of two), ``n (k + 2)`` points (``n (2k + 2)`` with ``second_order=True``, which also gives
    ``.second``); ``.indices`` has ``S1``, ``S1_conf``, ``ST``, ``ST_conf``.

    Every point runs ``replications`` times (default 2) with :func:`govsim.sweep` — replication
    ``i`` on the same seeds at every point, the results store under ``out`` (rerun to resume; the
    tables ``indices.csv`` and ``noise.csv`` are written there too), any executor — and the
    indices are computed on the point means, with ``confidence`` bootstrap intervals
    (``value ± conf``, ``resamples`` resamples). ``.noise`` separates the simulation noise from
    the factors' effect (needs ``replications >= 2``): the share of the variance of the point
    means that is noise and the noise floor below which an index cannot be told from noise;
    ``above_noise`` marks the indices whose interval lies above it.

    ``metrics``: the metrics analysed (default: ``discovery_delay_mean``,
    ``resolution_time_mean``, ``on_time_rate``, ``worker_utilisation``). ``seed``, ``warmup``,
    ``overrides``, ``executor``, ``jobs``, ``scheduler``, ``out``, ``force`` and ``progress`` are
    those of :func:`govsim.sweep`. Needs SALib (``pip install "govsim[sensitivity]"``).
    See ``docs/sensitivity.md``.
"""
