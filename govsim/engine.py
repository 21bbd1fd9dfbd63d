"""The simulation engine: builds a district from a scenario and runs it on SimPy.

:class:`Simulation` owns the clock, the random streams and the shared parts
(territory, categories, work board, patrol watch, policy); the agents are SimPy
processes (:mod:`govsim.agents`). It also owns the life of an issue: it arises,
becomes known through a channel, is assigned, handled and resolved, or lapses,
or escalates while it waits. :func:`run` is the entry point.
"""

from __future__ import annotations

import dataclasses
import gc
import heapq
import math
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any, Final, final

import numpy as np
import simpy
from simpy.core import EmptySchedule, StopSimulation
from simpy.events import EventPriority

from govsim.agents.departments import Departments
from govsim.agents.mediation import MediationLadder
from govsim.agents.participation import Participation, RateChange
from govsim.agents.patrol import PatrolWatch
from govsim.agents.residents import WALK_IN_DRAW, IssuePlan, Residents
from govsim.agents.responders import Hiring
from govsim.agents.sensors import FalseAlarms, choose_grids, sensor_intensity
from govsim.agents.stations import ServiceStation, SharedDesks
from govsim.agents.workers import GridWorker, Shift
from govsim.issues import CategoryTable, Channel, Issue, Status
from govsim.mechanisms import MECHANISMS, Mechanism
from govsim.policies import POLICIES, ROUTES
from govsim.policies.board import WorkBoard
from govsim.records import Recorder
from govsim.result import Result
from govsim.rng import RandomStreams, UniformBuffer
from govsim.scenario.errors import ScenarioError
from govsim.scenario.schema import WEEKDAYS, Scenario, WorkersConfig
from govsim.territory import Territory

# The queue's priorities (SimPy's own, checked below), as Final names: the compiled engine
# reads them as constants, without a look-up by name per event.
URGENT: Final = 0
NORMAL: Final = 1
#: priority of a call that comes after the URGENT and NORMAL events due at the same instant
#: (except those a LATE call itself schedules for that instant): a city's shared station
#: takes the hand-offs of one instant together (govsim.city.services)
LATE: Final = NORMAL + 1
if (URGENT, NORMAL) != (simpy.core.URGENT, simpy.core.NORMAL):  # pragma: no cover
    raise ImportError(f"SimPy's event priorities changed ({simpy.core.URGENT}, {simpy.core.NORMAL}); "
                      "govsim.engine assumes URGENT 0 and NORMAL 1")
#: the priorities an entry of the queue may have: SimPy's −1 (what a stopped run left of an
#: event's callbacks, first when the run goes on), URGENT, NORMAL and LATE
FIRST: Final = -1
N_PRIORITIES: Final = LATE - FIRST + 1
heappush: Final = heapq.heappush  # (Final: read as a constant in the compiled build)
heappop: Final = heapq.heappop

#: an entry of the event queue: ``(time, priority, id, event)`` (a SimPy event) or
#: ``(time, priority, id, fn, args)`` (a call, :meth:`Environment.call_later`)
Entry = tuple[Any, ...]


