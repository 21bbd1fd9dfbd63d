"""Agents, unit by unit: shifts and weekly hours, a grid worker's day, service stations,
the patrol watch. Every expected time below is worked out by hand in the comments.

Time is in hours from Monday 00:00 (day d is weekday d % 7, 0 = Monday).
"""

from __future__ import annotations

import math
import zlib

import numpy as np
import pytest

import govsim
from govsim import Channel, Issue, Status
from govsim.agents.stations import TURNED_AWAY, ServerGroup, server_groups
from govsim.agents.workers import HANDLE, IDLE, TRAVEL, GridWorker, Shift
from govsim.distributions import Fixed
from govsim.schedule import WeeklyHours

INF = math.inf
WEEKDAYS_ONLY = range(5)


def approx_rows(rows):
    """Rows (tuples of numbers) compared approximately, one tuple at a time (pytest.approx
    takes no nested structures)."""
    return [pytest.approx(tuple(r)) for r in rows]


def make_issue(id, grid=0, point=0, *, category=0, priority=3, created_at=0.0, handling=0.5,
               lapse_at=INF):
    return Issue(id=id, category=category, grid=grid, point=point, priority=priority,
                 created_at=created_at, deadline_at=INF, handling_time=handling, lapse_at=lapse_at)


def at(sim, t):
    """Advance the clock to ``t`` hours (already there: nothing to do)."""
    if t != sim.env.now:
        sim.env.run(until=t)


def as_lists(table):
    """A recorder table as plain lists (holding the recorder's arrays would block its appends)."""
    return {name: col.tolist() for name, col in table.items()}


# --------------------------------------------------------------------------- shifts, weekly hours


def test_day_shift_window_in_progress_or_next():
    shift = Shift(8, 17, WEEKDAYS_ONLY)
    assert shift.window(0.0) == (8.0, 17.0)  # Monday night: the coming morning's
    assert shift.window(8.0) == (8.0, 17.0)  # opens at 8:00 sharp
    assert shift.window(16.99) == (8.0, 17.0)
    assert shift.window(17.0) == (32.0, 41.0)  # closed at 17:00: Tuesday's
    assert shift.window(4 * 24 + 12) == (104.0, 113.0)  # Friday noon
    assert shift.window(4 * 24 + 17) == (176.0, 185.0)  # Friday evening: Monday of week 2
    assert shift.window(6 * 24 + 23) == (176.0, 185.0)  # Sunday night
    assert shift.window(14 * 24 + 9) == (344.0, 353.0)  # Monday of week 3, 9:00


def test_day_shift_on_some_weekdays_only():
    weekend = Shift(9, 12, [5, 6])
    assert weekend.window(0.0) == (129.0, 132.0)  # Saturday 9:00–12:00
    assert weekend.window(130.0) == (129.0, 132.0)
    assert weekend.window(132.0) == (153.0, 156.0)  # Sunday
    assert weekend.window(156.0) == (297.0, 300.0)  # the next Saturday


def test_overnight_shift_runs_past_midnight():
    night = Shift(22, 6)  # every day, 22:00–06:00
    assert (night.start, night.length) == (22.0, 8.0)
    # the run starts on Monday 00:00 in the middle of Sunday night's shift
    assert night.window(0.0) == (-2.0, 6.0)
    assert night.window(6.0) == (22.0, 30.0)
    assert night.window(23.0) == (22.0, 30.0)
    assert night.window(29.5) == (22.0, 30.0)  # Tuesday 05:30, still Monday night's shift


def test_overnight_shift_starting_on_weekdays_only():
    night = Shift(22, 6, WEEKDAYS_ONLY)  # Monday night ... Friday night
    assert night.window(0.0) == (22.0, 30.0)  # no Sunday-night shift runs into Monday
    assert night.window(4 * 24 + 23) == (118.0, 126.0)  # Friday night, ends Saturday 06:00
    assert night.window(125.0) == (118.0, 126.0)
    assert night.window(126.0) == (190.0, 198.0)  # next: Monday night of week 2


