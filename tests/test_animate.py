"""A day on the map (issue 14): workers' positions replayed exactly from the run's tables,
and the animation that draws them (govsim.plots.animate, in govsim.plots.animation; govsim animate)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

from govsim.cli import main  # noqa: E402
from govsim.engine import Simulation  # noqa: E402
import govsim.plots.animation as anim  # noqa: E402
from govsim.plots.animation import MapAnimation, frame_times, moves, worker_positions, worker_states  # noqa: E402
from govsim.scenario import load_scenario  # noqa: E402
from govsim.scenario.schema import WorkersConfig  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SMART, TRAD = str(ROOT / "scenarios/smart_dispatch.yaml"), str(ROOT / "scenarios/traditional_patrol.yaml")
HAS_FFMPEG = anim.ffmpeg_path() is not None
# patrol off, workers walking back to their posts after a job (where the scenario format has it)
RETURN_HOME = ({"workers.return_home": True}
               if "return_home" in {f.name for f in dataclasses.fields(WorkersConfig)} else {})


def run(path: str, seed: int = 0, **overrides: object):
    return Simulation(load_scenario(path, overrides={"horizon": "2d", **overrides}), seed).run()


@pytest.fixture(scope="module")
def pair():
    """The two district presets on one seed (common random numbers), two days."""
    return run(TRAD, 5), run(SMART, 5)


# --- positions: a hand-checked case ------------------------------------------------------

def one_grid(rate: float = 0.01, **extra: object):
    """One 300 m grid with 4 patrol points (a 2 × 2 lattice, 150 m apart), one worker on shift
    08:00–17:00 walking 4 km/h and dwelling 2 min at each point: a step is 2 + 2.25 = 4.25 min,
    the cycle 0 → 1 → 2 → 3 → 0 is 17 min."""
    raw = {
        "name": "one_grid", "horizon": "1d", "seed": 1,
        "territory": {"rows": 1, "cols": 1, "edge_m": 300, "points_per_grid": 4, "community_size": [1, 1],
                      "street_size": [1, 1]},
        "workers": {"per_grid": 1, "shifts": [{"start": "08:00", "end": "17:00"}], "speed_kmh": 4,
                    "dwell": "2min", "route": "fixed_cycle"},
        "categories": {"garbage": {"rate": rate, "handling": "20min", "patrol_detect": 0.0,
                                   "report": {"prob": 1.0, "delay": "1h"}}},
        "policy": "traditional_patrol",
        "policies": {"traditional_patrol": {"manual_chain": "0min"}},
    }
    raw.update(extra)
    return load_scenario(raw)


def test_a_worker_on_a_known_route_at_known_times():
    result = Simulation(one_grid(rate=0.0), 1).run()
    assert len(result.issues) == 0
    terr = Simulation(result.scenario, 1).territory
    cx, cy = float(terr.grid_x[0]), float(terr.grid_y[0])
    # the lattice (serpentine): point 0 at (−75, −75), 1 at (75, −75), 2 at (75, 75), 3 at (−75, 75)
    corner = {0: (-75, -75), 1: (75, -75), 2: (75, 75), 3: (-75, 75)}
    step, walk = 4.25 / 60, 2.25 / 60
    walked_1min = 4000 / 60  # metres in a minute at 4 km/h
    expected = {
        8.0: corner[0],                                    # on shift: at its first point
        8.0 + 1 / 60: corner[0],                           # dwelling there 2 min
        8.0 + 3 / 60: (-75 + walked_1min, -75),            # 1 min into the 150 m walk to point 1
        8.0 + step: corner[1],                             # the second visit
        8.0 + step + 2 / 60 + 0.5 * walk: (75, 0),         # half-way to point 2, along y
        8.0 + 3 * step + 2 / 60 + walk: corner[0],         # back at point 0 after one cycle
        8.0 + 17 / 60 + step: corner[1],                   # the next cycle
        7.99: (math.nan, math.nan), 17.0: (math.nan, math.nan),  # off shift: nowhere
    }
    times = np.array(list(expected))
    got = worker_positions(result, times)[:, 0]
    want = np.array([(cx + x, cy + y) for x, y in expected.values()])
    np.testing.assert_allclose(got, want, atol=1e-6)
    # the model's own position (walk=False): the last point reached
    last = worker_positions(result, times, walk=False)[:, 0]
    np.testing.assert_allclose(last[2], (cx - 75, cy - 75))
    np.testing.assert_allclose(last[4], (cx + 75, cy - 75))


def test_a_trip_to_an_issue():
    """A reported issue: the worker walks from the last point it reached to the issue's
    point, arriving at arrived_at, and stays there while it handles it."""
    result = Simulation(one_grid(rate=60.0), 3).run()
    terr = Simulation(result.scenario, 3).territory
    iss = result.issues
    trips = iss[(iss["handler"] == 0) & (iss["arrived_at"] > iss["assigned_at"] + 1e-6)]
    assert len(trips) >= 2
    seg = result.patrols
    cycle = np.array([0, 1, 2, 3])
    checked = 0
    for _, t in trips.iterrows():
        # the patrol this trip interrupted: it ends at assigned_at
        before = seg[np.isclose(seg["end"], t["assigned_at"])]
        if len(before) != 1:
            continue
        s = before.iloc[0]
        k_last = int(s["first_visit"] + s["visits"] - 1)
        origin = int(cycle[k_last % 4])
        # by hand: the distance and the time it takes at 4 km/h
        dx = terr.point_x[t["point"]] - terr.point_x[origin]
        dy = terr.point_y[t["point"]] - terr.point_y[origin]
        assert t["arrived_at"] - t["assigned_at"] == pytest.approx((abs(dx) + abs(dy)) / 4000)
        mid = (t["assigned_at"] + t["arrived_at"]) / 2
        handling = t["arrived_at"] + 10 / 60  # handling takes 20 min
        got = worker_positions(result, [t["assigned_at"], mid, t["arrived_at"], handling])[:, 0]
        x0, y0 = terr.point_x[origin], terr.point_y[origin]
        half = (abs(dx) + abs(dy)) / 2  # along x first, then y
        mx = x0 + math.copysign(min(half, abs(dx)), dx)
        my = y0 + math.copysign(max(0.0, half - abs(dx)), dy)
        issue_xy = (terr.point_x[t["point"]], terr.point_y[t["point"]])
        np.testing.assert_allclose(got, [(x0, y0), (mx, my), issue_xy, issue_xy], atol=1e-6)
        checked += 1
    assert checked >= 1


# --- positions: the model's own view, and invariants -------------------------------------

@pytest.mark.parametrize("path, overrides", [
    (SMART, {}), (TRAD, {}),
    (SMART, {"workers.route": "random_walk", "territory.distance": "euclidean"}),
    (TRAD, {"workers.per_grid": 0.5, "workers.shifts": [{"start": "22:00", "end": "06:00"},
                                                        {"start": "06:00", "end": "22:00"}]}),
    (str(ROOT / "scenarios/zhoushan.yaml"), {}),  # service teams: responders waiting at their posts
    (SMART, {"channels.patrol": False, **RETURN_HOME}),  # patrol off: waiting for dispatches
], ids=["smart", "traditional", "random-walk-euclidean", "two-shifts", "zhoushan-teams", "patrol-off"])
def test_positions_are_where_the_model_had_its_workers(path, overrides):
    """Sampled inside a run, GridWorker.position() (the point the model measures every
    distance from) equals worker_positions(walk=False) from the tables; on shift exactly
    when time_use says so. The samples change nothing in the run."""
    scenario = load_scenario(path, overrides={"horizon": "2d", **overrides})
    sim = Simulation(scenario, 11)
    times = np.arange(0.0071, scenario.horizon - 0.01, 0.0217)
    seen: list[list[int]] = []
    for t in times:
        sim.after(float(t), lambda: seen.append([w.position() for w in sim.workers]))
    result = sim.run()
    plain = Simulation(scenario, 11).run()
    assert result.issues.equals(plain.issues) and result.patrols.equals(plain.patrols)
    pts = np.array(seen)
    terr = sim.territory
    model = np.stack([terr.point_x[pts], terr.point_y[pts]], axis=-1)
    got = worker_positions(result, times, walk=False)
    on = worker_states(result, times) >= 0
    assert on.any()
    assert (np.isnan(got[..., 0]) == ~on).all()
    np.testing.assert_array_equal(got[on], model[on])
    walking = worker_positions(result, times)
    assert (np.isnan(walking[..., 0]) == ~on).all()


def test_invariants_at_visits_and_on_site(pair):
    result = pair[1]
    terr = Simulation(result.scenario, result.seed).territory
    # at every patrol visit the worker is at the visit's point
    ends = result.patrols.groupby("worker")["end"].apply(set)
    whereabouts = moves(result)  # (what worker_positions evaluates, built once here)
    for w, points, times in result.iter_visits():
        got = whereabouts.at(times)[:, w]
        on = worker_states(result, times)[:, w] >= 0
        np.testing.assert_allclose(got[on], np.column_stack([terr.point_x, terr.point_y])[points[on]],
                                   atol=1e-6)
        # a visit made as the shift ends: the worker is off from that instant ([start, end) stretches)
        assert set(times[~on]) <= ends[w]
    # a worker handling an issue is at the issue's point
    iss = result.issues
    on_site = iss[(iss["handler"] >= 0) & iss["arrived_at"].notna() & iss["resolved_at"].notna()]
    on_site = on_site[on_site["resolved_at"] > on_site["arrived_at"] + 1e-6]
    assert len(on_site) > 20
    mid = ((on_site["arrived_at"] + on_site["resolved_at"]) / 2).to_numpy()
    got = worker_positions(result, mid)[np.arange(len(mid)), on_site["handler"].to_numpy()]
    np.testing.assert_allclose(got, np.column_stack([terr.point_x, terr.point_y])[on_site["point"].to_numpy()])
    assert (worker_states(result, mid)[np.arange(len(mid)), on_site["handler"].to_numpy()] == 2).all()


def test_a_worker_is_never_in_two_places(pair):
    for result in pair:
        m = moves(result)
        same = m.worker[1:] == m.worker[:-1]
        assert (m.t0[1:][same] >= m.t1[:-1][same] - 1e-7).all()
        assert (m.t1 > m.t0).all()
        # on-shift time covered exactly once: the pieces add up to the time_use stretches
        assert (m.t1 - m.t0).sum() == pytest.approx((result.time_use["end"] - result.time_use["start"]).sum())


def test_tables_that_do_not_fit_together_are_refused(pair):
    result = pair[0]
    bad = result.patrols.copy()
    row = bad.iloc[[5]].copy()
    row["start"] += 0.01  # a second patrol of the same worker inside the first
    bad = pd.concat([bad, row], ignore_index=True)
    original = result.patrols
    try:
        result.patrols = bad
        with pytest.raises(ValueError, match="two places"):
            moves(result)
    finally:
        result.patrols = original


# --- the animation ------------------------------------------------------------------------

def test_the_drawn_workers_are_at_their_positions(pair):
    """At every frame the worker markers are the reconstructed positions (in km), coloured by
    the worker's state; the issue markers are the issues open or just closed."""
    times = frame_times(33.0, 35.0, 1 / 12)
    m = MapAnimation({"traditional": pair[0], "smart": pair[1]}, times)
    for panel, result in zip(m.panels, pair):
        pos = worker_positions(result, times) / 1000
        states = worker_states(result, times)
        iss = result.issues
        for i, t in enumerate(times):
            m.frame(i)
            on = ~np.isnan(pos[i, :, 0])
            np.testing.assert_array_equal(panel.workers.get_offsets(), pos[i][on])
            want = panel.state_rgba[states[i][on]]
            np.testing.assert_array_equal(panel.workers.get_facecolors(), want)
            closed = iss["closed_at"].fillna(np.inf)
            showing = (iss["created_at"] <= t) & (t < closed + anim.FADE_H)
            assert len(panel.issues.get_offsets()) == int(showing.sum())


