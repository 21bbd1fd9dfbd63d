"""Statistics of replications: intervals, paired differences, many metrics, how many replications.

**Student-t intervals.** For ``n`` replications ``x_1..x_n`` of a metric
(independent, as their seeds are), the interval is ``mean ± t_{n-1, (1+c)/2} ·
sd / sqrt(n)`` with ``sd`` the sample standard deviation (``ddof=1``) and ``c``
the confidence (0.95). It is exact for normal data and close for the means and
shares govsim reports, which average many issues. Replications where a metric is
undefined (NaN, e.g. a delay when nothing was discovered) are left out of that
metric, and ``n`` counts those used. With ``n < 2`` the standard deviation and
the interval are NaN: one replication says nothing about the spread.

**Bootstrap intervals for percentile metrics** (``*_p50``, ``*_p90``: one
percentile per run, whose values across replications are skewed and lumpy): from
:data:`BOOTSTRAP_MIN_N` replications on, when a seed is given, the interval of
their mean is a BCa bootstrap interval (:func:`scipy.stats.bootstrap`,
:data:`BOOTSTRAP_RESAMPLES` resamples) taken at the *expanded* level of Hesterberg
(2015): the level whose normal quantile is ``sqrt(n/(n-1)) · t_{n-1, (1+c)/2}``.
For symmetric data it is then the Student-t interval; for skewed data it bends
with the skew. Below :data:`BOOTSTRAP_MIN_N` the Student-t interval is used (the
bootstrap undercovers there; ``docs/experiments.md`` has the measurements). The
generator of each interval is derived from the master seed, the table and the
metric's name (:func:`bootstrap_rng`): the same seed gives the same numbers.

**Paired comparisons.** :func:`paired_differences` takes the per-replication
differences ``d_i = b_i − a_i`` of two scenarios run with the same seeds (common
random numbers) and gives the interval of their mean, a two-sided p-value (the
paired t-test; for a bootstrap row the p-value of the bootstrap interval, the
smallest ``1 − c`` at which it excludes 0), Holm's adjusted p-values over the
metrics of the call (:func:`holm_adjust`), the relative change ``difference ÷
|baseline mean|`` with its interval (Fieller's, :func:`fieller_change`; a paired
bootstrap for bootstrap rows) and the unit of each metric (:func:`metric_unit`).

**How many replications.** :func:`replications_needed` is the smallest ``n`` whose
Student-t half-width, at the standard deviation seen so far, is within a target.
"""

from __future__ import annotations

import math
import re
import warnings
import zlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as _st

__all__ = [
    "AGG_COLUMNS", "BOOTSTRAP_MIN_N", "BOOTSTRAP_RESAMPLES", "DIFF_COLUMNS", "aggregate",
    "bootstrap_change", "bootstrap_interval", "bootstrap_rng", "expanded_confidence",
    "fieller_change", "holm_adjust", "interval_method", "is_quantile_metric", "metric_unit",
    "paired_differences", "replications_needed", "t_interval", "t_p_value",
]

AGG_COLUMNS = ("metric", "mean", "sd", "ci_low", "ci_high", "half_width", "n", "interval")
DIFF_COLUMNS = ("metric", "unit", "mean_baseline", "mean_scenario", "difference", "sd", "ci_low",
                "ci_high", "half_width", "n", "interval", "p_value", "p_holm", "significant",
                "significant_unadjusted", "change", "change_low", "change_high")

#: fewest replications for a bootstrap interval; below it percentile metrics get Student-t
BOOTSTRAP_MIN_N = 10
#: bootstrap resamples per interval
BOOTSTRAP_RESAMPLES = 9999
_BOOTSTRAP_KEY = 0x626F6F74  # "boot": keeps the bootstrap streams apart from the replications'

# --------------------------------------------------------------------------- metrics

_QUANTILE = re.compile(r".+_p\d{1,2}")

