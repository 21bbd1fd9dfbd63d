"""The city's shared departments (市级职能部门) and mediation centre (市级矛盾纠纷调解中心).

A city department takes, in place of each district's own department of the same
name, the referrals of every district: one queue (staff on their hours, most urgent
first, then first come first served) for the whole city. The city's mediation
centre is one more rung above every district's mediation ladder: a dispute a
district's ladder leaves unsettled is referred there, and only then to court. Both
are *shared stations*: a district hands an issue over (a hand-off) at a desk
(:class:`~govsim.agents.stations.SharedDesks`), the station serves the merged
hand-offs of every district, and the district hears back when the session ends
(the department has handled it; the centre settled the dispute or not, drawn in the
district) or at once if the station was full and turned it away.

Why a sharded run is exact
--------------------------
Unlike the 12345 centre's calls, hand-offs are made as the districts run (a referral
follows a worker's visit, a classification, a session lower down the ladder), so the
stations cannot be simulated first. But nothing a district does depends on what a
shared station does with what it handed over: a referred issue is out of the
workers' hands, it cannot lapse, and the outcome changes only that issue's own
record. So a district makes the same hand-offs, at the same times, whatever the
stations do, and a sharded run has two passes of the districts:

1. each district runs with desks that only record its hand-offs (issue, time,
   priority) — the issues handed over stay open;
2. each shared station is simulated alone on the merged hand-offs of every
   district (ordered by time, then district, then the district's order);
3. each district runs again with desks that replay the stations' answers at the
   times the stations gave them, checking that it makes exactly the hand-offs of
   pass 1 (it must; a difference is an error, never an approximation).

At any one instant a station first does what is due (servers coming on or off duty,
sessions ending), then takes the instant's hand-offs in the order (district, the
district's order), both in the one-engine run (:class:`LiveDesk`: the hand-offs of an
instant are collected and taken in a call of priority :data:`~govsim.engine.LATE`) and
alone (:func:`simulate_station`). The result is then the run of the whole city in one
engine, table for table, and is the same with 1, 2 or 8 workers. It costs a second
pass of every district (the first pass builds no tables).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn, cast

import numpy as np

from govsim.agents.stations import TURNED_AWAY, DeskDone, DeskRefused, ServerGroup, ServiceStation, server_groups
from govsim.engine import LATE
from govsim.rng import RandomStreams

if TYPE_CHECKING:
    from govsim.city.config import SharedConfig
    from govsim.distributions import Distribution
    from govsim.engine import Environment, Simulation
    from govsim.issues import Issue
    from govsim.params import HoursConfig

__all__ = ["AnswerFeed", "HandOffs", "Job", "LiveDesk", "RecordingDesk", "ReplayDesk", "SharedStation", "StationOutcome",
           "StationSpec", "merge_handoffs", "shared_stations", "simulate_station"]


@dataclass(frozen=True)
class StationSpec:
    """One shared station of a city: ``key`` (``department:NAME`` or ``mediation``) names it in
    the districts' hand-offs; the rest is the station's own."""

    key: str
    name: str
    kind: str  # department, mediation
    level: str
    servers: int
    hours: list[HoursConfig] | None  # (as configured: the spec is sent to worker processes)
    label: str
    service: Distribution
    stream: str
    queue_limit: int | None = None

    def groups(self) -> list[ServerGroup]:
        """The station's servers on their weekly hours."""
        return server_groups(self.servers, self.hours, self.label)

    @property
    def department(self) -> str | None:
        """The department's name (None for the mediation centre)."""
        return self.key.split(":", 1)[1] if self.kind == "department" else None


def shared_stations(shared: SharedConfig) -> list[StationSpec]:
    """The shared stations of a city's ``shared`` services, departments (by name) first, then
    the mediation centre."""
    specs = [StationSpec(f"department:{name}", f"city:{name}", "department", "", cfg.staff, cfg.hours, "staff",
                         cfg.service, f"city/departments/{name}")
             for name, cfg in shared.departments.items()]
    if shared.mediation is not None:
        m = shared.mediation
        specs.append(StationSpec("mediation", "city:mediation", "mediation", "city", m.mediators, m.hours,
                                 "mediator", m.duration, "city/mediation", m.queue_limit))
    return specs


# --------------------------------------------------------------------------- hand-offs


@dataclass
class HandOffs:
    """One district's hand-offs to one shared station (or calls to the 12345 centre), in the
    order it made them: the issue (the district's id), when, with what priority."""

    issue: np.ndarray
    time: np.ndarray
    priority: np.ndarray

    def __len__(self) -> int:
        return len(self.issue)

    @classmethod
    def from_rows(cls, rows: list[tuple[int, float, int]]) -> HandOffs:
        if not rows:
            return cls(np.empty(0, np.int64), np.empty(0), np.empty(0, np.int64))
        issue, time, priority = zip(*rows)
        return cls(np.array(issue, dtype=np.int64), np.array(time, dtype=float), np.array(priority, dtype=np.int64))


