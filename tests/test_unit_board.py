"""The work board (派单台), unit by unit: queues, free-worker search, assignment.

Every case is a hand-built district small enough to work out by hand: grids on a
line (y = 0), one patrol point per grid at its centre, patrol switched off so that
workers stand still where they are, no resident reports and no arrivals. Issues are
made by hand and put on the board directly, without a dispatch policy deciding
anything. Distances are Manhattan; walking speed 4 km/h (4,000 m/h).
"""

from __future__ import annotations

import math

import pytest

import govsim
from govsim import Issue, Status

INF = math.inf
SPEED = 4.0  # km/h

# Six grids on a line; with per_grid 0.5 three workers, each responsible for two grids
# and standing on the first of them:
#   worker 0: grids 0, 1 at x = 0;  worker 1: grids 2, 3 at x = 2600;  worker 2: grids 4, 5 at x = 3300.
LINE_X = [0, 2000, 2600, 3000, 3300, 5000]


def board_sim(*, xs=(0,), per_grid=1, points_per_grid=1, edge_m=200, categories=None,
              workers_categories=None):
    """A simulation whose workers all stand free (idle, patrol off) at t = 1 h."""
    workers = {"per_grid": per_grid, "shifts": [{"start": "00:00", "end": "24:00"}],
               "speed_kmh": SPEED, "dwell": "1min"}
    if workers_categories is not None:
        workers["categories"] = workers_categories
    s = govsim.load_scenario({
        "name": "board",
        "horizon": "2d",
        "territory": {"grids": [{"x_m": x, "y_m": 0, "households": 100} for x in xs],
                      "points_per_grid": points_per_grid, "edge_m": edge_m},
        "workers": workers,
        "channels": {"patrol": False, "reports": {"enabled": False}, "sensors": {"enabled": False}},
        "categories": categories or {"x": {"rate": 0}},
        "policy": "smart_dispatch",
    })
    sim = govsim.Simulation(s, 0)
    sim.env.run(until=1.0)
    assert sim.board.n_free == len(sim.workers)
    return sim


def make_issue(sim, id, grid, *, priority=3, category=0, point=None, handling=0.25):
    """An issue created now, at ``point`` (default: the grid's first patrol point)."""
    if point is None:
        point = int(sim.territory.grid_first_point[grid])
    return Issue(id=id, category=category, grid=grid, point=point, priority=priority,
                 created_at=sim.env.now, deadline_at=INF, handling_time=handling)


def at(sim, t):
    """Advance the clock to ``t`` hours (already there: nothing to do)."""
    if t != sim.env.now:
        sim.env.run(until=t)


def drain(board, worker, grids, radius_m=INF):
    """Ids of the issues best_waiting hands out, in order, until it has none."""
    out = []
    while (issue := board.best_waiting(worker, grids, radius_m)) is not None:
        out.append(issue.id)
        assert len(out) < 50, "best_waiting keeps handing out issues"
    return out


# --------------------------------------------------------------------------- waiting queues


def test_best_waiting_orders_by_priority_then_time_queued_then_id():
    sim = board_sim()
    board, w = sim.board, sim.workers[0]
    at(sim, 1.0)
    a = make_issue(sim, 7, 0, priority=3)
    b = make_issue(sim, 5, 0, priority=3)
    board.enqueue(a)
    board.enqueue(b)
    at(sim, 2.0)
    c = make_issue(sim, 9, 0, priority=2)
    d = make_issue(sim, 1, 0, priority=3)
    board.enqueue(c)
    board.enqueue(d)
    at(sim, 3.0)
    e = make_issue(sim, 8, 0, priority=1)
    board.enqueue(e)
    assert board.n_waiting == 5
    assert all(i.status == Status.WAITING for i in (a, b, c, d, e))
    assert (a.queued_at, c.queued_at, e.queued_at) == (1.0, 2.0, 3.0)
    # priority 1, then 2, then the three of priority 3: the two queued at 1.0 (id 5 before
    # id 7, whatever the order they were queued in), then the one queued at 2.0
    assert drain(board, w, [0]) == [8, 9, 5, 7, 1]