@final
class EventQueue:
    """The event queue (事件队列), in SimPy's order, kept by instant.

    Entries leave in the order of ``(time, priority, id)``, as from SimPy's heap of
    tuples, ids being given in the order entries are pushed. The order is kept in two
    parts. The instant being served (the time of the last entry taken) has one list per
    priority, each in the order pushed: its entries, and those pushed for it while it is
    served (a wait of zero, an interrupt), leave most urgent first, first pushed first.
    Later instants are a heap of their times, each time once, and a list of entries per
    time, in the order pushed; when an instant's turn comes, its entries go to the lists
    by priority. The heap compares floats, where SimPy's compares tuples (whose times are
    often equal: every patrolling worker of a shift waits for its end), and an entry for
    an instant already in the heap is one list append.
    """

    __slots__ = ("_times", "_later", "_due", "_head", "_n_due", "_at")

    def __init__(self) -> None:
        self._times: list[float] = []  # heap of the later instants' times, each once
        self._later: dict[float, list[Entry]] = {}  # their entries, in the order pushed
        # the instant being served: its entries by priority (FIRST first), each list read
        # from _head[p] on, in the order pushed
        self._due: list[list[Entry]] = [[] for _ in range(N_PRIORITIES)]
        self._head: list[int] = [0] * N_PRIORITIES
        self._n_due = 0  # entries left in them
        self._at = -math.inf  # the instant being served

    def __len__(self) -> int:
        return self._n_due + sum(len(entries) for entries in self._later.values())

    def push(self, at: float, priority: int, entry: Entry) -> None:
        """Add ``entry``, due at time ``at`` with ``priority``, after every entry pushed before
        it for the same time and priority."""
        if priority < FIRST or priority > LATE:
            raise ValueError(f"event priority {priority} is not one of {FIRST}..{LATE}")
        if at > self._at:  # a later instant (the usual case)
            later = self._later.get(at)
            if later is None:
                self._later[at] = [entry]
                heappush(self._times, at)
            else:
                later.append(entry)
        elif at == self._at:
            self._due[priority - FIRST].append(entry)
            self._n_due += 1
        else:
            raise ValueError(f"time {at} is before the instant being served ({self._at})")

    def pop(self) -> Entry | None:
        """Take the first entry (None if there is none)."""
        due, head = self._due, self._head
        if self._n_due > 0:
            for p in range(N_PRIORITIES):
                entries = due[p]
                h = head[p]
                if h < len(entries):
                    entry = entries[h]
                    if h + 1 == len(entries):
                        entries.clear()
                        head[p] = 0
                    else:
                        head[p] = h + 1
                    self._n_due -= 1
                    return entry
        times = self._times
        if not times:
            return None
        # the instant is over: the next one's entries, by priority
        at = heappop(times)
        entries = self._later.pop(at)
        self._at = at
        if len(entries) == 1:
            return entries[0]
        for entry in entries:
            p = entry[1]
            due[p - FIRST].append(entry)
        self._n_due = len(entries)
        return self.pop()

    def peek(self) -> float:
        """The time of the first entry (infinity if there is none)."""
        if self._n_due > 0:
            return self._at
        return self._times[0] if self._times else math.inf

    def entries(self) -> list[Entry]:
        """Every entry, in the order they will leave (a copy: for inspection and tests)."""
        out = [e for p in range(N_PRIORITIES) for e in self._due[p][self._head[p]:]]
        for at in sorted(self._later):
            out.extend(sorted(self._later[at], key=lambda e: (e[1], e[2])))
        return out


@final
class Clock:
    """The time now, :attr:`Environment.now`, as a plain float that the event loop sets
    with it: compiled agents read ``clock.now`` from a native attribute (``env.now`` is an
    instance attribute of a Python class, a dictionary look-up). It also numbers the
    entries of the event queue: ``eid`` is the id the next entry gets (SimPy's counter,
    ``Environment._eid``, is replaced by it: a native integer instead of a call of
    ``next`` on an :func:`itertools.count`; the same numbers in the same order)."""

    __slots__ = ("now", "eid")

    def __init__(self, now: float) -> None:
        self.now = now
        self.eid = 0

    def next_id(self) -> int:
        """The id of the next entry of the queue (ties of time and priority: lower first)."""
        eid = self.eid
        self.eid = eid + 1
        return eid


