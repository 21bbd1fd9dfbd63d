"""The city's shared 12345 call centre (市级12345热线) and how the districts meet it.

Why a sharded city run is exact
-------------------------------
The centre's input is the residents' calls, and in a city run they are
*exogenous*: every issue's first call (its earliest resident report, sensor alarm
or non-direct mechanism channel, all drawn up front by
:class:`~govsim.agents.residents.IssuePlan`), and every sensor false alarm, is a
call at its drawn time — unless the issue has already gone away (lapsed) by then,
or the time is past the horizon. A call is made whether or not the grid already
knows of the issue (a worker found it on patrol, a party member told the grid):
such a call is a duplicate (重复来电) that takes an operator's time and forwards
nothing. The calls of all districts are therefore known before any district runs,
so the centre is simulated first on the merged calls (one queue, priority then
first come first served, the operators' hours), and each district then runs with
the times its calls leave the centre. Each district draws from its own streams
(spawned from the city seed by district index), the centre from its own: the
result does not depend on how districts are grouped into shards or workers, and
equals a run of the whole city in one engine (:func:`govsim.city.run_city` with
``sharded=False``), event for event.

In a district of a city, a call whose issue is still hidden when it is made makes
the issue known (``report``, ``sensor``...); when the centre has triaged it, the
district's own processing delay passes (its ``policies.hotline_centre.
processing_delay``) and it reaches the grid or department, as under
``hotline_centre``. What a grid worker finds on patrol and cannot handle is filed
on the grid platform and reaches the grid or department at once (it is not a call).

With ``duplicates: false`` only a call that makes an issue known reaches the
centre, so which calls are made depends on the districts' runs: in one engine
the centre takes them as they are made (:meth:`SharedCallCentre.call`); a sharded
run iterates (:func:`govsim.city.run.run_city`), an approximation measured in
``docs/scale.md``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from simpy.core import NORMAL

from govsim.agents.stations import ServiceStation, server_groups
from govsim.city.services import AnswerFeed, HandOffs, Job, MergedHandOffs, StationHost, merge_handoffs
from govsim.issues import Channel
from govsim.policies.hotline import HotlineCentre
from govsim.policies.traditional import GridOwnWorkers
from govsim.rng import RandomStreams

if TYPE_CHECKING:
    from govsim.city.config import SharedHotlineConfig
    from govsim.engine import Environment, Simulation
    from govsim.issues import Issue

__all__ = ["CallList", "CentreOutcome", "SharedCallCentre", "district_calls", "merge_calls",
           "simulate_centre"]

#: the name of the centre's stream of call-handling times (under the city's seed)
CENTRE_STREAM = "city/hotline/calls"
FALSE_ALARM_PRIORITY = 3  # as govsim.agents.sensors.FalseAlarms gives them


#: a district's calls to the centre, in time order (then issue id): its hand-offs to it
CallList = HandOffs


def district_calls(sim: Simulation) -> CallList:
    """The calls residents (and sensors) of ``sim``'s district make to 12345, from the drawn
    plan alone: each issue's first report, sensor alarm or non-direct mechanism channel
    before it lapses and before the horizon, with its priority at that time (raised if the
    issue has escalated by then), and every false alarm."""
    plan = sim.plan
    at = np.minimum(plan.report_at, plan.sensor_at)
    for channel, found in plan.found_at.items():
        if channel not in sim.direct_channels:
            at = np.minimum(at, found)
    lapse = plan.time + plan.lifetime
    made = (at < lapse) & (at < sim.horizon)
    ids = np.flatnonzero(made)
    t = at[ids]
    cats = sim.categories
    c = plan.category[ids]
    priority = np.asarray(cats.priority, dtype=np.int64)[c]
    after = np.asarray(cats.escalate_after, dtype=float)[c]
    raised = np.asarray(cats.escalate_priority, dtype=np.int64)[c]
    escalated = (t - plan.time[ids] >= after) & (raised < priority)
    priority = np.where(escalated, raised, priority)
    alarms = sim.alarms
    n_alarms = len(alarms)
    issue = np.concatenate([ids.astype(np.int64), alarms.first_id + np.arange(n_alarms, dtype=np.int64)])
    time = np.concatenate([t, np.asarray(alarms.time, dtype=float)])
    prio = np.concatenate([priority, np.full(n_alarms, FALSE_ALARM_PRIORITY, dtype=np.int64)])
    order = np.lexsort((issue, time))
    return CallList(issue[order], time[order], prio[order])


#: the calls of every district in the order the centre takes them: by time, then district,
#: then issue id (a district's own order)
MergedCalls = MergedHandOffs
merge_calls = merge_handoffs


#: ``deliver(district, issue, arrived, started, ended)``: a call has been triaged
Deliver = Callable[[int, int, float, float, float], None]


class SharedCallCentre:
    """The city's 12345 centre on clock ``env``: operators (on their hours) answer the merged
    calls of every district, most urgent first, then first come first served; each triaged
    call is passed to ``deliver``."""

    def __init__(self, env: Environment, seed: int | np.random.SeedSequence, cfg: SharedHotlineConfig,
                 calls: MergedCalls | None, deliver: Deliver) -> None:
        # calls None: calls are made as the districts run (:meth:`call`), not fed from a list
        self._live: list[tuple[int, int, float, int]] | None = [] if calls is None else None
        calls = calls if calls is not None else merge_calls([])
        self.env = env
        self.calls = calls
        self.deliver = deliver
        self.host = StationHost(env, RandomStreams(seed))
        self.station = ServiceStation(
            cast(Any, self.host), 0, name="city_hotline", kind="hotline",
            groups=server_groups(cfg.operators, cfg.hours, "operator"), service=cfg.call_handling,
            stream=CENTRE_STREAM, done=self._triaged)
        self.finished: list[int] = []  # calls in the order they were triaged
        self._next = 0
        self._time = calls.time.tolist()
        if len(calls):
            env.call_at(self._time[0], self._ring)

    def _ring(self) -> None:
        """Every call due now joins the queue; then the next call is scheduled."""
        calls, now, i = self.calls, self.env.now, self._next
        times = self._time
        while i < len(times) and times[i] <= now:
            self.station.submit(cast(Any, Job(i, int(calls.district[i]), int(calls.issue[i]))),
                                int(calls.priority[i]))
            i += 1
        self._next = i
        if i < len(times):
            self.env.call_at(times[i], self._ring)

    def call(self, district: int, issue: int, priority: int) -> None:
        """A call made now (a district made an issue known through it), in a run where calls are
        made as the districts run."""
        assert self._live is not None, "this centre is fed from a list of calls"
        self._live.append((district, issue, self.env.now, priority))
        self.station.submit(cast(Any, Job(len(self._live) - 1, district, issue)), priority)

    def _triaged(self, call: Any, station: ServiceStation, arrived: float, started: float) -> None:
        self.finished.append(call.id)
        self.deliver(call.district, call.issue, arrived, started, self.env.now)

    def close_books(self) -> None:
        self.station.close_books()

    def outcome(self, horizon: float) -> CentreOutcome:
        """Every call's arrival, start and end at the centre (NaN: not yet by the horizon)."""
        if self._live is not None:  # calls in the order they were made
            d, i, t, p = (np.array(col) for col in zip(*self._live)) if self._live else (np.empty(0),) * 4
            self.calls = MergedCalls(d.astype(np.int64), i.astype(np.int64), t.astype(float), p.astype(np.int64))
        n = len(self.calls)
        arrived = self.calls.time.copy()
        started = np.full(n, math.nan)
        ended = np.full(n, math.nan)
        for call, _a, s, e in self.host.visits:
            started[call] = s
            ended[call] = e
        st = self.station
        return CentreOutcome(
            calls=self.calls, arrived=arrived, started=started, ended=ended,
            order=np.asarray(self.finished, dtype=np.int64),
            mean_queue=st.queue_area / horizon, mean_busy=st.busy_area / horizon,
            groups=list(st.groups))


