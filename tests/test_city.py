"""Cities (govsim.city): the city file, the shared 12345 centre, sharded runs.

What is held:

* the sharded run equals the run of the whole city in one engine (every table's hash),
  with a loaded centre, with operators' hours and with a fixed call-handling time
  (ties between operators finishing together);
* the result does not depend on the number of workers (1, 2 and 8 processes);
* without shared services, each district's tables are its own run's with the seed
  spawned by district index;
* the centre, hand-checked from its sessions: a work-conserving queue (in service
  order, start = max(arrival, the previous end) for one operator), most urgent first,
  then first come first served; fixed handling times exact;
* the calls: made at each issue's first report or alarm, exactly the issues that the
  calls made known, duplicates only for issues the grid already knew;
* the city file: every problem with file, path and a did-you-mean; the CLI exits 2.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from govsim.city import district_seed, load_city, run_city
from govsim.city.result import table_hashes
from govsim.cli import main
from govsim.engine import Simulation
from govsim.scenario import ScenarioError

from cities import assert_same_tables_with_workers  # tests/cities.py

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "benchmarks" / "city_small.yaml"


def city_doc(operators: int = 1, hotline: dict | None = None, horizon: str = "4d", **extra) -> dict:
    """Three small districts (two presets, one override each) sharing one centre."""
    shared = {"hotline": {"operators": operators, **(hotline or {})}} if operators else {}
    return {"city": {"name": "test_city", "horizon": horizon, "seed": 11, "districts": [
        {"name": "east", "scenario": "traditional_patrol", "set": {"policy": "hotline_centre"}},
        {"name": "west", "scenario": "traditional_patrol",
         "set": {"policy": "hotline_centre", "workers.per_grid": 0.5}},
        {"name": "north", "scenario": "smart_dispatch", "set": {"policy": "hotline_centre"}},
    ], "shared": shared, **extra}}


@pytest.fixture(scope="module")
def loaded():
    """A loaded centre (one operator, 20 minutes a call: queues form), sharded in this process."""
    city = load_city(city_doc(1, {"call_handling": "20min"}))
    return city, run_city(city, jobs=1)


# --------------------------------------------------------------------------- exactness


def test_sharded_equals_one_engine_with_a_loaded_centre(loaded):
    city, sharded = loaded
    one = run_city(city, sharded=False)
    assert sharded.hashes() == one.hashes()
    assert sharded.summary().equals(one.summary())
    assert sharded.summary()["call_wait_mean"] > 0.1  # the centre does queue (else the test says little)


@pytest.mark.parametrize("hotline", [
    {"operators": 2, "call_handling": "5min", "hours": [{"start": "08:00", "end": "20:00"}]},
    {"operators": 1, "call_handling": {"dist": "exponential", "mean": "15min"},
     "hours": [{"start": "09:00", "end": "17:00", "days": ["mon", "tue", "wed", "thu", "fri"]}]},
])
def test_sharded_equals_one_engine_with_operators_hours(hotline):
    # a fixed time and operators coming on duty together: calls finish at the same moment
    city = load_city(city_doc(hotline.pop("operators"), hotline, horizon="3d"))
    sharded, one = run_city(city, jobs=1), run_city(city, sharded=False)
    assert sharded.hashes() == one.hashes()
    assert sharded.summary()["calls_waiting_end"] == one.summary()["calls_waiting_end"]


def test_same_tables_with_1_2_and_8_workers(loaded):
    city, one_worker = loaded
    assert_same_tables_with_workers(city, one_worker.hashes(), jobs=(2, 8))


@pytest.mark.slow
def test_same_tables_on_a_dask_cluster(loaded):
    distributed = pytest.importorskip("distributed")
    city, one_worker = loaded
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  host="127.0.0.1") as cluster, distributed.Client(cluster) as client:
        assert run_city(city, executor=client).hashes() == one_worker.hashes()
        assert run_city(city, scheduler=cluster.scheduler_address).hashes() == one_worker.hashes()


def test_without_shared_services_each_district_is_its_own_run():
    city = load_city(city_doc(0, horizon="2d"))
    result = run_city(city, seed=5, jobs=1)
    for k, (name, scenario) in enumerate(zip(city.district_names, city.districts)):
        alone = Simulation(scenario, district_seed(5, k)).run()
        mine = result.issues[result.issues["district"] == name].drop(columns="district").reset_index(drop=True)
        mine["issue_id"] -= result.offsets[k]["issue"]
        mine["grid"] -= result.offsets[k]["grid"]
        mine["point"] -= result.offsets[k]["point"]
        mine["handler"] = np.where(mine["handler"] >= 0, mine["handler"] - result.offsets[k]["worker"], -1)
        theirs = alone.issues.astype({c: object for c in ("community", "street")})
        mine = mine.astype({c: object for c in ("category", "community", "street")})
        theirs = theirs.astype({"category": object})
        pd.testing.assert_frame_equal(mine, theirs, check_dtype=False)
        assert result.by_district().loc[name].equals(alone.summary().rename(name))


def test_district_seeds_are_spawned_by_index():
    assert district_seed(7, 2).spawn_key == (2,)
    assert district_seed(np.random.SeedSequence(7, spawn_key=(3,)), 1).spawn_key == (3, 1)
    with pytest.raises(ValueError, match="seed"):
        district_seed(-1, 0)


# --------------------------------------------------------------------------- the centre


def test_centre_is_work_conserving_most_urgent_first(loaded):
    _, result = loaded
    calls = result.calls.sort_values("started", kind="stable")
    served = calls[calls["started"].notna()]
    arrived, started, ended = (served[c].to_numpy() for c in ("arrived", "started", "ended"))
    assert (started >= arrived).all()
    done = ~np.isnan(ended)  # (the last may still be in service at the horizon)
    assert (~done).sum() <= 1
    np.testing.assert_allclose((ended - started)[done], 20 / 60, rtol=0, atol=1e-9)  # Fixed(20 min)
    # one operator, around the clock: in service order, start = max(arrival, previous end)
    expected = np.maximum(arrived[1:], ended[:-1])
    np.testing.assert_allclose(started[1:], expected, rtol=0, atol=1e-9)
    # whoever starts is the most urgent of those waiting, then the first to arrive
    pri = served["priority"].to_numpy()
    all_arr, all_pri = calls["arrived"].to_numpy(), calls["priority"].to_numpy()
    all_start = calls["started"].fillna(np.inf).to_numpy()
    checked = 0
    for s, a, p in zip(started, arrived, pri):
        waiting = (all_arr <= s) & (all_start > s)
        if waiting.any():
            best = min(zip(all_pri[waiting], all_arr[waiting]))
            assert (p, a) <= best
            checked += 1
    assert checked > 20  # queues did form


def test_calls_are_first_reports_and_make_the_hidden_known(loaded):
    _, result = loaded
    calls, issues = result.calls, result.issues.set_index("issue_id")
    alarms = set(result.false_alarms["alarm_id"])
    real = calls[~calls["issue_id"].isin(alarms)]
    known = real[real["made_known"]]
    # a call that made its issue known: discovered then, by a report or a sensor alarm
    rows = issues.loc[known["issue_id"]]
    np.testing.assert_allclose(rows["discovered_at"].to_numpy(), known["arrived"].to_numpy(), rtol=1e-12)
    assert set(rows["channel"]) <= {"report", "sensor"}
    # and every issue discovered by a report or an alarm was made known by its call
    by_call = issues[issues["channel"].isin(["report", "sensor"])]
    assert set(by_call.index) == set(known["issue_id"])
    # a duplicate call: the grid already knew of the issue (found on patrol, or walked in)
    dup = issues.loc[real.loc[~real["made_known"], "issue_id"]]
    assert (dup["discovered_at"] < real.loc[~real["made_known"], "arrived"].to_numpy()).all()
    # triaged calls of known issues pass the district's processing delay before the grid
    assert result.summary()["duplicate_call_share"] == pytest.approx((~calls["made_known"]).mean())


def test_city_tables_have_unique_ids_and_a_district_column(loaded):
    _, result = loaded
    for name in ("issues", "workers", "grids", "stations"):
        table = result.table(name)
        assert table.columns[0] == "district"
        key = {"issues": "issue_id", "workers": "worker", "grids": "grid", "stations": "station"}[name]
        assert table[key].is_unique, name
    stations = result.stations
    centre = stations[stations["kind"] == "hotline"]
    assert list(centre["district"]) == ["city"] and len(centre) == 1
    assert int(centre["n_arrived"].iloc[0]) == len(result.calls)
    s = result.summary()
    assert s["n_issues"] == result.by_district()["n_issues"].sum() == len(result.issues)


# --------------------------------------------------------------------------- the city file


def test_the_example_city_loads_and_runs():
    city = load_city(SMALL)
    assert city.district_names == ["east", "west", "north"] and city.horizon == 7 * 24
    assert {sc.policy for sc in city.districts} == {"hotline_centre"}


@pytest.mark.parametrize("change, message", [
    ({"shared": {"hotline": {"operatrs": 2}}}, "city.shared.hotline.operatrs: unknown key; did you mean 'operators'?"),
    ({"distrcts": []}, "did you mean 'districts'?"),
    ({"shared": {"hotline": {"operators": 0}}}, "city.shared.hotline.operators"),
])
def test_bad_city_file_names_the_field(change, message):
    doc = city_doc(1)
    doc["city"].update(change)
    with pytest.raises(ScenarioError) as err:
        load_city(doc)
    assert message in str(err.value)


def test_bad_district_names_the_district_and_its_file():
    doc = city_doc(1)
    districts = doc["city"]["districts"]
    districts[1]["name"] = "east"
    districts[2]["set"] = {"policy": "smart_dispatch", "workers.per_gird": 1}
    districts[0]["scenario"] = "no_such_file.yaml"
    with pytest.raises(ScenarioError) as err:
        load_city(doc)
    text = str(err.value)
    assert "city.districts[1].name: district name 'east' is used twice" in text
    assert "city.districts[0] (east)" in text and "no_such_file.yaml" in text
    assert "city.districts[2].set.workers.per_gird: unknown key; did you mean 'per_grid'?" in text


def test_shared_centre_needs_hotline_districts():
    doc = city_doc(1)
    doc["city"]["districts"][2]["set"] = {}
    with pytest.raises(ScenarioError, match=r"city.districts\[2\].set.policy: district 'north' uses policy "
                                            r"'smart_dispatch'"):
        load_city(doc)


def test_districts_horizons_must_agree_without_the_citys():
    doc = city_doc(0)
    del doc["city"]["horizon"]
    doc["city"]["districts"][0]["set"]["horizon"] = "2d"
    with pytest.raises(ScenarioError, match="city.horizon: the districts' horizons differ"):
        load_city(doc)


def test_cli_runs_a_city_and_writes_tables(tmp_path, capsys):
    out = tmp_path / "city"
    assert main(["city", str(SMALL), "--jobs", "1", "--set", "city.horizon=2d", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "by district:" in text and "north" in text and "calls" in text
    issues = pd.read_csv(out / "issues.csv")
    summary = pd.read_csv(out / "summary.csv", index_col="metric")["value"]
    assert summary["n_issues"] == len(issues) and set(issues["district"]) == {"east", "west", "north"}
    assert (out / "by_district.csv").is_file() and (out / "calls.csv").is_file()


def test_cli_bad_input_is_one_line(capsys):
    assert main(["city", str(SMALL), "--set", "city.shared.hotline.operatrs=1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "did you mean 'operators'" in err and "\n" not in err


def test_table_hashes_see_a_change():
    a = pd.DataFrame({"x": [1.0, 2.0]})
    assert table_hashes({"t": a}) != table_hashes({"t": a.assign(x=[1.0, 2.0000001])})


# --------------------------------------------------------------------------- duplicates: false (iterated)


def test_one_engine_without_duplicates_calls_only_to_make_known():
    city = load_city(city_doc(1, {"call_handling": "10min", "duplicates": False}, horizon="2d"))
    result = run_city(city, sharded=False)
    calls = result.calls
    assert len(calls) and calls["made_known"].all()  # no duplicate call reaches the centre
    issues = result.issues.set_index("issue_id")
    real = calls[calls["issue_id"].isin(issues.index)]
    np.testing.assert_allclose(issues.loc[real["issue_id"], "discovered_at"].to_numpy(), real["arrived"], rtol=1e-12)


def test_iterated_shards_agree_with_one_engine_within_confidence_intervals():
    """duplicates: false: the sharded run iterates (the calls made depend on the districts'
    runs); over replications its paired differences from the one-engine run have a 95%
    confidence interval that contains 0, for the centre's wait and the resolution time."""
    from scipy import stats

    city = load_city(city_doc(1, {"call_handling": "10min", "duplicates": False, "iterations": 3},
                              horizon="2d"))
    keys = ("call_wait_mean", "resolution_time_mean", "calls")
    diffs = {k: [] for k in keys}
    for seed in range(6):
        sharded, one = run_city(city, seed, jobs=1).summary(), run_city(city, seed, sharded=False).summary()
        for k in keys:
            diffs[k].append(sharded[k] - one[k])
    for k, d in diffs.items():
        d = np.asarray(d)
        half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
        assert abs(d.mean()) <= half or np.allclose(d, 0), (k, d.mean(), half)


