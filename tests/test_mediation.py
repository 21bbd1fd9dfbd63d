"""Validation of the service stations: mediation rooms and the ladder (四级联动), departments,
the hotline centre.

* Erlang C: a community room fed by walk-in disputes (Poisson arrivals) with exponential
  sessions and ``success: 1`` is an M/M/c queue; its mean wait and P(wait) must match
  ``govsim.theory.mmc_metrics`` within a Student-t 95% confidence interval of the
  replication means (independent replications, ``SeedSequence(SEED, spawn_key=(i,))``).
  Waits are taken for the disputes arriving in ``[warmup, horizon − 48 h)``, all of
  which have started (checked), so the estimator is not censored by the end of the run.
* The room is exactly an FCFS multi-server queue: its waits equal the Kiefer–Wolfowitz
  recursion replayed on its own arrival and session times.
* Ladder shares: with fixed success probabilities the shares settled at each rung are
  multinomial, ``settlement_shares(p0, [p1, ...])``; each is checked against a 95%
  binomial (normal, null-variance) interval.
* Little's law on a room, exactly: the station's online integral of its queue length
  equals the sum of the waits recorded in ``sessions`` (waits still running at the end
  counted up to the horizon); likewise for busy servers.
* Hand-traced cases with fixed durations (opening hours, volunteers, severity, referral
  delays, queue limits, the top of the ladder), departments and the hotline centre.
* Conservation of statuses, paths and times on mixed scenarios under every policy.

Hand-traced cases inject issues at chosen times into a run whose categories have
``rate: 0`` (``sim.after(t, sim.issue_arose, Issue(...))``), with chosen dispute draws
``dispute_u = (on the spot, community, street, district, walk-in)``.
"""

from __future__ import annotations

import heapq
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import govsim
from govsim import Channel, Status
from govsim.agents.mediation import settlement_shares
from govsim.agents.residents import N_ATTEMPTS, WALK_IN_DRAW
from govsim.issues import Issue
from govsim.scenario.schema import LADDER
from govsim.schedule import WeeklyHours
from govsim.theory import mmc_metrics

SEED = 20261121
DAY = 24.0
MON, TUE, WED, THU, FRI, SAT, SUN = (d * DAY for d in range(7))
WEEK = 7 * DAY
OFFICE = [{"start": "09:00", "end": "17:00", "days": ["mon", "tue", "wed", "thu", "fri"]}]
ALL_DAY = [{"start": "00:00", "end": "24:00"}]


# --------------------------------------------------------------------------- helpers


def room(mediators=1, hours=None, duration="1h", success=1, referral_delay=0, **kw):
    return {"mediators": mediators, "hours": hours, "duration": duration, "success": success,
            "referral_delay": referral_delay, **kw}


def walk_in_room(lam: float, c: int, horizon_h: float, warmup_h: float = 0.0, service_mean: float = 1.0):
    """One community room fed with Poisson walk-in disputes at ``lam`` per hour: one grid of
    1,000 households, so ``rate`` (per 1,000 households per day) is ``24 lam``."""
    return {
        "horizon": f"{horizon_h!r}h", "warmup": f"{warmup_h!r}h",
        "territory": {"rows": 1, "cols": 1, "households": 1000},
        "channels": {"patrol": False, "reports": {"enabled": False}},
        "categories": {"d": {"rate": 24.0 * lam, "profile": "flat",
                             "dispute": {"on_spot_success": 0, "walk_in": 1}}},
        "mediation": {"community": room(c, None, {"dist": "exponential", "mean": f"{service_mean!r}h"})},
    }


def quiet(mediation=None, horizon="14d", categories=None, **extra):
    """A 1x1 district where nothing arises by itself (rate 0): issues are injected."""
    sc = {
        "horizon": horizon, "territory": {"rows": 1, "cols": 1},
        "channels": {"patrol": False, "reports": {"enabled": False}},
        "categories": categories or {"d": {"rate": 0, "profile": "flat",
                                           "dispute": {"on_spot_success": 0.5, "walk_in": 1}}},
        "mediation": mediation or {},
        **extra,
    }
    return sc


def u(spot=0.99, community=0.99, street=0.99, district=0.99, walk_in=0.0):
    """A dispute's draws; defaults: walks in, would not settle anywhere with success < 0.99."""
    out = (spot, community, street, district, walk_in)
    assert len(out) == N_ATTEMPTS and out[WALK_IN_DRAW] == walk_in
    return out


def inject(sim, arrivals, category=0, grid=0, handling=0.5):
    """Create issue ``i`` at ``arrivals[i][0]`` with dispute draws ``arrivals[i][1]`` (None for
    an ordinary issue); a third element, if given, is the time residents report it."""
    issues = []
    point = sim.territory.grid_points(grid)[0]
    for i, item in enumerate(arrivals):
        t, draws = item[0], item[1]
        issue = Issue(i, category, grid, point, 3, t, math.inf, handling, dispute_u=draws)
        sim.after(t, sim.issue_arose, issue)
        if len(item) > 2:
            sim.after(item[2], sim.discover, issue, Channel.REPORT)
        issues.append(issue)
    return issues


def run_injected(sc, arrivals, **kw):
    sim = govsim.Simulation(govsim.load_scenario(sc), 0)
    inject(sim, arrivals, **kw)
    return sim, sim.run()


def levels_of(path: str) -> list[str]:
    """The rungs of a path, whatever its separators (``"grid>community"``, ``">community"``)."""
    return [p for p in path.split(">") if p]


def sessions_at(r, name):
    st = r.stations
    idx = int(st.loc[st["name"] == name, "station"].iloc[0])
    return r.sessions[r.sessions["station"] == idx].sort_values(["arrived", "issue_id"]).reset_index(drop=True)


