"""A city's shared departments and mediation centre (govsim.city.services).

What is held:

* the sharded run (districts twice, the shared stations in between) equals the run of
  the whole city in one engine, table for table, with a loaded department, a centre
  that turns disputes away, opening hours and fixed session times (ties), with and
  without the shared 12345 centre; and it is the same with 1, 2 and 8 workers;
* a city department with the same staff, hours and (fixed) case time as a district's
  own department changes nothing in that district's issues;
* the stations, hand-checked from their sessions: one staff always on duty serves in
  order of priority, then arrival, without idling (start = max(arrival, previous end));
* the city's centre settles with its probability (a binomial interval); what it turns
  away goes to court; every dispute that reached it and every case referred to a city
  department has its session there, and nothing is left at the districts' own copies;
* the city file: a city department no district has, a mediation centre without
  disputes, `duplicates: false` with shared stations: each named with its path.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from govsim.city import district_seed, load_city, run_city
from govsim.city.services import Replay, ReplayDesk
from govsim.engine import Simulation
from govsim.scenario import ScenarioError, load_scenario

from cities import assert_same_tables_with_workers  # tests/cities.py

DISTRICT = str(Path(__file__).resolve().parent / "data" / "city" / "services_district.yaml")

DEPARTMENT = {"staff": 1, "service": "3h"}  # fixed case time: sessions end together at opening
CENTRE = {"mediators": 1, "success": 0.6, "queue_limit": 1, "referral_delay": "4h",
          "duration": {"dist": "lognormal", "mean": "3h", "sd": "1h"}}


def services_doc(departments: dict | None = None, mediation: dict | None = None, hotline: dict | None = None,
                 horizon: str = "6d", districts: list | None = None) -> dict:
    """Three 36-grid districts with disputes and an urban management department; shared:
    the department, the city's mediation centre and (optionally) the 12345 centre."""
    policy = {"policy": "hotline_centre"} if hotline else {}
    shared: dict = {"departments": {"urban_management": dict(departments or DEPARTMENT)},
                    "mediation": dict(mediation or CENTRE)}
    if hotline:
        shared["hotline"] = hotline
    return {"city": {"name": "services_city", "horizon": horizon, "seed": 7, "districts": districts or [
        {"name": "east", "scenario": DISTRICT, "set": {**policy}},
        {"name": "west", "scenario": DISTRICT, "set": {**policy, "workers.per_grid": 0.5}},
        {"name": "north", "scenario": DISTRICT, "set": {**policy, "categories.illegal_construction.rate": 1.2}},
    ], "shared": shared}}


@pytest.fixture(scope="module")
def loaded():
    city = load_city(services_doc())
    return city, run_city(city, jobs=1)


def _city_station(result, name: str) -> pd.DataFrame:
    st = result.stations
    index = int(st.loc[st["name"] == name, "station"].iloc[0])
    return result.sessions[result.sessions["station"] == index]


# --------------------------------------------------------------------------- exactness


def test_sharded_equals_one_engine(loaded):
    city, sharded = loaded
    one = run_city(city, sharded=False)
    assert sharded.hashes() == one.hashes()
    assert sharded.summary().equals(one.summary())
    # the test says something: the department queues, the centre turns disputes away and settles some
    s = sharded.summary()
    assert s["city_department_wait_mean"] > 1.0
    assert s["city_mediation_turned_away"] > 0
    assert s["settled_city_share"] > 0


def test_sharded_equals_one_engine_with_the_12345_centre_and_hours():
    doc = services_doc(departments={"staff": 2, "service": "2h", "hours": [{"start": "09:00", "end": "17:00"}]},
                       mediation={**CENTRE, "hours": [{"start": "08:00", "end": "20:00"}], "duration": "2h"},
                       hotline={"operators": 1, "call_handling": "10min"}, horizon="4d")
    city = load_city(doc)
    sharded, one = run_city(city, jobs=1), run_city(city, sharded=False)
    assert sharded.hashes() == one.hashes()
    assert sharded.summary()["calls"] > 0 and sharded.summary()["city_department_wait_mean"] > 0