@dataclass
class MergedHandOffs:
    """The hand-offs of every district to one station, in the order the station takes them:
    by time, then district, then the district's own order."""

    district: np.ndarray
    issue: np.ndarray
    time: np.ndarray
    priority: np.ndarray

    def __len__(self) -> int:
        return len(self.issue)


def merge_handoffs(parts: list[HandOffs]) -> MergedHandOffs:
    """The districts' hand-offs (``parts[k]``: district ``k``'s) as one stream."""
    district = np.concatenate([np.full(len(p), k, dtype=np.int64) for k, p in enumerate(parts)]
                              or [np.empty(0, np.int64)])
    seq = np.concatenate([np.arange(len(p), dtype=np.int64) for p in parts] or [np.empty(0, np.int64)])
    issue = np.concatenate([p.issue for p in parts] or [np.empty(0, np.int64)])
    time = np.concatenate([p.time for p in parts] or [np.empty(0)])
    priority = np.concatenate([p.priority for p in parts] or [np.empty(0, np.int64)])
    order = np.lexsort((seq, district, time))
    return MergedHandOffs(district[order], issue[order], time[order], priority[order])


# --------------------------------------------------------------------------- the station


class Job:
    """A hand-off (or a call) in a shared station's queue: ``id`` is its row in the station's
    merged stream; ``issue`` the district's issue (an object in one engine, an id when the
    station runs alone)."""

    __slots__ = ("id", "district", "issue")

    def __init__(self, id: int, district: int, issue: Any) -> None:
        self.id = id
        self.district = district
        self.issue = issue


class StationHost:
    """What a :class:`ServiceStation` needs of a simulation: a clock, streams, a record of
    its visits (job, arrived, started, ended)."""

    def __init__(self, env: Environment, streams: RandomStreams) -> None:
        self.env = env
        self.streams = streams
        self.records = self
        self.visits: list[tuple[int, float, float, float]] = []

    def after(self, delay: float, fn: Callable[..., Any], *args: Any) -> None:
        self.env.call_later(delay, fn, args)

    def station_visit(self, station: int, job: int, arrived: float, started: float, ended: float) -> None:
        self.visits.append((job, arrived, started, ended))


class SharedStation:
    """A shared station on clock ``env``, with its own streams (the city seed's): it takes the
    hand-offs of each instant together, in (district, district's order), after everything
    else due at that instant; ``on_done(job, arrived, started)`` and ``on_refused(job)`` tell
    the districts (in one engine) or nobody (alone)."""

    def __init__(self, env: Environment, seed: int | np.random.SeedSequence, spec: StationSpec,
                 on_done: Callable[[Any, float, float], None] | None = None,
                 on_refused: Callable[[Any], None] | None = None) -> None:
        self.env = env
        self.spec = spec
        self.host = StationHost(env, RandomStreams(seed))
        self.station = ServiceStation(cast(Any, self.host), 0, name=spec.name, kind=spec.kind, level=spec.level,
                                      groups=spec.groups(), service=spec.service, stream=spec.stream,
                                      done=cast(Any, self._done), queue_limit=spec.queue_limit)
        self.on_done = on_done
        self.on_refused = on_refused
        self.rows: list[tuple[int, int, float, int]] = []  # district, issue id, time, priority: as taken
        self.finished: list[int] = []  # rows in the order their sessions ended
        self._due: list[tuple[int, int, Any, int]] = []  # this instant's: district, seq, issue, priority
        self._taken_at = -math.inf  # when the last instant's hand-offs were taken
        self._feed: MergedHandOffs | None = None  # alone: the hand-offs to take, and the next one
        self._feed_time: list[float] = []
        self._next = 0

    def hand_off(self, district: int, seq: int, issue: Any, priority: int) -> None:
        """District ``district``'s ``seq``-th hand-off, now; taken after everything else due now."""
        if not self._due:
            if self._taken_at == self.env.now:  # (a desk's answer handed something off at once)
                raise RuntimeError(f"the city's {self.spec.name}: a hand-off at {self.env.now!r} h after that "
                                   f"instant's hand-offs were taken (a desk's done or refused must not hand off)")
            self.env.call_later(0.0, self._take, (), priority=LATE)
        self._due.append((district, seq, issue, priority))

    def _take(self) -> None:
        due, self._due = sorted(self._due, key=lambda d: (d[0], d[1])), []
        now = self._taken_at = self.env.now
        for district, _, issue, priority in due:
            job = Job(len(self.rows), district, issue)
            self.rows.append((district, issue if isinstance(issue, int) else issue.id, now, priority))
            if not self.station.submit(cast(Any, job), priority) and self.on_refused is not None:
                self.on_refused(job)

    def feed(self, handoffs: MergedHandOffs) -> None:
        """Alone: take ``handoffs`` at their times."""
        self._feed = handoffs
        self._feed_time = handoffs.time.tolist()
        if self._feed_time:
            self.env.call_at(self._feed_time[0], self._ring, (), priority=LATE)

    def _ring(self) -> None:
        h, times, i, now = self._feed, self._feed_time, self._next, self.env.now
        assert h is not None
        while i < len(times) and times[i] <= now:
            self._due.append((int(h.district[i]), i, int(h.issue[i]), int(h.priority[i])))
            i += 1
        self._next = i
        self._take()
        if i < len(times):
            self.env.call_at(times[i], self._ring, (), priority=LATE)

    def _done(self, job: Job, station: ServiceStation, arrived: float, started: float) -> None:
        self.finished.append(job.id)
        if self.on_done is not None:
            self.on_done(job, arrived, started)

    def outcome(self, horizon: float) -> StationOutcome:
        """What the station did with every hand-off (after :meth:`ServiceStation.close_books`)."""
        n = len(self.rows)
        district, issue, time, priority = (np.array(c) for c in zip(*self.rows)) if n else (np.empty(0),) * 4
        started = np.full(n, math.nan)
        ended = np.full(n, math.nan)
        for job, _a, s, e in self.host.visits:
            started[job] = s
            ended[job] = e
        st = self.station
        return StationOutcome(
            spec=self.spec,
            handoffs=MergedHandOffs(district.astype(np.int64), issue.astype(np.int64), time.astype(float),
                                    priority.astype(np.int64)),
            started=started, ended=ended, order=np.asarray(self.finished, dtype=np.int64),
            mean_queue=st.queue_area / horizon, mean_busy=st.busy_area / horizon, groups=list(st.groups))


