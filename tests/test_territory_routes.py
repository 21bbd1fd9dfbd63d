"""Territory and patrol routes: geometry, route queries against brute force, hotspot
frequencies, escalation, lapse, and a district read from a CSV file.

Property tests use seeded generators, so every run checks the same cases.
"""

from __future__ import annotations

import copy
import math
import pickle
import textwrap
from pathlib import Path

import numpy as np
import pytest

import govsim
from govsim import Channel, Issue, Status
from govsim.policies.routes import FixedCycle, HotspotWeighted, RandomWalk
from govsim.territory import lattice

INF = math.inf


def scenario(**over):
    """A small scenario as a dict; ``over`` replaces top-level keys (dicts are merged one level)."""
    base = {
        "name": "t",
        "horizon": "2d",
        "territory": {"rows": 3, "cols": 4, "edge_m": 300, "points_per_grid": 9, "households": 300},
        "workers": {"per_grid": 1, "shifts": [{"start": "00:00", "end": "24:00"}],
                    "speed_kmh": 4, "dwell": "2min"},
        "channels": {"patrol": True, "reports": {"enabled": False}, "sensors": {"enabled": False}},
        "categories": {"x": {"rate": 0, "profile": "flat", "handling": "10min"}},
        "policy": "smart_dispatch",
    }
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            base[k] = {**base[k], **v}
        else:
            base[k] = v
    return govsim.load_scenario(base)


# --------------------------------------------------------------------------- territory


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 9, 10, 16, 17, 64])
def test_lattice_points_inside_their_grid(n):
    edge = 300.0
    ox, oy = lattice(n, edge)
    assert len(ox) == len(oy) == n
    assert np.all(np.abs(ox) < edge / 2) and np.all(np.abs(oy) < edge / 2)
    # distinct points
    assert len({(round(a, 9), round(b, 9)) for a, b in zip(ox, oy)}) == n


def test_territory_points_inside_their_grid_layout_and_rows():
    sims = [
        govsim.Simulation(scenario(territory={"rows": 3, "cols": 4, "points_per_grid": 7}), 0),
        govsim.Simulation(scenario(territory={
            "grids": [
                {"x_m": 0, "y_m": 0, "households": 100, "edge_m": 200, "points": 5},
                {"x_m": 1000, "y_m": 50, "households": 100, "edge_m": 500, "points": 12},
                {"x_m": -700, "y_m": 900, "households": 100},
            ], "points_per_grid": 3}), 0),
    ]
    for sim in sims:
        t = sim.territory
        for g in range(t.n_grids):
            pts = np.array(list(t.grid_points(g)))
            assert len(pts) > 0
            assert np.all(t.point_grid[pts] == g)
            half = t.grid_edge[g] / 2
            assert np.all(np.abs(t.point_x[pts] - t.grid_x[g]) < half)
            assert np.all(np.abs(t.point_y[pts] - t.grid_y[g]) < half)
            for p in pts:
                assert t.grid_of_point(int(p)) == g
        assert t.grid_first_point[-1] == t.n_points
    rows_sim = sims[1]
    assert list(np.diff(rows_sim.territory.grid_first_point)) == [5, 12, 3]


@pytest.mark.parametrize("metric", ["manhattan", "euclidean"])
def test_grids_near_sorted_and_complete_vs_brute_force(metric):
    rng = np.random.default_rng(11)
    grids = [{"x_m": float(x), "y_m": float(y), "households": 100}
             for x, y in rng.uniform(0, 3000, size=(40, 2))]
    sim = govsim.Simulation(scenario(territory={"grids": grids, "distance": metric,
                                                "points_per_grid": 1}), 0)
    t = sim.territory
    x, y = t.grid_x, t.grid_y
    for _ in range(200):
        g = int(rng.integers(t.n_grids))
        r = float(rng.choice([rng.uniform(0, 4000), 0.0, 1e9]))
        dx, dy = np.abs(x - x[g]), np.abs(y - y[g])
        d = dx + dy if metric == "manhattan" else np.hypot(dx, dy)
        brute = sorted((float(d[i]), i) for i in range(t.n_grids) if d[i] <= r)
        got = t.grids_near(g, r)
        assert [gg for _, gg in got] == [gg for _, gg in brute]
        assert np.allclose([dd for dd, _ in got], [dd for dd, _ in brute])
        assert all(a[0] <= b[0] for a, b in zip(got, got[1:]))
    # exact boundary on a lattice (centre distances are multiples of 300 m)
    lat = govsim.Simulation(scenario(territory={"rows": 5, "cols": 5, "distance": metric}), 0).territory
    for g in (0, 12):
        for r in (0.0, 300.0, 600.0, 900.0):
            dx, dy = np.abs(lat.grid_x - lat.grid_x[g]), np.abs(lat.grid_y - lat.grid_y[g])
            d = dx + dy if metric == "manhattan" else np.hypot(dx, dy)
            assert {gg for _, gg in lat.grids_near(g, r)} == set(np.flatnonzero(d <= r + 1e-9).tolist())


