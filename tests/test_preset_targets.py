"""scenarios/dongcheng.yaml reproduces Dongcheng's published figures, checked on a short horizon.

A month at full size takes seconds, but a test should not; over 4 days (the first a warm-up)
the figures that are rates per day or shares of cases can be checked: cases registered per
day (40,000 a month ⇒ 1,333.3 a day), the share closed, the mean handling time and the share
dispatched automatically, each over the cases registered (discovered) in a window of steady
state. Tolerances come from the replications (fixed seeds, ±4 standard errors of the mean).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

import govsim
from govsim.experiments import replication_seed
from govsim.experiments.stats import t_interval

SCEN = Path(__file__).resolve().parent.parent / "scenarios" / "dongcheng.yaml"
N, SEED = 4, 7
DAY = 24.0


@pytest.fixture(scope="module")
def runs() -> pd.DataFrame:
    sc = govsim.load_scenario(SCEN, overrides={"horizon": "4d", "warmup": "1d"})
    rows = []
    for i in range(N):
        r = govsim.Simulation(sc, replication_seed(SEED, i)).run()
        df = r.issues
        t = df["discovered_at"].to_numpy(float)
        # Registration is a flow: cases registered in [1 d, 4 d), all arrivals of the window
        # and of the day before feed it, so the start-up and the end of the run do not bias it.
        registered = (t >= DAY) & (t < 4 * DAY)
        # Outcomes of the cases registered in [1 d, 3 d): followed for at least a day.
        followed = df[(t >= DAY) & (t < 3 * DAY)]
        resolved = followed["status"].astype(str) == "resolved"
        closure = (followed["resolved_at"] - followed["discovered_at"])[resolved]
        on_spot = ((followed["channel"].astype(str) == "patrol") & followed["department"].isna()
                   & (followed["assigned_at"] == followed["discovered_at"]))
        rows.append({"cases_per_day": registered.sum() / 3.0, "closed_share": resolved.mean(),
                     "closure_time_mean": closure.mean(),
                     "auto_dispatch_share": (followed["assigned_at"].notna() & ~on_spot).mean(),
                     "workers": len(r.workers[r.workers["kind"] == "grid_worker"]),
                     "grids": len(r.grids)})
    return pd.DataFrame(rows)


def _ci(x: pd.Series) -> tuple[float, float]:
    ci = t_interval(x.to_numpy(float))
    return ci["mean"], ci["sd"] / math.sqrt(ci["n"])


def test_structure_1652_grids_and_956_collectors(runs):
    assert (runs["grids"] == 1652).all()
    assert (runs["workers"] == 956).all()


def test_about_40000_cases_a_month(runs):
    mean, se = _ci(runs["cases_per_day"])
    # The rate was fitted (3 replications of 30 days, about 120,000 cases) to 40,000 a month:
    # its own relative uncertainty, 1/sqrt(120,000), adds to the test's.
    se_fit = 40000 / 30 / math.sqrt(120_000)
    assert abs(mean - 40000 / 30) < 4 * math.hypot(se, se_fit), (mean, se)


def test_over_95_percent_closed(runs):
    mean, se = _ci(runs["closed_share"])
    assert mean - 4 * se > 0.95, (mean, se)


def test_mean_handling_time_under_7_hours(runs):
    mean, se = _ci(runs["closure_time_mean"])
    assert mean + 4 * se < 7.0, (mean, se)


def test_over_70_percent_dispatched_automatically(runs):
    mean, se = _ci(runs["auto_dispatch_share"])
    assert mean - 4 * se > 0.70, (mean, se)
