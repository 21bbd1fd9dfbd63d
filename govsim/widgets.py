"""Live exploration for the classroom (课堂演示): move a slider, press run, see what changes.

A class picks a preset, changes the staffing and the channels of the district — workers per
grid (网格员), residents' participation (居民参与), sensors (智能感知), volunteers (双报到
志愿者), the dispatch policy (派单模式) — and compares *your settings* with the preset on
the same issues (common random numbers): the comparison table, the forest plot of the
paired differences and the coverage map of both, side by side on one colour scale.

The logic is kept apart from the display, so that it is tested without a browser:

* :class:`Controls` — the values of the controls, plain data;
* :func:`preset_controls` — the controls set to a preset's own values;
* :func:`scenario_overrides` — controls → the ``--set``-style dotted keys that turn the preset
  into *your settings* (only what differs from the preset), or :class:`ControlError` with
  one clear message naming the control;
* :func:`explore` — controls → an :class:`Exploration` (the comparison, its table, the
  figures); :func:`render` — the same as HTML and PNG images (:class:`View`), the form the
  web page (``govsim app``, :mod:`govsim.app`) ships to a browser.

:class:`Explorer` is the notebook widget (ipywidgets, ``pip install "govsim[widgets]"``)::

    from govsim.widgets import Explorer
    Explorer()          # the last expression of a cell: the controls and, after a press, the figures

Each press runs in a worker thread (the button is disabled while it runs), with short
horizons so that it answers in a few seconds (``docs/classroom.md`` gives measured times).
"""

from __future__ import annotations

import html
import importlib
import io
import math
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from govsim.experiments.api import Comparison
    from govsim.result import Result
    from govsim.scenario.schema import Scenario

__all__ = [
    "CLASSROOM_PRESETS", "ControlError", "Controls", "Exploration", "check_controls", "Explorer", "INSTALL_HINT", "LIMITS",
    "View", "explore", "preset_controls", "render", "scenario_overrides", "set_options", "warm_up",
]

INSTALL_HINT = 'the classroom widgets need ipywidgets: pip install "govsim[widgets]"'

#: Presets offered in the list (every preset can be named; these are the ones a class starts
#: from: the 36-grid district models of the sources).
CLASSROOM_PRESETS = (
    "traditional_patrol", "smart_dispatch", "hongqi", "zhoushan", "changning_1plusN",
    "lujiazui_alliance", "chaoyang_festival", "hongqi_mediation",
)

#: Range of each control: (least, most). A press must answer in a few seconds, hence the
#: short horizon and the few replications.
LIMITS: dict[str, tuple[float, float]] = {
    "workers_per_grid": (0.25, 4.0),
    "participation": (0.05, 1.0),
    "sensors": (0.0, 1.0),
    "volunteers": (0, 20),
    "horizon_h": (1.0, 14 * 24.0),
    "replications": (1, 10),
}

#: Categories volunteers take when the preset has none: the posts of Hongqi's 双报到
#: volunteers (``hongqi.yaml``), those the preset has.
VOLUNTEER_CATEGORIES = ("garbage", "stairwell_clutter", "parking")
#: When they serve if the preset has none: every day 09:00–17:00 (Hongqi's serve on Saturdays,
#: which a horizon of a few days from Monday never reaches).
VOLUNTEER_HOURS = [{"start": "09:00", "end": "17:00"}]


class ControlError(ValueError):
    """A control holds a value the exploration cannot use; the message names the control, what
    it expected and what it got, and is shown in the widget as it is."""


@dataclass(frozen=True)
class Controls:
    """The values of the explorer's controls.

    ``None`` leaves a setting as the preset has it. ``sensors`` is the share of grids with
    sensors (0: none); ``volunteers`` the volunteers on duty per community (0: none);
    ``participation`` residents' participation in every community (0.3 reproduces the
    categories' report probabilities as calibrated); ``extra`` more settings, one
    ``KEY=VALUE`` per line as with ``--set``. Your settings are compared with the preset over
    ``horizon`` with ``replications`` paired replications from ``seed``."""

    preset: str = "traditional_patrol"
    workers_per_grid: float | None = None
    participation: float | None = None
    sensors: float | None = None
    volunteers: int | None = None
    policy: str | None = None
    horizon: str = "3d"
    replications: int = 3
    seed: int = 2026
    extra: str = ""
    lang: str = "en"