def issue(r, i):
    return r.issues.set_index("issue_id").loc[i]


def t_halfwidth(x) -> float:
    x = np.asarray(x, dtype=float)
    return float(stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))


def fcfs_waits(arrived, duration, c):
    """Waits of an FCFS c-server queue (Kiefer–Wolfowitz): each customer, in arrival order,
    takes the server that frees first."""
    free = [0.0] * c
    out = []
    for a, d in zip(arrived, duration):
        f = heapq.heappop(free)
        s = max(a, f)
        out.append(s - a)
        heapq.heappush(free, s + d)
    return np.array(out)


# --------------------------------------------------------------------------- Erlang C

# (c, rho, replications, warm-up h, horizon h). rho=0.9 with c=3 relaxes ~3x faster than with
# c=1 (relaxation time ~ 1/(c mu (1 - sqrt(rho))^2) = 127 h), and Wq = 2.72 h instead of 9 h.
# Warm-up 240 h: the initial-transient bias on the mean wait is ~Wq t_r e^(-W/t_r)/L ~ 0.005 h.
MMC_CASES = {
    "rho0.5_c2": (2, 0.5, 30, 24.0, 24.0 * 90),
    "rho0.9_c3": (3, 0.9, 30, 240.0, 24.0 * 300),
}
MMC_RESULTS: dict[str, dict[str, float]] = {}


@pytest.mark.parametrize("case", list(MMC_CASES))
def test_erlang_c_mean_wait_and_p_wait(case):
    c, rho, n_rep, warmup, horizon = MMC_CASES[case]
    lam = rho * c  # mean session 1 h
    theory = mmc_metrics(lam, 1.0, c)
    scenario = govsim.load_scenario(walk_in_room(lam, c, horizon, warmup))
    waits, p_waits = [], []
    for i in range(n_rep):
        r = govsim.Simulation(scenario, np.random.SeedSequence(SEED, spawn_key=(i,))).run()
        s = r.sessions
        window = s[(s["arrived"] >= warmup) & (s["arrived"] < horizon - 48.0)]
        assert window["started"].notna().all()  # no censoring in the window
        assert not s["turned_away"].any()
        waits.append(window["wait"].mean())
        p_waits.append(float((window["wait"] > 0).mean()))
        if i == 0:
            # the station table computes the same statistics over [warmup, horizon)
            row = r.station_table().iloc[0]
            served = s[(s["arrived"] >= warmup) & s["started"].notna()]
            assert row["n_served"] == len(served)
            assert row["wait_mean"] == pytest.approx(served["wait"].mean(), rel=1e-12)
            assert row["p_wait"] == pytest.approx((served["wait"] > 0).mean(), rel=1e-12)
            assert row["utilisation"] == pytest.approx(rho, rel=0.05)
    w_mean, w_hw = float(np.mean(waits)), t_halfwidth(waits)
    p_mean, p_hw = float(np.mean(p_waits)), t_halfwidth(p_waits)
    MMC_RESULTS[case] = {"wq_theory": theory["mean_wait"], "wq": w_mean, "wq_hw": w_hw,
                         "pw_theory": theory["p_wait"], "pw": p_mean, "pw_hw": p_hw}
    print(f"\n{case}: Wq {w_mean:.4f} ± {w_hw:.4f} (theory {theory['mean_wait']:.4f}); "
          f"P(wait) {p_mean:.4f} ± {p_hw:.4f} (theory {theory['p_wait']:.4f})")
    # the CI must be informative (else the test has no power), and must cover the theory
    assert w_hw < 0.12 * theory["mean_wait"]
    assert p_hw < 0.04 * theory["p_wait"]
    assert abs(w_mean - theory["mean_wait"]) <= w_hw
    assert abs(p_mean - theory["p_wait"]) <= p_hw


@pytest.mark.parametrize("c", [1, 2, 3])
def test_room_is_an_fcfs_multiserver_queue(c):
    """Every wait equals the FCFS recursion on the room's own arrivals and session lengths
    (a session still running at the end holds its mediator to the end)."""
    r = govsim.run(walk_in_room(0.9 * c, c, 24.0 * 60), seed=5)
    s = r.sessions.sort_values(["arrived", "issue_id"], kind="stable")
    started = s[s["started"].notna()]
    assert len(started) > 1000 and (started["wait"] > 0).mean() > 0.3
    dur = (started["ended"] - started["started"]).fillna(math.inf).to_numpy()
    replay = fcfs_waits(started["arrived"].to_numpy(), dur, c)
    np.testing.assert_allclose(started["wait"].to_numpy(), replay, rtol=0, atol=1e-9)
    # and the ones still waiting at the end arrived after every one that started
    waiting = s[s["started"].isna()]
    if len(waiting):
        assert waiting["arrived"].min() >= started["arrived"].max()


# --------------------------------------------------------------------------- ladder shares