def test_sharded_equals_one_engine_when_hand_offs_tie():
    # rooms open 09-17 with fixed one-hour sessions and no referral delay: disputes reach the
    # city's centre on the hour, from several districts at once, and the centre opens at 10:00
    fixed = {"mediation.community.duration": "1h", "mediation.street": None, "mediation.community.success": 0.3,
             "mediation.community.mediators": 1, "mediation.community.queue_limit": None,
             "mediation.community.hours": [{"start": "09:00", "end": "17:00"}],
             "mediation.community.referral_delay": "0h", "categories.neighbour_dispute.rate": 3.0}
    for duration in ("30min", "0h"):  # sessions ending together; sessions ending as they start
        doc = services_doc(mediation={"mediators": 1, "duration": duration, "success": 0.5, "referral_delay": "0h",
                                      "queue_limit": 1, "hours": [{"start": "10:00", "end": "17:00"}]},
                           departments={"staff": 1, "service": "30min"},
                           districts=[{"name": n, "scenario": DISTRICT, "set": fixed} for n in "abcd"], horizon="4d")
        city = load_city(doc)
        sharded, one = run_city(city, jobs=1), run_city(city, sharded=False)
        assert sharded.hashes() == one.hashes(), duration
        centre = next(o for o in sharded.services if o.spec.kind == "mediation")
        h = centre.handoffs
        times, counts = np.unique(h.time, return_counts=True)
        across = [t for t in times[counts > 1] if len(set(h.district[h.time == t].tolist())) > 1]
        assert len(across) >= 5, "the test needs hand-offs of several districts at one instant"
        assert centre.refused.sum() > 0


def test_same_tables_with_1_2_and_8_workers(loaded):
    city, one_worker = loaded
    assert_same_tables_with_workers(city, one_worker.hashes(), jobs=(2, 8))


def test_sharded_equals_one_engine_with_a_warm_up_and_a_district_without_them():
    # the middle district has neither the department nor disputes: it keeps its own stations
    doc = services_doc(horizon="4d", districts=[
        {"name": "a", "scenario": DISTRICT}, {"name": "b", "scenario": "traditional_patrol"},
        {"name": "c", "scenario": DISTRICT, "set": {"workers.per_grid": 0.5}}])
    doc["city"]["warmup"] = "1d"
    city = load_city(doc)
    sharded, one = run_city(city, jobs=1), run_city(city, sharded=False)
    assert sharded.hashes() == one.hashes()
    assert sharded.summary().equals(one.summary())
    assert all(len(o.replay(1).issue) == 0 for o in sharded.services)  # b handed nothing over


def test_a_city_mediation_centre_changes_nothing_for_disputes_that_never_reach_it():
    # common random numbers: the centre draws its referral delay and its settlement from streams
    # of its own, so every issue that does not reach it is the same as in the city without it
    random_delays = {"mediation.community.referral_delay": {"dist": "exponential", "mean": "3h"},
                     "mediation.street.referral_delay": {"dist": "exponential", "mean": "6h"},
                     "categories.neighbour_dispute.rate": 4.0}
    base = {"city": {"horizon": "6d", "districts": [{"name": "d", "scenario": DISTRICT, "set": random_delays}]}}
    with_centre = {"city": {**base["city"], "shared": {"mediation": {"mediators": 1, "hours": None,
                                                                     "referral_delay": {"dist": "exponential",
                                                                                        "mean": "2h"}}}}}
    without = run_city(load_city(base), seed=3, jobs=1).issues.set_index("issue_id")
    centre = run_city(load_city(with_centre), seed=3, jobs=1).issues.set_index("issue_id")
    reached = centre["path"].str.contains(r"(?:^|>)city$")
    assert reached.sum() > 5
    ladder = (centre["path"] != "") & ~reached  # went up the district's ladder, never to the city
    assert ladder.sum() > 50
    pd.testing.assert_frame_equal(centre[~reached], without[~reached], check_categorical=False)
    # those that reached it went to court in the city without it, when referred there
    assert (without.loc[reached, "status"] == "unsettled").all()