def test_distance_metrics():
    sim_m = govsim.Simulation(scenario(), 0)
    sim_e = govsim.Simulation(scenario(territory={"distance": "euclidean"}), 0)
    rng = np.random.default_rng(3)
    for _ in range(100):
        a, b = (int(v) for v in rng.integers(sim_m.territory.n_points, size=2))
        t = sim_m.territory
        dx, dy = t.point_x[a] - t.point_x[b], t.point_y[a] - t.point_y[b]
        assert sim_m.territory.distance(a, b) == pytest.approx(abs(dx) + abs(dy), abs=1e-9)
        assert sim_e.territory.distance(a, b) == pytest.approx(math.hypot(dx, dy), abs=1e-9)


@pytest.mark.parametrize("copy_of", [lambda x: pickle.loads(pickle.dumps(x)), copy.deepcopy],
                         ids=["pickle", "deepcopy"])
def test_territory_and_route_copies_answer_as_the_originals(copy_of):
    """A district and a route keep their numbers in vecs, which do not pickle: both pickle and
    copy as what they were made from (worker processes, Dask), in the compiled build too."""
    sim = govsim.Simulation(scenario(territory={"distance": "euclidean"}), 0)
    t, route = sim.territory, sim.workers[3].route
    t2, route2 = copy_of(t), copy_of(route)
    assert type(t2) is type(t) and type(route2) is type(route)
    pairs = [(a, b) for a in range(0, t.n_points, 7) for b in range(0, t.n_points, 5)]
    assert [t2.distance(a, b) for a, b in pairs] == [t.distance(a, b) for a, b in pairs]
    assert [t2.grid_of_point(p) for p in range(t.n_points)] == [t.grid_of_point(p) for p in range(t.n_points)]
    assert t2.grids_near(5, 700.0) == t.grids_near(5, 700.0)
    ks = np.arange(200)
    for got, want in zip(route2.visits(ks), route.visits(ks)):
        assert np.array_equal(got, want)
    assert list(route2.points) == list(route.points)
    assert [route2.last_visit(0, h / 7) for h in range(100)] == [route.last_visit(0, h / 7) for h in range(100)]


@pytest.mark.parametrize("kind", ["random_walk", "hotspot"])
def test_random_route_copies_go_on_as_the_originals(kind):
    """A random route's copy has the visits drawn so far and its generator's state: both draw
    the same visits from there (a compiled class pickles only what its ``__reduce__`` says)."""
    sim = govsim.Simulation(scenario(workers={"route": kind}), 0)
    route = sim.workers[2].route
    route.visits(np.arange(100))  # some visits drawn before the copy
    copies = [pickle.loads(pickle.dumps(route)), copy.deepcopy(route)]
    ks = np.arange(3000)  # beyond them: drawn afresh by each
    want = route.visits(ks)
    for route2 in copies:
        assert type(route2) is type(route)
        for got, expected in zip(route2.visits(ks), want):
            assert np.array_equal(got, expected)


# --------------------------------------------------------------------------- routes vs brute force


def _brute_next(points, offsets, point, k_from, lo, hi):
    for k in range(k_from, len(points)):
        if offsets[k] > hi:
            return None
        if points[k] == point and offsets[k] >= lo:
            return k
    raise AssertionError("brute-force horizon too short")


def _brute_last(offsets, k_from, hi):
    k = int(np.searchsorted(offsets, hi, side="right")) - 1
    return max(k, k_from)