def test_best_waiting_compares_across_the_grids_given_and_only_those():
    sim = board_sim(xs=[0, 200, 400])
    board, w = sim.board, sim.workers[1]
    at(sim, 1.0)
    board.enqueue(make_issue(sim, 1, 0, priority=3))
    board.enqueue(make_issue(sim, 2, 2, priority=2))
    at(sim, 1.5)
    board.enqueue(make_issue(sim, 3, 0, priority=2))
    board.enqueue(make_issue(sim, 4, 1, priority=3))
    assert drain(board, w, [1]) == [4]
    assert drain(board, w, [0, 2]) == [2, 3, 1]


def test_best_waiting_with_nothing_waiting_is_none():
    sim = board_sim(xs=[0, 200])
    assert sim.board.n_waiting == 0
    assert sim.board.best_waiting(sim.workers[0], [0, 1]) is None


def test_reprioritised_issue_moves_up_and_keeps_its_time_queued():
    sim = board_sim()
    board, w = sim.board, sim.workers[0]
    at(sim, 1.0)
    old = make_issue(sim, 1, 0, priority=3)
    board.enqueue(old)
    at(sim, 2.0)
    urgent = make_issue(sim, 2, 0, priority=2)
    board.enqueue(urgent)
    at(sim, 3.0)
    mid = make_issue(sim, 3, 0, priority=3)
    board.enqueue(mid)
    at(sim, 4.0)
    old.priority = 2  # escalated: now level with `urgent`, but queued an hour earlier
    board.reprioritise(old)
    assert board.n_waiting == 3
    assert old.queued_at == 1.0
    # the stale priority-3 entry of `old` is never handed out a second time
    assert drain(board, w, [0]) == [1, 2, 3]


def test_withdrawn_issue_is_skipped_and_no_longer_counted():
    sim = board_sim(xs=[0, 200, 400])
    board, w = sim.board, sim.workers[0]
    at(sim, 1.0)
    a = make_issue(sim, 1, 0, priority=1)
    b = make_issue(sim, 2, 0, priority=2)
    c = make_issue(sim, 3, 2, priority=3)
    for i in (a, b, c):
        board.enqueue(i)
    assert board.n_waiting == 3
    assert sorted(board.waiting_among(frozenset({0, 1, 2}))) == [0, 2]
    board.withdraw(a)  # the head of grid 0's queue lapses
    board.withdraw(c)  # the only issue of grid 2
    assert board.n_waiting == 1
    assert board.waiting_among(frozenset({0, 1, 2})) == [0]
    assert drain(board, w, [0, 1, 2]) == [2]


def test_withdrawing_an_issue_that_is_not_waiting_changes_no_count():
    sim = board_sim()
    board = sim.board
    a = make_issue(sim, 1, 0)
    board.enqueue(a)
    b = make_issue(sim, 2, 0)
    b.status = Status.REPORTED  # known, still in a report chain: never queued
    board.withdraw(b)
    assert board.n_waiting == 1
    assert board.waiting_among(frozenset({0})) == [0]


def test_waiting_among_returns_the_given_grids_that_have_waiting_issues():
    sim = board_sim(xs=LINE_X, per_grid=0.5)
    board = sim.board
    assert board.waiting_among(frozenset(range(6))) == []
    board.enqueue(make_issue(sim, 1, 1))
    board.enqueue(make_issue(sim, 2, 4))
    board.enqueue(make_issue(sim, 3, 4))
    # more grids asked than waiting, and fewer: both give the intersection
    assert sorted(board.waiting_among(frozenset(range(6)))) == [1, 4]
    assert board.waiting_among(frozenset({4})) == [4]
    assert board.waiting_among(frozenset({0, 2, 3, 5})) == []
    assert board.n_waiting == 3