def test_a_district_that_makes_fewer_hand_offs_is_an_error():
    replay = Replay(issue=np.array([5, 7]), time=np.array([1.0, 2.0]), priority=np.array([2, 2]),
                    refused=np.array([False, False]), done_issue=np.empty(0, np.int64), done_arrived=np.empty(0),
                    done_started=np.empty(0), done_ended=np.empty(0))
    desk = ReplayDesk("city:urban_management", "east", replay)
    env = type("Env", (), {"now": 1.0})()
    desk.open(type("Sim", (), {"env": env})(), lambda *a: None, lambda *a: None)
    desk.submit(type("Issue", (), {"id": 5})(), 2)
    with pytest.raises(RuntimeError, match=r"district 'east': 1 hand-offs to the city's city:urban_management, "
                                           r"but the first pass made 2 \(the next: issue 7 at 2.0 h\)"):
        desk.finish()
    env.now = 2.0
    with pytest.raises(RuntimeError, match=r"issue 7 handed to the city's city:urban_management at 2.0 h with "
                                           r"priority 1, but the first pass made issue 7 at 2.0 h with priority 2"):
        desk.submit(type("Issue", (), {"id": 7})(), 1)


def test_a_city_department_like_the_districts_own_changes_nothing():
    # one district; its own department and the city's: 2 staff, office hours, 2 h a case
    own = {"categories.illegal_construction.rate": 2.0, "departments.urban_management.service": "2h"}
    doc = {"city": {"name": "one", "horizon": "5d", "districts": [{"name": "d", "scenario": DISTRICT, "set": own}],
                    "shared": {"departments": {"urban_management": {"staff": 2, "service": "2h"}}}}}
    city = run_city(load_city(doc), seed=4, jobs=1)
    alone = Simulation(load_scenario(DISTRICT, overrides={**own, "horizon": "5d"}), district_seed(4, 0)).run()
    for table in ("issues", "false_alarms", "patrols", "workers", "time_use"):
        pd.testing.assert_frame_equal(city.table(table).drop(columns="district"), getattr(alone, table),
                                      check_categorical=False, obj=table)
    referred = alone.issues["department"] == "urban_management"
    assert referred.sum() > 20  # the department was used
    # the district's own department is not built: its cases are sessions at the city's
    assert "urban_management" not in set(city.stations["name"])
    dept = _city_station(city, "city:urban_management")
    assert len(dept) == referred.sum()


# --------------------------------------------------------------------------- the stations by hand


def test_city_department_serves_most_urgent_first_without_idling():
    doc = services_doc(departments={"staff": 1, "hours": None,
                                    "service": {"dist": "exponential", "mean": "2h"}}, horizon="5d")
    result = run_city(load_city(doc), jobs=1)
    station = next(o for o in result.services if o.spec.kind == "department")
    s = _city_station(result, "city:urban_management").assign(priority=station.handoffs.priority)
    assert (s["arrived"].to_numpy() == station.handoffs.time).all()  # rows in hand-off order
    served = s[s["started"].notna()].sort_values("started")
    assert len(served) > 30
    previous_end = 0.0
    for row in served.itertuples():
        assert row.started == pytest.approx(max(row.arrived, previous_end), abs=1e-9)
        # nobody more urgent was waiting when it started
        waiting = s[(s["arrived"] <= row.started) & ((s["started"] > row.started) | s["started"].isna())]
        assert (waiting["priority"] >= row.priority).all()
        # among equals, first come first served
        same = waiting[waiting["priority"] == row.priority]
        assert (same["arrived"] >= row.arrived).all()
        previous_end = row.ended


def test_city_centre_settles_with_its_probability_and_sends_the_rest_to_court():
    # districts without rooms of their own: every dispute not settled on the spot goes to the centre
    never = {"mediation.community": None, "mediation.street": None, "categories.neighbour_dispute.rate": 6.0,
             "categories.neighbour_dispute.dispute.on_spot_success": 0.2}
    districts = [{"name": n, "scenario": DISTRICT, "set": never} for n in ("a", "b")]
    p = 0.6
    doc = services_doc(mediation={"mediators": 3, "hours": None, "success": p, "duration": "1h",
                                  "referral_delay": "1h", "queue_limit": 8}, districts=districts, horizon="5d")
    result = run_city(load_city(doc), seed=2, jobs=1)
    centre = _city_station(result, "city:mediation")
    issues = result.issues.set_index("issue_id")
    ended = centre[centre["ended"].notna()]
    settled = (issues.loc[ended["issue_id"], "settled_level"] == "city").to_numpy()
    n = len(ended)
    assert n > 200
    half_width = 3.29 * math.sqrt(p * (1 - p) / n)  # 99.9% interval of a binomial share
    assert abs(settled.mean() - p) < half_width
    # those not settled there, and those turned away, went to court when the session ended / at once
    court = ended[~settled]
    assert (issues.loc[court["issue_id"], "status"] == "unsettled").all()
    np.testing.assert_array_equal(issues.loc[court["issue_id"], "closed_at"].to_numpy(), court["ended"].to_numpy())
    away = centre[centre["turned_away"]]
    assert len(away) > 0
    assert (issues.loc[away["issue_id"], "status"] == "unsettled").all()
    np.testing.assert_array_equal(issues.loc[away["issue_id"], "closed_at"].to_numpy(), away["arrived"].to_numpy())
    # every dispute whose path reached the city has exactly one session there, and vice versa
    reached = issues.index[issues["path"].str.contains(r"(?:^|>)city$")]
    assert sorted(reached) == sorted(centre["issue_id"])


