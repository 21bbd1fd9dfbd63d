"""Closure and handling times by maximum likelihood, with censoring and a mass at zero.

A case log gives, per case, how long it took to close (or, for a case still
open when the log ends, a lower bound: *right-censored*). Many logs also hold
cases closed the moment they became known (proactive work logged when done):
these are a separate point mass at zero, not the start of a continuous
distribution. :func:`fit_duration` fits::

    X = 0                 with probability zero_share
    X ~ family(params)    otherwise (location 0)

for each candidate family (exponential, lognormal, gamma, Weibull) and keeps
the one with the smallest AIC. Censored values enter the likelihood through
the survival function, so open cases pull the fit up rather than being
dropped (dropping them biases every duration low).

All likelihoods are evaluated vectorised from sufficient statistics where the
family has them (exponential, lognormal, gamma without censoring are
closed-form or a 1-D Newton solve; the Weibull is a 1-D root of its profile
score), so a million durations fit in about a second. Censored lognormal and
gamma fits use :func:`scipy.optimize.minimize` with bounded iterations started
from the fit that treats censored values as closed; they never hang.

Uncertainty: ``mean_ci`` and ``median_ci`` are 95% intervals from the observed
information (a numerical Hessian of the log-likelihood at the MLE) by the
delta method on the log scale, with the binomial variance of the zero share
added (the likelihood factorises, so the two are independent).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypedDict

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import optimize, special

from govsim.distributions import (
    Distribution,
    Exponential,
    Fixed,
    Gamma,
    LogNormal,
    Weibull,
    ZeroInflated,
)

__all__ = ["FAMILIES", "MIN_POSITIVE", "DurationFit", "fit_duration"]

#: Candidate families and their number of parameters.
FAMILIES: dict[str, int] = {"exponential": 1, "lognormal": 2, "gamma": 2, "weibull": 2}

#: Fewer positive (closed, non-zero) durations than this: no family comparison,
#: an exponential with the sample mean (or a fixed value if all are equal).
MIN_POSITIVE = 5

_Z95 = 1.959963984540054
_LOG_2PI = math.log(2.0 * math.pi)
CI_METHOD = "delta method on the log scale from the observed information (numerical Hessian)"


# --------------------------------------------------------------------------- the result


@dataclass(frozen=True)
class DurationFit:
    """A fitted duration distribution (hours), possibly with a point mass at zero.

    ``params`` are in govsim's terms: exponential ``{mean}``, lognormal
    ``{mean, sd}`` (of the variable itself), gamma and weibull
    ``{shape, scale}``, and for the few-values fallback ``fixed`` ``{value}``.
    ``params_se`` are their standard errors (delta method; NaN when unknown).
    ``candidates`` has one row per family tried, best first.
    """

    family: str
    params: dict[str, float]
    zero_share: float
    n: int
    n_censored: int
    n_zero: int
    loglik: float
    aic: float
    candidates: pd.DataFrame = field(repr=False)
    mean_ci: tuple[float, float]
    median_ci: tuple[float, float]
    params_se: dict[str, float] = field(default_factory=dict)
    ci_method: str = CI_METHOD
    note: str = ""

    # ---- derived

    def _continuous(self) -> Distribution:
        p = self.params
        if self.family == "exponential":
            return Exponential(p["mean"])
        if self.family == "lognormal":
            return LogNormal(p["mean"], p["sd"])
        if self.family == "gamma":
            return Gamma(p["shape"], p["scale"])
        if self.family == "weibull":
            return Weibull(p["shape"], p["scale"])
        return Fixed(p["value"])

    def distribution(self) -> Distribution:
        """The fitted govsim distribution, wrapped in :class:`ZeroInflated` when there are zeros."""
        if self.zero_share >= 1.0:
            return Fixed(0.0)
        inner = self._continuous()
        return ZeroInflated(self.zero_share, inner) if self.zero_share > 0 else inner

    @property
    def mean(self) -> float:
        """Mean of the whole distribution (zeros included), hours."""
        return self.distribution().mean

    @property
    def median(self) -> float:
        """Median of the whole distribution (zeros included), hours."""
        return float(self.quantile(0.5))

    def quantile(self, q: float | ArrayLike) -> float | np.ndarray:
        """Quantile(s) ``q`` in [0, 1] of the whole (zero-inflated) distribution, hours."""
        qa = np.asarray(q, dtype=float)
        if np.any(~((qa >= 0) & (qa <= 1))):
            raise ValueError(f"q must be in [0, 1], got {q!r}")
        pi = self.zero_share
        with np.errstate(divide="ignore", invalid="ignore"):
            inner_p = np.clip((qa - pi) / (1.0 - pi), 0.0, 1.0) if pi < 1 else np.zeros_like(qa)
        inner = _ppf(self.family, self.params, inner_p)
        out = np.where(qa <= pi, 0.0, inner)
        return float(out) if out.ndim == 0 else out

    def describe(self) -> str:
        """One line: family and parameters, zero share, counts, AIC and the runner-up."""
        head = f"{self.family}({_describe_params(self.family, self.params)})"
        if self.zero_share > 0:
            share = 100 * self.zero_share
            head += f", {share:.0f}% zero" if share >= 1 else f", {share:.2g}% zero"
        counts = f"n={self.n:,} ({self.n_censored:,} censored)"
        if self.note:
            return f"{head}; {counts}; {self.note}"
        tail = f"AIC {self.aic:.1f}"
        others = self.candidates[self.candidates["family"] != self.family]
        others = others[np.isfinite(others["aic"].to_numpy(dtype=float))]
        if len(others):
            row = others.iloc[0]
            tail += f" ({row['family']} +{row['delta_aic']:.1f})"
        return f"{head}; {counts}; {tail}"


def _num(x: float) -> str:
    ax = abs(x)
    if ax >= 100:
        return f"{x:,.0f}"
    if ax >= 10:
        return f"{x:.1f}"
    return f"{x:.3g}"


def _describe_params(family: str, p: dict[str, float]) -> str:
    if family == "exponential":
        return f"mean {_num(p['mean'])} h"
    if family == "lognormal":
        return f"mean {_num(p['mean'])} h, sd {_num(p['sd'])} h"
    if family in ("gamma", "weibull"):
        return f"shape {p['shape']:.3g}, scale {_num(p['scale'])} h"
    return f"{_num(p['value'])} h"


def _ppf(family: str, p: dict[str, float], u: np.ndarray) -> np.ndarray:
    """Quantile function of the continuous part (original units) at probabilities ``u``."""
    u = np.asarray(u, dtype=float)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        if family == "exponential":
            return -p["mean"] * np.log1p(-u)
        if family == "lognormal":
            mu, sigma = _lognormal_mu_sigma(p["mean"], p["sd"])
            return np.exp(mu + sigma * special.ndtri(u))
        if family == "gamma":
            return p["scale"] * special.gammaincinv(p["shape"], u)
        if family == "weibull":
            return p["scale"] * (-np.log1p(-u)) ** (1.0 / p["shape"])
    return np.full_like(u, p["value"])


def _lognormal_mu_sigma(mean: float, sd: float) -> tuple[float, float]:
    s2 = math.log1p((sd / mean) ** 2)
    return math.log(mean) - s2 / 2.0, math.sqrt(s2)


# --------------------------------------------------------------------------- data


class _Data:
    """Positive closed durations ``y`` and censored bounds ``c``, divided by ``scale``.

    ``scale`` is the geometric mean of the closed positive durations, so the
    fitted parameters are of order 1 and ``sum(log y) == 0`` (up to rounding).
    """

    def __init__(self, pos: np.ndarray, cens: np.ndarray) -> None:
        logx = np.log(pos)
        self.log_scale = float(logx.mean())
        self.scale = math.exp(self.log_scale)
        self.ly = logx - self.log_scale
        self.y = np.exp(self.ly)
        self.lc = np.log(cens) - self.log_scale
        self.c = np.exp(self.lc)
        self.n = pos.size
        self.nc = cens.size
        self.S1 = float(self.y.sum())
        self.SL = float(self.ly.sum())
        self.SL2 = float(np.dot(self.ly, self.ly))
        self.C1 = float(self.c.sum())
        self.ly_all = np.concatenate([self.ly, self.lc])


# --------------------------------------------------------------------------- families
# Each family works in the scaled units with unconstrained parameters ``t``
# (logs of positive parameters) and provides: its negative log-likelihood, its
# MLE, the mean and a quantile as functions of ``t``, and govsim's parameters.


def _exp_nll(t: np.ndarray, d: _Data) -> float:
    m = math.exp(t[0])
    return d.n * t[0] + (d.S1 + d.C1) / m


def _exp_mle(d: _Data) -> tuple[np.ndarray, bool]:
    return np.array([math.log((d.S1 + d.C1) / d.n)]), True


def _ln_nll(t: np.ndarray, d: _Data) -> float:
    mu, ls = float(t[0]), float(t[1])
    s = math.exp(ls)
    q = d.SL2 - 2.0 * mu * d.SL + d.n * mu * mu
    nll = d.n * ls + 0.5 * d.n * _LOG_2PI + d.SL + q / (2.0 * s * s)
    if d.nc:
        nll -= float(special.log_ndtr(-(d.lc - mu) / s).sum())
    return nll


def _ln_grad(t: np.ndarray, d: _Data) -> np.ndarray:
    mu, ls = float(t[0]), float(t[1])
    s = math.exp(ls)
    q = d.SL2 - 2.0 * mu * d.SL + d.n * mu * mu
    g_mu = (d.n * mu - d.SL) / (s * s)
    g_ls = d.n - q / (s * s)
    if d.nc:
        z = (d.lc - mu) / s
        hazard = np.exp(-0.5 * z * z - 0.5 * _LOG_2PI - special.log_ndtr(-z))
        g_mu -= float(hazard.sum()) / s
        g_ls -= float(np.dot(hazard, z))
    return np.array([g_mu, g_ls])


def _ln_closed(n: int, sl: float, sl2: float) -> np.ndarray:
    mu = sl / n
    var = max(sl2 / n - mu * mu, 1e-12)
    return np.array([mu, 0.5 * math.log(var)])


def _ln_mle(d: _Data) -> tuple[np.ndarray, bool]:
    if not d.nc:
        return _ln_closed(d.n, d.SL, d.SL2), True
    start = _ln_closed(d.n + d.nc, d.SL + float(d.lc.sum()),
                       d.SL2 + float(np.dot(d.lc, d.lc)))
    return _minimize(_ln_nll, start, d, jac=_ln_grad)


def _gamma_shape(s: float) -> float:
    """Solve log k - digamma(k) = s (> 0) for the gamma shape k (Minka's start + Newton)."""
    s = max(s, 1e-12)
    k = (3.0 - s + math.sqrt((s - 3.0) ** 2 + 24.0 * s)) / (12.0 * s)
    for _ in range(100):
        f = math.log(k) - special.digamma(k) - s
        fp = 1.0 / k - special.polygamma(1, k)
        step = f / fp
        k_new = k - step
        if k_new <= 0:
            k_new = k / 2.0
        if abs(k_new - k) <= 1e-12 * k:
            return k_new
        k = k_new
    return k


def _gamma_closed(n: int, s1: float, sl: float) -> np.ndarray:
    mean = s1 / n
    k = _gamma_shape(math.log(mean) - sl / n)
    return np.array([math.log(k), math.log(mean / k)])


def _gamma_sf(k: float, x: np.ndarray) -> np.ndarray:
    """P(G > x) for a standard gamma(k), avoiding scipy's slow regions.

    ``scipy.special.gammaincc`` takes ~3 microseconds a value for shape < 1
    and x in about (0.25, 1.2), where the fit spends its time; there the
    lower function (fast for x <= 1) and the recurrence
    Q(k, x) = Q(k + 1, x) - x^k e^-x / Gamma(k + 1) give the same values.
    """
    out = np.empty_like(x)
    low = x <= 1.0
    mid = ~low & (x < 1.2)
    high = ~low & ~mid
    out[low] = 1.0 - special.gammainc(k, x[low])
    if np.any(mid):
        xm = x[mid]
        if k < 1.2:
            out[mid] = (1.0 - special.gammainc(k + 1.0, xm)
                        - np.exp(k * np.log(xm) - xm - special.gammaln(k + 1.0)))
        else:
            out[mid] = 1.0 - special.gammainc(k, xm)
    out[high] = special.gammaincc(k, x[high])
    return out


def _gamma_logsf(k: float, x: np.ndarray) -> np.ndarray:
    """log P(G > x) for a standard gamma(k), with an asymptotic tail where it underflows."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(_gamma_sf(k, x))
    bad = ~np.isfinite(out)
    if np.any(bad):
        xb = x[bad]
        # Gamma(k, x) ~ x^(k-1) e^-x (1 + (k-1)/x + (k-1)(k-2)/x^2) for x >> k
        series = 1.0 + (k - 1.0) / xb + (k - 1.0) * (k - 2.0) / (xb * xb)
        out[bad] = ((k - 1.0) * np.log(xb) - xb - special.gammaln(k)
                    + np.log(np.maximum(series, 1e-300)))
    return out


def _gamma_nll(t: np.ndarray, d: _Data) -> float:
    lk, lth = float(t[0]), float(t[1])
    if abs(lk) > 30 or abs(lth) > 60:
        return math.inf
    k, th = math.exp(lk), math.exp(lth)
    nll = d.n * special.gammaln(k) + d.n * k * lth - (k - 1.0) * d.SL + d.S1 / th
    if d.nc:
        nll -= float(_gamma_logsf(k, d.c / th).sum())
    return float(nll)


def _gamma_mle(d: _Data) -> tuple[np.ndarray, bool]:
    if not d.nc:
        return _gamma_closed(d.n, d.S1, d.SL), True
    start = _gamma_closed(d.n + d.nc, d.S1 + d.C1, d.SL + float(d.lc.sum()))
    return _minimize(_gamma_nll, start, d)


def _weib_nll(t: np.ndarray, d: _Data) -> float:
    lk, llam = float(t[0]), float(t[1])
    if abs(lk) > 30:
        return math.inf
    k = math.exp(lk)
    with np.errstate(over="ignore"):
        tail = float(np.exp(k * (d.ly_all - llam)).sum())
    return -d.n * lk + d.n * k * llam - (k - 1.0) * d.SL + tail


def _weib_profile(lk: float, d: _Data) -> tuple[float, float]:
    """The profile score (per closed value) at shape exp(lk), and log of the MLE scale there."""
    k = math.exp(lk)
    a = k * d.ly_all
    amax = float(a.max())
    w = np.exp(a - amax)
    sw = float(w.sum())
    score = 1.0 / k + d.SL / d.n - float(np.dot(w, d.ly_all)) / sw
    llam = (amax + math.log(sw) - math.log(d.n)) / k
    return score, llam


def _weib_mle(d: _Data) -> tuple[np.ndarray, bool]:
    def score(lk: float) -> float:
        return _weib_profile(lk, d)[0]

    lo, hi = -1.0, 1.0
    while score(lo) < 0 and lo > -12:
        lo -= 1.0
    while score(hi) > 0 and hi < 7:
        hi += 1.0
    if not (score(lo) >= 0 >= score(hi)):
        return np.array([math.nan, math.nan]), False
    lk = optimize.brentq(score, lo, hi, xtol=1e-12, maxiter=200)
    return np.array([lk, _weib_profile(lk, d)[1]]), True


def _minimize(
    nll: Callable[[np.ndarray, _Data], float],
    start: np.ndarray,
    d: _Data,
    jac: Callable[[np.ndarray, _Data], np.ndarray] | None = None,
) -> tuple[np.ndarray, bool]:
    """Minimise ``nll`` from ``start`` (bounded iterations), Nelder-Mead as a fallback."""
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        best = None
        try:
            res = optimize.minimize(nll, start, args=(d,), jac=jac, method="L-BFGS-B",
                                    options={"maxiter": 500})
            best = res
            if res.success and np.all(np.isfinite(res.x)) and math.isfinite(res.fun):
                return np.asarray(res.x, dtype=float), True
        except (ValueError, FloatingPointError, OverflowError):
            pass
        x0 = best.x if best is not None and np.all(np.isfinite(best.x)) else start
        res = optimize.minimize(nll, x0, args=(d,), method="Nelder-Mead",
                                options={"maxiter": 2000, "xatol": 1e-8, "fatol": 1e-10})
        return np.asarray(res.x, dtype=float), bool(res.success and math.isfinite(res.fun))


# mean (scaled units) and quantile at probability p (scaled units) as functions of t

def _exp_mean(t: np.ndarray) -> float:
    return math.exp(t[0])


def _exp_q(t: np.ndarray, p: float) -> float:
    return -math.exp(t[0]) * math.log1p(-p)


def _ln_mean(t: np.ndarray) -> float:
    return math.exp(t[0] + 0.5 * math.exp(2.0 * t[1]))


def _ln_q(t: np.ndarray, p: float) -> float:
    return math.exp(t[0] + math.exp(t[1]) * float(special.ndtri(p)))


def _gamma_mean(t: np.ndarray) -> float:
    return math.exp(t[0] + t[1])


def _gamma_q(t: np.ndarray, p: float) -> float:
    return math.exp(t[1]) * float(special.gammaincinv(math.exp(t[0]), p))


def _weib_mean(t: np.ndarray) -> float:
    return math.exp(t[1] + special.gammaln(1.0 + math.exp(-t[0])))


def _weib_q(t: np.ndarray, p: float) -> float:
    return math.exp(t[1]) * (-math.log1p(-p)) ** math.exp(-t[0])


def _exp_params(t: np.ndarray, ls: float) -> dict[str, float]:
    return {"mean": math.exp(t[0] + ls)}


def _ln_params(t: np.ndarray, ls: float) -> dict[str, float]:
    s2 = math.exp(2.0 * t[1])
    mean = math.exp(t[0] + ls + 0.5 * s2)
    return {"mean": mean, "sd": mean * math.sqrt(math.expm1(s2))}


def _gamma_params(t: np.ndarray, ls: float) -> dict[str, float]:
    return {"shape": math.exp(t[0]), "scale": math.exp(t[1] + ls)}


def _weib_params(t: np.ndarray, ls: float) -> dict[str, float]:
    return {"shape": math.exp(t[0]), "scale": math.exp(t[1] + ls)}


@dataclass(frozen=True)
class _Family:
    nll: Callable[[np.ndarray, _Data], float]
    mle: Callable[[_Data], tuple[np.ndarray, bool]]
    mean: Callable[[np.ndarray], float]
    q: Callable[[np.ndarray, float], float]
    params: Callable[[np.ndarray, float], dict[str, float]]


_FAMILY_IMPL: dict[str, _Family] = {
    "exponential": _Family(_exp_nll, _exp_mle, _exp_mean, _exp_q, _exp_params),
    "lognormal": _Family(_ln_nll, _ln_mle, _ln_mean, _ln_q, _ln_params),
    "gamma": _Family(_gamma_nll, _gamma_mle, _gamma_mean, _gamma_q, _gamma_params),
    "weibull": _Family(_weib_nll, _weib_mle, _weib_mean, _weib_q, _weib_params),
}


# --------------------------------------------------------------------------- numerics


def _hessian(f: Callable[[np.ndarray], float], t: np.ndarray, h: float = 2e-3) -> np.ndarray:
    """Central-difference Hessian of ``f`` at ``t``."""
    k = t.size
    out = np.empty((k, k))
    f0 = f(t)
    for i in range(k):
        ei = np.zeros(k)
        ei[i] = h
        out[i, i] = (f(t + ei) - 2.0 * f0 + f(t - ei)) / (h * h)
        for j in range(i):
            ej = np.zeros(k)
            ej[j] = h
            out[i, j] = out[j, i] = (f(t + ei + ej) - f(t + ei - ej) - f(t - ei + ej)
                                     + f(t - ei - ej)) / (4.0 * h * h)
    return out


def _grad(g: Callable[[np.ndarray], float], t: np.ndarray, h: float = 1e-5) -> np.ndarray:
    out = np.empty(t.size)
    for i in range(t.size):
        e = np.zeros(t.size)
        e[i] = h
        out[i] = (g(t + e) - g(t - e)) / (2.0 * h)
    return out


def _covariance(nll: Callable[[np.ndarray], float], t: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        hess = _hessian(nll, t)
    try:
        if not np.all(np.isfinite(hess)) or np.any(np.linalg.eigvalsh(hess) <= 0):
            raise np.linalg.LinAlgError
        return np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        return np.full((t.size, t.size), math.nan)


def _delta_var(g: Callable[[np.ndarray], float], t: np.ndarray, cov: np.ndarray) -> float:
    grad = _grad(g, t)
    return float(grad @ cov @ grad)


def _interval(log_value: float, var: float) -> tuple[float, float]:
    if not (math.isfinite(log_value) and math.isfinite(var)) or var < 0:
        return (math.nan, math.nan)
    half = _Z95 * math.sqrt(var)
    return (math.exp(log_value - half), math.exp(log_value + half))


# --------------------------------------------------------------------------- fitting


class _Counts(TypedDict):
    """The sample counts every :class:`DurationFit` carries, fitted or fallback."""

    zero_share: float
    n: int
    n_censored: int
    n_zero: int


def _validate(durations_h: ArrayLike, censored: ArrayLike | None) -> tuple[np.ndarray, np.ndarray]:
    try:
        x = np.asarray(durations_h, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"durations_h must be numbers (hours): {exc}") from None
    problems = []
    n_nan = int(np.isnan(x).sum())
    n_inf = int(np.isinf(x).sum())
    n_neg = int((x < 0).sum())
    if n_nan:
        problems.append(f"{n_nan:,} NaN")
    if n_inf:
        problems.append(f"{n_inf:,} infinite")
    if n_neg:
        problems.append(f"{n_neg:,} negative")
    if problems:
        raise ValueError(f"durations_h has {' and '.join(problems)} value(s) of {x.size:,}; "
                         "clean the log first (drop or fix them)")
    if x.size == 0:
        raise ValueError("durations_h is empty: nothing to fit")
    if censored is None:
        cens = np.zeros(x.size, dtype=bool)
    else:
        raw = np.asarray(censored).ravel()
        if raw.size != x.size:
            raise ValueError(f"censored has {raw.size:,} values, durations_h {x.size:,}")
        if raw.dtype.kind == "f" and np.isnan(raw).any():
            raise ValueError(f"censored has {int(np.isnan(raw).sum()):,} NaN value(s)")
        cens = raw.astype(bool)
    return x, cens


def fit_duration(
    durations_h: ArrayLike,
    censored: ArrayLike | None = None,
    *,
    families: Sequence[str] = ("exponential", "lognormal", "gamma", "weibull"),
    zero_below: float = 1 / 3600,
) -> DurationFit:
    """Fit durations in hours by maximum likelihood and choose the family by AIC.

    ``censored[i]`` true means ``durations_h[i]`` is a lower bound (the case was
    still open when the log ended). Closed durations ``<= zero_below`` (default
    one second) form a point mass at zero with share ``n_zero / n``; the
    families are fitted to the positive ones (location 0). With fewer than
    :data:`MIN_POSITIVE` positive closed durations no family is compared: the
    fit is an exponential with the mean (censored values counted as in its
    MLE) or a fixed value if they are all equal, and ``note`` says so.

    NaN, infinite or negative durations raise :class:`ValueError` with their
    counts.
    """
    families = tuple(families)
    unknown = [f for f in families if f not in FAMILIES]
    if unknown or not families:
        raise ValueError(f"families must be among {', '.join(FAMILIES)}, got {list(families)!r}")
    x, cens = _validate(durations_h, censored)
    n = x.size
    zero = ~cens & (x <= zero_below)
    n_zero = int(zero.sum())
    n_cens = int(cens.sum())
    pos = x[~cens & ~zero]
    # A case censored at 0 (opened as the log ended) says nothing about its duration.
    cbound = x[cens & (x > 0)]
    pi = n_zero / n
    zero_ll = (n_zero * math.log(pi) if n_zero else 0.0) + \
        ((n - n_zero) * math.log1p(-pi) if n_zero and n > n_zero else 0.0)
    k_zero = 1 if 0 < n_zero < n else 0
    var_pi = pi * (1.0 - pi) / n
    common = _Counts(zero_share=pi, n=n, n_censored=n_cens, n_zero=n_zero)

    if pos.size < MIN_POSITIVE or float(np.ptp(pos)) == 0.0:
        return _fallback(pos, cbound, pi, var_pi, zero_ll, k_zero, common)

    d = _Data(pos, cbound)
    rows = []
    fits: dict[str, tuple[np.ndarray, bool, float]] = {}
    for name in families:
        fam = _FAMILY_IMPL[name]
        try:
            with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
                t, ok = fam.mle(d)
                nll = fam.nll(t, d) if np.all(np.isfinite(t)) else math.inf
        except (ValueError, ArithmeticError, RuntimeError):
            t, ok, nll = np.full(FAMILIES[name], math.nan), False, math.inf
        ll = -nll - d.n * d.log_scale + zero_ll if math.isfinite(nll) else math.nan
        aic = 2.0 * (FAMILIES[name] + k_zero) - 2.0 * ll if math.isfinite(ll) else math.nan
        ok = bool(ok and math.isfinite(ll))
        fits[name] = (t, ok, ll)
        params = fam.params(t, d.log_scale) if np.all(np.isfinite(t)) else {}
        rows.append({"family": name, "loglik": ll, "aic": aic,
                     "params": _describe_params(name, params) if params else "",
                     "converged": ok})
    cand = pd.DataFrame(rows, columns=["family", "loglik", "aic", "params", "converged"])
    usable = cand[cand["converged"] & np.isfinite(cand["aic"].to_numpy(dtype=float))]
    if usable.empty:
        raise RuntimeError("no candidate family could be fitted: " +
                           "; ".join(f"{r.family}: loglik {r.loglik}" for r in cand.itertuples()))
    best_aic = float(usable["aic"].min())
    cand.insert(3, "delta_aic", cand["aic"] - best_aic)
    cand = cand.sort_values("aic", na_position="last", kind="stable").reset_index(drop=True)
    best = str(usable.loc[usable["aic"].idxmin(), "family"])
    fam = _FAMILY_IMPL[best]
    t, _, ll = fits[best]

    cov = _covariance(lambda u: fam.nll(u, d), t)
    params = fam.params(t, d.log_scale)
    params_se = _params_se(fam, t, cov, d.log_scale)

    # mean of the whole distribution: (1 - pi) * mean_s(t) * scale, on the log scale
    log_mean = math.log1p(-pi) + math.log(fam.mean(t)) + d.log_scale
    var_log_mean = _delta_var(lambda u: math.log(fam.mean(u)), t, cov) + \
        (pi / ((1.0 - pi) * n) if n_zero else 0.0)
    mean_ci = _interval(log_mean, var_log_mean)
    median_ci = _median_ci(lambda u, p: fam.q(u, p) * d.scale, t, cov, pi, var_pi, n_zero)

    return DurationFit(family=best, params=params, loglik=ll,
                       aic=float(cand.loc[cand["family"] == best, "aic"].iloc[0]),
                       candidates=cand, mean_ci=mean_ci, median_ci=median_ci,
                       params_se=params_se, **common)


def _params_se(fam: _Family, t: np.ndarray, cov: np.ndarray, ls: float) -> dict[str, float]:
    keys = list(fam.params(t, ls))
    out = {}
    for key in keys:
        def g(u: np.ndarray, key: str = key) -> float:
            return fam.params(u, ls)[key]
        var = _delta_var(g, t, cov)
        out[key] = math.sqrt(var) if math.isfinite(var) and var >= 0 else math.nan
    return out


def _median_ci(
    q: Callable[[np.ndarray, float], float],
    t: np.ndarray,
    cov: np.ndarray,
    pi: float,
    var_pi: float,
    n_zero: int,
) -> tuple[float, float]:
    """95% interval of the median of the zero-inflated distribution (delta method, log scale)."""
    if pi >= 0.5:
        # the median is 0 unless the zero share could be below one half
        pi_lo = pi - _Z95 * math.sqrt(var_pi)
        if pi_lo >= 0.5:
            return (0.0, 0.0)
        return (0.0, q(t, (0.5 - pi_lo) / (1.0 - pi_lo)))

    def log_median(u: np.ndarray) -> float:
        # u = (*t, pi)
        p = (0.5 - u[-1]) / (1.0 - u[-1])
        return math.log(q(u[:-1], p))

    full = np.append(t, pi)
    cov_full = np.zeros((full.size, full.size))
    cov_full[:-1, :-1] = cov
    cov_full[-1, -1] = var_pi if n_zero else 0.0
    h = 1e-5 if pi > 1e-5 or not n_zero else pi / 2
    grad = np.empty(full.size)
    for i in range(full.size):
        e = np.zeros(full.size)
        e[i] = h if i == full.size - 1 else 1e-5
        grad[i] = (log_median(full + e) - log_median(full - e)) / (2.0 * e[i])
    lo, hi = _interval(log_median(full), float(grad @ cov_full @ grad))
    if n_zero and pi + _Z95 * math.sqrt(var_pi) >= 0.5:
        # the zero share could be above one half: the median could be 0
        pi_lo = max(pi - _Z95 * math.sqrt(var_pi), 0.0)
        return (0.0, max(hi, q(t, (0.5 - pi_lo) / (1.0 - pi_lo))))
    return (lo, hi)


def _fallback(
    pos: np.ndarray,
    cbound: np.ndarray,
    pi: float,
    var_pi: float,
    zero_ll: float,
    k_zero: int,
    common: _Counts,
) -> DurationFit:
    """Too few positive closed durations for a family comparison."""
    n, n_pos = common["n"], pos.size
    cols = ["family", "loglik", "aic", "delta_aic", "params", "converged"]
    zero_var = pi / ((1.0 - pi) * n) if 0 < common["n_zero"] < n else 0.0
    if n_pos == 0 and cbound.size == 0:
        # every duration is zero
        cand = pd.DataFrame([{"family": "fixed", "loglik": math.nan, "aic": math.nan,
                              "delta_aic": math.nan, "params": "0 h", "converged": True}],
                            columns=cols)
        return DurationFit(family="fixed", params={"value": 0.0}, loglik=math.nan,
                           aic=math.nan, candidates=cand, mean_ci=(0.0, 0.0),
                           median_ci=(0.0, 0.0), params_se={"value": 0.0},
                           note="fallback: every duration is zero", **common)
    equal = n_pos > 0 and float(np.ptp(pos)) == 0.0 and not np.any(cbound > pos[0])
    if equal:
        family, value = "fixed", float(pos[0])
        params, se = {"value": value}, {"value": 0.0}
        ll, aic = math.nan, math.nan
        var_log = zero_var
        note = f"fallback: the {n_pos:,} positive duration(s) all equal {_num(value)} h"
    else:
        if n_pos == 0:
            mean = float(cbound.mean())
            note = (f"fallback: no closed positive durations; exponential with the mean of "
                    f"{cbound.size:,} censored lower bounds (a lower bound)")
            var_log, ll = math.nan, math.nan
        else:
            mean = (float(pos.sum()) + float(cbound.sum())) / n_pos
            total = float(pos.sum()) + float(cbound.sum())
            ll = -n_pos * math.log(mean) - total / mean + zero_ll
            var_log = 1.0 / n_pos + zero_var
            why = "equal" if float(np.ptp(pos)) == 0.0 else f"{n_pos} < {MIN_POSITIVE}"
            note = (f"fallback: only {n_pos} positive closed duration(s) ({why}); "
                    "exponential with the sample mean, no family comparison")
        family, params = "exponential", {"mean": mean}
        se = {"mean": mean * math.sqrt(1.0 / n_pos) if n_pos else math.nan}
        aic = 2.0 * (1 + k_zero) - 2.0 * ll if math.isfinite(ll) else math.nan
    cand = pd.DataFrame([{"family": family, "loglik": ll, "aic": aic,
                          "delta_aic": 0.0 if math.isfinite(aic) else math.nan,
                          "params": _describe_params(family, params), "converged": True}],
                        columns=cols)
    inner_mean = params["mean"] if "mean" in params else params["value"]
    log_mean = math.log1p(-pi) + math.log(inner_mean)
    mean_ci = _interval(log_mean, var_log)
    if family == "exponential":
        q = lambda u, p: -math.exp(u[0]) * math.log1p(-p)  # noqa: E731
    else:
        q = lambda u, p: value  # noqa: E731
    t = np.array([math.log(inner_mean)])
    cov = np.array([[var_log - zero_var if math.isfinite(var_log) else math.nan]])
    median_ci = _median_ci(q, t, cov, pi, var_pi, common["n_zero"])
    return DurationFit(family=family, params=params, loglik=ll, aic=aic, candidates=cand,
                       mean_ci=mean_ci, median_ci=median_ci, params_se=se, note=note, **common)