def test_round_the_clock_shift():
    day = Shift(0, 24)
    assert day.length == 24.0
    assert day.window(0.0) == (0.0, 24.0)
    assert day.window(30.0) == (24.0, 48.0)
    assert Shift(8, 8).length == 24.0  # equal ends: a full day from 8:00


def test_weekly_hours_open_and_closed():
    office = WeeklyHours(9, 17, WEEKDAYS_ONLY)
    assert [office.is_open(t) for t in (8.99, 9.0, 12.0, 16.99, 17.0)] == [False, True, True, True, False]
    assert not office.is_open(5 * 24 + 10)  # Saturday 10:00
    night = WeeklyHours(22, 6, WEEKDAYS_ONLY)
    assert night.is_open(4 * 24 + 23) and night.is_open(5 * 24 + 5)  # Friday 23:00, Saturday 05:00
    assert not night.is_open(5 * 24 + 23)  # Saturday 23:00
    assert not night.is_open(1.0)  # Monday 01:00: no shift on Sunday night


def test_weekly_hours_between_two_times():
    office = WeeklyHours(9, 17, WEEKDAYS_ONLY)
    assert office.hours_between(0.0, 168.0) == 40.0
    assert office.hours_between(10.0, 40.0) == 7.0 + 7.0  # Monday 10–17, Tuesday 9–16
    assert office.hours_between(17.0, 33.0) == 0.0
    assert office.hours_between(0.0, 2 * 168.0) == 80.0
    assert office.hours_between(5.0, 5.0) == 0.0
    night = WeeklyHours(22, 6, WEEKDAYS_ONLY)
    assert night.hours_between(0.0, 24.0) == 2.0  # Monday 22–24
    assert night.hours_between(0.0, 168.0) == 40.0
    assert night.hours_between(119.0, 125.0) == 6.0  # inside Friday night's shift


def test_weekly_hours_need_a_day():
    with pytest.raises(ValueError, match="at least one day"):
        WeeklyHours(9, 17, [])


# --------------------------------------------------------------------------- grid workers


def worker_sim(*, shift=("08:00", "17:00"), days=("mon", "tue", "wed", "thu", "fri"), categories=None):
    """One 400 m grid with 4 patrol points and one worker, patrol off (it stands still).

    Points (Manhattan metres): p0 (100, 100), p1 (300, 100), p2 (300, 300), p3 (100, 300);
    at 4 km/h, 200 m take 0.05 h and 400 m 0.1 h.
    """
    s = govsim.load_scenario({
        "name": "worker",
        "horizon": "3d",
        "territory": {"rows": 1, "cols": 1, "edge_m": 400, "points_per_grid": 4, "households": 100},
        "workers": {"per_grid": 1, "shifts": [{"start": shift[0], "end": shift[1], "days": list(days)}],
                    "speed_kmh": 4.0, "dwell": "1min"},
        "channels": {"patrol": False, "reports": {"enabled": False}, "sensors": {"enabled": False}},
        "categories": categories or {"x": {"rate": 0}},
        "policy": "smart_dispatch",
    })
    sim = govsim.Simulation(s, 0)
    assert sim.territory.distance(0, 2) == 400 and sim.territory.distance(0, 1) == 200
    return sim


def test_can_handle_a_grid_worker_by_skill_and_any_false_alarm():
    sim = worker_sim(categories={"x": {"rate": 0}, "y": {"rate": 0}})
    w = sim.workers[0]
    w.skills = [True, False]
    assert w.can_handle(make_issue(1, category=0))
    assert not w.can_handle(make_issue(2, category=1))
    assert w.can_handle(make_issue(3, category=-1))  # a false alarm
    assert w.can_handle(make_issue(4, grid=7, category=0))  # a grid worker is not tied to its grids