def test_every_case_of_a_city_department_is_accounted_for(loaded):
    _, result = loaded
    dept = _city_station(result, "city:urban_management")
    issues = result.issues.set_index("issue_id")
    referred = issues.index[issues["department"] == "urban_management"]
    assert sorted(dept["issue_id"]) == sorted(referred)
    done = dept[dept["ended"].notna()]
    assert (issues.loc[done["issue_id"], "status"] == "resolved").all()
    np.testing.assert_array_equal(issues.loc[done["issue_id"], "resolved_at"].to_numpy(), done["ended"].to_numpy())
    open_ = dept[dept["ended"].isna()]
    assert (issues.loc[open_["issue_id"], "status"] == "referred").all()
    assert result.summary()["department_backlog_end"] == len(open_)
    # the districts keep no department of that name; the shared stations are the city's rows
    st = result.stations
    assert list(st.loc[st["district"] == "city", "name"]) == ["city:urban_management", "city:mediation"]
    assert "urban_management" not in set(st["name"])


def test_by_district_counts_the_city_settled():
    result = run_city(load_city(services_doc(horizon="6d")), jobs=1)
    table = result.by_district()
    assert "settled_city_share" in table.columns
    issues = result.issues
    for name, row in table.iterrows():
        mine = issues[(issues["district"] == name) & (issues["category"] == "neighbour_dispute")]
        assert row["settled_city_share"] == pytest.approx((mine["settled_level"] == "city").mean())


def test_a_district_that_hands_over_differently_is_an_error():
    replay = Replay(issue=np.array([5]), time=np.array([1.0]), priority=np.array([2]), refused=np.array([False]),
                    done_issue=np.empty(0, np.int64), done_arrived=np.empty(0), done_started=np.empty(0),
                    done_ended=np.empty(0))
    desk = ReplayDesk("city:urban_management", "east", replay)

    class Env:
        now = 1.0

    class Sim:
        env = Env()

    desk.open(Sim(), lambda *a: None, lambda *a: None)

    class Issue:
        id = 6

    with pytest.raises(RuntimeError, match=r"district 'east': issue 6 handed to the city's city:urban_management "
                                           r"at 1.0 h with priority 2, but the first pass made issue 5 at 1.0 h"):
        desk.submit(Issue(), 2)


# --------------------------------------------------------------------------- the city file


@pytest.mark.parametrize("change, path, message", [
    (lambda d: d["city"]["shared"]["departments"].update({"police": {"staff": 1}}),
     "city.shared.departments.police", "no district has a department 'police' to share"),
    (lambda d: d["city"]["shared"]["departments"]["urban_management"].update({"staf": 1}),
     "city.shared.departments.urban_management.staf", "did you mean 'staff'"),
    (lambda d: d["city"]["shared"]["mediation"].update({"succes": 0.5}),
     "city.shared.mediation.succes", "did you mean 'success'"),
    (lambda d: d["city"]["shared"]["hotline"].update({"duplicates": False}),
     "city.shared.hotline.duplicates", "false is not supported together with city departments"),
])
def test_bad_shared_services_name_the_field(change, path, message):
    doc = services_doc(hotline={"operators": 2})
    change(doc)
    with pytest.raises(ScenarioError) as err:
        load_city(doc)
    assert path in str(err.value) and message in str(err.value)


def test_a_mediation_centre_needs_disputes():
    doc = {"city": {"horizon": "1d", "districts": [{"name": "a", "scenario": "traditional_patrol"}],
                    "shared": {"mediation": {"mediators": 1}}}}
    with pytest.raises(ScenarioError, match=r"city.shared.mediation: no district has disputes"):
        load_city(doc)
