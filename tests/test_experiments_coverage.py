"""Interval coverage: the 95% intervals of govsim.replicate contain the true mean 93–97% of the time.

The case has two exactly known means. One grid of 1,000 households with sensors; one issue
category at 20 issues per 1,000 households per day with a flat hourly profile; sensor false
alarms at 20 per sensor grid per day; nothing is found by patrol or reports; a 2-day horizon
with a 12-hour warm-up passed to ``replicate``. Counted after the warm-up, the issues
(``n_issues``) and the false alarms (``n_false_alarms``) are independent Poisson variables
(drawn up front from different random streams) with mean 20 × 1.5 days = 30 each.

400 experiments of 5 replications, each giving an interval for both metrics: 800
independent intervals. Replication ``i`` of a master seed does not depend on how many
replications are asked for, so one ``replicate(n=2000)`` (on all cores) holds the 400
experiments: replications 5k..5k+4 form experiment k, and experiment 0 *is*
``replicate(n=5)`` with the same seed (checked). Each experiment's intervals are computed by
the code that builds ``Replications.table`` (``stats.aggregate``).

The binomial sd of the observed coverage is sqrt(0.95 × 0.05 / 800) = 0.77%, so the
acceptance band [93%, 97%] is ±2.6 sd around 95%. The Student-t interval's own coverage for
Poisson(30) data and n = 5 is 94.9% (Monte Carlo, 400,000 samples). Deterministic: fixed seed.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import govsim
from govsim.experiments.api import METRICS
from govsim.experiments.stats import aggregate

N_EXPERIMENTS = 400
N_REPLICATIONS = 5
SEED = 20260
KNOWN = ["n_issues", "n_false_alarms"]
TRUE_MEAN = 20.0 * 1.0 * (48.0 - 12.0) / 24.0  # per day × (1 grid, 1,000 households) × days after warm-up

SCENARIO = {
    "name": "poisson_counts",
    "horizon": "2d",
    "territory": {"rows": 1, "cols": 1, "points_per_grid": 1, "households": 1000},
    "channels": {"patrol": False, "reports": {"enabled": False},
                 "sensors": {"enabled": True, "coverage": 1.0, "false_alarms_per_day": 20}},
    "categories": {"noise": {"rate": 20, "profile": "flat"}},
}


def test_t_intervals_cover_the_true_mean_95_percent_of_the_time() -> None:
    scenario = govsim.load_scenario(SCENARIO)
    everything = govsim.replicate(scenario, n=N_EXPERIMENTS * N_REPLICATIONS, seed=SEED,
                                  warmup="12h", progress=False)
    runs = everything.runs
    assert len(runs) == N_EXPERIMENTS * N_REPLICATIONS
    for metric in KNOWN:  # the whole sample agrees with the known mean (±4 standard errors)
        assert runs[metric].mean() == pytest.approx(TRUE_MEAN, abs=4 * math.sqrt(TRUE_MEAN / len(runs)))
    assert abs(np.corrcoef(runs["n_issues"], runs["n_false_alarms"])[0, 1]) < 0.1  # independent

    first = govsim.replicate(scenario, n=N_REPLICATIONS, seed=SEED, warmup="12h",
                             executor="sequential")
    pd.testing.assert_frame_equal(first.runs, runs.iloc[:N_REPLICATIONS].reset_index(drop=True))
    pd.testing.assert_frame_equal(first.table, aggregate(runs.iloc[:N_REPLICATIONS], METRICS))

    hits = total = 0
    for k in range(N_EXPERIMENTS):
        block = runs.iloc[k * N_REPLICATIONS:(k + 1) * N_REPLICATIONS]
        for _, row in aggregate(block, KNOWN).iterrows():
            assert row["n"] == N_REPLICATIONS
            hits += bool(row["ci_low"] <= TRUE_MEAN <= row["ci_high"])
            total += 1
    coverage = hits / total
    se = math.sqrt(coverage * (1 - coverage) / total)
    print(f"\ncoverage {coverage:.4f} (95% CI {coverage - 1.96 * se:.4f}-{coverage + 1.96 * se:.4f}) "
          f"over {total} intervals from {N_EXPERIMENTS} experiments of n={N_REPLICATIONS}; "
          f"{everything.info['executor']}")
    assert 0.93 <= coverage <= 0.97, coverage
