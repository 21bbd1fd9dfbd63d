"""A day on the map (网格一日): workers walking their grids, issues appearing, found and closed.

:func:`animate` renders one run, or two runs side by side (two scenarios on the same seed
see the same issues: common random numbers), as a video (``.mp4``, with ffmpeg), an
animated ``.gif`` (Pillow) or a self-contained ``.html`` page with a player (``.png``: one
still). See ``docs/animate.md``.

What is drawn comes from the run's tables only, nothing is simulated again:

* the grids (网格): squares, or the polygons of ``territory.map_geojson``;
* each grid worker (网格员) where :func:`worker_positions` puts it, coloured by what it is
  doing (``time_use``: patrol, travel, handle, idle); off shift it is not drawn;
* each issue (事件) at its patrol point: red from when it arises until it is found, orange
  while known and open, green when closed (grey if it lapsed or left the mediation ladder
  unsettled), fading out over :data:`FADE_H` after closing;
* a clock, and per panel the live counters: open and found issues, issues closed since the
  first frame, and the discoveries since the first frame by channel.

Positions are **reconstructed exactly** from the recorded patrol segments (``patrols``,
with the routes of :mod:`govsim.policies.routes`, as :meth:`Result.iter_visits` expands
them) and the trips (``issues`` and ``false_alarms``: ``handler``, ``assigned_at``,
``arrived_at``, the issue's point; ``time_use``: the stretches of travel, handling and
idling): the worker's day is replayed from these records as :class:`GridWorker` lives it.
The static facts a table does not hold (each worker's route and first visit, shift and
walking speed) are those of the run's scenario and seed, as :meth:`Result.from_dir` rebuilds
them.

Frames are drawn fast: the map is drawn once, and each frame only moves the workers' and
issues' markers and rewrites the texts (blitting onto the saved background); the pixels
go straight to ffmpeg or Pillow.
"""

from __future__ import annotations

import base64
import io
import math
import shutil
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from govsim.agents.workers import STATE_NAMES
from govsim.plots._base import as_results
from govsim.plots.labels import Labels, labels_for

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.figure import Figure

    from govsim.engine import Simulation
    from govsim.result import Result

__all__ = ["FADE_H", "FORMATS", "animate", "frame_times", "worker_positions", "worker_states"]

#: Output formats, by file suffix (``.png``: a still of the first frame, e.g. for a handout).
FORMATS = (".mp4", ".gif", ".html", ".png")
#: Hours over which a closed issue fades out.
FADE_H = 1.0
#: Most frames one animation may have (a week at one frame per simulated minute).
MAX_FRAMES = 7 * 1440
EPS = 1e-9

# The figure's own labels (English, Chinese), drawn with Labels.text.
TEXT = {
    "title": ("A day on the map", "网格一日"),
    "day": ("{weekday}, day {day}", "{weekday}（第 {day} 天）"),
    "open": ("open", "未办结"),
    "of_them_found": ("of them found", "其中已发现"),
    "closed_since": ("closed since {since}", "{since} 起已办结"),
    "found_by": ("found by", "发现渠道"),
    "hidden": ("arisen, not yet found", "已发生未发现"),
    "found": ("found, open", "已发现未办结"),
    "closed": ("closed", "已办结"),
    "gone": ("lapsed / unsettled", "自行消失 / 未化解"),
    "patrol": ("worker: patrol", "网格员：巡查"),
    "travel": ("worker: on the way", "网格员：在途"),
    "handle": ("worker: handling", "网格员：处置"),
    "idle": ("worker: idle", "网格员：空闲"),
}
CHANNEL_TEXT = {
    "patrol": ("patrol", "巡查"), "report": ("report", "居民上报"), "sensor": ("sensor", "智能感知"),
    "walk_in": ("walk-in", "来访"), "liaison": ("liaison", "党员联户"),
}
ISSUE_COLOURS = {"hidden": "#d62728", "found": "#ff7f0e", "closed": "#2ca02c", "gone": "#7f7f7f"}
STATE_COLOURS = {"patrol": "#1f77b4", "travel": "#9467bd", "handle": "#000000", "idle": "#8c564b"}
GRID_FACE = "#e9edf2"


# --- where the workers are ---------------------------------------------------------------

@dataclass(frozen=True)
class Moves:
    """A run's workers' whereabouts as pieces of time, sorted by worker then start: over
    ``[t0, t1)`` worker ``worker`` stays at ``a`` until ``tw``, then walks towards ``b`` at
    its speed, arriving at ``ta`` (possibly after ``t1``: a walk cut short). Off shift a
    worker is in no piece. Coordinates in metres; ``manhattan``: walks go along x, then y."""

    worker: np.ndarray
    t0: np.ndarray
    t1: np.ndarray
    tw: np.ndarray
    ta: np.ndarray
    a: np.ndarray  # (n, 2)
    b: np.ndarray  # (n, 2)
    manhattan: bool
    n_workers: int

    def at(self, times: np.ndarray, walk: bool = True) -> np.ndarray:
        """Positions ``(len(times), n_workers, 2)`` at ``times`` (NaN: off shift); ``walk=False``:
        the last patrol point reached (where the model measures distances from)."""
        times = np.asarray(times, dtype=float)
        out = np.full((len(times), self.n_workers, 2), np.nan)
        bounds = np.searchsorted(self.worker, np.arange(self.n_workers + 1))
        for w in range(self.n_workers):
            lo, hi = bounds[w], bounds[w + 1]
            if lo == hi:
                continue
            # a visit within EPS of a time counts as made, as the routes count it (last_visit)
            i = np.searchsorted(self.t0[lo:hi], times + EPS, side="right") - 1 + lo
            ok = (i >= lo) & (times + EPS < self.t1[np.maximum(i, lo)])
            i = i[ok]
            a, b = self.a[i], self.b[i]
            if not walk:
                out[ok, w] = a
                continue
            t, tw, ta = times[ok], self.tw[i], self.ta[i]
            span = ta - tw
            frac = np.where(span > 0, np.clip((t - tw) / np.where(span > 0, span, 1.0), 0.0, 1.0),
                            (t >= ta).astype(float))
            out[ok, w] = _along(a, b, frac, self.manhattan)
        return out