@dataclass
class CentreOutcome:
    """What the shared centre did with every call (rows of ``calls``)."""

    calls: MergedCalls
    arrived: np.ndarray
    started: np.ndarray
    ended: np.ndarray
    order: np.ndarray  # calls in the order they were triaged
    mean_queue: float
    mean_busy: float
    groups: list[Any]

    def forwards(self, district: int) -> Forwards:
        """The triaged calls of ``district``, in the order the centre triaged them."""
        rows = self.order[self.calls.district[self.order] == district]
        return Forwards(issue=self.calls.issue[rows], arrived=self.arrived[rows],
                        started=self.started[rows], ended=self.ended[rows],
                        called=np.sort(self.calls.issue[self.calls.district == district]))


@dataclass
class Forwards:
    """One district's calls as the centre returns them: triaged calls in triage order, and the
    ids of every call the district made (a check that both sides agree)."""

    issue: np.ndarray
    arrived: np.ndarray
    started: np.ndarray
    ended: np.ndarray
    called: np.ndarray


def simulate_centre(cfg: SharedHotlineConfig, calls: MergedCalls, seed: int | np.random.SeedSequence,
                    horizon: float) -> CentreOutcome:
    """Run the shared centre alone on the merged calls of every district, up to ``horizon``."""
    from govsim.engine import Environment

    env = Environment()
    centre = SharedCallCentre(env, seed, cfg, calls, lambda *_: None)
    env.run(until=horizon)
    centre.close_books()
    return centre.outcome(horizon)