def test_can_handle_a_responder_only_its_categories_in_its_grids():
    sim = worker_sim(categories={"x": {"rate": 0}, "y": {"rate": 0}})
    base = sim.workers[0]
    volunteer = GridWorker(sim, 1, (0,), base.shift, 0, base.route, 0, 4.0, [True, False],
                           kind="volunteer", patrols=False)
    assert volunteer.can_handle(make_issue(1, grid=0, category=0))
    assert not volunteer.can_handle(make_issue(2, grid=0, category=1))
    assert not volunteer.can_handle(make_issue(3, grid=1, category=0))  # outside its grids
    assert not volunteer.can_handle(make_issue(4, grid=0, category=-1))  # false alarms: grid workers only


def test_a_workers_day_travel_handle_overtime_and_time_use():
    sim = worker_sim()
    w = sim.workers[0]
    at(sim, 7.0)
    assert not w.free  # before the shift
    at(sim, 9.0)
    assert w.free and w.position() == 0
    first = make_issue(1, point=2, created_at=9.0, handling=1.0)
    sim.board.assign(first, w)  # 400 m: arrives 9.1, done 10.1
    at(sim, 16.5)
    assert w.free and w.position() == 2  # patrol off: it waits where it finished
    late = make_issue(2, point=0, created_at=16.5, handling=1.0)
    sim.board.assign(late, w)  # 400 m: arrives 16.6, done 17.6, past the end of the shift
    at(sim, 30.0)
    assert (first.arrived_at, first.resolved_at) == pytest.approx((9.1, 10.1))
    assert (late.arrived_at, late.resolved_at) == pytest.approx((16.6, 17.6))
    assert first.status == late.status == Status.RESOLVED
    assert first.handler == late.handler == 0
    assert w.n_handled == 2
    assert not w.free  # Monday night: off shift
    use = as_lists(sim.records.time_uses())
    assert use["worker"] == [0] * 6
    assert use["state"] == [IDLE, TRAVEL, HANDLE, IDLE, TRAVEL, HANDLE]
    np.testing.assert_allclose(use["start"], [8.0, 9.0, 9.1, 10.1, 16.5, 16.6])
    np.testing.assert_allclose(use["end"], [9.0, 9.1, 10.1, 16.5, 16.6, 17.6])


def test_a_worker_starts_its_next_shift_on_its_route():
    sim = worker_sim()
    w = sim.workers[0]
    at(sim, 9.0)
    sim.board.assign(make_issue(1, point=2, created_at=9.0, handling=1.0), w)
    at(sim, 16.0)
    assert w.position() == 2
    at(sim, 32.5)  # Tuesday 08:30
    assert w.free and w.position() == 0  # back at the route's next point (p0), no walk modelled
    use = as_lists(sim.records.time_uses())
    assert use["state"][-1] == IDLE
    assert use["end"][-1] == 17.0  # Monday's idle stretch ends with the shift


# --------------------------------------------------------------------------- service stations


class Log:
    """The ``done`` callback of a station: remembers who finished, when."""

    def __init__(self, sim):
        self.sim = sim
        self.rows = []

    def __call__(self, issue, station, arrived, started):
        self.rows.append((issue.id, arrived, started, self.sim.env.now))


def station_sim():
    return worker_sim(days=("mon", "tue", "wed", "thu", "fri", "sat", "sun"))


def add_station(sim, groups, service=1.0, queue_limit=None):
    log = Log(sim)
    st = sim.add_station(name="room", kind="mediation", groups=groups, service=Fixed(service),
                         stream="test/room", done=log, queue_limit=queue_limit)
    return st, log


def submit_at(sim, st, t, issue_id, priority=3, expect=True):
    at(sim, t)
    assert st.submit(make_issue(issue_id, created_at=t), priority) is expect


def visits(sim):
    v = as_lists(sim.records.station_visits())
    return list(zip(v["issue_id"], v["arrived"], v["started"], v["ended"]))


def test_server_groups():
    assert server_groups(0, None, "staff") == []
    assert server_groups(-1, None, "staff") == []
    assert server_groups(2, None, "mediators") == [ServerGroup(2, None, "mediators")]

    class Hours:  # anything with .weekly(), as the scenario's hours entries
        def __init__(self, start, end):
            self.start, self.end = start, end

        def weekly(self):
            return WeeklyHours(self.start, self.end)

    groups = server_groups(3, [Hours(9, 12), Hours(14, 18)], "volunteers")
    assert [(g.count, g.label) for g in groups] == [(3, "volunteers"), (3, "volunteers")]
    assert [g.hours.window(0.0) for g in groups] == [(9.0, 12.0), (14.0, 18.0)]