def _along(a: np.ndarray, b: np.ndarray, frac: np.ndarray, manhattan: bool) -> np.ndarray:
    """The point ``frac`` of the way from ``a`` to ``b``: in a straight line, or (Manhattan
    distance) along x first, then along y."""
    d = b - a
    if not manhattan:
        return a + frac[:, None] * d
    ax_, ay_ = np.abs(d[:, 0]), np.abs(d[:, 1])
    s = frac * (ax_ + ay_)
    x = a[:, 0] + np.sign(d[:, 0]) * np.minimum(s, ax_)
    y = a[:, 1] + np.sign(d[:, 1]) * np.clip(s - ax_, 0.0, ay_)
    return np.column_stack([x, y])


def moves(result: Result, until: float | None = None, since: float = 0.0, sim: Simulation | None = None) -> Moves:
    """The workers' whereabouts over ``[since, until]`` (default: the whole run), replayed from
    the run's tables (see the module's docstring). Raises ``ValueError`` if the tables
    contradict the replay (a worker in two places at once)."""
    from govsim.engine import Simulation

    until = result.horizon if until is None else until
    if sim is None:  # the static facts: routes, first visits, shifts, speeds
        sim = Simulation(result.scenario, result.seed)
    workers = sim.workers
    n = len(result.workers)
    if len(workers) != n:
        raise ValueError(f"run of {result.scenario.name!r}: its scenario and seed build {len(workers)} "
                         f"workers, the run's tables have {n}")
    terr = sim.territory
    px, py = terr.point_x, terr.point_y
    manhattan = terr.metric == "manhattan"
    patrolling = sim.patrol.enabled

    def dist(p: int, q: int) -> float:
        return float(terr.distance(p, q))

    tu = result.time_use.sort_values(["worker", "start"], kind="stable")
    tu_w = tu["worker"].to_numpy()
    tu_state = np.asarray(tu["state"].astype(str))
    tu_s, tu_e = tu["start"].to_numpy(dtype=float), tu["end"].to_numpy(dtype=float)
    tu_b = np.searchsorted(tu_w, np.arange(n + 1))
    pat = result.patrols.sort_values(["worker", "start"], kind="stable")
    pa_w = pat["worker"].to_numpy()
    pa_s, pa_e = pat["start"].to_numpy(dtype=float), pat["end"].to_numpy(dtype=float)
    pa_k0, pa_n = pat["first_visit"].to_numpy(), pat["visits"].to_numpy()
    pa_b = np.searchsorted(pa_w, np.arange(n + 1))
    trips = _trips(result)
    tr_w, tr_s, tr_arr, tr_pt = trips
    tr_b = np.searchsorted(tr_w, np.arange(n + 1))

    pieces: list[tuple[int, float, float, float, float, int, int]] = []  # w, t0, t1, tw, ta, from, to

    def add(w: int, t0: float, t1: float, tw: float, ta: float, p: int, q: int) -> None:
        if t1 > t0 and t1 >= since - EPS and t0 <= until + EPS:
            pieces.append((w, t0, t1, tw, ta, p, q))

    for w, worker in enumerate(workers):
        route, shift, speed = worker.route, worker.shift, worker.speed_mph
        pos, route_k = worker.pos, worker.route_k
        # the worker's activities: (start, rank, kind, index); rank orders those at one time
        acts: list[tuple[float, int, str, int]] = []
        for i in range(pa_b[w], pa_b[w + 1]):
            acts.append((pa_s[i], 0, "patrol", i))
        trip_starts = set()
        for i in range(tr_b[w], tr_b[w + 1]):
            acts.append((tr_s[i], 1, "trip", i))
            trip_starts.add(tr_s[i])
        handle_end: dict[float, float] = {}
        for i in range(tu_b[w], tu_b[w + 1]):
            st = tu_state[i]
            if st == "handle":
                handle_end[tu_s[i]] = tu_e[i]
            elif st == "idle":
                acts.append((tu_s[i], 0, "idle", i))
            elif st == "travel" and tu_s[i] not in trip_starts:
                acts.append((tu_s[i], 0, "back", i))
        acts.sort(key=lambda a: (a[0], a[1]))
        window_end = -math.inf
        for s, _, kind, i in acts:
            if s > until + EPS:
                break
            if s >= window_end:  # a new shift: the worker starts at its route's next visit
                _, window_end = shift.window(s)
                pos = route.point_at(route_k)
            if kind == "patrol":
                k0, nv, end = int(pa_k0[i]), int(pa_n[i]), pa_e[i]
                ks = np.arange(k0, k0 + nv + 1)
                points, offsets = route.visits(ks)
                t = s + offsets - offsets[0]
                if end >= since - EPS and s <= until + EPS:
                    for j in range(nv):
                        p, q = int(points[j]), int(points[j + 1])
                        walk_h = dist(p, q) / speed
                        add(w, t[j], min(t[j + 1], end), t[j + 1] - walk_h, t[j + 1], p, q)
                k = k0 + nv - 1
                at_visit = end < window_end and t[nv - 1] >= end - EPS
                route_k = k if at_visit else k + 1
                pos = int(points[nv - 1])
            elif kind == "trip":
                to = int(tr_pt[i])
                arrived = tr_arr[i]
                ta = s + dist(pos, to) / speed
                if math.isnan(arrived):  # still on the way at the end of the run
                    add(w, s, result.horizon, s, ta, pos, to)
                    continue
                add(w, s, arrived, s, arrived, pos, to)
                add(w, arrived, handle_end.get(arrived, arrived), arrived, arrived, to, to)
                pos = to
            elif kind == "back":
                # back to the route; a responder, or anyone when patrol is off, to its post
                to = route.point_at(route_k) if worker.patrols and patrolling else route.point_at(0)
                end = tu_e[i]
                ta = s + dist(pos, to) / speed
                add(w, s, end, s, ta, pos, to)
                if end >= ta - EPS or end >= window_end:  # arrived, or stopped by the shift's end
                    pos = to
            else:  # idle where it is
                add(w, s, tu_e[i], s, s, pos, pos)
    if pieces:
        arr = np.array(pieces, dtype=float)
        order = np.lexsort((arr[:, 1], arr[:, 0]))
        arr = arr[order]
    else:
        arr = np.zeros((0, 7))
    who = arr[:, 0].astype(np.int64)
    src, dst = arr[:, 5].astype(np.int64), arr[:, 6].astype(np.int64)
    out = Moves(worker=who, t0=arr[:, 1], t1=arr[:, 2], tw=arr[:, 3], ta=arr[:, 4],
                a=np.column_stack([px[src], py[src]]), b=np.column_stack([px[dst], py[dst]]),
                manhattan=manhattan, n_workers=n)
    same = who[1:] == who[:-1]
    overlap = same & (out.t0[1:] < out.t1[:-1] - 1e-7)
    if overlap.any():
        j = int(np.flatnonzero(overlap)[0])
        raise ValueError(f"worker {who[j]} would be in two places from {out.t0[j + 1]:.6g} h to "
                         f"{out.t1[j]:.6g} h: the run's tables do not fit together")
    return out


