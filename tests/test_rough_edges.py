"""Issue 15's rough edges, each as a new user met it: ``govsim plot`` on replications and on a
file, progress of a long single run, the ``visits`` table of ``run --out``, help texts,
``extends`` not found, durations echoed as written, plurals, "resume" only when something is
left, the grid workers' shares in ``validate``, and ``workers.return_home``."""

from __future__ import annotations

import argparse
import io
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import govsim
from govsim import Channel, Issue
from govsim.agents.workers import HANDLE, IDLE, TRAVEL
from govsim.cli import EXIT_BAD_INPUT, RunProgress, build_parser, main, plural, worker_cover
from govsim.scenario import ScenarioError

ROOT = Path(__file__).resolve().parents[1]
SHORT = ["--set", "horizon=1d"]


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --------------------------------------------------------------------------- 1, 6: govsim plot


def test_plot_on_replications_says_why_no_figure_and_what_to_run(tmp_path, capsys) -> None:
    store = tmp_path / "reps"
    code, out, _ = run_cli(capsys, "run", "smart_dispatch", "-n", "2", "--jobs", "1", "--quiet",
                           "--out", str(store), *SHORT)
    assert code == 0
    code, out, err = run_cli(capsys, "plot", str(store), "--out", str(tmp_path / "fig"))
    assert code == EXIT_BAD_INPUT and out == ""
    assert err.startswith(f"error: {store}: holds 2 replications of smart_dispatch: ")
    assert "not the tables (issues, patrols, time use) the figures are drawn from" in err
    assert str(store / "table.csv") in err  # where the means and intervals are
    assert "govsim run " in err and "smart_dispatch.yaml --out RUN_DIR, then govsim plot RUN_DIR" in err
    assert "govsim compare A B -n 2 --out DIR" in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "fig").exists()  # nothing written


def test_plot_on_a_file_says_it_needs_a_folder(tmp_path, capsys) -> None:
    f = tmp_path / "summary.csv"
    f.write_text("metric,value\n")
    code, out, err = run_cli(capsys, "plot", str(f), "--out", str(tmp_path / "fig"))
    assert code == EXIT_BAD_INPUT
    assert err == (f"error: {f}: is a file; govsim plot needs a directory written by govsim run --out "
                   f"(one run), or by govsim compare/sweep --out\n")
    code, out, err = run_cli(capsys, "plot", str(tmp_path / "nowhere"), "--out", str(tmp_path / "fig"))
    assert code == EXIT_BAD_INPUT and err.startswith(f"error: {tmp_path / 'nowhere'}: no such directory; "
                                                     f"govsim plot needs a directory written by")


# --------------------------------------------------------------------------- 2: progress


def _tables(result: govsim.Result) -> dict[str, pd.DataFrame]:
    return {"issues": result.issues, "patrols": result.patrols, "time_use": result.time_use,
            "workers": result.workers, "summary": result.summary().to_frame()}


@pytest.mark.parametrize("terminal", [False, True])
def test_progress_does_not_change_the_run(terminal: bool) -> None:
    scenario = govsim.load_scenario("smart_dispatch", overrides={"horizon": "2d"})
    plain = govsim.Simulation(scenario, 5).run()
    sim = govsim.Simulation(scenario, 5)
    stream = io.StringIO()
    progress = RunProgress(sim, stream=stream, terminal=terminal, every_s=0.0, bar_after_s=0.0)
    watched = sim.run()
    progress.close()
    for name, table in _tables(plain).items():
        pd.testing.assert_frame_equal(_tables(watched)[name], table, obj=name)
    text = stream.getvalue()
    if terminal:
        assert "smart_dispatch: 100%" in text and "issues so far" in text
    else:  # every_s=0: a line at each of the 99 checkpoints (every hundredth of the horizon)
        lines = text.splitlines()
        assert len(lines) == RunProgress.STEPS - 1 == progress.lines
        assert lines[0].startswith("smart_dispatch: 1% simulated, day 0.0 of 2, ")
        assert lines[49].startswith("smart_dispatch: 50% simulated, day 1.0 of 2, ")
        n_so_far = [int(line.split(", ")[1].split(" issue")[0].split()[-1].replace(",", "")) for line in lines]
        assert n_so_far == sorted(n_so_far) and n_so_far[-1] <= len(plain.issues)


