"""The classroom web page end to end, in a real headless browser (issue 14).

``govsim app`` is started on a free port; Debian's Chromium (``/usr/bin/chromium``), driven
by Playwright, loads the page, changes the policy, presses run and waits for the run; the
table must show the metric labels and the numbers :func:`govsim.compare` computes for the
same settings and seed (independently of the page's code), the figures must appear as
images, and a bad horizon must give its message. Skipped, with the reason, where Chromium,
Playwright or Solara is missing; CI installs them (``.ci/run``).

``GOVSIM_APP_SCREENSHOT=docs/img/app.png python3 -m pytest tests/test_app_browser.py`` also
writes the screenshot of the docs.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
HORIZON, N, SEED = "2d", 2, 2026

playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)")
pytest.importorskip("solara", reason='Solara is not installed (pip install "govsim[classroom]")')
pytest.importorskip("ipywidgets", reason='ipywidgets is not installed (pip install "govsim[classroom]")')
if CHROMIUM is None:
    pytest.skip("Chromium is not installed (apt-get install -y chromium)", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    port = _free_port()
    log = open(os.devnull, "w")
    proc = subprocess.Popen([sys.executable, "-m", "govsim", "app", "--port", str(port), "--workers", "1",
                             "--horizon", HORIZON, "-n", str(N)], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert proc.poll() is None, "govsim app stopped"
            assert time.monotonic() < deadline, "govsim app did not answer in 90 s"
            time.sleep(0.3)
        yield url
    finally:
        workers = _children(proc.pid)  # the pool's worker processes (and its resource tracker)
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        deadline = time.monotonic() + 15
        while any(Path(f"/proc/{pid}").exists() for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = [pid for pid in workers if Path(f"/proc/{pid}").exists()]
        assert not left, f"worker processes left running after the server stopped: {left}"


def _children(pid: int) -> list[int]:
    """Child processes of ``pid`` (Linux; none elsewhere)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def _expected() -> tuple[dict[str, tuple[float, float, float, str]], list[str]]:
    """Per metric label: (preset mean, yours, difference, unit) as the library computes them
    for the page's settings: the preset against the preset with smart dispatch and sensors on
    half of the grids, same seed."""
    import govsim
    from govsim.plots.experiments import FOREST_METRICS
    from govsim.plots.labels import labels_for

    base = govsim.load_scenario("traditional_patrol", overrides={"horizon": HORIZON})
    yours = govsim.load_scenario("traditional_patrol", overrides={
        "horizon": HORIZON, "policy": "smart_dispatch", "channels.sensors.enabled": True,
        "channels.sensors.coverage": 0.5, "channels.sensors.grid_ids": None})
    cmp = govsim.compare([base, yours], n=N, seed=SEED, jobs=1, progress=False)
    t = cmp.table.set_index("metric")
    tr = labels_for("en")
    out = {}
    for m in ("n_issues", *FOREST_METRICS):
        if m in t.index and not math.isnan(float(t.loc[m, "mean_baseline"])):
            r = t.loc[m]
            out[tr.metric(m, unit=False)] = (float(r["mean_baseline"]), float(r["mean_scenario"]), float(r["difference"]),
                                 str(r["unit"]))
    return out, ["Resolution rate", "Worker utilisation", "Discovery delay, mean"]


def _close(text: str, value: float, unit: str) -> None:
    """The number shown in ``text`` is ``value`` rounded as displayed."""
    match = re.search(r"[-+]?\d+(?:\.\d+)?", text)
    assert match, text
    shown = float(match.group())
    decimals = len(match.group().split(".")[1]) if "." in match.group() else 0
    scale = 100.0 if unit == "share" else 1.0
    assert abs(shown - scale * value) <= 0.5 * 10 ** -decimals + 1e-9, (text, value)


def test_the_page_runs_a_comparison_and_shows_a_bad_value(server: str, tmp_path: Path) -> None:
    expected, must_have = _expected()
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1650})
            page.goto(server)
            run = page.locator("button.govsim-run")
            run.wait_for(timeout=60_000)
            assert page.locator(".govsim-table table").count() == 0  # nothing shown before a press
            page.locator(".govsim-policy select").select_option("smart_dispatch")
            handle = page.locator(".govsim-sensors .noUi-handle")
            handle.focus()
            for _ in range(5):  # the sensors slider, from the keyboard: 0 → 0.5 in steps of 0.1
                handle.press("ArrowRight")
            playwright_api.expect(page.locator(".govsim-sensors .widget-readout")).to_have_text("0.50")
            assert page.locator(".govsim-horizon input").input_value() == HORIZON
            run.click()
            playwright_api.expect(run).to_be_disabled(timeout=5_000)  # while the run goes
            playwright_api.expect(page.locator(".govsim-status")).to_contain_text("done", timeout=60_000)
            playwright_api.expect(run).to_be_enabled()

            rows = page.locator(".govsim-table table tbody tr")
            shown = {}
            for i in range(rows.count()):
                cells = rows.nth(i).locator("td").all_inner_texts()
                shown[cells[0]] = cells
            heads = page.locator(".govsim-table table thead th").all_inner_texts()
            assert heads[:4] == ["metric", "traditional_patrol (preset)", "your settings", "difference"]
            for label in must_have:
                assert any(k.startswith(label) for k in shown), (label, list(shown))
            assert set(shown) == set(expected), (sorted(shown), sorted(expected))
            moved = 0
            for label, (base, yours, diff, unit) in expected.items():
                cells = shown[label]
                _close(cells[1], base, unit)
                _close(cells[2], yours, unit)
                _close(cells[3], diff, unit)
                moved += diff != 0
            assert moved >= 3  # smart dispatch changes the district: the numbers are not all equal
            for name in ("forest", "maps"):
                img = page.locator(f"img.govsim-{name}")
                playwright_api.expect(img).to_be_visible()
                width = img.evaluate("e => e.complete ? e.naturalWidth : 0")
                assert width > 300, (name, width)  # a decoded PNG, not a broken image
            shot = os.environ.get("GOVSIM_APP_SCREENSHOT")
            page.screenshot(path=shot or str(tmp_path / "app.png"), full_page=True)

            page.locator(".govsim-horizon input").fill("7")
            run.click()
            message = page.locator(".govsim-message")
            playwright_api.expect(message).to_contain_text("horizon: expected a duration with a unit", timeout=30_000)
            assert "Traceback" not in page.inner_text("body")
            playwright_api.expect(run).to_be_enabled()
        finally:
            browser.close()