#: unit of each built-in summary metric (and of its differences); see :func:`metric_unit`
_UNITS: dict[str, str] = {
    "n_issues": "count", "resolution_rate": "share", "lapsed_share": "share",
    "discovered_share": "share", "discovery_delay_mean": "h", "discovery_delay_p50": "h",
    "discovery_delay_p90": "h", "dispatch_delay_mean": "h", "response_time_mean": "h",
    "response_time_p90": "h", "resolution_time_mean": "h", "resolution_time_p50": "h",
    "resolution_time_p90": "h", "on_time_rate": "share", "point_coverage": "share",
    "grid_coverage": "share", "backlog_end": "count", "hidden_end": "count",
    "worker_utilisation": "share", "n_false_alarms": "count", "n_disputes": "count",
    "dispute_resolution_rate": "share", "settled_grid_share": "share",
    "settled_community_share": "share", "settled_street_share": "share",
    "settled_district_share": "share", "unsettled_share": "share", "mediation_wait_mean": "h",
    "mediator_utilisation": "share", "department_backlog_end": "count",
    "liaison_household_share": "share", "liaison_contact_share": "share",
    "liaison_found_share": "share", "participation_end": "share",
    "volunteer_days": "volunteer-days", "volunteer_handled": "count",
    "problems_per_volunteer_day": "per volunteer-day", "handled_by_team": "count",
    "handled_by_alliance": "count", "handled_by_property_staff": "count",
    "council_topics": "count", "council_agreement_rate": "share", "council_time_mean": "h",
    "council_backlog_end": "count", "infrastructure_cost": "currency",
    # a city's shared services (govsim.city)
    "calls": "count", "duplicate_call_share": "share", "call_wait_mean": "h", "call_wait_p90": "h",
    "call_wait_max": "h", "operator_utilisation": "share", "calls_waiting_end": "count",
    "settled_city_share": "share", "city_mediation_wait_mean": "h", "city_mediation_turned_away": "count",
    "city_department_wait_mean": "h", "city_department_utilisation": "share",
}


def metric_unit(name: str) -> str:
    """Unit of a summary metric and of a difference of two of its values: ``"h"`` (hours),
    ``"share"`` (a fraction in [0, 1]; a difference of shares is printed in percentage
    points, 1 pp = 0.01), ``"count"``, ``"currency"``, ``"volunteer-days"``, ``"per
    volunteer-day"``. A metric registered by study code: ``"share"`` for names ending in
    ``_share``, ``_rate``, ``_utilisation`` or ``_coverage``, ``"count"`` for ``n_*`` and
    ``*_end``, else ``""`` (unknown)."""
    if name in _UNITS:
        return _UNITS[name]
    if name.endswith(("_share", "_rate", "_utilisation", "_coverage")):
        return "share"
    if name.startswith("n_") or name.endswith("_end"):
        return "count"
    return ""


def is_quantile_metric(name: str) -> bool:
    """A percentile of one run (``resolution_time_p90``, ``discovery_delay_p50``, …)."""
    return _QUANTILE.fullmatch(name) is not None


def interval_method(metric: str, n: int, sd: float, bootstrap: bool) -> str:
    """``"bootstrap"`` if the interval of ``metric`` over ``n`` values of spread ``sd`` is a
    bootstrap interval (a percentile metric, ``n >= BOOTSTRAP_MIN_N``, values that vary and
    a seed given: ``bootstrap``), else ``"t"``."""
    varies = math.isfinite(sd) and sd > 0
    return "bootstrap" if bootstrap and is_quantile_metric(metric) and n >= BOOTSTRAP_MIN_N and varies else "t"


# --------------------------------------------------------------------------- intervals


def _values(values: Iterable[float]) -> np.ndarray:
    x = np.asarray(list(values) if not isinstance(values, (np.ndarray, pd.Series)) else values,
                   dtype=float)
    return x[~np.isnan(x)]


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")


def t_interval(values: Iterable[float], confidence: float = 0.95) -> dict[str, float]:
    """``{"mean", "sd", "ci_low", "ci_high", "half_width", "n"}`` of the non-NaN ``values``."""
    _check_confidence(confidence)
    x = _values(values)
    n = int(x.size)
    mean = float(x.mean()) if n else math.nan
    if n < 2:
        return {"mean": mean, "sd": math.nan, "ci_low": math.nan, "ci_high": math.nan,
                "half_width": math.nan, "n": n}
    sd = float(x.std(ddof=1))
    half = float(_st.t.ppf(0.5 + confidence / 2.0, n - 1)) * sd / math.sqrt(n)
    if not math.isfinite(half):  # infinite values
        half = math.nan
    return {"mean": mean, "sd": sd, "ci_low": mean - half, "ci_high": mean + half,
            "half_width": half, "n": n}