def _check_route_queries(route, n_visits, rng, n_queries=400, exact_last=True):
    ks = np.arange(n_visits)
    pts, offs = route.visits(ks)
    pts, offs = pts.tolist(), offs.tolist()
    assert all(b > a for a, b in zip(offs, offs[1:])), "offsets must increase"
    for k in rng.integers(0, n_visits, size=50).tolist():
        assert route.point_at(k) == pts[k]
        assert route.offset(k) == pytest.approx(offs[k], rel=1e-12, abs=1e-12)
    point_set = sorted(set(pts))
    max_off = offs[n_visits // 2]
    for _ in range(n_queries):
        point = int(rng.choice(point_set))
        k_from = int(rng.integers(0, n_visits // 4))
        kind = rng.integers(3)
        if kind == 0:  # random offsets
            lo = float(rng.uniform(0, max_off))
        else:  # exactly on a visit (inclusive bound)
            lo = offs[int(rng.integers(0, n_visits // 2))]
        hi = lo + float(rng.choice([rng.uniform(0, max_off / 4), 0.0])) if kind != 2 else lo
        want = _brute_next(pts, offs, point, k_from, lo, hi)
        got = route.next_visit(point, k_from, lo, hi)
        assert got == want, (point, k_from, lo, hi, got, want)
        # last_visit
        exact = kind != 0 and exact_last
        q = offs[int(rng.integers(0, n_visits // 2))] if exact else float(rng.uniform(0, max_off))
        assert route.last_visit(k_from, q) == _brute_last(offs, k_from, q), (k_from, q)


def test_fixed_cycle_queries_vs_brute_force():
    rng = np.random.default_rng(20260101)
    for _ in range(30):
        L = int(rng.integers(1, 12))
        cycle = rng.integers(0, 6, size=L).tolist()  # points may repeat within a cycle
        steps = rng.uniform(0.01, 1.5, size=L).tolist()
        route = FixedCycle(cycle, steps)
        assert route.period == pytest.approx(sum(steps))
        _check_route_queries(route, 40 * L + 40, rng, n_queries=150, exact_last=False)


def test_fixed_cycle_last_visit_exactly_at_a_visit():
    rng = np.random.default_rng(20260101)
    misses = []
    for _ in range(200):
        L = int(rng.integers(1, 12))
        route = FixedCycle(list(range(L)), rng.uniform(0.01, 1.5, size=L).tolist())
        for k in range(0, 200 * L, max(1, L // 3)):
            if route.last_visit(0, route.offset(k)) != k:
                misses.append((L, k))
    assert misses == []


def test_fixed_cycle_from_scenario_is_the_serpentine_tour():
    sim = govsim.Simulation(scenario(territory={"points_per_grid": 9, "edge_m": 300}), 0)
    w = sim.workers[4]
    route = w.route
    t = sim.territory
    pts = list(t.grid_points(w.grids[0]))
    assert list(route.points) == pts
    # period: dwell at each point plus the closed tour length / speed
    tour = sum(t.distance(a, b) for a, b in zip(pts, pts[1:] + pts[:1]))
    assert route.period == pytest.approx(len(pts) * 2 / 60 + tour / 4000.0, rel=1e-12)
    _check_route_queries(route, 500, np.random.default_rng(5))


@pytest.mark.parametrize("kind", ["random_walk", "hotspot"])
def test_random_routes_queries_vs_generated_sequence(kind):
    sim = govsim.Simulation(scenario(
        workers={"route": kind, "per_grid": 0.5},
        territory={"point_weight": {"dist": "uniform", "low": 0.2, "high": 5}}), 7)
    rng = np.random.default_rng(99)
    cls = RandomWalk if kind == "random_walk" else HotspotWeighted
    for w in sim.workers:
        assert isinstance(w.route, cls)
        # queries before and after the sequence has been generated must agree
        _check_route_queries(w.route, 3000, rng, n_queries=200)
        pts, _ = w.route.visits(np.arange(3000))
        assert set(pts.tolist()) <= set(w.route.points)
        assert np.all(pts[1:] != pts[:-1]), "a random route always moves to another point"


def test_random_walk_steps_to_one_of_four_nearest():
    sim = govsim.Simulation(scenario(workers={"route": "random_walk"}), 3)
    t = sim.territory
    route = sim.workers[0].route
    pts, _ = route.visits(np.arange(2000))
    area = list(route.points)
    for a, b in zip(pts[:-1].tolist(), pts[1:].tolist()):
        ranked = sorted((t.distance(a, q), q) for q in area if q != a)
        assert b in [q for _, q in ranked[:4]]


def test_hotspot_route_visit_frequencies():
    """HotspotWeighted picks the next point j != i with probability w_j / (W - w_i): a
    reversible chain whose stationary law is pi_i ∝ w_i (W - w_i) (not exactly ∝ w_i).
    Frequencies are compared with pi by batch means (4 standard errors from the sample)."""
    sim = govsim.Simulation(scenario(
        workers={"route": "hotspot"}, territory={"points_per_grid": 16,
                                                 "point_weight": {"dist": "uniform", "low": 0.2, "high": 6}}), 1)
    route = sim.workers[0].route
    area = np.array(route.points)
    w = sim.territory.point_weight[area]
    W = w.sum()
    pi = w * (W - w)
    pi /= pi.sum()
    n_batches, per_batch = 40, 2500
    pts, _ = route.visits(np.arange(n_batches * per_batch))
    lookup = np.full(sim.territory.n_points, -1)
    lookup[area] = np.arange(len(area))
    idx = lookup[pts].reshape(n_batches, per_batch)
    assert (idx >= 0).all()
    counts = np.stack([np.bincount(row, minlength=len(area)) / per_batch for row in idx])
    mean = counts.mean(axis=0)
    se = counts.std(axis=0, ddof=1) / math.sqrt(n_batches)
    assert np.all(np.abs(mean - pi) <= 4 * se), (mean, pi, se)
    # and frequency increases with weight (roughly proportional)
    assert np.corrcoef(mean, w / W)[0, 1] > 0.99


# --------------------------------------------------------------------------- escalation and lapse


def test_escalation_raises_priority_at_the_right_time():
    s = scenario(
        horizon="3d",
        channels={"patrol": False},
        categories={"hazard": {"rate": 20, "profile": "flat", "priority": 3,
                               "escalation": {"after": "2h", "priority": 1}},
                    "plain": {"rate": 20, "profile": "flat", "priority": 2}},
    )
    r = govsim.run(s, seed=4)
    df = r.issues
    assert len(df) > 100
    assert (df["status"] == Status.HIDDEN).all()  # nobody finds anything
    hz = df[df["category"] == "hazard"]
    done = hz[hz["created_at"] + 2.0 < r.horizon - 1e-9]
    assert len(done) > 30
    assert np.allclose(done["escalated_at"] - done["created_at"], 2.0, atol=1e-9)
    assert (done["priority"] == 1).all() and (done["initial_priority"] == 3).all()
    late = hz[hz["created_at"] + 2.0 > r.horizon + 1e-9]
    assert late["escalated_at"].isna().all() and (late["priority"] == 3).all()
    plain = df[df["category"] == "plain"]
    assert plain["escalated_at"].isna().all() and (plain["priority"] == 2).all()


def test_no_escalation_after_resolution():
    s = scenario(horizon="1d", channels={"patrol": False},
                 categories={"hazard": {"rate": 0, "priority": 3, "handling": "10min",
                                        "escalation": {"after": "2h", "priority": 1}}})
    sim = govsim.Simulation(s, 0)
    sim.env.run(until=1.0)
    pt = sim.workers[0].pos  # the worker is idle there (patrol disabled)
    issue = Issue(500, 0, sim.territory.grid_of_point(pt), pt, 3, 1.0, INF, 1 / 6)
    sim.issue_arose(issue)
    sim.discover(issue, Channel.REPORT)
    r = sim.run()
    row = r.issues.iloc[0]
    assert row["status"] == Status.RESOLVED and row["resolved_at"] < 3.0
    assert math.isnan(row["escalated_at"]) and row["priority"] == 3


def test_lapse_of_hidden_issue_at_lapse_at():
    s = scenario(horizon="2d", channels={"patrol": False},
                 categories={"vend": {"rate": 30, "profile": "flat",
                                      "lifetime": {"dist": "lognormal", "mean": "2h", "sd": "1h"}}})
    sim = govsim.Simulation(s, 2)
    r = sim.run()
    df = r.issues
    life = sim.plan.lifetime
    lapse_at = sim.plan.time + life
    assert len(df) > 50
    gone = lapse_at <= r.horizon - 1e-9
    assert (df.loc[gone, "status"] == Status.LAPSED).all()
    assert np.allclose(df.loc[gone, "closed_at"], lapse_at[gone], atol=1e-9)
    assert (df.loc[~gone, "status"] == Status.HIDDEN).all()
    assert df["assigned_at"].isna().all()


def test_assigned_issue_does_not_lapse_but_waiting_one_does():
    s = scenario(horizon="1d", territory={"rows": 1, "cols": 2},
                 workers={"per_grid": 0.5}, channels={"patrol": False},
                 categories={"vend": {"rate": 0}},
                 policies={"smart_dispatch": {"radius_m": 5000, "classify_delay": "0s"}})
    sim = govsim.Simulation(s, 0)
    t = sim.territory
    w = sim.workers[0]
    far = max(range(t.n_points), key=lambda p: t.distance(w.pos, p))
    d = t.distance(w.pos, far)
    travel = d / 4000.0
    sim.env.run(until=1.0)
    # lapses during the walk: must not lapse, the worker is on the way
    a = Issue(900, 0, t.grid_of_point(far), far, 3, 1.0, INF, 0.5, lapse_at=1.0 + travel / 2)
    sim.issue_arose(a)
    sim.discover(a, Channel.REPORT)
    sim.env.run(until=1.0 + travel / 4)
    assert a.status == Status.ASSIGNED
    # arrives while the worker is busy: waits, then lapses in the queue
    b = Issue(901, 0, t.grid_of_point(far), far, 3, sim.env.now, INF, 0.1, lapse_at=sim.env.now + 0.2)
    sim.issue_arose(b)
    sim.discover(b, Channel.REPORT)
    sim.env.run(until=b.lapse_at - 1e-6)
    assert b.status == Status.WAITING and sim.board.n_waiting == 1
    r = sim.run()
    assert a.status == Status.RESOLVED
    assert a.arrived_at == pytest.approx(1.0 + travel, abs=1e-9)
    assert a.resolved_at == pytest.approx(1.5 + travel, abs=1e-9)
    assert b.status == Status.LAPSED and b.closed_at == pytest.approx(b.lapse_at, abs=1e-9)
    assert math.isnan(b.assigned_at) and b.handler == -1
    assert sim.board.n_waiting == 0
    assert len(r.issues) == 2


# --------------------------------------------------------------------------- district from CSV


def _write_csv_scenario(tmp_path: Path, extra_yaml: str = "", area_types: str = "") -> Path:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "grids.csv").write_text(textwrap.dedent("""\
        name,x_m,y_m,households,area_type,community,street,points,edge_m
        north,150,150,200,ordinary,c1,s1,4,
        east,450,150,400,old_compound,c1,s1,9,
        south,150,450,300,market_street,c2,s1,,
        far,2150,450,50,old_compound,c3,s2,2,200
        """), encoding="utf-8")
    path = tmp_path / "scen.yaml"
    path.write_text(textwrap.dedent(f"""\
        name: csv_district
        horizon: 2d
        territory:
          grids_csv: data/grids.csv
          points_per_grid: 5
          {area_types}
        workers:
          shifts: [{{start: "08:00", end: "17:00"}}]
        categories:
          garbage:
            rate: 10
        {extra_yaml}
        """), encoding="utf-8")
    return path


def test_district_from_csv_file(tmp_path):
    path = _write_csv_scenario(tmp_path)
    s = govsim.load_scenario(path)
    sim = govsim.Simulation(s, 0)
    t = sim.territory
    assert t.grid_names == ["north", "east", "south", "far"]
    assert t.grid_households.tolist() == [200, 400, 300, 50]
    assert [t.area_types[a] for a in t.grid_area] == ["ordinary", "old_compound", "market_street",
                                                     "old_compound"]
    assert [t.communities[c] for c in t.grid_community] == ["c1", "c1", "c2", "c3"]
    assert [t.streets[c] for c in t.grid_street] == ["s1", "s1", "s1", "s2"]
    assert np.diff(t.grid_first_point).tolist() == [4, 9, 5, 2]
    assert t.grid_edge.tolist() == [300, 300, 300, 200]
    assert t.grid_x.tolist() == [150, 450, 150, 2150]
    r = sim.run()
    assert r.grids["name"].tolist() == ["north", "east", "south", "far"]
    assert r.grids["households"].tolist() == [200, 400, 300, 50]
    assert len(r.workers) == 4
    assert len(r.issues) > 0
    # arrivals are in proportion to households (no area multipliers here): 950 hh * 10/1000/d * 2 d
    assert set(r.issues["grid"]) <= {0, 1, 2, 3}


def test_district_from_csv_with_area_multipliers(tmp_path):
    path = _write_csv_scenario(tmp_path)
    text = path.read_text().replace("rate: 10", "rate: 10\n    area_multipliers: {old_compound: 3}")
    path.write_text(text)
    s = govsim.load_scenario(path)
    sim = govsim.Simulation(s, 0)
    cats = sim.categories
    old = sim.territory.area_types.index("old_compound")
    assert cats.area_multiplier[0, old] == 3.0


def test_district_from_csv_with_area_multipliers_workaround(tmp_path):
    """Listing the CSV's area types under territory.area_types makes the multipliers valid;
    the rate multiplier is then applied: old compounds get 3x the issues per household."""
    path = _write_csv_scenario(
        tmp_path, area_types="area_types: {ordinary: 1, old_compound: 0, market_street: 0}")
    text = path.read_text().replace("rate: 10", "rate: 400\n    area_multipliers: {old_compound: 3}")
    path.write_text(text)
    s = govsim.load_scenario(path, overrides={"horizon": "10d"})
    sim = govsim.Simulation(s, 0)
    old = sim.territory.area_types.index("old_compound")
    assert sim.categories.area_multiplier[0, old] == 3.0
    r = sim.run()
    counts = r.issues["grid"].value_counts().reindex(range(4), fill_value=0).to_numpy()
    hh = np.array([200, 400, 300, 50]) * np.array([1, 3, 1, 3])
    expected = 400 / 1000 * 10 * hh
    # Poisson counts: 4 standard errors
    assert np.all(np.abs(counts - expected) <= 4 * np.sqrt(expected)), (counts, expected)


def test_csv_missing_file_is_a_scenario_error(tmp_path):
    path = tmp_path / "scen.yaml"
    path.write_text("territory: {grids_csv: nope.csv}\ncategories: {x: {rate: 1}}\n")
    s = govsim.load_scenario(path)
    with pytest.raises(govsim.ScenarioError, match="nope.csv"):
        govsim.Simulation(s, 0)


# --------------------------------------------------------------------------- a study's own route


def test_a_route_defined_in_a_study_runs_and_gives_the_built_in_answer() -> None:
    """A route class written in a study (a subclass of PatrolRoute, here delegating to a fixed
    cycle) plugs in by name and runs; with the compiled build the base class is compiled and
    the subclass interpreted (tests/test_compiled.py runs this module against it)."""
    from govsim.policies.routes import ROUTES, PatrolRoute, fixed_cycle, register_route

    class Delegating(PatrolRoute):
        def __init__(self, inner: PatrolRoute) -> None:
            self.inner = inner

        def point_at(self, k):
            return self.inner.point_at(k)

        def offset(self, k):
            return self.inner.offset(k)

        def next_visit(self, point, k_from, min_offset, max_offset):
            return self.inner.next_visit(point, k_from, min_offset, max_offset)

        def last_visit(self, k_from, max_offset):
            return self.inner.last_visit(k_from, max_offset)

        def visits(self, ks):
            return self.inner.visits(ks)

        @property
        def points(self):
            return self.inner.points

    @register_route("study_delegating")
    def study_delegating(territory, points, speed_kmh, dwell_h, rng):
        return Delegating(fixed_cycle(territory, points, speed_kmh, dwell_h, rng))

    try:
        sc = govsim.load_scenario("scenarios/smart_dispatch.yaml", overrides={"horizon": "3d"})
        mine = govsim.run(sc, seed=4, overrides={"workers.route": "study_delegating"}).summary()
        built_in = govsim.run(sc, seed=4).summary()
    finally:
        del ROUTES["study_delegating"]
    assert mine.equals(built_in)