class Environment(simpy.Environment):
    """SimPy's environment with a tighter event loop and plain scheduled calls.

    Processes, timeouts and interrupts are SimPy's own. Three things differ, none of
    which changes the order of events: :meth:`call_later` puts a function call on the
    event queue without an event object (a callback such as a lapse timer or a report
    needs neither a :class:`~simpy.events.Timeout` nor a closure); the queue is an
    :class:`EventQueue` kept by instant rather than SimPy's heap of tuples; and :meth:`run`
    steps through it in one loop instead of one :meth:`step` call per event. Every entry
    of the queue, call or event, leaves in the order of ``(time, priority, id)`` exactly as
    in SimPy, ids being numbered in the order entries are scheduled (:attr:`Clock.eid`),
    so a run is the same event for event as with a plain ``simpy.Environment`` (tests
    compare the two). The clock, :attr:`now`, is a plain attribute rather than a property
    (it is read at every step).
    """

    now: float = 0.0  # shadows simpy.Environment.now (a property): set with _now by the loop
    clock: Clock  # the same time, set with it (read by the compiled agents)
    events: EventQueue  # the queue (SimPy's heap, _queue, is not used)

    def __init__(self, initial_time: float = 0) -> None:
        super().__init__(initial_time)
        self.now = self._now
        self.clock = Clock(self._now)
        self.events = EventQueue()
        del self._eid  # ids are numbered by the clock (Clock.eid)
        del self._queue  # entries are kept by self.events

    def schedule(self, event: simpy.Event, priority: EventPriority = simpy.core.NORMAL,
                 delay: float = 0) -> None:
        """As :meth:`simpy.Environment.schedule`, on :attr:`events` with the id from :attr:`Clock.eid`."""
        at = self._now + delay
        self.events.push(at, priority, (at, priority, self.clock.next_id(), event))

    def peek(self) -> float:
        """The time of the next entry of the queue (infinity if there is none)."""
        return self.events.peek()

    def call_later(self, delay: float, fn: Callable[..., Any], args: tuple[Any, ...] = (),
                   priority: int = NORMAL) -> None:
        """Call ``fn(*args)`` after ``delay`` hours (ordered like an event scheduled now)."""
        if delay < 0:
            raise ValueError(f"Negative delay {delay}")
        at = self._now + delay
        self.events.push(at, priority, (at, priority, self.clock.next_id(), fn, args))

    def call_at(self, at: float, fn: Callable[..., Any], args: tuple[Any, ...] = (),
                priority: int = NORMAL) -> None:
        """Call ``fn(*args)`` at time ``at`` exactly (not ``now + (at - now)``, which may differ
        in the last bit): a time computed elsewhere, e.g. by a city's shared call centre."""
        if at < self._now:
            raise ValueError(f"time {at} is in the past (now {self._now})")
        self.events.push(at, priority, (at, priority, self.clock.next_id(), fn, args))

    def activity(self, generator: Generator[float, None, None]) -> Activity:
        """Start ``generator`` as an :class:`Activity` (a process that yields how long it waits)."""
        return Activity(self, generator)

    def step(self) -> None:
        entry = self.events.pop()  # an event's 4-tuple or a call's 5-tuple
        if entry is None:
            raise EmptySchedule
        self.now = self._now = self.clock.now = entry[0]
        if len(entry) == 5:  # a call (call_later)
            entry[3](*entry[4])
            return
        self._process(entry[3])

    def _process(self, event: simpy.Event) -> None:
        """Run the callbacks of ``event`` (as ``simpy.Environment.step`` does once it is popped)."""
        callbacks, event.callbacks = event.callbacks, None  # type: ignore[assignment]
        try:
            for callback in callbacks:
                callback(event)
        except StopSimulation:
            event.callbacks = callbacks[callbacks.index(callback) + 1:]
            self.schedule(event, -1)  # type: ignore[arg-type]
            raise
        if not event._ok and not hasattr(event, "_defused"):
            exc = type(event._value)(*event._value.args)
            exc.__cause__ = event._value
            raise exc

    def run(self, until: float | simpy.Event | None = None) -> Any:
        """As :meth:`simpy.Environment.run`: until the time or event ``until`` (None: until no
        event is left)."""
        if until is not None:
            if not isinstance(until, simpy.Event):
                at = until if isinstance(until, int) else float(until)
                if at <= self.now:
                    raise ValueError(f"until ({at}) must be greater than the current simulation time")
                until = simpy.Event(self)
                until._ok = True
                until._value = None
                self.schedule(until, simpy.core.URGENT, at - self.now)
            elif until.callbacks is None:
                return until.value
            until.callbacks.append(StopSimulation.callback)
        events = self.events  # events' 4-tuples and calls' 5-tuples
        process = self._process
        clock = self.clock
        try:
            while True:
                entry = events.pop()
                if entry is None:
                    break
                self.now = self._now = clock.now = entry[0]
                if len(entry) == 5:
                    entry[3](*entry[4])
                else:
                    process(entry[3])
        except StopSimulation as exc:
            return exc.args[0]
        if until is not None:
            assert not until.triggered
            raise RuntimeError(f'No scheduled events left but "until" event was not triggered: {until}')
        return None