def test_one_server_fixed_service_hand_trace():
    # one server always on duty, 1 h per job; arrivals at 0, 0.5, 0.6, 3.0, 3.5
    sim = station_sim()
    st, log = add_station(sim, [ServerGroup(1)])
    assert st.capacity == 1
    for t, i in [(0.0, 1), (0.5, 2), (0.6, 3), (3.0, 4), (3.5, 5)]:
        submit_at(sim, st, t, i)
    assert (st.busy, len(st.queue)) == (1, 1)  # job 4 in service, job 5 waiting
    at(sim, 10.0)
    st.close_books()  # brings the time integrals up to 10.0
    want = [(1, 0.0, 0.0, 1.0), (2, 0.5, 1.0, 2.0), (3, 0.6, 2.0, 3.0), (4, 3.0, 3.0, 4.0),
            (5, 3.5, 4.0, 5.0)]
    assert log.rows == approx_rows(want)
    assert visits(sim) == approx_rows(want)
    # time integrals: waits 0.5 + 1.4 + 0.5 in queue; 5 h of service; 10 h on duty
    assert st.queue_area == pytest.approx(2.4)
    assert st.busy_area == pytest.approx(5.0)
    assert st.capacity_area == pytest.approx(10.0)
    assert (st.busy, len(st.queue)) == (0, 0)


def test_waiting_jobs_by_priority_then_first_come():
    sim = station_sim()
    st, log = add_station(sim, [ServerGroup(1)])
    submit_at(sim, st, 0.0, 1, priority=3)  # served at once, until 1.0
    submit_at(sim, st, 0.1, 2, priority=3)
    submit_at(sim, st, 0.2, 3, priority=2)
    submit_at(sim, st, 0.3, 4, priority=3)
    submit_at(sim, st, 0.3, 5, priority=2)
    submit_at(sim, st, 0.4, 6, priority=1)
    at(sim, 10.0)
    assert [r[0] for r in log.rows] == [1, 6, 3, 5, 2, 4]
    assert [r[2] for r in log.rows] == pytest.approx([0.0, 1.0, 2.0, 3.0, 4.0, 5.0])


def test_two_servers_share_the_queue():
    sim = station_sim()
    st, log = add_station(sim, [ServerGroup(2)], service=1.0)
    for t, i in [(0.0, 1), (0.0, 2), (0.25, 3), (0.5, 4), (1.75, 5)]:
        submit_at(sim, st, t, i)
    at(sim, 10.0)
    # jobs 1, 2 start at 0; job 3 when the first ends (1.0), job 4 at 1.0 too; job 5 at 2.0
    assert sorted(log.rows) == approx_rows([(1, 0.0, 0.0, 1.0), (2, 0.0, 0.0, 1.0), (3, 0.25, 1.0, 2.0),
                                              (4, 0.5, 1.0, 2.0), (5, 1.75, 2.0, 3.0)])


def test_full_queue_turns_jobs_away():
    sim = station_sim()
    st, log = add_station(sim, [ServerGroup(1)], queue_limit=1)
    submit_at(sim, st, 0.0, 1)  # in service until 1.0
    submit_at(sim, st, 0.2, 2)  # waits: the queue is now full
    submit_at(sim, st, 0.4, 3, expect=False)  # turned away
    submit_at(sim, st, 1.5, 4)  # job 2 in service, queue empty again: waits
    submit_at(sim, st, 1.6, 5, expect=False)
    at(sim, 10.0)
    st.close_books()
    assert [r[0] for r in log.rows] == [1, 2, 4]
    # recorded as they happen: a refusal at once, a session when it ends
    assert visits(sim) == approx_rows([
        (3, 0.4, TURNED_AWAY, TURNED_AWAY),
        (1, 0.0, 0.0, 1.0),
        (5, 1.6, TURNED_AWAY, TURNED_AWAY),
        (2, 0.2, 1.0, 2.0),
        (4, 1.5, 2.0, 3.0),
    ])
    assert st.queue_area == pytest.approx(0.8 + 0.5)