def _check_shares(r, expected: list[float], levels: list[str], margin_h: float):
    """Disputes created before ``horizon - margin_h`` are all closed; their shares by rung
    (``levels``, then unsettled) are within binomial 95% intervals of ``expected`` (normal
    approximation with the null variance p(1-p)/n; n is in the thousands). The shares are
    checked jointly: Bonferroni over the k shares with 0 < p < 1 (each at 1 - 0.05/k), so the
    family fails with probability <= 5% when the model is right (k separate 95% intervals
    would fail ~1 - 0.95^k of the time: 23% for k = 5). Shares with p = 0 must be exactly 0.
    A chi-square goodness-of-fit test at 5% is applied too."""
    d = r.issues[r.issues["created_at"] < r.horizon - margin_h]
    n = len(d)
    assert d["status"].isin([Status.RESOLVED, Status.UNSETTLED]).all()
    counts = [int((d["settled_level"] == lv).sum()) for lv in levels]
    counts.append(int((d["status"] == Status.UNSETTLED).sum()))
    assert sum(counts) == n
    k_free = sum(0.0 < p < 1.0 for p in expected)
    z = stats.norm.ppf(1 - 0.025 / k_free)
    for lv, k, p in zip([*levels, "unsettled"], counts, expected):
        if p == 0.0:
            assert k == 0, lv
            continue
        hw = z * math.sqrt(p * (1 - p) / n)
        assert abs(k / n - p) <= hw, f"{lv}: {k}/{n} = {k / n:.4f}, expected {p:.4f} ± {hw:.4f}"
    obs = np.array([k for k, p in zip(counts, expected) if p > 0])
    exp = np.array([p for p in expected if p > 0]) * n
    assert stats.chisquare(obs, exp).pvalue > 0.05
    # the summary's shares are the same counts (over every dispute of the run)
    summ = r.summary()
    for lv in LADDER:
        assert summ[f"settled_{lv}_share"] == pytest.approx((r.issues["settled_level"] == lv).mean())
    assert summ["unsettled_share"] == pytest.approx((r.issues["status"] == Status.UNSETTLED).mean())
    assert summ["dispute_resolution_rate"] == pytest.approx(
        sum(summ[f"settled_{lv}_share"] for lv in LADDER))
    return n


def test_ladder_shares_two_levels_walk_in():
    p1, p2 = 0.6, 0.5
    sc = {
        "horizon": "30d", "territory": {"rows": 1, "cols": 1, "households": 1000},
        "channels": {"patrol": False, "reports": {"enabled": False}},
        "categories": {"d": {"rate": 700, "profile": "flat", "dispute": {"on_spot_success": 0, "walk_in": 1}}},
        "mediation": {"community": room(60, None, "30min", p1, "1h"),
                      "street": room(60, None, "30min", p2, "2h")},
    }
    r = govsim.run(sc, seed=SEED)
    expected = settlement_shares(0.0, [p1, p2])  # grid, community, street, unsettled
    assert expected == pytest.approx([0.0, p1, (1 - p1) * p2, (1 - p1) * (1 - p2)])
    n = _check_shares(r, expected, ["grid", "community", "street"], margin_h=24.0)
    assert n > 15000
    d = r.issues
    assert (d["channel"] == Channel.WALK_IN).all()
    assert (d["discovered_at"] == d["created_at"]).all()
    d = d[d["created_at"] < r.horizon - 24.0]
    paths = d["path"].map(lambda p: tuple(levels_of(p)))
    assert paths.isin([("community",), ("community", "street")]).all()


def test_ladder_shares_via_grid_worker_four_rungs():
    """walk_in 0: every dispute is reported at once, reaches a grid worker (manual chain 0),
    is tried on the spot, then community, street, district."""
    p = [0.3, 0.5, 0.4, 0.6]
    sc = {
        "horizon": "20d", "territory": {"rows": 2, "cols": 2},
        "channels": {"patrol": False},
        "workers": {"shifts": ALL_DAY},
        "policies": {"traditional_patrol": {"manual_chain": 0}},
        "categories": {"d": {"rate": 200, "profile": "flat", "handling": "5min",
                             "report": {"prob": 1, "delay": 0},
                             "dispute": {"on_spot_success": p[0], "walk_in": 0}}},
        "mediation": {"community": room(40, None, "20min", p[1], "30min"),
                      "street": room(40, None, "20min", p[2], "30min"),
                      "district": room(40, None, "20min", p[3], "30min")},
    }
    r = govsim.run(sc, seed=SEED)
    expected = settlement_shares(p[0], p[1:])
    n = _check_shares(r, expected, list(LADDER), margin_h=24.0)
    assert n > 3000
    d = r.issues[r.issues["status"].isin([Status.RESOLVED, Status.UNSETTLED])]
    assert (d["channel"] == Channel.REPORT).all() and (d["handler"] >= 0).all()
    rungs = d["path"].map(levels_of)
    assert (rungs.map(lambda x: x[0]) == "grid").all()
    # the path climbs the ladder in order, one rung at a time, up to where it was settled
    assert rungs.map(lambda x: list(x) == list(LADDER[:len(x)])).all()
    res = d[d["status"] == Status.RESOLVED]
    assert (rungs[res.index].map(lambda x: x[-1]) == res["settled_level"]).all()
    uns = d[d["status"] == Status.UNSETTLED]
    assert (rungs[uns.index].map(len) == 4).all() and uns["settled_level"].isna().all()


# --------------------------------------------------------------------------- Little's law


LITTLE_CASES = {
    "mmc_rho0.9": walk_in_room(2.7, 3, 24.0 * 60),
    # office hours, a volunteer on Saturdays, a short queue limit, a street room above it
    "hours_volunteers_limit": {
        "horizon": "45d", "territory": {"rows": 1, "cols": 1, "households": 1000},
        "channels": {"patrol": False, "reports": {"enabled": False}},
        "categories": {"d": {"rate": 30, "profile": "evening",
                             "dispute": {"on_spot_success": 0, "walk_in": 1}}},
        "mediation": {
            "community": room(2, OFFICE, {"dist": "lognormal", "mean": "1h", "sd": "40min"}, 0.7,
                              {"dist": "exponential", "mean": "2h"}, queue_limit=6),
            "street": room(1, [{"start": "08:00", "end": "12:00"}], "2h", 1, "1d"),
            "volunteers": [{"level": "community", "mediators": 2,
                            "hours": [{"start": "09:00", "end": "12:00", "days": ["sat"]}]}],
        },
    },
}