class Activity:
    """A process whose generator yields how long it waits, in hours, rather than events.

    It behaves as a SimPy process waiting on timeouts: it starts with an urgent call now
    (where SimPy schedules a process's initialisation), each wait is one scheduled call made
    at the moment of the ``yield`` (where the :class:`~simpy.events.Timeout` would be made),
    and :meth:`interrupt` throws a :class:`simpy.Interrupt` into the generator by an urgent
    call, as SimPy's interruption does; the wait it cuts short is void. The order of
    events is therefore SimPy's, without an event object, a timeout or a callback list per
    wait. The grid workers (:class:`~govsim.agents.workers.GridWorker`) are activities.
    """

    __slots__ = ("env", "_clock", "_generator", "_send", "_wait", "_events", "_resume")

    def __init__(self, env: Environment, generator: Generator[float, None, None]) -> None:
        self.env = env
        self._clock = env.clock  # the time and the queue's ids
        self._events = env.events  # the environment's queue, at hand
        self._generator: Generator[float, None, None] | None = generator
        self._wait = 0  # number of the wait in progress; a call for another one is void
        # the bound methods, made once (not at every wait)
        self._send: Callable[[None], float] = generator.send
        self._resume: Callable[[int, BaseException | None], None] = self._step
        env.call_later(0.0, self._resume, (0, None), priority=URGENT)

    @property
    def is_alive(self) -> bool:
        return self._generator is not None

    def _step(self, wait: int, exc: BaseException | None) -> None:
        gen = self._generator
        if wait != self._wait or gen is None:
            return  # cut short by an interrupt
        try:
            delay = self._send(None) if exc is None else gen.throw(exc)
        except StopIteration:
            self._generator = None
            return
        self._wait = wait = wait + 1
        # (call_later, inlined: a worker waits about three times per issue)
        if delay < 0:
            raise ValueError(f"Negative delay {delay}")
        clock = self._clock
        at = clock.now + delay
        self._events.push(at, NORMAL, (at, NORMAL, clock.next_id(), self._resume, (wait, None)))

    def interrupt(self, cause: Any = None) -> None:
        """Throw ``simpy.Interrupt(cause)`` into the generator, now (after the urgent events
        already due)."""
        if self._generator is None:
            raise RuntimeError(f"{self} has terminated and cannot be interrupted.")
        # (call_later, inlined)
        clock = self._clock
        at = clock.now
        self._events.push(at, URGENT, (at, URGENT, clock.next_id(), self._interrupt, (cause,)))

    def _interrupt(self, cause: Any) -> None:
        if self._generator is None:
            return
        self._wait += 1  # the wait in progress is void
        self._step(self._wait, simpy.Interrupt(cause))