def test_progress_line_at_most_every_n_seconds_of_wall_time() -> None:
    sim = govsim.Simulation(govsim.load_scenario("smart_dispatch", overrides={"horizon": "2d"}), 5)
    clock = iter(np.arange(0.0, 1000.0, 1.0))  # each checkpoint reads a clock 1 s later
    progress = RunProgress(sim, stream=io.StringIO(), terminal=False, every_s=10.0)
    progress._clock = lambda: float(next(clock))
    progress._start = progress._last = progress._clock()
    sim.run()
    assert progress.lines == 9  # 99 checkpoints, 1 s apart: one line every 10 s


def test_run_quiet_writes_no_progress_and_a_short_run_in_a_log_none(capsys, monkeypatch) -> None:
    code, out, err = run_cli(capsys, "run", "smart_dispatch", *SHORT)
    assert code == 0 and err == ""  # not a terminal, and shorter than 10 s: nothing
    original = RunProgress.__init__

    def eager(self, sim, **kwargs):  # a line at every checkpoint, as a very long run would
        original(self, sim, stream=kwargs.get("stream"), terminal=False, every_s=0.0)

    monkeypatch.setattr(RunProgress, "__init__", eager)
    code, out, err = run_cli(capsys, "run", "smart_dispatch", *SHORT)
    assert code == 0 and err.count("% simulated, day ") == RunProgress.STEPS - 1
    code, out, err = run_cli(capsys, "run", "smart_dispatch", "--quiet", *SHORT)
    assert code == 0 and err == ""


# --------------------------------------------------------------------------- 3: visits


def test_visits_are_not_written_but_read_back_exactly(tmp_path) -> None:
    result = govsim.run("smart_dispatch", seed=3, overrides={"horizon": "2d"})
    files = {f.name for f in result.to_dir(tmp_path, fmt="csv")}
    assert "patrols.csv" in files and "visits.csv" not in files
    again = govsim.Result.from_dir(tmp_path)
    assert len(again.visits) > 10 * len(again.patrols)  # why it is derived, not written
    pd.testing.assert_frame_equal(again.visits, result.visits)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "except `visits`" in readme and "Result.from_dir(DIR).visits" in readme


# --------------------------------------------------------------------------- 4: help, wording


def _parsers(parser: argparse.ArgumentParser, name: str = "govsim"):
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                yield from _parsers(sub, f"{name} {sub_name}")


def test_every_option_of_every_command_has_help() -> None:
    missing = [f"{name}: {action.option_strings or action.dest}"
               for name, parser in _parsers(build_parser()) for action in parser._actions
               if not isinstance(action, argparse._SubParsersAction) and not action.help]
    assert missing == []


def test_scenario_arguments_say_file_or_preset_name() -> None:
    for name, parser in _parsers(build_parser()):
        for action in parser._actions:
            if action.dest in ("scenario", "a", "b") and not action.option_strings:
                assert "preset name" in action.help, (name, action.help)
                assert "YAML file" not in action.help


def test_readme_names_no_replicate_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "`replicate` runs" not in readme
    assert "`govsim.replicate` (`govsim run -n N`)" in readme
    commands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert "replicate" not in commands


# --------------------------------------------------------------------------- 5: extends