@pytest.mark.parametrize("case", list(LITTLE_CASES))
def test_littles_law_on_rooms_is_exact(case):
    sc = govsim.load_scenario(LITTLE_CASES[case])
    sim = govsim.Simulation(sc, SEED)
    r = sim.run()
    H = r.horizon
    table = r.stations
    n_checked = 0
    for st in sim.stations:
        s = r.sessions[r.sessions["station"] == st.index]
        acc = s[~s["turned_away"]]
        if len(acc) == 0:
            continue
        n_checked += 1
        # L = lambda W over [0, H]: waits still running at H count up to H
        waited = (acc["started"].fillna(H).clip(upper=H) - acc["arrived"]).to_numpy()
        lam_obs = len(acc) / H
        mean_queue = float(table.loc[table["station"] == st.index, "mean_queue"].iloc[0])
        assert mean_queue == pytest.approx(st.queue_area / H, rel=1e-12)
        assert mean_queue == pytest.approx(lam_obs * waited.mean(), rel=1e-9, abs=1e-12)
        # the same for busy servers (sessions still running at H count up to H)
        srv = acc[acc["started"].notna()]
        busy = (srv["ended"].fillna(H) - srv["started"]).to_numpy()
        mean_busy = float(table.loc[table["station"] == st.index, "mean_busy"].iloc[0])
        assert mean_busy == pytest.approx(busy.sum() / H, rel=1e-9)
        busy_h = float(table.loc[table["station"] == st.index, "busy_h"].iloc[0])
        assert busy_h == pytest.approx(busy.sum(), rel=1e-9)
        # servers on duty: the scheduled hours, plus sessions overrunning closing time
        sched = float(table.loc[table["station"] == st.index, "scheduled_h"].iloc[0])
        assert st.capacity_area >= sched - 1e-6
        assert st.capacity_area >= st.busy_area - 1e-6
        if all(g.hours is None for g in st.groups):
            assert st.capacity_area == pytest.approx(sched, rel=1e-12)
    assert n_checked >= 1
    if case == "hours_volunteers_limit":
        assert r.sessions["turned_away"].any()  # the limit was exercised


# --------------------------------------------------------------------------- hand-traced: hours


def test_opening_hours_hand_traced():
    sc = quiet({"community": room(1, OFFICE, "1h", 1, 0)})
    arrivals = [
        (MON + 20, u(community=0.0)),          # Monday 20:00 → Tuesday 09:00
        (TUE + 16.5, u(community=0.0)),        # Tuesday 16:30 → at once, ends 17:30 (overrun)
        (TUE + 16.75, u(community=0.0)),       # 16:45: the mediator is busy, then closed → Wed 09:00
        (FRI + 20, u(community=0.0)),          # Friday 20:00 → next Monday 09:00
        (SAT + 10, u(community=0.0)),          # Saturday: behind Friday's → Monday 10:00
    ]
    sim, r = run_injected(sc, arrivals)
    s = sessions_at(r, "community:c0")
    expected = [  # arrived, started, ended
        (MON + 20, TUE + 9, TUE + 10),
        (TUE + 16.5, TUE + 16.5, TUE + 17.5),
        (TUE + 16.75, WED + 9, WED + 10),
        (FRI + 20, WEEK + MON + 9, WEEK + MON + 10),
        (SAT + 10, WEEK + MON + 10, WEEK + MON + 11),
    ]
    np.testing.assert_allclose(s[["arrived", "started", "ended"]].to_numpy(), expected, atol=1e-9)
    assert list(s["issue_id"]) == [0, 1, 2, 3, 4]
    assert (r.issues["status"] == Status.RESOLVED).all()
    assert (r.issues["settled_level"] == "community").all()
    np.testing.assert_allclose(r.issues["resolved_at"], [e[2] for e in expected], atol=1e-9)
    # 14 days = 10 weekdays x 8 h on duty; the overrun 17:00-17:30 counts as a server on duty
    row = r.stations.iloc[0]
    assert row["scheduled_h"] == pytest.approx(80.0)
    assert row["busy_h"] == pytest.approx(5.0)
    assert sim.stations[0].capacity_area == pytest.approx(80.5)
    assert row["wait_mean"] == pytest.approx(np.mean([13, 0, WED + 9 - (TUE + 16.75), 61, 48]))


def test_volunteers_only_on_their_days():
    vol = [{"level": "community", "mediators": 1,
            "hours": [{"start": "09:00", "end": "12:00", "days": ["sat"]}]}]
    sc = quiet({"community": room(0, None, "2h", 1, 0), "volunteers": vol})
    sim, r = run_injected(sc, [(MON + 10, u(community=0.0)), (MON + 10.5, u(community=0.0)),
                               (MON + 11, u(community=0.0))])
    s = sessions_at(r, "community:c0")
    np.testing.assert_allclose(s[["arrived", "started", "ended"]].to_numpy(), [
        (MON + 10, SAT + 9, SAT + 11),
        (MON + 10.5, SAT + 11, SAT + 13),            # starts before noon, overruns to 13:00
        (MON + 11, WEEK + SAT + 9, WEEK + SAT + 11),  # next Saturday
    ], atol=1e-9)
    assert r.stations.iloc[0]["scheduled_h"] == pytest.approx(6.0)  # two Saturdays x 3 h

    # with office-hours mediators too: the volunteers open the room on Saturday morning
    sc = quiet({"community": room(1, OFFICE, "2h", 1, 0), "volunteers": vol})
    sim, r = run_injected(sc, [(FRI + 18, u(community=0.0)), (SAT + 13, u(community=0.0)),
                               (SUN + 10, u(community=0.0))])
    s = sessions_at(r, "community:c0")
    np.testing.assert_allclose(s[["arrived", "started", "ended"]].to_numpy(), [
        (FRI + 18, SAT + 9, SAT + 11),
        (SAT + 13, WEEK + MON + 9, WEEK + MON + 11),
        (SUN + 10, WEEK + MON + 11, WEEK + MON + 13),
    ], atol=1e-9)
    assert r.stations.iloc[0]["scheduled_h"] == pytest.approx(80.0 + 6.0)