class Simulation:
    """One run of a scenario with one seed."""

    def __init__(self, scenario: Scenario, seed: int | np.random.SeedSequence,
                 env: Environment | None = None, shared: SharedDesks | None = None) -> None:
        # env: a clock shared with other districts (a city run in one engine, govsim.city);
        # shared: the city's departments and mediation centre this district hands issues to
        self.scenario = scenario
        self.seed = seed
        self.horizon = scenario.horizon
        self.env = env if env is not None else Environment()
        self._events = self.env.events  # the clock's queue, at hand (after)
        self.clock = self.env.clock
        self.streams = RandomStreams(seed)
        base_dir = Path(scenario.source).parent if scenario.source and scenario.source != "<dict>" else None
        self.territory = Territory.from_config(scenario.territory, self.streams.stream("territory"), base_dir)
        self.categories = CategoryTable.from_scenario(scenario, self.territory, base_dir)
        self.records = Recorder()
        self.issue_log = self.records.issues  # issues that arose: open ones as objects, closed ones as columns
        self.false_alarms: list[Issue] = []
        self.stations: list[ServiceStation] = []
        self.board = WorkBoard(self)
        self.patrol = PatrolWatch(self)
        try:
            self.mechanisms: list[Mechanism] = [MECHANISMS[name](self, cfg)
                                                for name, cfg in scenario.governance.active()]
            check_references(scenario, self.territory)
            off_board = {c for m in self.mechanisms for c in m.takes_categories()}
            self.takes_off_board = [name in off_board for name in self.categories.names]
            self.participation = Participation(self.territory)
            for m in self.mechanisms:
                m.shape_participation(self.participation)
            changes: list[RateChange] = [ch for m in self.mechanisms for ch in m.rate_changes()]
            self.workers = self._hire_workers()
            for w in self.workers:
                self.patrol.add_worker(w)
            for m in self.mechanisms:
                m.train(self.workers)
            hiring = Hiring(self, first_id=len(self.workers))
            for m in self.mechanisms:
                m.hire(hiring)
            self.workers += hiring.workers
            channels = scenario.channels
            self.sensor_grids = choose_grids(
                channels.sensors, "channels.sensors", self.territory, self.streams.stream("sensors/placement"),
                sensor_intensity(self.territory, self.categories))
            self.app_grids = choose_grids(channels.app, "channels.app", self.territory,
                                          self.streams.stream("app/placement"))
        except ScenarioError as err:
            raise err.with_source(scenario.source) from None
        self.local_cover = self._local_cover(hiring.stand_ins)
        self.departments = Departments(self, shared)
        self.ladder = MediationLadder(self, shared)
        for m in self.mechanisms:
            m.start()
        self._takers = [m for m in self.mechanisms if type(m).take is not Mechanism.take]
        #: discovery channels that tell the grid directly (a policy's report chain is skipped)
        self.direct_channels = frozenset(m.channel for m in self.mechanisms if m.direct and m.channel)
        self.policy = POLICIES[scenario.policy](self, scenario.policy_params())
        self.plan = IssuePlan.draw(self.territory, self.categories, channels, self.sensor_grids,
                                   self.horizon, self.streams, app_grids=self.app_grids,
                                   participation=self.participation, changes=changes,
                                   finders=[m for m in self.mechanisms if m.channel])
        Residents(self, self.plan)
        self.alarms = FalseAlarms(self, self.sensor_grids, first_id=len(self.plan))

    # --- construction ----------------------------------------------------------------------
    def _hire_workers(self) -> list[GridWorker]:
        cfg = self.scenario.workers
        terr = self.territory
        skills = [(cfg.categories is None or name in cfg.categories) and (dept is None or on_patrol)
                  and not off
                  for name, dept, on_patrol, off in zip(self.categories.names, self.categories.department,
                                                        self.categories.patrol_handles, self.takes_off_board)]
        route_factory = ROUTES[cfg.route]
        workers: list[GridWorker] = []
        areas = worker_layout(terr, cfg, self.scenario.limits.workers)
        for s, shift_cfg in enumerate(cfg.shifts):
            shift = Shift(shift_cfg.start, shift_cfg.end, [WEEKDAYS.index(d) for d in shift_cfg.days])
            for grids, phase, n_phases in areas:
                points = [p for g in grids for p in terr.grid_points(g)]
                wid = len(workers)
                rng = self.streams.stream(f"routes/{wid}")
                try:
                    route = route_factory(terr, points, cfg.speed_kmh, cfg.dwell, rng)
                except ValueError as err:
                    raise ScenarioError.single("workers", str(err), self.scenario.source) from None
                start_k = phase * len(points) // n_phases
                workers.append(GridWorker(self, wid, grids, shift, s, route, start_k, cfg.speed_kmh, skills))
        return workers

    def _local_cover(self, stand_ins: list[GridWorker]) -> set[tuple[int, int]]:
        """(grid, category) pairs of department categories that a local responder (a service
        team, alliance staff) takes instead of the department."""
        depts = [c for c in range(self.categories.n) if self.categories.department[c] is not None]
        cover: set[tuple[int, int]] = set()
        for w in stand_ins:
            for c in depts:
                if w.skills[c]:
                    cover.update((g, c) for g in w.grids)
        return cover

    # --- helpers for agents and policies ------------------------------------------------
    def hand_over(self, issue: Issue) -> bool:
        """Route ``issue`` away from the work board if its category belongs elsewhere: to a
        mechanism that takes it (collective matters to the community's resident council), or
        to its department — unless a local team or alliance staff serving its grid handles
        the category. True if handed over. Dispatch policies call this once an issue has
        been classified."""
        if issue.category < 0:
            return False
        for m in self._takers:
            if m.take(issue):
                return True
        if (issue.grid, issue.category) in self.local_cover:
            return False
        return self.departments.take(issue)


    def after(self, delay: float, fn: Callable[..., Any], *args: Any) -> None:
        """Call ``fn(*args)`` after ``delay`` hours of simulated time."""
        # (Environment.call_later, inlined: about 2.5 timers per issue)
        if delay < 0:
            raise ValueError(f"Negative delay {delay}")
        clock = self.clock
        at = clock.now + delay
        self._events.push(at, NORMAL, (at, NORMAL, clock.next_id(), fn, args))

    def add_station(self, **kwargs: Any) -> ServiceStation:
        """Create a service station (room, department, call centre); see :class:`ServiceStation`."""
        station = ServiceStation(self, len(self.stations), **kwargs)
        self.stations.append(station)
        return station

    def uniform(self, name: str) -> UniformBuffer:
        """A fast source of Uniform(0, 1) draws from stream ``name``."""
        return UniformBuffer(self.streams.stream(name))

    # --- the life of an issue ---------------------------------------------------------
    def issue_arose(self, issue: Issue) -> None:
        self.issue_log.arose(issue)
        c = issue.category
        if issue.dispute_u is not None and issue.dispute_u[WALK_IN_DRAW] < self.categories.walk_in[c]:
            issue.status = Status.REPORTED
            issue.discovered_at = self.clock.now
            issue.channel = Channel.WALK_IN
            self.ladder.refer(issue, 0)
        else:
            self.patrol.issue_arose(issue)
        if issue.lapse_at < math.inf:
            self.after(issue.lapse_at - issue.created_at, self._lapse, issue)
        after = self.categories.escalate_after[c]
        if after < math.inf:
            self.after(after, self._escalate, issue, self.categories.escalate_priority[c])

    def discover(self, issue: Issue, channel: str, finder: GridWorker | None = None) -> None:
        """``issue`` becomes known through ``channel`` (the first channel wins)."""
        if issue.status is not Status.HIDDEN:
            return
        issue.status = Status.REPORTED
        issue.discovered_at = self.clock.now
        issue.channel = channel
        self.patrol.forget(issue)
        self.policy.on_discovered(issue, channel, finder)

    def arrive(self, issue: Issue, worker: GridWorker) -> None:
        issue.status = Status.IN_PROGRESS
        issue.arrived_at = self.clock.now

    def finish_on_site(self, issue: Issue, worker: GridWorker) -> None:
        """``worker`` is done on site: the issue is handled or, for a dispute, settled on the
        spot (就地化解) or referred up the mediation ladder."""
        p = self.categories.on_spot_success[issue.category] if issue.category >= 0 else None
        if p is None:
            self.settle(issue, None)
            return
        p += worker.on_spot_gain * (1.0 - p)
        issue.path = "grid"
        factor, floor = self.ladder.factor_and_floor(issue)
        u = issue.dispute_u
        assert u is not None  # a dispute (on_spot_success is set) has its draws
        if floor == 0 and u[0] < p * factor:
            self.settle(issue, "grid")
        else:
            self.ladder.refer(issue, 0)

    def settle(self, issue: Issue, level: str | None) -> None:
        """The issue is resolved (a dispute: settled at ``level``)."""
        issue.status = Status.RESOLVED
        issue.resolved_at = issue.closed_at = self.clock.now
        issue.settled_level = level
        self.issue_log.closed(issue)

    def unsettled(self, issue: Issue) -> None:
        """A dispute left the top of the ladder unsettled (passed to court)."""
        issue.status = Status.UNSETTLED
        issue.closed_at = self.clock.now
        self.issue_log.closed(issue)

    def _lapse(self, issue: Issue) -> None:
        if issue.status in Status.OPEN:
            self.patrol.forget(issue)
            self.board.withdraw(issue)
            issue.status = Status.LAPSED
            issue.closed_at = self.clock.now
            self.issue_log.closed(issue)

    def _escalate(self, issue: Issue, priority: int) -> None:
        if issue.status in Status.CLOSED or priority >= issue.priority:
            return
        issue.priority = priority
        issue.escalated_at = self.clock.now
        if issue.status is Status.WAITING:
            self.board.reprioritise(issue)

    # --- running ----------------------------------------------------------------------
    def run(self) -> Result:
        run_clock(self.env, self.horizon)
        for w in self.workers:
            w.finish()
        for station in self.stations:
            station.close_books()
        return Result.from_simulation(self)