# --------------------------------------------------------------------------- the district side


class CityHotline(HotlineCentre):
    """A district's ``hotline_centre`` policy with the city's centre in place of its own: a call
    is answered by the shared centre (:class:`SharedCallCentre`), then the district's
    processing delay passes before the grid or department gets it."""

    def __init__(self, old: HotlineCentre, name: str, called: np.ndarray | None,
                 unlisted: Callable[[CityHotline, Issue], None] | None = None) -> None:
        GridOwnWorkers.__init__(self, old.sim, old.params)
        self.rng = old.rng  # the district's stream of processing delays (nothing drawn yet)
        self.district = name
        # called: the calls the centre was given (None: calls are made as the run goes);
        # unlisted: what happens to a call made that is not among them (None: it is an error)
        self._called = set(called.tolist()) if called is not None else None
        self.unlisted = unlisted
        self.n_unlisted = 0
        self.pending: dict[int, Issue] = {}  # hidden issues made known by a call, not triaged yet
        self.made_known: set[int] = set()  # every issue a call made known

    def route(self, issue: Issue, channel: str) -> None:
        if channel == Channel.PATROL or self.direct(channel):  # filed on the grid platform
            self.reach_grid(issue)
            return
        if self._called is not None and issue.id not in self._called:
            if self.unlisted is not None:
                self.n_unlisted += 1
                self.made_known.add(issue.id)
                self.unlisted(self, issue)
                return
            raise RuntimeError(f"district {self.district!r}: issue {issue.id} became known through "
                               f"{channel!r} at {self.sim.env.now:g} h, but it made no call to the shared "
                               f"12345 centre (govsim.city.centre.district_calls disagrees with the run)")
        self.pending[issue.id] = issue
        self.made_known.add(issue.id)
        if self._called is None and self.unlisted is not None:  # the call is made now
            self.unlisted(self, issue)

    def triaged(self, issue_id: int, arrived: float, started: float) -> None:
        """The centre has triaged the call about ``issue_id`` (now): if the call made the issue
        known, its processing starts; a duplicate call forwards nothing."""
        issue = self.pending.pop(issue_id, None)
        if issue is not None:
            self._triaged(issue, cast(Any, None), arrived, started)


def use_city_hotline(sim: Simulation, name: str, called: np.ndarray | None,
                     unlisted: Callable[[CityHotline, Issue], None] | None = None) -> CityHotline:
    """Give ``sim`` (a district on ``hotline_centre``, built but not run) the city's centre in
    place of its own: the policy becomes a :class:`CityHotline` and the district's own call
    centre (the last station built) is removed, unused."""
    old = sim.policy
    if not isinstance(old, HotlineCentre):
        raise ValueError(f"district {name!r}: the shared 12345 centre needs policy 'hotline_centre', "
                         f"got {sim.scenario.policy!r}")
    if not sim.stations or sim.stations[-1] is not old.centre:
        raise RuntimeError(f"district {name!r}: its hotline centre is not the last station built")
    sim.stations.pop()
    policy = CityHotline(old, name, called, unlisted)
    sim.policy = policy
    return policy


class FixedTriage:
    """For a call the centre was not given (a sharded run with ``duplicates: false``): it is
    taken as triaged ``delay`` hours after it was made (the centre's mean time per call in the
    previous pass), an approximation."""

    def __init__(self, delay: float) -> None:
        self.delay = delay

    def __call__(self, policy: CityHotline, issue: Issue) -> None:
        now = policy.sim.env.now
        policy.sim.after(self.delay, policy._triaged, issue, None, now, now)


def forward_feed(sim: Simulation, policy: CityHotline, forwards: Forwards) -> AnswerFeed:
    """In a district run alone (a shard): the centre's triaged calls, replayed at the times and
    in the order the centre triaged them."""
    done = np.isfinite(forwards.ended)
    return AnswerFeed(sim.env, forwards.issue[done], forwards.arrived[done], forwards.started[done],
                      forwards.ended[done], policy.triaged, NORMAL)