def t_p_value(values: Iterable[float]) -> float:
    """Two-sided p-value of the t-test of mean 0 (:func:`scipy.stats.ttest_1samp`; for paired
    differences, the paired t-test) over the non-NaN ``values``. NaN with fewer than 2 values
    or when every value is 0 (nothing to test); 0 when they are all the same non-zero value."""
    x = _values(values)
    if x.size < 2 or not np.isfinite(x).all():
        return math.nan
    if np.all(x == x[0]):  # no spread: scipy's answer would be NaN, with a warning
        return math.nan if x[0] == 0 else 0.0
    return float(_st.ttest_1samp(x, 0.0).pvalue)


def expanded_confidence(confidence: float, n: int) -> float:
    """Hesterberg's small-sample expansion of a bootstrap interval's level: the ``c'`` with
    ``Φ⁻¹((1 + c')/2) = sqrt(n/(n−1)) · t_{n−1, (1+c)/2}``. A percentile interval at ``c'`` of
    normal data is the Student-t interval at ``c``: it makes up for the bootstrap's use of
    ``z`` for ``t`` and of the divisor ``n`` for ``n − 1``."""
    _check_confidence(confidence)
    if n < 2:
        raise ValueError(f"n must be at least 2, got {n}")
    z = math.sqrt(n / (n - 1)) * float(_st.t.ppf(0.5 + confidence / 2.0, n - 1))
    return float(2.0 * _st.norm.cdf(z) - 1.0)


def _nominal_p(p_expanded: float, n: int) -> float:
    """The ``1 − c`` whose expanded level is ``1 − p_expanded`` (inverse of
    :func:`expanded_confidence` on the p-value scale)."""
    z = float(_st.norm.isf(p_expanded / 2.0)) * math.sqrt((n - 1) / n)
    return float(min(1.0, 2.0 * _st.t.sf(z, n - 1)))


def bootstrap_rng(seed: int, *key: int | str) -> np.random.Generator:
    """The generator of one bootstrap interval: from the master ``seed`` and a ``key`` naming
    the interval (table, scenario, metric name). Independent of the replications' streams
    and of other intervals; the same seed and key give the same generator."""
    words = [k if isinstance(k, int) else zlib.crc32(k.encode("utf-8")) for k in key]
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_BOOTSTRAP_KEY, *words)))