def run_clock(env: Environment, until: float) -> None:
    """Run ``env`` until ``until`` with Python's cyclic garbage collector held back.

    A run keeps hundreds of thousands of live objects (the district, the plan, open issues,
    records); the collector would traverse them over and over. While the clock runs it
    collects less often. Garbage is still collected; no result depends on when (nothing in
    govsim has a finaliser). (Freezing the built district out of the collector,
    :func:`gc.freeze`, was tried and undone: it saved no measurable time, and an object
    frozen and unfrozen is freed only by a full collection, which CPython then seldom
    runs, so a process running district after district — a city's worker, a sweep's —
    kept every finished district in memory.)
    """
    thresholds = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    try:
        env.run(until=until)
    finally:
        gc.set_threshold(*thresholds)


def check_references(scenario: Scenario, territory: Territory) -> None:
    """Names the governance mechanisms refer to that the built district lacks (communities,
    area types, grid ids of a district read from a grids CSV; the loader checks them when
    the scenario itself defines the district)."""
    from govsim.scenario.errors import Problem
    from govsim.scenario.schema import _unknown_name

    problems = []
    for name, cfg in scenario.governance.active():
        refs = MECHANISMS[name].references(cfg)
        problems += [Problem(path, _unknown_name(c, territory.communities, "community"))
                     for path, c in refs.communities if c not in territory.communities]
        problems += [Problem(path, _unknown_name(a, territory.area_types, "area type"))
                     for path, a in refs.area_types if a not in territory.area_types]
        problems += [Problem(path, f"no such grid {g} (the district has grids 0..{territory.n_grids - 1})")
                     for path, g in refs.grid_ids if not 0 <= g < territory.n_grids]
    if problems:
        raise ScenarioError(problems)