def test_best_waiting_skips_a_head_the_worker_cannot_handle():
    cats = {"x": {"rate": 0}, "y": {"rate": 0}}
    sim = board_sim(categories=cats, workers_categories=["x"])
    board, w = sim.board, sim.workers[0]
    assert w.skills == [True, False]
    at(sim, 1.0)
    y = make_issue(sim, 1, 0, priority=1, category=1)
    xa = make_issue(sim, 2, 0, priority=3, category=0)
    board.enqueue(y)
    board.enqueue(xa)
    at(sim, 2.0)
    xb = make_issue(sim, 3, 0, priority=2, category=0)
    board.enqueue(xb)
    assert drain(board, w, [0]) == [3, 2]
    # the unqualified head is still there for someone else
    assert y.status == Status.WAITING
    assert board.waiting_among(frozenset({0})) == [0]


def test_best_waiting_within_a_radius_takes_the_reachable_issue_once():
    # one 400 m grid, 4 points: p0 (-100,-100), p1 (100,-100), p2 (100,100), p3 (-100,100)
    # around the centre (0, 0); its worker stands on p0
    sim = board_sim(points_per_grid=4, edge_m=400)
    board, w = sim.board, sim.workers[0]
    terr = sim.territory
    assert w.position() == 0
    assert (terr.distance(0, 1), terr.distance(0, 2)) == (200, 400)
    at(sim, 1.0)
    far = make_issue(sim, 1, 0, point=2)
    board.enqueue(far)
    at(sim, 1.5)
    near = make_issue(sim, 2, 0, point=1)
    board.enqueue(near)
    assert board.best_waiting(w, [0], 250) is near  # the older one is out of reach
    assert board.best_waiting(w, [0], 250) is None  # `near` is gone, `far` still out of reach
    assert board.best_waiting(w, [0], 400) is far  # the radius is inclusive
    assert board.best_waiting(w, [0]) is None


# --------------------------------------------------------------------------- assignment


def test_assign_takes_the_issue_off_the_queue_and_sends_the_worker():
    sim = board_sim(xs=LINE_X, per_grid=0.5)
    board = sim.board
    w1 = sim.workers[1]  # grids 2, 3, standing at x = 2600
    at(sim, 1.0)
    issue = make_issue(sim, 1, 3, handling=0.25)  # x = 3000: 400 m away
    board.enqueue(issue)
    assert (board.n_waiting, board.n_free) == (1, 3)
    board.assign(issue, w1)
    assert issue.status == Status.ASSIGNED
    assert (issue.assigned_at, issue.handler) == (1.0, 1)
    assert (board.n_waiting, board.n_free) == (0, 2)
    assert board.waiting_among(frozenset(range(6))) == []
    assert not w1.free
    assert board.nearest_free(issue, INF) is not w1
    at(sim, 2.0)
    assert issue.status == Status.RESOLVED
    assert issue.arrived_at == pytest.approx(1.0 + 400 / 4000)
    assert issue.resolved_at == pytest.approx(1.0 + 400 / 4000 + 0.25)
    # free again, where it handled the issue (patrol is off: it stays there)
    assert w1.free and board.n_free == 3
    assert w1.position() == 3


# --------------------------------------------------------------------------- nearest free worker


def test_nearest_free_within_radius_inclusive():
    sim = board_sim(xs=LINE_X, per_grid=0.5)
    board = sim.board
    assert [w.position() for w in sim.workers] == [0, 2, 4]
    i3 = make_issue(sim, 1, 3)  # x = 3000: worker 1 at 400 m, worker 2 at 300 m, worker 0 at 3000 m
    assert board.nearest_free(i3, 1500).id == 2
    assert board.nearest_free(i3, 300).id == 2
    assert board.nearest_free(i3, 299.9) is None
    i5 = make_issue(sim, 2, 5)  # x = 5000: worker 2 at 1700 m
    assert board.nearest_free(i5, 1500) is None
    assert board.nearest_free(i5, 1700).id == 2
    i0 = make_issue(sim, 3, 0)
    assert board.nearest_free(i0, INF).id == 0


def test_nearest_free_own_grid_only_takes_the_grids_own_worker_even_if_farther():
    sim = board_sim(xs=LINE_X, per_grid=0.5)
    board = sim.board
    i1 = make_issue(sim, 1, 1)  # x = 2000: worker 1 at 600 m; worker 0 (its own) at 2000 m
    assert board.nearest_free(i1, 1500).id == 1
    assert board.nearest_free(i1, INF, own_grid_only=True).id == 0
    assert board.nearest_free(i1, 1500, own_grid_only=True) is None
    assert board.nearest_free(i1, 2000, own_grid_only=True).id == 0