# --------------------------------------------------------------------------- hand-traced: ladder


def test_referral_delays_applied_exactly():
    sc = quiet({"community": room(1, None, "1h", 0.5, "3h"), "street": room(1, None, "2h", 0.5, "5h"),
                "district": room(1, None, "4h", 0.5, "7h")})
    sim, r = run_injected(sc, [
        (10.0, u(community=0.7, street=0.2)),                # community fails, street settles
        (11.0, u(community=0.2)),                            # community settles
        (100.0, u(community=0.9, street=0.9, district=0.9)),  # nowhere: unsettled
    ])
    com, stt, dis = (sessions_at(r, n) for n in ("community:c0", "street:s0", "district:district"))
    np.testing.assert_allclose(com[["arrived", "started", "ended"]].to_numpy(),
                               [(13, 13, 14), (14, 14, 15), (103, 103, 104)], atol=1e-9)
    np.testing.assert_allclose(stt[["arrived", "started", "ended"]].to_numpy(),
                               [(19, 19, 21), (109, 109, 111)], atol=1e-9)
    np.testing.assert_allclose(dis[["arrived", "started", "ended"]].to_numpy(), [(118, 118, 122)], atol=1e-9)
    i0, i1, i2 = (issue(r, k) for k in range(3))
    assert (i0["status"], i0["settled_level"], i0["resolved_at"]) == (Status.RESOLVED, "street", 21.0)
    assert levels_of(i0["path"]) == ["community", "street"]
    assert (i1["status"], i1["settled_level"], i1["resolved_at"]) == (Status.RESOLVED, "community", 15.0)
    # unsettled at the top: passed to court when the district session ends
    assert i2["status"] == Status.UNSETTLED and pd.isna(i2["settled_level"])
    assert i2["closed_at"] == pytest.approx(122.0) and math.isnan(i2["resolved_at"])
    assert levels_of(i2["path"]) == ["community", "street", "district"]
    assert i0["channel"] == Channel.WALK_IN and i0["discovered_at"] == 10.0


def test_no_ladder_configured_walk_in_is_unsettled_at_once():
    sim, r = run_injected(quiet({}), [(5.0, u(community=0.0))])
    i0 = issue(r, 0)
    assert i0["status"] == Status.UNSETTLED and i0["closed_at"] == 5.0
    assert len(r.sessions) == 0


def test_severity_start_level_skips_community():
    """``{after: 2d, start_level: street}``: a dispute tried on the spot after two days goes
    straight to the street room, one tried before goes to the community room."""
    sc = quiet({"community": room(1, None, "1h", 1, "3h"), "street": room(1, None, "1h", 1, "5h"),
                "severity": [{"after": "2d", "start_level": "street"}]},
               categories={"d": {"rate": 0, "profile": "flat",
                                 "dispute": {"on_spot_success": 0.5, "walk_in": 0}}},
               workers={"shifts": ALL_DAY})
    # (created, draws, reported): on the spot fails (u0 = 0.9 > 0.5); both would settle anywhere
    sim, r = run_injected(sc, [(1.0, u(spot=0.9, community=0.0, street=0.0, walk_in=0.9), 1.0),
                               (1.0, u(spot=0.9, community=0.0, street=0.0, walk_in=0.9), 60.0)],
                          handling=0.5)
    a, b = issue(r, 0), issue(r, 1)
    assert a["channel"] == Channel.REPORT and a["handler"] >= 0
    assert a["arrived_at"] + 0.5 - a["created_at"] < 48.0
    assert b["arrived_at"] + 0.5 - b["created_at"] >= 48.0
    assert levels_of(a["path"]) == ["grid", "community"] and a["settled_level"] == "community"
    assert levels_of(b["path"]) == ["grid", "street"] and b["settled_level"] == "street"
    com, stt = sessions_at(r, "community:c0"), sessions_at(r, "street:s0")
    assert list(com["issue_id"]) == [0] and list(stt["issue_id"]) == [1]
    # referral delays counted from the end of the on-site attempt (arrival + handling)
    assert com["arrived"].iloc[0] == pytest.approx(a["arrived_at"] + 0.5 + 3.0, abs=1e-9)
    assert stt["arrived"].iloc[0] == pytest.approx(b["arrived_at"] + 0.5 + 5.0, abs=1e-9)
    # without the step, b would have gone to community too
    sc["mediation"]["severity"] = []
    sim, r2 = run_injected(sc, [(1.0, u(spot=0.9, community=0.0, street=0.0, walk_in=0.9), 60.0)], handling=0.5)
    assert levels_of(issue(r2, 0)["path"]) == ["grid", "community"]


def test_severity_success_factor():
    """``success_factor`` multiplies the level's success at the time of the session: with
    factor 0 even the most favourable draw (u = 0) does not settle."""
    sev = [{"after": "2d", "success_factor": 0.0}]
    sc = quiet({"community": room(1, OFFICE, "1h", 1, 0), "severity": sev})
    sim, r = run_injected(sc, [(MON + 20, u(community=0.0)),   # session Tue 09:00, age 13 h
                               (FRI + 20, u(community=0.0))])  # session Mon 09:00, age 61 h
    a, b = issue(r, 0), issue(r, 1)
    assert a["status"] == Status.RESOLVED and a["resolved_at"] == pytest.approx(TUE + 10)
    assert b["status"] == Status.UNSETTLED and b["closed_at"] == pytest.approx(WEEK + MON + 10)
    assert pd.isna(b["settled_level"])

    # factor 0.5 on success 1: settles iff u < 0.5
    sc = quiet({"community": room(1, OFFICE, "1h", 1, 0),
                "severity": [{"after": "2d", "success_factor": 0.5}]})
    sim, r = run_injected(sc, [(FRI + 20, u(community=0.45)), (FRI + 20.5, u(community=0.55)),
                               (MON + 20, u(community=0.95))])
    assert issue(r, 0)["status"] == Status.RESOLVED
    assert issue(r, 1)["status"] == Status.UNSETTLED
    assert issue(r, 2)["status"] == Status.RESOLVED  # young: full success 1