def _mean(x: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(x, axis=axis)


def _bca(data: tuple[np.ndarray, ...], statistic: Callable[..., Any], level: float, *,
         rng: np.random.Generator | None = None, result: Any = None, paired: bool = False) -> Any:
    """:func:`scipy.stats.bootstrap` (BCa) at ``level``: new resamples from ``rng``, or those of
    an earlier ``result``. An interval that cannot be computed is NaN, without a warning."""
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", getattr(_st, "DegenerateDataWarning", RuntimeWarning))
        return _st.bootstrap(data, statistic,
                             n_resamples=0 if result is not None else BOOTSTRAP_RESAMPLES,
                             bootstrap_result=result, method="BCa", confidence_level=level, rng=rng,
                             vectorized=True, paired=paired)


def _bca_p_value(x: np.ndarray, result: Any) -> float:
    """Smallest ``1 − c'`` at which the BCa interval of mean ``x`` (from ``result``'s bootstrap
    distribution) excludes 0, found by bisection on the level: the interval narrows as the
    level falls, so it excludes 0 below one level and not above. (The means of lumpy values
    tie, so an end can rest on 0 for a range of levels: the bisection finds where it leaves
    0, which a root finder would not.)"""
    mean = float(x.mean())
    if mean == 0:
        return 1.0

    def excludes(level: float) -> bool:
        ci = _bca((x,), _mean, level, result=result).confidence_interval
        return bool(ci.low > 0) if mean > 0 else bool(ci.high < 0)

    low, high = 1e-9, 1.0 - 1.0 / (BOOTSTRAP_RESAMPLES + 1)
    if not excludes(low):
        return 1.0
    if excludes(high):  # beyond the resolution of the resamples
        return 1.0 / (BOOTSTRAP_RESAMPLES + 1)
    while high - low > 1e-8:  # excludes(low) and not excludes(high)
        mid = 0.5 * (low + high)
        if excludes(mid):
            low = mid
        else:
            high = mid
    return 1.0 - high


def bootstrap_interval(values: Iterable[float], confidence: float = 0.95, *,
                       rng: np.random.Generator, p_value: bool = True) -> dict[str, float]:
    """BCa bootstrap interval of the mean of the non-NaN ``values`` at the expanded level
    (:func:`expanded_confidence`), with the two-sided p-value of mean 0 it implies (the
    smallest ``1 − c`` at which it excludes 0; ``p_value=False``: NaN, saving its search).
    Keys of :func:`t_interval` plus ``p_value``; ``half_width`` is half the interval's length
    (it need not be symmetric). Values without spread: the point interval, as
    :func:`t_interval`."""
    _check_confidence(confidence)
    x = _values(values)
    n = int(x.size)
    out = t_interval(x, confidence)
    out["p_value"] = t_p_value(x) if p_value else math.nan
    if n < 3 or not np.isfinite(x).all() or np.all(x == x[0]):
        return out
    result = _bca((x,), _mean, expanded_confidence(confidence, n), rng=rng)
    low, high = (float(v) for v in result.confidence_interval)
    if not (math.isfinite(low) and math.isfinite(high)):
        return out
    out.update(ci_low=low, ci_high=high, half_width=(high - low) / 2.0, p_value=math.nan)
    if p_value:
        p_expanded = _bca_p_value(x, result)
        out["p_value"] = 1.0 if p_expanded >= 1.0 else _nominal_p(p_expanded, n)
    return out


# --------------------------------------------------------------------------- relative change


def _change(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
    ma = np.mean(a, axis=axis)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (np.mean(b, axis=axis) - ma) / np.abs(ma)


def fieller_change(a: Iterable[float], b: Iterable[float],
                   confidence: float = 0.95) -> tuple[float, float]:
    """Fieller's interval of the relative change ``(mean b − mean a) ÷ |mean a|`` from paired
    values (pairs with a NaN are left out): the ``θ`` with ``(d̄ − θ ā)² ≤ t² · Var(d̄ − θ ā)``,
    ``d = b − a``, variances and covariance from the pairs, ``t = t_{n−1, (1+c)/2}``. Exact for
    normal pairs. ``(NaN, NaN)`` when the baseline mean is not clearly away from 0 (the set is
    then unbounded) or with fewer than 2 pairs."""
    _check_confidence(confidence)
    xa, xb = np.asarray(list(a), dtype=float), np.asarray(list(b), dtype=float)
    ok = ~(np.isnan(xa) | np.isnan(xb))
    xa, xb = xa[ok], xb[ok]
    n = int(xa.size)
    if n < 2 or not (np.isfinite(xa).all() and np.isfinite(xb).all()):
        return math.nan, math.nan
    d = xb - xa
    ma, md = float(xa.mean()), float(d.mean())
    cov = np.cov(np.vstack([xa, d]), ddof=1) / n  # of the two means
    q = float(_st.t.ppf(0.5 + confidence / 2.0, n - 1)) ** 2
    qa = ma * ma - q * cov[0, 0]
    if not qa > 0:
        return math.nan, math.nan
    qb = md * ma - q * cov[0, 1]
    qc = md * md - q * cov[1, 1]
    root = math.sqrt(max(qb * qb - qa * qc, 0.0))
    low, high = (qb - root) / qa, (qb + root) / qa
    return (low, high) if ma > 0 else (-high, -low)


def bootstrap_change(a: Iterable[float], b: Iterable[float], confidence: float = 0.95, *,
                     rng: np.random.Generator) -> tuple[float, float]:
    """Paired BCa bootstrap interval (expanded level) of the relative change
    ``(mean b − mean a) ÷ |mean a|``: the pairs are resampled together."""
    _check_confidence(confidence)
    xa, xb = np.asarray(list(a), dtype=float), np.asarray(list(b), dtype=float)
    ok = ~(np.isnan(xa) | np.isnan(xb))
    xa, xb = xa[ok], xb[ok]
    n = int(xa.size)
    if n < 3 or not (np.isfinite(xa).all() and np.isfinite(xb).all()) or xa.mean() == 0:
        return math.nan, math.nan
    if np.all(xa == xa[0]) and np.all(xb == xb[0]):
        c = float(_change(xa, xb))
        return c, c
    result = _bca((xa, xb), _change, expanded_confidence(confidence, n), rng=rng, paired=True)
    if not np.isfinite(result.bootstrap_distribution).all():  # resamples with a baseline mean of 0
        return math.nan, math.nan
    low, high = (float(v) for v in result.confidence_interval)
    return (low, high) if math.isfinite(low) and math.isfinite(high) else (math.nan, math.nan)


# --------------------------------------------------------------------------- many metrics


def holm_adjust(p_values: Iterable[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values: with the ``m`` defined p-values in increasing
    order ``p_(1) ≤ … ≤ p_(m)``, ``p̃_(i) = max_{j ≤ i} min(1, (m − j + 1) p_(j))``. Rejecting
    where ``p̃ < α`` keeps the family-wise error rate (any false rejection among the ``m``)
    at most ``α`` whatever the dependence between the tests. NaN p-values stay NaN and are
    not counted in ``m``."""
    p = np.asarray(list(p_values) if not isinstance(p_values, np.ndarray) else p_values, dtype=float)
    if ((p < 0) | (p > 1)).any():
        raise ValueError("p-values must be in [0, 1]")
    out = np.full(p.shape, math.nan)
    ok = ~np.isnan(p)
    q = p[ok]
    m = q.size
    if m:
        order = np.argsort(q, kind="stable")
        steps = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * q[order]))
        adjusted = np.empty(m)
        adjusted[order] = steps
        out[ok] = adjusted
    return out


# --------------------------------------------------------------------------- tables


def aggregate(runs: pd.DataFrame, metrics: Sequence[str], confidence: float = 0.95, *,
              bootstrap_seed: int | None = None, stream: int | str = 0) -> pd.DataFrame:
    """One row per metric with :data:`AGG_COLUMNS`, from one row per replication.

    Student-t intervals; with ``bootstrap_seed`` (the master seed), percentile metrics with
    at least :data:`BOOTSTRAP_MIN_N` values get a bootstrap interval, its generator keyed by
    ``stream`` (e.g. the scenario) and the metric. The column ``interval`` says which
    (``"t"`` or ``"bootstrap"``)."""
    rows = []
    for m in metrics:
        x = _values(runs[m].to_numpy(dtype=float))
        row: dict[str, Any] = {**t_interval(x, confidence), "interval": "t"}
        if bootstrap_seed is not None and interval_method(m, int(row["n"]), row["sd"], True) == "bootstrap":
            boot = bootstrap_interval(x, confidence, rng=bootstrap_rng(bootstrap_seed, "mean", stream, m),
                                      p_value=False)
            row = {**{k: boot[k] for k in AGG_COLUMNS[1:-1]}, "interval": "bootstrap"}
        rows.append({"metric": m, **row})
    table = pd.DataFrame(rows, columns=list(AGG_COLUMNS))
    table["n"] = table["n"].astype(np.int64)
    return table


def paired_differences(a: pd.DataFrame, b: pd.DataFrame, metrics: Sequence[str],
                       confidence: float = 0.95, *, bootstrap_seed: int | None = None,
                       stream: int | str = 0) -> pd.DataFrame:
    """Paired differences ``b − a`` per metric, matching rows on ``replication``.

    Columns :data:`DIFF_COLUMNS`: the ``unit`` of the metric, the means of each side over the
    replications where both are defined, the mean difference, its sd and interval (Student-t;
    bootstrap for percentile metrics when ``bootstrap_seed`` is given and there are enough
    pairs: ``interval`` says which), ``n`` pairs, the two-sided ``p_value`` of no difference
    (paired t-test, or the bootstrap interval's), ``p_holm`` (Holm over the metrics with a
    p-value in this call), ``significant`` (``p_holm < 1 − confidence``),
    ``significant_unadjusted`` (the interval excludes 0), and the relative ``change``
    (difference ÷ |baseline mean|) with its interval ``change_low``, ``change_high``.
    """
    _check_confidence(confidence)
    merged = a[["replication", *metrics]].merge(b[["replication", *metrics]], on="replication",
                                                how="inner", suffixes=("_a", "_b"))
    rows = []
    for m in metrics:
        xa = merged[f"{m}_a"].to_numpy(dtype=float)
        xb = merged[f"{m}_b"].to_numpy(dtype=float)
        ok = ~(np.isnan(xa) | np.isnan(xb))
        xa, xb = xa[ok], xb[ok]
        d = xb - xa
        ci = t_interval(d, confidence)
        method = interval_method(m, int(ci["n"]), ci["sd"], bootstrap_seed is not None)
        if method == "bootstrap":
            assert bootstrap_seed is not None
            ci = bootstrap_interval(d, confidence, rng=bootstrap_rng(bootstrap_seed, "difference", stream, m))
            change = bootstrap_change(xa, xb, confidence,
                                      rng=bootstrap_rng(bootstrap_seed, "change", stream, m))
        else:
            ci["p_value"] = t_p_value(d)
            change = fieller_change(xa, xb, confidence)
        mean_a = float(xa.mean()) if xa.size else math.nan
        mean_b = float(xb.mean()) if xb.size else math.nan
        excludes_0 = bool(ci["n"] >= 2 and (ci["ci_low"] > 0 or ci["ci_high"] < 0))
        relative = ci["mean"] / abs(mean_a) if mean_a and math.isfinite(mean_a) else math.nan
        rows.append({"metric": m, "unit": metric_unit(m), "mean_baseline": mean_a,
                     "mean_scenario": mean_b, "difference": ci["mean"], "sd": ci["sd"],
                     "ci_low": ci["ci_low"], "ci_high": ci["ci_high"],
                     "half_width": ci["half_width"], "n": ci["n"], "interval": method,
                     "p_value": ci["p_value"], "significant_unadjusted": excludes_0,
                     "change": relative, "change_low": change[0], "change_high": change[1]})
    table = pd.DataFrame(rows, columns=[c for c in DIFF_COLUMNS if c not in ("p_holm", "significant")])
    table["n"] = table["n"].astype(np.int64)
    table["p_holm"] = holm_adjust(table["p_value"].to_numpy(dtype=float))
    table["significant"] = (table["p_holm"] < 1.0 - confidence).to_numpy(dtype=bool)
    table["significant_unadjusted"] = table["significant_unadjusted"].astype(bool)
    return table[list(DIFF_COLUMNS)]


# --------------------------------------------------------------------------- sample size


def replications_needed(half_width: float, n: int, target_half_width: float,
                        confidence: float = 0.95) -> int:
    """Fewest replications whose Student-t half-width is at most ``target_half_width``, if the
    standard deviation stays the one behind ``half_width`` at ``n`` replications
    (``sd = half_width · sqrt(n) / t_{n−1}``): the smallest ``m >= 2`` with
    ``t_{m−1, (1+c)/2} · sd / sqrt(m) <= target``. ``n`` itself (or less) when the target is
    met already; a zero spread needs no more."""
    _check_confidence(confidence)
    if n < 2:
        raise ValueError(f"n must be at least 2 to know the spread, got {n}")
    if not (math.isfinite(half_width) and half_width >= 0):
        raise ValueError(f"half_width must be a number >= 0, got {half_width!r}")
    if not (math.isfinite(target_half_width) and target_half_width > 0):
        raise ValueError(f"target_half_width must be a number > 0, got {target_half_width!r}")

    def t(m: int) -> float:
        return float(_st.t.ppf(0.5 + confidence / 2.0, m - 1))

    sd = half_width * math.sqrt(n) / t(n)
    if sd == 0:
        return 2
    z = float(_st.norm.ppf(0.5 + confidence / 2.0))
    m = max(2, math.ceil((z * sd / target_half_width) ** 2))  # the normal answer: a lower bound
    while t(m) * sd / math.sqrt(m) > target_half_width:
        m += 1
    return m