def test_zero_queue_limit_serves_only_when_a_server_is_free():
    sim = station_sim()
    st, log = add_station(sim, [ServerGroup(1)], queue_limit=0)
    submit_at(sim, st, 0.0, 1)
    submit_at(sim, st, 0.5, 2, expect=False)
    submit_at(sim, st, 1.25, 3)  # job 1 ended at 1.0: the server is free
    at(sim, 5.0)
    assert [(r[0], r[2]) for r in log.rows] == [(1, 0.0), (3, 1.25)]
    assert [v[0] for v in visits(sim)] == [2, 1, 3]


def test_office_hours_no_session_starts_while_closed_one_started_finishes():
    # one mediator on weekdays 9:00–17:00, 2 h per session
    sim = station_sim()
    st, log = add_station(sim, [ServerGroup(1, WeeklyHours(9, 17, WEEKDAYS_ONLY))], service=2.0)
    assert st.capacity == 0  # Monday 00:00: closed
    submit_at(sim, st, 0.0, 1)  # waits for opening: 9–11
    submit_at(sim, st, 16.5, 2)  # starts at once, runs over closing time: 16.5–18.5
    submit_at(sim, st, 16.9, 3)  # waits for Tuesday 9:00 = 33: 33–35
    submit_at(sim, st, 17.5, 4)  # after it: 35–37
    at(sim, 40.0)
    st.close_books()
    assert log.rows == approx_rows([(1, 0.0, 9.0, 11.0), (2, 16.5, 16.5, 18.5), (3, 16.9, 33.0, 35.0),
                                      (4, 17.5, 35.0, 37.0)])
    assert st.capacity == 1
    # busy 2 + 2 + 4 h; on duty 9–17 and 33–40, plus the 1.5 h session overrunning closing time
    assert st.busy_area == pytest.approx(8.0)
    assert st.capacity_area == pytest.approx(8.0 + 1.5 + 7.0)
    # waiting: job 1 0–9, job 3 16.9–33, job 4 17.5–35
    assert st.queue_area == pytest.approx(9.0 + 16.1 + 17.5)


def test_opening_starts_as_many_sessions_as_servers_come_on_duty():
    # two mediators from 9:00; three jobs waiting overnight; 1 h each
    sim = station_sim()
    st, log = add_station(sim, [ServerGroup(2, WeeklyHours(9, 17))], service=1.0)
    for t, i in [(1.0, 1), (2.0, 2), (3.0, 3)]:
        submit_at(sim, st, t, i)
    at(sim, 9.5)
    assert (st.capacity, st.busy, len(st.queue)) == (2, 2, 1)
    at(sim, 12.0)
    assert log.rows == approx_rows([(1, 1.0, 9.0, 10.0), (2, 2.0, 9.0, 10.0), (3, 3.0, 10.0, 11.0)])


def test_weekend_closure_carries_the_queue_to_monday():
    sim = station_sim()
    st, log = add_station(sim, [ServerGroup(1, WeeklyHours(9, 17, WEEKDAYS_ONLY))], service=2.0)
    friday_evening = 4 * 24 + 18.0  # 114
    submit_at(sim, st, friday_evening, 1)
    at(sim, 200.0)
    assert log.rows == approx_rows([(1, 114.0, 177.0, 179.0)])  # Monday of week 2, 9:00


