"""Patrol discovery against theory (govsim.theory.periodic_patrol_discovery).

Set-up: one grid with one worker on a 24-hour shift walking a fixed cycle of
period T; reports and sensors off; issues arrive uniformly in time (flat
profile) and are handled in 1 s, so the worker is patrolling almost all the
time. For an issue arising at a uniformly random time at a point visited every
T, with per-pass detection probability q:

* persistent issues: mean discovery delay T/2 + T(1 - q)/q;
* issues visible for tau < T (q = 1): found with probability tau/T.

Sources of bias in the simulation and why they are negligible here
(64 points, T = 0.5 h, lambda = 0.32 issues/h, i.e. lambda_point * T = 0.0025):

* handling (1 s, dwell 0) delays the cycle by 1 s per issue: the issues that
  wait meanwhile (about lambda * T / 2 = 0.08) lose 1 s each: < 1e-4 h in total;
* the segment is restarted at each midnight (24-hour shift boundary) at the
  next point of the route, i.e. the cycle jumps ahead by at most one step
  (<= 350 m = 0.05 h) for the issues waiting then (about 0.08, against ~8
  issues a day): < 1e-3 h per issue;
* two issues hidden at the same point at one pass: the worker handles the
  first and then looks again at that point (a fresh draw for the second):
  at most the handling time (1 s) of delay for a coincidence of probability
  lambda_point * T = 0.0025, against a CI half-width (4 standard errors) of
  about 0.012 h (q = 1) and 0.046 h (q = 0.5).

Tolerances are 4 standard errors computed from the sample (or the exact
binomial standard error), never widened by hand.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import govsim
from govsim import Channel, Issue, Status
from govsim.agents.patrol import PatrolSegment
from govsim.theory import periodic_patrol_discovery

Z = 4.0  # standard errors


def theory_scenario(*, q=1.0, lifetime=None, horizon="500d", speed_kmh=7.0, points=64,
                    rate=7.68, dwell="0", shift=("00:00", "24:00"), policy="smart_dispatch"):
    cat = {"rate": rate, "profile": "flat", "handling": "1s", "patrol_detect": q,
           "report": {"prob": 0.0}, "sensor": {"prob": 0.0}}
    if lifetime is not None:
        cat["lifetime"] = lifetime
    return govsim.load_scenario({
        "name": "patrol_theory",
        "horizon": horizon,
        # 8 x 8 lattice, 50 m apart, 400 m grid: a closed serpentine tour of 3,500 m
        "territory": {"rows": 1, "cols": 1, "edge_m": 400, "points_per_grid": points,
                      "households": 1000},
        "workers": {"per_grid": 1, "shifts": [{"start": shift[0], "end": shift[1]}],
                    "speed_kmh": speed_kmh, "dwell": dwell, "route": "fixed_cycle"},
        "channels": {"patrol": True, "reports": {"enabled": False}, "sensors": {"enabled": False}},
        "categories": {"x": cat},
        "policy": policy,
    })


def run_theory(seed, **kw):
    sim = govsim.Simulation(theory_scenario(**kw), seed)
    T = sim.workers[0].route.period
    return sim, T, sim.run()


def test_24_hour_shift_is_expressed_as_00_to_24():
    sim, T, r = run_theory(0, horizon="3d", rate=0)
    shift = sim.workers[0].shift
    assert shift.start == 0.0 and shift.length == 24.0
    assert T == pytest.approx(3500 / 7000)
    w = r.workers.iloc[0]
    # the worker is on duty the whole run and patrols all of it (at each midnight a new
    # segment starts at the next point of the route: GridWorker.run places the worker there)
    assert w["worked_h"] == pytest.approx(r.horizon, abs=1e-6)
    assert w["patrol_h"] == pytest.approx(r.horizon, abs=1e-6)
    assert len(r.patrols) == 3 and np.allclose(r.patrols["start"], [0, 24, 48])


def _mean_ci(x):
    x = np.asarray(x, float)
    m = x.mean()
    se = x.std(ddof=1) / math.sqrt(len(x))
    return m, se


def test_persistent_issue_mean_delay_is_half_the_period():
    sim, T, r = run_theory(1, q=1.0)
    df = r.issues
    assert len(df) > 3000
    # everything is found, by patrol, and handled
    assert (df["channel"] == Channel.PATROL).all()
    delay = (df["discovered_at"] - df["created_at"]).to_numpy()
    assert np.all(delay >= 0)
    m, se = _mean_ci(delay)
    want = periodic_patrol_discovery(T)["mean_delay_if_found"]
    assert want == pytest.approx(T / 2)
    assert abs(m - want) <= Z * se, (m, se, want)
    # the delay is uniform on [0, T]: the sample sd is T / sqrt(12) within its own CI
    # (sd of the sample sd ~ sd * sqrt((kurtosis - 1) / (4n)), kurtosis of a uniform 1.8)
    sd = delay.std(ddof=1)
    assert abs(sd - T / math.sqrt(12)) <= Z * (T / math.sqrt(12)) * math.sqrt(0.8 / (4 * len(delay)))
    # almost every issue is found within one period (co-located ones may wait one more)
    assert np.mean(delay <= T + 1e-6) > 0.99


def test_transient_issue_found_with_probability_tau_over_T():
    tau_min = 12  # tau = 0.2 h < T = 0.5 h
    sim, T, r = run_theory(2, q=1.0, lifetime=f"{tau_min}min")
    tau = tau_min / 60
    theory = periodic_patrol_discovery(T, visible_for=tau)
    df = r.issues
    n = len(df)
    assert n > 3000
    found = df["discovered_at"].notna().to_numpy()
    p_hat = found.mean()
    p = theory["p_found"]
    assert p == pytest.approx(tau / T)
    se = math.sqrt(p * (1 - p) / n)  # exact binomial standard error under the null
    assert abs(p_hat - p) <= Z * se, (p_hat, p, se)
    # found ones are found within their lifetime, mean delay tau / 2
    d = (df["discovered_at"] - df["created_at"]).to_numpy()[found]
    assert np.all(d <= tau + 1e-9)
    m, se_d = _mean_ci(d)
    assert abs(m - theory["mean_delay_if_found"]) <= Z * se_d, (m, se_d, tau / 2)
    # the others lapse at created + tau, unassigned
    lapsed = df[~found]
    assert (lapsed["status"] == Status.LAPSED).all()
    assert np.allclose(lapsed["closed_at"] - lapsed["created_at"], tau, atol=1e-9)


def test_detect_prob_below_one_mean_delay():
    q = 0.5
    sim, T, r = run_theory(3, q=q)
    df = r.issues
    assert len(df) > 3000
    delay = (df["discovered_at"] - df["created_at"]).dropna().to_numpy()
    assert len(delay) >= len(df) - 5  # a few may still be hidden at the end
    m, se = _mean_ci(delay)
    want = periodic_patrol_discovery(T, detect_prob=q)["mean_delay_if_found"]
    assert want == pytest.approx(T / 2 + T * (1 - q) / q)
    assert abs(m - want) <= Z * se, (m, se, want)
    # number of passes needed is geometric(q): floor(delay / T) has mean (1 - q) / q
    extra = np.floor(delay / T + 1e-9)
    me, se_e = _mean_ci(extra)
    assert abs(me - (1 - q) / q) <= Z * se_e, (me, se_e)


def test_detect_prob_below_one_mean_delay_long_period():
    q = 0.5
    # 2 h period: 64 points at 1.75 km/h
    sim, T, r = run_theory(3, q=q, speed_kmh=1.75, rate=2.0, horizon="1500d")
    assert T == pytest.approx(2.0)
    df = r.issues
    assert len(df) > 2500
    delay = (df["discovered_at"] - df["created_at"]).dropna().to_numpy()
    m, se = _mean_ci(delay)
    want = periodic_patrol_discovery(T, detect_prob=q)["mean_delay_if_found"]
    assert abs(m - want) <= Z * se, (m, se, want)


@pytest.mark.parametrize(("route", "period"), [
    ("fixed_cycle", 0.5),
    ("fixed_cycle", 2.0),
    ("random_walk", 0.5),
    ("random_walk", 2.0),
])
def test_one_bernoulli_draw_per_pass(route, period):
    """A hidden issue never seen: the patrol draws exactly once per pass of its point."""
    s = theory_scenario(q=0.5, rate=0, horizon="2d", speed_kmh=3.5 / period)
    s = govsim.load_scenario(s.raw, overrides={"workers.route": route})
    sim = govsim.Simulation(s, 0)
    draws = []

    def never(_u=sim.patrol.uniform):
        draws.append(sim.env.now)
        return 0.999999  # never below q: the issue is never seen

    sim.patrol.uniform = never
    w = sim.workers[0]
    point = w.route.point_at(5)
    sim.env.run(until=0.01)
    issue = Issue(10_000, 0, 0, point, 3, 0.01, math.inf, 1 / 3600)
    sim.issue_arose(issue)
    r = sim.run()
    assert issue.status == Status.HIDDEN
    v = r.visits
    passes = v[(v["point"] == point) & (v["time"] >= 0.01)]
    assert len(passes) > 10
    assert len(draws) == len(passes), (len(draws), len(passes))


def test_colocated_issues_seen_at_the_same_pass():
    s = govsim.load_scenario({
        "horizon": "1d",
        "territory": {"rows": 1, "cols": 1, "edge_m": 400, "points_per_grid": 4, "households": 100},
        "workers": {"shifts": [{"start": "00:00", "end": "24:00"}], "speed_kmh": 0.8, "dwell": "0"},
        "channels": {"reports": {"enabled": False}},
        "categories": {"x": {"rate": 0, "patrol_detect": 1.0, "handling": "6min"}},
        "policy": "smart_dispatch",
    })
    sim = govsim.Simulation(s, 0)
    route = sim.workers[0].route
    assert route.period == 1.0 and route.offset(2) == 0.5  # point 2 is passed at 0.5, 1.5, ...
    sim.env.run(until=0.1)
    a = Issue(100, 0, 0, 2, 3, 0.1, math.inf, 0.1)
    b = Issue(101, 0, 0, 2, 3, 0.1, math.inf, 0.1)
    sim.issue_arose(a)
    sim.issue_arose(b)
    sim.run()
    assert a.discovered_at == pytest.approx(0.5)
    assert a.resolved_at == pytest.approx(0.6)
    # both are in plain view at the 0.5 pass: b is known by the time the worker is done with a
    # (at 0.5 if seen with a, at 0.6 if the worker looks again before moving on) and handled next
    assert b.discovered_at <= a.resolved_at + 1e-9
    assert b.resolved_at == pytest.approx(0.7)


def test_patrol_finder_stands_at_the_issue():
    """Under smart dispatch the finder handles what it sees, where it is: no travel."""
    s = theory_scenario(q=1.0, points=4, speed_kmh=3.6, dwell="1min", rate=20, horizon="100d")
    r = govsim.run(s, seed=3)
    p = r.issues[r.issues["channel"] == Channel.PATROL]
    assert len(p) > 1000
    travel = (p["arrived_at"] - p["assigned_at"]).to_numpy()
    assert np.all(p["assigned_at"].to_numpy() == p["discovered_at"].to_numpy())
    assert np.all(travel <= 1e-9), int((travel > 1e-9).sum())


def test_uninterrupted_fixed_cycle_visits_are_periodic_and_cover_all_points():
    sim, T, r = run_theory(0, rate=0, horizon="3d", shift=("08:00", "17:00"), dwell="1min")
    assert T < 9.0
    n_points = sim.territory.n_points
    pat = r.patrols
    assert len(pat) == 3  # one uninterrupted segment per day
    assert np.allclose(pat["start"], [8, 32, 56]) and np.allclose(pat["end"], [17, 41, 65])
    v = r.visits
    assert len(v) == pat["visits"].sum()
    for _, seg in pat.iterrows():
        sv = v[(v["time"] >= seg["start"] - 1e-9) & (v["time"] <= seg["end"] + 1e-9)]
        assert len(sv) == seg["visits"]
        # consecutive visits follow the route's steps, visit times of a point differ by T
        for _, g in sv.groupby("point"):
            t = np.sort(g["time"].to_numpy())
            assert len(t) >= math.floor(9.0 / T)
            assert np.allclose(np.diff(t), T, rtol=0, atol=1e-9)
        # the segment starts at a visit and ends less than one step after the last one
        assert sv["time"].min() == pytest.approx(seg["start"])
        assert seg["end"] - sv["time"].max() < max(np.diff(sim.workers[0].route.cum).max(), T)
    cov = r.coverage()
    assert len(cov) == 3
    assert (cov["point_coverage"] == 1.0).all() and (cov["grid_coverage"] == 1.0).all()
    assert r.summary()["point_coverage"] == 1.0
    assert sorted(v["point"].unique()) == list(range(n_points))


def test_coverage_below_one_when_the_period_exceeds_the_shift():
    # T = 3500 m / 0.5 km/h = 7 h > a 2-hour shift: about 2/7 of the points each day
    sim, T, r = run_theory(0, rate=0, horizon="3d", shift=("08:00", "10:00"), speed_kmh=0.5)
    assert T == pytest.approx(7.0)
    cov = r.coverage()
    v = r.visits
    for _, day in cov.iterrows():
        seen = v[(v["time"] >= day["day_start"]) & (v["time"] < day["day_end"])]["point"].nunique()
        assert day["point_coverage"] == pytest.approx(seen / sim.territory.n_points)
        assert 0.2 < day["point_coverage"] < 0.4


def test_segment_passes_match_route():
    """PatrolSegment.passes agrees with the visits expanded from the records."""
    sim, T, r = run_theory(0, rate=0, horizon="1d", dwell="1min")
    w = sim.workers[0]
    seg = PatrolSegment(w, w.route, 3.25, 17, 20.0)
    rng = np.random.default_rng(1)
    for _ in range(200):
        p = int(rng.integers(sim.territory.n_points))
        after = float(rng.uniform(3.25, 19.0))
        got = list(seg.passes(p, after, 20.0))
        ks = np.arange(17, 17 + 2000)
        pts, offs = w.route.visits(ks)
        times = 3.25 + offs - w.route.offset(17)
        cand = times[(pts == p) & (times >= after) & (times <= 20.0)]
        assert got == pytest.approx(list(cand), abs=1e-9)