def test_nearest_free_skips_busy_and_unqualified_workers():
    cats = {"x": {"rate": 0}, "y": {"rate": 0}}
    sim = board_sim(xs=LINE_X, per_grid=0.5, categories=cats)
    board = sim.board
    # workers.categories applies to every worker: give each its own skills by hand
    sim.workers[0].skills = [True, False]
    sim.workers[1].skills = [True, False]
    sim.workers[2].skills = [False, True]  # worker 2 alone handles "y"
    x3 = make_issue(sim, 1, 3, category=0)
    y3 = make_issue(sim, 2, 3, category=1)
    assert board.nearest_free(x3, 1500).id == 1  # worker 2 (300 m) is not qualified
    assert board.nearest_free(y3, 1500).id == 2
    job = make_issue(sim, 3, 4, category=1, handling=5.0)
    board.assign(job, sim.workers[2])
    assert board.nearest_free(y3, 1500) is None  # the only qualified worker is busy
    assert board.nearest_free(y3, INF, own_grid_only=True) is None
    # a false alarm (category -1): any grid worker
    alarm = Issue(id=4, category=-1, grid=5, point=5, priority=3, created_at=1.0, deadline_at=INF,
                  handling_time=0.1, false_alarm=True)
    assert board.nearest_free(alarm, INF).id == 1


def test_nearest_free_with_no_free_worker_is_none():
    sim = board_sim(xs=[0, 200], per_grid=1)
    board = sim.board
    for k, w in enumerate(sim.workers):
        board.assign(make_issue(sim, 100 + k, k, handling=5.0), w)
    assert board.n_free == 0
    issue = make_issue(sim, 1, 0)
    assert board.nearest_free(issue, INF) is None
    assert board.nearest_free(issue, INF, own_grid_only=True) is None


def test_nearest_free_ties_go_to_the_lowest_id_whatever_the_order_of_freeing():
    # one 400 m grid, 4 points; two workers spread around its cycle: worker 0 on p0, worker 1 on p2
    sim = board_sim(points_per_grid=4, edge_m=400, per_grid=2)
    board = sim.board
    w0, w1 = sim.workers
    assert (w0.position(), w1.position()) == (0, 2)
    # worker 0 handles a job where it stands and becomes free again after worker 1
    board.assign(make_issue(sim, 100, 0, point=0, handling=0.5), w0)
    at(sim, 2.0)
    assert w0.free and w0.position() == 0
    assert list(board.free_in_grid[0]) == [1, 0]  # worker 1 is now met first
    issue = make_issue(sim, 1, 0, point=1)  # p1: 200 m from p0 and from p2
    assert board.nearest_free(issue, INF).id == 0
    assert board.nearest_free(issue, INF, own_grid_only=True).id == 0
    other = make_issue(sim, 2, 0, point=2)
    assert board.nearest_free(other, INF).id == 1


def test_worker_standing_outside_its_grids_is_found_there_but_is_not_the_grids_own():
    sim = board_sim(xs=LINE_X, per_grid=0.5)
    board = sim.board
    w1 = sim.workers[1]  # grids 2, 3
    job = make_issue(sim, 100, 5, handling=0.25)  # x = 5000: 2400 m from x = 2600
    board.assign(job, w1)
    at(sim, 2.0)
    assert job.resolved_at == pytest.approx(1.0 + 2400 / 4000 + 0.25)
    assert w1.free and w1.position() == 5
    i5 = make_issue(sim, 1, 5)
    # nearest of all: worker 1, on the spot (worker 2, the grid's own, is 1700 m away)
    assert board.nearest_free(i5, 1500).id == 1
    assert board.nearest_free(i5, INF, own_grid_only=True).id == 2
    i3 = make_issue(sim, 2, 3)  # x = 3000: worker 2 at 300 m; worker 1, its own, now 2000 m away
    assert board.nearest_free(i3, 1500).id == 2
    assert board.nearest_free(i3, INF, own_grid_only=True).id == 1