def _trips(result: Result) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Workers' trips to issues and to false alarms: ``(worker, assigned_at, arrived_at,
    point)``, sorted by worker and time."""
    parts = []
    for df in (result.issues, result.false_alarms):
        h = df["handler"].to_numpy()
        s = df["assigned_at"].to_numpy(dtype=float)
        sel = (h >= 0) & np.isfinite(s)
        parts.append((h[sel], s[sel], df["arrived_at"].to_numpy(dtype=float)[sel], df["point"].to_numpy()[sel]))
    w = np.concatenate([x[0] for x in parts]).astype(np.int64)
    s = np.concatenate([x[1] for x in parts])
    order = np.lexsort((s, w))
    return (w[order], s[order], np.concatenate([x[2] for x in parts])[order],
            np.concatenate([x[3] for x in parts]).astype(np.int64)[order])


def worker_positions(result: Result, times: Sequence[float] | np.ndarray, walk: bool = True) -> np.ndarray:
    """Where each worker is at ``times`` (hours): an array ``(len(times), n_workers, 2)`` of
    ``(x, y)`` in metres, NaN while a worker is off shift.

    Reconstructed exactly from the run's tables: at each patrol visit a worker is at the
    visit's point (the times :meth:`Result.iter_visits` gives); it stays there for the
    dwell, then walks to the next point of its route at its speed, arriving at the next
    visit's time. Sent to an issue (or a sensor's false alarm, 误报), it walks from the last
    point reached to the issue's point, arriving at ``arrived_at``, and stays there while handling it; then it
    walks back to its route (a responder: to its post) and patrols on. Walks go along x,
    then y, under Manhattan distance (the territory's ``distance``), else straight.

    ``walk=False`` gives instead where the model measures distances from
    (:meth:`GridWorker.position`): the last patrol point reached, or the issue's point once
    arrived — no position between points.
    """
    t = np.asarray(times, dtype=float)
    if t.ndim != 1:
        raise ValueError("times must be a list of hours")
    if len(t) == 0:
        return np.zeros((0, len(result.workers), 2))
    return moves(result, until=float(t.max()), since=float(t.min())).at(t, walk=walk)


def worker_states(result: Result, times: Sequence[float] | np.ndarray) -> np.ndarray:
    """What each worker is doing at ``times``: an int array ``(len(times), n_workers)`` of
    indices into ``STATE_NAMES`` (``patrol, travel, handle, idle``), −1 off shift (from
    ``time_use``)."""
    t = np.asarray(times, dtype=float)
    n = len(result.workers)
    out = np.full((len(t), n), -1, dtype=np.int64)
    tu = result.time_use.sort_values(["worker", "start"], kind="stable")
    w = tu["worker"].to_numpy()
    s, e = tu["start"].to_numpy(dtype=float), tu["end"].to_numpy(dtype=float)
    codes = np.asarray(tu["state"].astype(str).map({name: i for i, name in enumerate(STATE_NAMES)}),
                       dtype=np.int64)
    bounds = np.searchsorted(w, np.arange(n + 1))
    for k in range(n):
        lo, hi = bounds[k], bounds[k + 1]
        if lo == hi:
            continue
        i = np.searchsorted(s[lo:hi], t, side="right") - 1 + lo
        ok = (i >= lo) & (t < e[np.maximum(i, lo)])
        out[ok, k] = codes[i[ok]]
    return out


def frame_times(start: float, end: float, step: float) -> np.ndarray:
    """The frames' times: ``start``, ``start + step``, … before ``end`` (hours)."""
    if not (math.isfinite(start) and math.isfinite(end) and math.isfinite(step)):
        raise ValueError("start, end and step must be finite")
    if step <= 0:
        raise ValueError(f"step must be positive, got {step:g} h")
    if end <= start:
        raise ValueError(f"end ({end:g} h) must be after start ({start:g} h)")
    n = math.ceil((end - start) / step - 1e-9)
    return start + step * np.arange(n)


# --- the animation -----------------------------------------------------------------------

def _rgba(colour: str) -> np.ndarray:
    from matplotlib.colors import to_rgba

    return np.array(to_rgba(colour))


class _Panel:
    """One run's map: the static grids, and the markers and counters that move."""

    def __init__(self, fig: Figure, rect: Sequence[float], result: Result, label: str,
                 times: np.ndarray, tr: Labels) -> None:
        from matplotlib.collections import PatchCollection

        from govsim.engine import Simulation
        from govsim.plots.maps import grid_patches_of

        self.result, self.times, self.tr = result, times, tr
        start, end = float(times[0]), float(times[-1])
        sim = Simulation(result.scenario, result.seed)
        terr = sim.territory
        patches, (x0, x1, y0, y1) = grid_patches_of(result)
        left, bottom, width, height = rect
        self.ax = ax = fig.add_axes((left, bottom, width, height))
        self.strip_x = (0.0, 0.0)  # inches: the panel's strip of counters (set by MapAnimation)
        ax.add_collection(PatchCollection(patches, facecolor=GRID_FACE, edgecolor="white", linewidth=1.0))
        ax.scatter(terr.point_x / 1000.0, terr.point_y / 1000.0, s=1.5, color="#b8c2cc", linewidths=0,
                   zorder=2)  # the patrol points (buildings, blocks)
        pad = 0.02 * max(x1 - x0, y1 - y0)
        ax.set_xlim(x0 - pad, x1 + pad)
        ax.set_ylim(y0 - pad, y1 + pad)
        ax.set_aspect("equal", adjustable="box")
        ax.set_xticks([])
        ax.set_yticks([])
        for side in ax.spines.values():
            side.set_visible(False)
        # where the workers are, frame by frame (km), and what they are doing
        self.positions = moves(result, until=end, since=start, sim=sim).at(times) / 1000.0
        self.states = worker_states(result, times)
        self.state_rgba = np.array([_rgba(STATE_COLOURS.get(name, "#000000")) for name in STATE_NAMES])
        # the issues that show at some frame
        iss = result.issues
        created = iss["created_at"].to_numpy(dtype=float)
        disc = iss["discovered_at"].to_numpy(dtype=float)
        closed = iss["closed_at"].to_numpy(dtype=float)
        disc = np.where(np.isnan(disc), np.inf, disc)
        closed = np.where(np.isnan(closed), np.inf, closed)
        shown = (created <= end) & (closed + FADE_H > start)
        pts = iss["point"].to_numpy()[shown]
        self.issue_xy = np.column_stack([terr.point_x[pts], terr.point_y[pts]]) / 1000.0
        self.created, self.disc, self.closed = created[shown], disc[shown], closed[shown]
        resolved = (iss["status"].astype(str).to_numpy() == "resolved")[shown]
        self.closed_rgba = np.where(resolved[:, None], _rgba(ISSUE_COLOURS["closed"]), _rgba(ISSUE_COLOURS["gone"]))
        self.hidden_rgba, self.found_rgba = _rgba(ISSUE_COLOURS["hidden"]), _rgba(ISSUE_COLOURS["found"])
        # the counters: over all issues of the run
        self._created_sorted = np.sort(created)
        self._closed_sorted = np.sort(closed)
        self._disc_sorted = np.sort(disc)
        self._disc_closed_sorted = np.sort(closed[np.isfinite(disc)])
        chan = iss["channel"].astype(object).where(iss["channel"].notna(), "").astype(str).to_numpy()
        self.start = start
        found_here = np.isfinite(disc) & (disc >= start)
        self.channels = {c: np.sort(disc[found_here & (chan == c)]) for c in dict.fromkeys(chan[found_here])}
        size = 110.0 / max(1.0, math.sqrt(len(result.grids) / 36.0))
        self.issues = ax.scatter(np.zeros(0), np.zeros(0), s=size * 0.45, linewidths=0, zorder=3, animated=True)
        self.workers = ax.scatter(np.zeros(0), np.zeros(0), s=size, marker="^", edgecolors="white",
                                  linewidths=0.6, zorder=4, animated=True)
        self.fields: dict[str, _Field] = {}  # the counters' numbers (laid out by MapAnimation)

    def frame(self, i: int) -> list[Artist]:
        """Move the markers and rewrite the counters to frame ``i``; the artists to draw."""
        t = float(self.times[i])
        pos, st = self.positions[i], self.states[i]
        on = ~np.isnan(pos[:, 0])
        self.workers.set_offsets(pos[on])
        self.workers.set_facecolor(self.state_rgba[np.maximum(st[on], 0)])
        hidden = (self.created <= t) & (t < self.disc) & (t < self.closed)
        found = (self.disc <= t) & (t < self.closed)
        fading = (self.closed <= t) & (t < self.closed + FADE_H)
        show = hidden | found | fading
        rgba = np.empty((len(show), 4))
        rgba[hidden] = self.hidden_rgba
        rgba[found] = self.found_rgba
        rgba[fading] = self.closed_rgba[fading]
        rgba[fading, 3] = 1.0 - (t - self.closed[fading]) / FADE_H
        self.issues.set_offsets(self.issue_xy[show])
        self.issues.set_facecolor(cast(Any, rgba[show]))
        for key, value in self.counts(t).items():
            self.fields[key].text.set_text(f"{value:,}")
        return [self.issues, self.workers, *(f.text for f in self.fields.values())]

    def counts(self, t: float) -> dict[str, int]:
        """At ``t``: open issues (arisen, not closed), found ones (known, not closed), issues
        closed since the first frame, and discoveries since the first frame by channel."""
        def upto(a: np.ndarray, x: float) -> int:
            return int(np.searchsorted(a, x, side="right"))

        out = {"open": upto(self._created_sorted, t) - upto(self._closed_sorted, t),
               "found": upto(self._disc_sorted, t) - upto(self._disc_closed_sorted, t),
               "closed": upto(self._closed_sorted, t) - upto(self._closed_sorted, self.start - EPS)}
        for c, times in self.channels.items():
            out[f"channel:{c}"] = upto(times, t)
        return out

    def lay_out_counters(self, row: Any) -> None:
        """Write the counters' labels and make their number fields, in two rows."""
        tr, since = self.tr, _clock(self.start)
        row(0, [(tr.text(TEXT["open"]), False), ("open", True), (tr.text(TEXT["of_them_found"]), False),
                ("found", True), (tr.text(TEXT["closed_since"], since=since), False), ("closed", True)], self)
        items = [(tr.text(TEXT["found_by"]) + (":" if tr.lang == "en" else "："), False)]
        for c in self.channels:
            items += [(tr.text(CHANNEL_TEXT.get(c, (c, c))), False), (f"channel:{c}", True)]
        row(1, items, self)


@dataclass
class _Field:
    """A text that changes during the animation, in a box of its own (its background is
    restored before it is redrawn, and only when it changes)."""

    text: Any  # matplotlib Text
    template: str  # the widest text it will show
    region: Any = None
    shown: str | None = None


def _clock(t: float) -> str:
    minutes = int(round(t * 60.0)) % 1440
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


class MapAnimation:
    """The figure of :func:`animate`: one panel per run, a clock and a legend; :meth:`frame`
    moves everything to one frame, :meth:`write` renders them all to a file."""

    def __init__(self, results: Mapping[str, Result], times: np.ndarray, lang: str = "en",
                 dpi: float = 100.0) -> None:
        from matplotlib.figure import Figure
        from matplotlib.lines import Line2D

        from govsim.plots._base import finish

        self.tr = tr = labels_for(lang)
        self.times = times
        self.dpi = dpi
        n = len(results)
        first = next(iter(results.values())).grids
        xs, ys, es = (first[c].to_numpy(dtype=float) for c in ("x_m", "y_m", "edge_m"))
        aspect = float(np.ptp(np.r_[ys - es / 2, ys + es / 2]) / max(np.ptp(np.r_[xs - es / 2, xs + es / 2]), 1e-9))
        map_w = 5.2
        map_h = min(max(map_w * aspect, 2.5), 7.5)
        top, bottom, gap = 1.0, 1.2, 0.3
        width, height = n * map_w + (n + 1) * gap, map_h + top + bottom
        self.fig = fig = Figure(figsize=(width, height), dpi=dpi)
        fig.set_facecolor("white")
        self.panels = []
        for k, (label, res) in enumerate(results.items()):
            left = gap + k * (map_w + gap)
            panel = _Panel(fig, [left / width, bottom / height, map_w / width, map_h / height], res, label, times, tr)
            panel.strip_x = (left - gap / 2, left + map_w + gap / 2)
            fig.text((left + map_w / 2) / width, 1 - 0.72 / height, label, ha="center", va="top", fontsize=11)
            self.panels.append(panel)
        fig.text(0.5, 1 - 0.1 / height, tr.text(TEXT["title"]), ha="center", va="top", fontsize=13,
                 fontweight="bold")
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        self.canvas = FigureCanvasAgg(fig)
        renderer = self.canvas.get_renderer()
        dpi = fig.dpi
        font: dict[str, Any] = {"fontfamily": [tr.font, "sans-serif"]} if tr.font else {}
        self.clock = _Field(fig.text(0.5 - 0.01 * 5.2 / width, 1 - 0.42 / height, "", ha="right", va="top",
                                     fontsize=12, animated=True, **font), "Wed, day 88")
        self.time = _Field(fig.text(0.5 + 0.01 * 5.2 / width, 1 - 0.42 / height, "", ha="left", va="top",
                                    fontsize=12, fontweight="bold", animated=True, **font), "88:88")
        if tr.lang == "zh":
            self.clock.template = "周三（第 88 天）"

        def row(r: int, items: list[tuple[str, bool]], panel: _Panel) -> None:
            # (a label, False) is drawn once; (a field's key, True) is animated
            x = panel.strip_x[0] * dpi
            y = (0.98 - 0.24 * r) * dpi
            for item, is_field in items:
                t = fig.text(x / fig.bbox.width, y / fig.bbox.height, "88,888" if is_field else item, fontsize=9,
                             va="baseline", ha="left", animated=is_field, fontweight="bold" if is_field else None,
                             **font)
                x = t.get_window_extent(renderer).x1 + (0.05 if is_field else 0.04) * dpi * (2 if is_field else 1)
                if is_field:
                    t.set_text("")
                    panel.fields[item] = _Field(t, "88,888")

        for panel in self.panels:
            panel.lay_out_counters(row)
        handles = [Line2D([], [], ls="", marker="o", ms=6, color=ISSUE_COLOURS[k], label=tr.text(TEXT[k]))
                   for k in ("hidden", "found", "closed", "gone")]
        handles += [Line2D([], [], ls="", marker="^", ms=8, color=STATE_COLOURS[k], label=tr.text(TEXT[k]))
                    for k in ("patrol", "travel", "handle", "idle")]
        fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=8, frameon=False,
                   bbox_to_anchor=(0.5, 0.02 / height))
        finish(fig, tr)

    def frame(self, i: int) -> list[Artist]:
        """Move every panel and the clock to frame ``i``; the artists that changed."""
        t = float(self.times[i])
        day = int(t // 24.0)
        self.clock.text.set_text(self.tr.text(TEXT["day"], weekday=self.tr(f"day_{day % 7}"), day=day + 1))
        self.time.text.set_text(_clock(t))
        artists: list[Artist] = [self.clock.text, self.time.text]
        for p in self.panels:
            artists += p.frame(i)
        return artists

    def frames(self) -> Any:
        """The frames' pixels, one ``(height, width, 4)`` RGBA array view after another (the
        same buffer, overwritten by the next frame). The map is drawn once; per frame only
        each map's area is restored and its markers drawn, and a text's strip only when the
        text changes (text is the slowest thing to draw)."""
        canvas = self.canvas
        canvas.draw()
        renderer = canvas.get_renderer()
        maps = [canvas.copy_from_bbox(p.ax.bbox) for p in self.panels]
        fields = {id(f.text): f for f in self.fields()}
        for f in fields.values():  # each field's box: where its widest text would be
            f.text.set_text(f.template)
            box = f.text.get_window_extent(renderer).padded(2)
            f.text.set_text("")
            f.text.set_clip_box(box)
            f.text.set_clip_on(True)
            f.region = canvas.copy_from_bbox(box)
            f.shown = None
        for i in range(len(self.times)):
            for region in maps:
                canvas.restore_region(region)
            for artist in self.frame(i):
                field = fields.get(id(artist))
                if field is not None:  # a text: redrawn only when it changes
                    text = field.text.get_text()
                    if text == field.shown:
                        continue
                    canvas.restore_region(field.region)
                    field.shown = text
                self.fig.draw_artist(artist)
            yield np.asarray(canvas.buffer_rgba())

    def fields(self) -> list[_Field]:
        """The texts that change: the clock, and each panel's counters."""
        return [self.clock, self.time, *(f for p in self.panels for f in p.fields.values())]

    def write(self, out: str | Path, fps: float = 30.0) -> Path:
        """Render every frame to ``out`` (``.mp4``, ``.gif`` or ``.html``); returns the path."""
        path = Path(out)
        suffix = path.suffix.lower()
        if suffix == ".mp4":
            _write_mp4(self.frames(), path, fps)
        elif suffix == ".gif":
            _write_gif(self.frames(), path, fps)
        elif suffix == ".html":
            _write_html(self.frames(), path, fps, self.tr.text(TEXT["title"]))
        elif suffix == ".png":
            from PIL import Image

            first = next(iter(self.frames()))
            Image.fromarray(first).save(path, format="PNG", optimize=True)
        else:
            raise ValueError(f"{path}: unknown output format {suffix or '(none)'}: expected "
                             f"{', '.join(FORMATS)}")
        return path


def ffmpeg_path() -> str | None:
    """The ffmpeg program matplotlib would use (``animation.ffmpeg_path``), if it is installed."""
    import matplotlib as mpl

    return shutil.which(str(mpl.rcParams["animation.ffmpeg_path"]))


def _write_mp4(frames: Any, path: Path, fps: float) -> None:
    exe = ffmpeg_path()
    if exe is None:
        raise RuntimeError(f"{path}: writing .mp4 needs ffmpeg, which is not installed (e.g. apt-get "
                           f"install ffmpeg, or conda install ffmpeg); or write a .gif or .html instead")
    proc: subprocess.Popen[bytes] | None = None
    try:
        for buf in frames:
            if proc is None:
                h, w = buf.shape[:2]
                proc = subprocess.Popen(
                    [exe, "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgba", "-s", f"{w}x{h}",
                     "-r", f"{fps:g}", "-i", "-", "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", "-c:v", "libx264",
                     "-preset", "veryfast", "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(path)],
                    stdin=subprocess.PIPE, stderr=subprocess.PIPE)
            assert proc.stdin is not None
            proc.stdin.write(memoryview(buf).cast("B"))
    except BrokenPipeError:
        pass
    finally:
        if proc is not None:
            _, err = proc.communicate()
            if proc.returncode != 0:
                raise RuntimeError(f"{path}: ffmpeg failed: {err.decode(errors='replace').strip()[-500:]}")


def _paletted(frames: Any, colours: int = 256) -> Any:
    """The frames as palette images (Pillow), all on the palette of the first frame (which
    shows every colour: the legend holds them), with at most ``colours`` colours."""
    from PIL import Image

    palette = None
    for buf in frames:
        h, w = buf.shape[:2]
        im = Image.frombuffer("RGBA", (w, h), buf.tobytes(), "raw", "RGBA", 0, 1).convert("RGB")
        if palette is None:
            palette = im.quantize(colors=colours, method=Image.Quantize.MEDIANCUT)
        yield im.quantize(palette=palette, dither=Image.Dither.NONE)


def _write_gif(frames: Any, path: Path, fps: float) -> None:
    """An animated GIF, written frame by frame as they are drawn (memory stays flat), with
    Pillow's GIF encoder (``getheader``/``getdata``); every frame on the first one's palette.
    After the first, a frame holds only the rectangle that changed, its unchanged pixels
    transparent (the GIF is several times smaller)."""
    from PIL import GifImagePlugin

    duration = max(20, round(1000 / fps))  # GIF delays are in hundredths of a second
    clear = 255  # the palette index left free for "unchanged"
    with path.open("wb") as f:
        for k, (x, y, im) in enumerate(_changes(frames, 255, clear)):
            if k == 0:
                header, _ = GifImagePlugin.getheader(im, info={"optimize": False, "loop": 0})
                f.write(b"".join(header))
                chunks = GifImagePlugin.getdata(im, duration=duration, disposal=1)
            else:
                chunks = GifImagePlugin.getdata(im, offset=(x, y), duration=duration, transparency=clear,
                                                disposal=1)
            for chunk in chunks:
                f.write(chunk)
        f.write(b";")  # the GIF trailer


#: Every this many frames the HTML page holds a whole frame; between them, what changed.
HTML_KEY_EVERY = 60


def _changes(frames: Any, colours: int, clear: int, key_every: int | None = None) -> Any:
    """``(x, y, image)`` per frame: the first frame whole (and every ``key_every``-th), the
    others as the rectangle that changed since the previous frame, with the unchanged pixels
    set to the palette index ``clear``."""
    from PIL import Image

    previous: np.ndarray | None = None
    for k, im in enumerate(_paletted(frames, colours=colours)):
        now = np.asarray(im)
        if previous is None or (key_every and k % key_every == 0):
            yield 0, 0, im
        else:
            changed = now != previous
            rows, cols = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
            if len(rows) == 0:
                rows, cols = np.array([0]), np.array([0])
            y0, y1, x0, x1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
            part = np.where(changed[y0:y1, x0:x1], now[y0:y1, x0:x1], clear).astype(np.uint8)
            patch = Image.fromarray(part, mode="P")
            palette = im.getpalette() or []
            patch.putpalette(palette + [0, 0, 0] * (256 - len(palette) // 3))  # index ``clear`` included
            yield x0, y0, patch
        previous = now


def _write_html(frames: Any, path: Path, fps: float, title: str) -> None:
    """A self-contained page with a player (play, pause, speed, a slider): the frames are PNG
    images inside it — every :data:`HTML_KEY_EVERY`-th whole, the others only the rectangle
    that changed (transparent where nothing did), drawn over the previous frame on a canvas.
    Written frame by frame as they are drawn."""
    import html

    clear = 255
    head, tail = _HTML.replace("__TITLE__", html.escape(title)).replace("__FPS__", f"{fps:g}").replace(
        "__KEY__", str(HTML_KEY_EVERY)).split("__FRAMES__")
    with path.open("w", encoding="utf-8") as f:
        f.write(head + "[\n")
        for k, (x, y, im) in enumerate(_changes(frames, 255, clear, HTML_KEY_EVERY)):
            buf = io.BytesIO()
            if k % HTML_KEY_EVERY:
                im.save(buf, format="PNG", transparency=clear)
            else:
                im.save(buf, format="PNG")
            f.write(("," if k else "") + f'[{x},{y},"' + base64.b64encode(buf.getvalue()).decode("ascii") + '"]\n')
        f.write("]" + tail)


_HTML = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>__TITLE__</title>
<style>body{font-family:sans-serif;margin:1em}canvas{max-width:100%;display:block}
.bar{display:flex;gap:.6em;align-items:center;margin:.4em 0}input[type=range]{flex:1}</style></head>
<body><canvas id="frame"></canvas>
<div class="bar"><button id="play">&#9658; / &#10074;&#10074;</button>
<input id="pos" type="range" min="0" value="0"><span id="num"></span>
<select id="speed"><option value="0.5">0.5&times;</option><option value="1" selected>1&times;</option>
<option value="2">2&times;</option><option value="4">4&times;</option></select></div>
<script>
const frames = __FRAMES__, fps = __FPS__, key = __KEY__;
const canvas = document.getElementById("frame"), ctx = canvas.getContext("2d"),
      pos = document.getElementById("pos"), num = document.getElementById("num"),
      speed = document.getElementById("speed");
const images = frames.map(f => { const im = new Image(); im.src = "data:image/png;base64," + f[2]; return im; });
let shown = -1, timer = null, ready = false;  // ready: every frame decoded, the canvas sized
pos.max = frames.length - 1;
function paint(j) { ctx.drawImage(images[j], frames[j][0], frames[j][1]); }
function show(k) {
  if (!ready) return;
  if (!(k === shown + 1 && k % key !== 0)) { for (let j = k - k % key; j < k; j++) paint(j); }
  paint(k); shown = k; pos.value = k; num.textContent = (k + 1) + " / " + frames.length;
}
function stop() { clearInterval(timer); timer = null; }
function play() { stop(); timer = setInterval(() => show((shown + 1) % frames.length), 1000 / (fps * speed.value)); }
document.getElementById("play").onclick = () => timer ? stop() : play();
speed.onchange = () => { if (timer) play(); };
pos.oninput = () => { stop(); show(+pos.value); };
Promise.all(images.map(im => im.decode())).then(() => {
  canvas.width = images[0].naturalWidth; canvas.height = images[0].naturalHeight; ready = true; show(0);
  document.body.dataset.ready = "1"; });
</script></body></html>
"""


def animate(results: Result | Mapping[str, Result] | Sequence[Result], out: str | Path,
            start: float | str = 0.0, end: float | str | None = None, step: float | str = 1 / 60,
            fps: float = 30.0, lang: str = "en", dpi: float = 100.0) -> Path:
    """Render a run's day on the map (网格一日) to ``out``: ``.mp4`` (needs ffmpeg), ``.gif``
    or a self-contained ``.html`` player (``.png``: a still of the first frame). Returns the
    path written.

    ``results``: one :class:`~govsim.result.Result`, or two (a dict ``{label: Result}`` or a
    list) drawn side by side — run them on the same seed, so that they see the same issues
    (common random numbers). ``start``/``end``: the clip, in hours or as durations
    (``"2d"``, ``"3d"``; default: one day from ``start``, within the run); ``step``: simulated
    time per frame (default one minute); ``fps``: frames per second of the video; ``lang``:
    ``"en"`` or ``"zh"`` (Chinese needs a CJK font, else English with a warning).
    Raises ``ValueError`` for a bad argument, ``RuntimeError`` when ``.mp4`` is asked for and
    ffmpeg is not installed.
    """
    runs = as_results(results)
    if len(runs) > 2:
        raise ValueError(f"animate draws one run or two side by side, got {len(runs)}")
    if len({repr(r.seed) for r in runs.values()}) > 1:
        import warnings

        warnings.warn("the runs have different seeds, so they do not see the same issues: run both "
                      "scenarios on one seed to compare them side by side", stacklevel=2)
    path = Path(out)
    if path.suffix.lower() not in FORMATS:
        raise ValueError(f"{path}: unknown output format {path.suffix or '(none)'}: expected "
                         f"{', '.join(FORMATS)}")
    if path.suffix.lower() == ".mp4" and ffmpeg_path() is None:
        _write_mp4(iter(()), path, fps)  # raises the missing-ffmpeg error
    if not (math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a positive number, got {fps!r}")
    horizon = min(r.horizon for r in runs.values())
    t0 = _hours(start, "start")
    t1 = min(t0 + 24.0, horizon) if end is None else _hours(end, "end")
    dt = _hours(step, "step")
    if t1 > horizon + EPS:
        raise ValueError(f"end ({t1:g} h) is after the end of the run ({horizon:g} h)")
    times = frame_times(t0, t1, dt)
    if len(times) > MAX_FRAMES:
        raise ValueError(f"{len(times):,} frames: at most {MAX_FRAMES:,} (a shorter clip, or a longer step)")
    return MapAnimation(runs, times, lang=lang, dpi=dpi).write(path, fps=fps)


def _hours(value: float | str, what: str) -> float:
    from govsim.units import UnitError, parse_duration

    if isinstance(value, str):
        try:
            return parse_duration(value)
        except UnitError as err:
            raise ValueError(f"{what}: {err}") from None
    x = float(value)
    if not math.isfinite(x) or x < 0:
        raise ValueError(f"{what} must be a non-negative number of hours, got {value!r}")
    return x
