"""The capacity behind closure times: a department (职能部门) or crew fitted by simulation.

In a case log, closed − created is mostly *waiting*: a bulky-item pickup is
closed days after the call because the crews have a backlog and work office
hours, not because a pickup takes days. Pasting the observed durations in as
service times would reproduce them in the log's own conditions and mislead in
any other (more cases, more staff). Instead each department is modelled as
govsim models it in a run — a :class:`~govsim.agents.stations.ServiceStation`
with ``staff`` servers on weekly working hours and a service-time distribution
— and its parameters are found by simulation-based optimisation:

* the **working hours** are read off the hours at which the log's cases are
  closed (closures happen when crews work);
* the station is fed the log's *own* arrival stream of the department's cases
  (after a warm-up: the same stream one week earlier, so the queue is not empty
  when the window starts), and the **service mean, its coefficient of variation
  and the number of staff** are chosen by Nelder–Mead (:func:`scipy.optimize.minimize`)
  so that the simulated quantiles of closed − created (10, 25, 50, 75, 90 %)
  match the observed ones (Kaplan–Meier, so cases still open are used);
* every evaluation uses the same random numbers (common random numbers), so the
  objective is a deterministic function of the parameters and the search is not
  chasing noise. Staff are parametrised through the utilisation they imply,
  ``staff = round(λ × mean / (u × open share of the week))``.

The station can be run by the same code as in a full simulation, through a small
bench that provides only what a station needs (a clock, random streams, a way
to schedule callbacks); by default it is replayed event by event without SimPy
(:func:`_closure_fast`), with bit-identical closure times and about nine times faster.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import simpy
from scipy import optimize, stats

from govsim.agents.stations import ServiceStation, server_groups
from govsim.distributions import LogNormal
from govsim.rng import RandomStreams, SampleBuffer
from govsim.scenario.schema import WEEKDAYS, HoursConfig

if TYPE_CHECKING:
    from govsim.engine import Simulation
    from govsim.issues import Issue
    from govsim.scenario.schema import Weekday

QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)
MAX_STAFF = 20_000  # the search's bound on a department's staff
_EPS = 0.1  # hours added before taking logs of closure times


def km_quantiles(durations: np.ndarray, censored: np.ndarray,
                 qs: tuple[float, ...] = QUANTILES) -> np.ndarray:
    """Quantiles of closure times with right-censored cases (Kaplan–Meier; ``scipy.stats.ecdf``).
    A quantile beyond the last closure is ``inf``."""
    durations = np.asarray(durations, float)
    censored = np.asarray(censored, bool)
    if not censored.any():
        return np.quantile(durations, qs, method="inverted_cdf") if len(durations) else np.full(len(qs), np.nan)
    data = stats.CensoredData.right_censored(durations, censored)
    cdf = stats.ecdf(data).cdf
    t, p = cdf.quantiles, cdf.probabilities
    out = []
    for q in qs:
        i = int(np.searchsorted(p, q - 1e-12))
        out.append(float(t[i]) if i < len(t) else math.inf)
    return np.array(out)


def working_hours(closed: np.ndarray, min_day_share: float = 0.25, coverage: float = 0.9,
                  day_exposure: np.ndarray | None = None, holidays: Any = ()) -> list[HoursConfig] | None:
    """Weekly working hours read off timestamps of work (``datetime64``: closures, or cases
    found by staff): the days with at least ``min_day_share`` of the busiest day's rate, and
    the shortest daily span of whole hours holding ``coverage`` of those days' events.
    ``day_exposure`` (hours observed of each weekday, Monday first) turns counts into rates;
    a weekday never observed is taken as working if any observed day of its kind (weekday,
    weekend) is. ``None`` (always working) when the span is 20 hours or more, or there are
    too few events to say. ``holidays`` (dates) count as Sundays."""
    closed = np.asarray(closed, dtype="datetime64[ns]")
    closed = closed[~np.isnat(closed)]
    if len(closed) < 30:
        return None
    import pandas as pd

    from govsim.calibration.arrivals import hour_of_week

    how = hour_of_week(pd.DatetimeIndex(closed), holidays)  # a holiday's work counts as a Sunday's
    dow, hour = how // 24, how % 24
    exposure = np.full(7, 24.0) if day_exposure is None else np.asarray(day_exposure, float)
    seen = exposure > 0
    per_day = np.divide(np.bincount(dow, minlength=7), exposure, out=np.zeros(7), where=seen)
    days = [d for d in range(7) if seen[d] and per_day[d] >= min_day_share * per_day.max()]
    for d in np.flatnonzero(~seen):
        kind = [e for e in range(7) if seen[e] and (e >= 5) == (d >= 5)]
        if any(e in days for e in kind):
            days.append(int(d))
    days.sort()
    counts = np.bincount(hour[np.isin(dow, days)], minlength=24).astype(float)
    total = counts.sum()
    best: tuple[int, int] | None = None
    for length in range(1, 25):
        window = np.array([counts[(s + np.arange(length)) % 24].sum() for s in range(24)])
        if window.max() >= coverage * total:
            best = (int(window.argmax()), length)
            break
    if best is None or best[1] >= 20:
        return None
    start, length = best
    return [HoursConfig(start=float(start), end=float((start + length) % 24),
                        days=cast("list[Weekday]", [WEEKDAYS[d] for d in days]))]


class _Job:
    __slots__ = ("id",)

    def __init__(self, i: int) -> None:
        self.id = i


class StationBench:
    """What a :class:`ServiceStation` needs of a simulation — a SimPy clock, named random
    streams, delayed callbacks and a record book — and nothing else."""

    def __init__(self, seed: int) -> None:
        self.env = simpy.Environment()
        self.streams = RandomStreams(seed)
        self.records = self

    def after(self, delay: float, fn: Callable[..., Any], *args: Any) -> None:
        ev = self.env.timeout(delay)
        ev.callbacks.append(lambda _ev: fn(*args))

    def station_visit(self, *args: Any) -> None:  # the bench keeps no visit records
        pass


def simulate_closure(arrivals_h: np.ndarray, staff: int, hours: list[HoursConfig] | None,
                     service: LogNormal, seed: int, run_until: float, *,
                     engine: str = "auto") -> np.ndarray:
    """Closure time (finish − arrival) of each job of a station fed ``arrivals_h`` (sorted,
    hours from a Monday 00:00); ``inf`` for a job unfinished at ``run_until``.

    ``engine="simpy"`` runs a :class:`ServiceStation` on a SimPy clock; ``"fast"`` (what
    ``"auto"`` uses whenever the station has at most one group of servers, as every fitted
    department has) replays the same station event by event without SimPy
    (:func:`_closure_fast`): the same events in the same order, the same arithmetic on the
    clock and the same random draws, so the same closure times to the last bit, about ten
    times faster.
    """
    if engine not in ("auto", "fast", "simpy"):
        raise ValueError(f"engine must be 'auto', 'fast' or 'simpy', got {engine!r}")
    if engine != "simpy":
        groups = server_groups(staff, hours, "staff")
        if len(groups) <= 1:
            return _closure_fast(np.asarray(arrivals_h, float), groups, service, seed, run_until)
        if engine == "fast":
            raise ValueError("the fast engine handles one group of servers; use engine='simpy'")
    return _closure_simpy(arrivals_h, staff, hours, service, seed, run_until)


def _closure_simpy(arrivals_h: np.ndarray, staff: int, hours: list[HoursConfig] | None,
                   service: LogNormal, seed: int, run_until: float) -> np.ndarray:
    bench = StationBench(seed)
    done = np.full(len(arrivals_h), math.inf)

    def finished(job: _Job, station: ServiceStation, arrived: float, started: float) -> None:
        done[job.id] = bench.env.now - arrived

    # The bench stands in for a Simulation and a _Job for an Issue: the station uses only
    # what they provide (a clock, streams, callbacks, records; a job's ``id``).
    station = ServiceStation(cast("Simulation", bench), 0, "bench", "department",
                             server_groups(staff, hours, "staff"), service, "bench/service",
                             cast("Callable[[Issue, ServiceStation, float, float], None]", finished))

    def feed() -> Any:
        env = bench.env
        for i, t in enumerate(arrivals_h.tolist()):
            if t > env.now:
                yield env.timeout(t - env.now)
            station.submit(cast("Issue", _Job(i)))

    bench.env.process(feed())
    bench.env.run(until=run_until)
    return done


_ARRIVE, _FINISH, _ON, _OFF = 0, 1, 2, 3


def _closure_fast(arrivals: np.ndarray, groups: list[Any], service: LogNormal, seed: int,
                  run_until: float) -> np.ndarray:
    """:func:`_closure_simpy` for a station with at most one group of servers, without SimPy.

    What it replays, exactly:

    * SimPy orders events by (time, priority, id), the id counting schedulings; every event
      here has the normal priority, so a counter ``eid`` reproduces the order, ties included
      (a case arriving at the very instant the department closes is served only if its
      arrival was scheduled before the closing was);
    * a callback delayed by ``d`` at ``now`` fires at ``now + d`` (float), and the feeder
      sleeps ``t - now``, so the clock takes the same values as under SimPy;
    * the station's rules (:class:`ServiceStation`): first come first served (every job has
      the same priority, so jobs start in the order they arrived), a session starts only
      while a server is on duty and always runs to its end; service times drawn, in the
      order sessions start, from the same :class:`SampleBuffer` of the stream
      ``"bench/service"``;
    * events at ``run_until`` or later are not processed (SimPy's ``until`` event is urgent).
    """
    n = len(arrivals)
    done = np.full(n, math.inf)
    if n == 0:
        return done
    t_arr = arrivals.tolist()
    draw = SampleBuffer(service, RandomStreams(seed).stream("bench/service"))
    count = groups[0].count if groups else 0
    weekly = groups[0].hours if groups else None
    heap: list[tuple[float, int, int, int, float]] = []
    push, pop = heapq.heappush, heapq.heappop
    arrived = [0.0] * n
    eid = 0
    capacity = 0
    busy = 0
    started = 0  # jobs started (they start in arrival order)
    submitted = 0
    now = 0.0

    def duty() -> None:
        """The station's ``_schedule_duty``: on duty now (until the end of the window), or
        from the start of the next one."""
        nonlocal capacity, eid
        s, e = weekly.window(now)  # type: ignore[union-attr]
        if s <= now:
            capacity += count
            push(heap, (now + (e - now), eid, _OFF, 0, 0.0))
        else:
            push(heap, (now + (s - now), eid, _ON, 0, e))
        eid += 1

    def serve() -> None:
        """The station's ``_serve``: start sessions while a server is free and a job waits."""
        nonlocal busy, started, eid
        while busy < capacity and started < submitted:
            busy += 1
            push(heap, (now + draw(), eid, _FINISH, started, arrived[started]))
            started += 1
            eid += 1

    # The station's constructor: servers on duty now, or their first shift scheduled.
    if groups and weekly is None:
        capacity = count
    elif groups:
        duty()
    # The feeder's first step (SimPy's Initialize: urgent, at time 0, before anything else).
    nxt = 0
    while nxt < n and not t_arr[nxt] > now:
        arrived[nxt] = now
        nxt += 1
    submitted = nxt
    serve()
    inf = math.inf
    if nxt < n:
        a_time, a_eid = now + (t_arr[nxt] - now), eid
        eid += 1
    else:
        a_time, a_eid = inf, eid
    while True:
        if heap and (heap[0][0] < a_time or (heap[0][0] == a_time and heap[0][1] < a_eid)):
            ev = heap[0]
            if ev[0] >= run_until:
                break
            pop(heap)
            now = ev[0]
            kind = ev[2]
            if kind == _FINISH:
                busy -= 1
                done[ev[3]] = now - ev[4]
            elif kind == _OFF:
                capacity -= count
                duty()
            else:  # _ON
                capacity += count
                push(heap, (now + (ev[4] - now), eid, _OFF, 0, 0.0))
                eid += 1
        else:
            if a_time >= run_until:  # the first event left is at the end (inf: none left)
                break
            now = a_time
            arrived[nxt] = now
            nxt += 1
            while nxt < n and not t_arr[nxt] > now:
                arrived[nxt] = now
                nxt += 1
            submitted = nxt
            serve()
            # The feeder sleeps until the next arrival (scheduled after the sessions it started).
            if nxt < n:
                a_time, a_eid = now + (t_arr[nxt] - now), eid
                eid += 1
            else:
                a_time = inf
            continue
        serve()
    return done


@dataclass
class DepartmentFit:
    """A department fitted to closure times."""

    staff: int
    service: LogNormal
    hours: list[HoursConfig] | None
    utilisation: float  # implied by the fit: λ × service mean / (staff × open share)
    observed: np.ndarray  # closure quantiles (QUANTILES), hours
    simulated: np.ndarray
    loss: float  # mean squared log-ratio of the quantiles
    evaluations: int
    n_cases: int
    #: Relative change of the simulated median closure when the staff is doubled (−0.4: 40 %
    #: shorter). Near 0: closure does not respond to staff — the station acts as a delay.
    staff_response: float = math.nan
    #: Parameters whose search bound the best point reached (the fit is then poor).
    at_bound: tuple[str, ...] = ()

    @property
    def acts_as_delay(self) -> bool:
        """Doubling the staff shortens the median closure by less than 5 %."""
        return math.isfinite(self.staff_response) and self.staff_response > -0.05

    def describe(self) -> str:
        q = ", ".join(f"p{int(100 * p)} {o:.1f}/{s:.1f} h" for p, o, s in
                      zip(QUANTILES, self.observed, self.simulated))
        response = (f"; twice the staff: median {self.staff_response:+.0%}"
                    if math.isfinite(self.staff_response) else "")
        return (f"{self.staff} staff, service lognormal(mean {self.service.mean:.2f} h, sd "
                f"{self.service.sd:.2f} h); observed/simulated {q}{response}")


def fit_department(arrivals_h: np.ndarray, closure_h: np.ndarray, censored: np.ndarray,
                   hours: list[HoursConfig] | None, window_h: float, *, seed: int = 0,
                   max_evaluations: int = 120) -> DepartmentFit:
    """Fit staff and service time of a department so that a station fed the log's arrivals
    (``arrivals_h``: hours from the Monday 00:00 before the window; the window is
    ``[0, window_h)`` after that offset) reproduces the observed closure quantiles."""
    arrivals_h = np.sort(np.asarray(arrivals_h, float))
    observed = km_quantiles(closure_h, censored)
    finite = np.isfinite(observed)
    n = len(arrivals_h)
    week = 168.0
    shift = week * math.ceil(max(window_h, 1.0) / week)
    stream = np.concatenate([arrivals_h, arrivals_h + shift])  # a warm-up copy, one week(s) earlier
    counted = np.arange(n, 2 * n)
    lam = n / max(window_h, 1e-9)
    open_share = 1.0 if hours is None else sum(
        h.weekly().hours_between(0.0, week) for h in hours) / week
    horizon = float(stream[-1]) + max(10 * float(np.nanmax(np.where(finite, observed, 0.0))), 24 * 30.0)
    obs_log = np.log(np.where(finite, observed, 1e6) + _EPS)
    evaluations = 0
    cache: dict[tuple[int, float, float], tuple[float, np.ndarray]] = {}

    def unpack(x: np.ndarray) -> tuple[int, LogNormal, float]:
        mean, cv = math.exp(float(np.clip(x[0], -7, 7))), math.exp(float(np.clip(x[1], -4, 2)))
        u = 1.0 / (1.0 + math.exp(-float(np.clip(x[2], -12, 12))))
        staff = int(min(max(1, round(lam * mean / (u * open_share))), MAX_STAFF))
        return staff, LogNormal(mean, cv * mean), u

    def evaluate(x: np.ndarray) -> float:
        nonlocal evaluations
        staff, service, _ = unpack(x)
        key = (staff, round(service.mean, 9), round(service.sd, 9))
        if key not in cache:
            evaluations += 1
            closure = simulate_closure(stream, staff, hours, service, seed, horizon)[counted]
            sim_q = np.quantile(closure, QUANTILES, method="inverted_cdf")
            loss = float(np.mean((np.log(np.minimum(sim_q, 1e6) + _EPS) - obs_log) ** 2))
            cache[key] = (loss, sim_q)
        return cache[key][0]

    # Starts: service about a tenth of the median closure, moderate and high utilisation.
    med = float(observed[2]) if np.isfinite(observed[2]) else 24.0
    starts = [np.array([math.log(max(med / 10, 0.05)), math.log(0.8), 1.0]),
              np.array([math.log(max(med / 50, 0.02)), math.log(1.0), 3.0])]
    best_x, best_loss = starts[0], math.inf
    per_start = max(20, max_evaluations // len(starts))
    for x0 in starts:
        res = optimize.minimize(evaluate, x0, method="Nelder-Mead",
                                options={"maxfev": per_start, "xatol": 1e-3, "fatol": 1e-5,
                                         "initial_simplex": _simplex(x0)})
        if res.fun < best_loss:
            best_x, best_loss = res.x, float(res.fun)
    staff, service, u = unpack(best_x)
    sim_q = cache[(staff, round(service.mean, 9), round(service.sd, 9))][1]
    # What a capacity what-if would do: the same random numbers with twice the staff.
    doubled = simulate_closure(stream, 2 * staff, hours, service, seed, horizon)[counted]
    med2 = float(np.quantile(doubled, 0.5, method="inverted_cdf"))
    response = med2 / float(sim_q[2]) - 1.0 if sim_q[2] > 0 else 0.0
    at_bound = tuple(name for name, hit in (
        ("service mean", not (math.exp(-7) * 1.001 < service.mean < math.exp(7) * 0.999)),
        ("staff", staff >= MAX_STAFF)) if hit)
    return DepartmentFit(staff=staff, service=service, hours=hours, utilisation=u, observed=observed,
                         simulated=sim_q, loss=best_loss, evaluations=evaluations, n_cases=n,
                         staff_response=response, at_bound=at_bound)


def _simplex(x0: np.ndarray) -> np.ndarray:
    steps = np.array([1.0, 0.7, 2.0])
    return np.vstack([x0] + [x0 + np.eye(3)[i] * steps[i] for i in range(3)])