def test_queue_limit_turns_away_and_refers_up():
    sc = quiet({"community": room(1, None, "10h", 1, 0, queue_limit=1),
                "street": room(1, None, "1h", 1, "2h")})
    sim, r = run_injected(sc, [(1.0, u(community=0.0)), (2.0, u(community=0.0)), (3.0, u(community=0.0))])
    com = sessions_at(r, "community:c0")
    assert list(com["issue_id"]) == [0, 1, 2]
    assert list(com["turned_away"]) == [False, False, True]
    np.testing.assert_allclose(com[["arrived", "started", "ended"]].to_numpy()[:2],
                               [(1, 1, 11), (2, 11, 21)], atol=1e-9)
    assert com.loc[2, ["started", "ended", "wait"]].isna().all()
    stt = sessions_at(r, "street:s0")
    np.testing.assert_allclose(stt[["arrived", "started", "ended"]].to_numpy(), [(5, 5, 6)], atol=1e-9)
    assert levels_of(issue(r, 2)["path"]) == ["community", "street"]
    assert issue(r, 2)["settled_level"] == "street"
    row = r.stations.set_index("name").loc["community:c0"]
    assert (row["n_arrived"], row["n_turned_away"], row["n_served"], row["n_waiting_end"]) == (3, 1, 2, 0)
    assert row["wait_mean"] == pytest.approx(4.5)

    # turned away at the top: unsettled at once
    sc = quiet({"community": room(1, None, "10h", 1, 0, queue_limit=1)})
    sim, r = run_injected(sc, [(1.0, u(community=0.0)), (2.0, u(community=0.0)), (3.0, u(community=0.0))])
    i2 = issue(r, 2)
    assert i2["status"] == Status.UNSETTLED and i2["closed_at"] == 3.0


def test_queue_limit_zero_still_serves_an_idle_room():
    sc = quiet({"community": room(1, None, "1h", 1, 0, queue_limit=0),
                "street": room(1, None, "1h", 1, "2h")})
    sim, r = run_injected(sc, [(5.0, u(community=0.0)), (5.5, u(community=0.0))])
    com = sessions_at(r, "community:c0")
    # the first finds the mediator free and is served; the second finds it busy and no room
    # to wait, so it goes up to the street
    assert list(com["turned_away"]) == [False, True]
    assert issue(r, 0)["settled_level"] == "community"
    assert issue(r, 1)["settled_level"] == "street"


def test_overlapping_opening_hours_are_rejected():
    """Each hours entry puts the whole staff on duty, so overlapping entries would count the
    mediators twice: the scenario is rejected with the field path."""
    sc = quiet({"community": room(1, [{"start": "09:00", "end": "12:00"},
                                      {"start": "10:00", "end": "17:00"}], "1h", 1, 0)})
    with pytest.raises(govsim.ScenarioError) as err:
        govsim.load_scenario(sc)
    assert "mediation.community.hours" in str(err.value) and "overlap" in str(err.value)
    ok = quiet({"community": room(1, [{"start": "09:00", "end": "12:00"},
                                      {"start": "13:00", "end": "17:00"}], "1h", 1, 0)})
    govsim.load_scenario(ok)


def test_walk_in_path_has_no_empty_rung():
    sim, r = run_injected(quiet({"community": room(1, None, "1h", 0, 0), "street": room(1, None, "1h", 1, 0)}),
                          [(1.0, u(community=0.5, street=0.0))])
    path = issue(r, 0)["path"]
    assert "" not in path.split(">"), path


# --------------------------------------------------------------------------- departments

DEPT_SCENARIO = {
    "horizon": "14d", "territory": {"rows": 2, "cols": 2},
    "departments": {"chengguan": {"staff": 1, "hours": OFFICE, "service": "2h"}},
    "categories": {
        "vending": {"rate": 12, "profile": "evening", "department": "chengguan",
                    "report": {"prob": 0.6, "delay": "15min"}},
        "garbage": {"rate": 10, "profile": "daytime", "report": {"prob": 0.5, "delay": "1h"}},
    },
}