def test_counters_count_the_issues_table(pair):
    times = frame_times(30.0, 40.0, 2.5)
    m = MapAnimation({"smart": pair[1]}, times)
    iss = pair[1].issues
    closed = iss["closed_at"].fillna(np.inf)
    for i, t in enumerate(times):
        m.frame(i)
        f = m.panels[0].fields
        open_ = int(((iss["created_at"] <= t) & (closed > t)).sum())
        found = int(((iss["discovered_at"] <= t) & (closed > t)).sum())
        done = int(((closed >= 30.0) & (closed <= t)).sum())
        assert f["open"].text.get_text() == f"{open_:,}"
        assert f["found"].text.get_text() == f"{found:,}"
        assert f["closed"].text.get_text() == f"{done:,}"
        for c in ("patrol", "report", "sensor"):
            n = int(((iss["channel"] == c) & (iss["discovered_at"] >= 30.0) & (iss["discovered_at"] <= t)).sum())
            if f"channel:{c}" in f:
                assert f[f"channel:{c}"].text.get_text() == f"{n:,}"


def test_same_seed_same_issues_side_by_side(pair):
    """Two scenarios on one seed: the same issues arise at the same places and times in both
    panels; only what happens to them differs."""
    t = 31.0
    m = MapAnimation({"traditional": pair[0], "smart": pair[1]}, frame_times(t, t + 1, 0.5))
    arisen = []
    for panel in m.panels:
        sel = panel.created <= t
        arisen.append(sorted(zip(panel.created[sel], map(tuple, panel.issue_xy[sel]))))
    a, b = (r.issues for r in pair)
    np.testing.assert_array_equal(a["created_at"], b["created_at"])
    np.testing.assert_array_equal(a["point"], b["point"])
    assert m.panels[0].counts(t)["open"] > 0
    # what shows at t differs only by issues one run had closed (and faded) before the clip
    common = set(arisen[0]) & set(arisen[1])
    assert len(common) >= 0.5 * max(len(arisen[0]), len(arisen[1]))


