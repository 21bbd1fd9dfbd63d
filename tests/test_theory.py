from __future__ import annotations

import math

import numpy as np
import pytest

from govsim.theory import (
    erlang_b,
    erlang_c,
    mmc_mean_wait,
    mmc_metrics,
    periodic_patrol_discovery,
)


def _erlang_c_direct(c: int, a: float) -> float:
    """Textbook closed form, fine for small c."""
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (math.fsum(a**k / math.factorial(k) for k in range(c)) + top)


def test_erlang_c_published_call_centre_case() -> None:
    # 14 agents, 10 Erlangs, 180 s mean handling time.
    c, a, service_s = 14, 10.0, 180.0
    p_wait = erlang_c(c, a)
    assert p_wait == pytest.approx(0.1741, abs=5e-4)
    arrival_rate = a / service_s  # per second
    assert mmc_mean_wait(arrival_rate, service_s, c) == pytest.approx(7.84, abs=0.01)
    assert mmc_mean_wait(arrival_rate, service_s, c) == pytest.approx(p_wait * 180.0 / 4.0)


def test_erlang_c_small_exact_case() -> None:
    assert erlang_c(2, 1.0) == pytest.approx(1.0 / 3.0, rel=1e-12)
    assert erlang_b(2, 1.0) == pytest.approx(0.2, rel=1e-12)


@pytest.mark.parametrize("rho", [0.1, 0.5, 0.9])
def test_mm1(rho: float) -> None:
    mu = 2.0
    lam = rho * mu
    assert erlang_c(1, rho) == pytest.approx(rho, rel=1e-12)
    assert mmc_mean_wait(lam, 1.0 / mu, 1) == pytest.approx(rho / (mu - lam), rel=1e-12)
    m = mmc_metrics(lam, 1.0 / mu, 1)
    assert m["rho"] == pytest.approx(rho)
    assert m["p_wait"] == pytest.approx(rho)
    assert m["mean_queue_length"] == pytest.approx(rho**2 / (1 - rho))
    assert m["mean_in_system"] == pytest.approx(rho / (1 - rho))
    assert m["mean_sojourn"] == pytest.approx(1.0 / (mu - lam))


@pytest.mark.parametrize(("c", "a"), [(1, 0.3), (3, 2.5), (7, 4.0), (20, 19.5), (30, 12.0)])
def test_erlang_c_matches_closed_form(c: int, a: float) -> None:
    assert erlang_c(c, a) == pytest.approx(_erlang_c_direct(c, a), rel=1e-10)


def test_erlang_c_large_c_is_stable() -> None:
    for a in (500.0, 950.0, 999.0):
        p = erlang_c(1000, a)
        assert 0.0 <= p <= 1.0 and math.isfinite(p)
    assert erlang_c(1000, 500.0) < 1e-50
    # Heavy traffic: C grows towards 1 as a -> c.
    assert erlang_c(1000, 950.0) < erlang_c(1000, 990.0) < erlang_c(1000, 999.9) < 1.0


def test_mmc_metrics_littles_law() -> None:
    lam, s, c = 3.0, 0.5, 2
    m = mmc_metrics(lam, s, c)
    assert m["offered_load"] == pytest.approx(1.5)
    assert m["rho"] == pytest.approx(0.75)
    assert m["mean_wait"] == pytest.approx(mmc_mean_wait(lam, s, c))
    assert m["mean_queue_length"] == pytest.approx(lam * m["mean_wait"])
    assert m["mean_in_system"] == pytest.approx(lam * m["mean_sojourn"])


def test_zero_arrivals() -> None:
    assert erlang_c(3, 0.0) == 0.0
    assert mmc_mean_wait(0.0, 1.0, 3) == 0.0


@pytest.mark.parametrize(
    "call",
    [
        lambda: erlang_c(2, 2.0),
        lambda: erlang_c(2, 3.0),
        lambda: erlang_c(0, 0.5),
        lambda: erlang_c(2.5, 0.5),
        lambda: erlang_c(True, 0.5),
        lambda: erlang_c(2, -0.1),
        lambda: mmc_mean_wait(1.0, 0.0, 2),
        lambda: mmc_metrics(5.0, 1.0, 4),
    ],
)
def test_invalid_queue_arguments(call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        call()


def test_patrol_persistent_issue() -> None:
    assert periodic_patrol_discovery(4.0) == {"p_found": 1.0, "mean_delay_if_found": 2.0}
    r = periodic_patrol_discovery(4.0, detect_prob=0.5)
    assert r["p_found"] == 1.0
    assert r["mean_delay_if_found"] == pytest.approx(2.0 + 4.0)


def test_patrol_transient_issue() -> None:
    assert periodic_patrol_discovery(4.0, visible_for=1.0) == {
        "p_found": 0.25,
        "mean_delay_if_found": 0.5,
    }
    assert periodic_patrol_discovery(4.0, visible_for=6.0) == {
        "p_found": 1.0,
        "mean_delay_if_found": 2.0,
    }


def test_patrol_formulas_match_monte_carlo() -> None:
    rng = np.random.default_rng(12345)
    n, period = 200_000, 3.0
    # Issue arises uniformly within a cycle; the next pass is after a uniform wait.
    first = period * (1.0 - rng.random(n))  # in (0, period]
    for q in (1.0, 0.4):
        extra_cycles = rng.geometric(q, n) - 1  # failed passes before detection
        delay = first + period * extra_cycles
        expected = periodic_patrol_discovery(period, detect_prob=q)["mean_delay_if_found"]
        se = delay.std(ddof=1) / math.sqrt(n)
        assert abs(delay.mean() - expected) <= 4.0 * se
    tau = 1.2
    found = first <= tau
    theory = periodic_patrol_discovery(period, visible_for=tau)
    p_hat = found.mean()
    assert abs(p_hat - theory["p_found"]) <= 4.0 * math.sqrt(p_hat * (1 - p_hat) / n)
    d = first[found]
    assert abs(d.mean() - theory["mean_delay_if_found"]) <= 4.0 * d.std(ddof=1) / math.sqrt(d.size)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"period": 0.0},
        {"period": -1.0},
        {"period": 2.0, "detect_prob": 0.0},
        {"period": 2.0, "detect_prob": 1.5},
        {"period": 2.0, "visible_for": 1.0, "detect_prob": 0.5},
        {"period": 2.0, "visible_for": 0.0},
    ],
)
def test_patrol_invalid(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        periodic_patrol_discovery(**kwargs)
