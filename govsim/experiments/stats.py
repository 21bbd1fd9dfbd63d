"""Statistics of replications: Student-t confidence intervals and paired differences.

For ``n`` replications ``x_1..x_n`` of a metric (independent, as their seeds
are), the interval is ``mean ± t_{n-1, (1+c)/2} · sd / sqrt(n)`` with ``sd`` the
sample standard deviation (``ddof=1``) and ``c`` the confidence (0.95). It is
exact for normal data and close for the means and shares govsim reports, which
average many issues. Replications where a metric is undefined (NaN, e.g. a
delay when nothing was discovered) are left out of that metric, and ``n`` counts
those used. With ``n < 2`` the standard deviation and the interval are NaN: one
replication says nothing about the spread.

A paired comparison takes the per-replication differences ``d_i = b_i − a_i``
of two scenarios run with the same seeds (common random numbers) and gives the
interval of their mean; a difference is *significant* when that interval
excludes 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import stats as _st

__all__ = ["AGG_COLUMNS", "DIFF_COLUMNS", "aggregate", "paired_differences", "t_interval"]

AGG_COLUMNS = ("metric", "mean", "sd", "ci_low", "ci_high", "half_width", "n")
DIFF_COLUMNS = ("metric", "mean_baseline", "mean_scenario", "difference", "sd", "ci_low", "ci_high",
                "half_width", "n", "significant", "change")


def t_interval(values: Iterable[float], confidence: float = 0.95) -> dict[str, float]:
    """``{"mean", "sd", "ci_low", "ci_high", "half_width", "n"}`` of the non-NaN ``values``."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    x = np.asarray(list(values) if not isinstance(values, (np.ndarray, pd.Series)) else values,
                   dtype=float)
    x = x[~np.isnan(x)]
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


def aggregate(runs: pd.DataFrame, metrics: Sequence[str], confidence: float = 0.95) -> pd.DataFrame:
    """One row per metric with :data:`AGG_COLUMNS`, from one row per replication."""
    rows = [{"metric": m, **t_interval(runs[m].to_numpy(dtype=float), confidence)} for m in metrics]
    table = pd.DataFrame(rows, columns=list(AGG_COLUMNS))
    table["n"] = table["n"].astype(np.int64)
    return table


def paired_differences(a: pd.DataFrame, b: pd.DataFrame, metrics: Sequence[str],
                       confidence: float = 0.95) -> pd.DataFrame:
    """Paired differences ``b − a`` per metric, matching rows on ``replication``.

    Columns :data:`DIFF_COLUMNS`: the means of each side over the replications where
    both are defined, the mean difference, its sd and interval, ``n`` pairs,
    ``significant`` (the interval excludes 0) and ``change`` (difference ÷ |baseline mean|).
    """
    merged = a[["replication", *metrics]].merge(b[["replication", *metrics]], on="replication",
                                                how="inner", suffixes=("_a", "_b"))
    rows = []
    for m in metrics:
        xa = merged[f"{m}_a"].to_numpy(dtype=float)
        xb = merged[f"{m}_b"].to_numpy(dtype=float)
        ok = ~(np.isnan(xa) | np.isnan(xb))
        ci = t_interval(xb[ok] - xa[ok], confidence)
        mean_a = float(xa[ok].mean()) if ok.any() else math.nan
        mean_b = float(xb[ok].mean()) if ok.any() else math.nan
        significant = bool(ci["n"] >= 2 and (ci["ci_low"] > 0 or ci["ci_high"] < 0))
        change = ci["mean"] / abs(mean_a) if mean_a and math.isfinite(mean_a) else math.nan
        rows.append({"metric": m, "mean_baseline": mean_a, "mean_scenario": mean_b,
                     "difference": ci["mean"], "sd": ci["sd"], "ci_low": ci["ci_low"],
                     "ci_high": ci["ci_high"], "half_width": ci["half_width"], "n": ci["n"],
                     "significant": significant, "change": change})
    table = pd.DataFrame(rows, columns=list(DIFF_COLUMNS))
    table["n"] = table["n"].astype(np.int64)
    return table
