"""The classroom explorer without a browser (issue 14): controls → overrides → results.

The logic of :mod:`govsim.widgets` is checked as plain functions (which dotted keys each
control sets, every bad value a clear message, the numbers against :func:`govsim.compare` and
single runs on the same seeds), then the ipywidgets explorer by setting its controls and
pressing its button, and the message of a missing extra. Short horizons: each run here is a
fraction of a second.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import govsim
from govsim.experiments import replication_seed
from govsim.widgets import (
    ControlError, Controls, check_controls, explore, preset_controls, render, scenario_overrides,
)

FAST = {"horizon": "1d", "replications": 2, "seed": 7}


# --------------------------------------------------------------------------- controls → overrides


def test_the_preset_own_values_change_nothing() -> None:
    for preset in ("traditional_patrol", "smart_dispatch", "hongqi", "changning_1plusN"):
        c = preset_controls(preset)
        assert scenario_overrides(c) == {}, preset
    c = preset_controls("smart_dispatch")
    assert (c.workers_per_grid, c.sensors, c.volunteers, c.policy) == (1.0, 0.5, 0, "smart_dispatch")
    assert preset_controls("hongqi").participation == 0.8 and preset_controls("hongqi").volunteers == 1
    assert preset_controls("traditional_patrol").participation == 0.3  # no mechanism: as calibrated


def test_sensors_on_listed_grids_show_their_share(tmp_path: Path) -> None:
    scenarios = Path(__file__).resolve().parents[1] / "scenarios"
    f = tmp_path / "listed.yaml"
    f.write_text(f"extends: {scenarios / 'smart_dispatch.yaml'}\nchannels:\n  sensors: {{grid_ids: [0, 1, 2, 3, 4, 5, 6, 7, 8]}}\n")
    c = preset_controls(str(f))
    assert c.sensors == 0.25  # 9 of the 36 grids
    assert scenario_overrides(c) == {}  # left alone, the listed grids stay
    assert scenario_overrides(Controls(preset=str(f), sensors=0.5)) == {
        "channels.sensors.enabled": True, "channels.sensors.coverage": 0.5, "channels.sensors.grid_ids": None}


def test_each_control_sets_its_dotted_keys() -> None:
    tp = preset_controls("traditional_patrol")
    assert scenario_overrides(Controls(preset="traditional_patrol", workers_per_grid=2)) == {"workers.per_grid": 2.0}
    assert scenario_overrides(Controls(preset="traditional_patrol", participation=0.6)) == {
        "governance.participation.level": 0.6}
    assert scenario_overrides(Controls(preset="traditional_patrol", sensors=0.3)) == {
        "channels.sensors.enabled": True, "channels.sensors.coverage": 0.3, "channels.sensors.grid_ids": None}
    assert scenario_overrides(Controls(preset="smart_dispatch", sensors=0)) == {"channels.sensors.enabled": False}
    assert scenario_overrides(Controls(preset="traditional_patrol", policy="smart_dispatch")) == {
        "policy": "smart_dispatch"}
    # volunteers: a preset that has them changes their number; one that has none gets Hongqi's posts
    assert scenario_overrides(Controls(preset="hongqi", volunteers=3)) == {"governance.volunteers.per_community": 3}
    assert scenario_overrides(Controls(preset="hongqi", volunteers=0)) == {"governance.volunteers": None}
    added = scenario_overrides(Controls(preset="traditional_patrol", volunteers=2))["governance.volunteers"]
    assert added["per_community"] == 2 and added["categories"] == ["garbage", "stairwell_clutter", "parking"]
    # the extra lines, as --set; a control left at the preset's value adds nothing
    extra = "workers.speed_kmh=3\n\n# a comment\nchannels.reports.prob_scale=1.2"
    assert scenario_overrides(Controls(preset="traditional_patrol", workers_per_grid=tp.workers_per_grid,
                                       extra=extra)) == {"workers.speed_kmh": 3, "channels.reports.prob_scale": 1.2}
    # every override is a valid scenario: the scenario loads and has the values
    c = Controls(preset="traditional_patrol", workers_per_grid=2, participation=0.6, sensors=0.3, volunteers=2,
                 policy="smart_dispatch", horizon="1d")
    _, base, yours = check_controls(c)
    assert base.workers.per_grid == 1 and yours.workers.per_grid == 2 and yours.policy == "smart_dispatch"
    assert yours.governance.participation is not None and yours.governance.participation.level == 0.6
    assert yours.channels.sensors.enabled and yours.channels.sensors.coverage == 0.3
    assert yours.governance.volunteers is not None and yours.horizon == base.horizon == 24.0


@pytest.mark.parametrize("values, message", [
    ({"workers_per_grid": 0}, "workers per grid: expected a number from 0.25 to 4, got 0"),
    ({"workers_per_grid": float("nan")}, "workers per grid: expected a number from 0.25 to 4, got nan"),
    ({"participation": 1.5}, "participation: expected a number from 0.05 to 1, got 1.5"),
    ({"sensors": -0.1}, "sensors: expected a number from 0 to 1, got -0.1"),
    ({"volunteers": 2.5}, "volunteers: expected a whole number from 0 to 20, got 2.5"),
    ({"policy": "city_brain"}, "policy: expected one of traditional_patrol, hotline_centre, smart_dispatch, "
                               "got 'city_brain'"),
    ({"horizon": "7"}, "horizon: expected a duration with a unit such as '15min', '2h' or '1d', got '7'"),
    ({"horizon": "30d"}, "horizon: expected from 1h to 2w (a press should answer in seconds), got '30d'"),
    ({"replications": 0}, "replications: expected a whole number from 1 to 10, got 0"),
    ({"seed": -1}, "seed: expected a whole number >= 0, got -1"),
    ({"preset": "no_such_preset"}, "preset: no_such_preset: file not found"),
    ({"extra": "workers.per_grid"}, "more settings, line 1: expected KEY=VALUE"),
    ({"extra": "horizon=2d"}, "more settings: set the horizon in its own box"),
    ({"extra": "workers.spede_kmh=3"}, "your settings: workers.spede_kmh: unknown key; did you mean 'speed_kmh'?"),
    ({"lang": "fr"}, "language: expected en or zh, got 'fr'"),
])
def test_a_bad_value_gets_one_clear_message(values: dict[str, object], message: str) -> None:
    controls = Controls(**{**FAST, **values})  # type: ignore[arg-type]
    with pytest.raises(ControlError) as err:
        check_controls(controls)
    assert str(err.value).startswith(message), str(err.value)
    view = render(controls)  # what the widget shows: the message, never an exception
    assert not view.ok and view.message == str(err.value) and not view.table_html and not view.forest_png


# --------------------------------------------------------------------------- results


def test_the_numbers_are_the_library_s_on_the_same_seeds() -> None:
    c = Controls(preset="traditional_patrol", policy="smart_dispatch", sensors=0.5, **FAST)  # type: ignore[arg-type]
    ex = explore(c)
    base = govsim.load_scenario("traditional_patrol", overrides={"horizon": "1d"})
    yours = govsim.load_scenario("traditional_patrol", overrides={
        "horizon": "1d", "policy": "smart_dispatch", "channels.sensors.enabled": True,
        "channels.sensors.coverage": 0.5, "channels.sensors.grid_ids": None})
    cmp = govsim.compare([base, yours], n=2, seed=7, jobs=1, progress=False)
    mine = ex.comparison.table.set_index("metric")
    theirs = cmp.table.set_index("metric")
    for col in ("mean_baseline", "mean_scenario", "difference", "ci_low", "ci_high"):
        np.testing.assert_array_equal(mine[col].to_numpy(float), theirs[col].to_numpy(float), err_msg=col)
    # the maps' runs are replication 0 of the comparison: the same issues, the same summary
    first = ex.comparison.runs[ex.comparison.runs["replication"] == 0].set_index("scenario")
    for label, result in ex.results.items():
        s = result.summary()
        again = govsim.Simulation(yours if label == "your settings" else base, replication_seed(7, 0)).run()
        assert s["n_issues"] == first.loc[label, "n_issues"] == again.summary()["n_issues"]
        assert s["resolution_time_mean"] == pytest.approx(first.loc[label, "resolution_time_mean"], abs=0, rel=0)
    # the table: the labelled metrics with their numbers formatted by unit
    t = ex.table()
    assert list(t.columns) == ["metric", "traditional_patrol (preset)", "your settings", "difference",
                               "95% interval", "significant"]
    row = t.set_index("metric").loc[[m for m in t["metric"] if m.startswith("Resolution rate")][0]]
    rate = theirs.loc["resolution_rate"]
    assert row["traditional_patrol (preset)"] == f"{100 * rate['mean_baseline']:.1f} %"
    assert row["difference"] == f"{100 * rate['difference']:+.1f} pp"
    row = t.set_index("metric").loc[[m for m in t["metric"] if m.startswith("Resolution time, mean")][0]]
    assert row["your settings"] == f"{theirs.loc['resolution_time_mean', 'mean_scenario']:.2f} h"
    assert t.iloc[0]["metric"] == "Issues" and t.iloc[0]["difference"] == "+0"  # same issues (CRN)


def test_the_figures_forest_and_shared_scale_maps() -> None:
    ex = explore(Controls(preset="traditional_patrol", workers_per_grid=2, **FAST))  # type: ignore[arg-type]
    fig = ex.maps()
    panels = fig.axes[:2]  # then the colour bar
    assert [ax.get_title() for ax in panels] == ["traditional_patrol (preset)", "your settings"]
    norms = {(c.norm.vmin, c.norm.vmax) for ax in panels for c in ax.collections}
    assert len(norms) == 1  # one colour scale for both maps
    from govsim.plots.maps import grid_visits_per_day

    for ax, result in zip(panels, ex.results.values()):
        np.testing.assert_array_equal(np.ma.filled(ax.collections[0].get_array(), np.nan),
                                      grid_visits_per_day(result))
    lo, hi = norms.pop()
    both = np.concatenate([grid_visits_per_day(r) for r in ex.results.values()])
    assert (lo, hi) == (both.min(), both.max())
    # twice the workers walk about twice the points per day
    assert grid_visits_per_day(ex.results["your settings"]).mean() > 1.5 * grid_visits_per_day(
        ex.results["traditional_patrol (preset)"]).mean()
    forest = ex.forest()
    labels = [ax.get_ylabel() for ax in forest.axes]
    assert "Issues" not in labels and any(label.startswith("Worker utilisation") for label in labels)
    view = render(Controls(preset="traditional_patrol", workers_per_grid=2, **FAST))  # type: ignore[arg-type]
    assert view.ok and view.forest_png.startswith(b"\x89PNG") and view.maps_png.startswith(b"\x89PNG")
    assert view.settings == "--set workers.per_grid=2.0" and "<table" in view.table_html


def test_the_settings_shown_are_set_options_that_read_back() -> None:
    import shlex

    from govsim.scenario import parse_override
    from govsim.widgets import set_options

    overrides = scenario_overrides(Controls(preset="traditional_patrol", sensors=0.5, volunteers=2,
                                            policy="smart_dispatch", extra="workers.shifts[0].start='07:30'"))
    lines = set_options(overrides)
    assert lines[0] == "--set channels.sensors.enabled=true" and "--set channels.sensors.grid_ids=null" in lines
    back = dict(parse_override(shlex.split(line)[1]) for line in lines)
    assert back == overrides


def test_chinese_labels() -> None:
    ex = explore(Controls(preset="smart_dispatch", lang="zh", **FAST))  # type: ignore[arg-type]
    t = ex.table()
    assert list(t.columns)[:3] == ["指标", "smart_dispatch（预设）", "调整后"]
    from govsim.plots.labels import labels_for

    assert set(t["指标"]) == {labels_for("zh").metric(m, unit=False) for m in ex.metrics}


# --------------------------------------------------------------------------- the notebook widget


def test_the_explorer_widget_runs_and_shows_messages() -> None:
    pytest.importorskip("ipywidgets", reason='ipywidgets is not installed (pip install "govsim[widgets]")')
    from govsim.widgets import Explorer

    ex = Explorer(horizon="1d", replications=2, seed=7)
    assert ex.table.value == "" and bytes(ex.forest.value) == b""
    ex.preset.value = "smart_dispatch"  # the sliders follow the preset
    assert (ex.sensors.value, ex.policy.value) == (0.5, "smart_dispatch")
    ex.preset.value = "traditional_patrol"
    assert (ex.sensors.value, ex.policy.value) == (0.0, "traditional_patrol")
    ex.policy.value = "smart_dispatch"
    ex.workers.value = 2.0
    assert ex.controls() == Controls(preset="traditional_patrol", workers_per_grid=2.0, participation=0.3,
                                     sensors=0.0, volunteers=0, policy="smart_dispatch", horizon="1d",
                                     replications=2, seed=7)
    ex.button.click()  # as a press: the run goes in a thread, the button disabled meanwhile
    assert ex.button.disabled or ex.view is not None
    assert ex._thread is not None
    ex._thread.join(60)
    assert not ex.button.disabled and ex.view is not None and ex.view.ok, ex.view
    assert ex.last is not None
    expected = ex.last.table()
    assert "Resolution rate" in ex.table.value and expected.iloc[1, 1] in ex.table.value
    assert bytes(ex.forest.value).startswith(b"\x89PNG") and bytes(ex.maps.value).startswith(b"\x89PNG")
    assert ex.message.value == "" and "done in" in ex.status.value
    ex.horizon.value = "7"
    ex.run(wait=True)
    assert "horizon: expected a duration with a unit" in ex.message.value and "Traceback" not in ex.message.value
    assert not ex.button.disabled


def test_a_run_that_fails_is_a_message_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("ipywidgets")
    import govsim.widgets as w

    def broken(controls: Controls) -> w.Exploration:
        raise RuntimeError("disk full")

    monkeypatch.setattr(w, "explore", broken)
    ex = w.Explorer(horizon="1d", replications=1)
    ex.run(wait=True)
    assert "the run failed: RuntimeError: disk full" in ex.message.value and not ex.button.disabled


def test_without_the_extra_the_import_error_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from govsim.cli import main

    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    from govsim.widgets import Explorer

    with pytest.raises(ImportError, match=r'pip install "govsim\[widgets\]"'):
        Explorer()
    monkeypatch.setitem(sys.modules, "solara", None)
    monkeypatch.delitem(sys.modules, "govsim.app", raising=False)
    with pytest.raises(ImportError, match=r'pip install "govsim\[classroom\]"'):
        import govsim.app  # noqa: F401
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert main(["app", "--port", str(port)]) == 2  # one line, exit 2, before serving anything


def test_the_command_line_without_solara_is_one_line(monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    from govsim.cli import main

    monkeypatch.setitem(sys.modules, "solara", None)
    monkeypatch.delitem(sys.modules, "govsim.app", raising=False)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert main(["app", "--port", str(port)]) == 2
    assert capsys.readouterr().err.strip() == 'error: the classroom web page needs Solara: pip install "govsim[classroom]"'


def test_the_command_line_checks_its_options(capsys: pytest.CaptureFixture[str]) -> None:
    from govsim.cli import main

    assert main(["app", "--horizon", "7"]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: --horizon: expected a duration with a unit such as '15min', '2h' or '1d', got '7'")
    assert main(["app", "--preset", "nope"]) == 2
    assert capsys.readouterr().err.startswith("error: --preset: nope: file not found")
    assert main(["app", "-n", "20"]) == 2
    assert "replications: expected a whole number from 1 to 10, got 20" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        main(["app", "--port", "70000"])
    assert stop.value.code == 2 and "expected a port number from 1 to 65535" in capsys.readouterr().err