def test_close_books_records_jobs_in_service_and_waiting():
    sim = station_sim()
    st, log = add_station(sim, [ServerGroup(1)], service=1.0)
    submit_at(sim, st, 0.0, 1)
    submit_at(sim, st, 0.25, 2)
    submit_at(sim, st, 0.5, 3)
    at(sim, 1.5)  # job 1 done; job 2 in service since 1.0; job 3 waiting
    st.close_books()
    got = visits(sim)
    assert got[0] == (1, 0.0, 0.0, 1.0)
    assert got[1][:3] == (2, 0.25, 1.0) and math.isnan(got[1][3])
    assert got[2][:2] == (3, 0.5) and math.isnan(got[2][2]) and math.isnan(got[2][3])
    assert st.queue_area == pytest.approx(0.75 + 1.0)  # job 2 waited 0.75, job 3 0.5–1.5
    assert st.busy_area == pytest.approx(1.5)


# --------------------------------------------------------------------------- patrol watch


def patrol_sim(*, detect=1.0, per_grid=1, seed=0):
    """One 500 m grid with 4 points 250 m apart around a cycle, walked at 1 km/h with 15 min
    at each point: a step of 0.5 h, a cycle of 2 h. Shift 08:00–17:00 every day.

    The worker starting on p0 at 8:00 makes visit k at 8 + k / 2 at point p(k mod 4)."""
    s = govsim.load_scenario({
        "name": "patrol",
        "horizon": "3d",
        "territory": {"rows": 1, "cols": 1, "edge_m": 500, "points_per_grid": 4, "households": 100},
        "workers": {"per_grid": per_grid, "shifts": [{"start": "08:00", "end": "17:00"}],
                    "speed_kmh": 1.0, "dwell": "15min", "route": "fixed_cycle"},
        "channels": {"patrol": True, "reports": {"enabled": False}, "sensors": {"enabled": False}},
        "categories": {"x": {"rate": 0, "patrol_detect": detect, "handling": "30min"}},
        "policy": "smart_dispatch",
    })
    sim = govsim.Simulation(s, seed)
    route = sim.workers[0].route
    assert [route.point_at(k) for k in range(5)] == [0, 1, 2, 3, 0]
    assert [route.offset(k) for k in range(5)] == [0.0, 0.5, 1.0, 1.5, 2.0]
    return sim


def hide(sim, issue_id, point, t, **kw):
    """An issue arises at ``t`` at ``point``, visible only to patrols."""
    at(sim, t)
    issue = make_issue(issue_id, point=point, created_at=t, **kw)
    sim.patrol.issue_arose(issue)
    return issue


def test_patrol_finds_an_issue_at_the_next_pass_of_its_point():
    sim = patrol_sim()
    w = sim.workers[0]
    issue = hide(sim, 1, 1, 8.75)  # p1 was visited at 8.5; next at 10.5 (visit 5)
    at(sim, 9.25)
    assert w.position() == 2  # visit 2 (p2) at 9.0
    at(sim, 10.49)
    assert issue.status == Status.HIDDEN
    at(sim, 12.0)
    assert issue.discovered_at == 10.5
    assert issue.channel == Channel.PATROL
    assert issue.handler == 0  # the finder handles it


def test_issue_hidden_before_the_shift_is_found_on_the_first_pass():
    sim = patrol_sim()
    issue = hide(sim, 1, 3, 2.0)  # at night; the shift starts at 8:00 on p0, p3 at 9.5
    at(sim, 12.0)
    assert issue.discovered_at == 9.5


def test_patrol_resumes_the_next_day_where_it_stopped():
    sim = patrol_sim()
    w = sim.workers[0]
    issue = hide(sim, 1, 1, 20.0)  # after Monday's shift
    # Monday: visits 0..18 from 8:00 to 17:00 (visit 18, on p2, at 17:00 sharp)
    seg = as_lists(sim.records.segments())
    assert (seg["worker"], seg["start"], seg["end"]) == ([0], [8.0], [17.0])
    assert (seg["k0"], seg["visits"]) == ([0], [19])
    # Tuesday: from visit 19 (p3) at 32.0; p1 is visit 21 at 33.0
    at(sim, 32.25)
    assert w.position() == 3
    at(sim, 40.0)
    assert issue.discovered_at == 33.0


