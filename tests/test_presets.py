"""Every preset in scenarios/ loads, runs on a short horizon and shows the mechanisms its
header describes; every preset has a header that cites its source."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import govsim
from govsim import Status

SCEN = Path(__file__).resolve().parent.parent / "scenarios"
PRESETS = sorted(p.stem for p in SCEN.glob("*.yaml"))

# The governance metrics each model must produce (non-NaN) — what makes it that model.
SIGNATURE = {
    "traditional_patrol": [],
    "smart_dispatch": ["n_false_alarms"],
    "hongqi_mediation": ["dispute_resolution_rate", "mediation_wait_mean"],
    "hongqi": ["dispute_resolution_rate", "volunteer_days", "council_topics", "handled_by_property_staff",
               "participation_end"],
    "zhoushan": ["liaison_household_share", "handled_by_team"],
    "changning_1plusN": ["handled_by_alliance", "handled_by_team", "liaison_household_share",
                         "participation_end"],
    "chaoyang_festival": ["participation_end"],
    "lujiazui_alliance": ["handled_by_alliance"],
    "dongcheng": ["department_backlog_end"],
}


def test_the_issue_list_of_presets_is_there():
    assert set(SIGNATURE) - {"district"} <= set(PRESETS)
    assert set(PRESETS) - {"district"} <= set(SIGNATURE)


@pytest.mark.parametrize("name", PRESETS)
def test_preset_runs_on_a_short_horizon(name):
    r = govsim.run(SCEN / f"{name}.yaml", seed=1, overrides={"horizon": "8d"})
    df = r.issues
    assert len(df) > 100
    assert df["status"].isin(Status.ALL).all()
    assert (df["status"] == Status.RESOLVED).mean() > 0.5
    s = r.summary()
    for key in SIGNATURE.get(name, []):
        assert not math.isnan(s[key]), key


@pytest.mark.parametrize("name", PRESETS)
def test_preset_header_cites_its_source(name):
    text = (SCEN / f"{name}.yaml").read_text(encoding="utf-8")
    header = text.split("\n\n")[0] if not text.startswith("#") else "".join(
        line for line in text.splitlines(keepends=True) if line.startswith("#"))
    assert len(header.splitlines()) >= 5, "a preset starts with a comment header explaining it"
    if name not in ("district", "traditional_patrol", "smart_dispatch"):
        assert "seeds/" in header, "cite the source article (seeds/00x)"


def test_chaoyang_festival_moves_participation_and_disputes():
    """Within one run: disputes per day fall by about 40% after the festival starts."""
    r = govsim.run(SCEN / "chaoyang_festival.yaml", seed=3)
    df = r.issues
    d = df[df["category"] == "neighbour_dispute"]
    start = 60 * 24.0
    before = (d["created_at"] < start).sum() / start
    after = (d["created_at"] >= start).sum() / (r.horizon - start)
    # ratio of two Poisson rates: SE of log ratio = sqrt(1/n1 + 1/n2)
    n1, n2 = (d["created_at"] < start).sum(), (d["created_at"] >= start).sum()
    assert abs(math.log(after / before) - math.log(0.6)) < 4 * math.sqrt(1 / n1 + 1 / n2)
    assert r.summary()["participation_end"] == pytest.approx(0.7)