def _load_preset(preset: str, horizon: str = "1d") -> Scenario:
    from govsim.scenario import ScenarioError, load_scenario

    if not isinstance(preset, str) or not preset.strip():
        raise ControlError(f"preset: expected a preset's name, e.g. smart_dispatch, got {preset!r}")
    try:
        return load_scenario(preset, overrides={"horizon": horizon})
    except ScenarioError as err:
        raise ControlError(f"preset: {err}") from None


def _participation(scenario: Scenario) -> float:
    p = scenario.governance.participation
    return float(p.level) if p is not None else 0.3


def _sensors(scenario: Scenario) -> float:
    s = scenario.channels.sensors
    if not s.enabled:
        return 0.0
    t = scenario.territory
    if s.grid_ids is not None and not t.grids_csv:  # a share of the grids listed or laid out
        n = len(t.grids) if t.grids else t.rows * t.cols
        return round(len(set(s.grid_ids)) / max(n, 1), 2)
    return float(s.coverage)


def preset_controls(preset: str, **values: Any) -> Controls:
    """The controls set to ``preset``'s own values (a press then compares the preset with
    itself), with ``values`` (other fields of :class:`Controls`) replacing them."""
    return replace(_own_controls(preset, _load_preset(preset)), **values)


def _own_controls(preset: str, sc: Scenario) -> Controls:
    v = sc.governance.volunteers
    return Controls(preset=preset, workers_per_grid=float(sc.workers.per_grid),
                    participation=_participation(sc), sensors=_sensors(sc),
                    volunteers=int(v.per_community) if v is not None else 0, policy=str(sc.policy))


def _number(name: str, value: Any, whole: bool = False) -> float:
    lo, hi = LIMITS[name]
    what = "a whole number" if whole else "a number"
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value) or (whole and float(value) != int(value)):
        raise ControlError(f"{name.replace('_', ' ')}: expected {what} from {lo:g} to {hi:g}, got {value!r}")
    if not lo <= value <= hi:
        raise ControlError(f"{name.replace('_', ' ')}: expected {what} from {lo:g} to {hi:g}, got {value:g}")
    return float(value)


def _horizon(text: Any) -> float:
    from govsim.units import UnitError, format_duration, parse_duration

    lo, hi = LIMITS["horizon_h"]
    try:
        hours = parse_duration(text, allow_bare_zero=False)
    except UnitError as err:
        raise ControlError(f"horizon: {err}") from None
    if not lo <= hours <= hi:
        raise ControlError(f"horizon: expected from {format_duration(lo)} to {format_duration(hi)} "
                           f"(a press should answer in seconds), got {text!r}")
    return hours