@dataclass
class StationOutcome:
    """What a shared station did with each hand-off (rows of ``handoffs``): when its session
    started and ended (NaN: not by the horizon; :data:`TURNED_AWAY`: turned away), the order
    the sessions ended, and the station's time integrals."""

    spec: StationSpec
    handoffs: MergedHandOffs
    started: np.ndarray
    ended: np.ndarray
    order: np.ndarray
    mean_queue: float
    mean_busy: float
    groups: list[ServerGroup]

    @property
    def refused(self) -> np.ndarray:
        return self.started == TURNED_AWAY

    def replay(self, district: int) -> Replay:
        """District ``district``'s part: its hand-offs in its order, and the sessions that
        ended, in the order they ended."""
        h = self.handoffs
        mine = np.flatnonzero(h.district == district)  # in the district's own order (stable by time)
        done = self.order[h.district[self.order] == district]
        return Replay(issue=h.issue[mine], time=h.time[mine], priority=h.priority[mine], refused=self.refused[mine],
                      done_issue=h.issue[done], done_arrived=h.time[done], done_started=self.started[done],
                      done_ended=self.ended[done])


@dataclass
class Replay:
    """What one shared station answered one district: its hand-offs (issue, time, priority: to
    check) with whether each was turned away, and the sessions that ended (issue, arrived,
    started, ended) in the order they ended."""

    issue: np.ndarray
    time: np.ndarray
    priority: np.ndarray
    refused: np.ndarray
    done_issue: np.ndarray
    done_arrived: np.ndarray
    done_started: np.ndarray
    done_ended: np.ndarray


def simulate_station(spec: StationSpec, handoffs: MergedHandOffs, seed: int | np.random.SeedSequence,
                     horizon: float) -> StationOutcome:
    """Run shared station ``spec`` alone on the merged hand-offs of every district."""
    from govsim.engine import Environment

    env = Environment()
    station = SharedStation(env, seed, spec)
    station.feed(handoffs)
    env.run(until=horizon)
    station.station.close_books()
    return station.outcome(horizon)


# --------------------------------------------------------------------------- the districts' desks


class LiveDesk:
    """In one engine: district ``district``'s desk of a shared station on the same clock."""

    def __init__(self, station: SharedStation, district: int) -> None:
        self.station = station
        self.district = district
        self._seq = 0

    def open(self, sim: Simulation, done: DeskDone, refused: DeskRefused) -> None:
        self.done = done
        self.refused = refused

    def submit(self, issue: Issue, priority: int) -> None:
        self.station.hand_off(self.district, self._seq, issue, priority)
        self._seq += 1


