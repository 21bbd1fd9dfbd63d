"""Analytic results used to validate the simulator and in the docs.

Units are whatever the caller uses consistently (govsim uses hours): a rate
per hour with a mean service time in hours gives waits in hours.
"""

from __future__ import annotations

import math
import numbers

__all__ = [
    "erlang_b",
    "erlang_c",
    "mmc_mean_wait",
    "mmc_metrics",
    "periodic_patrol_discovery",
]


def _servers(servers: int) -> int:
    if isinstance(servers, bool) or not isinstance(servers, numbers.Integral) or servers < 1:
        raise ValueError(f"servers must be a positive integer, got {servers!r}")
    return int(servers)


def _nonneg(name: str, value: float) -> float:
    x = float(value)
    if not math.isfinite(x) or x < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return x


def _positive(name: str, value: float) -> float:
    x = float(value)
    if not math.isfinite(x) or x <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return x


def erlang_b(servers: int, offered_load: float) -> float:
    """Blocking probability of M/M/c/c (Erlang B), by the stable recursion
    ``B(k) = a B(k-1) / (k + a B(k-1))``, ``B(0) = 1``."""
    c = _servers(servers)
    a = _nonneg("offered_load", offered_load)
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(servers: int, offered_load: float) -> float:
    """Probability that an arrival waits in M/M/c with offered load ``a = lambda/mu`` Erlangs.

    Requires ``a < servers``. Computed from Erlang B as
    ``C = c B / (c - a (1 - B))``; stable for ``c`` in the thousands.
    """
    c = _servers(servers)
    a = _nonneg("offered_load", offered_load)
    if a >= c:
        raise ValueError(f"offered_load must be < servers for a stable queue, got {a} >= {c}")
    b = erlang_b(c, a)
    return c * b / (c - a * (1.0 - b))


def mmc_mean_wait(arrival_rate: float, service_mean: float, servers: int) -> float:
    """Mean wait in queue ``Wq = C(c, a) * service_mean / (c - a)``.

    The offered load is ``a = arrival_rate * service_mean``.
    """
    lam = _nonneg("arrival_rate", arrival_rate)
    s = _positive("service_mean", service_mean)
    c = _servers(servers)
    a = lam * s
    return erlang_c(c, a) * s / (c - a)


def mmc_metrics(arrival_rate: float, service_mean: float, servers: int) -> dict[str, float]:
    """Steady-state M/M/c metrics.

    Keys: ``offered_load`` (a), ``rho`` (a/c, utilisation), ``p_wait``,
    ``mean_wait`` (Wq), ``mean_queue_length`` (Lq = lambda Wq),
    ``mean_sojourn`` (W = Wq + service_mean) and ``mean_in_system``
    (L = Lq + a, mean number present).
    """
    lam = _nonneg("arrival_rate", arrival_rate)
    s = _positive("service_mean", service_mean)
    c = _servers(servers)
    a = lam * s
    p_wait = erlang_c(c, a)
    wq = p_wait * s / (c - a)
    lq = lam * wq
    return {
        "offered_load": a,
        "rho": a / c,
        "p_wait": p_wait,
        "mean_wait": wq,
        "mean_queue_length": lq,
        "mean_sojourn": wq + s,
        "mean_in_system": lq + a,
    }


def periodic_patrol_discovery(
    period: float, visible_for: float | None = None, detect_prob: float = 1.0
) -> dict[str, float]:
    """Discovery of an issue at one point patrolled every ``period``.

    The issue arises at a uniformly random time. If it persists
    (``visible_for=None``) it is found with probability 1 after a mean delay
    ``period/2 + period (1 - q)/q`` where ``q = detect_prob`` is the chance a
    pass detects it. If it is visible only for ``visible_for = tau`` (requires
    ``q == 1``): ``p_found = min(1, tau/period)`` and the mean delay given found
    is ``tau/2`` if ``tau < period`` else ``period/2``.

    Returns ``{"p_found": ..., "mean_delay_if_found": ...}``.
    """
    p = _positive("period", period)
    q = float(detect_prob)
    if not 0.0 < q <= 1.0:
        raise ValueError(f"detect_prob must be in (0, 1], got {detect_prob!r}")
    if visible_for is None:
        return {"p_found": 1.0, "mean_delay_if_found": p / 2.0 + p * (1.0 - q) / q}
    tau = _positive("visible_for", visible_for)
    if q != 1.0:
        raise ValueError(
            "transient issues (visible_for given) are only supported with detect_prob == 1"
        )
    if tau < p:
        return {"p_found": tau / p, "mean_delay_if_found": tau / 2.0}
    return {"p_found": 1.0, "mean_delay_if_found": p / 2.0}
