"""Fitting a scenario to summary targets (govsim.calibration.targets): a known parameter is
recovered within its statistical uncertainty, a target already met leaves the scenario as it
is, and bad keys or targets are refused with messages that name them."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from govsim.calibration.targets import DERIVED_METRICS, derived_metrics, fit_targets
from govsim.scenario import ScenarioError

GRIDS = 36
HOUSEHOLDS = 300


def one_category(rate: float = 4.0) -> dict:
    """A 6 × 6 district with exactly 300 households per grid and one category: the expected
    number of issues a day is rate × 0.3 × 36."""
    return {
        "name": "one_category",
        "horizon": "7d",
        "territory": {"rows": 6, "cols": 6, "households": HOUSEHOLDS},
        "workers": {"per_grid": 1},
        "categories": {"garbage": {"rate": rate, "handling": {"dist": "lognormal", "mean": "20min",
                                                                "sd": "10min"}}},
        "departments": {"sanitation": {"staff": 3}},
    }


def expected_per_month(rate: float) -> float:
    return rate * HOUSEHOLDS / 1000 * GRIDS * 30


def test_recovers_a_known_rate_from_issues_per_month():
    truth = 10.0
    wanted = expected_per_month(truth)  # 3,240 issues a month, exactly (the Poisson mean)
    fit = fit_targets(one_category(rate=2.5), {"volume": ("n_issues_per_month", "≈", wanted)},
                      {"categories.garbage.rate": (0.5, 40.0)}, n=3, seed=11)
    got = fit.params["categories.garbage.rate"]
    # The fitted rate solves mean count(rate) = expected count(truth) on 3 replications of 7
    # days: its log-error is that of a Poisson mean of about 3 × 7 × 108 issues. The fit stops
    # once within a tenth of the 5 % tolerance (0.005), which is added.
    total = 3 * 7 * truth * HOUSEHOLDS / 1000 * GRIDS
    assert abs(math.log(got / truth)) < 4 / math.sqrt(total) + 0.005
    row = fit.table.set_index("target").loc["volume"]
    assert row["met"] and row["lower"] <= wanted <= row["upper"]
    assert fit.evaluations <= 40
    assert fit.scenario.categories["garbage"].rate == pytest.approx(got)
    # Common random numbers: evaluating the same point twice costs nothing and gives the same loss.
    assert fit.history["categories.garbage.rate"].is_unique


def test_a_target_already_met_returns_the_starting_point():
    start = 4.0
    fit = fit_targets(one_category(rate=start),
                      {"volume": ("n_issues_per_month", "≈", expected_per_month(start), 0.2),
                       "closed": ("resolution_rate", ">=", 0.5)},
                      {"categories.garbage.rate": (0.5, 40.0), "workers.per_grid": (1, 3)}, n=2, seed=3)
    assert fit.params == {"categories.garbage.rate": start, "workers.per_grid": 1.0}
    assert fit.params == fit.start
    assert fit.evaluations == 1
    assert fit.overrides == {"categories.garbage.rate": 4.0, "workers.per_grid": 1}
    assert fit.table["met"].all()
    assert list(fit.table.columns[:8]) == ["target", "metric", "op", "wanted", "model", "lower", "upper", "met"]


@pytest.mark.parametrize("key, words", [
    ("categories.garbagee.rate", ["categories.garbagee.rate", "garbagee", "did you mean 'garbage'"]),
    ("workers.perr_grid", ["workers.perr_grid", "perr_grid", "per_grid"]),
    ("departments.police.staff", ["departments.police.staff", "'police'", "sanitation"]),
    ("policy", ["policy", "only numbers"]),
    ("categories.garbage..rate", ["malformed key"]),
])
def test_a_bad_key_is_a_scenario_error_naming_it(key, words):
    with pytest.raises(ScenarioError) as err:
        fit_targets(one_category(), {"v": ("n_issues", "≈", 100)}, {key: (1, 2)}, n=1)
    text = str(err.value)
    for w in words:
        assert w in text, text


def test_a_bound_the_schema_refuses_is_a_scenario_error_naming_the_key():
    with pytest.raises(ScenarioError, match="categories.garbage.patrol_detect"):
        fit_targets(one_category(), {"v": ("n_issues", "≈", 100)},
                    {"categories.garbage.patrol_detect": (0.5, 1.5)}, n=1)


@pytest.mark.parametrize("bounds", [(5, 1), (1, 1), (1,), ("a", 2), (0, math.inf), 3])
def test_bad_bounds_are_a_value_error_naming_the_key(bounds):
    with pytest.raises(ValueError, match=r"vary\['categories.garbage.rate'\]"):
        fit_targets(one_category(), {"v": ("n_issues", "≈", 100)}, {"categories.garbage.rate": bounds}, n=1)


@pytest.mark.parametrize("target, words", [
    (("n_isues", "≈", 100), ["target 'v'", "unknown metric 'n_isues'", "n_issues"]),
    (("n_issues", "=>", 100), ["target 'v'", "n_issues", "unknown comparison '=>'"]),
    (("n_issues", "≈", "many"), ["target 'v'", "value must be a finite number"]),
    (("n_issues", "≈", 100, -0.1), ["target 'v'", "tol must be >= 0"]),
    (("n_issues", "≈"), ["target 'v'", "expected (metric, op, value)"]),
])
def test_bad_targets_are_value_errors_naming_them(target, words):
    with pytest.raises(ValueError) as err:
        fit_targets(one_category(), {"v": target}, {"categories.garbage.rate": (1, 2)}, n=1)
    assert not isinstance(err.value, ScenarioError)
    for w in words:
        assert w in str(err.value), str(err.value)


def test_integer_and_duration_keys_are_written_as_the_file_takes_them():
    fit = fit_targets(one_category(), {"ok": ("resolution_rate", ">=", 0.0)},
                      {"departments.sanitation.staff": (1, 9),
                       "categories.garbage.handling.mean": (0.1, 2.0)}, n=1, seed=1)
    assert fit.overrides == {"departments.sanitation.staff": 3, "categories.garbage.handling.mean": "0.333333h"}
    assert isinstance(fit.overrides["departments.sanitation.staff"], int)


def test_derived_metrics_by_hand():
    nan = np.nan
    issues = pd.DataFrame({
        # created before the warm-up (left out), a patrol find handled at once, a patrol find sent
        # to a department, a report dispatched, a hidden one, a walk-in
        "created_at":    [0.5, 2.0, 3.0, 4.0, 5.0, 6.0],
        "discovered_at": [1.0, 2.5, 3.5, 6.0, nan, 6.0],
        "channel":       ["patrol", "patrol", "patrol", "report", "", "walk_in"],
        "assigned_at":   [1.0, 2.5, 3.6, 6.5, nan, 6.0],
        "resolved_at":   [1.5, 3.0, 8.5, nan, nan, nan],
        "status":        ["resolved", "resolved", "resolved", "assigned", "hidden", "reported"],
        "department":    [nan, nan, "city", nan, nan, nan],
    })
    d = derived_metrics(issues, horizon=49.0, warmup=1.0, policy="smart_dispatch")
    assert set(d) == set(DERIVED_METRICS)
    assert d["n_issues_per_day"] == pytest.approx(5 / 2)
    assert d["n_issues_per_month"] == pytest.approx(5 / 2 * 30)
    assert d["cases_per_day"] == pytest.approx(4 / 2)
    assert d["closed_share"] == pytest.approx(2 / 4)
    assert d["closure_time_mean"] == pytest.approx((0.5 + 5.0) / 2)
    assert d["dispatched_share"] == pytest.approx(2 / 4)
    assert d["auto_dispatch_share"] == pytest.approx(2 / 4)
    assert d["patrol_found_share"] == pytest.approx(2 / 4)
    assert derived_metrics(issues, 49.0, 1.0, policy="traditional_patrol")["auto_dispatch_share"] == 0.0