def test_extends_not_found_says_where_it_looked(tmp_path) -> None:
    child = tmp_path / "child.yaml"
    child.write_text("extends: sub/district.yaml\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        govsim.load_scenario(child)
    # a path with a folder is never a preset name: only the resolved path is named
    assert caught.value.messages == [f"extends: file not found: looked for {tmp_path / 'sub' / 'district.yaml'} "
                                     f"(relative to the folder of {child})"]
    child.write_text("extends: distrct.yaml\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        govsim.load_scenario(child)
    [message] = caught.value.messages
    assert message.startswith(f"extends: file not found: looked for {tmp_path / 'distrct.yaml'} (relative "
                              f"to the folder of {child}), and for a preset named 'distrct': there is "
                              f"none; did you mean 'district'? (presets: ")


def test_extends_of_a_mapping_is_relative_to_the_working_directory(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ScenarioError) as caught:
        govsim.load_scenario({"extends": "nope/base.yaml"})
    assert caught.value.messages == [f"extends: file not found: looked for {tmp_path / 'nope' / 'base.yaml'} "
                                     f"(relative to the working directory: the scenario is a mapping)"]


# --------------------------------------------------------------------------- 7, 8, 9


@pytest.mark.parametrize(("sets", "shown"), [([], "horizon 28d"), (["--set", "horizon=672h"], "horizon 672h"),
                                            (["--set", "horizon=4w"], "horizon 4w")])
def test_validate_echoes_durations_as_written(capsys, sets, shown) -> None:
    code, out, _ = run_cli(capsys, "validate", "smart_dispatch", *sets)
    assert code == 0 and f", {shown})" in out.splitlines()[0]


def test_plural() -> None:
    assert [plural(n, "file") for n in (0, 1, 2, 1234)] == ["0 files", "1 file", "2 files", "1,234 files"]
    assert plural(1, "category", "categories") == "1 category"
    assert plural(3, "category", "categories") == "3 categories"


def test_a_fixed_list_of_one_item_is_singular() -> None:
    from dataclasses import dataclass

    from govsim.scenario.convert import build

    @dataclass(frozen=True)
    class One:
        x: tuple[int]

    with pytest.raises(ScenarioError) as caught:
        build(One, {"x": [1, 2]})
    assert caught.value.messages == ["x: expected a list of 1 item, got 2"]


def test_validate_one_category_is_singular(tmp_path, capsys) -> None:
    f = tmp_path / "one.yaml"
    f.write_text("name: one\nhorizon: 2d\nterritory: {rows: 1, cols: 1}\ncategories: {x: {rate: 1}}\n",
                 encoding="utf-8")
    code, out, _ = run_cli(capsys, "validate", str(f))
    assert code == 0 and out.startswith(f"{f}: OK (one: 1 category, ")
    assert out.splitlines()[1] == "1 grid worker (one shift): each covers 1 grid"


def test_finished_store_does_not_say_resume(tmp_path, capsys) -> None:
    code, out, err = run_cli(capsys, "run", "smart_dispatch", "-n", "2", "--jobs", "1", "--quiet",
                             "--out", str(tmp_path / "s"), *SHORT)
    assert code == 0
    assert "(2 runs computed on sequential (1 worker))" in out and "resume" not in out + err
    code, out, err = run_cli(capsys, "run", "smart_dispatch", "-n", "2", "--jobs", "1", "--quiet",
                             "--out", str(tmp_path / "s"), *SHORT)
    assert "(0 runs computed on" in out and "2 reused" in out and "resume" not in out + err


# --------------------------------------------------------------------------- 10: worker shares


def _nine(per_grid: float, **workers):
    return govsim.Simulation(govsim.load_scenario("smart_dispatch", overrides={
        "territory.rows": 3, "territory.cols": 3, "workers.per_grid": per_grid, "horizon": "1d",
        **{f"workers.{k}": v for k, v in workers.items()}}), 0)


def test_half_a_worker_per_grid_on_nine_grids_is_four_workers_one_with_three_grids() -> None:
    line, warning = worker_cover(_nine(0.5))
    assert line == "4 grid workers (one shift): 3 cover 2 grids, 1 covers 3 grids"
    # smart_dispatch's grids are 300 m: 2 grids 0.18 km², 3 grids 0.27 km², 1.5 times as much
    assert warning == ("the grid workers cover unequal areas: with a share of 0.5 per grid, 9 grids get "
                       "4 workers; worker 2 covers 0.27 km² (3 grids), worker 0 0.18 km² (2 grids): 1.5 "
                       "times as much (more than 1.25 times); per_grid 0.333 (1/3) gives 3 workers of "
                       "3 grids each")


def test_even_shares_give_no_warning() -> None:
    assert worker_cover(_nine(1 / 3)) == ("3 grid workers (one shift): each covers 3 grids", None)
    assert worker_cover(_nine(1)) == ("9 grid workers (one shift): each covers 1 grid", None)
    two_shifts = [{"start": "08:00", "end": "16:00"}, {"start": "16:00", "end": "24:00"}]
    assert worker_cover(_nine(2, shifts=two_shifts)) == (
        "18 grid workers per shift (2 shifts): each covers 1 grid, 2 to a grid", None)


def test_validate_prints_the_workers_and_warns_on_stderr(capsys) -> None:
    code, out, err = run_cli(capsys, "validate", "smart_dispatch", "--set", "territory.rows=3",
                             "--set", "territory.cols=3", "--set", "workers.per_grid=0.5")
    assert code == 0
    assert out.splitlines()[1] == "4 grid workers (one shift): 3 cover 2 grids, 1 covers 3 grids"
    assert err.startswith("warning: the grid workers cover unequal areas")


# --------------------------------------------------------------------------- 11: return home


def _patrol_off(return_home: bool | None):
    """One 400 m grid, 4 points, one worker on shift Mon–Fri 08:00–17:00, patrol off.

    Points (Manhattan metres): p0 (100, 100), p1 (300, 100), p2 (300, 300), p3 (100, 300);
    at 4 km/h 400 m take 0.1 h. The worker's post is p0, the first point of its route.
    """
    workers = {"per_grid": 1, "shifts": [{"start": "08:00", "end": "17:00",
                                          "days": ["mon", "tue", "wed", "thu", "fri"]}],
               "speed_kmh": 4.0, "dwell": "1min"}
    if return_home is not None:
        workers["return_home"] = return_home
    s = govsim.load_scenario({
        "name": "post", "horizon": "2d",
        "territory": {"rows": 1, "cols": 1, "edge_m": 400, "points_per_grid": 4, "households": 100},
        "workers": workers,
        "channels": {"patrol": False, "reports": {"enabled": False}, "sensors": {"enabled": False}},
        "categories": {"x": {"rate": 0}}, "policy": "smart_dispatch"})
    sim = govsim.Simulation(s, 0)
    assert sim.territory.distance(0, 2) == 400 and sim.workers[0].route.point_at(0) == 0
    return sim


def _job(sim, point: int, created_at: float) -> Issue:
    return Issue(id=1, category=0, grid=0, point=point, priority=3, created_at=created_at,
                 deadline_at=math.inf, handling_time=1.0, lapse_at=math.inf)


@pytest.mark.parametrize("return_home", [None, False, True])
def test_a_free_worker_waits_at_the_job_or_walks_back_to_its_post(return_home) -> None:
    sim = _patrol_off(return_home)
    w = sim.workers[0]
    sim.env.run(until=9.0)
    assert w.free and w.position() == 0
    job = _job(sim, 2, 9.0)
    sim.board.assign(job, w)  # 400 m: arrives 9.1, handled 9.1–10.1
    sim.env.run(until=10.15)
    assert job.resolved_at == pytest.approx(10.1) and w.free
    home = return_home is True
    # walking back 400 m takes 0.1 h: at 10.15 it is on the way (its position is still the job's)
    assert w.position() == 2
    sim.env.run(until=10.2 + 1e-9)
    assert w.position() == (0 if home else 2)
    sim.env.run(until=16.0)
    use = sim.records.time_uses()
    states = use["state"].tolist()
    ends = use["end"].tolist()
    if home:  # idle 8–9, travel 9–9.1, handle 9.1–10.1, travel back 10.1–10.2, then idle
        assert states == [IDLE, TRAVEL, HANDLE, TRAVEL]
        np.testing.assert_allclose(ends, [9.0, 9.1, 10.1, 10.2])
    else:  # idle 8–9, travel 9–9.1, handle 9.1–10.1, then idle where the job was
        assert states == [IDLE, TRAVEL, HANDLE]
        np.testing.assert_allclose(ends, [9.0, 9.1, 10.1])


def test_returning_home_changes_who_is_nearest() -> None:
    """Two workers on a line of 4 grids of 1 point (x = 0, 500, 2000, 2500 m): worker 0 has
    grids 0–1 and its post at x = 0, worker 1 grids 2–3 and its post at x = 2000. Worker 1 is
    kept busy; worker 0 is sent to x = 2500 (worker 1's grid 3) at 1.0: 2500 m at 4 km/h,
    there at 1.625, done at 2.125, and (returning home) back at x = 0 at 2.75. At 3.0 an
    issue is reported at x = 2000: worker 0 is sent from where it waits — 500 m away by
    default, 2000 m away when it went home."""
    for home, walk_m in ((False, 500), (True, 2000)):
        s = govsim.load_scenario({
            "name": "line", "horizon": "2d",
            "territory": {"grids": [{"x_m": x, "y_m": 0, "households": 100} for x in (0, 500, 2000, 2500)],
                          "points_per_grid": 1, "edge_m": 200},
            "workers": {"per_grid": 0.5, "shifts": [{"start": "00:00", "end": "24:00"}],
                        "speed_kmh": 4.0, "dwell": "1min", "return_home": home},
            "channels": {"patrol": False, "reports": {"enabled": False}, "sensors": {"enabled": False}},
            "categories": {"x": {"rate": 0}}, "policy": "smart_dispatch",
            "policies": {"smart_dispatch": {"radius_m": 5000, "classify_delay": "0s"}}})
        sim = govsim.Simulation(s, 0)
        w0, w1 = sim.workers
        assert (w0.grids, w1.grids) == ((0, 1), (2, 3))
        sim.env.run(until=1.0)
        busy = Issue(100, 0, 2, int(sim.territory.grid_first_point[2]), 3, 1.0, math.inf, 10.0)
        sim.issue_arose(busy)
        sim.board.assign(busy, w1)  # worker 1 busy at x = 2000 until 11.0
        far = Issue(101, 0, 3, int(sim.territory.grid_first_point[3]), 3, 1.0, math.inf, 0.5)
        sim.issue_arose(far)
        sim.board.assign(far, w0)  # 2500 m: arrives 1.625, done 2.125; home (x = 0) at 2.75
        sim.env.run(until=3.0)
        issue = Issue(102, 0, 2, int(sim.territory.grid_first_point[2]), 3, 3.0, math.inf, 0.5)
        sim.issue_arose(issue)
        sim.discover(issue, Channel.REPORT)
        sim.env.run(until=6.0)
        assert issue.handler == 0
        assert issue.arrived_at == pytest.approx(3.0 + walk_m / 4000)


def test_return_home_is_declared_and_in_the_generated_reference_and_schema() -> None:
    reference = (ROOT / "docs" / "scenario-reference.md").read_text(encoding="utf-8")
    assert "return_home" in reference
    schema = json.loads((ROOT / "scenarios" / "scenario.schema.json").read_text(encoding="utf-8"))
    assert "return_home" in json.dumps(schema)
    assert govsim.load_scenario("smart_dispatch").workers.return_home is False  # the default


# --------------------------------------------------------------------------- 12: reading YAML once

TRICKY = [
    "a: 1\nb: [1, 2, {c: d}]\nt: 8:00\nq: '8:00'\n",
    "base: &b {a: 1, z: 0}\nx: {<<: *b, a: 2}\n",  # a merge key is not a duplicate
    "l: &l [1, 2]\nm: [*l, *l]\n",
    "",
    "- 1\n- 2\n",
]


@pytest.mark.parametrize("text", TRICKY + [p.read_text(encoding="utf-8") for p in sorted(ROOT.glob("scenarios/*.yaml"))])
def test_a_document_is_scanned_once_and_read_as_pyyaml_reads_it(text, monkeypatch) -> None:
    import yaml

    from govsim.scenario import loader

    expected = yaml.safe_load(text)  # PyYAML's own reading
    scans = []
    original = yaml.reader.Reader.__init__

    def counted(self, stream):
        scans.append(1)
        original(self, stream)

    monkeypatch.setattr(yaml.reader.Reader, "__init__", counted)
    try:
        data = loader._parse_yaml(text, "x.yaml")
    except ScenarioError as err:  # a list at the top level: the same refusal as before
        assert isinstance(expected, list) and "expected a mapping of keys at the top level" in str(err)
    else:
        if isinstance(expected, dict) and isinstance(expected.get("t"), int):
            expected["t"] = "8:00"  # the unquoted clock, kept as written
        assert data == (expected or {})
    assert len(scans) == 1  # once, not three times (shape check, data, node tree)


def test_duplicate_keys_after_a_merge_are_still_found() -> None:
    from govsim.scenario import loader

    with pytest.raises(ScenarioError) as caught:
        loader._parse_yaml("base: &b {a: 1}\nx: {<<: *b, a: 2, a: 3}\n", "x.yaml")
    assert caught.value.messages == ["x.a: duplicate key (line 2; first on line 2)"]