def test_governance_metrics_are_pooled_over_the_city():
    # party liaisons, teams and the alliance in one district; volunteers, councils and property staff in the other
    doc = {"city": {"horizon": "8d", "districts": [{"name": "a", "scenario": "changning_1plusN"},
                                                   {"name": "b", "scenario": "hongqi"}]}}
    result = run_city(load_city(doc), seed=3, jobs=1)
    s, by = result.summary(), result.by_district()
    households = result.grids.groupby("district", observed=True)["households"].sum().loc[by.index]
    # counts: the sum of the districts' (no warm-up)
    for key in ("n_issues", "council_topics", "handled_by_team", "handled_by_alliance", "handled_by_property_staff",
                "volunteer_days", "volunteer_handled", "council_backlog_end"):
        assert s[key] == by[key].sum(), key
    assert s["council_topics"] > 0 and s["handled_by_team"] > 0 and s["volunteer_days"] > 0
    # shares of households: weighted by households, a district without the mechanism counting 0
    for key in ("liaison_household_share", "liaison_contact_share", "participation_end"):
        assert s[key] == pytest.approx((by[key] * households).sum() / households.sum()), key
    assert by.loc["b", "liaison_household_share"] == 0 < by.loc["a", "liaison_household_share"]
    assert s["infrastructure_cost"] == pytest.approx(by["infrastructure_cost"].sum())
    # rates: measured on the city's tables
    assert s["problems_per_volunteer_day"] == pytest.approx(s["volunteer_handled"] / s["volunteer_days"])
    issues = result.issues
    assert s["liaison_found_share"] == pytest.approx((issues["channel"] == "liaison").mean())
    # the mechanisms' tables hold city ids, a district column first
    topics = result.mechanism_tables["council_topics"]
    assert topics.columns[0] == "district"
    assert topics["issue_id"].isin(issues.loc[issues["path"] == "council", "issue_id"]).all()
    assert (issues.set_index("issue_id").loc[topics["issue_id"], "district"].to_numpy() == "b").all()


