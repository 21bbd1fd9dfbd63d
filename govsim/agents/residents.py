"""Residents (居民): issues arise in their grids, and residents report some of them.

Arrivals are a non-homogeneous Poisson process per grid and category with
intensity ``rate × households / 1000 × area multiplier (× grid multiplier) × weight
of the hour of the week`` per day. Because the intensity factorises into a grid
part and an hour-of-week part, the whole run's arrivals of a category are drawn at once: a Poisson total,
hours in proportion to the profile, grids and points in proportion to their
intensity. Every attribute of every issue (handling time, lifetime, whether and
when residents report it, whether a sensor would catch it) is drawn up front
from its own stream, so two scenarios with the same seed and the same
categories see exactly the same issues whatever their policies
(common random numbers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from simpy.core import URGENT

from govsim.agents.participation import keep_probability
from govsim.issues import INF, Channel, Issue

# A dispute's uniform draws: settlement on the spot, at community, street, district; walk-in.
N_ATTEMPTS = 5
WALK_IN_DRAW = 4

if TYPE_CHECKING:
    from govsim.agents.participation import Participation, RateChange
    from govsim.engine import Simulation
    from govsim.mechanisms import Mechanism
    from govsim.issues import CategoryTable
    from govsim.rng import RandomStreams
    from govsim.scenario.schema import ChannelsConfig
    from govsim.territory import Territory


@dataclass
class IssuePlan:
    """Every issue of a run, drawn before the run starts, in creation order."""

    time: np.ndarray
    category: np.ndarray
    point: np.ndarray
    grid: np.ndarray
    handling: np.ndarray
    lifetime: np.ndarray  # inf: lasts until handled
    report_at: np.ndarray  # inf: never reported
    sensor_at: np.ndarray  # inf: no sensor alarm
    #: each issue's row of :attr:`dispute_draws`, −1 for an issue that is not a dispute
    dispute_row: np.ndarray
    #: (disputes, N_ATTEMPTS) a dispute's uniforms (on the spot, each ladder level, walk-in);
    #: held for the disputes only, not as NaN for the 97–98 % of issues that are none
    dispute_draws: np.ndarray
    #: when each mechanism's discovery channel finds the issue, by channel (inf: never)
    found_at: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.time)

    @classmethod
    def draw(cls, territory: Territory, categories: CategoryTable, channels: ChannelsConfig,
             sensor_grids: np.ndarray, horizon: float, streams: RandomStreams, *,
             app_grids: np.ndarray | None = None, participation: Participation | None = None,
             changes: Sequence[RateChange] = (), finders: Sequence[Mechanism] = ()) -> IssuePlan:
        """Draw every issue of the run. ``app_grids`` (where the app is), ``participation``,
        ``changes`` (interventions that thin the arrivals) and ``finders`` (mechanisms with a
        discovery channel of their own) act on residents; all are optional."""
        hours = np.arange(int(np.ceil(horizon)), dtype=float)
        bin_len = np.minimum(1.0, horizon - hours)
        pw = territory.point_weight
        grid_pw = np.bincount(territory.point_grid, weights=pw, minlength=territory.n_grids)
        share_in_grid = np.divide(pw, grid_pw[territory.point_grid],
                                  out=np.zeros_like(pw), where=grid_pw[territory.point_grid] > 0)
        reports = channels.reports
        has_sensor = np.zeros(territory.n_grids, dtype=bool)
        has_sensor[sensor_grids] = True
        app = channels.app
        has_app = np.zeros(territory.n_grids, dtype=bool)
        if app_grids is not None:
            has_app[app_grids] = True
        app_prob = np.where(has_app, app.prob_scale, 1.0)
        app_delay = np.where(has_app, app.delay_scale, 1.0)
        parts: list[dict[str, np.ndarray]] = []
        for c, name in enumerate(categories.names):
            per_grid_day = categories.grid_rate(c, territory)
            profile = categories.weekly[c, hours.astype(int) % 168] * bin_len
            expected = per_grid_day.sum() / 24.0 * profile.sum()
            rng = streams.stream(f"arrivals/{name}")
            n = int(rng.poisson(expected)) if expected > 0 else 0
            if n == 0:
                continue
            b = rng.choice(len(hours), size=n, p=profile / profile.sum())
            t = hours[b] + rng.random(n) * bin_len[b]
            point_p = per_grid_day[territory.point_grid] * share_in_grid
            point = rng.choice(territory.n_points, size=n, p=point_p / point_p.sum())
            grid = territory.point_grid[point]
            life = categories.lifetime[c]
            lifetime = (np.full(n, INF) if life is None
                        else np.asarray(life.sample(streams.stream(f"lifetime/{name}"), n), float))
            u_rep = streams.stream(f"reports/{name}").random(n)
            rep_delay = np.asarray(
                categories.report_delay[c].sample(streams.stream(f"report_delay/{name}"), n), float)
            prob_f, delay_f = (participation.report_factors(grid, t) if participation is not None
                               else (1.0, 1.0))
            p_rep = np.minimum(1.0, categories.report_prob[c] * reports.prob_scale * app_prob[grid] * prob_f)
            reported = (u_rep < p_rep) & reports.enabled
            with np.errstate(invalid="ignore"):
                report_at = np.where(reported, t + rep_delay * (reports.delay_scale * app_delay[grid] * delay_f),
                                     INF)
            u_sen = streams.stream(f"sensors/{name}").random(n)
            sen_delay = np.asarray(
                categories.sensor_delay[c].sample(streams.stream(f"sensor_delay/{name}"), n), float)
            detected = (u_sen < categories.sensor_prob[c]) & has_sensor[grid]
            sensor_at = np.where(detected, t + sen_delay, INF)
            handling = np.asarray(categories.handling[c].sample(streams.stream(f"handling/{name}"), n), float)
            part = dict(time=t, category=np.full(n, c), point=point, grid=grid, handling=handling,
                        lifetime=lifetime, report_at=report_at, sensor_at=sensor_at)
            if categories.on_spot_success[c] is not None:  # a dispute: its draws (thinned below)
                part["dispute_draws"] = streams.stream(f"disputes/{name}").random((n, N_ATTEMPTS))
            for m in finders:
                times = m.discovery_times(c, name, t, grid, streams)
                part[f"found/{m.channel}"] = np.full(n, INF) if times is None else times
            # Interventions that prevent problems thin the stream (drawn last: the other
            # draws are the same with and without them).
            keep = keep_probability(list(changes), c, grid, t)
            u_keep = streams.stream(f"thinning/{name}").random(n)
            if (keep < 1.0).any():
                part = {k: v[u_keep < keep] for k, v in part.items()}
            parts.append(part)
        found_by = [str(m.channel) for m in finders]
        draws: list[np.ndarray] = []  # the disputes' draws, part after part; each issue's row of them (−1: none)
        for p in parts:
            n_part = len(p["time"])
            if "dispute_draws" in p:
                first = sum(len(d) for d in draws)
                p["dispute_row"] = np.arange(first, first + n_part, dtype=np.int32)
                draws.append(p.pop("dispute_draws"))
            else:
                p["dispute_row"] = np.full(n_part, -1, dtype=np.int32)
        dispute_draws = np.concatenate(draws) if draws else np.empty((0, N_ATTEMPTS))
        if not parts:
            empty_f, empty_i = np.empty(0), np.empty(0, dtype=np.int64)
            return cls(empty_f, empty_i, empty_i, empty_i, empty_f, empty_f, empty_f, empty_f,
                       np.empty(0, dtype=np.int32), dispute_draws, {ch: empty_f for ch in found_by})
        cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        order = np.argsort(cols["time"], kind="stable")
        found = {ch: cols.pop(f"found/{ch}")[order] for ch in found_by}
        return cls(**{k: v[order] for k, v in cols.items()}, dispute_draws=dispute_draws, found_at=found)


class Residents:
    """Creates the planned issues at their times and files the residents' reports.

    The arrivals are a chain of scheduled calls, each creating the issues of one
    moment and scheduling the next; the plan is read in blocks of :attr:`BLOCK`
    issues, so that only one block is ever held as Python numbers.
    """

    BLOCK = 4096

    def __init__(self, sim: Simulation, plan: IssuePlan) -> None:
        self.sim = sim
        self.plan = plan
        cats = sim.categories
        self._is_dispute = [s is not None for s in cats.on_spot_success]
        self._any_dispute = any(self._is_dispute)
        self._next = 0  # the next issue to create
        self._first = self._block_end = 0  # the block of the plan read: issues [first, end)
        self._time: list[float] = []
        self._category: list[int] = []
        self._point: list[int] = []
        self._grid: list[int] = []
        self._handling: list[float] = []
        self._lifetime: list[float] = []
        self._report_at: list[float] = []
        self._sensor_at: list[float] = []
        self._found_at: list[tuple[str, list[float]]] = []
        self._dispute_u: list[list[float] | None] = []
        # started like a SimPy process: an urgent call now (where its initialisation would be)
        sim.env.call_later(0.0, self._arrive, (False,), priority=URGENT)

    def _read_block(self, first: int) -> None:
        """The plan's issues ``first, first + 1, …`` (one block) as Python lists."""
        plan, last = self.plan, min(first + self.BLOCK, len(self.plan))
        rows = slice(first, last)
        self._first = first
        self._block_end = last
        self._time = plan.time[rows].tolist()
        self._category = plan.category[rows].tolist()
        self._point = plan.point[rows].tolist()
        self._grid = plan.grid[rows].tolist()
        self._handling = plan.handling[rows].tolist()
        self._lifetime = plan.lifetime[rows].tolist()
        self._report_at = plan.report_at[rows].tolist()
        self._sensor_at = plan.sensor_at[rows].tolist()
        self._found_at = [(channel, at[rows].tolist()) for channel, at in plan.found_at.items()]
        if self._any_dispute:  # the block's disputes' draws, None for the other issues
            at = plan.dispute_row[rows]
            draws = iter(plan.dispute_draws[at[at >= 0]].tolist())
            self._dispute_u = [None if r < 0 else next(draws) for r in at.tolist()]
        else:
            self._dispute_u = []

    def _arrive(self, due: bool) -> None:
        """Create every issue due now, then schedule the next arrival. ``due``: this call was
        scheduled for the next issue, which is created without comparing times again."""
        sim = self.sim
        env = sim.env
        cats = sim.categories
        priority, deadline, is_dispute = cats.priority, cats.deadline, self._is_dispute
        n = len(self.plan)
        i = self._next
        while i < n:
            if i >= self._block_end:
                self._read_block(i)
            j = i - self._first
            t = self._time[j]
            if t > env.now and not due:
                self._next = i
                env.call_later(t - env.now, self._arrive, (True,))
                return
            due = False
            c = self._category[j]
            issue = Issue(i, c, self._grid[j], self._point[j], priority[c], t, t + deadline[c],
                          self._handling[j], t + self._lifetime[j],
                          dispute_u=tuple(self._dispute_u[j] or ()) if is_dispute[c] else None)
            sim.issue_arose(issue)
            report_at = self._report_at[j]
            if report_at < INF:
                sim.after(report_at - t, sim.discover, issue, Channel.REPORT)
            sensor_at = self._sensor_at[j]
            if sensor_at < INF:
                sim.after(sensor_at - t, sim.discover, issue, Channel.SENSOR)
            for channel, at in self._found_at:
                if at[j] < INF:
                    sim.after(at[j] - t, sim.discover, issue, channel)
            i += 1
        self._next = n