def _extra(text: str) -> dict[str, Any]:
    from govsim.scenario import ScenarioError, parse_override

    out: dict[str, Any] = {}
    for i, line in enumerate(str(text or "").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            key, value = parse_override(line)
        except ScenarioError as err:
            raise ControlError(f"more settings, line {i}: {'; '.join(err.messages)}") from None
        out[key] = value
    return out


def scenario_overrides(controls: Controls) -> dict[str, Any]:
    """The dotted keys (as ``--set``) that turn ``controls.preset`` into *your settings*: only
    the controls that differ from the preset's own values, then the extra ``KEY=VALUE`` lines.
    The horizon is not among them (both scenarios get it). Raises :class:`ControlError`."""
    from govsim.policies import POLICIES

    c = controls
    sc = _load_preset(c.preset)
    own = _own_controls(c.preset, sc)
    out: dict[str, Any] = {}
    if c.workers_per_grid is not None:
        w = _number("workers_per_grid", c.workers_per_grid)
        if w != own.workers_per_grid:
            out["workers.per_grid"] = w
    if c.participation is not None:
        p = _number("participation", c.participation)
        if p != own.participation:
            out["governance.participation.level"] = p
    if c.sensors is not None:
        s = _number("sensors", c.sensors)
        if s != own.sensors:
            if s == 0:
                out["channels.sensors.enabled"] = False
            else:
                out.update({"channels.sensors.enabled": True, "channels.sensors.coverage": s,
                            "channels.sensors.grid_ids": None})
    if c.volunteers is not None:
        n = int(_number("volunteers", c.volunteers, whole=True))
        if n != own.volunteers:
            if n == 0:
                out["governance.volunteers"] = None
            elif sc.governance.volunteers is not None:
                out["governance.volunteers.per_community"] = n
            else:
                cats = [k for k in VOLUNTEER_CATEGORIES if k in sc.categories]
                if not cats:
                    raise ControlError(f"volunteers: preset {c.preset} has none of the categories "
                                       f"volunteers take ({', '.join(VOLUNTEER_CATEGORIES)}); set "
                                       f"governance.volunteers under more settings instead")
                out["governance.volunteers"] = {"per_community": n, "categories": cats,
                                                 "hours": VOLUNTEER_HOURS}
    if c.policy is not None and c.policy != own.policy:
        if c.policy not in POLICIES:
            raise ControlError(f"policy: expected one of {', '.join(POLICIES)}, got {c.policy!r}")
        out["policy"] = c.policy
    extra = _extra(c.extra)
    if "horizon" in extra:
        raise ControlError("more settings: set the horizon in its own box, not as horizon=...")
    out.update(extra)
    return out


def check_controls(controls: Controls) -> tuple[dict[str, Any], Scenario, Scenario]:
    """The overrides (:func:`scenario_overrides`) and both scenarios loaded with the horizon —
    the preset's and yours: the first problem of the controls as a :class:`ControlError`,
    before anything runs."""
    from govsim.scenario import ScenarioError, load_scenario

    c = controls
    if c.lang not in ("en", "zh"):
        raise ControlError(f"language: expected en or zh, got {c.lang!r}")
    _horizon(c.horizon)
    _number("replications", c.replications, whole=True)
    if isinstance(c.seed, bool) or not isinstance(c.seed, (int, np.integer)) or c.seed < 0:
        raise ControlError(f"seed: expected a whole number >= 0, got {c.seed!r}")
    overrides = scenario_overrides(c)
    common = {"horizon": c.horizon}
    base = _load_preset(c.preset, c.horizon)
    try:
        yours = load_scenario(c.preset, overrides={**overrides, **common})
    except ScenarioError as err:
        raise ControlError(f"your settings: {'; '.join(err.messages)}") from None
    return overrides, base, yours


def _fmt(x: float, unit: str, difference: bool = False) -> str:
    """A cell with its unit: a share in % (a difference of shares in pp), hours in h, a count
    whole when it is; a difference signed."""
    if not math.isfinite(x):
        return "–"
    sign = "+" if difference else ""
    if unit == "share":
        return f"{100 * x:{sign}.1f} {'pp' if difference else '%'}"
    if unit == "h":
        return f"{x:{sign}.2f} h"
    if unit == "count" and not difference:
        return f"{x:.1f}" if not float(x).is_integer() else f"{int(x):d}"
    return f"{x:{sign}.4g}"


_HEAD = {"metric": ("metric", "指标"), "difference": ("difference", "差异"),
         "ci": ("{conf:.0%} interval", "{conf:.0%} 置信区间"), "significant": ("significant", "显著"),
         "yes": ("yes", "是"), "no": ("no", "否"), "yours": ("your settings", "调整后"),
         "baseline": ("{preset} (preset)", "{preset}（预设）")}


def labels(lang: str) -> tuple[str, str]:
    """The names of the two compared scenarios: the preset's (``{preset}`` to fill in) and
    yours."""
    i = 1 if lang == "zh" else 0
    return _HEAD["baseline"][i], _HEAD["yours"][i]


@dataclass
class Exploration:
    """One press: the controls, the overrides that made *your settings*, the paired
    :func:`govsim.compare` of the preset and yours, replication 0 of each (for the maps), and
    the seconds it took."""

    controls: Controls
    overrides: dict[str, Any]
    comparison: Comparison
    results: dict[str, Result]
    seconds: float
    metrics: list[str] = field(default_factory=list)

    def table(self) -> pd.DataFrame:
        """The comparison table as shown: per metric (labelled in the controls' language, with
        its unit), the preset's mean, yours, the paired difference, its interval and whether it
        is significant after Holm's correction (numbers formatted: shares in %, differences of
        shares in percentage points, times in hours)."""
        from govsim.plots.labels import labels_for

        lang = self.controls.lang
        i = 1 if lang == "zh" else 0
        tr = labels_for(lang)
        cmp = self.comparison
        t = cmp.table.set_index("metric")
        base, yours = cmp.labels
        ci = _HEAD["ci"][i].format(conf=cmp.confidence)
        rows = []
        for m in self.metrics:
            r = t.loc[m]
            assert isinstance(r, pd.Series)  # one row per metric: two scenarios compared
            unit = str(r["unit"])
            lo, hi = float(r["ci_low"]), float(r["ci_high"])
            interval = (f"{_fmt(lo, unit, difference=True)} … {_fmt(hi, unit, difference=True)}"
                        if math.isfinite(lo) and math.isfinite(hi) else "–")
            sig = _HEAD["yes" if bool(r["significant"]) else "no"][i] if cmp.n > 1 else "–"
            rows.append({_HEAD["metric"][i]: tr.metric(m, unit=False),
                         base: _fmt(float(r["mean_baseline"]), unit),
                         yours: _fmt(float(r["mean_scenario"]), unit),
                         _HEAD["difference"][i]: _fmt(float(r["difference"]), unit, difference=True),
                         ci: interval, _HEAD["significant"][i]: sig})
        return pd.DataFrame(rows)

    def forest(self) -> Figure:
        """The forest plot of the paired differences (:func:`govsim.plots.forest`)."""
        from govsim.plots import forest

        return forest(self.comparison, [m for m in self.metrics if m != "n_issues"], lang=self.controls.lang)

    def maps(self) -> Figure:
        """Patrol-point visits per day in each grid, the preset and yours side by side on one
        colour scale (replication 0 of each)."""
        return coverage_maps(self.results, lang=self.controls.lang)


def coverage_maps(results: Mapping[str, Result], lang: str = "en") -> Figure:
    """The coverage maps (巡查覆盖图) of runs of one district side by side, coloured by
    patrol-point visits per day on one shared scale, so that a colour means the same number
    in every panel."""
    import matplotlib as mpl
    from matplotlib.collections import PatchCollection
    from matplotlib.colors import Normalize

    from govsim.plots._base import finish, new_figure
    from govsim.plots.labels import labels_for
    from govsim.plots.maps import grid_patches_of, grid_visits_per_day

    tr = labels_for(lang)
    values = {k: grid_visits_per_day(r) for k, r in results.items()}
    finite = np.concatenate([v[np.isfinite(v)] for v in values.values()])
    norm = Normalize(*(float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0))
    cmap = mpl.colormaps["viridis"].with_extremes(bad="0.85")
    fig = new_figure(4.0 * len(results) + 1.2, 4.2)
    axes = fig.subplots(1, len(results), squeeze=False)[0]
    cells = None
    for ax, (label, result) in zip(axes, results.items()):
        patches, (x0, x1, y0, y1) = grid_patches_of(result)
        cells = PatchCollection(patches, cmap=cmap, norm=norm, edgecolor="white", linewidth=0.5)
        cells.set_array(np.ma.masked_invalid(values[label]))
        ax.add_collection(cells)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_aspect("equal")
        ax.set_xlabel(tr("x_km"))
        ax.set_title(label, fontsize="medium")
    axes[0].set_ylabel(tr("y_km"))
    if cells is not None:
        fig.colorbar(cells, ax=list(axes), label=tr("visits_per_day"), shrink=0.85)
    fig.suptitle(tr("coverage_visits"))
    return finish(fig, tr)


def explore(controls: Controls) -> Exploration:
    """Compare ``controls.preset`` with *your settings* (the preset with
    :func:`scenario_overrides`) on common random numbers: ``replications`` paired runs over the
    ``horizon`` (:func:`govsim.compare`, in this process), and replication 0 of each again for
    the maps. Raises :class:`ControlError` for a bad control, before anything runs."""
    from govsim.engine import Simulation
    from govsim.experiments import compare, replication_seed
    from govsim.plots.experiments import FOREST_METRICS

    start = time.perf_counter()
    c = controls
    overrides, base, yours = check_controls(c)
    name_base, name_yours = labels(c.lang)
    names = [name_base.format(preset=c.preset), name_yours]
    cmp = compare({names[0]: base, names[1]: yours}, n=int(c.replications), seed=int(c.seed),
                  jobs=1, progress=False)
    rep0 = replication_seed(int(c.seed), 0)
    results = {names[0]: Simulation(base, rep0).run(), names[1]: Simulation(yours, rep0).run()}
    have = cmp.table.groupby("metric")[["mean_baseline", "mean_scenario"]].apply(
        lambda d: bool(d.notna().to_numpy().any()))
    metrics = [m for m in ("n_issues", *FOREST_METRICS) if bool(have.get(m, False))]
    return Exploration(c, overrides, cmp, results, time.perf_counter() - start, metrics)


# --------------------------------------------------------------------------- display


@dataclass(frozen=True)
class View:
    """What a press shows, ready for a browser: the message (empty when the run went well),
    the comparison table as HTML, the forest plot and the maps as PNG bytes, the overrides
    as ``--set`` lines and the seconds the run took."""

    message: str = ""
    table_html: str = ""
    forest_png: bytes = b""
    maps_png: bytes = b""
    settings: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.message


def warm_up() -> None:
    """Import what a press needs (a worker process started ahead of the first press)."""
    importlib.import_module("govsim.experiments")
    importlib.import_module("govsim.plots")


def _png(fig: Figure, dpi: int = 80) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def render(controls: Controls) -> View:
    """:func:`explore` as a :class:`View`; a bad control gives a View with only the message
    (never an exception for bad input), so that a widget can show it as it is."""
    from govsim.experiments import ExperimentError
    from govsim.scenario import ScenarioError

    start = time.perf_counter()
    try:
        ex = explore(controls)
    except (ControlError, ScenarioError, ExperimentError) as err:
        return View(message=str(err))
    return render_exploration(ex, start)


_CSS = """<style>
.govsim-table {border-collapse: collapse; font-size: 13px}
.govsim-table th, .govsim-table td {padding: 2px 8px; text-align: right; border-bottom: 1px solid #ddd}
.govsim-table td:first-child, .govsim-table th:first-child {text-align: left}
.govsim-error {color: #b00020; white-space: pre-wrap; font-weight: bold}
</style>"""


def _ipywidgets() -> Any:
    try:
        return importlib.import_module("ipywidgets")
    except ImportError:
        raise ImportError(INSTALL_HINT) from None


class Explorer:
    """The notebook explorer (ipywidgets): the controls, a run button, and after each press the
    comparison table, the forest plot and the maps. Display it as the last expression of a
    cell (or ``explorer.widget``). Each press runs :func:`render` in a worker thread, or in
    ``executor`` (the web page passes a process pool, so that one class's runs do not hold
    up the server); the button is disabled while it runs. ``explorer.view`` is the last
    :class:`View`, ``explorer.last`` the last :class:`Exploration` (in-thread runs only)."""

    def __init__(self, preset: str = "traditional_patrol", *, horizon: str = "3d", replications: int = 3,
                 seed: int = 2026, lang: str = "en", executor: Executor | None = None) -> None:
        w = _ipywidgets()
        from govsim.policies import POLICIES

        self._executor = executor
        self._thread: threading.Thread | None = None
        self.view: View | None = None
        self.last: Exploration | None = None
        style = {"description_width": "150px"}
        layout = w.Layout(width="420px")

        def slider(cls: Any, name: str, step: float, desc: str, tip: str, **kw: Any) -> Any:
            a, b = LIMITS[name]
            return cls(min=a, max=b, step=step, description=desc, tooltip=tip, style=style, layout=layout,
                       continuous_update=False, **kw)

        options = list(CLASSROOM_PRESETS) + ([] if preset in CLASSROOM_PRESETS else [preset])
        self.preset = w.Dropdown(options=options, value=preset, description="preset 预设", style=style,
                                 layout=layout)
        self.workers = slider(w.FloatSlider, "workers_per_grid", 0.25, "workers per grid 网格员",
                              "grid workers per grid on each shift (0.5: one worker for two grids)")
        self.participation = slider(w.FloatSlider, "participation", 0.05, "participation 居民参与",
                                    "residents' participation; 0.3 = report probabilities as calibrated")
        self.sensors = slider(w.FloatSlider, "sensors", 0.1, "sensors 智能感知", "share of grids with sensors")
        self.volunteers = slider(w.IntSlider, "volunteers", 1, "volunteers 志愿者",
                                 "volunteers on duty per community (0: none)")
        self.policy = w.Dropdown(options=list(POLICIES), description="policy 派单模式", style=style,
                                 layout=layout)
        self.horizon = w.Text(value=horizon, description="horizon 时长", style=style, layout=layout,
                              placeholder="e.g. 3d")
        self.replications = slider(w.IntSlider, "replications", 1, "replications 重复次数",
                                   "paired replications (common random numbers)", value=replications)
        self.seed = w.IntText(value=seed, description="seed 随机种子", style=style, layout=layout)
        self.extra = w.Textarea(value="", description="more settings 其他", style=style,
                                layout=w.Layout(width="420px", height="60px"),
                                placeholder="KEY=VALUE per line, e.g. workers.speed_kmh=3")
        self.lang = w.ToggleButtons(options=[("English", "en"), ("中文", "zh")], value=lang,
                                    description="labels 语言", style=style)
        self.button = w.Button(description="Run 运行", button_style="primary", icon="play",
                               tooltip="compare your settings with the preset")
        self.status = w.HTML(value="")
        self.message = w.HTML(value="")
        self.table = w.HTML(value="")
        self.forest = w.Image(format="png", layout=w.Layout(max_width="640px"))
        self.maps = w.Image(format="png", layout=w.Layout(max_width="760px"))
        self.settings = w.HTML(value="")
        for widget, name in ((self.preset, "preset"), (self.workers, "workers"),
                             (self.participation, "participation"), (self.sensors, "sensors"),
                             (self.volunteers, "volunteers"), (self.policy, "policy"), (self.horizon, "horizon"),
                             (self.replications, "replications"), (self.seed, "seed"), (self.extra, "extra"),
                             (self.lang, "lang"), (self.button, "run"), (self.status, "status"),
                             (self.message, "message"), (self.table, "table"), (self.forest, "forest"),
                             (self.maps, "maps")):
            widget.add_class(f"govsim-{name}")  # CSS classes: the browser test finds them by these
        controls = w.VBox([self.preset, self.workers, self.participation, self.sensors, self.volunteers,
                           self.policy, self.horizon, self.replications, self.seed, self.extra, self.lang,
                           w.HBox([self.button, self.status])])
        figures = w.VBox([self.message, self.table, self.settings, self.forest, self.maps])
        self.widget = w.VBox([w.HTML(_CSS), w.HBox([controls, figures])])
        self._set_preset(preset)
        self.preset.observe(lambda change: self._set_preset(change["new"]), names="value")
        self.button.on_click(lambda _: self.run())
        self.forest.layout.display = self.maps.layout.display = "none"

    def _set_preset(self, preset: str) -> None:
        try:
            c = preset_controls(preset)
        except ControlError as err:
            self._show_message(str(err))
            return
        self.workers.value, self.participation.value = c.workers_per_grid, c.participation
        self.sensors.value, self.volunteers.value, self.policy.value = c.sensors, c.volunteers, c.policy

    def controls(self) -> Controls:
        """The controls' current values."""
        return Controls(preset=self.preset.value, workers_per_grid=float(self.workers.value),
                        participation=float(self.participation.value), sensors=float(self.sensors.value),
                        volunteers=int(self.volunteers.value), policy=self.policy.value,
                        horizon=str(self.horizon.value).strip(), replications=int(self.replications.value),
                        seed=int(self.seed.value), extra=str(self.extra.value), lang=self.lang.value)

    def _show_message(self, text: str) -> None:
        self.message.value = f"<div class='govsim-error'>{html.escape(text)}</div>" if text else ""

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def run(self, wait: bool = False) -> None:
        """Press the button: start a run of the current controls in a worker thread (``wait``:
        and wait for it). Does nothing while a run is going."""
        if self.running:
            return
        controls = self.controls()
        self.button.disabled = True
        self.status.value = "running… 运行中"
        self._show_message("")
        self._thread = threading.Thread(target=self._work, args=(controls,), daemon=True,
                                        name="govsim-explorer")
        self._thread.start()
        if wait:
            self._thread.join()

    def _work(self, controls: Controls) -> None:
        try:
            if self._executor is not None:
                view = self._executor.submit(render, controls).result()
            else:
                view = self._render_here(controls)
            self._show(view)
        except Exception as err:  # noqa: BLE001 - a failure of the run itself: shown, never raised into the UI thread
            self._show(View(message=f"the run failed: {type(err).__name__}: {err}"))
        finally:
            self.button.disabled = False

    def _render_here(self, controls: Controls) -> View:
        from govsim.experiments import ExperimentError
        from govsim.scenario import ScenarioError

        start = time.perf_counter()
        try:
            self.last = explore(controls)
        except (ControlError, ScenarioError, ExperimentError) as err:
            return View(message=str(err))
        return render_exploration(self.last, start)

    def _show(self, view: View) -> None:
        self.view = view
        self._show_message(view.message)
        if not view.ok:
            self.status.value = "see the message 请查看提示"
            return
        self.table.value = view.table_html
        self.settings.value = ("<pre style='font-size:12px'>" + html.escape(view.settings) + "</pre>")
        self.forest.value, self.maps.value = view.forest_png, view.maps_png
        self.forest.layout.display = self.maps.layout.display = None
        self.status.value = f"done in {view.seconds:.1f} s 完成"

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


def set_options(overrides: Mapping[str, Any]) -> list[str]:
    """``overrides`` as ``--set`` options to type in a shell (``govsim compare A B --set ...``):
    each value written as YAML, which is how ``--set`` reads it back, quoted for the shell."""
    import shlex

    import yaml

    out = []
    for key, value in overrides.items():
        text = yaml.safe_dump(value, default_flow_style=True, width=10**6, allow_unicode=True).strip()
        if text.endswith("\n..."):  # a scalar document's end marker
            text = text[:-4].strip()
        out.append(f"--set {shlex.quote(f'{key}={text}')}")
    return out


def render_exploration(ex: Exploration, start: float | None = None) -> View:
    """An :class:`Exploration` as a :class:`View`; ``start`` (a ``time.perf_counter()``) makes
    ``seconds`` cover the drawing too."""
    body = ex.table().to_html(index=False, escape=True, classes="govsim-table", border=0)
    settings = "\n".join(set_options(ex.overrides)) or "(the preset as it is)"
    head = (f"{ex.controls.preset}: {ex.comparison.n} paired replication"
            f"{'s' if ex.comparison.n != 1 else ''}, seed {ex.comparison.seed}, horizon {ex.controls.horizon}")
    forest, maps = _png(ex.forest()), _png(ex.maps())
    seconds = ex.seconds if start is None else time.perf_counter() - start
    return View("", f"<p class='govsim-note'>{html.escape(head)}</p>{body}", forest, maps, settings, seconds)
