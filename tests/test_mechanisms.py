"""The governance mechanism interface: a new mechanism is one file.

``CivilityCampaign`` below is a test-only mechanism registered through the public
registry — no edit to the engine, the policies, the result or the metrics modules —
that uses most hooks: rate changes (thinning), responders (hire), taking issues over
(take), a grid column, a table of its own, facts and metrics.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest

import govsim
from govsim.agents.participation import RateChange, community_grids
from govsim.mechanisms import MECHANISMS, Mechanism, References, RunView, register_mechanism, unregister_mechanism
from govsim.metrics import CORE_KEYS, TAIL_KEYS, summary_keys
from govsim.params import Duration, HoursConfig, doc
from govsim.tables import Column, TableSpec

PATROL = "scenarios/traditional_patrol.yaml"
# grid workers do not take parking: in the campaign's communities only its monitors do
SHORT = {"horizon": "6d", "workers.categories": ["garbage", "fire_lane", "street_vending", "stairwell_clutter",
                                                 "safety_hazard", "elderly_help", "neighbour_dispute"]}

CASES = TableSpec("campaign_cases", "issue the residents' own campaign took over", (
    Column("issue_id", "int64", "the issue"),
    Column("community", "str", "the community whose campaign took it"),
    Column("taken_at", "float64", "when it was taken over", "h"),
))


@dataclass(frozen=True)
class CampaignConfig:
    """Civility campaign (文明创建): fewer problems of some categories in the campaign's
    communities from a start on; monitors handle some categories; residents clean up
    stairwells themselves."""

    communities: list[str] = field(metadata=doc("communities of the campaign", min_len=1))
    rate_multipliers: dict[str, float] = field(default_factory=dict, metadata=doc("rates from the start", ge=0, le=1))
    start: Duration = field(default=0.0, metadata=doc("when it starts", "h", ge=0))
    monitors: int = field(default=1, metadata=doc("monitors per community", ge=0))
    monitor_categories: list[str] = field(default_factory=list, metadata=doc("what monitors handle"))
    self_managed: list[str] = field(default_factory=list, metadata=doc("categories residents handle themselves"))
    self_delay: Duration = field(default=24.0, metadata=doc("time residents take", "h", gt=0))


class CivilityCampaign(Mechanism):
    name = "civility_campaign"
    title = "civility campaign (文明创建)"
    Config = CampaignConfig
    metrics = ("campaign_cases", "handled_by_monitor")
    grid_columns = (Column("campaign", "float64", "1 in the campaign's grids"),)
    tables = (CASES,)

    def __init__(self, sim, cfg):
        super().__init__(sim, cfg)
        self.rows: list[tuple[int, str, float]] = []
        self.self_managed = [c in cfg.self_managed for c in sim.categories.names]

    @classmethod
    def references(cls, cfg: CampaignConfig) -> References:
        refs = References()
        refs.community("governance.civility_campaign.communities", cfg.communities)
        refs.category("governance.civility_campaign.rate_multipliers", cfg.rate_multipliers)
        refs.category("governance.civility_campaign.monitor_categories", cfg.monitor_categories)
        refs.category("governance.civility_campaign.self_managed", cfg.self_managed)
        return refs

    def _mask(self) -> np.ndarray:
        return community_grids(self.sim.territory, self.cfg.communities, "governance.civility_campaign.communities")

    def rate_changes(self) -> list[RateChange]:
        names = self.sim.categories.names
        return [RateChange(names.index(c), self._mask(), self.cfg.start, m, "campaign")
                for c, m in self.cfg.rate_multipliers.items()]

    def takes_categories(self) -> Collection[str]:
        return self.cfg.self_managed

    def hire(self, hiring) -> None:
        terr = self.sim.territory
        for name in self.cfg.communities:
            grids = np.flatnonzero(terr.grid_community == terr.communities.index(name)).tolist()
            hiring.add(grids, [HoursConfig(start=8.0, end=20.0)], self.cfg.monitors,
                       self.cfg.monitor_categories, 4.0, "monitor")

    def take(self, issue) -> bool:
        if issue.category < 0 or not self.self_managed[issue.category] or not self._mask()[issue.grid]:
            return False
        issue.status = govsim.Status.REFERRED
        issue.assigned_at = self.sim.env.now
        issue.path = "campaign"
        community = self.sim.territory.communities[self.sim.territory.grid_community[issue.grid]]
        self.rows.append((issue.id, community, self.sim.env.now))
        self.sim.after(self.cfg.self_delay, self.sim.settle, issue, None)
        return True

    def facts(self) -> dict[str, float]:
        return {"campaign_grid_share": float(self._mask().mean())}

    def grid_values(self) -> dict[str, np.ndarray]:
        return {"campaign": self._mask().astype(float)}

    def table_rows(self) -> dict[str, pd.DataFrame]:
        return {"campaign_cases": pd.DataFrame(self.rows, columns=list(CASES.names))}

    @classmethod
    def measure(cls, run: RunView) -> dict[str, float]:
        cases = run.tables["campaign_cases"]
        created = run.issues.set_index("issue_id")["created_at"]
        return {"campaign_cases": int(cases["issue_id"].isin(created.index).sum()),
                "handled_by_monitor": run.handled_by("monitor")}


CAMPAIGN = {"communities": ["c0", "c1"], "rate_multipliers": {"garbage": 0.5}, "start": "2d",
            "monitors": 1, "monitor_categories": ["parking"], "self_managed": ["stairwell_clutter"],
            "self_delay": "12h"}


@pytest.fixture
def campaign() -> Iterator[type[Mechanism]]:
    register_mechanism(CivilityCampaign)
    try:
        yield CivilityCampaign
    finally:
        unregister_mechanism(CivilityCampaign.name)


def run(campaign: dict | None = None, **over):
    overrides = {**SHORT, **over}
    if campaign is not None:
        overrides["governance.civility_campaign"] = campaign
    return govsim.run(PATROL, seed=3, overrides=overrides)


def test_a_registered_mechanism_runs_and_reports_its_metrics(campaign):
    r = run(CAMPAIGN)
    s = r.summary()
    keys = list(s.index)
    assert keys == list(summary_keys())
    assert keys[:len(CORE_KEYS)] == list(CORE_KEYS) and keys[-len(TAIL_KEYS):] == list(TAIL_KEYS)
    assert keys.index("campaign_cases") > keys.index("council_backlog_end")  # after the built-ins
    assert s["campaign_cases"] > 0 and s["handled_by_monitor"] > 0
    assert r.governance["campaign_grid_share"] == pytest.approx(r.grids["campaign"].mean())
    assert set(r.grids.loc[r.grids["campaign"] == 1, "community"]) == {"c0", "c1"}


def test_off_it_changes_nothing_and_its_metrics_are_zero(campaign):
    on_registry = run()
    unregister_mechanism(CivilityCampaign.name)
    plain = run()
    register_mechanism(CivilityCampaign)
    pd.testing.assert_frame_equal(on_registry.issues, plain.issues)
    s, base = on_registry.summary(), plain.summary()
    pd.testing.assert_series_equal(s[base.index], base)
    assert s["campaign_cases"] == 0 and s["handled_by_monitor"] == 0
    assert (on_registry.grids["campaign"] == 0).all()
    assert len(on_registry.tables["campaign_cases"]) == 0


def test_thinning_keeps_a_subset_of_the_same_issues(campaign):
    off, on = run(), run(CAMPAIGN)
    key = ["created_at", "category", "grid", "point"]
    a, b = off.issues[key], on.issues[key]
    assert len(b) < len(a)
    assert len(b.merge(a, on=key)) == len(b)  # common random numbers: a subset
    # only garbage in c0/c1 after the start can be missing
    missing = a.merge(b, on=key, how="left", indicator=True).query("_merge == 'left_only'")
    comm = off.grids.set_index("grid")["community"]
    assert set(missing["category"].astype(str)) == {"garbage"}
    assert set(comm[missing["grid"]]) <= {"c0", "c1"} and (missing["created_at"] >= 48).all()


def test_taken_issues_are_resolved_by_the_residents_after_the_delay(campaign):
    r = run(CAMPAIGN)
    issues = r.issues.set_index("issue_id")
    cases = r.tables["campaign_cases"]
    assert len(cases) > 0
    taken = issues.loc[cases["issue_id"]]
    assert (taken["path"] == "campaign").all() and (taken["category"] == "stairwell_clutter").all()
    done = taken["status"] == "resolved"
    assert done.any()
    np.testing.assert_allclose(taken.loc[done, "resolved_at"], cases.set_index("issue_id").loc[
        taken.index[done], "taken_at"] + 12.0)
    # nobody on the work board handles the category in the campaign's communities
    in_campaign = issues["community"].isin(["c0", "c1"]) & (issues["category"] == "stairwell_clutter")
    assert (issues.loc[in_campaign, "handler"] == -1).all()


def test_monitors_are_hired_and_handle_only_their_categories(campaign):
    r = run(CAMPAIGN)
    monitors = r.workers[r.workers["kind"] == "monitor"]
    assert len(monitors) == 2  # one per community
    handled = r.issues[r.issues["handler"].isin(monitors["worker"])]
    assert len(handled) > 0 and set(handled["category"].astype(str)) == {"parking"}
    parking = r.issues[(r.issues["category"] == "parking") & (r.issues["handler"] >= 0)]
    assert set(parking["handler"]) <= set(monitors["worker"])
    assert set(parking["community"]) == {"c0", "c1"}


def test_its_table_and_metrics_survive_a_run_directory(campaign, tmp_path):
    r = run(CAMPAIGN)
    r.to_dir(tmp_path, fmt="csv")
    assert (tmp_path / "campaign_cases.csv").exists()
    back = govsim.Result.from_dir(tmp_path)
    pd.testing.assert_frame_equal(back.tables["campaign_cases"], r.tables["campaign_cases"], check_dtype=False)
    pd.testing.assert_series_equal(back.summary(), r.summary())


def test_its_section_is_validated_when_the_file_is_loaded(campaign):
    with pytest.raises(govsim.ScenarioError) as err:
        govsim.load_scenario(PATROL, overrides={"governance.civility_campaign": {
            **CAMPAIGN, "communities": ["c0", "c99"], "self_manage": ["garbage"], "start": "-1h"}})
    text = str(err.value)
    assert "governance.civility_campaign.self_manage: unknown key; did you mean 'self_managed'?" in text
    assert "governance.civility_campaign.start" in text
    with pytest.raises(govsim.ScenarioError, match=r"communities\[1\]: unknown community 'c99'"):
        govsim.load_scenario(PATROL, overrides={"governance.civility_campaign": {**CAMPAIGN,
                                                                                  "communities": ["c0", "c99"]}})
    with pytest.raises(govsim.ScenarioError, match="did you mean 'civility_campaign'"):
        govsim.load_scenario(PATROL, overrides={"governance.civility_campain": CAMPAIGN})


def test_the_reference_lists_its_keys(campaign):
    from govsim.scenario.convert import describe
    from govsim.scenario.schema import Scenario

    rows = {r["path"]: r for r in describe(Scenario)}
    assert rows["governance.civility_campaign"]["doc"] == "civility campaign (文明创建)"
    assert rows["governance.civility_campaign.self_delay"]["unit"] == "h"


def test_clashing_or_nameless_mechanisms_are_refused(campaign):
    class Clash(Mechanism):
        name = "clash"
        metrics = ("volunteer_days",)

    with pytest.raises(ValueError, match="volunteer_days"):
        register_mechanism(Clash)

    class Nameless(Mechanism):
        pass

    with pytest.raises(ValueError, match="non-empty class attribute 'name'"):
        register_mechanism(Nameless)
    assert "clash" not in MECHANISMS


def test_the_built_in_mechanisms_and_their_metric_order():
    assert list(MECHANISMS)[:9] == ["liaison", "participation", "festival", "volunteers", "teams", "alliance",
                                    "red_property", "councils", "training"]
    # the summary's order as before the mechanisms were components (results files depend on it)
    assert summary_keys()[len(CORE_KEYS):] == (
        "liaison_household_share", "liaison_contact_share", "liaison_found_share", "participation_end",
        "volunteer_days", "volunteer_handled", "problems_per_volunteer_day",
        "handled_by_team", "handled_by_alliance", "handled_by_property_staff",
        "council_topics", "council_agreement_rate", "council_time_mean", "council_backlog_end",
        "infrastructure_cost")