def test_fast_frames_equal_a_full_redraw(pair):
    """Blitting (the map drawn once, texts only when they change) gives the same pixels as
    drawing the whole figure for the frame."""
    times = frame_times(34.0, 36.0, 0.25)
    fast = [f.copy() for f in MapAnimation({"a": pair[0], "b": pair[1]}, times).frames()]
    for i in (0, 3, len(times) - 1):
        ref = MapAnimation({"a": pair[0], "b": pair[1]}, times)
        for artist in ref.frame(i):
            artist.set_animated(False)
        ref.canvas.draw()
        full = np.asarray(ref.canvas.buffer_rgba())
        assert full.shape == fast[i].shape
        assert (full != fast[i]).any(axis=-1).mean() < 1e-4  # at most a few anti-aliased pixels


def test_gif_and_html(pair, tmp_path):
    from PIL import Image

    path = anim.animate({"a": pair[0], "b": pair[1]}, tmp_path / "day.gif", start=36, end=38, step="15min",
                        dpi=50)
    with Image.open(path) as im:
        assert im.n_frames == 8
    page = anim.animate(pair[1], tmp_path / "day.html", start="1d", end=26, step="30min",
                        dpi=50).read_text(encoding="utf-8")
    assert page.count("iVBORw0KGgo") == 4  # four PNG frames inside the page
    assert "<script>" in page
    still = anim.animate(pair[1], tmp_path / "still.png", start=30, end=31, dpi=50)
    with Image.open(still) as im:
        assert im.size[0] > 200


