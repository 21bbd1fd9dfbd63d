"""Arrival rates by hour of the week and by grid, and categories handled on patrol.

These are the parts of the model a calibrated scenario uses: ``weekly`` profiles,
grid × category rate multipliers (inline or CSV), and ``patrol_handles``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import govsim
from govsim.scenario import ScenarioError, load_scenario


def _base(**category) -> dict:
    cat = {"rate": 40.0, "handling": "10min", "report": {"prob": 1.0, "delay": "1min"}}
    cat.update(category)
    return {
        "name": "t", "horizon": "56d",
        "territory": {"grids": [
            {"name": "a", "x_m": 150, "y_m": 150, "households": 1000},
            {"name": "b", "x_m": 450, "y_m": 150, "households": 1000},
        ], "points_per_grid": 4},
        "categories": {"litter": cat},
        "workers": {"per_grid": 1},
        "policy": "smart_dispatch",
    }


def test_weekly_profile_sets_the_weekend_share() -> None:
    weekly = [1.0] * 120 + [3.0] * 48  # Monday..Friday 1, Saturday and Sunday 3
    res = govsim.run(_base(weekly=weekly), seed=3)
    t = res.issues["created_at"].to_numpy()
    weekend = ((t // 24) % 7 >= 5).mean()
    expected = 48 * 3 / (120 + 48 * 3)
    se = math.sqrt(expected * (1 - expected) / len(t))
    assert abs(weekend - expected) < 4 * se, (weekend, expected, se)
    # The level is the weekly mean: rate × households / 1000 per day, per grid.
    n_expected = 40.0 * 2 * 56
    assert abs(len(t) - n_expected) < 4 * math.sqrt(n_expected)


def test_weekly_equal_to_the_tiled_hourly_profile_draws_the_same_issues() -> None:
    hourly = list(np.linspace(0.2, 2.0, 24))
    a = govsim.run(_base(hourly=hourly), seed=5).issues
    b = govsim.run(_base(weekly=hourly * 7), seed=5).issues
    assert a[["created_at", "point", "grid"]].equals(b[["created_at", "point", "grid"]])


def test_grid_multipliers_set_the_ratio_between_grids() -> None:
    data = _base()
    data["territory"]["rate_multipliers"] = {"litter": {"b": 3.0}}
    grid = govsim.run(data, seed=7).issues["grid"].to_numpy()
    na, nb = (grid == 0).sum(), (grid == 1).sum()
    log_ratio = math.log(nb / na)
    se = math.sqrt(1 / na + 1 / nb)
    assert abs(log_ratio - math.log(3.0)) < 4 * se


def test_csv_multipliers_equal_the_inline_ones(tmp_path) -> None:
    inline = _base()
    inline["territory"]["rate_multipliers"] = {"litter": {"a": 0.5, "b": 2.0}}
    (tmp_path / "rates.csv").write_text("grid,litter\na,0.5\nb,2\n", encoding="utf-8")
    from_csv = _base()
    from_csv["territory"]["rate_multipliers_csv"] = "rates.csv"
    import yaml

    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(from_csv), encoding="utf-8")
    a = govsim.run(inline, seed=2).issues
    b = govsim.run(str(path), seed=2).issues
    assert a[["created_at", "grid"]].equals(b[["created_at", "grid"]])


@pytest.mark.parametrize("text, where, what", [
    ("grid,litter\nz,1\n", "row 2, column 'grid'", "unknown grid 'z'"),
    ("grid,liter\na,1\n", "column 'liter'", "did you mean 'litter'"),
    ("grid,litter\na,-1\n", "row 2, column 'litter'", "expected a finite number >= 0"),
    ("grid,litter\na,inf\n", "row 2, column 'litter'", "expected a finite number >= 0"),
    ("name,litter\na,1\n", "territory.rate_multipliers_csv", "expected a column 'grid'"),
    ("grid,litter\na,1\na,2\n", "row 3, column 'grid'", "appears twice"),
])
def test_bad_multiplier_csv_names_file_row_and_column(tmp_path, text, where, what) -> None:
    msg = _error_of(_with_table(tmp_path, "rate_multipliers_csv", "rates.csv", text))
    assert "rates.csv" in msg and where in msg and what in msg, msg


def test_inline_multipliers_with_unknown_names() -> None:
    data = _base()
    data["territory"]["rate_multipliers"] = {"liter": {"a": 1.0}, "litter": {"q": 2.0}}
    with pytest.raises(ScenarioError) as err:
        govsim.run(data, seed=0)
    msg = str(err.value)
    assert "did you mean 'litter'" in msg and "unknown grid 'q'" in msg


@pytest.mark.parametrize("category, field, what", [
    ({"weekly": [1.0] * 24}, "categories.litter.weekly", "expected 168 weights"),
    ({"weekly": [0.0] * 168}, "categories.litter.weekly", "positive sum"),
    ({"patrol_handles": True}, "categories.litter.patrol_handles", "only a department's category"),
])
def test_bad_category_fields(category, field, what) -> None:
    with pytest.raises(ScenarioError) as err:
        load_scenario(_base(**category))
    assert field in str(err.value) and what in str(err.value)


def _with_table(tmp_path, key: str, name: str, text: str) -> str:
    """A scenario file in ``tmp_path`` whose ``territory.<key>`` is the CSV ``text``."""
    import yaml

    (tmp_path / name).write_text(text, encoding="utf-8")
    data = _base()
    data["territory"][key] = name
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return str(path)


def _error_of(path: str) -> str:
    with pytest.raises(ScenarioError) as err:
        govsim.run(path, seed=0)
    return str(err.value)


def _department_scenario(patrol_handles: bool) -> dict:
    data = _base(department="crew", patrol_handles=patrol_handles, patrol_detect=1.0,
                 report={"prob": 0.5, "delay": "2h"})
    data["horizon"] = "7d"
    data["departments"] = {"crew": {"staff": 50, "hours": None, "service": "30min"}}
    return data


@pytest.mark.parametrize("policy", ["smart_dispatch", "traditional_patrol"])
def test_patrol_handles_the_finders_cases_and_reports_go_to_the_department(policy) -> None:
    data = _department_scenario(True)
    data["policy"] = policy
    iss = govsim.run(data, seed=4).issues
    found = iss[iss["channel"] == "patrol"]
    reported = iss[iss["channel"] == "report"]
    assert len(found) > 20 and len(reported) > 20
    assert (found["handler"] >= 0).all() and found["department"].isna().all()
    routed = reported[reported["status"] != "reported"]  # still in the manual chain at the end
    assert len(routed) > 20 and (routed["department"] == "crew").all()
    # The finder handles it at once: no travel, the category's handling time.
    done = found[found["status"] == "resolved"]
    assert np.allclose(done["resolved_at"] - done["discovered_at"], 10 / 60)


def test_without_patrol_handles_everything_goes_to_the_department() -> None:
    iss = govsim.run(_department_scenario(False), seed=4).issues
    known = iss[iss["channel"].isin(["patrol", "report"]) & (iss["status"] != "reported")]
    assert (known["department"] == "crew").all() and (known["handler"] < 0).all()


@pytest.mark.parametrize("text, where, what", [
    ("grid,x_m,y_m\nz,1,1\n", "row 2, column 'grid'", "unknown grid 'z'"),
    ("grid,x_m,y_m\na,one,1\n", "row 2, column 'x_m'", "expected a finite number"),
    ("grid,x_m\na,1\n", "row 2", "missing y_m"),
])
def test_bad_points_csv_names_file_row_and_column(tmp_path, text, where, what) -> None:
    msg = _error_of(_with_table(tmp_path, "points_csv", "points.csv", text))
    assert "points.csv" in msg and where in msg and what in msg, msg


def test_points_csv_replaces_the_lattice_of_the_grids_it_lists(tmp_path) -> None:
    from govsim.engine import Simulation

    path = _with_table(tmp_path, "points_csv", "points.csv", "grid,x_m,y_m\nb,400,100\nb,500,200\nb,420,180\n")
    terr = Simulation(load_scenario(path), 0).territory
    assert len(terr.grid_points(0)) == 4  # grid a keeps its lattice
    pts = list(terr.grid_points(1))
    assert list(terr.point_x[pts]) == [400, 500, 420] and list(terr.point_y[pts]) == [100, 200, 180]