@pytest.mark.parametrize("policy", ["traditional_patrol", "smart_dispatch", "hotline_centre"])
def test_department_serves_its_category_within_hours(policy):
    sc = {**DEPT_SCENARIO, "policy": policy,
          "policies": {"traditional_patrol": {"manual_chain": "1h"},
                       "hotline_centre": {"operators": 2, "processing_delay": "1h"}}}
    r = govsim.run(sc, seed=SEED)
    iss = r.issues
    vend = iss[iss["category"] == "vending"]
    other = iss[iss["category"] != "vending"]
    assert len(vend) > 100
    # never handled by a grid worker
    assert (vend["handler"] == -1).all()
    assert not vend["status"].isin([Status.WAITING, Status.ASSIGNED, Status.IN_PROGRESS]).any()
    assert vend["queued_at"].isna().all()
    reached = vend[vend["department"].notna()]
    assert (reached["department"] == "chengguan").all()
    assert reached["status"].isin([Status.REFERRED, Status.RESOLVED]).all()
    assert other["department"].isna().all()
    # served FIFO by the one staff member, starting only within office hours, 2 h each
    s = sessions_at(r, "chengguan")
    assert len(s) == len(reached) and set(s["issue_id"]) == set(reached["issue_id"])
    hours = WeeklyHours(9, 17, range(5))
    free = 0.0
    for row in s.itertuples():
        if math.isnan(row.started):
            free = math.inf
            continue
        t = max(row.arrived, free)
        expect = t if hours.is_open(t) else hours.window(t)[0]
        assert row.started == pytest.approx(expect, abs=1e-9)
        assert hours.is_open(row.started)
        free = row.ended if not math.isnan(row.ended) else math.inf
        if not math.isnan(row.ended):
            assert row.ended - row.started == pytest.approx(2.0, abs=1e-9)
    by_id = reached.set_index("issue_id")
    ses = s.set_index("issue_id")
    np.testing.assert_allclose(by_id.loc[ses.index, "assigned_at"], ses["arrived"], atol=1e-9)
    done = ses[ses["ended"].notna()]
    np.testing.assert_allclose(by_id.loc[done.index, "arrived_at"], done["started"], atol=1e-9)
    np.testing.assert_allclose(by_id.loc[done.index, "resolved_at"], done["ended"], atol=1e-9)
    assert (by_id.loc[done.index, "status"] == Status.RESOLVED).all()
    if policy == "traditional_patrol":  # the manual chain: 1 h from discovery to the department
        np.testing.assert_allclose(reached["assigned_at"], reached["discovered_at"] + 1.0, atol=1e-9)
    # what the department still holds at the end
    backlog = int(r.summary()["department_backlog_end"])
    assert backlog == int((vend["status"] == Status.REFERRED).sum())
    assert backlog == int(s["ended"].isna().sum())
    assert backlog > 0  # the horizon ends on a Monday night after evening arrivals
    assert iss["status"].isin(Status.ALL).all()
    assert iss["status"].value_counts().sum() == len(iss)


# --------------------------------------------------------------------------- hotline centre


def test_hotline_centre_hand_traced():
    """1 operator, 6 min a call, 1 h processing: three reports at 10:00, 10:01, 10:02 on a Monday
    are triaged at 10:06, 10:12, 10:18 and reach the grid at 11:06, 11:12, 11:18; the grid's one
    worker (on shift 08:00-17:00, idle: no patrol) takes the first, the others wait for it."""
    sc = quiet(categories={"noise": {"rate": 0, "profile": "flat"}},
               policy="hotline_centre",
               policies={"hotline_centre": {"operators": 1, "call_handling": "6min",
                                            "processing_delay": "1h"}})
    t = [10.0, 10.0 + 1 / 60, 10.0 + 2 / 60]
    sim, r = run_injected(sc, [(x, None, x) for x in t], handling=0.25)
    s = sessions_at(r, "hotline")
    np.testing.assert_allclose(s[["arrived", "started", "ended"]].to_numpy(), [
        (t[0], 10.0, 10.1), (t[1], 10.1, 10.2), (t[2], 10.2, 10.3)], atol=1e-9)
    iss = r.issues.set_index("issue_id")
    np.testing.assert_allclose(iss["discovered_at"], t, atol=1e-12)
    assert iss.loc[0, "assigned_at"] == pytest.approx(11.1) and math.isnan(iss.loc[0, "queued_at"])
    np.testing.assert_allclose(iss.loc[[1, 2], "queued_at"], [11.2, 11.3], atol=1e-9)
    assert (iss.loc[[1, 2], "assigned_at"] > iss.loc[[1, 2], "queued_at"]).all()
    assert (iss["status"] == Status.RESOLVED).all() and (iss["handler"] == 0).all()


def test_hotline_centre_queue_recursion():
    """Random reports: the centre is a FIFO single-server queue with fixed service, and every
    triaged report reaches its grid (or department) exactly ``processing_delay`` later."""
    sc = {
        "horizon": "4d", "territory": {"rows": 1, "cols": 1},
        "channels": {"patrol": False},
        "policy": "hotline_centre",
        "policies": {"hotline_centre": {"operators": 1, "call_handling": "6min", "processing_delay": "1h"}},
        "departments": {"permits": {"staff": 1, "hours": None, "service": "10min"}},
        "categories": {
            "noise": {"rate": 480, "profile": "flat", "report": {"prob": 1, "delay": "30min"}},
            "permit": {"rate": 160, "profile": "flat", "department": "permits",
                       "report": {"prob": 1, "delay": "30min"}},
        },
    }
    r = govsim.run(sc, seed=SEED)
    iss = r.issues.set_index("issue_id")
    H = r.horizon
    known = iss[iss["created_at"] < H - 0.5]
    np.testing.assert_allclose(known["discovered_at"], known["created_at"] + 0.5, atol=1e-9)
    s = sessions_at(r, "hotline")
    assert len(s) == len(known) > 500
    np.testing.assert_allclose(s["arrived"], iss.loc[s["issue_id"], "discovered_at"], atol=1e-12)
    free, waited = 0.0, 0
    for row in s.itertuples():
        if math.isnan(row.started):
            assert free > row.arrived
            continue
        assert row.started == pytest.approx(max(row.arrived, free), abs=1e-9)
        waited += row.started > row.arrived + 1e-12
        free = row.ended if not math.isnan(row.ended) else math.inf
    assert waited > 100  # the centre was a real queue
    done = s[s["ended"].notna() & (s["ended"] + 1.0 < H)].set_index("issue_id")
    got = iss.loc[done.index]
    reached = np.fmin(got["queued_at"].to_numpy(), got["assigned_at"].to_numpy())
    np.testing.assert_allclose(reached, done["ended"] + 1.0, atol=1e-9)
    permits = got[got["category"] == "permit"]
    assert len(permits) > 50 and (permits["department"] == "permits").all()
    assert (permits["handler"] == -1).all()