def test_gif_frames_decode_to_the_drawn_frames(pair, tmp_path):
    """A GIF frame after the first holds only what changed (the rest transparent): decoded,
    every frame is the drawn frame on the GIF's palette."""
    from PIL import Image

    times = frame_times(33.0, 34.0, 1 / 12)
    drawn = [np.asarray(im.convert("RGB"))
             for im in anim._paletted((f.copy() for f in MapAnimation({"a": pair[1]}, times, dpi=50).frames()),
                                      colours=255)]
    path = MapAnimation({"a": pair[1]}, times, dpi=50).write(tmp_path / "a.gif")
    with Image.open(path) as gif:
        assert gif.n_frames == len(times)
        for k in range(len(times)):
            gif.seek(k)
            np.testing.assert_array_equal(np.asarray(gif.convert("RGB")), drawn[k])


@pytest.mark.skipif(not HAS_FFMPEG, reason="ffmpeg is not installed")
def test_mp4(pair, tmp_path):
    path = anim.animate(pair[0], tmp_path / "day.mp4", start=36, end=37, step="10min", dpi=50)
    assert path.read_bytes()[4:8] == b"ftyp"


def test_bad_arguments(pair, tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="expected .mp4, .gif, .html, .png"):
        anim.animate(pair[0], tmp_path / "day.avi")
    with pytest.raises(ValueError, match="after the end of the run"):
        anim.animate(pair[0], tmp_path / "day.gif", start="1d", end="3d")
    with pytest.raises(ValueError, match="end"):
        anim.animate(pair[0], tmp_path / "day.gif", start="1d", end="1d")
    with pytest.raises(ValueError, match="step"):
        anim.animate(pair[0], tmp_path / "day.gif", step="0")
    with pytest.raises(ValueError, match="one run or two"):
        anim.animate([pair[0], pair[1], pair[0]], tmp_path / "day.gif")
    with pytest.warns(UserWarning, match="different seeds"):
        anim.animate({"a": pair[0], "b": run(SMART, 6)}, tmp_path / "still.png", start=30, end=31, dpi=30)
    monkeypatch.setattr(anim, "ffmpeg_path", lambda: None)
    with pytest.raises(RuntimeError, match="needs ffmpeg"):
        anim.animate(pair[0], tmp_path / "day.mp4")


