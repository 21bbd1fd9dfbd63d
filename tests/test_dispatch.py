"""Dispatch (派单): hand-built districts where the right answer can be worked out by hand.

Most cases use a district given as a list of grids on a line (y = 0), one patrol
point per grid (at the grid centre), patrol switched off so that workers stand
still where they are, and issues created by hand and made known with
``sim.discover(issue, Channel.REPORT)``. Travel times are Manhattan distance /
speed, exactly.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import govsim
from govsim import Channel, Issue, Status

INF = math.inf
SCEN = Path(__file__).resolve().parent.parent / "scenarios"
SPEED = 4.0  # km/h → 4,000 m/h

# Six grids on a line. With workers.per_grid 0.5 there are three workers, each
# responsible for two neighbouring grids and standing on the first one:
#   worker 0: grids 0, 1 at x = 0;  worker 1: grids 2, 3 at x = 2600;  worker 2: grids 4, 5 at x = 3300.
LINE_X = [0, 2000, 2600, 3000, 3300, 5000]


def line_sim(*, xs=LINE_X, policy="smart_dispatch", radius_m=1500, classify="0s", per_grid=0.5,
             categories=None, workers_categories=None, manual_chain="2h", shift=("00:00", "24:00"),
             horizon="3d", seed=0):
    cats = categories or {"x": {"rate": 0}}
    workers = {"per_grid": per_grid, "shifts": [{"start": shift[0], "end": shift[1]}],
               "speed_kmh": SPEED, "dwell": "1min"}
    if workers_categories is not None:
        workers["categories"] = workers_categories
    s = govsim.load_scenario({
        "name": "line",
        "horizon": horizon,
        "territory": {"grids": [{"x_m": x, "y_m": 0, "households": 100} for x in xs],
                      "points_per_grid": 1, "edge_m": 200},
        "workers": workers,
        "channels": {"patrol": False, "reports": {"enabled": False}, "sensors": {"enabled": False}},
        "categories": cats,
        "policy": policy,
        "policies": {"smart_dispatch": {"radius_m": radius_m, "classify_delay": classify},
                     "traditional_patrol": {"manual_chain": manual_chain}},
    })
    return govsim.Simulation(s, seed)


class Hand:
    """Creates issues by hand in a running simulation."""

    def __init__(self, sim):
        self.sim = sim
        self.next_id = 10_000

    def issue(self, grid, *, category=0, handling=0.25, priority=None, lapse_at=INF, report=True):
        sim = self.sim
        point = sim.territory.grid_first_point[grid]
        prio = sim.categories.priority[category] if priority is None else priority
        issue = Issue(self.next_id, category, grid, int(point), prio, sim.env.now, INF, handling,
                      lapse_at=lapse_at)
        self.next_id += 1
        sim.issue_arose(issue)
        if report:
            sim.discover(issue, Channel.REPORT)
        return issue

    def at(self, t):
        self.sim.env.run(until=t)
        return self


def test_layout_as_intended():
    sim = line_sim()
    assert [w.grids for w in sim.workers] == [(0, 1), (2, 3), (4, 5)]
    xs = [sim.territory.point_x[w.pos] for w in sim.workers]
    assert xs == [0, 2600, 3300]
    assert sim.territory.point_x.tolist() == LINE_X
    assert sim.territory.distance(3, 4) == 300


def test_nearest_free_worker_is_sent():
    sim = line_sim()
    h = Hand(sim).at(1.0)
    c = h.issue(3)  # x = 3000: worker 1 at 400 m, worker 2 at 300 m, worker 0 beyond the radius
    sim.run()
    assert c.handler == 2
    assert c.assigned_at == pytest.approx(1.0)
    assert c.arrived_at == pytest.approx(1.0 + 300 / 4000)
    assert c.resolved_at == pytest.approx(1.0 + 300 / 4000 + 0.25)


def test_ties_go_to_the_lowest_worker_id_not_to_the_grid_owner():
    # worker 0 covers grids 0, 1 and stands at x = 1000; worker 1 covers grids 2, 3 at x = 0.
    sim = line_sim(xs=[1000, 1500, 0, 500])
    assert [sim.territory.point_x[w.pos] for w in sim.workers] == [1000, 0]
    h = Hand(sim).at(1.0)
    c = h.issue(3)  # x = 500: 500 m from both
    sim.run()
    assert c.handler == 0


def test_busy_nearer_worker_is_skipped():
    sim = line_sim()
    h = Hand(sim).at(1.0)
    a = h.issue(4, handling=5.0)  # worker 2 takes it where it stands and is busy for 5 h
    h.at(1.5)
    assert a.handler == 2 and a.status == Status.IN_PROGRESS
    c = h.issue(3)
    sim.run()
    assert c.handler == 1
    assert c.arrived_at == pytest.approx(1.5 + 400 / 4000)


def test_unqualified_nearer_worker_is_skipped():
    cats = {"x": {"rate": 0}, "y": {"rate": 0}}
    sim = line_sim(categories=cats)
    # workers.categories applies to every worker; give worker 2 alone a narrower skill set
    sim.workers[2].skills = [True, False]
    h = Hand(sim).at(1.0)
    c = h.issue(3, category=1)
    d = h.issue(3, category=0)
    sim.run()
    assert c.handler == 1  # worker 2 is nearer but not qualified for "y"
    assert d.handler == 2


def test_category_nobody_is_qualified_for_waits():
    cats = {"x": {"rate": 0}, "y": {"rate": 0}}
    sim = line_sim(categories=cats, workers_categories=["x"])
    assert all(w.skills == [True, False] for w in sim.workers)
    h = Hand(sim).at(1.0)
    c = h.issue(3, category=1)
    d = h.issue(3, category=0)
    r = sim.run()
    assert c.status == Status.WAITING and c.handler == -1 and math.isnan(c.assigned_at)
    assert d.status == Status.RESOLVED and d.handler == 2
    assert r.summary()["backlog_end"] == 1


def test_nobody_within_radius_waits_for_first_worker_free_within_radius():
    sim = line_sim(radius_m=700)
    h = Hand(sim).at(1.0)
    a = h.issue(1, handling=2.0)  # x = 2000: only worker 1 (600 m) is within 700 m
    b = h.issue(4, handling=3.0)  # worker 2, where it stands
    h.at(1.25)
    c = h.issue(3)  # x = 3000: workers 1 and 2 busy, worker 0 is 3 km away
    h.at(1.3)
    assert a.handler == 1 and b.handler == 2
    assert c.status == Status.WAITING and c.queued_at == pytest.approx(1.25)
    # worker 1 is free at 1 + 0.15 + 2 h, but at x = 2000: 1,000 m from c, beyond the radius
    h.at(3.5)
    assert a.status == Status.RESOLVED and a.resolved_at == pytest.approx(1.0 + 600 / 4000 + 2.0)
    assert c.status == Status.WAITING
    sim.run()
    # worker 2 becomes free at 4.0 (3 h on site) 300 m from c: it takes it at once
    assert b.resolved_at == pytest.approx(4.0)
    assert c.handler == 2
    assert c.assigned_at == pytest.approx(4.0)
    assert c.arrived_at == pytest.approx(4.0 + 300 / 4000)


def test_waiting_issues_are_served_by_priority_then_first_come():
    cats = {"low": {"rate": 0, "priority": 3},
            "mid": {"rate": 0, "priority": 2},
            "hazard": {"rate": 0, "priority": 3, "escalation": {"after": "1h", "priority": 1}}}
    # one worker for two grids 300 m apart
    sim = line_sim(xs=[0, 300], categories=cats)
    assert len(sim.workers) == 1
    h = Hand(sim).at(1.0)
    busy = h.issue(0, category=0, handling=3.0)  # busy until 4.0
    # waiting issues in both grids (one queue per grid): the order holds across queues
    h.at(1.1)
    low1 = h.issue(0, category=0, handling=0.5)
    h.at(1.2)
    hz = h.issue(1, category=2, handling=0.5)    # priority 3, escalates to 1 at 2.2
    h.at(1.3)
    mid = h.issue(0, category=1, handling=0.5)
    h.at(1.4)
    low2 = h.issue(1, category=0, handling=0.5)
    h.at(1.5)
    top = h.issue(0, category=0, handling=0.5, priority=1)  # priority 1 from the start
    sim.run()
    assert busy.resolved_at == pytest.approx(4.0)
    assert hz.escalated_at == pytest.approx(2.2) and hz.priority == 1
    # priority 1 (queued 1.2, escalated) before priority 1 (queued 1.5), then 2, then 3 by queue time
    order = sorted([low1, hz, mid, low2, top], key=lambda i: i.assigned_at)
    assert [i.id for i in order] == [hz.id, top.id, mid.id, low1.id, low2.id]
    assert hz.assigned_at == pytest.approx(4.0)
    # each later one is taken when the previous is resolved
    for prev, nxt in zip(order, order[1:]):
        assert nxt.assigned_at == pytest.approx(prev.resolved_at)


def test_traditional_never_crosses_grid_borders_and_applies_manual_chain():
    # one worker per grid; grids 0 and 1 are 300 m apart
    sim = line_sim(xs=[0, 300, 5000], policy="traditional_patrol", per_grid=1, manual_chain="2h")
    assert [w.grids for w in sim.workers] == [(0,), (1,), (2,)]
    h = Hand(sim).at(1.0)
    own = h.issue(0, handling=4.0)  # worker 0 busy until 1 + 2 + 4 = 7 (chain, then on site)
    other = h.issue(1, handling=0.5)
    h.at(3.5)
    assert own.handler == 0 and own.assigned_at == pytest.approx(3.0)
    assert other.handler == 1
    assert other.assigned_at - other.discovered_at == pytest.approx(2.0, abs=1e-12)
    late = h.issue(0, handling=0.5)  # reaches the grid at 5.5; its own worker is busy
    sim.run()
    assert late.queued_at == pytest.approx(5.5)
    # worker 1 was free and 300 m away all along, but it is not this grid's worker
    assert late.handler == 0
    assert late.assigned_at == pytest.approx(own.resolved_at) == pytest.approx(7.0)
    assert own.arrived_at == pytest.approx(3.0)  # the worker stands on the grid's only point


def test_traditional_preset_workers_stay_in_their_grid():
    r = govsim.run(SCEN / "traditional_patrol.yaml", seed=5, overrides={"horizon": "5d"})
    df = r.issues[r.issues["handler"] >= 0]
    assert len(df) > 200
    home = r.workers.set_index("worker")["home_grid"]
    assert (r.workers["n_grids"] == 1).all()
    assert (df["grid"].to_numpy() == home.loc[df["handler"]].to_numpy()).all()
    # patrol finds are taken on the spot, reports pass the manual chain
    pat = df[df["channel"] == Channel.PATROL]
    assert (pat["assigned_at"] == pat["discovered_at"]).all()
    rep = df[df["channel"] == Channel.REPORT]
    assert (rep["assigned_at"] > rep["discovered_at"]).all()


def test_smart_preset_sends_workers_across_borders_within_radius():
    r = govsim.run(SCEN / "smart_dispatch.yaml", seed=5, overrides={"horizon": "5d"})
    df = r.issues[(r.issues["handler"] >= 0) & (r.issues["channel"] != Channel.PATROL)]
    assert len(df) > 100
    home = r.workers.set_index("worker")["home_grid"].loc[df["handler"]].to_numpy()
    assert (df["grid"].to_numpy() != home).any()
    # nobody is sent from further than the radius: the walk takes at most 1,500 m / 4 km/h
    walk = (df["arrived_at"] - df["assigned_at"]).dropna().to_numpy()
    assert walk.max() * 4000 <= 1500 + 1e-6
    assert walk.max() * 4000 > 600  # and some walks do cross grid borders


def test_hand_traced_report_pipeline():
    sim = line_sim(classify="6min")
    h = Hand(sim).at(1.0)
    c = h.issue(3, handling=0.25, report=False)  # arises at 1.0 at x = 3000
    sim.after(0.5, sim.discover, c, Channel.REPORT)  # residents report it half an hour later
    snapshots = {}
    for t in (1.2, 1.55, 1.65, 1.7, 2.0):
        sim.env.run(until=t)
        snapshots[t] = c.status
    r = sim.run()
    assert snapshots == {1.2: Status.HIDDEN, 1.55: Status.REPORTED, 1.65: Status.ASSIGNED,
                         1.7: Status.IN_PROGRESS, 2.0: Status.RESOLVED}
    row = r.issues.set_index("issue_id").loc[c.id]
    assert row["created_at"] == 1.0
    assert row["discovered_at"] == pytest.approx(1.5, abs=1e-12)
    assert row["channel"] == Channel.REPORT
    assert math.isnan(row["queued_at"])
    assert row["assigned_at"] == pytest.approx(1.6, abs=1e-12)       # + 6 min classification
    assert row["arrived_at"] == pytest.approx(1.675, abs=1e-12)      # + 300 m / 4 km/h
    assert row["resolved_at"] == pytest.approx(1.925, abs=1e-12)     # + 15 min on site
    assert row["closed_at"] == row["resolved_at"]
    assert row["handler"] == 2 and row["status"] == Status.RESOLVED
    tu = r.time_use[(r.time_use["worker"] == 2) & r.time_use["state"].isin(["travel", "handle"])]
    assert tu[["start", "end"]].to_numpy().ravel().tolist() == pytest.approx([1.6, 1.675, 1.675, 1.925])
    assert list(tu["state"]) == ["travel", "handle"]
    assert r.workers.set_index("worker").loc[2, "n_handled"] == 1


def _reference_single_worker(sim, r, delay):
    """Replay a one-worker, one-priority run by hand: FIFO, travel = distance / speed, the
    worker standing where it last handled until it goes off duty (then back at its route)."""
    w = sim.workers[0]
    start_point = w.route.point_at(0)
    df = r.issues.sort_values("created_at")
    pos, t_free, prev_end = start_point, 0.0, None
    want = {}
    for row in df.itertuples():
        ready = row.discovered_at + delay
        s = max(ready, t_free)
        ws, we = w.shift.window(s)
        s = max(s, ws)
        if prev_end is None or t_free >= prev_end or s >= prev_end:
            pos = start_point  # off duty in between: the day starts on the route
        travel = sim.territory.distance(pos, row.point) / (SPEED * 1000)
        arrived = s + travel
        resolved = arrived + float(sim.plan.handling[row.issue_id])
        want[row.issue_id] = (s, arrived, resolved, s > ready)
        pos, t_free, prev_end = row.point, resolved, we
    return want


@pytest.mark.parametrize("policy", ["smart_dispatch", "traditional_patrol"])
def test_single_worker_run_matches_hand_replay(policy):
    s = govsim.load_scenario({
        "name": "replay",
        "horizon": "12d",
        "territory": {"rows": 2, "cols": 2, "edge_m": 300, "points_per_grid": 4, "households": 300},
        "workers": {"per_grid": 0.25, "shifts": [{"start": "08:00", "end": "17:00"}],
                    "speed_kmh": SPEED, "dwell": "1min"},
        "channels": {"patrol": False, "reports": {"enabled": True}, "sensors": {"enabled": False}},
        "categories": {"x": {"rate": 10, "profile": "flat", "report": {"prob": 1.0, "delay": "30min"},
                             "handling": {"dist": "lognormal", "mean": "40min", "sd": "20min"}}},
        "policy": policy,
        "policies": {"smart_dispatch": {"radius_m": 10000, "classify_delay": "6min"},
                     "traditional_patrol": {"manual_chain": "2h"}},
    })
    delay = 0.1 if policy == "smart_dispatch" else 2.0
    sim = govsim.Simulation(s, 8)
    assert len(sim.workers) == 1
    r = sim.run()
    df = r.issues.set_index("issue_id")
    assert len(df) > 100
    assert np.allclose(df["discovered_at"] - df["created_at"], 0.5, atol=1e-9)
    want = _reference_single_worker(sim, r, delay)
    n_queued = 0
    checked = 0
    for iid, (assigned, arrived, resolved, queued) in want.items():
        row = df.loc[iid]
        if assigned >= r.horizon:
            assert math.isnan(row["assigned_at"])
            continue
        assert row["assigned_at"] == pytest.approx(assigned, abs=1e-9), iid
        if arrived < r.horizon:
            assert row["arrived_at"] == pytest.approx(arrived, abs=1e-9), iid
        if resolved < r.horizon:
            assert row["resolved_at"] == pytest.approx(resolved, abs=1e-9), iid
            checked += 1
        assert (not math.isnan(row["queued_at"])) == queued, iid
        n_queued += queued
    assert checked > 100
    assert 10 < n_queued < checked  # both paths (sent at once, taken from the queue) are exercised


def test_waiting_issue_within_radius_not_blocked_by_one_out_of_reach():
    s = govsim.load_scenario({
        "horizon": "1d",
        # one 400 m grid, 4 points at (100,100) (300,100) (300,300) (100,300)
        "territory": {"rows": 1, "cols": 1, "edge_m": 400, "points_per_grid": 4, "households": 100},
        "workers": {"shifts": [{"start": "00:00", "end": "24:00"}], "speed_kmh": SPEED, "dwell": "1min"},
        "channels": {"patrol": False, "reports": {"enabled": False}},
        "categories": {"x": {"rate": 0}},
        "policy": "smart_dispatch",
        "policies": {"smart_dispatch": {"radius_m": 250, "classify_delay": "0s"}},
    })
    sim = govsim.Simulation(s, 0)
    assert sim.workers[0].pos == 0
    h = Hand(sim).at(1.0)
    busy = h.issue(0, handling=1.0)          # the worker handles it at point 0 until 2.0
    h.at(1.1)
    far = Issue(h.next_id, 0, 0, 2, 3, 1.1, INF, 0.1)  # point 2: 400 m from point 0
    sim.issue_arose(far)
    sim.discover(far, Channel.REPORT)
    h.at(1.2)
    near = Issue(h.next_id + 1, 0, 0, 1, 3, 1.2, INF, 0.1)  # point 1: 200 m from point 0
    sim.issue_arose(near)
    sim.discover(near, Channel.REPORT)
    sim.run()
    assert busy.resolved_at == pytest.approx(2.0)
    # from point 0 the older issue (400 m) is out of reach, the newer one (200 m) is not
    assert near.handler == 0 and near.assigned_at == pytest.approx(2.0)
    # from point 1 the older one is 200 m away: taken next
    assert far.handler == 0 and far.assigned_at == pytest.approx(near.resolved_at)