# --------------------------------------------------------------------------- conservation

MIXED = {
    "horizon": "10d", "warmup": "1d", "territory": {"rows": 2, "cols": 3},
    "departments": {"chengguan": {"staff": 2, "hours": OFFICE, "service": "3h"}},
    "categories": {
        "garbage": {"rate": 15, "lifetime": {"dist": "exponential", "mean": "1d"}},
        "dispute": {"rate": 8, "profile": "evening", "handling": "40min",
                    "lifetime": {"dist": "exponential", "mean": "3d"},
                    "report": {"prob": 0.5, "delay": "2h"},
                    "dispute": {"on_spot_success": 0.5, "walk_in": 0.3}},
        "vending": {"rate": 6, "department": "chengguan", "profile": "evening",
                    "lifetime": {"dist": "exponential", "mean": "6h"}},
    },
    "mediation": {
        "community": {"mediators": 1, "queue_limit": 2, "success": 0.7},
        "street": {"mediators": 1, "success": 0.6},
        "district": {"mediators": 1, "hours": None, "success": 0.5},
        "severity": [{"after": "1d", "success_factor": 0.9},
                     {"after": "3d", "success_factor": 0.6, "start_level": "street"}],
        "volunteers": [{"level": "community", "mediators": 1}],
    },
}
PIPELINE = ["created_at", "discovered_at", "assigned_at", "arrived_at", "resolved_at"]


@pytest.mark.parametrize("policy", ["traditional_patrol", "smart_dispatch", "hotline_centre"])
def test_conservation_statuses_paths_times(policy):
    r = govsim.run({**MIXED, "policy": policy}, seed=SEED)
    iss = r.issues
    n = len(iss)
    assert n > 300
    assert iss["status"].isin(Status.ALL).all() and iss["status"].value_counts().sum() == n
    closed = iss["status"].isin(Status.CLOSED)
    assert iss.loc[closed, "closed_at"].notna().all() and iss.loc[~closed, "closed_at"].isna().all()
    res = iss["status"] == Status.RESOLVED
    np.testing.assert_array_equal(iss.loc[res, "resolved_at"], iss.loc[res, "closed_at"])
    assert iss.loc[~res, "resolved_at"].isna().all()

    disp = iss[iss["category"] == "dispute"]
    rest = iss[iss["category"] != "dispute"]
    assert (rest["path"] == "").all() and rest["settled_level"].isna().all()
    with_path = disp[disp["path"] != ""]
    assert len(with_path) > 50
    settled = with_path["settled_level"].isin(LADDER)
    np.testing.assert_array_equal(settled.to_numpy(), (with_path["status"] == Status.RESOLVED).to_numpy())
    assert with_path["status"].isin([Status.REFERRED, Status.RESOLVED, Status.UNSETTLED]).all()
    rungs = with_path["path"].map(levels_of)
    assert rungs.map(lambda x: all(lv in LADDER for lv in x)).all()
    assert rungs.map(lambda x: [LADDER.index(lv) for lv in x] == sorted({LADDER.index(lv) for lv in x})).all()
    ok = with_path[settled]
    assert (rungs[ok.index].map(lambda x: x[-1]) == ok["settled_level"]).all()
    # walk-ins never see a grid worker; the others reached the ladder from one
    walk = with_path["channel"] == Channel.WALK_IN
    assert (rungs[walk].map(lambda x: x[0]) != "grid").all()
    assert (rungs[~walk].map(lambda x: x[0]) == "grid").all()
    assert (with_path.loc[~walk, "handler"] >= 0).all()
    no_path = disp[disp["path"] == ""]
    assert no_path["settled_level"].isna().all()
    assert (no_path["status"] != Status.UNSETTLED).all()
    # referred without a path: only walk-ins still on their way to the first room
    on_way = no_path[no_path["status"] == Status.REFERRED]
    assert (on_way["channel"] == Channel.WALK_IN).all()

    # the room visits of each dispute are its path's rooms, in order
    st = r.stations.set_index("station")
    s = r.sessions.sort_values(["issue_id", "arrived"], kind="stable")
    room_levels = s[s["station"].map(st["kind"]) == "mediation"].groupby("issue_id")["station"].apply(
        lambda x: [st.loc[k, "level"] for k in x])
    for iid, lv in room_levels.items():
        assert lv == [x for x in levels_of(iss.loc[iid, "path"]) if x != "grid"]

    # times never go backwards
    t = iss[PIPELINE].to_numpy()
    for i in range(len(PIPELINE)):
        for j in range(i + 1, len(PIPELINE)):
            both = ~np.isnan(t[:, i]) & ~np.isnan(t[:, j])
            assert np.all(t[both, i] <= t[both, j] + 1e-9), (PIPELINE[i], PIPELINE[j])
    assert (iss["closed_at"].dropna() >= iss.loc[iss["closed_at"].notna(), "created_at"]).all()
    ok_s = s[~s["turned_away"]]
    assert (ok_s["started"].dropna() >= ok_s.loc[ok_s["started"].notna(), "arrived"]).all()
    assert (ok_s["ended"].dropna() >= ok_s.loc[ok_s["ended"].notna(), "started"]).all()
    assert (s["arrived"] <= r.horizon).all()

    # the summary counts what the table shows
    summ = r.summary()
    d_after = disp[disp["created_at"] >= r.warmup]
    assert summ["n_disputes"] == len(d_after)
    assert summ["dispute_resolution_rate"] == pytest.approx(
        sum(summ[f"settled_{lv}_share"] for lv in LADDER))
    assert summ["department_backlog_end"] == int(
        ((iss["status"] == Status.REFERRED) & iss["department"].notna()).sum())