# --- the command --------------------------------------------------------------------------

def test_cli_two_scenarios_to_gif(tmp_path, capsys):
    out = tmp_path / "day.gif"
    assert main(["animate", TRAD, SMART, "--set", "horizon=2d", "--from", "32h",
                 "--to", "34h", "--step", "20min", "--dpi", "40", "--out", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out and out.stat().st_size > 0


def test_cli_run_dir(tmp_path, capsys):
    assert main(["run", SMART, "--seed", "2", "--set", "horizon=1d", "--out", str(tmp_path / "run"),
                 "--format", "csv"]) == 0
    out = tmp_path / "day.html"
    assert main(["animate", str(tmp_path / "run"), "--from", "9h", "--to", "10h", "--step", "30min",
                 "--dpi", "40", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8").count("iVBORw0KGgo") == 2


@pytest.mark.parametrize("args, message", [
    (["--out", "day.avi"], "expected a file ending in .mp4, .gif, .html, .png"),
    (["--to", "5d", "--out", "day.gif"], "--to 5d is after the end of the run (2d)"),
    (["--from", "1d", "--to", "1d", "--out", "day.gif"], "--to 1d must be after --from 1d"),
    (["--step", "0", "--out", "day.gif"], "--step 0"),
    (["--out", "no/such/folder/day.gif"], "does not exist"),
])
def test_cli_bad_input(args, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["animate", SMART, "--set", "horizon=2d", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and message in err and "Traceback" not in err


def test_cli_mp4_without_ffmpeg(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(anim, "ffmpeg_path", lambda: None)
    assert main(["animate", SMART, "--out", str(tmp_path / "day.mp4")]) == 2
    assert "needs ffmpeg" in capsys.readouterr().err


def test_html_player_shows_the_drawn_frames(pair, tmp_path):
    """The page's player, in a real headless browser: the canvas at any frame (played on, or
    jumped to back and forth with the slider) is the drawn frame."""
    import shutil

    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("Chromium is not installed")
    times = frame_times(33.0, 34.5, 1 / 60)  # 90 frames: two key frames
    drawn = [np.asarray(im.convert("RGBA"))
             for im in anim._paletted((f.copy() for f in MapAnimation({"a": pair[1]}, times, dpi=30).frames()),
                                      colours=255)]
    path = MapAnimation({"a": pair[1]}, times, dpi=30).write(tmp_path / "a.html")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.goto(path.as_uri())
            page.wait_for_function("document.body.dataset.ready === '1'", timeout=30_000)  # frames decoded, canvas sized
            for k in (1, 75, 59, 60, 89, 2):
                data = page.evaluate(f"""() => {{ show({k}); const c = document.getElementById('frame');
                    return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data); }}""")
                got = np.array(data, dtype=np.uint8).reshape(drawn[k].shape)
                np.testing.assert_array_equal(got, drawn[k], err_msg=f"frame {k}")
            assert page.locator("#num").inner_text() == f"3 / {len(times)}"
        finally:
            browser.close()