def worker_layout(territory: Territory, cfg: WorkersConfig,
                  most: int | None = None) -> list[tuple[tuple[int, ...], int, int]]:
    """Areas of the grid workers of one shift, ``(grids, phase, n_phases)`` per worker (see
    :func:`worker_areas`), with ``workers.communities`` applied: a named community's grids get
    its own workers per grid. Whole numbers everywhere: grid by grid, as without it; a share
    below 1 somewhere: community by community, each worker's grids inside one community.
    ``most``: the limit on grid workers of all shifts (``limits.workers``), checked here for
    ``communities`` before anyone is hired (the loader checks ``per_grid`` alone)."""
    from govsim.limits import exceeds
    from govsim.scenario.schema import _unknown_name

    if not cfg.communities:
        per_community = None
    else:
        unknown = [c for c in cfg.communities if c not in territory.communities]
        if unknown:
            raise ScenarioError.single(f"workers.communities.{unknown[0]}",
                                       _unknown_name(unknown[0], territory.communities, "community"))
        per_community = [cfg.communities.get(name, cfg.per_grid) for name in territory.communities]
    if per_community is not None and most is not None:  # (without it, the loader's estimate holds)
        sizes = np.bincount(territory.grid_community, minlength=len(territory.communities)).tolist()
        count = sum(n * int(v) if v >= 1 else max(1, round(v * n)) for n, v in zip(sizes, per_community))
        if count * len(cfg.shifts) > most:
            raise ScenarioError.single("workers", exceeds("workers", count * len(cfg.shifts), most,
                                                          "grid workers (all shifts):"))
    if per_community is None:
        return worker_areas(territory.n_grids, cfg.per_grid)
    if all(v >= 1 for v in per_community):
        per = [int(per_community[c]) for c in territory.grid_community.tolist()]
        return [((g,), j, per[g]) for g in range(territory.n_grids) for j in range(per[g])]
    areas: list[tuple[tuple[int, ...], int, int]] = []
    for c, share in enumerate(per_community):
        grids = np.flatnonzero(territory.grid_community == c).tolist()
        areas += [(tuple(grids[i] for i in local), phase, n_phases)
                  for local, phase, n_phases in worker_areas(len(grids), share)]
    return areas