def live_desks(stations: list[SharedStation], n_districts: int) -> list[dict[str, LiveDesk]]:
    """One desk per district and station (``desks[k][spec.key]``), the stations answering the
    districts' desks."""
    desks: list[dict[str, LiveDesk]] = [{} for _ in range(n_districts)]
    for station in stations:
        mine = [LiveDesk(station, k) for k in range(n_districts)]
        station.on_done = lambda job, arrived, started, mine=mine: mine[job.district].done(job.issue, arrived, started)
        station.on_refused = lambda job, mine=mine: mine[job.district].refused(job.issue)
        for k, desk in enumerate(mine):
            desks[k][station.spec.key] = desk
    return desks


class RecordingDesk:
    """Pass 1 of a sharded run: the hand-offs are recorded, nothing comes back (the issues
    handed over stay open)."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, float, int]] = []

    def open(self, sim: Simulation, done: DeskDone, refused: DeskRefused) -> None:
        self.env = sim.env

    def submit(self, issue: Issue, priority: int) -> None:
        self.rows.append((issue.id, self.env.now, priority))

    def handoffs(self) -> HandOffs:
        return HandOffs.from_rows(self.rows)


class AnswerFeed:
    """A shared station's answers replayed in a district run alone: ``answer(issue, arrived,
    started)`` at each ``ended`` time, in the station's order (one scheduled call per distinct
    time), with event ``priority`` (the 12345 centre's forwards: NORMAL; the stations': LATE)."""

    def __init__(self, env: Environment, issue: np.ndarray, arrived: np.ndarray, started: np.ndarray,
                 ended: np.ndarray, answer: Callable[[int, float, float], None], priority: int) -> None:
        self.env = env
        self.answer = answer
        self.priority = priority
        self._issue = issue.tolist()
        self._arrived = arrived.tolist()
        self._started = started.tolist()
        self._ended = ended.tolist()
        self._next = 0
        if self._ended:
            env.call_at(self._ended[0], self._answers_due, (), priority=priority)

    def _answers_due(self) -> None:
        i, now, ended = self._next, self.env.now, self._ended
        while i < len(ended) and ended[i] <= now:
            self.answer(self._issue[i], self._arrived[i], self._started[i])
            i += 1
        self._next = i
        if i < len(ended):
            self.env.call_at(ended[i], self._answers_due, (), priority=self.priority)


class ReplayDesk:
    """Step 3 of a sharded run: the station's answers replayed at the times it gave them; each
    hand-off is checked against pass 1's (issue, time, priority), and :meth:`finish` checks
    that none is missing."""

    def __init__(self, name: str, district: str, replay: Replay) -> None:
        self.name = name
        self.district = district
        self.r = replay
        self._issue = replay.issue.tolist()
        self._time = replay.time.tolist()
        self._priority = replay.priority.tolist()
        self._refused = replay.refused.tolist()
        self._next = 0
        self.pending: dict[int, Issue] = {}

    def open(self, sim: Simulation, done: DeskDone, refused: DeskRefused) -> None:
        self.env = sim.env
        self.done = done
        self.refused = refused
        r = self.r
        AnswerFeed(sim.env, r.done_issue, r.done_arrived, r.done_started, r.done_ended, self._answer, LATE)

    def submit(self, issue: Issue, priority: int) -> None:
        i, now = self._next, self.env.now
        if (i >= len(self._issue) or self._issue[i] != issue.id or self._time[i] != now
                or self._priority[i] != priority):
            expected = (f"issue {self._issue[i]} at {self._time[i]!r} h with priority {self._priority[i]}"
                        if i < len(self._issue) else "no more hand-offs")
            self._disagree(f"issue {issue.id} handed to the city's {self.name} at {now!r} h with priority "
                           f"{priority}, but the first pass made {expected}")
        self._next = i + 1
        if self._refused[i]:
            self.env.call_later(0.0, self.refused, (issue,), priority=LATE)
        else:
            self.pending[issue.id] = issue

    def _answer(self, issue_id: int, arrived: float, started: float) -> None:
        issue = self.pending.pop(issue_id, None)
        if issue is None:
            self._disagree(f"the city's {self.name} ended the session of issue {issue_id} at "
                           f"{self.env.now!r} h, but the district has not handed it over")
        self.done(issue, arrived, started)

    def finish(self) -> None:
        """After the run: every hand-off of the first pass was made again."""
        if self._next != len(self._issue):
            self._disagree(f"{self._next} hand-offs to the city's {self.name}, but the first pass made "
                           f"{len(self._issue)} (the next: issue {self._issue[self._next]} at "
                           f"{self._time[self._next]!r} h)")

    def _disagree(self, what: str) -> NoReturn:
        raise RuntimeError(f"district {self.district!r}: {what} (a district's hand-offs must not depend on what "
                           f"the shared stations do)")