def test_the_first_patroller_to_pass_finds_it():
    # two workers spread around the cycle: worker 0 from p0, worker 1 from p2 (visit 2), both at 8:00
    sim = patrol_sim(per_grid=2)
    w0, w1 = sim.workers
    at(sim, 8.25)
    assert (w0.position(), w1.position()) == (0, 2)
    issue = hide(sim, 1, 1, 8.75)  # worker 0 passes p1 at 10.5, worker 1 at 9.5 (its visit 5)
    at(sim, 12.0)
    assert issue.discovered_at == 9.5
    assert issue.handler == 1


def test_detection_is_void_when_the_patrol_is_interrupted_first():
    sim = patrol_sim()
    w = sim.workers[0]
    issue = hide(sim, 1, 2, 8.25)  # p2 is passed at 9.0 (visit 2)
    at(sim, 8.75)  # between visit 1 (p1, 8.5) and visit 2
    job = make_issue(2, point=0, created_at=8.75, handling=0.5)
    sim.board.assign(job, w)  # p1 → p0: 250 m, arrives 9.0, done 9.5
    at(sim, 9.75)
    assert job.resolved_at == 9.5
    assert issue.status == Status.HIDDEN  # the pass at 9.0 never happened
    # back to the route at visit 2 (p2): 500 m from p0, arrives 10.0 and sees it there
    at(sim, 12.0)
    assert issue.discovered_at == 10.0


def test_sent_off_at_a_visit_the_worker_resumes_there_and_looks_again():
    sim = patrol_sim()
    a = hide(sim, 1, 1, 8.75)
    b = hide(sim, 2, 1, 8.75)  # both on p1, both due to be seen at 10.5 (visit 5)
    at(sim, 10.75)
    assert a.discovered_at == 10.5 and a.handler == 0  # the worker is sent to `a` at once
    assert b.status == Status.HIDDEN  # that segment ended before `b`'s detection
    # `a` is done at 11.0 on p1; the patrol resumes at visit 5 (p1), where `b` is seen at once
    at(sim, 12.0)
    assert a.resolved_at == 11.0
    assert b.discovered_at == 11.0
    seg = as_lists(sim.records.segments())
    # 8:00–10:30 from visit 0 (6 visits); 11:00–11:00 from visit 5 (1 visit), sent to `b`
    assert (seg["start"], seg["end"], seg["k0"], seg["visits"]) == ([8.0, 11.0], [10.5, 11.0], [0, 5], [6, 1])
    assert b.handler == 0


def test_each_pass_is_one_draw_of_the_patrol_stream():
    # detection probability 1/2: the first pass whose uniform draw is below 1/2 finds it
    seed = 14
    u = np.random.Generator(np.random.PCG64(
        np.random.SeedSequence(seed, spawn_key=(zlib.crc32(b"patrol"),)))).random(4)
    j = int(np.argmax(u < 0.5))
    assert j == 2 and u[j] < 0.5  # the seed makes the first two passes miss
    sim = patrol_sim(detect=0.5, seed=seed)
    issue = hide(sim, 1, 1, 8.75)  # passes of p1 at 10.5, 12.5, 14.5, 16.5
    at(sim, 17.0)
    assert issue.discovered_at == 10.5 + 2.0 * j


def test_issue_that_lapses_before_the_next_pass_is_not_found():
    sim = patrol_sim()
    issue = hide(sim, 1, 1, 8.75, lapse_at=10.25)  # next pass at 10.5
    at(sim, 16.0)
    assert issue.status == Status.HIDDEN
    assert math.isnan(issue.discovered_at)


def test_category_patrols_never_see_is_not_watched():
    sim = patrol_sim(detect=0.0)
    issue = hide(sim, 1, 1, 8.75)
    assert issue.id not in sim.patrol.hidden[0]
    at(sim, 16.0)
    assert issue.status == Status.HIDDEN


def test_forgotten_issue_is_not_looked_for_in_later_segments():
    sim = patrol_sim()
    issue = hide(sim, 1, 1, 20.0)  # after the shift: no segment is watching it yet
    sim.patrol.forget(issue)
    at(sim, 40.0)
    assert issue.status == Status.HIDDEN
