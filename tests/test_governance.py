"""Governance mechanisms (docs/governance/): each one switched on against off on the same
seed (paired, common random numbers) moves its metric the expected way, and keeps its
invariants. Statistical checks use fixed seeds and tolerances of four standard errors
of the quantity tested (binomial or sample standard errors, computed in the test).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import govsim
from govsim import Status
from govsim.scenario.errors import ScenarioError

SCEN = Path(__file__).resolve().parent.parent / "scenarios"
SMART = SCEN / "smart_dispatch.yaml"
TRAD = SCEN / "traditional_patrol.yaml"
Z = 4.0  # standard errors allowed in statistical checks


def run(path=SMART, seed=3, **over):
    over = {"horizon": "14d", **over}
    return govsim.run(path, seed=seed, overrides=over)


def sim_of(path=SMART, seed=3, **over):
    over = {"horizon": "14d", **over}
    return govsim.Simulation(govsim.load_scenario(path, overrides=over), seed)


def keys(df: pd.DataFrame) -> set[tuple]:
    """Identity of an issue across runs: time, grid, point, category."""
    return set(zip(df["created_at"].round(9), df["grid"], df["point"], df["category"].astype(str)))


# --------------------------------------------------------------------------- 1. liaison

ONLY_LIAISON = {"channels.patrol": False, "channels.reports.enabled": False, "channels.sensors.enabled": False}


def test_liaison_discovery_delay_matches_periodic_contact_theory():
    """Linked households contacted every T, each contact finds a hidden issue with prob q:
    mean delay T (1/2 + (1 − q)/q) (same law as a periodic patrol)."""
    T, q = 24.0, 0.5
    over = {**ONLY_LIAISON, "horizon": "40d",
            "governance.liaison": {"members_per_grid": 100, "contact_interval": "1d", "detect": q}}
    cats = {f"categories.{c}.lifetime": None for c in ("street_vending", "parking")}
    r = run(seed=5, **over, **cats)
    df = r.issues
    early = df[df["created_at"] < r.horizon - 15 * T]  # P(delay > 15 T) = 2^-14: no censoring
    assert (early["channel"] == "liaison").all()
    delay = (early["discovered_at"] - early["created_at"]).to_numpy()
    theory = T * (0.5 + (1 - q) / q)
    se = delay.std(ddof=1) / math.sqrt(len(delay))
    assert len(delay) > 2000
    assert abs(delay.mean() - theory) < Z * se, (delay.mean(), theory, se)


def test_liaison_links_the_expected_share_and_finds_only_linked_issues():
    # 300 households per grid on average; 10 members × 6 households = 60 linked per grid
    over = {**ONLY_LIAISON, "horizon": "40d", "territory.households": 300,
            "governance.liaison": {"members_per_grid": 10, "households_per_member": 6,
                                   "contact_interval": "12h", "detect": 1.0}}
    r = run(seed=6, **over, **{f"categories.{c}.lifetime": None for c in ("street_vending", "parking")})
    s = r.summary()
    assert s["liaison_household_share"] == pytest.approx(0.2)
    assert s["liaison_contact_share"] == pytest.approx(0.2)  # contacted every 12 h: all, monthly
    early = r.issues[r.issues["created_at"] < r.horizon - 24.0]
    found = (early["channel"] == "liaison").mean()
    se = math.sqrt(0.2 * 0.8 / len(early))
    assert abs(found - 0.2) < Z * se
    np.testing.assert_allclose(r.grids["liaison_share"], 0.2)


def test_liaison_on_against_off_finds_issues_sooner():
    off = run(seed=7)
    on = run(seed=7, **{"governance.liaison": {"members_per_grid": 50, "contact_interval": "1d"}})
    assert keys(on.issues) == keys(off.issues)  # liaison adds a channel, not issues
    so, sf = on.summary(), off.summary()
    assert so["liaison_found_share"] > 0 and sf["liaison_found_share"] == 0
    assert so["discovered_share"] >= sf["discovered_share"]
    # paired: an issue is never found later with one more channel (the earliest channel wins)
    a = off.issues.set_index("issue_id")["discovered_at"].fillna(np.inf)
    b = on.issues.set_index("issue_id")["discovered_at"].fillna(np.inf)
    hidden_off = a == np.inf
    assert (b[hidden_off] < np.inf).sum() > 0


def test_liaison_reports_skip_the_manual_chain_under_traditional_patrol():
    over = {**ONLY_LIAISON, "governance.liaison": {"members_per_grid": 100, "contact_interval": "1d"}}
    r = run(TRAD, seed=8, **over)
    df = r.issues
    found = df[(df["channel"] == "liaison") & df["queued_at"].notna()]
    assert len(found) > 50
    assert (found["queued_at"] == found["discovered_at"]).all()  # no manual-chain delay


# --------------------------------------------------------------------------- 2. volunteers

VOLUNTEERS = {"per_community": 3, "categories": ["garbage", "stairwell_clutter"],
              "hours": [{"start": "09:00", "end": "17:00", "days": ["sat", "sun"]}]}
SCARCE = {"workers.per_grid": 0.25}  # one worker for four grids: a backlog builds up


@pytest.mark.parametrize("path", [SMART, TRAD])
def test_volunteers_clear_backlog_of_their_categories_only(path):
    off = run(path, seed=9, **SCARCE)
    on = run(path, seed=9, **SCARCE, **{"governance.volunteers": VOLUNTEERS})
    assert keys(on.issues) == keys(off.issues)
    wk = on.workers
    vol = wk.loc[wk["kind"] == "volunteer", "worker"]
    assert len(vol) == 9 * 3  # 9 communities
    df = on.issues
    by_vol = df[df["handler"].isin(vol)]
    assert len(by_vol) > 20
    assert set(by_vol["category"].astype(str)) <= {"garbage", "stairwell_clutter"}
    # each volunteer stays in its community
    comm = on.grids.set_index("grid")["community"]
    home = {w.id: {comm[g] for g in w.grids} for w in sim_of(path, seed=9, **SCARCE,
            **{"governance.volunteers": VOLUNTEERS}).workers if w.kind == "volunteer"}
    assert all(comm[g] in home[h] for g, h in zip(by_vol["grid"], by_vol["handler"]))
    # they work only on their days: every stretch starts on a Saturday or Sunday in 09–17
    tu = on.time_use[on.time_use["worker"].isin(vol)]
    day = (tu["start"] // 24).astype(int) % 7
    assert day.isin([5, 6]).all()
    assert ((tu["start"] % 24) >= 9 - 1e-9).all()
    assert set(tu["state"].astype(str)) <= {"travel", "handle", "idle"}  # no patrol
    s_on, s_off = on.summary(), off.summary()
    assert s_on["volunteer_handled"] == len(by_vol[by_vol["status"] == Status.RESOLVED])
    assert s_on["volunteer_days"] == 9 * 3 * 4  # two weekends of 2 days
    assert s_on["problems_per_volunteer_day"] == pytest.approx(s_on["volunteer_handled"] / s_on["volunteer_days"])
    assert s_on["resolution_rate"] > s_off["resolution_rate"]
    assert s_off["volunteer_days"] == 0


# --------------------------------------------------------------------------- 3. participation

def test_participation_raises_reports_with_common_random_numbers():
    low = sim_of(seed=10, **{"governance.participation": {"level": 0.3}})
    high = sim_of(seed=10, **{"governance.participation": {"level": 0.7}})
    a, b = low.plan, high.plan
    np.testing.assert_array_equal(a.time, b.time)
    ra, rb = np.isfinite(a.report_at), np.isfinite(b.report_at)
    assert np.all(rb[ra])  # everyone who reports at 30% also reports at 70%
    assert rb.sum() > 1.5 * ra.sum()
    both = ra & rb
    # delays shrink by (0.3 / 0.7) with elasticity 1
    np.testing.assert_allclose((b.report_at - b.time)[both], (a.report_at - a.time)[both] * 0.3 / 0.7)
    # the default reference (0.3) reproduces the scenario without participation
    base = sim_of(seed=10)
    np.testing.assert_array_equal(base.plan.report_at, a.report_at)


def test_participation_by_community_only_changes_that_community():
    sim = sim_of(seed=11, **{"governance.participation": {"level": 0.3, "communities": {"c4": 0.9}}})
    base = sim_of(seed=11)
    in_c4 = np.array(sim.territory.communities)[sim.territory.grid_community[sim.plan.grid]] == "c4"
    np.testing.assert_array_equal(sim.plan.report_at[~in_c4], base.plan.report_at[~in_c4])
    assert np.isfinite(sim.plan.report_at[in_c4]).sum() > np.isfinite(base.plan.report_at[in_c4]).sum()


def test_festival_thins_disputes_after_its_start_by_its_multiplier():
    over = {"horizon": "120d"}
    off = sim_of(seed=12, **over)
    on = sim_of(seed=12, **over, **{"governance.festival": {
        "start": "30d", "participation": 0.7, "rate_multipliers": {"neighbour_dispute": 0.6}}})
    cat = off.categories.names.index("neighbour_dispute")

    def rows(p):
        return set(zip(p.time.round(9), p.point, p.category))
    assert rows(on.plan) <= rows(off.plan)  # a subset: common random numbers
    before = lambda p: ((p.category == cat) & (p.time < 720)).sum()  # noqa: E731
    after = lambda p: ((p.category == cat) & (p.time >= 720)).sum()  # noqa: E731
    assert before(on.plan) == before(off.plan)
    n = after(off.plan)
    kept = after(on.plan) / n
    assert abs(kept - 0.6) < Z * math.sqrt(0.6 * 0.4 / n), (kept, n)
    others = (on.plan.category != cat)
    assert others.sum() == (off.plan.category != cat).sum()  # other categories untouched
    r = on.run()
    assert r.summary()["participation_end"] == pytest.approx(0.7)


# --------------------------------------------------------------------------- 4. councils

COUNCIL_CAT = {"categories.garbage_point": {"rate": 0.5, "handling": "1h", "report": {"prob": 1.0, "delay": "1h"}}}


def council(**kw):
    return {"governance.councils": {"categories": ["garbage_point"], **kw}}


def test_council_hand_trace_with_fixed_steps():
    """Agreement certain, fixed durations: resolved = sitting + k × deliberation + publication
    + execution + evaluation, for the k-th topic of the sitting."""
    over = {**COUNCIL_CAT, **council(day="wed", at="19:00", every_weeks=1, agenda=100, deliberation="30min",
                                     publication="2d", execution="3d", evaluation="1d", agreement_base=1.0)}
    r = run(seed=13, horizon="30d", **over)
    t = r.council_topics
    df = r.issues.set_index("issue_id")
    assert len(t) > 20
    assert (t["agreed"]).all() and (t["round"] == 1).all()
    sit = t["sitting_at"].to_numpy()
    assert np.all((sit % 168.0) == pytest.approx(2 * 24 + 19))  # Wednesdays 19:00
    for _, grp in t.groupby(["community", "sitting_at"]):
        k = np.arange(1, len(grp) + 1)
        np.testing.assert_allclose(grp["decided_at"], grp["sitting_at"] + 0.5 * k)
    done = t[t["evaluated_at"].notna()]
    np.testing.assert_allclose(done["evaluated_at"], done["decided_at"] + 48 + 72 + 24)
    res = df.loc[done["issue_id"]]
    np.testing.assert_allclose(res["resolved_at"], done["evaluated_at"])
    assert (res["status"] == Status.RESOLVED).all() and (res["handler"] == -1).all()
    # a topic waits for the first sitting after it was put on the list
    put = df.loc[t["issue_id"], "assigned_at"].to_numpy()
    assert np.all(put <= sit) and np.all(sit - put < 168.0)


def test_council_decisions_never_precede_their_sitting_and_respect_agenda_and_rounds():
    over = {**COUNCIL_CAT, **council(agenda=2, max_rounds=2, every_weeks=1, agreement_base=0.2,
                                     agreement_per_participation=0.0)}
    r = run(seed=14, horizon="60d", **over)
    t = r.council_topics
    df = r.issues.set_index("issue_id")
    assert (t["decided_at"] > t["sitting_at"]).all()
    assert (t["sitting_at"] >= df.loc[t["issue_id"], "assigned_at"].to_numpy()).all()
    assert t.groupby(["community", "sitting_at"]).size().max() <= 2
    assert t["round"].max() <= 2
    # rounds of a topic are at successive, later sittings
    for _, g in t.groupby("issue_id"):
        assert list(g["round"]) == list(range(1, len(g) + 1))
        assert g["sitting_at"].is_monotonic_increasing and g["sitting_at"].is_unique
    # two sittings without agreement: left unsettled at the second decision
    failed = t[(t["round"] == 2) & ~t["agreed"]]
    assert len(failed) > 0
    st = df.loc[failed["issue_id"]]
    assert (st["status"] == Status.UNSETTLED).all()
    np.testing.assert_allclose(st["closed_at"], failed["decided_at"])
    # workers never handle council matters
    assert (df.loc[df["category"] == "garbage_point", "handler"] == -1).all()


def test_council_agreement_rises_with_participation():
    """Agreement chance base + slope × participation: 0.3 + 0.7 × p."""
    rates = {}
    for p in (0.2, 0.8):
        over = {**COUNCIL_CAT, **council(every_weeks=1, agenda=50),
                "governance.participation": {"level": p}}
        r = run(seed=15, horizon="90d", **over)
        t = r.council_topics
        want = 0.3 + 0.7 * p
        se = math.sqrt(want * (1 - want) / len(t))
        assert abs(t["agreed"].mean() - want) < Z * se, (p, t["agreed"].mean(), want)
        rates[p] = r.summary()["council_agreement_rate"]
    assert rates[0.8] > rates[0.2]


def test_council_category_must_be_collective():
    with pytest.raises(ScenarioError, match="governance.councils.categories"):
        govsim.load_scenario(SCEN / "hongqi_mediation.yaml", overrides={
            "governance.councils": {"categories": ["neighbour_dispute"]}})
    with pytest.raises(ScenarioError, match="governance.councils.categories"):
        govsim.load_scenario(SMART, overrides={"governance.councils": {"categories": ["garbagee"]}})


# --------------------------------------------------------------------------- 5. teams

SAFETY_DEPT = {"departments": {"police": {"staff": 1}},
               "categories.safety_hazard.department": "police"}
TEAM = {"governance.teams": {"per": "community", "members": [
    {"role": "police", "categories": ["safety_hazard"]},
    {"role": "doctor", "categories": ["elderly_help"]}]}}


def test_team_takes_department_work_in_its_cluster():
    off = run(seed=16, **SAFETY_DEPT)
    on = run(seed=16, **SAFETY_DEPT, **TEAM)
    cat = on.issues["category"] == "safety_hazard"
    assert (off.issues.loc[off.issues["category"] == "safety_hazard", "department"].notna()
            | off.issues.loc[off.issues["category"] == "safety_hazard", "discovered_at"].isna()).all()
    d = on.issues[cat]
    assert d["department"].isna().all()  # the team takes them locally
    wk = on.workers.set_index("worker")
    handled = d[d["handler"] >= 0]
    assert len(handled) > 10
    assert (wk.loc[handled["handler"], "role"] == "police").all()
    # a team member only handles its role's categories, within its cluster
    team = wk[wk["kind"] == "team"]
    by_team = on.issues[on.issues["handler"].isin(team.index)]
    allowed = {"police": {"safety_hazard"}, "doctor": {"elderly_help"}}
    for cat_, role in zip(by_team["category"].astype(str), wk.loc[by_team["handler"], "role"]):
        assert cat_ in allowed[role]
    s_on, s_off = on.summary(), off.summary()
    assert s_on["handled_by_team"] >= len(handled[handled["status"] == Status.RESOLVED])
    t_on = (d["resolved_at"] - d["created_at"]).mean()
    t_off = (off.issues.loc[off.issues["category"] == "safety_hazard", "resolved_at"]
             - off.issues.loc[off.issues["category"] == "safety_hazard", "created_at"]).mean()
    assert t_on < t_off


# --------------------------------------------------------------------------- 6. alliance

def test_alliance_staff_serve_their_communities_and_pool_resources():
    over = {"workers.categories": ["garbage", "fire_lane", "street_vending", "stairwell_clutter",
                                   "parking", "safety_hazard", "neighbour_dispute"]}  # not elderly_help
    unit = {"name": "hospital", "resource": "clinic team", "staff": 2, "categories": ["elderly_help"],
            "communities": ["c0", "c1", "c3", "c4"], "base": "c0"}
    off = run(seed=17, **over)
    on = run(seed=17, **over, **{"governance.alliance": {"units": [unit]}})
    df = on.issues
    eh = df[df["category"] == "elderly_help"]
    comm = eh["community"].astype(str)
    served = eh[comm.isin(unit["communities"])]
    assert (served["status"] == Status.RESOLVED).mean() > 0.5
    assert (eh.loc[~comm.isin(unit["communities"]), "handler"] == -1).all()
    wk = on.workers.set_index("worker")
    assert (wk.loc[served.loc[served["handler"] >= 0, "handler"], "kind"] == "alliance").all()
    s_on, s_off = on.summary(), off.summary()
    assert s_on["handled_by_alliance"] > 0 and s_off["handled_by_alliance"] == 0
    assert s_on["resolution_rate"] > s_off["resolution_rate"]


def test_alliance_shared_parking_lowers_parking_in_served_communities_only():
    unit = {"name": "mall", "resource": "shared parking", "rate_multipliers": {"parking": 0.5},
            "communities": ["c0"]}
    off = sim_of(seed=18, horizon="60d")
    on = sim_of(seed=18, horizon="60d", **{"governance.alliance": {"units": [unit]}})
    cat = off.categories.names.index("parking")
    comm = lambda s, p: np.array(s.territory.communities)[s.territory.grid_community[p.grid]]  # noqa: E731
    mask_off = (off.plan.category == cat) & (comm(off, off.plan) == "c0")
    mask_on = (on.plan.category == cat) & (comm(on, on.plan) == "c0")
    n = mask_off.sum()
    assert abs(mask_on.sum() / n - 0.5) < Z * math.sqrt(0.25 / n)
    assert len(on.plan) - mask_on.sum() == len(off.plan) - mask_off.sum()


# --------------------------------------------------------------------------- 7. red property

def test_red_property_lowers_complaints_and_its_staff_handle_them():
    rp = {"rate_multipliers": {"garbage": 0.4, "stairwell_clutter": 0.4}, "staff_per_grid": 1}
    off = sim_of(seed=19, horizon="60d")
    on_sim = sim_of(seed=19, horizon="60d", **{"governance.red_property": rp})
    terr = off.territory
    unowned = terr.grid_area == terr.area_types.index("unowned_courtyard")
    cats = [off.categories.names.index(c) for c in ("garbage", "stairwell_clutter")]
    sel = lambda p: np.isin(p.category, cats) & unowned[p.grid]  # noqa: E731
    n = sel(off.plan).sum()
    assert n > 200
    assert abs(sel(on_sim.plan).sum() / n - 0.4) < Z * math.sqrt(0.24 / n)
    assert (~sel(on_sim.plan)).sum() == (~sel(off.plan)).sum()  # nothing else changes
    r = on_sim.run()
    wk = r.workers.set_index("worker")
    staff = wk[wk["kind"] == "property_staff"]
    assert len(staff) == unowned.sum()
    by_staff = r.issues[r.issues["handler"].isin(staff.index)]
    assert len(by_staff) > 10
    assert set(by_staff["category"].astype(str)) <= {"garbage", "stairwell_clutter"}
    assert unowned[by_staff["grid"]].all()
    assert r.summary()["handled_by_property_staff"] > 0


# --------------------------------------------------------------------------- 8. training

def test_training_speeds_up_handling_exactly():
    r = run(seed=20, **{"governance.training": {"share": 0.5, "speedup": 2.0, "on_spot_gain": 0.0}})
    sim = sim_of(seed=20, **{"governance.training": {"share": 0.5, "speedup": 2.0, "on_spot_gain": 0.0}})
    wk = r.workers.set_index("worker")
    grid_workers = wk[wk["kind"] == "grid_worker"]
    share = grid_workers["trained"].mean()
    assert abs(share - 0.5) < Z * math.sqrt(0.25 / len(grid_workers))
    df = r.issues
    done = df[(df["status"] == Status.RESOLVED) & (df["handler"] >= 0)]
    on_site = (done["resolved_at"] - done["arrived_at"]).to_numpy()
    drawn = sim.plan.handling[done["issue_id"].to_numpy()]
    factor = np.where(wk.loc[done["handler"], "trained"].to_numpy(), 2.0, 1.0)
    np.testing.assert_allclose(on_site, drawn / factor, rtol=1e-9, atol=1e-9)


def test_training_raises_first_contact_settlement_of_disputes():
    scen = SCEN / "hongqi_mediation.yaml"
    over = {"horizon": "120d", "categories.neighbour_dispute.dispute.on_spot_success": 0.5}
    off = govsim.run(scen, seed=21, overrides=over)
    on = govsim.run(scen, seed=21, overrides={**over, "governance.training": {"on_spot_gain": 0.4}})
    a, b = off.summary(), on.summary()
    # p = 0.5 → 0.5 + 0.4 × 0.5 = 0.7 of the disputes a trained worker tries on the spot
    tried = on.issues[on.issues["path"].str.startswith("grid")]
    share = (tried["settled_level"] == "grid").mean()
    assert abs(share - 0.7) < Z * math.sqrt(0.21 / len(tried))
    assert b["settled_grid_share"] > a["settled_grid_share"]


# --------------------------------------------------------------------------- 9. infrastructure

def test_sensors_busiest_placement_and_cost():
    over = {"channels.sensors": {"enabled": True, "coverage": 0.25, "placement": "busiest",
                                 "cost_per_grid": 36500}}
    sim = sim_of(seed=22, **over)
    from govsim.agents.sensors import sensor_intensity

    inten = sensor_intensity(sim.territory, sim.categories)
    chosen = set(sim.sensor_grids.tolist())
    assert len(chosen) == 9
    assert inten[list(chosen)].min() >= inten[[g for g in range(36) if g not in chosen]].max()
    r = sim.run()
    assert r.summary()["infrastructure_cost"] == pytest.approx(9 * 36500 * 14 / 365)
    assert r.grids["sensor"].sum() == 9


def test_app_grids_report_more_and_sooner():
    off = sim_of(seed=23)
    on = sim_of(seed=23, **{"channels.app": {"enabled": True, "grid_ids": list(range(18)),
                                             "prob_scale": 2.0, "delay_scale": 0.5, "cost_per_grid": 1000}})
    in_app = on.plan.grid < 18
    ra, rb = np.isfinite(off.plan.report_at), np.isfinite(on.plan.report_at)
    np.testing.assert_array_equal(ra[~in_app], rb[~in_app])
    assert np.all(rb[ra & in_app])
    assert rb[in_app].sum() > 1.5 * ra[in_app].sum()
    both = ra & rb & in_app
    np.testing.assert_allclose((on.plan.report_at - on.plan.time)[both],
                               0.5 * (off.plan.report_at - off.plan.time)[both])
    r = on.run()
    assert r.grids["app"].sum() == 18
    assert r.summary()["infrastructure_cost"] == pytest.approx(18 * 1000 * 14 / 365)


# --------------------------------------------------------------------------- names and errors

@pytest.mark.parametrize("over, path", [
    ({"governance.volunteers": {"categories": ["garbag"]}}, "governance.volunteers.categories[0]"),
    ({"governance.festival": {"rate_multipliers": {"neighbour_dispute": 1.5}}},
     "governance.festival.rate_multipliers.neighbour_dispute"),
    ({"governance.liaison": {"detetc": 0.5}}, "governance.liaison.detetc"),
    ({"governance.teams": {"members": [{"role": "police"}]}}, "governance.teams.members[0].categories"),
])
def test_bad_governance_input_names_the_field(over, path):
    with pytest.raises(ScenarioError) as err:
        govsim.load_scenario(SMART, overrides=over)
    assert path in str(err.value)


@pytest.mark.parametrize("over, path", [
    ({"governance.participation": {"communities": {"c99": 0.5}}}, "governance.participation.communities.c99"),
    ({"governance.festival": {"communities": ["cc0"]}}, "governance.festival.communities[0]"),
    ({"governance.red_property": {"area_types": ["unowned"]}}, "governance.red_property.area_types[0]"),
])
def test_unknown_community_or_area_is_reported_with_the_file(over, path):
    # found when the file is loaded (so `govsim validate` reports it), not when the run is built
    with pytest.raises(ScenarioError) as err:
        govsim.load_scenario(SMART, overrides=over)
    assert path in str(err.value) and "smart_dispatch.yaml" in str(err.value)


def test_unknown_community_of_a_grids_csv_district_is_reported_when_built(tmp_path):
    # a district read from a CSV is known only once read: the same check runs when the run is built
    (tmp_path / "grids.csv").write_text("x_m,y_m,households,community\n0,0,300,north\n300,0,300,south\n")
    doc = {"territory": {"grids_csv": "grids.csv"}, "categories": {"garbage": {"rate": 1}},
           "governance": {"participation": {"communities": {"west": 0.5}},
                          "festival": {"communities": ["north", "sooth"]}}}
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump(doc))
    s = govsim.load_scenario(f)
    with pytest.raises(ScenarioError) as err:
        govsim.Simulation(s, 1)
    text = str(err.value)
    assert "s.yaml" in text and "governance.participation.communities.west" in text
    assert "governance.festival.communities[1]" in text and "did you mean 'south'" in text


def test_same_seed_same_run_with_every_mechanism():
    from test_engine_invariants import COLLECTIVE, GOVERNANCE

    over = {"governance": GOVERNANCE, "categories.garbage_point": COLLECTIVE, "horizon": "6d"}
    a = govsim.run(SMART, seed=4, overrides=over)
    b = govsim.run(SMART, seed=4, overrides=over)
    pd.testing.assert_frame_equal(a.issues, b.issues)
    pd.testing.assert_frame_equal(a.council_topics, b.council_topics)
    pd.testing.assert_series_equal(a.summary(), b.summary())


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_governance_tables_survive_a_run_directory(tmp_path, fmt):
    from test_engine_invariants import COLLECTIVE, GOVERNANCE

    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    over = {"governance": GOVERNANCE, "categories.garbage_point": COLLECTIVE, "horizon": "9d"}
    r = govsim.run(SMART, seed=4, overrides=over)
    r.to_dir(tmp_path, fmt=fmt)
    back = govsim.Result.from_dir(tmp_path)
    assert len(back.council_topics) == len(r.council_topics) > 0
    pd.testing.assert_series_equal(back.summary(), r.summary())


def test_sensors_on_the_busiest_grids_catch_more_than_at_random():
    """Where cameras pay off: the same number of sensor grids, placed where most detectable
    issues are expected, raise more first discoveries by sensor than a random placement."""
    base = {"channels.sensors": {"enabled": True, "coverage": 0.25, "cost_per_grid": 1000}}
    found = {}
    for placement in ("random", "busiest"):
        over = {**base, "channels.sensors": {**base["channels.sensors"], "placement": placement}}
        r = run(seed=24, horizon="70d", **over)
        found[placement] = int((r.issues["channel"] == "sensor").sum())
        assert r.summary()["infrastructure_cost"] == pytest.approx(9 * 1000 * 70 / 365)
    # the counts are Poisson-like: require a gap of 4 standard errors of the difference (a
    # 70-day run gives the test the power to see the expected ~25% gain)
    assert found["busiest"] - found["random"] > Z * math.sqrt(found["busiest"] + found["random"]), found


def test_only_teams_and_alliance_staff_stand_in_for_a_department():
    over = {**SAFETY_DEPT, "governance.volunteers": {"categories": ["safety_hazard", "garbage"], "per_community": 2},
            "governance.red_property": {"rate_multipliers": {"garbage": 0.5}, "categories": ["safety_hazard"]}}
    r = run(seed=25, **over)
    d = r.issues[(r.issues["category"] == "safety_hazard") & r.issues["assigned_at"].notna()]
    assert len(d) > 10
    assert d["department"].eq("police").all() and (d["handler"] == -1).all()