def test_a_city_of_one_district_has_its_governance_metrics():
    from govsim.metrics import governance_keys

    doc = {"city": {"horizon": "4d", "districts": [{"name": "z", "scenario": "zhoushan"}]}}
    result = run_city(load_city(doc), seed=2, jobs=1)
    s, own = result.summary(), result.by_district().iloc[0]
    for key in governance_keys():
        assert s[key] == pytest.approx(own[key], nan_ok=True), key


def test_pooled_facts_follow_each_facts_rule():
    import dataclasses
    import math

    result = run_city(load_city({"city": {"horizon": "1d", "districts": [
        {"name": "a", "scenario": "traditional_patrol"}, {"name": "b", "scenario": "traditional_patrol"}]}}),
        seed=1, jobs=1)
    a, b = result.outputs
    result.outputs = [
        dataclasses.replace(a, households=100.0, facts={"participation_end": 0.5, "liaison_household_share": 0.4,
                                                        "infrastructure_cost_per_year": 10.0, "study_fact": 3.0}),
        dataclasses.replace(b, households=300.0, facts={"participation_end": math.nan,
                                                        "infrastructure_cost_per_year": 5.0})]
    pooled = result.pooled_facts()
    assert pooled["participation_end"] == 0.5  # b does not model participation: left out
    assert pooled["liaison_household_share"] == pytest.approx(0.4 * 100 / 400)  # b has no liaisons: 0
    assert pooled["infrastructure_cost_per_year"] == 15.0
    assert math.isnan(pooled["study_fact"])  # no rule: not pooled