def worker_areas(n_grids: int, per_grid: float) -> list[tuple[tuple[int, ...], int, int]]:
    """Areas of the workers of one shift: ``(grids, phase, n_phases)`` per worker.

    ``per_grid`` of k (whole) gives k workers per grid, spread evenly around its
    route (phases 0..k-1); a share below 1 gives ``round(per_grid × n_grids)``
    workers, each covering a run of neighbouring grids (in row-major order).
    """
    if per_grid >= 1:
        k = int(per_grid)
        return [((g,), j, k) for g in range(n_grids) for j in range(k)]
    n_workers = max(1, round(per_grid * n_grids))
    bounds = np.linspace(0, n_grids, n_workers + 1).round().astype(int)
    return [(tuple(range(bounds[i], bounds[i + 1])), 0, 1) for i in range(n_workers)
            if bounds[i + 1] > bounds[i]]


def run(scenario: Scenario | str | Path | dict[str, Any], seed: int | np.random.SeedSequence | None = None,
        overrides: dict[str, Any] | None = None) -> Result:
    """Run ``scenario`` once and return its :class:`~govsim.result.Result`.

    ``scenario`` is a loaded :class:`Scenario`, a path to a YAML file or a dict.
    ``seed`` (an integer or a :class:`numpy.random.SeedSequence`) defaults to the scenario's
    ``seed`` key, then 0.
    """
    from govsim.scenario import load_scenario

    if not isinstance(scenario, Scenario):
        loaded = load_scenario(scenario, overrides=overrides)
    elif overrides:
        loaded = dataclasses.replace(load_scenario(scenario.raw or {}, overrides=overrides), source=scenario.source)
    else:
        loaded = scenario
    if seed is None:
        seed = loaded.seed if loaded.seed is not None else 0
    return Simulation(loaded, seed).run()
